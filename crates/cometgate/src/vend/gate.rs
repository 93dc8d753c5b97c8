//! [`Gate`]: the token request's logic, end to end, without HTTP: principal → UID → device →
//! the stored token, or per-user limit → single-flight mint (upstream budget, retries,
//! just-in-time provisioning) → track and retire (see [`tokens`](crate::vend::tokens)).

use std::fmt;
use std::sync::Arc;

use crate::client::{BuildError, Client, DeleteMode};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError};
use crate::device::{DeviceId, DeviceKey};
use crate::identity::{Identity, Principal};
use crate::retry::RetryPolicy;
use crate::store::{
    AccountStore, DeviceReading, LimitKey, LimitStore, MemoryAccountStore, MemoryStore,
    SharedStore, TokenStore,
};
use crate::telemetry::{self, LimitScope, TokenEvent};
use crate::uid::Uid;
use crate::uid_mapper::UidMapper;
use crate::vend::answer::TokenResponse;
use crate::vend::completion::to_completion;
use crate::vend::limit::{Limits, LimitsError, MemoryLimits, RateLimit, RateLimitError};
use crate::vend::policy::{PolicyError, TokenPolicy};
use crate::vend::problem::{DEFAULT_REALM, Problem};
use crate::vend::provision::{Trace, VendError, Vendor};
use crate::vend::single_flight::SingleFlight;
use crate::vend::sync::{AccountLocks, DEFAULT_SYNC_DEADLINE, SyncParts};
use crate::vend::tokens::{Issued, Lookup, SweepReport, Tokens, Want};
use crate::webhook::Profile;

type FlightResult = Result<Issued, VendError>;

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

/// A logout that could not be completed at CometChat (it is retried by the sweep); the
/// message is log-safe.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{detail}")]
pub struct RevokeError {
    problem: Problem,
    detail: String,
}

impl RevokeError {
    /// The problem the revoke route answers with (`429`, `502`, `503`, `504`).
    pub fn problem(&self) -> &Problem {
        &self.problem
    }
}

/// What [`Gate::revoke`] logs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoke {
    /// One device's token (deleted at CometChat, then forgotten). An unknown device is done.
    Device(DeviceId),
    /// Every token of the user at CometChat (`DELETE /users/{uid}/auth_tokens`), including
    /// tokens cometgate did not mint.
    All,
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
    /// A token policy variable (`COMETGATE_TOKENS_PER_USER`, `COMETGATE_TOKEN_MAX_AGE`,
    /// `COMETGATE_TOKEN_RECHECK`) is malformed or out of range.
    #[error("{var}: {source}")]
    Policy {
        /// The variable.
        var: &'static str,
        /// What is wrong with its value.
        #[source]
        source: PolicyError,
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
    policy: TokenPolicy,
    store: Option<Arc<dyn TokenStore>>,
    accounts: Option<Arc<dyn AccountStore>>,
    limits: Option<Arc<dyn LimitStore>>,
    /// Set by [`store`](GateBuilder::store) while the token and account stores are that one
    /// store: the reuse path then reads both in one step.
    shared: Option<Arc<dyn SharedStore>>,
    deletion: DeleteMode,
    sync_deadline: std::time::Duration,
    clock: Arc<dyn Clock>,
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
            .field("policy", &self.policy)
            .field("store", &self.store)
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
            policy: self.policy,
            store: self.store,
            accounts: self.accounts,
            limits: self.limits,
            shared: self.shared,
            deletion: self.deletion,
            sync_deadline: self.sync_deadline,
            clock: self.clock,
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

    /// The token lifecycle: cap per user, max age, recheck (default [`TokenPolicy::default`];
    /// from the environment: `COMETGATE_TOKENS_PER_USER`, `COMETGATE_TOKEN_MAX_AGE`,
    /// `COMETGATE_TOKEN_RECHECK`).
    #[must_use]
    pub fn token_policy(mut self, policy: TokenPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Where tracked tokens live (default: a [`MemoryStore`] with its default capacity; several
    /// replicas need a shared one such as `cometgate-redis`).
    #[must_use]
    pub fn token_store(mut self, store: impl TokenStore) -> Self {
        self.store = Some(Arc::new(store));
        self.shared = None;
        self
    }

    /// Where account records live: tombstones of deleted accounts, the order of user events,
    /// completed webhook deliveries (default: a [`MemoryAccountStore`]; several replicas need a
    /// shared one such as `cometgate-redis`).
    #[must_use]
    pub fn account_store(mut self, store: impl AccountStore) -> Self {
        self.accounts = Some(Arc::new(store));
        self.shared = None;
        self
    }

    /// One store for the tokens, the account records and the limits (a [`SharedStore`] such
    /// as `cometgate-redis`'s `RedisStore`): what [`token_store`](Self::token_store),
    /// [`account_store`](Self::account_store) and [`limit_store`](Self::limit_store) with the
    /// same store would do, and a known device's request then reads the account's tombstone
    /// and the device's token in one store step
    /// ([`SharedStore::token_unless_deleted`]) instead of two. A later `token_store` or
    /// `account_store` replaces that part and returns the reuse path to two steps.
    ///
    /// ```no_run
    /// # // no_run: a `SharedStore` needs a backend (see cometgate-redis's docs for one).
    /// # fn demo(store: impl cometgate::store::SharedStore, config: cometgate::Config) {
    /// use cometgate::vend::Gate;
    ///
    /// let builder = Gate::builder().config(config).store(store);
    /// # let _ = builder; }
    /// ```
    #[must_use]
    pub fn store(mut self, store: impl SharedStore) -> Self {
        let store = Arc::new(store);
        self.store = Some(Arc::clone(&store) as Arc<dyn TokenStore>);
        self.accounts = Some(Arc::clone(&store) as Arc<dyn AccountStore>);
        self.limits = Some(Arc::clone(&store) as Arc<dyn LimitStore>);
        self.shared = Some(store);
        self
    }

    /// Where the cells of the per-user limits and the upstream budget live (default: in the
    /// process). Several replicas need a shared one such as `cometgate-redis`, or each replica
    /// allows the whole budget and every user the whole limit.
    #[must_use]
    pub fn limit_store(mut self, store: impl LimitStore) -> Self {
        self.limits = Some(Arc::new(store));
        self
    }

    /// How a deleted account's CometChat user is deleted (default [`DeleteMode::Permanent`],
    /// what privacy law asks; [`DeleteMode::Deactivate`] keeps its data and its UID taken, and a
    /// later creation of the account reactivates the user).
    #[must_use]
    pub fn account_deletion(mut self, mode: DeleteMode) -> Self {
        self.deletion = mode;
        self
    }

    /// How long one user change (a webhook's work) may take (default
    /// [`DEFAULT_SYNC_DEADLINE`](crate::vend::sync::DEFAULT_SYNC_DEADLINE), 8 s: webhook
    /// senders wait 10–15 s). Past it the change answers `503` and is completed when delivered
    /// again.
    #[must_use]
    pub fn sync_deadline(mut self, deadline: std::time::Duration) -> Self {
        self.sync_deadline = deadline;
        self
    }

    /// The clock the lifecycle reads (default [`SystemClock`]; tests use
    /// [`ManualClock`](crate::clock::ManualClock)).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
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
        self.per_user
            .validate()
            .map_err(GateBuildError::PerUserLimit)?;
        self.upstream
            .validate()
            .map_err(GateBuildError::UpstreamBudget)?;
        let limit_store = match self.limits {
            Some(store) => store,
            None => Arc::new(MemoryLimits::new(self.per_user, self.upstream).map_err(
                |e| match e {
                    LimitsError::PerUser(e) => GateBuildError::PerUserLimit(e),
                    LimitsError::Upstream(e) => GateBuildError::UpstreamBudget(e),
                },
            )?),
        };
        let limits = Arc::new(Limits::new(limit_store, self.per_user, self.upstream));
        let accounts = self
            .accounts
            .unwrap_or_else(|| Arc::new(MemoryAccountStore::new()) as Arc<dyn AccountStore>);
        let vendor = Arc::new(Vendor {
            client,
            limits,
            jit: self.jit,
            deadline,
            accounts,
            locks: Arc::new(AccountLocks::new()),
            deletion: self.deletion,
        });
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryStore::new()) as Arc<dyn TokenStore>);
        Ok(Gate {
            inner: Arc::new(Inner {
                mapper: self.mapper.or(self.suggested_mapper).unwrap_or_default(),
                identity: self.identity,
                flights: SingleFlight::new(),
                tokens: Arc::new(Tokens::new(
                    store,
                    self.shared,
                    self.clock,
                    self.policy,
                    Arc::clone(&vendor),
                )),
                vendor,
                realm: self.realm,
                per_user: self.per_user,
                upstream: self.upstream,
                sync_deadline: self.sync_deadline,
            }),
        })
    }
}

/// The token request's logic without HTTP: principal → UID → per-user limit → single-flight
/// mint (upstream budget, retries, just-in-time provisioning).
///
/// Cheap to clone (one `Arc`). HTTP reaches it through the [`Endpoint`](crate::endpoint::Endpoint),
/// which every adapter wraps; the endpoint emits one `tracing` event per request (target
/// `cometgate::vend`) with the outcome, reason, issuer, keyed subject hash
/// ([`subject_hash`](crate::subject_hash); never the UID, which may be the subject itself), upstream status and latency and the request
/// id; never the REST API key, never a whole token.
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
    flights: SingleFlight<(Uid, DeviceKey), FlightResult>,
    tokens: Arc<Tokens>,
    vendor: Arc<Vendor>,
    realm: String,
    per_user: RateLimit,
    upstream: RateLimit,
    sync_deadline: std::time::Duration,
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
            .field("policy", &self.inner.tokens.policy)
            .field("store", &self.inner.tokens.store)
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
            policy: TokenPolicy::default(),
            store: None,
            accounts: None,
            limits: None,
            shared: None,
            deletion: DeleteMode::Permanent,
            sync_deadline: DEFAULT_SYNC_DEADLINE,
            clock: Arc::new(SystemClock),
        }
    }

    /// A builder configured from the environment: `COMETCHAT_APP_ID`, `COMETCHAT_REGION`,
    /// `COMETCHAT_REST_API_KEY` (and optionally `COMETCHAT_API_BASE`, see
    /// [`Config::from_env`]), and optionally the limits `COMETGATE_PER_USER_LIMIT` and
    /// `COMETGATE_UPSTREAM_BUDGET`, each `<n>/<s|min|h>` with an optional `,burst=<b>`, or `off`
    /// (see [`RateLimit`]'s `FromStr`), and the token policy `COMETGATE_TOKENS_PER_USER`,
    /// `COMETGATE_TOKEN_MAX_AGE` and `COMETGATE_TOKEN_RECHECK` (see [`TokenPolicy`]). A
    /// malformed or out-of-range value is an error naming the variable.
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
        let policy = TokenPolicy::from_lookup(&lookup)?;
        Ok(builder.token_policy(policy))
    }
}

/// What one vend did, for the endpoint's log event.
#[derive(Default)]
pub(crate) struct VendRecord {
    /// The principal's issuer and subject: the log shows the issuer and a keyed hash of the
    /// pair ([`subject_hash`](crate::subject_hash)), never the subject itself.
    pub(crate) principal: Option<(String, String)>,
    /// The device key's short hash (never the id).
    pub(crate) device: Option<String>,
    /// What happened to the token: `minted`, `reused`, `refreshed`, `revoked`.
    pub(crate) event: Option<&'static str>,
    pub(crate) joined: bool,
    /// Tokens retired (deleted upstream, or deferred) by this request.
    pub(crate) retired: u32,
    pub(crate) trace: Trace,
    pub(crate) detail: Option<String>,
}

/// What the token route was asked for (its JSON body).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TokenRequest {
    pub(crate) device_id: Option<DeviceId>,
    pub(crate) refresh: bool,
}

impl<I> Gate<I> {
    /// Whether a known device's tombstone and token are read in one step (the gate has one
    /// [`SharedStore`] for both).
    #[cfg(test)]
    pub(crate) fn reads_in_one_step(&self) -> bool {
        self.inner.tokens.shared.is_some()
    }

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

    /// The token policy in force.
    pub fn token_policy(&self) -> &TokenPolicy {
        &self.inner.tokens.policy
    }

    /// The token store.
    pub fn token_store(&self) -> &dyn TokenStore {
        &*self.inner.tokens.store
    }

    /// The account store (tombstones, event order, completed deliveries).
    pub fn account_store(&self) -> &dyn AccountStore {
        &*self.inner.vendor.accounts
    }

    /// The gate's clock in Unix milliseconds.
    pub(crate) fn now_millis(&self) -> u64 {
        self.inner.tokens.clock.unix_millis()
    }

    pub(crate) fn sync_deadline(&self) -> std::time::Duration {
        self.inner.sync_deadline
    }

    pub(crate) fn sync(&self) -> SyncParts<'_> {
        SyncParts {
            vendor: &self.inner.vendor,
            tokens: &self.inner.tokens,
        }
    }

    /// Deletes expired tokens, and deletes that failed earlier, at CometChat now. The gate
    /// also does this in the background every [`TokenPolicy::sweep_interval`] once it has
    /// served a request on a Tokio runtime; call it yourself from a scheduled job or a test.
    pub async fn sweep(&self) -> SweepReport {
        self.inner.tokens.sweep().await
    }

    fn map_uid(&self, principal: &Principal, record: &mut VendRecord) -> Result<Uid, Problem> {
        // Only for the log event: no copies on the token route when nobody listens. (Tests
        // that capture logs with a thread-local subscriber pin a second dispatcher first, so
        // a sibling thread cannot cache this callsite as never enabled.)
        if tracing::enabled!(target: "cometgate::vend", tracing::Level::ERROR) {
            record.principal = Some((
                principal.issuer().to_owned(),
                principal.subject().to_owned(),
            ));
        }
        match self.inner.mapper.map(principal) {
            Ok(uid) => Ok(uid),
            Err(e) => {
                record.detail = Some(format!(
                    "the principal could not be mapped to a CometChat UID: {e}"
                ));
                Err(Problem::misconfigured())
            }
        }
    }

    /// A token for `principal` on the device the request names (else the identity's session,
    /// else a new one): the stored one when it may be reused, else a single-flight mint. Every
    /// failure is the problem the endpoint answers with.
    pub(crate) async fn vend(
        &self,
        principal: Principal,
        request: TokenRequest,
    ) -> (Result<TokenResponse, Problem>, VendRecord) {
        let mut record = VendRecord::default();
        let uid = match self.map_uid(&principal, &mut record) {
            Ok(uid) => uid,
            Err(problem) => return (Err(problem), record),
        };
        let tokens = &self.inner.tokens;
        let (device, known) = match request
            .device_id
            .or_else(|| principal.session_id().and_then(|s| DeviceId::parse(s).ok()))
        {
            Some(device) => (device, true),
            None => (DeviceId::generate(), false),
        };
        let key = device.key();
        record.device = Some(key.short());
        // One deadline for the whole request: a recheck, the wait for another gate's mint and
        // this request's own mint and deletes.
        let until = tokens.deadline_from_now();
        // The tombstone first (the device's token with it, for a known device, in one store
        // step when the gate has one store for both).
        let reuse = known && !request.refresh;
        let now = tokens.now();
        let found = match tokens.read(&uid, reuse.then_some(key), now).await {
            Ok(DeviceReading::Live(found)) => found,
            Ok(DeviceReading::Deleted) => {
                record.detail = Some("the account was deleted; no token is issued".to_owned());
                return (Err(Problem::account_deleted()), record);
            }
            Err(error) => return fail(error, record),
        };
        tokens.ensure_sweeper();
        let respond = |tracked: crate::store::TrackedToken| {
            TokenResponse::new(tracked.token, uid.clone())
                .with_device(device.clone(), tracked.expires_at)
        };
        let (stale, gone) = if reuse {
            match tokens.lookup(&uid, key, found, now, until).await {
                Ok(Lookup::Reuse(tracked, trace)) => {
                    record.event = Some("reused");
                    telemetry::tokens(TokenEvent::Reused, 1);
                    record.trace = trace;
                    return (Ok(respond(tracked)), record);
                }
                Ok(Lookup::Mint { stale, gone, trace }) => {
                    record.trace = trace;
                    (stale, gone)
                }
                Err(error) => return fail(error, record),
            }
        } else {
            (None, false)
        };
        let profile = Profile {
            name: principal.name().map(str::to_owned),
            avatar: principal.avatar().map(str::to_owned),
        };
        let mint = || {
            let (tokens, uid) = (Arc::clone(tokens), uid.clone());
            let want = Want {
                refresh: request.refresh,
                stale,
                gone,
            };
            to_completion(async move { tokens.mint(uid, key, profile, want, until).await })
        };
        let issued = if known {
            let flight = self.inner.flights.join_or_start(&(uid.clone(), key), mint);
            record.joined = flight.joined();
            flight.await
        } else {
            // A device made up for this request: no other request can name it before this one
            // answers, so there is no flight to join.
            mint().await
        };
        match issued {
            Ok(issued) => {
                record.trace.absorb(&issued.trace);
                record.retired = issued.retired;
                if issued.reused {
                    telemetry::tokens(TokenEvent::Reused, 1);
                }
                record.event = Some(match (issued.reused, request.refresh) {
                    (true, _) => "reused",
                    (false, true) => "refreshed",
                    (false, false) => "minted",
                });
                (Ok(respond(issued.tracked)), record)
            }
            Err(error) => {
                if matches!(error, VendError::UserLimited { .. }) {
                    telemetry::rate_limited(LimitScope::User);
                }
                fail(error, record)
            }
        }
    }

    /// Logs `principal` out of chat: one device's token, or all of them (see [`Revoke`]). The
    /// upstream deletes finish before this returns; an unknown device is done, not an error.
    ///
    /// Not rate-limited (the revoke route is): an app must always be able to cut a user off.
    ///
    /// # Errors
    ///
    /// [`RevokeError`] when CometChat or the store failed (the deletes are then retried by the
    /// sweep).
    pub async fn revoke(&self, principal: &Principal, what: Revoke) -> Result<(), RevokeError> {
        let (result, record) = self.revoke_for(principal, what, false).await;
        result.map_err(|problem| RevokeError {
            problem,
            detail: record
                .detail
                .unwrap_or_else(|| "the revoke was refused".to_owned()),
        })
    }

    /// A revoke; `limited` applies the revoke route's per-user limit to `Revoke::All` (a device
    /// revoke costs a call only for a tracked device, so it needs none).
    pub(crate) async fn revoke_for(
        &self,
        principal: &Principal,
        what: Revoke,
        limited: bool,
    ) -> (Result<(), Problem>, VendRecord) {
        let mut record = VendRecord::default();
        let uid = match self.map_uid(principal, &mut record) {
            Ok(uid) => uid,
            Err(problem) => return (Err(problem), record),
        };
        let tokens = &self.inner.tokens;
        tokens.ensure_sweeper();
        record.event = Some("revoked");
        let tokens = Arc::clone(tokens);
        let outcome = match what {
            Revoke::Device(device) => {
                let key = device.key();
                record.device = Some(key.short());
                to_completion(async move { tokens.revoke_device(&uid, key).await }).await
            }
            Revoke::All => {
                let refused = |wait| {
                    telemetry::rate_limited(LimitScope::User);
                    Ok(Problem::rate_limited(wait))
                };
                let failed = |error| Err(VendError::store(error, Default::default()));
                if limited
                    && let Err(refused) = self
                        .inner
                        .vendor
                        .limits
                        .take_or(LimitKey::RevokeAll(&uid), refused, failed)
                        .await
                {
                    return match refused {
                        Ok(problem) => (Err(problem), record),
                        Err(error) => fail(error, record),
                    };
                }
                to_completion(async move { tokens.revoke_all(&uid).await }).await
            }
        };
        match outcome {
            Ok((count, trace)) => {
                record.trace = trace;
                record.retired = u32::try_from(count).unwrap_or(u32::MAX);
                (Ok(()), record)
            }
            Err(error) => fail(error, record),
        }
    }
}

/// The problem for a failed step, with its trace and log detail in the record.
fn fail<T>(error: VendError, mut record: VendRecord) -> (Result<T, Problem>, VendRecord) {
    record.trace.absorb(error.trace());
    record.detail = Some(error.log_detail());
    (Err(error.problem()), record)
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
