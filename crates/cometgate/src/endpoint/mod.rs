//! The HTTP endpoint without an HTTP framework: one place where every rule of the routes lives.
//!
//! An adapter (`cometgate-axum`, `cometgate-actix`) only translates. For each request it builds
//! a [`RequestView`] over its framework's request head and asks the [`Endpoint`]:
//!
//! ```text
//! endpoint.route(&view)            -> None: not ours, pass it to the app untouched
//!                                  -> Some(call): ours; the core has already checked
//!                                     method (405 + Allow), declared length (413), request id
//! call.identify(&view)             the gate's Identity reads the credentials (sync), or
//! call.identified(result)          the app's own extractor's verdict, or
//! call.extractor_rejected(r)      an extractor that failed (4xx: 401/403; 5xx: 500, logged)
//! call.verify().await              the credentials are verified (Send), before any body is read
//! call.body_limits()               Some(limits): read the body under them (no verified caller:
//!                                  None, the body is never waited for)
//! call.answer(body).await          -> Answer: status, headers, body (Send + 'static)
//! ```
//!
//! The routes:
//!
//! | request | answer |
//! |---|---|
//! | `POST {token path}` (default [`DEFAULT_TOKEN_PATH`]) with valid credentials | `200 {"authToken", "uid"}` |
//! | another method on a route | `405`, `Allow` |
//! | a body over the limit ([`DEFAULT_BODY_LIMIT`]) | `413` |
//! | a body slower than the read timeout ([`DEFAULT_READ_TIMEOUT`]) | `408` |
//! | browser-sent credentials from another site (see [`origin`]) | `403 cross-site-request` |
//! | no / invalid credentials, refused identity, limits, CometChat failures | `401`, `403`, `429`, `502`, `503`, `504` |
//!
//! Every answer carries `Cache-Control: no-store` and an `x-request-id` (the caller's, when it
//! is short and safe to log, else a fresh one; see [`rules::request_id`]), which is also the id
//! in the one `tracing` event each request emits (target `cometgate::vend`). Errors are RFC 9457
//! problems ([`crate::vend::problem`]).
//!
//! ```
//! use bytes::Bytes;
//! use cometgate::{Config, Identity, Principal, Region, Rejection, RequestView};
//! use cometgate::endpoint::Endpoint;
//! use cometgate::identity::SimpleRequest;
//! use cometgate::vend::{Gate, ProblemType};
//!
//! struct Header;
//! impl Identity for Header {
//!     type Credentials = String;
//!     fn extract<R: RequestView + ?Sized>(&self, r: &R) -> Result<String, Rejection> {
//!         r.header_str("x-user").map(str::to_owned).ok_or(Rejection::Missing)
//!     }
//!     async fn verify(&self, user: String) -> Result<Principal, Rejection> {
//!         Ok(Principal::new("demo", user))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::builder().app_id("demo").region(Region::Us)
//!     .rest_api_key("0123456789abcdef").build()?;
//! let endpoint = Endpoint::new(Gate::builder().config(config).identity(Header).build()?);
//!
//! // Not a route of the endpoint: the adapter passes it on.
//! assert!(endpoint.serve(&SimpleRequest::new("GET", "/todos"), Bytes::new()).is_none());
//!
//! // No credentials: 401, and CometChat is never called.
//! let answer = endpoint.serve(&SimpleRequest::post("/cometchat-token"), Bytes::new()).unwrap().await;
//! assert_eq!(answer.status(), 401);
//! assert_eq!(answer.problem().unwrap().problem_type(), ProblemType::MissingCredentials);
//! assert_eq!(answer.header("www-authenticate"), Some(r#"Bearer realm="cometgate""#));
//! assert_eq!(answer.header("cache-control"), Some("no-store"));
//!
//! // Only POST.
//! let get = SimpleRequest::new("GET", "/cometchat-token");
//! let answer = endpoint.serve(&get, Bytes::new()).unwrap().await;
//! assert_eq!((answer.status(), answer.header("allow")), (405, Some("POST")));
//! # Ok(()) }
//! ```

mod answer;
mod call;
pub mod origin;
mod request;
pub mod rules;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

pub use answer::Answer;
pub use call::{BodyLimits, BodyRead, Call, ExtractorRejection};

use crate::identity::{Identity, RequestView};
use crate::vend::Gate;
use crate::vend::gate::NoIdentity;
use crate::vend::problem::DEFAULT_PROBLEM_BASE;
use crate::webhook::Webhooks;

/// The token route's path unless [`Endpoint::with_path`] says otherwise.
pub const DEFAULT_TOKEN_PATH: &str = "/cometchat-token";

/// The largest request body accepted by default (bytes). Clients send no body or a small JSON
/// object; larger bodies get 413.
pub const DEFAULT_BODY_LIMIT: usize = 4 * 1024;

/// How long the body of a request may take to arrive by default; slower ones get 408.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The path given to [`Endpoint::with_path`] is not a plain absolute path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid token path {0:?}: use an absolute path of letters, digits, `-`, `_`, `.`, `~` and `/` \
     segments, e.g. \"/cometchat-token\" or \"/api/chat/token\""
)]
pub struct InvalidPath(String);

impl InvalidPath {
    pub(crate) fn new(path: String) -> Self {
        Self(path)
    }
}

/// An origin given to [`Endpoint::with_allowed_origins`] is not `http(s)://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid allowed origin {0:?}: use `https://host` or `http://host:port`, without a path (`null` and `*` are refused)"
)]
pub struct InvalidOrigin(String);

/// The problem base given to [`Endpoint::with_problem_base`] is not an absolute `http(s)` URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid problem base {0:?}: use an absolute http(s) URL, e.g. \"https://docs.myapp.example/errors/\""
)]
pub struct InvalidProblemBase(String);

/// The routes of the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// `POST {token path}`.
    Token,
    /// `POST {token path}/revoke`.
    Revoke,
    /// `POST {webhook prefix}/{source}`, for a configured source.
    Webhook(crate::webhook::Source),
}

impl Route {
    /// The methods the route serves, as an `Allow` value.
    pub(crate) const fn allow(self) -> &'static str {
        match self {
            Route::Token | Route::Revoke | Route::Webhook(_) => "POST",
        }
    }

    /// The route's `route` label in metrics.
    pub(crate) const fn label(self) -> crate::telemetry::RouteLabel {
        match self {
            Route::Token => crate::telemetry::RouteLabel::Token,
            Route::Revoke => crate::telemetry::RouteLabel::Revoke,
            Route::Webhook(_) => crate::telemetry::RouteLabel::Webhook,
        }
    }
}

/// The revoke route's path below the token path.
pub const REVOKE_SUFFIX: &str = "/revoke";

/// The endpoint's settings, shared by every request.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) token_path: Box<str>,
    pub(crate) revoke_path: Box<str>,
    pub(crate) body_limit: usize,
    pub(crate) read_timeout: Duration,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) problem_base: Box<str>,
    pub(crate) webhooks: Option<Arc<Webhooks>>,
    /// The configured webhook sources' paths, for [`Endpoint::route_paths`].
    pub(crate) webhook_paths: Vec<Box<str>>,
}

impl Settings {
    /// The body limit of `route`.
    pub(crate) fn body_limit_of(&self, route: Route) -> usize {
        match (route, &self.webhooks) {
            (Route::Webhook(_), Some(webhooks)) => webhooks.body_limit(),
            _ => self.body_limit,
        }
    }
}

/// The framework-neutral endpoint: a [`Gate`] and the HTTP rules around it. Cheap to clone.
///
/// See the [module docs](self) for the routes and the steps an adapter takes.
pub struct Endpoint<I = NoIdentity> {
    pub(crate) gate: Gate<I>,
    pub(crate) settings: Arc<Settings>,
}

impl<I> Clone for Endpoint<I> {
    fn clone(&self) -> Self {
        Self {
            gate: self.gate.clone(),
            settings: Arc::clone(&self.settings),
        }
    }
}

impl<I> fmt::Debug for Endpoint<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("gate", &self.gate)
            .field("settings", &self.settings)
            .finish()
    }
}

impl<I> Endpoint<I> {
    /// The endpoint for `gate`, with the default path, body limit, read timeout and problem
    /// base, and no cross-site origins allowed.
    pub fn new(gate: Gate<I>) -> Self {
        Self {
            gate,
            settings: Arc::new(Settings {
                token_path: DEFAULT_TOKEN_PATH.into(),
                revoke_path: format!("{DEFAULT_TOKEN_PATH}{REVOKE_SUFFIX}").into(),
                body_limit: DEFAULT_BODY_LIMIT,
                read_timeout: DEFAULT_READ_TIMEOUT,
                allowed_origins: Vec::new(),
                problem_base: DEFAULT_PROBLEM_BASE.into(),
                webhooks: None,
                webhook_paths: Vec::new(),
            }),
        }
    }

    fn settings_mut(&mut self) -> &mut Settings {
        Arc::make_mut(&mut self.settings)
    }

    /// Serves the token route on `path` instead of [`DEFAULT_TOKEN_PATH`]. The path is
    /// matched exactly against the request path the adapter sees (inside axum's
    /// `Router::nest`, that is the path below the prefix).
    ///
    /// # Errors
    ///
    /// [`InvalidPath`] unless `path` starts with `/` and contains only letters, digits, `-`,
    /// `_`, `.`, `~` and non-empty `/` segments.
    ///
    /// ```
    /// # use cometgate::{Config, Region, vend::Gate, endpoint::Endpoint};
    /// # let config = Config::builder().app_id("demo").region(Region::Us).rest_api_key("k").build().unwrap();
    /// # let gate = Gate::builder().config(config).build().unwrap();
    /// let endpoint = Endpoint::new(gate).with_path("/api/chat/token")?;
    /// assert_eq!(endpoint.path(), "/api/chat/token");
    /// assert!(endpoint.with_path("/users/{id}/token").is_err());
    /// # Ok::<(), cometgate::endpoint::InvalidPath>(())
    /// ```
    pub fn with_path(mut self, path: impl Into<String>) -> Result<Self, InvalidPath> {
        let path = path.into();
        if !rules::is_valid_token_path(&path) {
            return Err(InvalidPath(path));
        }
        let settings = self.settings_mut();
        settings.revoke_path = format!("{path}{REVOKE_SUFFIX}").into();
        settings.token_path = path.into();
        Ok(self)
    }

    /// Refuses request bodies longer than `bytes` with 413 (default [`DEFAULT_BODY_LIMIT`]).
    /// A `Content-Length` above the limit is refused without reading.
    #[must_use]
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.settings_mut().body_limit = bytes;
        self
    }

    /// Answers 408 when a body takes longer than `timeout` to arrive (default
    /// [`DEFAULT_READ_TIMEOUT`]), so a slow client cannot hold a connection open.
    #[must_use]
    pub fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.settings_mut().read_timeout = timeout;
        self
    }

    /// Origins (`scheme://host[:port]`) besides the request's own host from which ambient
    /// credentials (cookies) are accepted, e.g. the web app's origin when the API lives on
    /// another host. See [`origin`].
    ///
    /// # Errors
    ///
    /// [`InvalidOrigin`] for anything but `http(s)://host[:port]` without a path: `null` and
    /// `*` would let any site in, and a path or a typo would never match.
    ///
    /// ```
    /// # use cometgate::{Config, Region, vend::Gate, endpoint::Endpoint};
    /// # let config = Config::builder().app_id("demo").region(Region::Us).rest_api_key("k").build().unwrap();
    /// # let endpoint = Endpoint::new(Gate::builder().config(config).build().unwrap());
    /// let endpoint = endpoint.with_allowed_origins(["https://app.example", "http://localhost:8081"])?;
    /// assert!(endpoint.clone().with_allowed_origins(["null"]).is_err());
    /// assert!(endpoint.with_allowed_origins(["https://app.example/login"]).is_err());
    /// # Ok::<(), cometgate::endpoint::InvalidOrigin>(())
    /// ```
    pub fn with_allowed_origins<S: AsRef<str>>(
        mut self,
        origins: impl IntoIterator<Item = S>,
    ) -> Result<Self, InvalidOrigin> {
        let origins = origins
            .into_iter()
            .map(|o| {
                let o = o.as_ref();
                origin::normalise(o).ok_or_else(|| InvalidOrigin(o.chars().take(200).collect()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.settings_mut().allowed_origins = origins;
        Ok(self)
    }

    /// Builds problem `type` URIs under `base` instead of [`DEFAULT_PROBLEM_BASE`], e.g. the
    /// app's own documentation. A `/` is added when `base` does not end with one.
    ///
    /// # Errors
    ///
    /// [`InvalidProblemBase`] unless `base` is an absolute `http` or `https` URL.
    pub fn with_problem_base(mut self, base: &str) -> Result<Self, InvalidProblemBase> {
        let invalid = || InvalidProblemBase(base.chars().take(200).collect());
        let url = url::Url::parse(base).map_err(|_| invalid())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid());
        }
        let mut base = url.to_string();
        if !base.ends_with('/') {
            base.push('/');
        }
        self.settings_mut().problem_base = base.into();
        Ok(self)
    }

    /// Serves the webhook routes of `webhooks`' configured sources (`POST
    /// {prefix}/{source}`), keeping CometChat users in step with the app's accounts (see
    /// [`crate::webhook`]). Sources that are not configured are not routes.
    ///
    /// ```
    /// # use cometgate::{Config, Region, vend::Gate, endpoint::Endpoint};
    /// use cometgate::webhook::Webhooks;
    /// # let config = Config::builder().app_id("demo").region(Region::Us).rest_api_key("k").build().unwrap();
    /// # let gate = Gate::builder().config(config).build().unwrap();
    /// let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
    /// let endpoint = Endpoint::new(gate).with_webhooks(Webhooks::new().standard(secret, "demo"));
    /// assert_eq!(endpoint.route_paths(), ["/cometchat-token", "/cometchat-token/revoke", "/cometchat-webhooks/standard"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_webhooks(mut self, webhooks: Webhooks) -> Self {
        if self.gate.account_store().backend() == crate::store::StoreBackend::Memory {
            // Fine for one process; with several replicas a tombstone or a completed delivery
            // is known to one of them only, and a restart forgets both.
            tracing::warn!(
                target: "cometgate::webhook",
                "webhooks with the in-memory account store: tombstones and delivery ids are per process and lost on restart; several replicas need a shared store (cometgate-redis)"
            );
        }
        let settings = self.settings_mut();
        settings.webhook_paths = webhooks.paths().into_iter().map(Into::into).collect();
        settings.webhooks = Some(Arc::new(webhooks));
        self
    }

    /// The token route's path.
    pub fn path(&self) -> &str {
        &self.settings.token_path
    }

    /// Every path the endpoint answers on (the token route, the revoke route, then each
    /// configured webhook source's), for frameworks that register routes one by one.
    ///
    /// ```
    /// # use cometgate::{Config, Region, vend::Gate, endpoint::Endpoint};
    /// # let config = Config::builder().app_id("demo").region(Region::Us).rest_api_key("k").build().unwrap();
    /// let endpoint = Endpoint::new(Gate::builder().config(config).build()?).with_path("/chat/token")?;
    /// assert_eq!(endpoint.route_paths(), ["/chat/token", "/chat/token/revoke"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn route_paths(&self) -> Vec<&str> {
        let mut paths = vec![&*self.settings.token_path, &*self.settings.revoke_path];
        paths.extend(self.settings.webhook_paths.iter().map(|p| &**p));
        paths
    }

    /// The revoke (logout) route's path: the token path followed by [`REVOKE_SUFFIX`].
    pub fn revoke_path(&self) -> &str {
        &self.settings.revoke_path
    }

    /// The body limit in bytes.
    pub fn body_limit(&self) -> usize {
        self.settings.body_limit
    }

    /// The gate that vends the tokens.
    pub fn gate(&self) -> &Gate<I> {
        &self.gate
    }

    /// Starts a request if it is for one of the endpoint's routes (`None`: pass it on). The
    /// method, the declared length and the request id are settled here, synchronously.
    pub fn route<R: RequestView + ?Sized>(&self, head: &R) -> Option<Call<I>> {
        let path = head.path();
        let route = if path == &*self.settings.token_path {
            Route::Token
        } else if path == &*self.settings.revoke_path {
            Route::Revoke
        } else if let Some(source) = self.settings.webhooks.as_ref().and_then(|w| w.route(path)) {
            Route::Webhook(source)
        } else {
            return None;
        };
        Some(Call::new(self.clone(), route, head))
    }
}

impl<I: Identity> Endpoint<I> {
    /// The whole request in one call, for a request whose body is already in memory (tests,
    /// embedding): [`route`](Self::route), [`Call::identify`], [`Call::verify`], then
    /// [`Call::answer`] with `body` (checked against the limit). `None`: not a route of the
    /// endpoint.
    pub fn serve<R: RequestView + ?Sized>(
        &self,
        request: &R,
        body: Bytes,
    ) -> Option<impl Future<Output = Answer> + Send + 'static + use<I, R>> {
        let mut call = self.route(request)?;
        call.identify(request);
        Some(async move {
            call.verify().await;
            let body = match call.body_limits() {
                Some(limits) if body.len() > limits.max_bytes => BodyRead::TooLarge,
                Some(_) => BodyRead::Complete(body),
                None => BodyRead::Skipped,
            };
            call.answer(body).await
        })
    }
}
