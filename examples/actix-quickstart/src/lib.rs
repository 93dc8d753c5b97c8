//! # actix-quickstart
//!
//! A tiny actix-web app with its own authentication (HS256 JWT bearer tokens, see
//! [`demo_auth`]) and one ordinary route (`GET /todos`), plus the one line that adds CometChat
//! sign-in: `.configure(endpoint.configure())` with a [`TokenEndpoint`], which answers
//! `POST /cometchat-token` (and, with `.map_endpoint(|e| e.with_webhooks(webhooks))`, the
//! webhooks that keep CometChat users in step with the app's accounts).
//!
//! `cargo run -p actix-quickstart` runs it with no CometChat account: without
//! `COMETCHAT_APP_ID` it starts an embedded `cometchat-fake` and prints a `curl` command with a
//! valid demo token. The contract (environment, demo auth, printed flow) is the one every
//! cometgate quickstart shares, from `quickstart-common`:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `PORT` | listen on `127.0.0.1:PORT` | `3000` |
//! | `DEMO_JWT_SECRET` | the demo auth's HS256 secret (at least 32 bytes) | random per run |
//! | `AUTH_ISSUER`, `AUTH_AUDIENCE` | accept this OpenID Connect issuer's tokens instead (both or neither) | unset: demo tokens |
//! | `AUTH_JWKS_URL` | with `AUTH_ISSUER`: the issuer's JWKS URL | OIDC discovery |
//! | `COMETCHAT_APP_ID`, `COMETCHAT_REGION`, `COMETCHAT_REST_API_KEY` | a real CometChat app | unset: embedded fake |
//! | `COMETCHAT_API_BASE` | another CometChat API base, e.g. a separately started `cometchat-fake` binary (then set the three above to its app id, region and key) | the app's region |
//! | `COMETGATE_PER_USER_LIMIT` | new token mints per user: `<n>/<s\|min\|h>` with an optional `,burst=<b>`, or `off` | `10/min,burst=5` |
//! | `COMETGATE_UPSTREAM_BUDGET` | calls to CometChat for the whole app, same syntax | `1000/min,burst=100` |
//! | `REDIS_URL` | keep tokens, accounts and limits in Redis (`redis://`, `rediss://`, `unix://`), shared by every replica ([`quickstart_common::state`]) | unset: in memory |
//! | `COMETGATE_STORE_KEY` | with `REDIS_URL`, required: 32 random bytes, standard base64, encrypting tokens and accounts at rest | none |
//! | `COMETGATE_STORE_KEY_PREVIOUS`, `COMETGATE_REDIS_PREFIX` | with `REDIS_URL`: the key before a rotation; the key prefix | unset; `cometgate:` |
//! | `CLERK_WEBHOOK_SIGNING_SECRET` | serve `POST /cometchat-webhooks/clerk`: Clerk's Svix signing secret (`whsec_…`) | unset: not served |
//! | `COMETGATE_WEBHOOK_SECRET` | serve `POST /cometchat-webhooks/standard` (cometgate's own event, from any relay): Standard Webhooks secret(s) (`whsec_…`, space-separated to rotate) | unset: not served |
//! | `SUPABASE_WEBHOOK_SECRET` | serve `POST /cometchat-webhooks/supabase`: the `Authorization: Bearer` secret of the Database Webhook (at least 32 bytes) | unset: not served |
//! | `AUTH0_EVENT_STREAM_TOKEN` | serve `POST /cometchat-webhooks/auth0`: the Event Stream's bearer token (at least 32 bytes) | unset: not served |
//! | `METRICS_ADDR` | serve Prometheus metrics on `http://{METRICS_ADDR}/metrics`, a listener of its own (never the app's port), e.g. `127.0.0.1:9464` | unset: no metrics listener |
//!
//! A malformed limit or webhook secret stops the start with an error naming the variable. Demo tokens are HS256
//! JWTs with `iss` = `https://quickstart.cometgate.example` and `aud` = `cometgate-quickstart`
//! ([`demo_auth::ISSUER`], [`demo_auth::AUDIENCE`]), a `sub` (the UID) and an `exp`.
//!
//! The pieces are public so that tests (and you) can drive them: [`routes`] adds the app's
//! routes and the token endpoint to an `App`, [`Settings`] reads the environment, [`start`]
//! serves it and says how to call it.
#![forbid(unsafe_code)]

use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use cometchat_fake::FakeCometChat;
use cometgate_actix::TokenEndpoint;
use cometgate_actix::cometgate::Identity;
use tokio::task::JoinHandle;

use quickstart_common::metrics::MetricsServer;
pub use quickstart_common::{
    DEMO_TOKEN_TTL, DEMO_USER, Settings, StartError, Todo, Upstream, demo_auth,
};

/// The app's own route: cometgate never touches it.
async fn list_todos() -> web::Json<Vec<Todo>> {
    web::Json(quickstart_common::todos())
}

/// The whole app, for `App::configure`: the ordinary routes, and the token endpoint.
///
/// ```no_run
/// # use actix_web::{App, HttpServer};
/// # fn demo<I: cometgate_actix::cometgate::Identity>(endpoint: cometgate_actix::TokenEndpoint<I>) {
/// let server = HttpServer::new(move || App::new().configure(actix_quickstart::routes(&endpoint)));
/// # }
/// ```
pub fn routes<I: Identity>(
    endpoint: &TokenEndpoint<I>,
) -> impl FnOnce(&mut web::ServiceConfig) + use<I> {
    let token_route = endpoint.configure();
    move |config| {
        config.route("/todos", web::get().to(list_todos));
        token_route(config);
    }
}

/// A running quickstart.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    banner: String,
    fake: Option<FakeCometChat>,
    metrics: Option<MetricsServer>,
    handle: ServerHandle,
    server: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// The address the app listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What to print: where it runs, where CometChat is, and ready-to-paste `curl` commands.
    pub fn banner(&self) -> &str {
        &self.banner
    }

    /// The metrics listener's address, when `METRICS_ADDR` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(MetricsServer::addr)
    }

    /// The embedded fake, when no CometChat app was configured.
    pub fn fake(&self) -> Option<&FakeCometChat> {
        self.fake.as_ref()
    }

    /// Stops serving (in-flight requests finish) and waits for it.
    ///
    /// # Errors
    /// What the server failed with, if it failed.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.handle.stop(true).await;
        let result = self.server.await.unwrap_or(Ok(()));
        if let Some(metrics) = self.metrics {
            metrics.stop();
        }
        if let Some(fake) = self.fake {
            fake.shutdown().await;
        }
        result
    }
}

/// Starts CometChat (the embedded fake, if none is configured), builds the gate and the app,
/// and serves it on `127.0.0.1:{port}`. Call it inside a tokio or actix runtime
/// (`#[actix_web::main]`, `#[tokio::main]`): the server runs on its own worker threads.
///
/// # Errors
/// [`StartError`] says what failed and what to do.
pub async fn start(settings: Settings) -> Result<Running, StartError> {
    let (listener, addr) = settings.bind()?;
    let setup = quickstart_common::setup(&settings).await?;
    let webhooks = settings.webhooks.clone();
    // The webhook routes are among the endpoint's `route_paths`, which `configure` registers.
    let endpoint =
        TokenEndpoint::new(setup.gate).map_endpoint(|endpoint| endpoint.with_webhooks(webhooks));

    let server = HttpServer::new(move || App::new().configure(routes(&endpoint)))
        // Ctrl-C is handled by `main`, which then calls `Running::shutdown`.
        .disable_signals()
        .listen(listener)
        .map_err(|source| StartError::Bind {
            port: settings.port,
            source,
        })?
        .run();
    let handle = server.handle();
    let server = tokio::spawn(server);

    let mut banner = quickstart_common::banner("actix-web", addr, &setup.description, &settings);
    let metrics = quickstart_common::serve_metrics(&settings, &mut banner).await?;
    Ok(Running {
        addr,
        banner,
        fake: setup.fake,
        metrics,
        handle,
        server,
    })
}
