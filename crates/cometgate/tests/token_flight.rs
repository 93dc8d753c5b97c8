//! The mint lock and the request deadline, found by a cold review (each test failed before its
//! fix): a waiter that then mints took about twice the deadline (M4), a dead holder blocked the
//! device for three deadlines (M4), a panic mid-mint kept the lock until it ran out (L3), and a
//! deletion landing between a mint and its tracking, or before a waiter reused the holder's
//! token, handed a token out for a deleted account (L2).
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cometchat_fake::{FakeCometChat, Fault};
use cometgate::client::TokenValue;
use cometgate::device::DeviceKey;
use cometgate::retry::RetryPolicy;
use cometgate::store::{
    MemoryAccountStore, MemoryStore, MintLock, Retired, StoreError, TokenStore, TrackedToken,
};
use cometgate::vend::{GateBuilder, ProblemType};
use cometgate::{DeviceId, Uid};
use common::*;
use tokio::sync::oneshot;

/// The deadline of every token request in these tests.
const DEADLINE: Duration = Duration::from_millis(600);
/// What the request may take beyond its deadline (scheduling, the store, loopback HTTP).
const SLACK: Duration = Duration::from_millis(300);
/// The documented bound on a mint lock's life past the deadline (a holder that died).
const MARGIN: Duration = Duration::from_secs(1);

fn gate_builder(cc: &FakeCometChat, store: impl TokenStore) -> GateBuilder<TestAuth> {
    builder(fake_config(cc))
        .retry_policy(
            RetryPolicy::builder()
                .initial_delay(Duration::from_millis(10))
                .jitter(0.0)
                .deadline(DEADLINE)
                .build(),
        )
        .token_store(store)
}

/// A track paused between the mint and the store: the test runs a deletion in the gap.
type Pause = (oneshot::Sender<()>, oneshot::Receiver<()>);

/// A [`MemoryStore`] with hooks: the lock ttls asked for, a track that panics once, a track
/// that pauses once.
#[derive(Default)]
struct Hooked {
    inner: Arc<MemoryStore>,
    ttls: Mutex<Vec<Duration>>,
    panic_in_track: AtomicBool,
    pause_track: Mutex<Option<Pause>>,
}

impl std::fmt::Debug for Hooked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hooked")
    }
}

impl Hooked {
    /// A hooked store over a new memory store, and a gate on it.
    fn with_gate(cc: &FakeCometChat) -> (Arc<Self>, cometgate::Gate<TestAuth>) {
        let hooked = Arc::new(Self::default());
        let gate = gate_builder(cc, hooked.clone()).build().unwrap();
        (hooked, gate)
    }

    /// The next track tells `reached`, then waits for `go`.
    fn pause_next_track(&self) -> (oneshot::Receiver<()>, oneshot::Sender<()>) {
        let (reached_tx, reached_rx) = oneshot::channel();
        let (go_tx, go_rx) = oneshot::channel();
        *self.pause_track.lock().unwrap() = Some((reached_tx, go_rx));
        (reached_rx, go_tx)
    }
}

#[async_trait]
impl TokenStore for Hooked {
    async fn get(&self, u: &Uid, d: DeviceKey, n: u64) -> Result<Option<TrackedToken>, StoreError> {
        self.inner.get(u, d, n).await
    }
    async fn confirm(
        &self,
        u: &Uid,
        d: DeviceKey,
        t: &TokenValue,
        a: u64,
    ) -> Result<bool, StoreError> {
        self.inner.confirm(u, d, t, a).await
    }
    async fn track(
        &self,
        u: &Uid,
        d: DeviceKey,
        t: TrackedToken,
        c: usize,
    ) -> Result<Vec<Retired>, StoreError> {
        if self.panic_in_track.swap(false, Ordering::SeqCst) {
            panic!("a store that panics mid-mint (test)");
        }
        let pause = self.pause_track.lock().unwrap().take();
        if let Some((reached, go)) = pause {
            let _ = reached.send(());
            let _ = go.await;
        }
        self.inner.track(u, d, t, c).await
    }
    async fn forget(&self, u: &Uid, d: DeviceKey) -> Result<Option<TokenValue>, StoreError> {
        self.inner.forget(u, d).await
    }
    async fn forget_user(&self, u: &Uid) -> Result<Vec<TokenValue>, StoreError> {
        self.inner.forget_user(u).await
    }
    async fn take_due(&self, n: u64, l: usize) -> Result<Vec<Retired>, StoreError> {
        self.inner.take_due(n, l).await
    }
    async fn defer(&self, r: Vec<Retired>) -> Result<(), StoreError> {
        self.inner.defer(r).await
    }
    async fn lock_mint(
        &self,
        u: &Uid,
        d: DeviceKey,
        ttl: Duration,
    ) -> Result<Option<MintLock>, StoreError> {
        self.ttls.lock().unwrap().push(ttl);
        self.inner.lock_mint(u, d, ttl).await
    }
    async fn unlock_mint(&self, u: &Uid, d: DeviceKey, l: &MintLock) -> Result<(), StoreError> {
        self.inner.unlock_mint(u, d, l).await
    }
}

fn uid(s: &str) -> Uid {
    Uid::parse(s).unwrap()
}

fn device(s: &str) -> DeviceKey {
    DeviceId::parse(s).unwrap().key()
}

/// M4: gate A's mint stalls at CometChat; gate B (sharing the store) asks for the same device
/// meanwhile. B waited a whole deadline for A's lock, then minted with a deadline of its own:
/// about twice the deadline. Both must answer within one deadline (plus slack).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m4_a_waiter_and_its_own_mint_share_one_deadline() {
    let cc = fake_with_user("ada").await;
    let store = Arc::new(MemoryStore::new());
    let a = gate_builder(&cc, store.clone()).build().unwrap();
    let b = gate_builder(&cc, store.clone()).build().unwrap();
    cc.push_faults(MINT, [Fault::Hang, Fault::Hang]);
    let timed = |gate: cometgate::Gate<TestAuth>| {
        tokio::spawn(async move {
            let started = Instant::now();
            let answer = gate.answer_on(&request("good:ada"), "phone").await;
            (answer, started.elapsed())
        })
    };
    let first = timed(a);
    tokio::time::sleep(Duration::from_millis(50)).await; // A holds the lock
    let second = timed(b);
    let (first, first_took) = first.await.unwrap();
    let (second, second_took) = second.await.unwrap();
    assert_eq!(first.status(), 504, "{first:?}");
    assert!(
        matches!(second.status(), 503 | 504),
        "B gives up: {second:?}"
    );
    for (name, took) in [("A", first_took), ("B", second_took)] {
        assert!(
            took <= DEADLINE + SLACK,
            "{name} answered after {took:?}, past the deadline {DEADLINE:?} + {SLACK:?}"
        );
    }
}

/// M4: a holder that died (took the lock, never released it) blocked the device for the lock's
/// ttl, three deadlines, and each waiter spent a whole deadline before a 504. Now the gate's
/// lock lives at most deadline + 1 s, a waiter answers 503 with Retry-After at its deadline,
/// and the device mints again once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m4_a_dead_holder_blocks_the_device_for_at_most_deadline_plus_margin() {
    let cc = fake_with_user("bo").await;
    let (hooked, gate) = Hooked::with_gate(&cc);
    // The ttl this gate puts on its lock: what a gate killed mid-mint leaves behind.
    token(&gate.answer_on(&request("good:bo"), "laptop").await);
    let ttl = hooked.ttls.lock().unwrap()[0];
    assert!(
        ttl <= DEADLINE + MARGIN,
        "a dead holder's lock lives {ttl:?}, over the bound {:?}",
        DEADLINE + MARGIN
    );

    let died_at = Instant::now();
    let held = hooked
        .inner
        .lock_mint(&uid("bo"), device("tablet"), ttl)
        .await
        .unwrap();
    assert!(held.is_some(), "the dead holder took the lock");
    let waited = Instant::now();
    let answer = gate.answer_on(&request("good:bo"), "tablet").await;
    let took = waited.elapsed();
    assert_eq!(answer.status(), 503, "{answer:?}");
    assert_eq!(problem_type(&answer), Some(ProblemType::MintPending));
    let retry: u64 = header(&answer, "retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    assert!(
        took <= DEADLINE + SLACK,
        "the waiter answered after {took:?}"
    );

    // Retrying as told: the device mints once the dead holder's lock is gone.
    let minted = loop {
        let answer = gate.answer_on(&request("good:bo"), "tablet").await;
        if answer.status() == 200 {
            break died_at.elapsed();
        }
        assert_eq!(answer.status(), 503, "{answer:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        minted <= DEADLINE + MARGIN + SLACK,
        "the device was blocked {minted:?} by a dead holder"
    );
}

/// L3: a panic between lock and unlock (here: in the store's track) left the lock held until
/// its ttl: the next request for the device waited a whole deadline and failed. A guard now
/// releases it when the mint's task unwinds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l3_a_panic_mid_mint_releases_the_mint_lock() {
    let cc = fake_with_user("cy").await;
    let (hooked, gate) = Hooked::with_gate(&cc);
    hooked.panic_in_track.store(true, Ordering::SeqCst);
    let panicked = gate.answer_on(&request("good:cy"), "phone").await;
    assert_eq!(panicked.status(), 502, "the task panicked: {panicked:?}");
    assert_eq!(problem_type(&panicked), Some(ProblemType::UpstreamFailure));

    let started = Instant::now();
    let next = gate.answer_on(&request("good:cy"), "phone").await;
    let took = started.elapsed();
    assert_eq!(next.status(), 200, "{next:?}");
    assert!(
        took < DEADLINE / 2,
        "the next request waited {took:?} for a lock nobody held"
    );
}

/// Two gates sharing one token store and one account store (replicas); the first one's store
/// is hooked.
fn replicas(
    cc: &FakeCometChat,
) -> (
    Arc<Hooked>,
    cometgate::Gate<TestAuth>,
    cometgate::Gate<TestAuth>,
) {
    let accounts = Arc::new(MemoryAccountStore::new());
    let hooked = Arc::new(Hooked::default());
    let a = gate_builder(cc, hooked.clone())
        .account_store(Arc::clone(&accounts))
        .build()
        .unwrap();
    let b = gate_builder(cc, hooked.inner.clone())
        .account_store(accounts)
        .build()
        .unwrap();
    (hooked, a, b)
}

/// L2: replica B deletes the account (tombstone, forget and flush every token, delete the
/// user) while replica A has minted but not yet tracked: A tracked the fresh token and handed
/// it out for a deleted account. A now looks at the tombstone again after tracking, takes the
/// token back and refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn l2_a_deletion_between_mint_and_track_is_refused_and_revoked() {
    let cc = fake_with_user("dee").await;
    let (hooked, a, b) = replicas(&cc);
    let (reached, go) = hooked.pause_next_track();
    let asking = tokio::spawn(a.answer_on(&request("good:dee"), "phone"));
    reached.await.unwrap(); // minted at CometChat, not tracked yet
    b.delete_user(&uid("dee")).await.unwrap();
    go.send(()).unwrap();
    let answer = asking.await.unwrap();
    assert_eq!(
        answer.status(),
        403,
        "a token for a deleted account: {answer:?}"
    );
    assert_eq!(problem_type(&answer), Some(ProblemType::AccountDeleted));
    let now = u64::MAX / 2;
    assert_eq!(
        hooked
            .inner
            .get(&uid("dee"), device("phone"), now)
            .await
            .unwrap(),
        None,
        "the store keeps no token of the deleted account"
    );
    assert!(cc.tokens("dee").is_empty(), "{:?}", cc.tokens("dee"));
}

/// L2: a waiter for another replica's lock reused the token that replica tracked, even though
/// the account was deleted meanwhile (the deletion's forget not yet done). It now looks at the
/// tombstone before handing it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn l2_a_waiter_does_not_reuse_a_token_of_an_account_deleted_meanwhile() {
    let cc = fake_with_user("eve").await;
    let (hooked, a, b) = replicas(&cc);
    let (ev, phone) = (uid("eve"), device("phone"));
    // Another replica holds the device's lock: A waits for its token.
    let held = hooked
        .inner
        .lock_mint(&ev, phone, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(held.is_some());
    let asking = tokio::spawn(a.answer_on(&request("good:eve"), "phone"));
    tokio::time::sleep(Duration::from_millis(50)).await; // A is waiting
    b.delete_user(&ev).await.unwrap();
    // The holder's token lands in the store after the tombstone (its forget still to come).
    let tracked = TrackedToken {
        token: TokenValue::new("holder-token-of-a-deleted-account"),
        minted_at: 0,
        expires_at: None,
        confirmed_at: 0,
    };
    hooked.inner.track(&ev, phone, tracked, 10).await.unwrap();
    let answer = asking.await.unwrap();
    assert_eq!(answer.status(), 403, "{answer:?}");
    assert_eq!(problem_type(&answer), Some(ProblemType::AccountDeleted));
}
