//! # quickstart-common
//!
//! What the cometgate quickstarts (`actix-quickstart`, and any other framework's) share, so
//! that they honour one contract: the demo app's own authentication ([`demo_auth`]: HS256 JWT
//! bearer tokens signed with `DEMO_JWT_SECRET`, or any OIDC issuer's tokens with `AUTH_ISSUER`,
//! `AUTH_AUDIENCE` and optionally `AUTH_JWKS_URL`), the environment ([`Settings`]: `PORT`, the
//! auth variables, the core's `COMETCHAT_*`, its limits `COMETGATE_PER_USER_LIMIT` and
//! `COMETGATE_UPSTREAM_BUDGET` and its token policy `COMETGATE_TOKENS_PER_USER`,
//! `COMETGATE_TOKEN_MAX_AGE` and `COMETGATE_TOKEN_RECHECK`, the webhook secrets
//! `CLERK_WEBHOOK_SIGNING_SECRET`, `COMETGATE_WEBHOOK_SECRET`, `SUPABASE_WEBHOOK_SECRET` and
//! `AUTH0_EVENT_STREAM_TOKEN`, and `REDIS_URL` with `COMETGATE_STORE_KEY` for state shared by
//! replicas, see [`state`]), where CometChat is ([`cometchat`]: an embedded
//! `cometchat-fake` when no app is configured), the gate ([`gate`]) and the printed `curl`
//! flow ([`banner`]). Only the few lines that plug cometgate into a framework differ.
#![forbid(unsafe_code)]

pub mod contract;
pub mod demo_auth;
pub mod metrics;
pub mod replicas;
pub mod state;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use cometchat_fake::FakeCometChat;
use cometgate::config::{ENV_API_BASE, ENV_APP_ID};
use cometgate::vend::{
    ENV_PER_USER_LIMIT, ENV_UPSTREAM_BUDGET, FromEnvError, Gate, GateBuildError, RateLimit,
    TokenPolicy,
};
use cometgate::webhook::{Source, WebhookEnvError, Webhooks, receiver};
use cometgate::{Config, ConfigError};
use cometgate_jwt::JwtIdentity;
use cometgate_redis::RedisStore;
use secrecy::SecretString;

use crate::demo_auth::{AuthSettings, random_secret, sign_demo_token};
use crate::state::StateSettings;

/// The demo user the printed `curl` command signs in as.
pub const DEMO_USER: &str = "alice";

/// How long the printed demo token stays valid.
pub const DEMO_TOKEN_TTL: Duration = Duration::from_secs(60 * 60);

/// The token path the quickstarts serve (each adapter's default).
pub const TOKEN_PATH: &str = "/cometchat-token";

/// One item of the quickstarts' ordinary route, `GET /todos`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Todo {
    /// Item id.
    pub id: u32,
    /// What to do.
    pub title: &'static str,
    /// Whether it is done.
    pub done: bool,
}

/// What `GET /todos` answers: the app's own data, which cometgate never touches.
pub fn todos() -> Vec<Todo> {
    vec![
        Todo {
            id: 1,
            title: "Add cometgate to the backend",
            done: true,
        },
        Todo {
            id: 2,
            title: "Call POST /cometchat-token from the app, then CometChatUIKit.login({ authToken })",
            done: false,
        },
    ]
}

/// Why a quickstart could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// `PORT` is not a port number.
    #[error("PORT must be a port number between 0 and 65535, got {0:?}")]
    Port(String),
    /// The `COMETCHAT_*` variables are incomplete or invalid.
    #[error(
        "{0}. Unset COMETCHAT_APP_ID and COMETCHAT_API_BASE to run against the embedded fake instead"
    )]
    Config(#[from] ConfigError),
    /// The gate could not be built.
    #[error("could not set up cometgate: {0}")]
    Gate(#[from] GateBuildError),
    /// A `COMETGATE_*` limit or token policy variable is malformed or out of range (the
    /// message starts with the variable's name).
    #[error("{0} (or unset it for the default)")]
    Limit(#[source] FromEnvError),
    /// A webhook secret variable is malformed or too short (the message starts with the
    /// variable's name, never its value).
    #[error("{0} (or unset it to leave that webhook source off)")]
    Webhook(#[from] WebhookEnvError),
    /// The authentication settings are invalid.
    #[error(
        "invalid authentication settings: {0} (check DEMO_JWT_SECRET, or AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URL)"
    )]
    Auth(#[from] cometgate_jwt::BuildError),
    /// Only one of `AUTH_ISSUER` and `AUTH_AUDIENCE` is set.
    #[error(
        "set both AUTH_ISSUER and AUTH_AUDIENCE to accept an OIDC issuer's tokens (only {0} is set)"
    )]
    PartialOidc(&'static str),
    /// The embedded fake could not start.
    #[error("could not start the embedded cometchat-fake: {0}")]
    Fake(#[from] cometchat_fake::StartError),
    /// `METRICS_ADDR` is not a socket address.
    #[error("METRICS_ADDR must be an address and port such as 127.0.0.1:9464, got {0:?}")]
    MetricsAddr(String),
    /// `REDIS_URL` is set but the Redis store's settings are incomplete or malformed (the
    /// message names the variable, never its value).
    #[error(
        "{0} (REDIS_URL is set, so cometgate keeps its state in Redis; unset it for the in-memory stores)"
    )]
    Redis(#[source] cometgate_redis::ConfigError),
    /// The metrics recorder could not be installed.
    #[error("could not install the Prometheus metrics recorder: {0}")]
    Metrics(String),
    /// The metrics address could not be bound.
    #[error(
        "could not listen for metrics on {addr}: {source} (set METRICS_ADDR to a free address)"
    )]
    MetricsBind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The port could not be bound.
    #[error("could not listen on 127.0.0.1:{port}: {source} (set PORT to a free port)")]
    Bind {
        /// The port asked for.
        port: u16,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// Where CometChat is.
#[derive(Debug)]
pub enum Upstream {
    /// Start an embedded `cometchat-fake`.
    EmbeddedFake,
    /// A configured app (a real one, or a separately started fake).
    Configured(Config),
}

/// The gate's limits and token policy as the environment sets them; `None` keeps cometgate's
/// default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// `COMETGATE_PER_USER_LIMIT` (default [`RateLimit::PER_USER_DEFAULT`]).
    pub per_user: Option<RateLimit>,
    /// `COMETGATE_UPSTREAM_BUDGET` (default [`RateLimit::UPSTREAM_DEFAULT`]).
    pub upstream_budget: Option<RateLimit>,
    /// `COMETGATE_TOKENS_PER_USER`, `COMETGATE_TOKEN_MAX_AGE`, `COMETGATE_TOKEN_RECHECK`
    /// (default [`TokenPolicy::default`]).
    pub tokens: TokenPolicy,
}

impl Limits {
    /// Reads both variables through `lookup` with the core's syntax (`<n>/<s|min|h>` with an
    /// optional `,burst=<b>`, or `off`; see [`RateLimit`]'s `FromStr`). Empty counts as unset.
    ///
    /// ```
    /// use cometgate::vend::RateLimit;
    /// use quickstart_common::Limits;
    ///
    /// let limits = Limits::from_lookup(|n| (n == "COMETGATE_PER_USER_LIMIT").then(|| "1/min,burst=1".into()));
    /// assert_eq!(limits.unwrap().per_user, Some(RateLimit::per_minute(1).with_burst(1)));
    ///
    /// let error = Limits::from_lookup(|n| (n == "COMETGATE_UPSTREAM_BUDGET").then(|| "9000/day".into()));
    /// assert!(error.unwrap_err().to_string().starts_with("COMETGATE_UPSTREAM_BUDGET: "));
    /// ```
    ///
    /// # Errors
    /// [`StartError::Limit`], naming the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, StartError> {
        let read = |var: &'static str| {
            lookup(var)
                .filter(|value| !value.trim().is_empty())
                .map(|value| value.parse::<RateLimit>())
                .transpose()
                .map_err(|source| StartError::Limit(FromEnvError::Limit { var, source }))
        };
        Ok(Self {
            per_user: read(ENV_PER_USER_LIMIT)?,
            upstream_budget: read(ENV_UPSTREAM_BUDGET)?,
            tokens: TokenPolicy::from_lookup(&lookup).map_err(StartError::Limit)?,
        })
    }
}

/// What a quickstart reads from its environment.
#[derive(Debug)]
pub struct Settings {
    /// The port on 127.0.0.1 (0 picks a free one).
    pub port: u16,
    /// How callers are authenticated: demo HS256 tokens, or an OIDC issuer's.
    pub auth: AuthSettings,
    /// Where CometChat is.
    pub upstream: Upstream,
    /// The per-user limit and the upstream budget.
    pub limits: Limits,
    /// Where to serve `/metrics` (`METRICS_ADDR`); `None`: no metrics listener.
    pub metrics_addr: Option<SocketAddr>,
    /// The webhook sources whose secret is set, each configured with the issuer of
    /// [`auth`](Self::auth), so that a webhook's subject maps to the very UID a token of the same
    /// user gets (demo: UID = subject).
    pub webhooks: Webhooks,
    /// Where the gate keeps its state: memory, or Redis when `REDIS_URL` is set.
    pub state: StateSettings,
}

impl Settings {
    /// Reads `PORT`, `DEMO_JWT_SECRET` (or `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_JWKS_URL`),
    /// the `COMETCHAT_*` variables, `COMETGATE_PER_USER_LIMIT`, `COMETGATE_UPSTREAM_BUDGET`, the
    /// token policy, `METRICS_ADDR`, the webhook secrets (`CLERK_WEBHOOK_SIGNING_SECRET`,
    /// `COMETGATE_WEBHOOK_SECRET`, `SUPABASE_WEBHOOK_SECRET`, `AUTH0_EVENT_STREAM_TOKEN`) and
    /// the shared state's (`REDIS_URL`, `COMETGATE_STORE_KEY`, `COMETGATE_STORE_KEY_PREVIOUS`,
    /// `COMETGATE_REDIS_PREFIX`).
    ///
    /// # Errors
    /// [`StartError::Port`], [`StartError::MetricsAddr`], [`StartError::PartialOidc`], [`StartError::Config`],
    /// [`StartError::Limit`], [`StartError::Webhook`] or [`StartError::Redis`] with what to fix.
    pub fn from_env() -> Result<Self, StartError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup` (empty counts as
    /// unset).
    ///
    /// ```
    /// use quickstart_common::{Settings, Upstream, demo_auth::AuthSettings};
    ///
    /// let settings = Settings::from_lookup(|_| None).unwrap();
    /// assert_eq!(settings.port, 3000);
    /// assert!(matches!(settings.auth, AuthSettings::Demo { generated: true, .. }));
    /// assert!(matches!(settings.upstream, Upstream::EmbeddedFake));
    /// assert_eq!(settings.metrics_addr, None);
    /// assert!(matches!(settings.state, quickstart_common::state::StateSettings::Memory));
    ///
    /// let metrics = Settings::from_lookup(|n| (n == "METRICS_ADDR").then(|| "127.0.0.1:9464".into()));
    /// assert_eq!(metrics.unwrap().metrics_addr, Some("127.0.0.1:9464".parse().unwrap()));
    /// assert!(Settings::from_lookup(|n| (n == "METRICS_ADDR").then(|| "9464".into())).is_err());
    ///
    /// assert!(Settings::from_lookup(|n| (n == "PORT").then(|| "http".into())).is_err());
    ///
    /// let oidc = Settings::from_lookup(|n| match n {
    ///     "AUTH_ISSUER" => Some("https://id.example".into()),
    ///     "AUTH_AUDIENCE" => Some("chat".into()),
    ///     _ => None,
    /// })
    /// .unwrap();
    /// assert!(matches!(oidc.auth, AuthSettings::Oidc { jwks_url: None, .. }));
    /// assert!(Settings::from_lookup(|n| (n == "AUTH_ISSUER").then(|| "https://id.example".into())).is_err());
    ///
    /// let hooks = Settings::from_lookup(|n| {
    ///     (n == "COMETGATE_WEBHOOK_SECRET").then(|| "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into())
    /// });
    /// assert_eq!(hooks.unwrap().webhooks.paths(), ["/cometchat-webhooks/standard"]);
    /// let short = Settings::from_lookup(|n| (n == "AUTH0_EVENT_STREAM_TOKEN").then(|| "short".into()));
    /// assert!(short.unwrap_err().to_string().starts_with("AUTH0_EVENT_STREAM_TOKEN: "));
    /// ```
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, StartError> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let port = match get("PORT") {
            None => 3000,
            Some(raw) => raw.trim().parse().map_err(|_| StartError::Port(raw))?,
        };
        let auth = match (get("AUTH_ISSUER"), get("AUTH_AUDIENCE")) {
            (Some(issuer), Some(audience)) => AuthSettings::Oidc {
                issuer,
                audience,
                jwks_url: get("AUTH_JWKS_URL"),
            },
            (Some(_), None) => return Err(StartError::PartialOidc("AUTH_ISSUER")),
            (None, Some(_)) => return Err(StartError::PartialOidc("AUTH_AUDIENCE")),
            (None, None) => match get("DEMO_JWT_SECRET") {
                Some(secret) => AuthSettings::Demo {
                    secret: SecretString::from(secret),
                    generated: false,
                },
                None => AuthSettings::Demo {
                    secret: random_secret(),
                    generated: true,
                },
            },
        };
        let upstream = if get(ENV_APP_ID).is_some() || get(ENV_API_BASE).is_some() {
            Upstream::Configured(Config::from_lookup(&lookup)?)
        } else {
            Upstream::EmbeddedFake
        };
        let metrics_addr = match get(metrics::ENV_METRICS_ADDR) {
            None => None,
            Some(raw) => Some(
                raw.trim()
                    .parse()
                    .map_err(|_| StartError::MetricsAddr(raw))?,
            ),
        };
        // Every source's subjects are the users of the issuer the app signs its callers in
        // with, so a webhook and a token of one user name one CometChat UID.
        let issuer = auth.issuer().to_owned();
        let webhooks = Webhooks::from_lookup(&lookup, |_| issuer.clone())?;
        Ok(Self {
            port,
            auth,
            upstream,
            limits: Limits::from_lookup(&lookup)?,
            metrics_addr,
            webhooks,
            state: StateSettings::from_lookup(&lookup)?,
        })
    }

    /// Binds `127.0.0.1:{port}` (a std listener: every framework's server accepts one).
    ///
    /// # Errors
    /// [`StartError::Bind`] when the port is taken or not allowed.
    pub fn bind(&self) -> Result<(TcpListener, SocketAddr), StartError> {
        let error = |source| StartError::Bind {
            port: self.port,
            source,
        };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).map_err(error)?;
        let addr = listener.local_addr().map_err(error)?;
        Ok((listener, addr))
    }
}

/// CometChat as the settings say: the configured app, or a freshly started embedded
/// `cometchat-fake` (returned too: keep it alive while serving). The string says which, for
/// the banner.
///
/// # Errors
/// [`StartError::Fake`] or [`StartError::Config`] when the embedded fake cannot start.
pub async fn cometchat(
    upstream: &Upstream,
) -> Result<(Config, Option<FakeCometChat>, String), StartError> {
    let (config, fake) = match upstream {
        Upstream::Configured(config) => (config.clone(), None),
        Upstream::EmbeddedFake => {
            let fake = FakeCometChat::builder().start().await?;
            let config = Config::builder()
                .app_id(fake.app_id())
                .region(fake.region().parse()?)
                .rest_api_key(fake.api_key())
                .api_base(fake.base_url())
                .build()?;
            (config, Some(fake))
        }
    };
    let description = match &fake {
        Some(fake) => format!(
            "CometChat: embedded cometchat-fake at {} (no account needed; set COMETCHAT_APP_ID, \
             COMETCHAT_REGION and COMETCHAT_REST_API_KEY to use your app)",
            fake.base_url()
        ),
        None => format!(
            "CometChat: app {} at {}",
            config.app_id(),
            config.api_base()
        ),
    };
    Ok((config, fake, description))
}

/// The quickstarts' gate: CometChat at `config`, callers identified as `settings.auth` says
/// (the UID mapping is the identity's own: readable demo ids, encoded OIDC subjects), under
/// `settings.limits`, its tokens, accounts and limits in `redis` when given (from
/// [`state::connect`]), in memory otherwise.
///
/// # Errors
/// [`StartError::Auth`] for bad auth settings, [`StartError::Gate`] when the client cannot be
/// built.
pub fn gate(
    config: Config,
    settings: &Settings,
    redis: Option<RedisStore>,
) -> Result<Gate<JwtIdentity>, StartError> {
    let mut builder = Gate::builder()
        .config(config)
        .identity(settings.auth.identity()?)
        .token_policy(settings.limits.tokens);
    if let Some(store) = redis {
        // One store, three roles (tokens, account records, limits): without the limits each
        // replica would keep its own, and N replicas would allow N times the budget.
        builder = builder.store(store);
    }
    if let Some(limit) = settings.limits.per_user {
        builder = builder.per_user_limit(limit);
    }
    if let Some(limit) = settings.limits.upstream_budget {
        builder = builder.upstream_budget(limit);
    }
    Ok(builder.build()?)
}

/// What every quickstart starts before serving: CometChat ([`cometchat`]), the state
/// ([`state::connect`]) and the gate on both ([`gate`]).
#[derive(Debug)]
pub struct Setup {
    /// The gate to serve.
    pub gate: Gate<JwtIdentity>,
    /// The embedded fake, when no CometChat app is configured: keep it alive while serving.
    pub fake: Option<FakeCometChat>,
    /// Where CometChat and the state are, for the banner.
    pub description: String,
}

/// Starts CometChat as the settings say, connects the state and builds the gate.
///
/// # Errors
/// As [`cometchat`], [`state::connect`] and [`gate`].
pub async fn setup(settings: &Settings) -> Result<Setup, StartError> {
    let (config, fake, cometchat) = cometchat(&settings.upstream).await?;
    let (redis, state) = state::connect(&settings.state).await?;
    Ok(Setup {
        gate: gate(config, settings, redis)?,
        fake,
        description: format!("{cometchat}\n{state}"),
    })
}

/// Starts the metrics listener when the settings name one (`METRICS_ADDR`), and adds its line
/// to the banner.
///
/// # Errors
/// [`StartError::Metrics`] or [`StartError::MetricsBind`].
pub async fn serve_metrics(
    settings: &Settings,
    banner: &mut String,
) -> Result<Option<metrics::MetricsServer>, StartError> {
    let Some(addr) = settings.metrics_addr else {
        return Ok(None);
    };
    let server = metrics::MetricsServer::start(addr).await?;
    banner.push('\n');
    banner.push_str(&server.banner_line());
    Ok(Some(server))
}

/// What a quickstart prints: where `framework`'s app listens, where CometChat is, and
/// ready-to-paste `curl` commands (one with a valid demo token for [`DEMO_USER`]).
///
/// ```
/// use quickstart_common::{Settings, banner};
///
/// let settings = Settings::from_lookup(|_| None).unwrap();
/// let text = banner("axum", "127.0.0.1:3000".parse().unwrap(), "CometChat: ...", &settings);
/// assert!(text.contains("curl -i -X POST http://127.0.0.1:3000/cometchat-token -H 'Authorization: Bearer "));
/// assert!(text.contains("DEMO_JWT_SECRET is not set"));
/// ```
pub fn banner(framework: &str, addr: SocketAddr, cometchat: &str, settings: &Settings) -> String {
    let sign_in = match &settings.auth {
        AuthSettings::Demo { secret, generated } => {
            let token = sign_demo_token(secret, DEMO_USER, Some("Alice (demo)"), DEMO_TOKEN_TTL);
            let note = if *generated {
                "DEMO_JWT_SECRET is not set: a random secret was generated for this run (set it to \
                 keep demo tokens valid across restarts).\n"
            } else {
                ""
            };
            format!(
                "{note}\nGet a CometChat auth token as the demo user \"{DEMO_USER}\" (demo token \
                 valid 1 hour); the same deviceId gets the same token back, without a new mint:\n\n\
                 curl -i -X POST http://{addr}{TOKEN_PATH} -H 'Authorization: Bearer {token}' \
                 -H 'Content-Type: application/json' -d '{{\"deviceId\": \"demo-phone\"}}'\n\n\
                 Log that device out (204; its token is deleted at CometChat):\n\n\
                 curl -i -X POST http://{addr}{TOKEN_PATH}/revoke -H 'Authorization: Bearer {token}' \
                 -H 'Content-Type: application/json' -d '{{\"deviceId\": \"demo-phone\"}}'\n"
            )
        }
        AuthSettings::Oidc {
            issuer, audience, ..
        } => format!(
            "Auth: access tokens from {issuer} for audience {audience:?} (AUTH_ISSUER, AUTH_AUDIENCE).\n\n\
             Get a CometChat auth token with one of your own tokens:\n\n\
             curl -i -X POST http://{addr}{TOKEN_PATH} -H \"Authorization: Bearer $ACCESS_TOKEN\"\n"
        ),
    };
    let webhooks = webhook_banner(addr, &settings.webhooks);
    format!(
        "cometgate {framework} quickstart listening on http://{addr}\n\
         {cometchat}\n\
         {sign_in}\n\
         Without a token it answers 401 (application/problem+json):\n\n\
         curl -i -X POST http://{addr}{TOKEN_PATH}\n\n\
         An ordinary route of the app, untouched by cometgate:\n\n\
         curl -i http://{addr}/todos\n\n\
         {webhooks}"
    )
}

/// The banner's webhook paragraph: each enabled source and its URL, or which variables enable
/// them. Names sources and variables only, never a secret.
///
/// ```
/// use cometgate::webhook::Webhooks;
/// use quickstart_common::webhook_banner;
///
/// let addr = "127.0.0.1:3000".parse().unwrap();
/// assert!(webhook_banner(addr, &Webhooks::new()).contains("Webhooks: none enabled"));
/// let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
/// let text = webhook_banner(addr, &Webhooks::new().standard(secret, "demo"));
/// assert!(text.contains("standard (COMETGATE_WEBHOOK_SECRET): POST http://127.0.0.1:3000/cometchat-webhooks/standard"));
/// assert!(!text.contains("MfKQ9"));
/// ```
pub fn webhook_banner(addr: SocketAddr, webhooks: &Webhooks) -> String {
    let enabled: Vec<String> = webhooks
        .configured()
        .map(|source| {
            format!(
                "  {source} ({}): POST http://{addr}{}/{source}\n",
                webhook_variable(source),
                webhooks.prefix()
            )
        })
        .collect();
    if enabled.is_empty() {
        let vars: Vec<&str> = Source::ALL.into_iter().map(webhook_variable).collect();
        format!(
            "Webhooks: none enabled (set {} to keep CometChat users in step with your accounts).\n",
            vars.join(", ")
        )
    } else {
        format!(
            "Webhooks enabled (CometChat users follow your accounts):\n{}",
            enabled.concat()
        )
    }
}

/// The variable that enables `source` in the quickstarts.
pub fn webhook_variable(source: Source) -> &'static str {
    match source {
        Source::Clerk => receiver::ENV_CLERK_SECRET,
        Source::Standard => receiver::ENV_STANDARD_SECRET,
        Source::Supabase => receiver::ENV_SUPABASE_SECRET,
        Source::Auth0 => receiver::ENV_AUTH0_TOKEN,
    }
}

/// What the test macros ([`webhook_tests!`]) reach through `$crate`, so that the quickstarts'
/// tests need no dependency of their own on it.
#[doc(hidden)]
pub mod __private {
    pub use cometgate;
}
