//! # axum-quickstart
//!
//! A tiny axum app with its own authentication (HS256 JWT bearer tokens verified by
//! `cometgate-jwt`, see [`demo_auth`]) and one ordinary route (`GET /todos`), plus the one line
//! that adds CometChat sign-in: `.layer(TokenLayer::new(gate))`, which answers
//! `POST /cometchat-token` (and, with `.map_endpoint(|e| e.with_webhooks(webhooks))`, the
//! webhooks that keep CometChat users in step with the app's accounts).
//!
//! `cargo run -p axum-quickstart` runs it with no CometChat account: without `COMETCHAT_APP_ID`
//! it starts an embedded `cometchat-fake` and prints a `curl` command with a valid demo token.
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
//! The pieces are public so that tests (and you) can drive them: [`app`] builds the router from
//! a gate, [`Settings`] reads the environment, [`start`] serves it and says how to call it.
//! Everything that is not axum-specific (demo auth, settings, embedded fake, banner) comes from
//! `quickstart-common`, shared with the other frameworks' quickstarts.
#![forbid(unsafe_code)]

use std::net::SocketAddr;

use axum::routing::get;
use axum::{Json, Router};
use cometchat_fake::FakeCometChat;
use cometgate::Identity;
use cometgate::vend::Gate;
use cometgate::webhook::Webhooks;
use cometgate_axum::TokenLayer;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use quickstart_common::metrics::MetricsServer;
pub use quickstart_common::{
    DEMO_TOKEN_TTL, DEMO_USER, Settings, StartError, Todo, Upstream, demo_auth,
};

/// The app's own route: cometgate never touches it.
async fn list_todos() -> Json<Vec<Todo>> {
    Json(quickstart_common::todos())
}

/// The whole app: the ordinary routes, and the token endpoint added by one layer, which also
/// serves the configured webhook sources (`POST /cometchat-webhooks/{source}`).
pub fn app<I: Identity>(gate: Gate<I>, webhooks: Webhooks) -> Router {
    Router::new()
        .route("/todos", get(list_todos))
        .layer(TokenLayer::new(gate).map_endpoint(|endpoint| endpoint.with_webhooks(webhooks)))
}

/// A running quickstart.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    banner: String,
    fake: Option<FakeCometChat>,
    metrics: Option<MetricsServer>,
    stop: oneshot::Sender<()>,
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
        // The server may already have stopped; then there is nobody to tell.
        let _ = self.stop.send(());
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
/// and serves it on `127.0.0.1:{port}`.
///
/// # Errors
/// [`StartError`] says what failed and what to do.
pub async fn start(settings: Settings) -> Result<Running, StartError> {
    let setup = quickstart_common::setup(&settings).await?;

    let (listener, addr) = settings.bind()?;
    let bind_error = |source| StartError::Bind {
        port: settings.port,
        source,
    };
    listener.set_nonblocking(true).map_err(bind_error)?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(bind_error)?;

    let (stop, stopped) = oneshot::channel::<()>();
    let service = app(setup.gate, settings.webhooks.clone())
        .into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    let mut banner = quickstart_common::banner("axum", addr, &setup.description, &settings);
    let metrics = quickstart_common::serve_metrics(&settings, &mut banner).await?;
    Ok(Running {
        addr,
        banner,
        fake: setup.fake,
        metrics,
        stop,
        server,
    })
}
