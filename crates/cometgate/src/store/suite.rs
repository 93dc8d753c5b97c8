//! The store suite: the tests every [`TokenStore`] and [`AccountStore`] must pass, written once
//! and run against [`MemoryStore`](super::MemoryStore), [`MemoryAccountStore`](super::MemoryAccountStore) and any other
//! backend (`cometgate-redis` runs it against a real Redis).
//!
//! Enabled by the `store-suite` feature (for a backend's dev-dependencies). Each case is a
//! function taking a factory of *empty* stores, called inside the suite's Tokio runtime; the
//! [`token_store_suite!`](crate::token_store_suite) and
//! [`account_store_suite!`](crate::account_store_suite) macros turn them into one `#[test]`
//! each. The property cases run 256 random sequences of operations against a model.
//!
//! ```
//! # mod hidden {
//! use cometgate::store::{MemoryAccountStore, MemoryStore};
//!
//! cometgate::token_store_suite!(memory_tokens, MemoryStore::new);
//! cometgate::account_store_suite!(memory_accounts, MemoryAccountStore::new);
//! # }
//! ```

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::future::Future;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::client::TokenValue;
use crate::device::{DeviceId, DeviceKey};
use crate::store::{
    AccountRecord, AccountStore, ChangeTime, RetireReason, Retired, TokenStore, TrackedToken,
    Verdict,
};
use crate::uid::Uid;
use crate::webhook::{Profile, UserChange};

/// How many random sequences each property case runs.
pub const CASES: u32 = 256;

/// A time in the range the gate's clock gives (Unix seconds, late 2023).
const T0: u64 = 1_700_000_000;

/// Runs `test` on a fresh Tokio runtime (two workers, so concurrent cases really are).
fn block<T>(test: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the suite's Tokio runtime")
        .block_on(test)
}

fn uid(s: &str) -> Uid {
    Uid::parse(s).expect("a valid UID")
}

fn key(s: &str) -> DeviceKey {
    DeviceId::parse(s).expect("a valid device id").key()
}

/// A token in CometChat's form, `<uid>_<10 digits><30 hex>`, unique per `n`.
fn token(uid: &str, n: u64) -> TokenValue {
    TokenValue::new(format!("{uid}_{T0:010}{n:030x}"))
}

fn tracked(uid: &str, n: u64, at: u64, expires: Option<u64>) -> TrackedToken {
    TrackedToken {
        token: token(uid, n),
        minted_at: at,
        expires_at: expires,
        confirmed_at: at,
    }
}

fn sorted(tokens: impl IntoIterator<Item = TokenValue>) -> Vec<String> {
    let mut all: Vec<String> = tokens.into_iter().map(|t| t.expose().to_owned()).collect();
    all.sort();
    all
}

/// Any kind of user change.
fn user_change() -> impl Strategy<Value = UserChange> {
    prop_oneof![
        Just(UserChange::Created),
        Just(UserChange::Updated),
        Just(UserChange::Deleted)
    ]
}

fn run_property<T: fmt::Debug + Clone>(
    name: &str,
    strategy: impl Strategy<Value = T>,
    test: impl Fn(T) -> Result<(), TestCaseError>,
) {
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    if let Err(failure) = TestRunner::new(config).run(&strategy, test) {
        panic!("{name}: {failure}");
    }
}

/// The [`TokenStore`] cases.
pub mod tokens {
    use super::*;

    /// A tracked token reads back as it was written, marks nothing else, and a max age at the
    /// end of the representable range still reads back as a max age.
    pub fn tracks_and_reads_back<S: TokenStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = fresh();
            let ada = uid("ada");
            assert_eq!(store.get(&ada, key("a"), T0).await.unwrap(), None);
            let t = tracked("ada", 1, T0, Some(T0 + 604_800));
            assert!(
                store
                    .track(&ada, key("a"), t.clone(), 20)
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert_eq!(store.get(&ada, key("a"), T0 + 1).await.unwrap(), Some(t));
            assert_eq!(store.get(&ada, key("b"), T0 + 1).await.unwrap(), None);
            assert_eq!(
                store.get(&uid("bob"), key("a"), T0 + 1).await.unwrap(),
                None
            );
            let far = tracked("ada", 2, T0, Some(u64::from(u32::MAX)));
            store.track(&ada, key("far"), far, 20).await.unwrap();
            let got = store.get(&ada, key("far"), T0).await.unwrap().unwrap();
            assert!(
                got.expires_at.is_some(),
                "a far max age must not read back as none"
            );
        });
    }

    /// Over the cap, the least recently used device (by `get` or `track`) loses its token.
    pub fn the_cap_evicts_the_least_recently_used_device<S: TokenStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = fresh();
            let ada = uid("ada");
            for (i, d) in ["a", "b", "c"].iter().enumerate() {
                let t = tracked("ada", i as u64, T0 + i as u64, None);
                assert!(store.track(&ada, key(d), t, 3).await.unwrap().is_empty());
            }
            // "a" is used again, so "b" is now the least recently used.
            store.get(&ada, key("a"), T0 + 10).await.unwrap().unwrap();
            let retired = store
                .track(&ada, key("d"), tracked("ada", 9, T0 + 20, None), 3)
                .await
                .unwrap();
            assert_eq!(retired.len(), 1);
            assert_eq!(retired[0].reason, RetireReason::Evicted);
            assert_eq!(retired[0].uid, ada);
            assert_eq!(retired[0].token, token("ada", 1));
            assert!(store.get(&ada, key("b"), T0 + 21).await.unwrap().is_none());
            for d in ["a", "c", "d"] {
                assert!(
                    store.get(&ada, key(d), T0 + 21).await.unwrap().is_some(),
                    "{d}"
                );
            }
            // A cap of 0 keeps the device just tracked.
            let retired = store
                .track(&ada, key("e"), tracked("ada", 10, T0 + 30, None), 0)
                .await
                .unwrap();
            assert_eq!(retired.len(), 3);
            assert!(store.get(&ada, key("e"), T0 + 31).await.unwrap().is_some());
        });
    }

    /// A device's new token retires its old one once; tracking the same token again retires
    /// nothing.
    pub fn replacing_retires_the_old_token_once<S: TokenStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = fresh();
            let ada = uid("ada");
            let first = tracked("ada", 1, T0, None);
            store.track(&ada, key("a"), first.clone(), 5).await.unwrap();
            let retired = store
                .track(&ada, key("a"), tracked("ada", 2, T0 + 10, None), 5)
                .await
                .unwrap();
            assert_eq!(retired.len(), 1);
            assert_eq!(
                (retired[0].reason, &retired[0].token),
                (RetireReason::Replaced, &first.token)
            );
            let again = tracked("ada", 2, T0 + 20, Some(T0 + 99));
            let retired = store.track(&ada, key("a"), again.clone(), 5).await.unwrap();
            assert!(retired.is_empty(), "the same token is not retired");
            assert_eq!(
                store.get(&ada, key("a"), T0 + 21).await.unwrap(),
                Some(again)
            );
        });
    }

    /// `take_due` hands out expired tokens first (forgetting them), then deferred ones, each
    /// once, and never more than its limit.
    pub fn take_due_returns_expired_then_deferred<S: TokenStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = fresh();
            let ada = uid("ada");
            for (d, n, expires) in [
                ("a", 1, Some(T0 + 50)),
                ("b", 2, Some(T0 + 150)),
                ("c", 3, None),
            ] {
                store
                    .track(&ada, key(d), tracked("ada", n, T0, expires), 5)
                    .await
                    .unwrap();
            }
            let deferred = Retired {
                uid: ada.clone(),
                token: TokenValue::new("late"),
                reason: RetireReason::Evicted,
            };
            store.defer(vec![deferred.clone()]).await.unwrap();
            assert_eq!(
                store.take_due(T0 + 49, 10).await.unwrap(),
                vec![deferred.clone()]
            );
            store.defer(vec![deferred.clone()]).await.unwrap();
            // Expired first: a deferred delete that keeps failing never holds up expiry.
            let due = store.take_due(T0 + 50, 1).await.unwrap();
            assert_eq!(due.len(), 1);
            assert_eq!(
                (&due[0].uid, &due[0].token, due[0].reason),
                (&ada, &token("ada", 1), RetireReason::Expired)
            );
            assert_eq!(store.take_due(T0 + 50, 10).await.unwrap(), vec![deferred]);
            assert!(store.get(&ada, key("a"), T0 + 51).await.unwrap().is_none());
            assert!(
                store.take_due(T0 + 10_000, 0).await.unwrap().is_empty(),
                "limit 0"
            );
            assert_eq!(store.take_due(T0 + 10_000, 10).await.unwrap().len(), 1);
            assert!(store.take_due(T0 + 10_000, 10).await.unwrap().is_empty());
            assert_eq!(
                store.forget_user(&ada).await.unwrap(),
                vec![token("ada", 3)]
            );
            assert!(store.forget_user(&ada).await.unwrap().is_empty());
        });
    }

    /// A token replaced, forgotten or re-tracked before its max age is not handed out by
    /// `take_due` under its old max age.
    pub fn take_due_skips_tokens_no_longer_tracked<S: TokenStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = fresh();
            let ada = uid("ada");
            store
                .track(&ada, key("a"), tracked("ada", 1, T0, Some(T0 + 10)), 5)
                .await
                .unwrap();
            store
                .track(&ada, key("a"), tracked("ada", 2, T0 + 1, Some(T0 + 100)), 5)
                .await
                .unwrap();
            store
                .track(&ada, key("b"), tracked("ada", 3, T0, Some(T0 + 10)), 5)
                .await
                .unwrap();
            store.forget(&ada, key("b")).await.unwrap();
            store
                .track(&ada, key("c"), tracked("ada", 4, T0, Some(T0 + 10)), 5)
                .await
                .unwrap();
            store
                .track(&ada, key("c"), tracked("ada", 4, T0 + 5, None), 5)
                .await
                .unwrap();
            assert!(store.take_due(T0 + 50, 10).await.unwrap().is_empty());
            let due = store.take_due(T0 + 100, 10).await.unwrap();
            assert_eq!(
                sorted(due.into_iter().map(|r| r.token)),
                sorted([token("ada", 2)])
            );
        });
    }

    /// `confirm` raises the confirmation time only of the very token tracked, never lowers
    /// it, and `forget` returns a device's token once.
    pub fn confirm_only_touches_the_same_token<S: TokenStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = fresh();
            let ada = uid("ada");
            let t = tracked("ada", 1, T0, None);
            store.track(&ada, key("a"), t.clone(), 5).await.unwrap();
            let confirmed = async |store: &S| {
                store
                    .get(&ada, key("a"), T0)
                    .await
                    .unwrap()
                    .unwrap()
                    .confirmed_at
            };
            let other = TokenValue::new("other");
            assert!(
                !store
                    .confirm(&ada, key("a"), &other, T0 + 500)
                    .await
                    .unwrap()
            );
            assert!(
                !store
                    .confirm(&ada, key("b"), &t.token, T0 + 500)
                    .await
                    .unwrap()
            );
            assert_eq!(confirmed(&store).await, T0);
            assert!(
                store
                    .confirm(&ada, key("a"), &t.token, T0 + 500)
                    .await
                    .unwrap()
            );
            assert_eq!(confirmed(&store).await, T0 + 500);
            assert!(
                store
                    .confirm(&ada, key("a"), &t.token, T0 + 100)
                    .await
                    .unwrap()
            );
            assert_eq!(confirmed(&store).await, T0 + 500, "never lowered");
            assert_eq!(
                store.forget(&ada, key("a")).await.unwrap(),
                Some(t.token.clone())
            );
            assert_eq!(store.forget(&ada, key("a")).await.unwrap(), None);
            assert!(
                !store
                    .confirm(&ada, key("a"), &t.token, T0 + 600)
                    .await
                    .unwrap()
            );
        });
    }

    /// One user's devices and another's are apart, though their device ids are the same.
    pub fn users_are_kept_apart<S: TokenStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = fresh();
            let (ada, bob) = (uid("ada"), uid("bob"));
            store
                .track(&ada, key("a"), tracked("ada", 1, T0, None), 1)
                .await
                .unwrap();
            let retired = store
                .track(&bob, key("a"), tracked("bob", 2, T0, None), 1)
                .await
                .unwrap();
            assert!(retired.is_empty(), "bob's cap is bob's");
            assert_eq!(
                store.forget_user(&bob).await.unwrap(),
                vec![token("bob", 2)]
            );
            assert_eq!(
                store
                    .get(&ada, key("a"), T0)
                    .await
                    .unwrap()
                    .map(|t| t.token),
                Some(token("ada", 1))
            );
            assert_eq!(store.forget(&bob, key("a")).await.unwrap(), None);
        });
    }

    /// Many concurrent mints for one user's devices keep the cap: every token ends up either
    /// tracked or retired, exactly once.
    pub fn concurrent_tracks_keep_the_cap<S: TokenStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = std::sync::Arc::new(fresh());
            let ada = uid("ada");
            let cap = 5;
            let tracks = (0..32u64).map(|n| {
                let (store, ada) = (store.clone(), ada.clone());
                tokio::spawn(async move {
                    let device = key(&format!("device-{n}"));
                    store
                        .track(&ada, device, tracked("ada", n, T0 + n, None), cap)
                        .await
                        .unwrap()
                })
            });
            let mut retired = Vec::new();
            for task in futures_util::future::join_all(tracks).await {
                retired.extend(task.expect("no panic"));
            }
            assert!(retired.iter().all(|r| r.reason == RetireReason::Evicted));
            let mut held = Vec::new();
            for n in 0..32u64 {
                if let Some(t) = store
                    .get(&ada, key(&format!("device-{n}")), T0)
                    .await
                    .unwrap()
                {
                    held.push(t.token);
                }
            }
            assert_eq!(held.len(), cap, "the cap holds");
            let mut all = sorted(held.into_iter().chain(retired.into_iter().map(|r| r.token)));
            let count = all.len();
            all.dedup();
            assert_eq!((count, all.len()), (32, 32), "each token once");
        });
    }

    /// The store's `Debug` shows no token it holds.
    pub fn debug_shows_no_token<S: TokenStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = fresh();
            let t = tracked("ada", 0xabcdef, T0, None);
            store
                .track(&uid("ada"), key("a"), t.clone(), 5)
                .await
                .unwrap();
            let shown = format!("{store:?}");
            assert!(!shown.contains("abcdef"), "{shown}");
            assert!(!format!("{t:?}").contains(t.token.expose()));
        });
    }

    const USERS: [&str; 3] = ["ada", "bob", "cy"];
    const DEVICES: [&str; 4] = ["a", "b", "c", "d"];

    /// One step of a random sequence (the `u64` beside it advances the clock).
    #[derive(Debug, Clone)]
    enum Op {
        Get(usize, usize),
        /// `true`: the token the model says is tracked; `false`: one never tracked.
        Confirm(usize, usize, bool),
        Track {
            user: usize,
            device: usize,
            max_age: Option<u64>,
            cap: usize,
            same_token: bool,
        },
        Forget(usize, usize),
        ForgetUser(usize),
        TakeDue(usize),
        Defer(usize, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        let (u, d) = (0..USERS.len(), 0..DEVICES.len());
        prop_oneof![
            3 => (u.clone(), d.clone()).prop_map(|(u, d)| Op::Get(u, d)),
            1 => (u.clone(), d.clone(), any::<bool>()).prop_map(|(u, d, c)| Op::Confirm(u, d, c)),
            4 => (u.clone(), d.clone(), prop::option::of(0..120u64), 0..4usize, prop::bool::weighted(0.2))
                .prop_map(|(user, device, max_age, cap, same_token)| Op::Track { user, device, max_age, cap, same_token }),
            1 => (u.clone(), d).prop_map(|(u, d)| Op::Forget(u, d)),
            1 => u.clone().prop_map(Op::ForgetUser),
            1 => (0..5usize).prop_map(Op::TakeDue),
            1 => (u, 1..3usize).prop_map(|(u, n)| Op::Defer(u, n)),
        ]
    }

    /// What the store should hold: per user, the devices from least to most recently used.
    #[derive(Default)]
    struct Model {
        users: BTreeMap<usize, Vec<(usize, TrackedToken)>>,
        deferred: VecDeque<Retired>,
    }

    impl Model {
        fn find(&mut self, user: usize, device: usize) -> Option<&mut TrackedToken> {
            self.users
                .get_mut(&user)?
                .iter_mut()
                .find(|(d, _)| *d == device)
                .map(|(_, t)| t)
        }

        fn remove(&mut self, user: usize, device: usize) -> Option<TrackedToken> {
            let devices = self.users.get_mut(&user)?;
            let index = devices.iter().position(|(d, _)| *d == device)?;
            Some(devices.remove(index).1)
        }
    }

    fn retired_set(retired: &[Retired]) -> Vec<(String, String, &'static str)> {
        let mut all: Vec<_> = retired
            .iter()
            .map(|r| {
                (
                    r.uid.as_str().to_owned(),
                    r.token.expose().to_owned(),
                    r.reason.as_str(),
                )
            })
            .collect();
        all.sort();
        all
    }

    async fn check<S: TokenStore>(store: &S, ops: Vec<(Op, u64)>) -> Result<(), TestCaseError> {
        let mut model = Model::default();
        let mut now = T0;
        let mut serial = 0;
        for (op, advance) in ops {
            now += advance;
            serial += 1;
            match op {
                Op::Get(u, d) => {
                    let got = store
                        .get(&uid(USERS[u]), key(DEVICES[d]), now)
                        .await
                        .unwrap();
                    let expected = model.remove(u, d);
                    if let Some(t) = &expected {
                        model.users.entry(u).or_default().push((d, t.clone()));
                    }
                    prop_assert_eq!(got, expected, "get {} {}", USERS[u], DEVICES[d]);
                }
                Op::Confirm(u, d, current) => {
                    let tracked = model.find(u, d).map(|t| t.token.clone());
                    let token = match (current, tracked) {
                        (true, Some(token)) => token,
                        _ => TokenValue::new(format!("{}_never", USERS[u])),
                    };
                    let got = store
                        .confirm(&uid(USERS[u]), key(DEVICES[d]), &token, now)
                        .await
                        .unwrap();
                    let expected = match model.find(u, d) {
                        Some(t) if t.token == token => {
                            t.confirmed_at = t.confirmed_at.max(now);
                            true
                        }
                        _ => false,
                    };
                    prop_assert_eq!(got, expected, "confirm");
                }
                Op::Track {
                    user: u,
                    device: d,
                    max_age,
                    cap,
                    same_token,
                } => {
                    let name = USERS[u];
                    let token = match model.find(u, d) {
                        Some(t) if same_token => t.token.clone(),
                        _ => token(name, serial),
                    };
                    let new = TrackedToken {
                        token,
                        minted_at: now,
                        expires_at: max_age.map(|age| now + age),
                        confirmed_at: now,
                    };
                    let got = store
                        .track(&uid(name), key(DEVICES[d]), new.clone(), cap)
                        .await
                        .unwrap();
                    let mut expected = Vec::new();
                    if let Some(old) = model.remove(u, d)
                        && old.token != new.token
                    {
                        expected.push(Retired {
                            uid: uid(name),
                            token: old.token,
                            reason: RetireReason::Replaced,
                        });
                    }
                    let devices = model.users.entry(u).or_default();
                    devices.push((d, new));
                    while devices.len() > cap.max(1) {
                        let (_, old) = devices.remove(0);
                        expected.push(Retired {
                            uid: uid(name),
                            token: old.token,
                            reason: RetireReason::Evicted,
                        });
                    }
                    prop_assert_eq!(retired_set(&got), retired_set(&expected), "track");
                }
                Op::Forget(u, d) => {
                    let got = store.forget(&uid(USERS[u]), key(DEVICES[d])).await.unwrap();
                    prop_assert_eq!(got, model.remove(u, d).map(|t| t.token), "forget");
                }
                Op::ForgetUser(u) => {
                    let got = store.forget_user(&uid(USERS[u])).await.unwrap();
                    let expected = model.users.remove(&u).unwrap_or_default();
                    prop_assert_eq!(
                        sorted(got),
                        sorted(expected.into_iter().map(|(_, t)| t.token)),
                        "forget_user"
                    );
                }
                Op::TakeDue(limit) => {
                    let due = store.take_due(now, limit).await.unwrap();
                    let expired: usize = model
                        .users
                        .values()
                        .map(|ds| ds.iter().filter(|(_, t)| t.is_expired(now)).count())
                        .sum();
                    let from_expiry = expired.min(limit);
                    let from_deferred = (limit - from_expiry).min(model.deferred.len());
                    prop_assert_eq!(due.len(), from_expiry + from_deferred, "take_due count");
                    for r in &due[..from_expiry] {
                        prop_assert_eq!(r.reason, RetireReason::Expired);
                        let u = USERS.iter().position(|n| *n == r.uid.as_str());
                        let devices = u.and_then(|u| model.users.get_mut(&u));
                        let index = devices.as_ref().and_then(|ds| {
                            ds.iter()
                                .position(|(_, t)| t.token == r.token && t.is_expired(now))
                        });
                        prop_assert!(index.is_some(), "take_due handed out a token not due");
                        if let (Some(devices), Some(index)) = (devices, index) {
                            devices.remove(index);
                        }
                    }
                    let oldest: Vec<Retired> = model.deferred.drain(..from_deferred).collect();
                    prop_assert_eq!(&due[from_expiry..], &oldest[..], "deferred, oldest first");
                }
                Op::Defer(u, n) => {
                    let reasons = [
                        RetireReason::Evicted,
                        RetireReason::Revoked,
                        RetireReason::Expired,
                    ];
                    let batch: Vec<Retired> = (0..n)
                        .map(|i| Retired {
                            uid: uid(USERS[u]),
                            token: TokenValue::new(format!("{}_deferred{serial}x{i}", USERS[u])),
                            reason: reasons[(serial as usize + i) % reasons.len()],
                        })
                        .collect();
                    model.deferred.extend(batch.iter().cloned());
                    store.defer(batch).await.unwrap();
                }
            }
        }
        Ok(())
    }

    /// Any sequence of operations leaves the store where the model says: reuse, recency,
    /// the cap, replacement, confirmation, forgetting, expiry and deferral.
    pub fn any_sequence_matches_the_model<S: TokenStore>(fresh: &impl Fn() -> S) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the suite's Tokio runtime");
        let ops = prop::collection::vec((op(), 0..40u64), 1..40);
        run_property("token store model", ops, |ops| {
            runtime.block_on(async { check(&fresh(), ops).await })
        });
    }
}

/// The [`AccountStore`] cases.
pub mod accounts {
    use super::*;

    fn named(name: &str) -> Profile {
        Profile {
            name: Some(name.to_owned()),
            avatar: Some(format!("https://example.com/{name}.png")),
        }
    }

    /// The ordering rule holds through the store: a late update does not bring a deleted
    /// account back, a newer creation does, and each UID is apart.
    pub fn orders_changes_per_uid<S: AccountStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = Settling(fresh());
            let (ada, bob) = (uid("ada"), uid("bob"));
            let at = ChangeTime::Event;
            assert!(!store.is_deleted(&ada).await.unwrap());
            let deleted =
                store.record_change(&ada, UserChange::Deleted, at(2_000), Profile::default());
            assert_eq!(deleted.await.unwrap(), Verdict::Delete);
            assert!(store.is_deleted(&ada).await.unwrap());
            assert!(!store.is_deleted(&bob).await.unwrap());
            let late = store.record_change(&ada, UserChange::Updated, at(1_000), named("old"));
            assert_eq!(late.await.unwrap(), Verdict::Ignore);
            assert!(store.is_deleted(&ada).await.unwrap());
            let back = store.record_change(&ada, UserChange::Created, at(3_000), named("new"));
            assert_eq!(back.await.unwrap(), Verdict::Upsert(named("new")));
            assert!(!store.is_deleted(&ada).await.unwrap());
            // A replay of the old deletion never deletes the re-created account.
            let replay =
                store.record_change(&ada, UserChange::Deleted, at(2_000), Profile::default());
            assert_eq!(replay.await.unwrap(), Verdict::Ignore);
            let first = store.record_change(&bob, UserChange::Updated, at(10), named("bob"));
            assert_eq!(first.await.unwrap(), Verdict::Upsert(named("bob")));
        });
    }

    /// Records each change and settles its verdict at once, as after a CometChat call that
    /// succeeded: the pure ordering rule.
    struct Settling<S>(S);

    impl<S: AccountStore> Settling<S> {
        async fn record_change(
            &self,
            uid: &Uid,
            change: UserChange,
            time: ChangeTime,
            profile: Profile,
        ) -> Result<Verdict, crate::store::StoreError> {
            let verdict = self.0.record_change(uid, change, time, profile).await?;
            self.0.settle(uid, &verdict).await?;
            Ok(verdict)
        }

        async fn is_deleted(&self, uid: &Uid) -> Result<bool, crate::store::StoreError> {
            self.0.is_deleted(uid).await
        }
    }

    /// Until a verdict is settled (its CometChat call failed), every change of the account,
    /// an older one too, re-applies the record's state; settling an outdated verdict settles
    /// nothing.
    pub fn unsettled_changes_re_apply_until_settled<S: AccountStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = fresh();
            let ada = uid("ada");
            let at = ChangeTime::Event;
            let new = store.record_change(&ada, UserChange::Updated, at(2_000), named("new"));
            assert_eq!(new.await.unwrap(), Verdict::Upsert(named("new")));
            // Not settled: an older event re-applies the newest profile.
            for _ in 0..2 {
                let old = store.record_change(&ada, UserChange::Updated, at(1_000), named("old"));
                assert_eq!(old.await.unwrap(), Verdict::Upsert(named("new")));
            }
            // A verdict that is no longer the state settles nothing.
            store
                .settle(&ada, &Verdict::Upsert(named("old")))
                .await
                .unwrap();
            let old = store.record_change(&ada, UserChange::Updated, at(1_000), named("old"));
            assert_eq!(old.await.unwrap(), Verdict::Upsert(named("new")));
            store
                .settle(&ada, &Verdict::Upsert(named("new")))
                .await
                .unwrap();
            let old = store.record_change(&ada, UserChange::Updated, at(1_000), named("old"));
            assert_eq!(old.await.unwrap(), Verdict::Ignore);
            // A failed deletion is run again by a late update, until settled.
            let gone =
                store.record_change(&ada, UserChange::Deleted, at(3_000), Profile::default());
            assert_eq!(gone.await.unwrap(), Verdict::Delete);
            let late = store.record_change(&ada, UserChange::Updated, at(2_500), named("late"));
            assert_eq!(late.await.unwrap(), Verdict::Delete);
            store.settle(&ada, &Verdict::Delete).await.unwrap();
            let late = store.record_change(&ada, UserChange::Updated, at(2_500), named("late"));
            assert_eq!(late.await.unwrap(), Verdict::Ignore);
            assert!(store.is_deleted(&ada).await.unwrap());
            // Settling an account with no record is harmless.
            store
                .settle(&uid("nobody"), &Verdict::Delete)
                .await
                .unwrap();
            assert!(!store.is_deleted(&uid("nobody")).await.unwrap());
        });
    }

    /// A completed delivery is remembered until its time, per key.
    pub fn remembers_deliveries_until_their_time<S: AccountStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = fresh();
            let now = T0 * 1_000;
            assert!(!store.delivery_done("clerk:msg_1", now).await.unwrap());
            store
                .complete_delivery("clerk:msg_1", now + 1_000)
                .await
                .unwrap();
            assert!(store.delivery_done("clerk:msg_1", now).await.unwrap());
            assert!(store.delivery_done("clerk:msg_1", now + 999).await.unwrap());
            assert!(
                !store
                    .delivery_done("clerk:msg_1", now + 1_000)
                    .await
                    .unwrap()
            );
            assert!(!store.delivery_done("standard:msg_1", now).await.unwrap());
            assert!(!store.delivery_done("clerk:msg_2", now).await.unwrap());
        });
    }

    /// Concurrent changes to one UID are each ordered against all the others: none is lost,
    /// so the record ends as the changes read in time order say.
    pub fn concurrent_changes_are_not_lost<S: AccountStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = std::sync::Arc::new(fresh());
            let ada = uid("ada");
            let changes: Vec<(UserChange, u64)> = (1..=24u64)
                .map(|i| {
                    let change = match i % 3 {
                        0 => UserChange::Deleted,
                        1 => UserChange::Created,
                        _ => UserChange::Updated,
                    };
                    (change, i * 10)
                })
                .collect();
            let tasks = changes.iter().map(|&(change, at)| {
                let (store, ada) = (store.clone(), ada.clone());
                tokio::spawn(async move {
                    store
                        .record_change(
                            &ada,
                            change,
                            ChangeTime::Event(at),
                            named(&format!("p{at}")),
                        )
                        .await
                        .unwrap()
                })
            });
            for task in futures_util::future::join_all(tasks).await {
                task.expect("no panic");
            }
            let mut expected = AccountRecord::default();
            for &(change, at) in &changes {
                expected.apply(change, ChangeTime::Event(at), named(&format!("p{at}")));
            }
            // The newest event (240) is a deletion: a lost one would leave the account live.
            assert!(expected.is_deleted());
            assert!(store.is_deleted(&ada).await.unwrap());
            // CometChat reflects it (the deletion ran): settled, so older events change nothing.
            store.settle(&ada, &Verdict::Delete).await.unwrap();
            // The record has every change: a creation just after the newest deletion lifts
            // it, one before it does not.
            let before = store.record_change(
                &ada,
                UserChange::Created,
                ChangeTime::Event(235),
                named("x"),
            );
            assert_eq!(before.await.unwrap(), Verdict::Ignore);
            let after = store.record_change(
                &ada,
                UserChange::Created,
                ChangeTime::Event(245),
                named("y"),
            );
            assert_eq!(after.await.unwrap(), Verdict::Upsert(named("y")));
        });
    }

    const USERS: [&str; 2] = ["ada", "bob"];

    #[derive(Debug, Clone)]
    enum Op {
        Change {
            user: usize,
            change: UserChange,
            exact: bool,
            at: u64,
            name: String,
        },
        IsDeleted(usize),
        /// Settles the user's last verdict (its CometChat call succeeded).
        Settle(usize),
        Complete(usize, u64),
        Done(usize, u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        let change = user_change();
        prop_oneof![
            5 => (0..USERS.len(), change, prop::bool::weighted(0.8), 0..100u64, "[a-z]{1,3}")
                .prop_map(|(user, change, exact, at, name)| Op::Change { user, change, exact, at: at * 10, name }),
            2 => (0..USERS.len()).prop_map(Op::IsDeleted),
            3 => (0..USERS.len()).prop_map(Op::Settle),
            1 => (0..3usize, 0..100u64).prop_map(|(d, until)| Op::Complete(d, until)),
            1 => (0..3usize, 0..100u64).prop_map(|(d, now)| Op::Done(d, now)),
        ]
    }

    async fn check<S: AccountStore>(store: &S, ops: Vec<Op>) -> Result<(), TestCaseError> {
        let mut records: BTreeMap<usize, AccountRecord> = BTreeMap::new();
        let mut deliveries: HashMap<usize, u64> = HashMap::new();
        let mut last: HashMap<usize, Verdict> = HashMap::new();
        let base = T0 * 1_000;
        let delivery = |d: usize| format!("standard:msg_{d}");
        for op in ops {
            match op {
                Op::Change {
                    user,
                    change,
                    exact,
                    at,
                    name,
                } => {
                    let time = if exact {
                        ChangeTime::Event(base + at)
                    } else {
                        ChangeTime::Delivery(base + at)
                    };
                    let profile = Profile {
                        name: Some(name),
                        avatar: None,
                    };
                    let got = store
                        .record_change(&uid(USERS[user]), change, time, profile.clone())
                        .await
                        .unwrap();
                    let expected = records
                        .entry(user)
                        .or_default()
                        .apply(change, time, profile);
                    prop_assert_eq!(&got, &expected, "record_change");
                    last.insert(user, got);
                }
                Op::IsDeleted(user) => {
                    let got = store.is_deleted(&uid(USERS[user])).await.unwrap();
                    let expected = records.get(&user).is_some_and(AccountRecord::is_deleted);
                    prop_assert_eq!(got, expected, "is_deleted");
                }
                Op::Settle(user) => {
                    if let Some(verdict) = last.get(&user) {
                        store.settle(&uid(USERS[user]), verdict).await.unwrap();
                        records.entry(user).or_default().settle(verdict);
                    }
                }
                Op::Complete(d, until) => {
                    store
                        .complete_delivery(&delivery(d), base + until)
                        .await
                        .unwrap();
                    deliveries.insert(d, base + until);
                }
                Op::Done(d, now) => {
                    let got = store.delivery_done(&delivery(d), base + now).await.unwrap();
                    let expected = deliveries.get(&d).is_some_and(|&until| base + now < until);
                    prop_assert_eq!(got, expected, "delivery_done");
                }
            }
        }
        Ok(())
    }

    /// Any sequence of changes gets the verdicts [`AccountRecord::apply`] gives, tombstones
    /// read back as the records say, and deliveries are remembered until their time.
    pub fn any_sequence_matches_the_ordering_rule<S: AccountStore>(fresh: &impl Fn() -> S) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the suite's Tokio runtime");
        run_property(
            "account store model",
            prop::collection::vec(op(), 1..30),
            |ops| runtime.block_on(async { check(&fresh(), ops).await }),
        );
    }
}

/// The [`SharedStore`](crate::store::SharedStore) cases: its one-step read agrees with its
/// parts. A backend calls each from a `#[test]` of its own with a factory of empty stores
/// (`cometgate-redis` does).
pub mod shared {
    use super::*;
    use crate::store::{DeviceReading, SharedStore};

    const USERS: [&str; 2] = ["ada", "bob"];
    const DEVICES: [&str; 2] = ["phone", "tablet"];

    #[derive(Debug, Clone)]
    enum Op {
        Track(usize, usize, u64),
        Forget(usize, usize),
        Change(usize, UserChange, u64),
        Read(usize, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        let change = user_change();
        prop_oneof![
            3 => (0..2usize, 0..2usize, 0..1_000u64).prop_map(|(u, d, n)| Op::Track(u, d, n)),
            1 => (0..2usize, 0..2usize).prop_map(|(u, d)| Op::Forget(u, d)),
            2 => (0..2usize, change, 0..100u64).prop_map(|(u, c, at)| Op::Change(u, c, at)),
            4 => (0..2usize, 0..2usize).prop_map(|(u, d)| Op::Read(u, d)),
        ]
    }

    /// A deleted account's tracked token is never read, a live account's is, and an unknown
    /// device reads as nothing.
    pub fn reads_the_tombstone_and_the_token_together<S: SharedStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = fresh();
            let (ada, bob) = (uid("ada"), uid("bob"));
            let phone = tracked("ada", 1, T0, None);
            store
                .track(&ada, key("phone"), phone.clone(), 20)
                .await
                .unwrap();
            let read = |u: &'static str, d: &'static str| {
                let store = &store;
                async move {
                    store
                        .token_unless_deleted(&uid(u), key(d), T0)
                        .await
                        .unwrap()
                }
            };
            assert_eq!(read("ada", "phone").await, DeviceReading::Live(Some(phone)));
            assert_eq!(read("ada", "tablet").await, DeviceReading::Live(None));
            let deleted = store
                .record_change(
                    &ada,
                    UserChange::Deleted,
                    ChangeTime::Event(T0 * 1_000),
                    Profile::default(),
                )
                .await
                .unwrap();
            assert_eq!(deleted, Verdict::Delete);
            assert_eq!(read("ada", "phone").await, DeviceReading::Deleted);
            assert_eq!(read("ada", "tablet").await, DeviceReading::Deleted);
            assert_eq!(read("bob", "phone").await, DeviceReading::Live(None));
            // A profile record that is no tombstone leaves the token readable.
            store
                .record_change(
                    &bob,
                    UserChange::Updated,
                    ChangeTime::Event(T0 * 1_000),
                    Profile::default(),
                )
                .await
                .unwrap();
            let bobs = tracked("bob", 2, T0, Some(T0 + 60));
            store
                .track(&bob, key("phone"), bobs.clone(), 20)
                .await
                .unwrap();
            assert_eq!(read("bob", "phone").await, DeviceReading::Live(Some(bobs)));
        });
    }

    /// The one-step read marks the device used, as [`TokenStore::get`] does: the cap then
    /// evicts a device that was not read.
    pub fn the_one_step_read_marks_the_device_used<S: SharedStore>(fresh: &impl Fn() -> S) {
        block(async {
            let store = fresh();
            let ada = uid("ada");
            let (phone, tablet) = (tracked("ada", 1, T0, None), tracked("ada", 2, T0 + 1, None));
            store
                .track(&ada, key("phone"), phone.clone(), 2)
                .await
                .unwrap();
            store
                .track(&ada, key("tablet"), tablet.clone(), 2)
                .await
                .unwrap();
            let read = store.token_unless_deleted(&ada, key("phone"), T0 + 2);
            assert_eq!(read.await.unwrap(), DeviceReading::Live(Some(phone)));
            let laptop = tracked("ada", 3, T0 + 3, None);
            let retired = store.track(&ada, key("laptop"), laptop, 2).await.unwrap();
            let evicted: Vec<_> = retired.iter().map(|r| (&r.token, r.reason)).collect();
            assert_eq!(evicted, [(&tablet.token, RetireReason::Evicted)]);
        });
    }

    /// Any sequence of tracks, forgets and account changes: the one-step read answers what
    /// [`AccountStore::is_deleted`] and then [`TokenStore::get`] answer.
    pub fn any_sequence_agrees_with_its_parts<S: SharedStore>(fresh: &impl Fn() -> S) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the suite's Tokio runtime");
        run_property(
            "shared store reads",
            prop::collection::vec(op(), 1..30),
            |ops| {
                runtime.block_on(async {
                    let store = fresh();
                    for op in ops {
                        match op {
                            Op::Track(u, d, n) => {
                                let t = tracked(USERS[u], n, T0, None);
                                store
                                    .track(&uid(USERS[u]), key(DEVICES[d]), t, 20)
                                    .await
                                    .unwrap();
                            }
                            Op::Forget(u, d) => {
                                store.forget(&uid(USERS[u]), key(DEVICES[d])).await.unwrap();
                            }
                            Op::Change(u, change, at) => {
                                let time = ChangeTime::Event(T0 * 1_000 + at);
                                store
                                    .record_change(&uid(USERS[u]), change, time, Profile::default())
                                    .await
                                    .unwrap();
                            }
                            Op::Read(u, d) => {
                                let (who, device) = (uid(USERS[u]), key(DEVICES[d]));
                                let got =
                                    store.token_unless_deleted(&who, device, T0).await.unwrap();
                                let expected = if AccountStore::is_deleted(&store, &who)
                                    .await
                                    .unwrap()
                                {
                                    DeviceReading::Deleted
                                } else {
                                    DeviceReading::Live(
                                        TokenStore::get(&store, &who, device, T0).await.unwrap(),
                                    )
                                };
                                prop_assert_eq!(got, expected);
                            }
                        }
                    }
                    Ok(())
                })
            },
        );
    }
}

/// One `#[test]` per [`TokenStore`] case of the [store suite](crate::store::suite), in a module
/// named `$module`, each given stores from `$fresh` (a function or closure returning an empty
/// store, called inside the suite's Tokio runtime).
///
/// ```
/// # mod hidden {
/// cometgate::token_store_suite!(memory_suite, cometgate::store::MemoryStore::new);
/// # }
/// ```
#[macro_export]
macro_rules! token_store_suite {
    ($module:ident, $fresh:expr) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            use $crate::store::suite::tokens as case;

            #[test]
            fn tracks_and_reads_back() {
                case::tracks_and_reads_back(&$fresh)
            }
            #[test]
            fn the_cap_evicts_the_least_recently_used_device() {
                case::the_cap_evicts_the_least_recently_used_device(&$fresh)
            }
            #[test]
            fn replacing_retires_the_old_token_once() {
                case::replacing_retires_the_old_token_once(&$fresh)
            }
            #[test]
            fn take_due_returns_expired_then_deferred() {
                case::take_due_returns_expired_then_deferred(&$fresh)
            }
            #[test]
            fn take_due_skips_tokens_no_longer_tracked() {
                case::take_due_skips_tokens_no_longer_tracked(&$fresh)
            }
            #[test]
            fn confirm_only_touches_the_same_token() {
                case::confirm_only_touches_the_same_token(&$fresh)
            }
            #[test]
            fn users_are_kept_apart() {
                case::users_are_kept_apart(&$fresh)
            }
            #[test]
            fn concurrent_tracks_keep_the_cap() {
                case::concurrent_tracks_keep_the_cap(&$fresh)
            }
            #[test]
            fn debug_shows_no_token() {
                case::debug_shows_no_token(&$fresh)
            }
            #[test]
            fn any_sequence_matches_the_model() {
                case::any_sequence_matches_the_model(&$fresh)
            }
        }
    };
}

/// One `#[test]` per [`AccountStore`] case of the [store suite](crate::store::suite), in a
/// module named `$module`, each given stores from `$fresh`.
///
/// ```
/// # mod hidden {
/// cometgate::account_store_suite!(memory_suite, cometgate::store::MemoryAccountStore::new);
/// # }
/// ```
#[macro_export]
macro_rules! account_store_suite {
    ($module:ident, $fresh:expr) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            use $crate::store::suite::accounts as case;

            #[test]
            fn orders_changes_per_uid() {
                case::orders_changes_per_uid(&$fresh)
            }
            #[test]
            fn remembers_deliveries_until_their_time() {
                case::remembers_deliveries_until_their_time(&$fresh)
            }
            #[test]
            fn concurrent_changes_are_not_lost() {
                case::concurrent_changes_are_not_lost(&$fresh)
            }
            #[test]
            fn unsettled_changes_re_apply_until_settled() {
                case::unsettled_changes_re_apply_until_settled(&$fresh)
            }
            #[test]
            fn any_sequence_matches_the_ordering_rule() {
                case::any_sequence_matches_the_ordering_rule(&$fresh)
            }
        }
    };
}
