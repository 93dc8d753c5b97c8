//! Starting, inspecting and stopping a fake; the socket loop and the in-process service.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::faults::{Fault, normalise_route};
use crate::handler::{Incoming, MAX_BODY_BYTES, Outcome, Settings, Shared, handle};
use crate::journal::{JournalEntry, route_counts};
use crate::store::FakeUser;

/// A running fake CometChat server on a loopback port.
///
/// Each one has its own state, port and journal: parallel tests never interfere. Dropping it (or
/// [`shutdown`](Self::shutdown)) closes the port, so later connections are refused.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use cometchat_fake::FakeCometChat;
///
/// let cc = FakeCometChat::start().await;
/// let client = reqwest::Client::new();
/// let created: serde_json::Value = client
///     .post(format!("{}/users", cc.base_url()))
///     .header("apikey", cc.api_key())
///     .json(&serde_json::json!({"uid": "alice", "name": "Alice", "withAuthToken": true}))
///     .send().await.unwrap()
///     .json().await.unwrap();
/// assert_eq!(created["data"]["uid"], "alice");
/// assert_eq!(cc.tokens("alice").len(), 1);
/// assert_eq!(cc.count("POST /users"), 1);
/// cc.shutdown().await;
/// # }
/// ```
pub struct FakeCometChat {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Sets up a [`FakeCometChat`] before starting it.
#[derive(Debug, Clone)]
pub struct FakeBuilder {
    settings: Settings,
    seed: Vec<FakeUser>,
}

/// Why a fake could not start.
#[derive(Debug)]
pub struct StartError(std::io::Error);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the fake CometChat server could not listen: {}", self.0)
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl Default for FakeBuilder {
    fn default() -> Self {
        Self {
            settings: Settings {
                app_id: "fakeapp".to_owned(),
                region: "us".to_owned(),
                api_key: format!("{:040x}", rand::random::<u128>()),
                strict: false,
                rate_limit_per_minute: None,
            },
            seed: Vec::new(),
        }
    }
}

impl FakeBuilder {
    /// The app id (default `fakeapp`).
    #[must_use]
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.settings.app_id = app_id.into();
        self
    }

    /// The region reported to SDKs (default `us`).
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.settings.region = region.into();
        self
    }

    /// The REST API key the fake accepts (default: 40 random hex characters).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.settings.api_key = key.into();
        self
    }

    /// Strict mode: requests no route matches are recorded as unexpected, for
    /// [`FakeCometChat::assert_no_unexpected`].
    #[must_use]
    pub fn strict(mut self, strict: bool) -> Self {
        self.settings.strict = strict;
        self
    }

    /// Answers `429 ERR_TOO_MANY_REQUESTS` with `Retry-After` once this many API requests came in
    /// within a minute.
    #[must_use]
    pub fn rate_limit_per_minute(mut self, limit: u64) -> Self {
        self.settings.rate_limit_per_minute = Some(limit);
        self
    }

    /// A user that exists from the start.
    #[must_use]
    pub fn seed_user(mut self, user: FakeUser) -> Self {
        self.seed.push(user);
        self
    }

    /// Listens on `127.0.0.1:0`.
    pub async fn start(self) -> Result<FakeCometChat, StartError> {
        self.start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Listens on the given address.
    pub async fn start_on(self, addr: SocketAddr) -> Result<FakeCometChat, StartError> {
        let listener = TcpListener::bind(addr).await.map_err(StartError)?;
        let addr = listener.local_addr().map_err(StartError)?;
        let shared = self.into_shared();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, shared.clone(), stopped));
        Ok(FakeCometChat {
            shared,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// A fake without a socket: a tower `Service` for `oneshot`-style tests.
    pub fn service(self) -> FakeService {
        FakeService {
            shared: self.into_shared(),
        }
    }

    fn into_shared(self) -> Arc<Shared> {
        let shared = Shared::new(self.settings);
        {
            let mut state = shared.lock();
            for user in self.seed {
                state.store.seed(user);
            }
        }
        shared
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { answer(&shared, req).await }
                    });
                    // A connection error (e.g. a scripted close) ends only this connection.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// The error a scripted [`Fault::Close`] raises to drop the connection without a response.
#[derive(Debug)]
pub struct ConnectionClosed;

impl std::fmt::Display for ConnectionClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed without a response (scripted fault)")
    }
}

impl std::error::Error for ConnectionClosed {}

async fn answer<B>(
    shared: &Shared,
    req: Request<B>,
) -> Result<Response<Full<Bytes>>, ConnectionClosed>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = req.into_parts();
    let body = Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .ok()
        .map(|c| c.to_bytes());
    let incoming = Incoming {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts.headers,
        body,
    };
    match handle(shared, incoming).await {
        Outcome::Respond(response) => Ok(response),
        Outcome::Close => Err(ConnectionClosed),
        Outcome::Hang => std::future::pending().await,
    }
}

impl FakeCometChat {
    /// Starts a fake with defaults on `127.0.0.1:0`.
    ///
    /// # Panics
    /// If no loopback port can be bound (a broken test machine); use
    /// [`builder`](Self::builder)`().start()` to handle that as an error.
    pub async fn start() -> Self {
        match Self::builder().start().await {
            Ok(fake) => fake,
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts setting up a fake.
    pub fn builder() -> FakeBuilder {
        FakeBuilder::default()
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The REST API base, e.g. `http://127.0.0.1:41234/v3` (what `COMETCHAT_API_BASE` takes).
    pub fn base_url(&self) -> String {
        format!("http://{}/v3", self.addr)
    }

    /// The host and version to give the JS SDK's `overrideAdminHost`/`overrideClientHost`,
    /// e.g. `127.0.0.1:41234/v3`.
    pub fn sdk_host(&self) -> String {
        format!("{}/v3", self.addr)
    }

    /// The app id.
    pub fn app_id(&self) -> &str {
        &self.shared.settings.app_id
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.shared.settings.region
    }

    /// The REST API key it accepts.
    pub fn api_key(&self) -> &str {
        &self.shared.settings.api_key
    }

    /// Stops serving and closes the port; waits until it is closed.
    pub async fn shutdown(mut self) {
        self.stop_now();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Every user (deactivated ones too), oldest first.
    pub fn users(&self) -> Vec<FakeUser> {
        self.shared.lock().store.users()
    }

    /// One user, if it exists (deactivated or not).
    pub fn user(&self, uid: &str) -> Option<FakeUser> {
        let uid = uid.to_ascii_lowercase();
        self.users().into_iter().find(|u| u.uid == uid)
    }

    /// The user's valid auth tokens, newest first.
    pub fn tokens(&self, uid: &str) -> Vec<String> {
        self.shared.lock().store.tokens(uid)
    }

    /// Adds (or replaces) a user.
    pub fn seed_user(&self, user: FakeUser) {
        self.shared.lock().store.seed(user);
    }

    /// Forgets users, tokens, the journal and every fault script.
    pub fn reset(&self) {
        *self.shared.lock() = Default::default();
    }

    /// Every request so far, in arrival order.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.shared.lock().journal.clone()
    }

    /// The requests that match `filter`.
    pub fn requests_where(&self, filter: impl Fn(&JournalEntry) -> bool) -> Vec<JournalEntry> {
        self.journal().into_iter().filter(|e| filter(e)).collect()
    }

    /// The requests to one route, e.g. `"POST /users/{uid}/auth_tokens"`.
    pub fn requests_to(&self, route: &str) -> Vec<JournalEntry> {
        let route = normalise_route(route).unwrap_or_default();
        self.requests_where(|e| e.route.as_deref() == Some(route.as_str()))
    }

    /// How many requests reached one route.
    pub fn count(&self, route: &str) -> usize {
        self.requests_to(route).len()
    }

    /// Request counts per route template (`"<unmatched>"` for requests no route matched).
    pub fn route_counts(&self) -> BTreeMap<String, usize> {
        route_counts(&self.journal())
    }

    /// The requests no route matched (recorded whether or not strict mode is on).
    pub fn unexpected(&self) -> Vec<JournalEntry> {
        self.requests_where(|e| e.unexpected)
    }

    /// # Panics
    /// In strict mode, if any request matched no route (listing them).
    pub fn assert_no_unexpected(&self) {
        let unexpected = self.unexpected();
        if self.shared.settings.strict && !unexpected.is_empty() {
            let list: Vec<String> = unexpected
                .iter()
                .map(|e| format!("{} {}", e.method, e.path))
                .collect();
            panic!("the fake received unexpected requests: {list:?}");
        }
    }

    /// # Panics
    /// If `secret` appears in any response the fake gave (bodies; never in headers it sets).
    pub fn assert_secret_never_sent(&self, secret: &str) {
        let leaks: Vec<String> = self
            .requests_where(|e| e.response_contains(secret))
            .iter()
            .map(|e| format!("{} {}", e.method, e.path))
            .collect();
        assert!(
            leaks.is_empty(),
            "a secret appeared in the fake's responses to: {leaks:?}"
        );
    }

    /// Queues faults for one route (method and path template without the version prefix, e.g.
    /// `"POST /users/{uid}/auth_tokens"`), consumed in order by the next requests to it.
    ///
    /// # Panics
    /// If the route is not a method followed by a path.
    pub fn push_faults(&self, route: &str, faults: impl IntoIterator<Item = Fault>) {
        let route = normalise_route(route).unwrap_or_else(|e| panic!("{e}"));
        self.shared.lock().faults.push(route, faults);
    }

    /// A tower `Service` answering like this fake, sharing its state and journal.
    pub fn service(&self) -> FakeService {
        FakeService {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for FakeCometChat {
    fn drop(&mut self) {
        self.stop_now();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for FakeCometChat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCometChat")
            .field("addr", &self.addr)
            .field("app_id", &self.shared.settings.app_id)
            .finish_non_exhaustive()
    }
}

/// The fake as a tower `Service`, without a socket.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use cometchat_fake::FakeCometChat;
/// use tower::ServiceExt;
///
/// let service = FakeCometChat::builder().api_key("k").service();
/// let request = http::Request::get("/v3/users/nobody")
///     .header("apikey", "k")
///     .body(http_body_util::Full::new(bytes::Bytes::new()))
///     .unwrap();
/// let response = service.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), 404);
/// # }
/// ```
#[derive(Clone)]
pub struct FakeService {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FakeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeService").finish_non_exhaustive()
    }
}

impl<B> tower_service::Service<Request<B>> for FakeService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = ConnectionClosed;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let shared = self.shared.clone();
        Box::pin(async move { answer(&shared, req).await })
    }
}
