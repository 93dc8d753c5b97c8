//! [`Gate`]: the token request's logic, end to end, without HTTP: principal → UID →
//! per-user limit → single-flight mint (upstream budget, retries, just-in-time provisioning).

use std::fmt;
use std::sync::Arc;

use crate::client::{BuildError, Client};
use crate::config::{Config, ConfigError};
use crate::identity::{Identity, Principal};
use crate::retry::RetryPolicy;
use crate::uid::Uid;
use crate::uid_mapper::UidMapper;
use crate::vend::answer::TokenResponse;
use crate::vend::limit::{RateLimit, RateLimitError, UpstreamBudget, UserLimiter};
use crate::vend::problem::{DEFAULT_REALM, Problem};
use crate::vend::provision::{Minted, Profile, Trace, VendError, Vendor};
use crate::vend::single_flight::SingleFlight;

type FlightResult = Result<Minted, VendError>;

/// The identity type of a gate built without [`GateBuilder::identity`].
///
/// It is **not** an [`Identity`]: such a gate serves only callers that the app's own framework
/// extractor identifies (`TokenLayer::from_extractor`, `TokenEndpoint::from_extractor`), and the
/// constructors that read credentials with the gate's identity (`TokenLayer::new`, …) do not
/// accept it. Forgetting `.identity(...)` is a compile error, not a runtime 500:
///
/// ```compile_fail
/// # use cometgate::{Config, Region, endpoint::Endpoint, identity::SimpleRequest, vend::Gate};
/// let config = Config::builder().app_id("demo").region(Region::Us).rest_api_key("k").build().unwrap();
/// let gate = Gate::builder().config(config).build().unwrap(); // no identity
/// let endpoint = Endpoint::new(gate);
/// let _ = endpoint.serve(&SimpleRequest::post("/cometchat-token"), bytes::Bytes::new());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIdentity;

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

/// Why [`Gate::from_env`] could not read its settings; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FromEnvError {
    /// CometChat's own settings (`COMETCHAT_*`).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A limit variable (`COMETGATE_PER_USER_LIMIT`, `COMETGATE_UPSTREAM_BUDGET`) is malformed.
    #[error("{var}: {source}")]
    Limit {
        /// The variable.
        var: &'static str,
        /// What is wrong with its value.
        #[source]
        source: RateLimitError,
    },
}

/// The variable [`Gate::from_env`] reads the per-user limit from.
pub const ENV_PER_USER_LIMIT: &str = "COMETGATE_PER_USER_LIMIT";
/// The variable [`Gate::from_env`] reads the upstream budget from.
pub const ENV_UPSTREAM_BUDGET: &str = "COMETGATE_UPSTREAM_BUDGET";

/// Builds a [`Gate`]. Start with [`Gate::builder`] or [`Gate::from_env`].
pub struct GateBuilder<I = NoIdentity> {
    config: Option<Config>,
    client: Option<Client>,
    identity: I,
    suggested_mapper: Option<UidMapper>,
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

impl<I> GateBuilder<I> {
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

    /// How the gate learns who is signed in. Without it the gate only serves callers that an
    /// app's framework extractor identified (see [`NoIdentity`]).
    pub fn identity<J: Identity>(self, identity: J) -> GateBuilder<J> {
        GateBuilder {
            config: self.config,
            client: self.client,
            suggested_mapper: identity.uid_mapper(),
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
    /// [`Identity::uid_mapper`], else [`UidMapper::default`]).
    #[must_use]
    pub fn uid_mapper(mut self, mapper: UidMapper) -> Self {
        self.mapper = Some(mapper);
        self
    }

    /// The per-user limit on new mints (default [`RateLimit::PER_USER_DEFAULT`]: burst 5, then
    /// 10 per minute; from the environment: `COMETGATE_PER_USER_LIMIT`). Requests that join a
    /// mint already in flight for the same user cost nothing.
    #[must_use]
    pub fn per_user_limit(mut self, limit: RateLimit) -> Self {
        self.per_user = limit;
        self
    }

    /// The app-wide budget of CometChat calls (default [`RateLimit::UPSTREAM_DEFAULT`]: 1,000 per
    /// minute, burst 100; from the environment: `COMETGATE_UPSTREAM_BUDGET`).
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
                mapper: self.mapper.or(self.suggested_mapper).unwrap_or_default(),
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

/// The token request's logic without HTTP: principal → UID → per-user limit → single-flight
/// mint (upstream budget, retries, just-in-time provisioning).
///
/// Cheap to clone (one `Arc`). HTTP reaches it through the [`Endpoint`](crate::endpoint::Endpoint),
/// which every adapter wraps; the endpoint emits one `tracing` event per request (target
/// `cometgate::vend`) with the outcome, reason, UID, upstream status and latency and the
/// request id; never the REST API key, never a whole token.
///
/// ```
/// use cometgate::{Config, Region, vend::Gate};
///
/// let config = Config::builder()
///     .app_id("demo")
///     .region(Region::Eu)
///     .rest_api_key("0123456789abcdef")
///     .build()?;
/// let gate = Gate::builder().config(config).build()?; // no network I/O
/// assert_eq!(gate.realm(), "cometgate");
/// # Ok::<(), Box<dyn std::error::Error>>(())
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
    /// Starts a builder with the defaults: no identity, the default UID mapping and limits,
    /// JIT provisioning on.
    pub fn builder() -> GateBuilder {
        GateBuilder {
            config: None,
            client: None,
            identity: NoIdentity,
            suggested_mapper: None,
            mapper: None,
            per_user: RateLimit::PER_USER_DEFAULT,
            upstream: RateLimit::UPSTREAM_DEFAULT,
            jit: true,
            retry: None,
            realm: DEFAULT_REALM.to_owned(),
        }
    }

    /// A builder configured from the environment: `COMETCHAT_APP_ID`, `COMETCHAT_REGION`,
    /// `COMETCHAT_REST_API_KEY` (and optionally `COMETCHAT_API_BASE`, see
    /// [`Config::from_env`]), and optionally the limits `COMETGATE_PER_USER_LIMIT` and
    /// `COMETGATE_UPSTREAM_BUDGET`, each `<n>/<s|min|h>` with an optional `,burst=<b>`, or `off`
    /// (see [`RateLimit`]'s `FromStr`). A malformed value is an error naming the variable.
    pub fn from_env() -> Result<GateBuilder, FromEnvError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`. An empty value
    /// counts as unset.
    ///
    /// ```
    /// use cometgate::vend::Gate;
    ///
    /// let vars = [
    ///     ("COMETCHAT_APP_ID", "demo"),
    ///     ("COMETCHAT_REGION", "us"),
    ///     ("COMETCHAT_REST_API_KEY", "secret-key"),
    ///     ("COMETGATE_UPSTREAM_BUDGET", "9000/min,burst=500"),
    ///     ("COMETGATE_PER_USER_LIMIT", "10/mn"),
    /// ];
    /// let lookup = |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
    /// let err = Gate::from_lookup(lookup).unwrap_err();
    /// assert!(err.to_string().starts_with("COMETGATE_PER_USER_LIMIT: "), "{err}");
    /// ```
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<GateBuilder, FromEnvError> {
        let mut builder = Self::builder().config(Config::from_lookup(&lookup)?);
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let limit = |var: &'static str| -> Result<Option<RateLimit>, FromEnvError> {
            get(var)
                .map(|value| value.parse::<RateLimit>())
                .transpose()
                .map_err(|source| FromEnvError::Limit { var, source })
        };
        if let Some(limit) = limit(ENV_PER_USER_LIMIT)? {
            builder = builder.per_user_limit(limit);
        }
        if let Some(limit) = limit(ENV_UPSTREAM_BUDGET)? {
            builder = builder.upstream_budget(limit);
        }
        Ok(builder)
    }
}

/// What one vend did, for the endpoint's log event.
#[derive(Default)]
pub(crate) struct VendRecord {
    pub(crate) uid: Option<Uid>,
    pub(crate) joined: bool,
    pub(crate) trace: Trace,
    pub(crate) detail: Option<String>,
}

impl<I> Gate<I> {
    /// The realm of the `WWW-Authenticate` challenges.
    pub fn realm(&self) -> &str {
        &self.inner.realm
    }

    /// The CometChat client the gate uses (e.g. for admin tasks that share its pool).
    pub fn client(&self) -> &Client {
        &self.inner.vendor.client
    }

    /// The identity the gate reads credentials with.
    pub fn identity(&self) -> &I {
        &self.inner.identity
    }

    /// The UID mapping in force.
    pub fn uid_mapper(&self) -> &UidMapper {
        &self.inner.mapper
    }

    /// A token for `principal`: maps the UID, applies the per-user limit, joins or starts the
    /// single-flight mint. Every failure is the problem the endpoint answers with.
    pub(crate) async fn vend(
        &self,
        principal: Principal,
    ) -> (Result<TokenResponse, Problem>, VendRecord) {
        let mut record = VendRecord::default();
        let uid = match self.inner.mapper.map(&principal) {
            Ok(uid) => uid,
            Err(e) => {
                record.detail = Some(format!(
                    "the principal could not be mapped to a CometChat UID: {e}"
                ));
                return (Err(Problem::misconfigured()), record);
            }
        };
        record.uid = Some(uid.clone());
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
            Err(wait) => return (Err(Problem::rate_limited(wait)), record),
        };
        record.joined = flight.joined();
        match flight.await {
            Ok(minted) => {
                record.trace = minted.trace;
                (Ok(TokenResponse::new(minted.token, uid)), record)
            }
            Err(error) => {
                record.trace = error.trace().clone();
                record.detail = Some(error.log_detail());
                (Err(error.problem()), record)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(matches!(missing, GateBuildError::MissingConfig));
        assert!(
            missing.to_string().contains("Config::from_env"),
            "{missing}"
        );
    }
}

#[cfg(test)]
mod env_tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    const BASE: [(&str, &str); 3] = [
        ("COMETCHAT_APP_ID", "demo"),
        ("COMETCHAT_REGION", "us"),
        ("COMETCHAT_REST_API_KEY", "k"),
    ];

    #[test]
    fn limits_come_from_the_environment() {
        let mut vars = BASE.to_vec();
        vars.push((ENV_PER_USER_LIMIT, "3/s,burst=1"));
        vars.push((ENV_UPSTREAM_BUDGET, "off"));
        let builder = Gate::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(builder.per_user, RateLimit::per_second(3).with_burst(1));
        assert_eq!(builder.upstream, RateLimit::unlimited());

        let defaults = Gate::from_lookup(lookup(&BASE)).unwrap();
        assert_eq!(defaults.per_user, RateLimit::PER_USER_DEFAULT);
        assert_eq!(defaults.upstream, RateLimit::UPSTREAM_DEFAULT);
    }

    #[test]
    fn a_bad_limit_names_its_variable() {
        for (var, value) in [
            (ENV_PER_USER_LIMIT, "10/week"),
            (ENV_UPSTREAM_BUDGET, "0/min"),
            (ENV_UPSTREAM_BUDGET, "9000/min,burst=-1"),
        ] {
            let mut vars = BASE.to_vec();
            vars.push((var, value));
            let err = Gate::from_lookup(lookup(&vars)).unwrap_err();
            assert!(err.to_string().starts_with(&format!("{var}: ")), "{err}");
        }
    }
}
