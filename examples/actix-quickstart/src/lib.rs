//! # actix-quickstart
//!
//! A tiny actix-web app with its own authentication (HS256 JWT bearer tokens, see
//! [`demo_auth`]) and one ordinary route (`GET /todos`), plus the one line that adds CometChat
//! sign-in: `.configure(TokenEndpoint::new(gate).configure())`, which answers
//! `POST /cometchat-token`.
//!
//! `cargo run -p actix-quickstart` runs it with no CometChat account: without
//! `COMETCHAT_APP_ID` it starts an embedded `cometchat-fake` and prints a `curl` command with a
//! valid demo token. Same contract as `axum-quickstart`:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `PORT` | listen on `127.0.0.1:PORT` | `3000` |
//! | `DEMO_JWT_SECRET` | the demo auth's HS256 secret | random per run |
//! | `COMETCHAT_APP_ID`, `COMETCHAT_REGION`, `COMETCHAT_REST_API_KEY` | a real CometChat app | unset: embedded fake |
//! | `COMETCHAT_API_BASE` | another CometChat API base, e.g. a separately started `cometchat-fake` binary (then set the three above to its app id, region and key) | the app's region |
//!
//! The pieces are public so that tests (and you) can drive them: [`routes`] adds the app's
//! routes and the token endpoint to an `App`, [`gate`] builds the gate, [`Settings`] reads the
//! environment, [`start`] serves it and says how to call it.
#![forbid(unsafe_code)]

pub mod demo_auth;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use cometchat_fake::FakeCometChat;
use cometgate::config::{ENV_API_BASE, ENV_APP_ID};
use cometgate::vend::{Gate, GateBuildError};
use cometgate::{Config, ConfigError, Identity, UidMapper, UidMapping};
use cometgate_actix::{DEFAULT_PATH, TokenEndpoint};
use secrecy::SecretString;
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::demo_auth::{DemoAuth, random_secret, sign_demo_token};

/// The demo user the printed `curl` command signs in as.
pub const DEMO_USER: &str = "alice";

/// How long the printed demo token stays valid.
pub const DEMO_TOKEN_TTL: Duration = Duration::from_secs(60 * 60);

/// One item of the app's ordinary route.
#[derive(Debug, Clone, Serialize)]
pub struct Todo {
    /// Item id.
    pub id: u32,
    /// What to do.
    pub title: &'static str,
    /// Whether it is done.
    pub done: bool,
}

/// The app's own route: cometgate never touches it.
async fn list_todos() -> web::Json<Vec<Todo>> {
    web::Json(vec![
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
    ])
}

/// The whole app, for `App::configure`: the ordinary routes, and the token endpoint.
///
/// ```no_run
/// # use actix_web::{App, HttpServer};
/// # fn demo(endpoint: cometgate_actix::TokenEndpoint<actix_quickstart::demo_auth::DemoAuth>) {
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

/// The quickstart's gate: CometChat at `config`, callers identified by the demo auth.
///
/// # Errors
/// [`GateBuildError`] when the client cannot be built.
pub fn gate(config: Config, demo_secret: &SecretString) -> Result<Gate<DemoAuth>, GateBuildError> {
    Gate::builder()
        .config(config)
        .identity(DemoAuth::new(demo_secret))
        // The demo's subjects are lower-case ids, so they can be the UIDs as they are. Apps
        // whose subjects are mixed-case (Firebase, Clerk, Auth0) keep the default, encoded.
        .uid_mapper(UidMapper::new(UidMapping::Readable))
        .build()
}

/// Why the quickstart could not start.
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
    /// The embedded fake could not start.
    #[error("could not start the embedded cometchat-fake: {0}")]
    Fake(#[from] cometchat_fake::StartError),
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

/// What the quickstart reads from its environment.
#[derive(Debug)]
pub struct Settings {
    /// The port on 127.0.0.1 (0 picks a free one).
    pub port: u16,
    /// The demo auth's HS256 secret.
    pub demo_secret: SecretString,
    /// True when `DEMO_JWT_SECRET` was unset and a random secret was made for this run.
    pub demo_secret_generated: bool,
    /// Where CometChat is.
    pub upstream: Upstream,
}

impl Settings {
    /// Reads `PORT`, `DEMO_JWT_SECRET` and the `COMETCHAT_*` variables.
    ///
    /// # Errors
    /// [`StartError::Port`] or [`StartError::Config`] with what to fix.
    pub fn from_env() -> Result<Self, StartError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup` (empty counts as
    /// unset).
    ///
    /// ```
    /// use actix_quickstart::{Settings, Upstream};
    ///
    /// let settings = Settings::from_lookup(|_| None).unwrap();
    /// assert_eq!(settings.port, 3000);
    /// assert!(settings.demo_secret_generated);
    /// assert!(matches!(settings.upstream, Upstream::EmbeddedFake));
    ///
    /// assert!(Settings::from_lookup(|n| (n == "PORT").then(|| "http".into())).is_err());
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
        let (demo_secret, demo_secret_generated) = match get("DEMO_JWT_SECRET") {
            Some(secret) => (SecretString::from(secret), false),
            None => (random_secret(), true),
        };
        let upstream = if get(ENV_APP_ID).is_some() || get(ENV_API_BASE).is_some() {
            Upstream::Configured(Config::from_lookup(&lookup)?)
        } else {
            Upstream::EmbeddedFake
        };
        Ok(Self {
            port,
            demo_secret,
            demo_secret_generated,
            upstream,
        })
    }
}

/// A running quickstart.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    banner: String,
    fake: Option<FakeCometChat>,
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
    let (config, fake) = match settings.upstream {
        Upstream::Configured(config) => (config, None),
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
    let cometchat = match &fake {
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

    let endpoint = TokenEndpoint::new(gate(config, &settings.demo_secret)?);

    let bind_error = |source| StartError::Bind {
        port: settings.port,
        source,
    };
    let listener =
        std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, settings.port)).map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let server = HttpServer::new(move || App::new().configure(routes(&endpoint)))
        // Ctrl-C is handled by `main`, which then calls `Running::shutdown`.
        .disable_signals()
        .listen(listener)
        .map_err(bind_error)?
        .run();
    let handle = server.handle();
    let server = tokio::spawn(server);

    let token = sign_demo_token(
        &settings.demo_secret,
        DEMO_USER,
        Some("Alice (demo)"),
        DEMO_TOKEN_TTL,
    );
    let secret_note = if settings.demo_secret_generated {
        "DEMO_JWT_SECRET is not set: a random secret was generated for this run (set it to keep \
         demo tokens valid across restarts).\n"
    } else {
        ""
    };
    let banner = format!(
        "cometgate actix-web quickstart listening on http://{addr}\n\
         {cometchat}\n\
         {secret_note}\n\
         Get a CometChat auth token as the demo user \"{DEMO_USER}\" (demo token valid 1 hour):\n\n\
         curl -i -X POST http://{addr}{DEFAULT_PATH} -H 'Authorization: Bearer {token}'\n\n\
         Without a token it answers 401 (application/problem+json):\n\n\
         curl -i -X POST http://{addr}{DEFAULT_PATH}\n\n\
         An ordinary route of the app, untouched by cometgate:\n\n\
         curl -i http://{addr}/todos\n"
    );
    Ok(Running {
        addr,
        banner,
        fake,
        handle,
        server,
    })
}
