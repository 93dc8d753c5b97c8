//! A running fake: its address and keys, its state, its journal, its fault scripts, stopping it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::builder::FakeBuilder;
use crate::fake_user::FakeUser;
use crate::faults::Fault;
use crate::journal::{JournalEntry, Leaks};
use crate::routes::normalise_route;
use crate::server::{FakeService, accept_loop};
use crate::state::Shared;

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

    /// Serves `listener` in a task of its own.
    pub(crate) fn serve(listener: TcpListener, shared: Arc<Shared>) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, shared.clone(), stopped));
        Ok(Self {
            shared,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
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

    /// The Auth Key (scope `authOnly`) it accepts, if one was set with
    /// [`FakeBuilder::auth_key`].
    pub fn auth_key(&self) -> Option<&str> {
        self.shared.settings.auth_key.as_deref()
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

    /// Forgets users, tokens, the journal (with its counts and dropped entries) and every fault
    /// script.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// The requests the journal holds, in arrival order: every request, unless more came than
    /// its [capacity](FakeBuilder::journal_capacity) — then the newest ones, and
    /// [`journal_dropped`](Self::journal_dropped) says how many are missing.
    ///
    /// The methods that answer for every request ([`count`](Self::count),
    /// [`route_counts`](Self::route_counts), [`assert_no_unexpected`](Self::assert_no_unexpected),
    /// and [`assert_secret_never_sent`](Self::assert_secret_never_sent) for the fake's own keys)
    /// stay exact after entries were dropped. The ones that return entries
    /// ([`requests_to`](Self::requests_to), [`requests_where`](Self::requests_where),
    /// [`unexpected`](Self::unexpected)) panic when an entry they would have to look at was
    /// dropped, rather than answer from part of the journal.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.shared
            .lock()
            .journal
            .entries()
            .iter()
            .cloned()
            .collect()
    }

    /// How many entries the journal holds at most.
    pub fn journal_capacity(&self) -> usize {
        self.shared.settings.journal_capacity
    }

    /// How many requests the journal no longer holds (or, with capacity 0, never kept) since the
    /// start or the last [`reset`](Self::reset).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use cometchat_fake::FakeCometChat;
    ///
    /// let cc = FakeCometChat::builder().journal_capacity(2).start().await.unwrap();
    /// let http = reqwest::Client::new();
    /// for _ in 0..3 {
    ///     let list = http.get(format!("{}/users", cc.base_url())).header("apikey", cc.api_key());
    ///     list.send().await.unwrap();
    /// }
    /// assert_eq!(cc.journal().len(), 2); // the newest two
    /// assert_eq!(cc.journal_dropped(), 1);
    /// assert_eq!(cc.count("GET /users"), 3); // counts cover every request,
    /// cc.assert_secret_never_sent(cc.api_key()); // and so does the check of its own key
    /// # }
    /// ```
    pub fn journal_dropped(&self) -> u64 {
        self.shared.lock().journal.dropped()
    }

    /// The requests that match `filter`.
    ///
    /// # Panics
    /// If the journal dropped any entry (see [`journal`](Self::journal)).
    pub fn requests_where(&self, filter: impl Fn(&JournalEntry) -> bool) -> Vec<JournalEntry> {
        self.refuse_if_dropped("requests_where", self.journal_dropped());
        // The filter runs outside the lock: it may call this fake.
        self.journal().into_iter().filter(|e| filter(e)).collect()
    }

    /// The requests to one route, e.g. `"POST /users/{uid}/auth_tokens"` (none for a route the
    /// fake does not serve).
    ///
    /// # Panics
    /// If the journal dropped a request to that route (see [`journal`](Self::journal)).
    pub fn requests_to(&self, route: &str) -> Vec<JournalEntry> {
        let Ok(route) = normalise_route(route) else {
            return Vec::new();
        };
        let (held, dropped) = {
            let state = self.shared.lock();
            let entries = state.journal.entries().iter();
            let held = entries.filter(|e| e.route.as_deref() == Some(route));
            (held.cloned().collect(), state.journal.dropped_to(route))
        };
        self.refuse_if_dropped(&format!("requests_to({route:?})"), dropped as u64);
        held
    }

    /// How many requests reached one route, whether or not the journal still holds them.
    pub fn count(&self, route: &str) -> usize {
        normalise_route(route).map_or(0, |route| self.shared.lock().journal.count(route))
    }

    /// Request counts per route template (`"<unmatched>"` for requests no route matched),
    /// whether or not the journal still holds them.
    pub fn route_counts(&self) -> BTreeMap<String, usize> {
        self.shared.lock().journal.route_counts().clone()
    }

    /// The requests no route matched (recorded whether or not strict mode is on).
    ///
    /// # Panics
    /// If the journal dropped one of them (see [`journal`](Self::journal)).
    pub fn unexpected(&self) -> Vec<JournalEntry> {
        let (held, total) = {
            let state = self.shared.lock();
            let entries = state.journal.entries().iter();
            let held: Vec<JournalEntry> = entries.filter(|e| e.unexpected).cloned().collect();
            (held, state.journal.unexpected())
        };
        self.refuse_if_dropped("unexpected", total - held.len() as u64);
        held
    }

    /// # Panics
    /// In strict mode, if any request matched no route (listing those the journal holds), even
    /// one the journal has dropped since.
    pub fn assert_no_unexpected(&self) {
        if !self.shared.settings.strict {
            return;
        }
        let (held, total) = {
            let state = self.shared.lock();
            let entries = state.journal.entries().iter();
            let held: Vec<String> = entries
                .filter(|e| e.unexpected)
                .map(JournalEntry::request_line)
                .collect();
            (held, state.journal.unexpected())
        };
        if total == 0 {
            return;
        }
        let more = total - held.len() as u64;
        panic!(
            "the fake received {total} unexpected requests: {held:?}{}",
            and_more(more)
        );
    }

    /// Checks that `secret` appeared in no answer the fake gave (bodies or header values).
    ///
    /// For the fake's own keys ([`api_key`](Self::api_key) and [`auth_key`](Self::auth_key))
    /// every answer since the start (or the last [`reset`](Self::reset)) is checked as it is
    /// recorded, so a leak is found even in an entry the journal has dropped, and even with a
    /// journal capacity of 0. Any other string is checked against the entries the journal holds.
    ///
    /// # Panics
    /// If `secret` appeared in an answer; or if it is not one of the fake's keys and the
    /// journal dropped entries, which could not be checked.
    pub fn assert_secret_never_sent(&self, secret: &str) {
        let leaks = self.shared.lock().journal.leaks(secret);
        match leaks {
            Leaks::None => {}
            Leaks::Found { count, named } => {
                let more = count - named.len() as u64;
                panic!(
                    "a secret appeared in the fake's responses to: {named:?}{}",
                    and_more(more)
                );
            }
            Leaks::Unknown { dropped } => panic!(
                "cannot tell whether the secret was sent: the journal dropped {dropped} entries \
                 (capacity {}), and only the fake's own keys are checked in every answer; \
                 raise FakeBuilder::journal_capacity",
                self.journal_capacity()
            ),
        }
    }

    fn refuse_if_dropped(&self, what: &str, dropped: u64) {
        if dropped > 0 {
            panic!(
                "{what} would need {dropped} requests the fake's journal has dropped (capacity {}); \
                 raise FakeBuilder::journal_capacity, or read journal() for the newest entries",
                self.journal_capacity()
            );
        }
    }

    /// Queues faults for one route (method and path template without the version prefix, e.g.
    /// `"POST /users/{uid}/auth_tokens"`), consumed in order by the next requests to it.
    ///
    /// # Panics
    /// If the route is not one the fake serves (see [`ROUTES`](crate::ROUTES)).
    pub fn push_faults(&self, route: &str, faults: impl IntoIterator<Item = Fault>) {
        let route = normalise_route(route).unwrap_or_else(|e| panic!("{e}"));
        self.shared.lock().faults.push(route, faults);
    }

    /// A tower `Service` answering like this fake, sharing its state and journal.
    pub fn service(&self) -> FakeService {
        FakeService::new(self.shared.clone())
    }
}

fn and_more(more: u64) -> String {
    match more {
        0 => String::new(),
        n => format!(" and {n} more"),
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
