//! The token lifecycle end to end against `cometchat-fake`: reuse per device, the cap per
//! user, max age and the sweep, rechecks, refresh, revoke, and a failing store. Time is a
//! `ManualClock`, so expiry is tested without waiting.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use cometchat_fake::{FakeCometChat, Fault};
use cometgate::client::TokenValue;
use cometgate::clock::ManualClock;
use cometgate::device::DeviceKey;
use cometgate::endpoint::{Answer, Endpoint};
use cometgate::identity::SimpleRequest;
use cometgate::store::{MemoryStore, Retired, StoreError, TokenStore, TrackedToken};
use cometgate::vend::{Gate, ProblemType, RateLimit, Revoke, TokenPolicy};
use cometgate::{DeviceId, Principal, Uid};
use common::*;
use proptest::prelude::*;
use serde_json::Value;

const DELETE: &str = "DELETE /users/{uid}/auth_tokens/{authToken}";
const FLUSH: &str = "DELETE /users/{uid}/auth_tokens";
const CHECK: &str = "GET /users/{uid}/auth_tokens/{authToken}";
const HOUR: Duration = Duration::from_secs(3_600);

fn policy() -> TokenPolicy {
    TokenPolicy::default()
        .tokens_per_user(3)
        .unwrap()
        .max_age(Some(24 * HOUR))
        .unwrap()
        .recheck(None)
}

fn gate(cc: &FakeCometChat, policy: TokenPolicy, clock: &ManualClock) -> Gate<TestAuth> {
    builder(fake_config(cc))
        .token_policy(policy)
        .clock(clock.clone())
        .per_user_limit(RateLimit::unlimited())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_device_gets_its_token_back_without_a_mint() {
    let cc = FakeCometChat::start().await;
    let clock = ManualClock::starting_now();
    let gate = gate(&cc, policy(), &clock);
    let first = gate.answer_on(&request("good:ada"), "phone-1").await;
    let json = body(&first);
    assert_eq!(json["deviceId"], "phone-1");
    let expires = json["expiresAt"].as_u64().unwrap();
    assert_eq!(expires, clock.unix_seconds_now() + 24 * 3_600);
    let calls = cc.journal().len();

    clock.advance(HOUR);
    let again = gate.answer_on(&request("good:ada"), "phone-1").await;
    assert_eq!(token(&again), token(&first));
    assert_eq!(
        body(&again)["expiresAt"],
        expires,
        "reuse does not extend the max age"
    );
    assert_eq!(cc.journal().len(), calls, "reuse makes no upstream call");

    // Another device of the same user: a token of its own.
    let tablet = gate.answer_on(&request("good:ada"), "tablet").await;
    assert_ne!(token(&tablet), token(&first));
    assert_eq!(cc.tokens("ada").len(), 2);
}

#[tokio::test]
async fn without_a_device_id_the_server_makes_one_and_a_session_id_stands_in() {
    let cc = FakeCometChat::start().await;
    let clock = ManualClock::starting_now();
    let gate = gate(&cc, policy(), &clock);
    let a = body(&gate.answer(&request("good:bea")).await);
    let b = body(&gate.answer(&request("good:bea")).await);
    let (da, db) = (
        a["deviceId"].as_str().unwrap(),
        b["deviceId"].as_str().unwrap(),
    );
    assert!(DeviceId::parse(da).is_ok());
    assert_ne!(da, db, "each request without an id is a new device");
    // The generated id works like any other afterwards.
    let again = gate.answer_on(&request("good:bea"), da).await;
    assert_eq!(body(&again)["authToken"], a["authToken"]);

    // An identity's session id is the device when the request names none.
    let principal = Principal::new("test", "cy").with_session_id("sess_2abc");
    let mut call = Endpoint::new(gate.clone())
        .route(&SimpleRequest::post("/cometchat-token"))
        .unwrap();
    call.identified(Ok(principal));
    let answer = call
        .answer(cometgate::endpoint::BodyRead::Complete("".into()))
        .await;
    assert_eq!(body(&answer)["deviceId"], "sess_2abc");
}

#[tokio::test]
async fn invalid_bodies_are_400_without_an_upstream_call() {
    let cc = FakeCometChat::start().await;
    let gate = gate(&cc, policy(), &ManualClock::starting_now());
    for bad in [
        r#"{"deviceId": ""}"#,
        r#"{"deviceId": "has space"}"#,
        r#"{"deviceId": "ü"}"#,
        r#"{"deviceID": "typo"}"#,
        r#"{"deviceId": 12}"#,
        "not json",
    ] {
        let answer = gate.answer_with(&request("good:dan"), bad.to_owned()).await;
        assert_eq!(answer.status(), 400, "{bad}");
        assert_eq!(problem_type(&answer), Some(ProblemType::BadRequest));
        let long = "x".repeat(129);
        let too_long = gate
            .answer_with(&request("good:dan"), format!(r#"{{"deviceId": "{long}"}}"#))
            .await;
        assert_eq!(too_long.status(), 400);
    }
    for bad in [
        "",
        "{}",
        r#"{"all": false}"#,
        r#"{"deviceId": "a", "all": true}"#,
    ] {
        assert_eq!(revoke(&gate, "good:dan", bad).await.status(), 400, "{bad}");
    }
    assert!(cc.journal().is_empty(), "{:?}", cc.route_counts());
}

#[tokio::test]
async fn past_the_cap_the_least_recently_used_device_is_logged_out_first() {
    let cc = FakeCometChat::start().await;
    let gate = gate(&cc, policy(), &ManualClock::starting_now());
    let mut tokens = HashMap::new();
    for device in ["a", "b", "c"] {
        tokens.insert(
            device,
            token(&gate.answer_on(&request("good:eve"), device).await),
        );
    }
    // "a" is used again: "b" is now the least recently used.
    gate.answer_on(&request("good:eve"), "a").await;
    let d = token(&gate.answer_on(&request("good:eve"), "d").await);
    let mut live = cc.tokens("eve");
    live.sort();
    let mut want = vec![tokens["a"].clone(), tokens["c"].clone(), d];
    want.sort();
    assert_eq!(live, want, "b's token was deleted before the answer");
    assert_eq!(cc.count(DELETE), 1);
    // b comes back: a new token, and now c (least recently used) goes.
    let b = token(&gate.answer_on(&request("good:eve"), "b").await);
    assert_ne!(b, tokens["b"]);
    assert!(!cc.tokens("eve").contains(&tokens["c"]));
    assert_eq!(cc.tokens("eve").len(), 3);
}

#[tokio::test]
async fn expired_tokens_are_replaced_and_swept_even_for_devices_that_never_return() {
    let cc = FakeCometChat::start().await;
    let clock = ManualClock::starting_now();
    let gate = gate(&cc, policy(), &clock);
    let old = token(&gate.answer_on(&request("good:fay"), "phone").await);
    let gone = token(&gate.answer_on(&request("good:fay"), "lost-tablet").await);

    clock.advance(25 * HOUR);
    let new = token(&gate.answer_on(&request("good:fay"), "phone").await);
    assert_ne!(new, old);
    assert!(
        !cc.tokens("fay").contains(&old),
        "the expired token is deleted"
    );
    assert!(cc.tokens("fay").contains(&gone), "not swept yet");

    let report = gate.sweep().await;
    assert_eq!((report.deleted, report.deferred), (1, 0));
    assert_eq!(cc.tokens("fay"), vec![new]);
    assert_eq!(gate.sweep().await.deleted, 0, "nothing left to sweep");
}

#[tokio::test]
async fn a_token_flushed_elsewhere_is_replaced_after_a_recheck() {
    let cc = FakeCometChat::start().await;
    let clock = ManualClock::starting_now();
    let gate = gate(&cc, policy().recheck(Some(Duration::from_secs(60))), &clock);
    let first = token(&gate.answer_on(&request("good:gus"), "phone").await);
    // Within the window: no check.
    clock.advance(Duration::from_secs(30));
    assert_eq!(
        token(&gate.answer_on(&request("good:gus"), "phone").await),
        first
    );
    assert_eq!(cc.count(CHECK), 0);
    // Past it: checked once, still valid, window restarts.
    clock.advance(Duration::from_secs(31));
    assert_eq!(
        token(&gate.answer_on(&request("good:gus"), "phone").await),
        first
    );
    assert_eq!(cc.count(CHECK), 1);
    assert_eq!(
        token(&gate.answer_on(&request("good:gus"), "phone").await),
        first
    );
    assert_eq!(cc.count(CHECK), 1);

    // Flushed from the dashboard: the next check finds it gone and mints.
    let uid = Uid::parse("gus").unwrap();
    gate.client().flush_auth_tokens(&uid).await.unwrap();
    clock.advance(Duration::from_secs(61));
    let second = token(&gate.answer_on(&request("good:gus"), "phone").await);
    assert_ne!(second, first);
    assert_eq!(cc.tokens("gus"), vec![second]);
    assert_eq!(
        cc.count(DELETE),
        0,
        "a token already gone is not deleted again"
    );
}

#[tokio::test]
async fn refresh_mints_a_new_token_and_deletes_the_old_one_first() {
    let cc = FakeCometChat::start().await;
    let gate = gate(&cc, policy(), &ManualClock::starting_now());
    let old = token(&gate.answer_on(&request("good:hal"), "phone").await);
    let refreshed = gate
        .answer_with(
            &request("good:hal"),
            r#"{"deviceId": "phone", "refresh": true}"#.to_owned(),
        )
        .await;
    let new = token(&refreshed);
    assert_ne!(new, old);
    assert_eq!(cc.tokens("hal"), vec![new.clone()]);
    // And it is the one the device gets from now on.
    assert_eq!(
        token(&gate.answer_on(&request("good:hal"), "phone").await),
        new
    );
}

#[tokio::test]
async fn revoke_logs_out_one_device_or_all_and_is_idempotent() {
    let cc = FakeCometChat::start().await;
    let gate = gate(&cc, policy(), &ManualClock::starting_now());
    let phone = token(&gate.answer_on(&request("good:ivy"), "phone").await);
    let laptop = token(&gate.answer_on(&request("good:ivy"), "laptop").await);

    let answer = revoke(&gate, "good:ivy", r#"{"deviceId": "phone"}"#).await;
    assert_eq!(answer.status(), 204, "{answer:?}");
    assert!(answer.body().is_empty());
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(cc.tokens("ivy"), vec![laptop.clone()]);
    let deletes = cc.count(DELETE);
    let again = revoke(&gate, "good:ivy", r#"{"deviceId": "phone"}"#).await;
    assert_eq!(again.status(), 204);
    assert_eq!(cc.count(DELETE), deletes, "an unknown device costs no call");
    // The phone signs in again: a new token, not the revoked one.
    let back = token(&gate.answer_on(&request("good:ivy"), "phone").await);
    assert_ne!(back, phone);

    assert_eq!(
        revoke(&gate, "good:ivy", r#"{"all": true}"#).await.status(),
        204
    );
    assert!(cc.tokens("ivy").is_empty());
    assert_eq!(cc.count(FLUSH), 1);
    let laptop_again = token(&gate.answer_on(&request("good:ivy"), "laptop").await);
    assert_ne!(laptop_again, laptop, "the store forgot every device");
    // A user CometChat has never seen: still 204.
    assert_eq!(
        revoke(&gate, "good:nobody", r#"{"all": true}"#)
            .await
            .status(),
        204
    );

    // The same through the Rust call.
    let kept = token(&gate.answer_on(&request("good:ivy"), "watch").await);
    let ivy = Principal::new("test", "ivy");
    let watch = DeviceId::parse("watch").unwrap();
    gate.revoke(&ivy, Revoke::Device(watch)).await.unwrap();
    assert!(!cc.tokens("ivy").contains(&kept));

    // Unauthenticated: 401 and nothing happens.
    let before = cc.journal().len();
    let bare = Endpoint::new(gate.clone())
        .serve(
            &SimpleRequest::post("/cometchat-token/revoke"),
            r#"{"all": true}"#.into(),
        )
        .unwrap()
        .await;
    assert_eq!(bare.status(), 401);
    assert_eq!(cc.journal().len(), before);
}

#[tokio::test]
async fn a_failed_delete_is_deferred_and_the_sweep_finishes_it() {
    let cc = FakeCometChat::start().await;
    let gate = gate(&cc, policy(), &ManualClock::starting_now());
    let phone = token(&gate.answer_on(&request("good:jo"), "phone").await);
    // Every attempt of the revoke's delete fails (the client retries 5xx three times).
    cc.push_faults(
        DELETE,
        (0..4).map(|_| Fault::Status {
            status: 500,
            retry_after: None,
        }),
    );
    let answer = revoke(&gate, "good:jo", r#"{"deviceId": "phone"}"#).await;
    assert_eq!(answer.status(), 502, "{answer:?}");
    assert!(cc.tokens("jo").contains(&phone), "still valid at CometChat");
    let report = gate.sweep().await;
    assert_eq!(report.deleted, 1);
    assert!(cc.tokens("jo").is_empty(), "the sweep retried the delete");
}

#[tokio::test]
async fn the_per_user_limit_counts_mints_not_reuse() {
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc))
        .token_policy(policy())
        .per_user_limit(RateLimit::per_minute(1).with_burst(1))
        .build()
        .unwrap();
    let first = token(&gate.answer_on(&request("good:kim"), "phone").await);
    for _ in 0..10 {
        assert_eq!(
            token(&gate.answer_on(&request("good:kim"), "phone").await),
            first
        );
    }
    let other = gate.answer_on(&request("good:kim"), "tablet").await;
    assert_eq!(problem_type(&other), Some(ProblemType::RateLimited));
}

/// A store that can be switched to fail, like an unreachable Redis.
#[derive(Debug, Default)]
struct FlakyStore {
    inner: MemoryStore,
    down: AtomicBool,
}

impl FlakyStore {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::new("test store is down"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl TokenStore for FlakyStore {
    async fn get(
        &self,
        uid: &Uid,
        d: DeviceKey,
        now: u64,
    ) -> Result<Option<TrackedToken>, StoreError> {
        self.check()?;
        self.inner.get(uid, d, now).await
    }
    async fn confirm(
        &self,
        uid: &Uid,
        d: DeviceKey,
        t: &TokenValue,
        at: u64,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.confirm(uid, d, t, at).await
    }
    async fn track(
        &self,
        uid: &Uid,
        d: DeviceKey,
        t: TrackedToken,
        cap: usize,
    ) -> Result<Vec<Retired>, StoreError> {
        self.check()?;
        self.inner.track(uid, d, t, cap).await
    }
    async fn forget(&self, uid: &Uid, d: DeviceKey) -> Result<Option<TokenValue>, StoreError> {
        self.check()?;
        self.inner.forget(uid, d).await
    }
    async fn forget_user(&self, uid: &Uid) -> Result<Vec<TokenValue>, StoreError> {
        self.check()?;
        self.inner.forget_user(uid).await
    }
    async fn take_due(&self, now: u64, limit: usize) -> Result<Vec<Retired>, StoreError> {
        self.check()?;
        self.inner.take_due(now, limit).await
    }
    async fn defer(&self, r: Vec<Retired>) -> Result<(), StoreError> {
        self.check()?;
        self.inner.defer(r).await
    }
}

#[tokio::test]
async fn a_failing_store_is_a_503_and_leaves_no_untracked_token() {
    let cc = FakeCometChat::start().await;
    let store = Arc::new(FlakyStore::default());
    let gate = builder(fake_config(&cc))
        .token_policy(policy())
        .token_store(Arc::clone(&store))
        .build()
        .unwrap();
    let first = token(&gate.answer_on(&request("good:lee"), "phone").await);
    store.down.store(true, Ordering::SeqCst);
    let answer = gate.answer_on(&request("good:lee"), "phone").await;
    assert_eq!(problem_type(&answer), Some(ProblemType::StoreUnavailable));
    assert_eq!(answer.header("retry-after"), Some("1"));
    let fresh = gate.answer_on(&request("good:lee"), "laptop").await;
    assert_eq!(fresh.status(), 503);
    assert_eq!(
        cc.tokens("lee"),
        vec![first],
        "nothing minted is left untracked"
    );
}

// ---------------------------------------------------------------------------------------------
// The lifecycle's promises over random sequences of operations
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Vend { user: usize, device: usize },
    Refresh { user: usize, device: usize },
    Revoke { user: usize, device: usize },
    RevokeAll { user: usize },
    Advance { hours: u64 },
    Sweep,
}

fn op() -> impl Strategy<Value = Op> {
    let (users, devices) = (0..3usize, 0..4usize);
    prop_oneof![
        6 => (users.clone(), devices.clone()).prop_map(|(user, device)| Op::Vend { user, device }),
        1 => (users.clone(), devices.clone()).prop_map(|(user, device)| Op::Refresh { user, device }),
        1 => (users.clone(), devices).prop_map(|(user, device)| Op::Revoke { user, device }),
        1 => users.prop_map(|user| Op::RevokeAll { user }),
        1 => (1..30u64).prop_map(|hours| Op::Advance { hours }),
        1 => Just(Op::Sweep),
    ]
}

struct World {
    rt: tokio::runtime::Runtime,
    cc: FakeCometChat,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let cc = rt.block_on(FakeCometChat::start());
        World { rt, cc }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the sequence: the fake never holds more than the cap of a user's tokens; a
    /// reused token is the one last issued to that (user, device) and still valid; no user ever
    /// gets another's token, whatever device ids they send; a revoked token is gone at the
    /// fake; and so is an expired one once swept.
    #[test]
    fn the_lifecycle_keeps_its_promises(ops in proptest::collection::vec(op(), 1..24)) {
        static CASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let case = CASE.fetch_add(1, Ordering::SeqCst);
        let World { rt, cc } = world();
        let clock = ManualClock::starting_now();
        let cap = 2;
        let gate = gate(cc, policy().tokens_per_user(cap).unwrap(), &clock);
        let users: Vec<String> = (0..3).map(|u| format!("p{case}-u{u}")).collect();
        // The model: the last token issued to (user, device), with its expiry.
        let mut issued: HashMap<(usize, usize), (String, u64)> = HashMap::new();
        let mut dead: Vec<(usize, String)> = Vec::new();
        rt.block_on(async {
            for op in ops {
                match op {
                    Op::Vend { user, device } | Op::Refresh { user, device } => {
                        let refresh = matches!(op, Op::Refresh { .. });
                        let body = format!(r#"{{"deviceId": "dev-{device}", "refresh": {refresh}}}"#);
                        let answer = gate.answer_with(&request(&format!("good:{}", users[user])), body).await;
                        prop_assert_eq!(answer.status(), 200, "{:?}", answer);
                        let json: Value = body_json(&answer);
                        let got = json["authToken"].as_str().unwrap().to_owned();
                        prop_assert_eq!(json["uid"].as_str(), Some(users[user].as_str()));
                        prop_assert!(got.starts_with(&format!("{}_", users[user])), "another user's token");
                        let now = clock.unix_seconds_now();
                        match issued.get(&(user, device)) {
                            Some((last, expires)) if !refresh && now < *expires => {
                                prop_assert_eq!(&got, last, "not the last token of this device");
                            }
                            Some((last, _)) => {
                                prop_assert_ne!(&got, last);
                                dead.push((user, last.clone()));
                            }
                            None => {}
                        }
                        prop_assert!(cc.tokens(&users[user]).contains(&got), "handed out a dead token");
                        issued.insert((user, device), (got, json["expiresAt"].as_u64().unwrap()));
                    }
                    Op::Revoke { user, device } => {
                        let body = format!(r#"{{"deviceId": "dev-{device}"}}"#);
                        let answer = revoke(&gate, &format!("good:{}", users[user]), &body).await;
                        prop_assert_eq!(answer.status(), 204);
                        if let Some((t, _)) = issued.remove(&(user, device)) {
                            dead.push((user, t));
                        }
                    }
                    Op::RevokeAll { user } => {
                        let answer = revoke(&gate, &format!("good:{}", users[user]), r#"{"all": true}"#).await;
                        prop_assert_eq!(answer.status(), 204);
                        prop_assert!(cc.tokens(&users[user]).is_empty());
                        for d in 0..4 {
                            if let Some((t, _)) = issued.remove(&(user, d)) {
                                dead.push((user, t));
                            }
                        }
                    }
                    Op::Advance { hours } => clock.advance(Duration::from_secs(hours * 3_600)),
                    Op::Sweep => {
                        gate.sweep().await;
                        let now = clock.unix_seconds_now();
                        for ((user, _), (t, expires)) in &issued {
                            if now >= *expires {
                                prop_assert!(!cc.tokens(&users[*user]).contains(t), "expired, swept, still valid");
                            }
                        }
                    }
                }
                // Tokens the cap evicted (or the sweep removed) are legitimately gone: their
                // devices get new ones, and they must never come back.
                let gone: Vec<(usize, usize)> = issued
                    .iter()
                    .filter(|((u, _), (t, _))| !cc.tokens(&users[*u]).contains(t))
                    .map(|(k, _)| *k)
                    .collect();
                for k in gone {
                    if let Some((t, _)) = issued.remove(&k) {
                        dead.push((k.0, t));
                    }
                }
                for (u, name) in users.iter().enumerate() {
                    let live = cc.tokens(name);
                    prop_assert!(live.len() <= cap, "{} holds {} tokens", name, live.len());
                    for (du, t) in &dead {
                        if *du == u {
                            prop_assert!(!live.contains(t), "a revoked or replaced token is still valid");
                        }
                    }
                }
            }
            Ok(())
        })?;
    }
}

fn body_json(answer: &Answer) -> Value {
    serde_json::from_slice(answer.body()).unwrap()
}

/// `ManualClock`'s reading, via the trait.
trait Now {
    fn unix_seconds_now(&self) -> u64;
}

impl Now for ManualClock {
    fn unix_seconds_now(&self) -> u64 {
        cometgate::clock::Clock::unix_seconds(self)
    }
}
