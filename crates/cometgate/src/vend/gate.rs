//! [`Gate`]: the token request, end to end, without an HTTP framework.

use std::any::TypeId;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use tracing::Level;

use crate::client::{BuildError, Client};
use crate::config::{Config, ConfigError};
use crate::identity::{Identity, Principal, Rejection, RequestView};
use crate::retry::RetryPolicy;
use crate::uid::Uid;
use crate::uid_mapper::UidMapper;
use crate::vend::answer::{Answer, TokenResponse};
use crate::vend::limit::{RateLimit, RateLimitError, UpstreamBudget, UserLimiter};
use crate::vend::problem::{DEFAULT_REALM, Problem};
use crate::vend::provision::{Minted, Profile, Trace, VendError, Vendor};
use crate::vend::single_flight::SingleFlight;

type FlightResult = Result<Minted, VendError>;

/// The identity of a gate built without [`GateBuilder::identity`]: such a gate serves only
/// principals the adapter resolved itself ([`Gate::answer_principal`]); asking it to read a
/// request ([`Gate::answer`]) answers `500 misconfigured` and logs why.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIdentity;

impl Identity for NoIdentity {
    type Credentials = Infallible;

    fn extract<R: RequestView + ?Sized>(&self, _request: &R) -> Result<Infallible, Rejection> {
        Err(Rejection::Missing)
    }

    async fn verify(&self, credentials: Infallible) -> Result<Principal, Rejection> {
        match credentials {}
    }
}

/// Why a [`Gate`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GateBuildError {
    /// Neither [`GateBuilder::config`] nor [`GateBuilder::client`] was given.
    #[error(
        "the gate needs CometChat's settings: call GateBuilder::config(Config::from_env()?) or use Gate::from_env()"
    )]
    MissingConfig,
    /// The HTTP client could not be built.
    #[error(transparent)]
    Client(#[from] BuildError),
    /// The per-user limit is invalid.
    #[error("invalid per-user limit: {0}")]
    PerUserLimit(#[source] RateLimitError),
    /// The upstream budget is invalid.
    #[error("invalid upstream budget: {0}")]
    UpstreamBudget(#[source] RateLimitError),
}

/// Builds a [`Gate`]. Start with [`Gate::builder`] or [`Gate::from_env`].
pub struct GateBuilder<I = NoIdentity> {
    config: Option<Config>,
    client: Option<Client>,
    identity: I,
    mapper: Option<UidMapper>,
    per_user: RateLimit,
    upstream: RateLimit,
    jit: bool,
    retry: Option<RetryPolicy>,
    realm: String,
}

impl<I> fmt::Debug for GateBuilder<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GateBuilder")
            .field("config", &self.config)
            .field("mapper", &self.mapper)
            .field("per_user", &self.per_user)
            .field("upstream", &self.upstream)
            .field("jit", &self.jit)
            .field("retry", &self.retry)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl<I: Identity> GateBuilder<I> {
    /// Where CometChat lives and the REST API key.
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// A ready client instead of [`config`](Self::config) (its own retry policy then applies
    /// and [`retry_policy`](Self::retry_policy) only sets the overall deadline).
    #[must_use]
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// How the gate learns who is signed in.
    pub fn identity<J: Identity>(self, identity: J) -> GateBuilder<J> {
        GateBuilder {
            config: self.config,
            client: self.client,
            identity,
            mapper: self.mapper,
            per_user: self.per_user,
            upstream: self.upstream,
            jit: self.jit,
            retry: self.retry,
            realm: self.realm,
        }
    }

    /// How principals become UIDs (default: the identity's own suggestion,
    /// [`Identity::uid_mapper`], else [`UidMapper::default`], encoded, single issuer).
    #[must_use]
    pub fn uid_mapper(mut self, mapper: UidMapper) -> Self {
        self.mapper = Some(mapper);
        self
    }

    /// The per-user limit on new mints (default [`RateLimit::PER_USER_DEFAULT`]: burst 5, then
    /// 10 per minute). Requests that join a mint already in flight for the same user cost
    /// nothing.
    #[must_use]
    pub fn per_user_limit(mut self, limit: RateLimit) -> Self {
        self.per_user = limit;
        self
    }

    /// The app-wide budget of CometChat calls (default [`RateLimit::UPSTREAM_DEFAULT`]: 1,000 per
    /// minute, burst 100).
    #[must_use]
    pub fn upstream_budget(mut self, limit: RateLimit) -> Self {
        self.upstream = limit;
        self
    }

    /// Whether a user unknown to CometChat is created on first sign-in (default `true`).
    #[must_use]
    pub fn jit_provisioning(mut self, on: bool) -> Self {
        self.jit = on;
        self
    }

    /// Retries of CometChat calls and the overall deadline of one token request (default
    /// [`RetryPolicy::default`]: 1 s, 2 s, 4 s, 15 s deadline).
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The realm of `WWW-Authenticate` challenges (default `cometgate`).
    #[must_use]
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Builds the gate. No network I/O.
    pub fn build(self) -> Result<Gate<I>, GateBuildError> {
        let client = match (self.client, self.config) {
            (Some(client), _) => client,
            (None, Some(config)) => {
                let mut builder = Client::builder(config);
                if let Some(policy) = &self.retry {
                    builder = builder.retry_policy(policy.clone());
                }
                builder.build()?
            }
            (None, None) => return Err(GateBuildError::MissingConfig),
        };
        let deadline = self
            .retry
            .as_ref()
            .unwrap_or_else(|| client.retry_policy())
            .deadline();
        let users = UserLimiter::new(self.per_user).map_err(GateBuildError::PerUserLimit)?;
        let budget = UpstreamBudget::new(self.upstream).map_err(GateBuildError::UpstreamBudget)?;
        Ok(Gate {
            inner: Arc::new(Inner {
                mapper: self
                    .mapper
                    .or_else(|| self.identity.uid_mapper())
                    .unwrap_or_default(),
                identity: self.identity,
                users,
                flights: SingleFlight::new(),
                vendor: Arc::new(Vendor {
                    client,
                    budget,
                    jit: self.jit,
                    deadline,
                }),
                realm: self.realm,
                per_user: self.per_user,
                upstream: self.upstream,
            }),
        })
    }
}

/// The framework-neutral token endpoint: identity → UID → per-user limit → single-flight
/// mint (upstream budget, retries, just-in-time provisioning) → [`Answer`].
///
/// Cheap to clone (one `Arc`). Adapters call one of:
///
/// | the adapter has | call |
/// |---|---|
/// | a request view, and a `Send` context (axum) | [`answer`](Self::answer) |
/// | a `!Send` request (actix): extract synchronously, then await a `'static` future | [`extract`](Self::extract), then [`answer_credentials`](Self::answer_credentials) on a clone |
/// | a principal from the app's own extractor | [`answer_principal`](Self::answer_principal) |
/// | a rejection from the app's own extractor | [`answer_rejection`](Self::answer_rejection) |
/// | its own 405 / 413 / 400 | [`answer_problem`](Self::answer_problem) |
///
/// Each call emits exactly one `tracing` event (target `cometgate::vend`) with the outcome,
/// reason, UID, upstream status and latency and the request id; never the REST API key, never
/// a whole token.
///
/// ```
/// use cometgate::{Config, Region, vend::Gate};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = Config::builder()
///     .app_id("demo")
///     .region(Region::Eu)
///     .rest_api_key("0123456789abcdef")
///     .build()?;
/// let gate = Gate::builder().config(config).build()?;
///
/// // No identity was configured: `answer_rejection` turns an adapter's rejection into the
/// // documented problem, without any call to CometChat.
/// let answer = gate.answer_rejection(cometgate::Rejection::Missing, "req-1");
/// assert_eq!(answer.status(), 401);
/// # Ok(()) }
/// ```
pub struct Gate<I = NoIdentity> {
    inner: Arc<Inner<I>>,
}

struct Inner<I> {
    identity: I,
    mapper: UidMapper,
    users: UserLimiter,
    flights: SingleFlight<Uid, FlightResult>,
    vendor: Arc<Vendor>,
    realm: String,
    per_user: RateLimit,
    upstream: RateLimit,
}

impl<I> Clone for Gate<I> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<I> fmt::Debug for Gate<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("client", &self.inner.vendor.client)
            .field("mapper", &self.inner.mapper)
            .field("per_user", &self.inner.per_user)
            .field("upstream", &self.inner.upstream)
            .field("jit", &self.inner.vendor.jit)
            .field("realm", &self.inner.realm)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// Starts a builder with the defaults: no identity, encoded UIDs, the default limits, JIT
    /// provisioning on.
    pub fn builder() -> GateBuilder {
        GateBuilder {
            config: None,
            client: None,
            identity: NoIdentity,
            mapper: None,
            per_user: RateLimit::PER_USER_DEFAULT,
            upstream: RateLimit::UPSTREAM_DEFAULT,
            jit: true,
            retry: None,
            realm: DEFAULT_REALM.to_owned(),
        }
    }

    /// A builder configured from `COMETCHAT_APP_ID`, `COMETCHAT_REGION`,
    /// `COMETCHAT_REST_API_KEY` (and optionally `COMETCHAT_API_BASE`); see [`Config::from_env`].
    pub fn from_env() -> Result<GateBuilder, ConfigError> {
        Ok(Self::builder().config(Config::from_env()?))
    }
}

/// What one request did, for its log event.
#[derive(Default)]
struct Record<'a> {
    uid: Option<&'a Uid>,
    joined: bool,
    trace: Option<&'a Trace>,
    detail: Option<String>,
}

impl<I: Identity> Gate<I> {
    /// The realm of the `WWW-Authenticate` challenges.
    pub fn realm(&self) -> &str {
        &self.inner.realm
    }

    /// The CometChat client the gate uses (e.g. for admin tasks that share its pool).
    pub fn client(&self) -> &Client {
        &self.inner.vendor.client
    }

    /// Step one of [`answer`](Self::answer), synchronous: the identity's
    /// [`extract`](Identity::extract). For adapters whose requests are `!Send` (actix-web).
    pub fn extract<R: RequestView + ?Sized>(
        &self,
        request: &R,
    ) -> Result<I::Credentials, Rejection> {
        self.inner.identity.extract(request)
    }

    /// Answers a token request: resolves the caller with the gate's [`Identity`] from the
    /// request view, then mints. The view is read synchronously, before the first `.await`.
    pub fn answer<'a, R: RequestView + ?Sized>(
        &'a self,
        request: &R,
        request_id: &str,
    ) -> impl Future<Output = Answer> + Send + use<'a, I, R> {
        let credentials = self.extract(request);
        self.answer_credentials(credentials, request_id)
    }

    /// Step two of [`answer`](Self::answer): verifies credentials from [`extract`](Self::extract)
    /// and mints. On a clone of the gate the future is `'static`:
    ///
    /// ```
    /// # use cometgate::{Identity, vend::Gate, identity::SimpleRequest};
    /// fn spawnable<I: Identity>(gate: &Gate<I>, request: &SimpleRequest) {
    ///     let credentials = gate.extract(request);
    ///     let gate = gate.clone();
    ///     let future = async move { gate.answer_credentials(credentials, "req-1").await };
    ///     fn is_static_send<F: std::future::Future + Send + 'static>(_: &F) {}
    ///     is_static_send(&future);
    /// }
    /// ```
    pub fn answer_credentials<'a>(
        &'a self,
        credentials: Result<I::Credentials, Rejection>,
        request_id: &str,
    ) -> impl Future<Output = Answer> + Send + use<'a, I> {
        let request_id = clean_request_id(request_id);
        async move {
            if TypeId::of::<I>() == TypeId::of::<NoIdentity>() {
                let detail = "this gate has no Identity: build it with GateBuilder::identity(...), \
                              or resolve the caller in the adapter and call Gate::answer_principal";
                return self.finish(
                    &request_id,
                    Problem::misconfigured().into(),
                    Record {
                        detail: Some(detail.into()),
                        ..Record::default()
                    },
                );
            }
            let verified = match credentials {
                Ok(credentials) => self.inner.identity.verify(credentials).await,
                Err(rejection) => Err(rejection),
            };
            match verified {
                Ok(principal) => self.serve(principal, &request_id).await,
                Err(rejection) => self.reject(rejection, &request_id),
            }
        }
    }

    /// Answers for a caller the adapter has already identified (e.g. with the app's own axum
    /// extractor), bypassing the gate's [`Identity`].
    pub fn answer_principal<'a>(
        &'a self,
        principal: Principal,
        request_id: &str,
    ) -> impl Future<Output = Answer> + Send + use<'a, I> {
        let request_id = clean_request_id(request_id);
        async move { self.serve(principal, &request_id).await }
    }

    /// The answer to a caller the adapter's own extractor rejected: 401 or 403, logged like
    /// every other request.
    pub fn answer_rejection(&self, rejection: Rejection, request_id: &str) -> Answer {
        self.reject(rejection, &clean_request_id(request_id))
    }

    /// Logs and returns a problem the adapter found itself (405, 413, 400), so that every
    /// request on the token path has the same log event.
    pub fn answer_problem(&self, problem: Problem, request_id: &str) -> Answer {
        self.finish(
            &clean_request_id(request_id),
            problem.into(),
            Record::default(),
        )
    }

    fn reject(&self, rejection: Rejection, request_id: &str) -> Answer {
        let detail = match &rejection {
            Rejection::Missing => None,
            Rejection::Invalid { reason } | Rejection::Refused { reason } => Some(reason.clone()),
        };
        let problem = Problem::from_rejection(&rejection, &self.inner.realm);
        self.finish(
            request_id,
            problem.into(),
            Record {
                detail,
                ..Record::default()
            },
        )
    }

    async fn serve(&self, principal: Principal, request_id: &str) -> Answer {
        let uid = match self.inner.mapper.map(&principal) {
            Ok(uid) => uid,
            Err(e) => {
                let detail = format!("the principal could not be mapped to a CometChat UID: {e}");
                return self.finish(
                    request_id,
                    Problem::misconfigured().into(),
                    Record {
                        detail: Some(detail),
                        ..Record::default()
                    },
                );
            }
        };
        let profile = Profile {
            name: principal.name().map(str::to_owned),
            avatar: principal.avatar().map(str::to_owned),
        };
        self.inner.users.housekeeping();
        let vendor = Arc::clone(&self.inner.vendor);
        let flight = self.inner.flights.join_or_start(
            &uid,
            || self.inner.users.check(&uid),
            || {
                let uid = uid.clone();
                async move { vendor.mint(uid, profile).await }
            },
        );
        let flight = match flight {
            Ok(flight) => flight,
            Err(wait) => {
                return self.finish(
                    request_id,
                    Problem::rate_limited(wait).into(),
                    Record {
                        uid: Some(&uid),
                        ..Record::default()
                    },
                );
            }
        };
        let joined = flight.joined();
        match flight.await {
            Ok(minted) => {
                let answer = Answer::Token(TokenResponse::new(minted.token.clone(), uid.clone()));
                let record = Record {
                    uid: Some(&uid),
                    joined,
                    trace: Some(&minted.trace),
                    detail: None,
                };
                self.finish(request_id, answer, record)
            }
            Err(error) => {
                let record = Record {
                    uid: Some(&uid),
                    joined,
                    trace: Some(error.trace()),
                    detail: Some(error.log_detail()),
                };
                self.finish(request_id, error.problem().into(), record)
            }
        }
    }

    /// Attaches the request id and emits the request's one log event.
    fn finish(&self, request_id: &str, answer: Answer, record: Record<'_>) -> Answer {
        let answer = match answer {
            Answer::Problem(p) => Answer::Problem(p.with_request_id(request_id)),
            token => token,
        };
        let status = answer.status();
        let (outcome, reason, level) = match &answer {
            Answer::Token(_) => ("minted", "ok", Level::INFO),
            Answer::Problem(p) => {
                let level = match status {
                    429 | 503 => Level::WARN,
                    s if s >= 500 => Level::ERROR,
                    _ => Level::INFO,
                };
                let outcome = if status >= 500 { "failed" } else { "refused" };
                (outcome, p.problem_type().slug(), level)
            }
        };
        // The event's fields cost allocations; build them only for a subscriber that wants them.
        let wanted = match level {
            Level::ERROR => tracing::enabled!(target: "cometgate::vend", Level::ERROR),
            Level::WARN => tracing::enabled!(target: "cometgate::vend", Level::WARN),
            _ => tracing::enabled!(target: "cometgate::vend", Level::INFO),
        };
        if !wanted {
            return answer;
        }
        let token = answer.token().map(|t| t.auth_token().redacted());
        let uid = record.uid.map(Uid::as_str);
        let trace = record.trace.cloned().unwrap_or_default();
        let latency_ms = u64::try_from(trace.upstream_latency.as_millis()).unwrap_or(u64::MAX);
        let detail = record.detail.as_deref();
        macro_rules! emit {
            ($macro:ident) => {
                tracing::$macro!(
                    target: "cometgate::vend",
                    request_id,
                    outcome,
                    reason,
                    status,
                    uid,
                    joined = record.joined,
                    provisioned = trace.provisioned,
                    upstream_status = trace.upstream_status,
                    upstream_calls = trace.upstream_calls,
                    upstream_latency_ms = latency_ms,
                    token = token.as_deref(),
                    detail,
                    "token request {outcome}: {reason}"
                )
            };
        }
        match level {
            Level::ERROR => emit!(error),
            Level::WARN => emit!(warn),
            _ => emit!(info),
        }
        answer
    }
}

/// Keeps a request id log-safe: visible ASCII only, at most 128 characters.
fn clean_request_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(128)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::SimpleRequest;

    fn assert_send<F: Future + Send>(_: &F) {}

    fn assert_static<F: Future + Send + 'static>(_: &F) {}

    #[test]
    fn answer_futures_are_send_and_static_on_a_clone() {
        let config = Config::builder()
            .app_id("demo")
            .region(crate::Region::Us)
            .rest_api_key("k")
            .build()
            .unwrap();
        let gate = Gate::builder().config(config).build().unwrap();
        let request = SimpleRequest::post("/t");
        assert_send(&gate.answer(&request, "r"));
        assert_send(&gate.answer_principal(Principal::new("i", "s"), "r"));
        let owned = gate.clone();
        let credentials = gate.extract(&request);
        assert_static(&async move { owned.answer_credentials(credentials, "r").await });
    }

    #[test]
    fn request_ids_are_made_log_safe() {
        assert_eq!(clean_request_id("abc-123"), "abc-123");
        assert_eq!(clean_request_id("a\nb\u{1b}[31mc d"), "ab[31mcd");
        assert_eq!(clean_request_id(&"x".repeat(500)).len(), 128);
    }

    #[test]
    fn zero_limits_fail_the_build_with_a_clear_error() {
        let config = Config::builder()
            .app_id("demo")
            .region(crate::Region::Us)
            .rest_api_key("k")
            .build()
            .unwrap();
        let err = Gate::builder()
            .config(config)
            .per_user_limit(RateLimit::per_minute(0))
            .build()
            .unwrap_err();
        assert!(matches!(err, GateBuildError::PerUserLimit(_)), "{err}");
        let missing = Gate::builder().build().unwrap_err();
        assert!(
            missing.to_string().contains("Config::from_env"),
            "{missing}"
        );
    }
}
