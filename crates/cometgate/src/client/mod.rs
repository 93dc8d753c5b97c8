//! A typed client for CometChat's REST API v3 (users and auth tokens).
//!
//! Every call sends the server-only REST API key in the `apikey` header (marked sensitive), only
//! to the configured host (redirects are never followed), and retries transport failures,
//! timeouts and `5xx` answers by the [`RetryPolicy`] — never `4xx`. What CometChat says in an
//! error is made safe for logs before it is kept (see [`Error`]); auth tokens in a logged path
//! are shortened to their log-safe prefix.
//!
//! ```no_run
//! use cometgate::{Config, Uid, client::Client};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(Config::from_env()?)?;
//! let token = client.create_auth_token(&Uid::parse("alice")?).await?;
//! println!("hand this to CometChatUIKit.login: {}", token.auth_token.expose());
//! # Ok(()) }
//! ```
//!
//! The crate's tests run every call against a real loopback server; see
//! `crates/cometgate/tests/client.rs`.

mod cooldown;
mod error;
mod transport;
mod types;
mod upstream_text;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http::header::{ACCEPT, HeaderMap, HeaderValue, RETRY_AFTER, USER_AGENT};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

pub use cooldown::{DEFAULT_RATE_LIMIT_WINDOW, MAX_RATE_LIMIT_WINDOW};
pub use error::{Error, codes};
pub use types::{
    AuthToken, DeleteMode, NewUser, Page, PageMeta, PageRequest, Pagination, TokenValue,
    UnsetField, User, UserUpdate,
};

use crate::config::Config;
use crate::retry::{self, RetryPolicy, Timer, TokioTimer};
use crate::telemetry::{self, HeadroomScope, LimitScope};
use crate::uid::Uid;
use cooldown::Cooldown;
use error::Kind;
use transport::{Reply, Transport, TransportError};

/// Why a [`Client`] could not be built.
#[derive(Debug, thiserror::Error)]
#[error("could not build the CometChat HTTP client: {0}")]
pub struct BuildError(#[source] TransportError);

/// A CometChat REST API client. Cheap to clone (it shares one connection pool).
///
/// # CometChat's rate limit
///
/// After a `429`, every call through this client and its clones — other users' included —
/// fails fast, **without a request**, until the `Retry-After` window has passed: the error
/// [`is_cooldown`](Error::is_cooldown), its [`status`](Error::status) is `429` and its
/// [`retry_after`](Error::retry_after) the rest of the window. The window is the `Retry-After`
/// in seconds, [`DEFAULT_RATE_LIMIT_WINDOW`] when it is missing or unreadable (an HTTP date
/// counts as unreadable: CometChat sends seconds), at most [`MAX_RATE_LIMIT_WINDOW`];
/// `Retry-After: 0` opens none. A `503` with a `Retry-After` is retried after
/// max(backoff, `Retry-After`) when that wait fits the deadline, and given up as a deadline
/// otherwise.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: Transport,
    config: Config,
    retry: RetryPolicy,
    timer: Arc<dyn Timer>,
    request_timeout: Duration,
    cooldown: Cooldown,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`] with non-default timeouts, retry policy or timer.
pub struct ClientBuilder {
    config: Config,
    connect_timeout: Duration,
    request_timeout: Duration,
    retry: RetryPolicy,
    timer: Arc<dyn Timer>,
}

impl ClientBuilder {
    /// How long to wait for a connection, TCP and TLS handshake (default 3 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one attempt may take, connection included (default 5 s).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The retry schedule and overall deadline (default [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The clock used for backoff waits and the deadline (default [`TokioTimer`]); tests pass a
    /// [`ManualTimer`](crate::retry::ManualTimer).
    #[must_use]
    pub fn timer(mut self, timer: impl Timer) -> Self {
        self.timer = Arc::new(timer);
        self
    }

    /// Builds the client. No network I/O.
    pub fn build(self) -> Result<Client, BuildError> {
        let mut key = HeaderValue::from_str(self.config.rest_api_key().expose_secret())
            .unwrap_or_else(|_| HeaderValue::from_static(""));
        key.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert("apikey", key);
        if let Ok(app_id) = HeaderValue::from_str(self.config.app_id()) {
            headers.insert("appid", app_id);
        }
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("cometgate/", env!("CARGO_PKG_VERSION"))),
        );
        let http = Transport::new(self.config.api_base(), headers, self.connect_timeout)
            .map_err(BuildError)?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                config: self.config,
                retry: self.retry,
                timer: self.timer,
                request_timeout: self.request_timeout,
                cooldown: Cooldown::default(),
            }),
        })
    }
}

/// `{"data": …}`, the envelope of every CometChat success answer.
#[derive(serde::Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(serde::Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Serialize)]
struct Force {
    force: bool,
}

#[derive(Serialize)]
struct Permanent {
    permanent: bool,
}

/// `{"uidsToActivate": [uid]}`: the body of `PUT /users`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToActivate<'a> {
    uids_to_activate: [&'a str; 1],
}

/// The data of `PUT /users`: who was reactivated (CometChat lists the rest under `notFound`,
/// and leaves an empty list out).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reactivated {
    #[serde(default)]
    reactivated_uids: Vec<String>,
}

/// The data of delete answers, which differ between endpoints; only success matters.
#[derive(serde::Deserialize)]
struct Ignored {}

impl Client {
    /// A client with default timeouts and retry policy.
    pub fn new(config: Config) -> Result<Self, BuildError> {
        Self::builder(config).build()
    }

    /// Starts a builder.
    pub fn builder(config: Config) -> ClientBuilder {
        ClientBuilder {
            config,
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            timer: Arc::new(TokioTimer),
        }
    }

    /// The configuration this client talks to.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The rest of CometChat's `429` window, during which every call fails fast without a
    /// request, or `None` when calls go out (see [the rate limit](Client#cometchats-rate-limit)).
    pub fn rate_limit_remaining(&self) -> Option<Duration> {
        self.inner.cooldown.remaining(self.inner.timer.now())
    }

    /// `POST /users`: creates a user.
    ///
    /// If an attempt fails in a retryable way and a later one answers `ERR_UID_ALREADY_EXISTS`,
    /// the first attempt most likely created the user: the existing user is fetched and
    /// returned as success (without an auth token, even if one was asked for).
    pub async fn create_user(&self, user: &NewUser) -> Result<User, Error> {
        let url = self.url(&["users"]);
        let outcome = self
            .call::<User>(Method::POST, url, Some(json_body(user)))
            .await;
        match outcome {
            Err((e, retried)) if retried && e.is_uid_already_exists() => {
                tracing::debug!(uid = %user.uid(), "create retried after a failure found the user: treating as created");
                self.get_user(user.uid()).await
            }
            other => other.map_err(|(e, _)| e),
        }
    }

    /// `GET /users/{uid}`.
    pub async fn get_user(&self, uid: &Uid) -> Result<User, Error> {
        self.send(Method::GET, self.url(&["users", uid.as_str()]), None)
            .await
    }

    /// `GET /users`: one page of users, newest first.
    pub async fn list_users(&self, page: PageRequest) -> Result<Page<User>, Error> {
        let url = self.paged(self.url(&["users"]), page);
        self.send_page(url).await
    }

    /// `PUT /users/{uid}`.
    pub async fn update_user(&self, uid: &Uid, update: &UserUpdate) -> Result<User, Error> {
        let url = self.url(&["users", uid.as_str()]);
        self.send(Method::PUT, url, Some(json_body(update))).await
    }

    /// `DELETE /users/{uid}`, permanently or by deactivating.
    pub async fn delete_user(&self, uid: &Uid, mode: DeleteMode) -> Result<(), Error> {
        let body = json_body(&Permanent {
            permanent: mode == DeleteMode::Permanent,
        });
        let url = self.url(&["users", uid.as_str()]);
        self.send::<Ignored>(Method::DELETE, url, Some(body))
            .await
            .map(drop)
    }

    /// `PUT /users` with `{"uidsToActivate": [uid]}`: reactivates a user deactivated by
    /// [`DeleteMode::Deactivate`] (or in CometChat's dashboard), keeping its profile.
    ///
    /// `true` when CometChat lists the user as reactivated; `false` when it lists it under
    /// `notFound`: CometChat has no deactivated user by that UID (none at all, or an active one
    /// — also when an earlier attempt of this call reactivated it before a retry).
    pub async fn reactivate_user(&self, uid: &Uid) -> Result<bool, Error> {
        let body = json_body(&ToActivate {
            uids_to_activate: [uid.as_str()],
        });
        let reactivated: Reactivated = self
            .send(Method::PUT, self.url(&["users"]), Some(body))
            .await?;
        Ok(reactivated
            .reactivated_uids
            .iter()
            .any(|listed| listed.eq_ignore_ascii_case(uid.as_str())))
    }

    /// `POST /users/{uid}/auth_tokens` with `{"force": true}`: mints a new auth token.
    ///
    /// Tokens do not expire on their own; CometChat keeps the newest 100 per user valid.
    pub async fn create_auth_token(&self, uid: &Uid) -> Result<AuthToken, Error> {
        let url = self.url(&["users", uid.as_str(), "auth_tokens"]);
        self.send(Method::POST, url, Some(json_body(&Force { force: true })))
            .await
    }

    /// `GET /users/{uid}/auth_tokens`: one page of the user's tokens, newest first.
    pub async fn list_auth_tokens(
        &self,
        uid: &Uid,
        page: PageRequest,
    ) -> Result<Page<AuthToken>, Error> {
        let url = self.paged(self.url(&["users", uid.as_str(), "auth_tokens"]), page);
        self.send_page(url).await
    }

    /// `GET /users/{uid}/auth_tokens/{authToken}`.
    pub async fn get_auth_token(&self, uid: &Uid, token: &TokenValue) -> Result<AuthToken, Error> {
        let url = self.url(&["users", uid.as_str(), "auth_tokens", token.expose()]);
        self.send(Method::GET, url, None).await
    }

    /// `DELETE /users/{uid}/auth_tokens/{authToken}`: logs out the device that holds it.
    pub async fn delete_auth_token(&self, uid: &Uid, token: &TokenValue) -> Result<(), Error> {
        let url = self.url(&["users", uid.as_str(), "auth_tokens", token.expose()]);
        self.send::<Ignored>(Method::DELETE, url, None)
            .await
            .map(drop)
    }

    /// `DELETE /users/{uid}/auth_tokens`: revokes every token of the user (every device).
    pub async fn flush_auth_tokens(&self, uid: &Uid) -> Result<(), Error> {
        let url = self.url(&["users", uid.as_str(), "auth_tokens"]);
        self.send::<Ignored>(Method::DELETE, url, None)
            .await
            .map(drop)
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.config.api_base().clone();
        // `api_base` always has a path ending in `/` (never "cannot-be-a-base"), so segments
        // can be pushed; each one is percent-encoded, so nothing in it can change the path.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn paged(&self, mut url: Url, page: PageRequest) -> Url {
        url.query_pairs_mut()
            .append_pair("perPage", &page.per_page.to_string())
            .append_pair("page", &page.page.to_string());
        url
    }

    async fn send_page<T: DeserializeOwned>(&self, url: Url) -> Result<Page<T>, Error> {
        let bytes = self
            .with_retry(Method::GET, url, None)
            .await
            .map_err(|(e, _)| e)?;
        serde_json::from_slice::<Page<T>>(&bytes).map_err(decode_error)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<Bytes>,
    ) -> Result<T, Error> {
        self.call(method, url, body).await.map_err(|(e, _)| e)
    }

    /// Sends with retries and decodes `{"data": T}`; the flag tells whether any attempt failed
    /// retryably before the final outcome.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<Bytes>,
    ) -> Result<T, (Error, bool)> {
        let bytes = self.with_retry(method, url, body).await?;
        serde_json::from_slice::<Data<T>>(&bytes)
            .map(|d| d.data)
            .map_err(|e| (decode_error(e), false))
    }

    async fn with_retry(
        &self,
        method: Method,
        url: Url,
        body: Option<Bytes>,
    ) -> Result<Bytes, (Error, bool)> {
        let policy = &self.inner.retry;
        let timer = &self.inner.timer;
        let started = timer.now();
        let deadline = retry::saturating_add(started, policy.deadline());
        let mut retried = false;
        let mut attempt = 0u32;
        loop {
            let remaining = deadline.saturating_duration_since(timer.now());
            if remaining.is_zero() {
                return Err((Error::deadline(None), retried));
            }
            // Checked before every attempt: another flight may have hit a 429 meanwhile.
            if let Some(left) = self.rate_limit_remaining() {
                tracing::debug!(%method, path = %log_path(&url), wait_ms = left.as_millis() as u64, "CometChat's 429 window is open: not calling");
                return Err((Error::new(Kind::Cooldown { remaining: left }), retried));
            }
            // One timer bounds the attempt (body included): the request timeout, or the
            // deadline when it comes first. (The transport sets no timeout of its own: a second
            // timer per call cost ~5 % of the token endpoint's throughput in `cargo xtask bench`.)
            let call = self.attempt(method.clone(), url.clone(), body.clone());
            let deadline_first = remaining <= self.inner.request_timeout;
            let result = tokio::time::timeout(remaining.min(self.inner.request_timeout), call)
                .await
                .unwrap_or_else(|_| {
                    Err(if deadline_first {
                        Error::deadline(None)
                    } else {
                        Error::new(Kind::Timeout)
                    })
                });
            let error = match result {
                Ok(ok) => return Ok(ok),
                Err(e) if !e.is_retryable() => return Err((e, retried)),
                Err(e) => e,
            };
            let Some(backoff) = policy.delay(attempt) else {
                tracing::warn!(%method, path = %log_path(&url), attempts = attempt.saturating_add(1), error = %error, "CometChat call failed; no retries left");
                return Err((error, true));
            };
            // A 503 that names its own wait is honoured, if the wait fits the deadline.
            let delay = match (error.status(), error.retry_after()) {
                (Some(503), Some(asked)) => backoff.max(asked),
                _ => backoff,
            };
            if deadline.saturating_duration_since(timer.now()) <= delay {
                tracing::warn!(%method, path = %log_path(&url), attempts = attempt.saturating_add(1), error = %error, "CometChat call failed; the next retry would pass the deadline");
                return Err((Error::deadline(Some(error)), true));
            }
            tracing::info!(%method, path = %log_path(&url), attempt = attempt.saturating_add(1), status = error.status(), delay_ms = delay.as_millis() as u64, error = %error, "retrying CometChat call");
            retried = true;
            attempt = attempt.saturating_add(1);
            timer.sleep(delay).await;
        }
    }

    async fn attempt(&self, method: Method, url: Url, body: Option<Bytes>) -> Result<Bytes, Error> {
        let Reply {
            status,
            headers,
            body: bytes,
        } = self.inner.http.send(method, url, body).await?;
        record_headroom(&headers);
        let mut retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        if status == http::StatusCode::TOO_MANY_REQUESTS {
            telemetry::rate_limited(LimitScope::Cometchat);
            let window = cooldown::window(retry_after);
            self.inner.cooldown.open(self.inner.timer.now(), window);
            tracing::warn!(
                wait_ms = window.as_millis() as u64,
                "CometChat answered 429: calls through this client fail fast until its Retry-After window ends"
            );
            retry_after = Some(window);
        }
        if status.is_success() {
            return Ok(bytes);
        }
        let (code, message) = match serde_json::from_slice::<ErrorEnvelope>(&bytes) {
            Ok(ErrorEnvelope { error }) => (error.code, error.message),
            Err(_) => (None, None),
        };
        // Made safe before they are stored: they reach log lines and `Display` from here.
        let key = self.inner.config.rest_api_key().expose_secret();
        Err(Error::new(Kind::Api {
            status: status.as_u16(),
            code: code.map(|c| upstream_text::sanitize(&c, key, upstream_text::MAX_CODE_CHARS)),
            message: message
                .map(|m| upstream_text::sanitize(&m, key, upstream_text::MAX_MESSAGE_CHARS)),
            retry_after,
        }))
    }
}

/// CometChat's headroom headers, when present and readable, into the headroom gauges (a
/// missing or garbled header leaves the gauge at its last value).
fn record_headroom(headers: &HeaderMap) {
    for (name, scope) in [
        ("x-ratelimit-remaining", HeadroomScope::User),
        ("x-ratelimit-remaining-for-app", HeadroomScope::App),
    ] {
        if let Some(remaining) = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            telemetry::headroom(scope, remaining);
        }
    }
}

/// The path for a log line: an auth token in it (the token routes) is a credential, so only
/// its log-safe prefix is shown.
fn log_path(url: &Url) -> String {
    let Some(segments) = url.path_segments() else {
        return url.path().to_owned();
    };
    let mut path = String::new();
    let mut after_tokens = false;
    for segment in segments {
        path.push('/');
        if after_tokens {
            path.push_str(&TokenValue::new(segment).redacted());
        } else {
            path.push_str(segment);
        }
        after_tokens = segment == "auth_tokens";
    }
    path
}

fn json_body(value: &impl Serialize) -> Bytes {
    // Our request types are plain structs of strings, numbers and JSON values: serializing
    // them cannot fail.
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

/// serde_json's messages quote the offending value, which could be anything the upstream sent
/// (even a secret it echoes): keep only where the body went wrong.
fn decode_error(e: serde_json::Error) -> Error {
    Error::new(Kind::Decode {
        detail: format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}
