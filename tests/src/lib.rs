//! The security property suite, written once and run against every HTTP adapter.
//!
//! An adapter test file implements [`Adapter`] (how to serve a [`Gate`] on a loopback socket
//! next to an ordinary route) and invokes [`security_suite!`]. Every property runs against the
//! real app over HTTP, with `cometchat-fake` as CometChat, the quickstarts' own authentication
//! (HS256 JWTs verified by `cometgate_jwt::SharedSecret`, with a secret generated per run), and
//! ≥ 256 proptest cases.
//!
//! ```text
//! struct Axum;
//! impl cometgate_conformance::Adapter for Axum { /* serve the gate */ }
//! cometgate_conformance::security_suite!(Axum);
//! ```

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cometchat_fake::FakeCometChat;
use cometgate::endpoint::Endpoint;
use cometgate::retry::RetryPolicy;
use cometgate::vend::{Gate, GateBuilder, RateLimit};
use cometgate::{Config, Identity, Principal, Region, UidMapper};
use cometgate_jwt::JwtIdentity;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use quickstart_common::demo_auth::AuthSettings;
use secrecy::SecretString;

pub use proptest;

pub use quickstart_common::demo_auth::{AUDIENCE, Claims, ISSUER};

/// Demo claims for `sub`, with the quickstarts' issuer and audience.
pub fn claims(sub: &str, name: Option<&str>, exp: u64) -> Claims {
    Claims {
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
        sub: sub.to_owned(),
        name: name.map(str::to_owned),
        exp,
    }
}

/// Now, in unix seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Signs demo claims with HS256.
pub fn sign(secret: &[u8], claims: &Claims) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("HS256 signing cannot fail")
}

/// How an adapter serves an endpoint for the suites.
pub trait Adapter {
    /// Shown in failure messages.
    const NAME: &'static str;

    /// Serves an app on `127.0.0.1:0` with the endpoint's routes (the token route at
    /// `POST /cometchat-token` unless the endpoint says otherwise) in front of the app's own
    /// routes: `GET /todos` answers `[]`, and every other request is answered by [`echo`]
    /// (status 200). Returns the bound address. The server runs in the background on the
    /// current tokio runtime (or its own threads, for `!Send` frameworks).
    fn serve<I: Identity>(endpoint: Endpoint<I>) -> impl Future<Output = SocketAddr>;
}

/// The app's answer to a request the endpoint passed on: the method, the path and query, the
/// `x-echo` header and the body, one per line, so a test can see that nothing was changed.
pub fn echo(method: &str, path_and_query: &str, x_echo: Option<&[u8]>, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path_and_query}\n").into_bytes();
    out.extend_from_slice(x_echo.unwrap_or_default());
    out.push(b'\n');
    out.extend_from_slice(body);
    out
}

/// The knobs a property needs on the gate.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Per-user limit.
    pub per_user: RateLimit,
    /// Retry schedule and deadline.
    pub retry: RetryPolicy,
}

impl Tuning {
    /// Limits far above what a test sends; fast retries (20 ms, 40 ms, 80 ms), 2 s deadline.
    pub fn relaxed() -> Self {
        Self {
            per_user: RateLimit::per_minute(1_000_000).with_burst(1_000_000),
            retry: RetryPolicy::builder()
                .initial_delay(Duration::from_millis(20))
                .deadline(Duration::from_secs(2))
                .build(),
        }
    }

    /// The default per-user limit (burst 5, then 10 a minute), fast retries.
    pub fn default_limits() -> Self {
        Self {
            per_user: RateLimit::PER_USER_DEFAULT,
            ..Self::relaxed()
        }
    }

    /// Relaxed limits and a short deadline, for hung upstreams.
    pub fn short_deadline(deadline: Duration) -> Self {
        Self {
            retry: RetryPolicy::builder()
                .initial_delay(Duration::from_millis(20))
                .deadline(deadline)
                .build(),
            ..Self::relaxed()
        }
    }
}

/// One app under test, its fake upstream, and the means to call it.
pub struct Env {
    /// The fake CometChat the gate talks to.
    pub fake: FakeCometChat,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The demo JWT secret (generated per environment).
    pub secret: Vec<u8>,
    /// The mapper the gate uses (the demo identity's own), to compute expected UIDs.
    pub mapper: UidMapper,
    /// A client for the app.
    pub http: reqwest::Client,
}

/// A REST API key that is easy to spot in output.
pub fn sentinel_key() -> String {
    format!("RESTKEYSENTINEL{:032x}", rand_u128())
}

fn rand_u128() -> u128 {
    // Good enough for unique test secrets; not cryptographic.
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    t ^ (std::process::id() as u128) << 64
}

impl Env {
    /// Starts a fake and the app, with the gate tuned as asked.
    pub async fn start<A: Adapter>(tuning: Tuning) -> Self {
        Self::start_with::<A>(tuning, |endpoint| endpoint).await
    }

    /// Like [`start`](Self::start), with the endpoint's settings changed by `configure`.
    pub async fn start_with<A: Adapter>(
        tuning: Tuning,
        configure: impl FnOnce(Endpoint<JwtIdentity>) -> Endpoint<JwtIdentity>,
    ) -> Self {
        Self::start_with_mapper::<A>(tuning, None, configure).await
    }

    /// Like [`start_with`](Self::start_with), with the gate mapping UIDs by `mapper` instead of
    /// the demo identity's readable one (`None`: the demo identity's).
    pub async fn start_with_mapper<A: Adapter>(
        tuning: Tuning,
        mapper: Option<UidMapper>,
        configure: impl FnOnce(Endpoint<JwtIdentity>) -> Endpoint<JwtIdentity>,
    ) -> Self {
        let fake = start_fake().await;
        let secret = format!("suite-secret-{:032x}", rand_u128());
        let identity = AuthSettings::Demo {
            secret: SecretString::from(secret.clone()),
            generated: false,
        }
        .identity()
        .expect("demo identity");
        let mut builder = gate_builder(&fake, tuning).identity(identity);
        if let Some(mapper) = mapper {
            builder = builder.uid_mapper(mapper);
        }
        let gate = builder.build().expect("gate");
        let mapper = gate.uid_mapper().clone();
        let addr = A::serve(configure(Endpoint::new(gate))).await;
        Self::around(fake, addr, secret.into_bytes(), mapper)
    }

    /// Starts a fake and the app with another identity (e.g. a cookie session).
    pub async fn start_with_identity<A: Adapter, I: Identity>(
        tuning: Tuning,
        identity: I,
        configure: impl FnOnce(Endpoint<I>) -> Endpoint<I>,
    ) -> Self {
        let fake = start_fake().await;
        let gate = gate_builder(&fake, tuning)
            .identity(identity)
            .build()
            .expect("gate");
        let mapper = gate.uid_mapper().clone();
        let addr = A::serve(configure(Endpoint::new(gate))).await;
        Self::around(fake, addr, Vec::new(), mapper)
    }

    fn around(fake: FakeCometChat, addr: SocketAddr, secret: Vec<u8>, mapper: UidMapper) -> Self {
        Self {
            fake,
            base: format!("http://{addr}"),
            secret,
            mapper,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
        }
    }

    /// A valid token for `sub`, expiring in an hour.
    pub fn token_for(&self, sub: &str) -> String {
        sign(&self.secret, &claims(sub, None, now() + 3600))
    }

    /// The UID the gate must mint for `sub`.
    pub fn uid_for(&self, sub: &str) -> String {
        self.mapper
            .map(&Principal::new(ISSUER, sub))
            .expect("suite subjects map")
            .into_string()
    }

    /// `POST /cometchat-token` with an optional bearer token.
    pub fn token_request(&self, bearer: Option<&str>) -> reqwest::RequestBuilder {
        let req = self.http.post(format!("{}/cometchat-token", self.base));
        match bearer {
            Some(token) => req.header("authorization", format!("Bearer {token}")),
            None => req,
        }
    }
}

/// A fake whose REST key is a [`sentinel_key`].
async fn start_fake() -> FakeCometChat {
    FakeCometChat::builder()
        .api_key(sentinel_key())
        .start()
        .await
        .expect("start the fake")
}

/// A gate builder for `fake`: its config, the tuning, an upstream budget no test reaches.
fn gate_builder(fake: &FakeCometChat, tuning: Tuning) -> GateBuilder {
    let config = Config::builder()
        .app_id(fake.app_id())
        .region(Region::Us)
        .rest_api_key(fake.api_key())
        .api_base(fake.base_url())
        .build()
        .expect("config for the fake");
    Gate::builder()
        .config(config)
        .per_user_limit(tuning.per_user)
        .upstream_budget(RateLimit::per_minute(1_000_000).with_burst(1_000_000))
        .retry_policy(tuning.retry)
}

/// Captured `tracing` output of the whole test binary.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Installs a global subscriber (once per binary) that writes every event at TRACE level
    /// here, and returns the shared buffer.
    pub fn capture() -> Logs {
        static LOGS: OnceLock<Logs> = OnceLock::new();
        LOGS.get_or_init(|| {
            let logs = Logs::default();
            let subscriber = tracing_subscriber::fmt()
                .with_writer(logs.clone())
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .finish();
            // Another subscriber may already be set by a test in this binary; then ours is a
            // no-op and the captured text stays empty, which the tests check.
            let _ = tracing::subscriber::set_global_default(subscriber);
            logs
        })
        .clone()
    }

    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

/// A multi-thread runtime for one property (built outside `proptest!`: a nested runtime panics).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

#[doc(hidden)]
pub mod contract;
pub mod lifecycle;
mod readmes;
pub mod sdk_harness;
#[doc(hidden)]
pub mod suite;
#[doc(hidden)]
pub mod webhooks;
