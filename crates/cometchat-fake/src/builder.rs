//! Setting up a fake before it starts.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::fake::FakeCometChat;
use crate::fake_user::FakeUser;
use crate::journal::DEFAULT_JOURNAL_CAPACITY;
use crate::server::FakeService;
use crate::state::{Settings, Shared};

/// Sets up a [`FakeCometChat`] before starting it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use cometchat_fake::{FakeCometChat, FakeUser};
///
/// let cc = FakeCometChat::builder()
///     .app_id("demo")
///     .api_key("rest-api-key")
///     .auth_key("auth-key")
///     .journal_capacity(100)
///     .seed_user(FakeUser::new("alice", "Alice"))
///     .start()
///     .await
///     .unwrap();
/// assert_eq!(cc.app_id(), "demo");
/// assert_eq!(cc.journal_capacity(), 100);
/// assert!(cc.user("alice").is_some());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct FakeBuilder {
    settings: Settings,
    seed: Vec<FakeUser>,
}

/// Why a fake could not start.
#[derive(Debug, thiserror::Error)]
#[error("the fake CometChat server could not listen: {0}")]
pub struct StartError(#[source] std::io::Error);

impl Default for FakeBuilder {
    fn default() -> Self {
        Self {
            settings: Settings {
                app_id: "fakeapp".to_owned(),
                region: "us".to_owned(),
                api_key: format!("{:040x}", rand::random::<u128>()),
                auth_key: None,
                strict: false,
                rate_limit_per_minute: None,
                journal_capacity: DEFAULT_JOURNAL_CAPACITY,
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

    /// The REST API key the fake accepts, scope `fullAccess` (default: 40 random hex characters).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.settings.api_key = key.into();
        self
    }

    /// An Auth Key the fake also accepts (none by default). Like CometChat's, its scope is
    /// `authOnly`: it may create users (`POST /users`) and auth tokens
    /// (`POST /users/{uid}/auth_tokens`); anything else answers 403 `AUTH_ERR_NO_ACCESS`.
    #[must_use]
    pub fn auth_key(mut self, key: impl Into<String>) -> Self {
        self.settings.auth_key = Some(key.into());
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
    /// within a minute. The `X-RateLimit-*` headers then count down from this limit.
    #[must_use]
    pub fn rate_limit_per_minute(mut self, limit: u64) -> Self {
        self.settings.rate_limit_per_minute = Some(limit);
        self
    }

    /// How many requests the journal keeps: the newest `capacity` (default
    /// [`DEFAULT_JOURNAL_CAPACITY`](crate::DEFAULT_JOURNAL_CAPACITY)); 0 keeps none.
    ///
    /// Counts ([`FakeCometChat::count`]), unexpected requests and the check of the fake's own
    /// keys ([`FakeCometChat::assert_secret_never_sent`]) still cover every request. Methods
    /// that return entries panic when entries they need were dropped (see
    /// [`FakeCometChat::journal`]).
    #[must_use]
    pub fn journal_capacity(mut self, capacity: usize) -> Self {
        self.settings.journal_capacity = capacity;
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
        FakeCometChat::serve(listener, self.into_shared()).map_err(StartError)
    }

    /// A fake without a socket: a tower `Service` for `oneshot`-style tests.
    pub fn service(self) -> FakeService {
        FakeService::new(self.into_shared())
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
