//! Races and failures a cold review found in the token lifecycle, each reproduced here (they
//! failed before the fixes): revoke-all racing a mint, requests and revokes dropped half way,
//! recheck storms, logout refused by the mint limit, deletes that keep failing, a sweeper
//! outliving its runtime, and a recheck racing a refresh.
mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cometchat_fake::{FakeCometChat, Fault};
use cometgate::client::TokenValue;
use cometgate::clock::ManualClock;
use cometgate::device::DeviceKey;
use cometgate::store::{MemoryStore, Retired, StoreError, TokenStore, TrackedToken};
use cometgate::vend::{Gate, RateLimit, Revoke, TokenPolicy};
use cometgate::{Principal, Uid};
use common::*;

const DELETE: &str = "DELETE /users/{uid}/auth_tokens/{authToken}";
const CHECK: &str = "GET /users/{uid}/auth_tokens/{authToken}";
const HOUR: Duration = Duration::from_secs(3_600);

fn policy(cap: usize) -> TokenPolicy {
    TokenPolicy::default()
        .tokens_per_user(cap)
        .unwrap()
        .max_age(Some(24 * HOUR))
        .unwrap()
        .recheck(None)
}

/// A MemoryStore whose forget_user (and confirm, when asked) takes 300 ms (a remote store's latency).
#[derive(Debug, Default)]
struct SlowForgetUser(MemoryStore, std::sync::atomic::AtomicBool);

#[async_trait]
impl TokenStore for SlowForgetUser {
    async fn get(&self, u: &Uid, d: DeviceKey, n: u64) -> Result<Option<TrackedToken>, StoreError> {
        self.0.get(u, d, n).await
    }
    async fn confirm(
        &self,
        u: &Uid,
        d: DeviceKey,
        t: &TokenValue,
        a: u64,
    ) -> Result<bool, StoreError> {
        if self.1.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        self.0.confirm(u, d, t, a).await
    }
    async fn track(
        &self,
        u: &Uid,
        d: DeviceKey,
        t: TrackedToken,
        c: usize,
    ) -> Result<Vec<Retired>, StoreError> {
        self.0.track(u, d, t, c).await
    }
    async fn forget(&self, u: &Uid, d: DeviceKey) -> Result<Option<TokenValue>, StoreError> {
        self.0.forget(u, d).await
    }
    async fn forget_user(&self, u: &Uid) -> Result<Vec<TokenValue>, StoreError> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.0.forget_user(u).await
    }
    async fn take_due(&self, n: u64, l: usize) -> Result<Vec<Retired>, StoreError> {
        self.0.take_due(n, l).await
    }
    async fn defer(&self, r: Vec<Retired>) -> Result<(), StoreError> {
        self.0.defer(r).await
    }
}

/// R1: a mint that lands between the flush and forget_user of a revoke-all is live at
/// CometChat and untracked: no expiry, no cap, a later device revoke is a 204 no-op.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r1_revoke_all_racing_a_mint_leaves_an_untracked_live_token() {
    let cc = FakeCometChat::start().await;
    let store = Arc::new(SlowForgetUser::default());
    let gate = builder(fake_config(&cc))
        .token_policy(policy(3))
        .per_user_limit(RateLimit::unlimited())
        .token_store(Arc::clone(&store))
        .build()
        .unwrap();
    token(&gate.answer_on(&request("good:ann"), "laptop").await);
    let g = gate.clone();
    let logout = tokio::spawn(async move { revoke(&g, "good:ann", r#"{"all": true}"#).await });
    tokio::time::sleep(Duration::from_millis(100)).await; // the flush is done, forget_user is not
    let phone = token(&gate.answer_on(&request("good:ann"), "phone").await);
    assert_eq!(logout.await.unwrap().status(), 204);
    assert_eq!(store.0.len(), 0, "the store forgot the phone's token");
    assert_eq!(
        revoke(&gate, "good:ann", r#"{"deviceId": "phone"}"#)
            .await
            .status(),
        204
    );
    assert!(
        !cc.tokens("ann").contains(&phone),
        "LEAK: the phone's token is live at CometChat, untracked, after logout of that device"
    );
}

/// A gate capped at one device per user, `uid`'s token on device "a", and CometChat's next
/// delete delayed by 500 ms; then `body` (a second device) sent and dropped after 150 ms,
/// during the eviction delete. Returns the fake, the gate and the evicted token.
async fn drop_a_request_during_its_eviction(
    uid: &str,
    body: &str,
) -> (FakeCometChat, Gate<TestAuth>, String) {
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc))
        .token_policy(policy(1))
        .per_user_limit(RateLimit::unlimited())
        .build()
        .unwrap();
    let bearer = format!("good:{uid}");
    let a = token(&gate.answer_on(&request(&bearer), "a").await);
    cc.push_faults(DELETE, [Fault::Delay { ms: 500 }]);
    let dropped = tokio::time::timeout(
        Duration::from_millis(150),
        gate.answer_with(&request(&bearer), body.to_owned()),
    )
    .await;
    assert!(dropped.is_err(), "the client went away");
    (cc, gate, a)
}

/// R2: a request dropped (client disconnect) after its mint tracked the new token but before
/// the eviction delete finished: the evicted token is live, untracked, and over the cap.
#[tokio::test]
async fn r2_a_cancelled_request_leaks_the_evicted_token() {
    let (cc, gate, a) = drop_a_request_during_its_eviction("bo", r#"{"deviceId": "b"}"#).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    gate.sweep().await;
    assert!(
        cc.tokens("bo").len() <= 1,
        "LEAK: cap 1 but {} live tokens ({} evicted, untracked, still valid: {})",
        cc.tokens("bo").len(),
        "a",
        cc.tokens("bo").contains(&a)
    );
}

/// R2 for a request that names no device (the gate makes one up and runs its mint without
/// single-flight): dropped while its eviction delete is under way, the delete still happens,
/// without the sweep.
#[tokio::test]
async fn r2_a_cancelled_request_for_a_new_device_still_deletes_what_it_evicted() {
    let (cc, _gate, a) = drop_a_request_during_its_eviction("dee", "").await;
    assert!(cc.tokens("dee").contains(&a), "the delete is still delayed");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(cc.tokens("dee").len(), 1, "one device, one live token");
    assert!(
        !cc.tokens("dee").contains(&a),
        "the evicted token was deleted"
    );
}

/// R3: a revoke dropped between forget and the upstream delete: the token stays valid and a
/// retried revoke answers 204 without deleting anything.
#[tokio::test]
async fn r3_a_cancelled_revoke_forgets_without_deleting() {
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc))
        .token_policy(policy(3))
        .build()
        .unwrap();
    let phone = token(&gate.answer_on(&request("good:cal"), "phone").await);
    cc.push_faults(DELETE, [Fault::Delay { ms: 500 }]);
    let _ = tokio::time::timeout(
        Duration::from_millis(150),
        revoke(&gate, "good:cal", r#"{"deviceId": "phone"}"#),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        revoke(&gate, "good:cal", r#"{"deviceId": "phone"}"#)
            .await
            .status(),
        204
    );
    gate.sweep().await;
    assert!(
        !cc.tokens("cal").contains(&phone),
        "LEAK: revoked (204) yet valid at CometChat"
    );
}

/// R4: rechecks are neither single-flighted nor charged: one user with one device spends the
/// app-wide budget, and another user's first sign-in is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r4_concurrent_rechecks_spend_the_app_budget() {
    let cc = FakeCometChat::start().await;
    let clock = ManualClock::starting_now();
    let gate = builder(fake_config(&cc))
        .token_policy(policy(3).recheck(Some(Duration::from_secs(60))))
        .clock(clock.clone())
        .per_user_limit(RateLimit::per_minute(1).with_burst(1))
        .upstream_budget(RateLimit::per_minute(20).with_burst(20))
        .build()
        .unwrap();
    token(&gate.answer_on(&request("good:eve"), "phone").await);
    clock.advance(Duration::from_secs(61));
    cc.push_faults(CHECK, (0..40).map(|_| Fault::Delay { ms: 100 }));
    let mut tasks = Vec::new();
    for _ in 0..40 {
        tasks.push(tokio::spawn(gate.answer_on(&request("good:eve"), "phone")));
    }
    for t in tasks {
        let _ = t.await.unwrap();
    }
    let checks = cc.count(CHECK);
    let victim = gate.answer_on(&request("good:vic"), "phone").await;
    assert!(
        checks <= 1,
        "{checks} upstream rechecks for one device from a user limited to 1 mint/min"
    );
    assert_eq!(
        victim.status(),
        200,
        "another user refused: {:?}",
        problem_type(&victim)
    );
}

/// R5: the per-user mint limit also blocks revoke-all, so an app cannot cut a user's access
/// (e.g. after a password reset) right after that user signed in a few times.
#[tokio::test]
async fn r5_revoke_all_is_refused_by_the_mint_limit() {
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc))
        .token_policy(policy(3))
        .per_user_limit(RateLimit::per_minute(1).with_burst(1))
        .build()
        .unwrap();
    token(&gate.answer_on(&request("good:fay"), "phone").await);
    let result = gate
        .revoke(&Principal::new("test", "fay"), Revoke::All)
        .await;
    assert!(
        result.is_ok(),
        "logout-all refused: {:?}",
        result.err().map(|e| e.problem().status())
    );
    assert!(cc.tokens("fay").is_empty());
}

/// R6: deferred deletes that keep failing must not starve expiry: expired tokens are deleted
/// before deferred ones, and a delete CometChat refuses for good (a 4xx) is not retried on
/// every sweep.
#[tokio::test]
async fn r6_deferred_deletes_never_hold_up_expiry() {
    let cc = FakeCometChat::start().await;
    let clock = ManualClock::starting_now();
    let store = Arc::new(MemoryStore::new());
    let gate = builder(fake_config(&cc))
        .token_policy(policy(3))
        .upstream_budget(RateLimit::unlimited())
        .clock(clock.clone())
        .token_store(Arc::clone(&store))
        .build()
        .unwrap();
    let old = token(&gate.answer_on(&request("good:gus"), "phone").await);
    let stuck = |n: usize| -> Vec<Retired> {
        (0..n)
            .map(|i| Retired {
                uid: Uid::parse("gone").unwrap(),
                token: TokenValue::new(format!("gone_{i}")),
                reason: cometgate::store::RetireReason::Evicted,
            })
            .collect()
    };
    store.defer(stuck(300)).await.unwrap();
    clock.advance(25 * HOUR);
    gate.sweep().await;
    assert!(
        !cc.tokens("gus").contains(&old),
        "expired, swept, still valid"
    );
    let deletes = cc.requests_to(DELETE);
    assert!(
        deletes[0].path.contains(&old),
        "the expired token goes first: {}",
        deletes[0].path
    );

    // Refused for good (403): dropped, not retried by the next sweeps.
    store.defer(stuck(5)).await.unwrap();
    cc.push_faults(DELETE, (0..5).map(|_| Fault::status(403)));
    let report = gate.sweep().await;
    assert_eq!(report.deferred, 0, "{report:?}");
    let before = cc.count(DELETE);
    gate.sweep().await;
    assert_eq!(cc.count(DELETE), before, "a refused delete is not retried");
}

/// The background sweep deletes an expired token within 4 s of real time (max age 8 s: a
/// sweep every 2 s), with the first request served on its own short-lived runtime or not.
fn background_sweep_deletes_expired(first_on_a_worker_that_ends: bool) {
    let main = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cc = main.block_on(FakeCometChat::start());
    let clock = ManualClock::starting_now();
    let gate = builder(fake_config(&cc))
        .token_policy(policy(3).max_age(Some(Duration::from_secs(8))).unwrap())
        .clock(clock.clone())
        .build()
        .unwrap();
    let first = gate.answer_on(&request("good:hal"), "phone");
    let old = if first_on_a_worker_that_ends {
        std::thread::spawn(move || {
            let worker = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            token(&worker.block_on(first))
        })
        .join()
        .unwrap()
    } else {
        token(&main.block_on(first))
    };
    clock.advance(Duration::from_secs(60));
    main.block_on(async {
        // Another device keeps the gate busy on the surviving runtime.
        token(&gate.answer_on(&request("good:hal"), "tablet").await);
        tokio::time::sleep(Duration::from_secs(4)).await; // > 2 sweep intervals
    });
    assert!(
        !cc.tokens("hal").contains(&old),
        "expired 52 s ago, never swept"
    );
}

/// R7: the sweeper lived on the runtime of the first request; when that runtime ended (an
/// actix worker restarting, a test runtime) expiry was never swept again.
#[test]
fn r7_the_sweeper_outlives_the_first_runtime() {
    background_sweep_deletes_expired(true);
}

#[test]
fn r7_control_same_runtime_sweeps() {
    background_sweep_deletes_expired(false);
}

/// R9: a recheck that overlaps a refresh hands out the token the refresh just deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r9_a_recheck_racing_a_refresh_hands_out_a_deleted_token() {
    let cc = FakeCometChat::start().await;
    let clock = ManualClock::starting_now();
    let store = Arc::new(SlowForgetUser::default());
    store.1.store(true, std::sync::atomic::Ordering::SeqCst);
    let gate = builder(fake_config(&cc))
        .token_policy(policy(3).recheck(Some(Duration::from_secs(60))))
        .clock(clock.clone())
        .token_store(Arc::clone(&store))
        .per_user_limit(RateLimit::unlimited())
        .build()
        .unwrap();
    token(&gate.answer_on(&request("good:jim"), "phone").await);
    clock.advance(Duration::from_secs(61));
    let reuse = tokio::spawn(gate.answer_on(&request("good:jim"), "phone"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fresh = token(
        &gate
            .answer_with(
                &request("good:jim"),
                r#"{"deviceId":"phone","refresh":true}"#.into(),
            )
            .await,
    );
    let got = token(&reuse.await.unwrap());
    assert!(
        cc.tokens("jim").contains(&got),
        "handed out a token deleted 250 ms earlier (fresh is {})",
        fresh == got
    );
}
