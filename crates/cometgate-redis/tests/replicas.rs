//! Several replicas, one state: two (or three) `RedisStore`s built with the same prefix and
//! key, each with its own connection, behave as one store; and a key rotation rolled out
//! replica by replica loses no device's token.

mod common;

use std::collections::HashSet;

use cometgate::client::TokenValue;
use cometgate::store::{
    AccountStore, ChangeTime, DeviceReading, SharedStore, TokenStore, TrackedToken, Verdict,
};
use cometgate::webhook::{Profile, UserChange};
use cometgate::{DeviceId, Uid};
use cometgate_redis::{RedisStore, StoreKey};
use common::{shared, store_with, unique_prefix};

const T0: u64 = 1_700_000_000;

fn uid(s: &str) -> Uid {
    Uid::parse(s).unwrap()
}

fn device(s: &str) -> cometgate::device::DeviceKey {
    DeviceId::parse(s).unwrap().key()
}

fn tracked(uid: &str, n: u64, expires: Option<u64>) -> TrackedToken {
    TrackedToken {
        token: TokenValue::new(format!("{uid}_{T0:010}{n:030x}")),
        minted_at: T0,
        expires_at: expires,
        confirmed_at: T0,
    }
}

/// `n` replicas sharing one prefix and key.
fn replicas<const N: usize>() -> [RedisStore; N] {
    let (prefix, key) = (unique_prefix(), StoreKey::generate());
    std::array::from_fn(|_| store_with(shared(), &prefix, key.clone(), None))
}

#[tokio::test]
async fn a_tombstone_written_by_one_replica_is_seen_by_the_others() {
    let [a, b, c] = replicas::<3>();
    let ada = uid("ada");
    let deleted = a.record_change(
        &ada,
        UserChange::Deleted,
        ChangeTime::Event(2_000),
        Profile::default(),
    );
    assert_eq!(deleted.await.unwrap(), Verdict::Delete);
    assert!(b.is_deleted(&ada).await.unwrap());
    assert!(c.is_deleted(&ada).await.unwrap());
    // Until the deletion is settled (done at CometChat), any replica's change runs it again.
    let early = c.record_change(
        &ada,
        UserChange::Updated,
        ChangeTime::Event(1_000),
        Profile::default(),
    );
    assert_eq!(early.await.unwrap(), Verdict::Delete);
    b.settle(&ada, &Verdict::Delete).await.unwrap();
    // A late update arriving at another replica is ordered against it.
    let late = c.record_change(
        &ada,
        UserChange::Updated,
        ChangeTime::Event(1_000),
        Profile::default(),
    );
    assert_eq!(late.await.unwrap(), Verdict::Ignore);
    assert!(b.is_deleted(&ada).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_to_one_user_on_two_replicas_at_once_are_all_ordered() {
    let [a, b] = replicas::<2>();
    let ada = uid("ada");
    // Deletions at 10, 30, 50...; creations at 20, 40...: the newest (400) is a creation.
    let changes: Vec<(UserChange, u64)> = (1..=40u64)
        .map(|i| {
            let change = if i % 2 == 1 {
                UserChange::Deleted
            } else {
                UserChange::Created
            };
            (change, i * 10)
        })
        .collect();
    let tasks = changes.iter().enumerate().map(|(i, &(change, at))| {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let ada = ada.clone();
        tokio::spawn(async move {
            store
                .record_change(&ada, change, ChangeTime::Event(at), Profile::default())
                .await
                .unwrap()
        })
    });
    for task in futures_join(tasks).await {
        task.unwrap();
    }
    assert!(
        !a.is_deleted(&ada).await.unwrap(),
        "the newest event is a creation"
    );
    a.settle(&ada, &Verdict::Upsert(Profile::default()))
        .await
        .unwrap();
    // Every deletion is known: a replay of the one at 390 is ordered against the creation at
    // 400 (if 400 had been lost, the replay would delete).
    let replay = b.record_change(
        &ada,
        UserChange::Deleted,
        ChangeTime::Event(390),
        Profile::default(),
    );
    assert_eq!(replay.await.unwrap(), Verdict::Ignore);
}

#[tokio::test]
async fn a_delivery_completed_on_one_replica_is_done_on_the_other() {
    let [a, b] = replicas::<2>();
    let now = T0 * 1_000;
    assert!(!b.delivery_done("clerk:msg_1", now).await.unwrap());
    a.complete_delivery("clerk:msg_1", now + 48 * 3_600_000)
        .await
        .unwrap();
    assert!(b.delivery_done("clerk:msg_1", now).await.unwrap());
    assert!(!b.delivery_done("clerk:msg_2", now).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_holds_when_a_users_devices_land_on_different_replicas() {
    let [a, b] = replicas::<2>();
    let ada = uid("ada");
    let cap = 5;
    let tasks = (0..40u64).map(|n| {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        let ada = ada.clone();
        tokio::spawn(async move {
            store
                .track(&ada, device(&format!("d{n}")), tracked("ada", n, None), cap)
                .await
                .unwrap()
        })
    });
    let mut retired = Vec::new();
    for task in futures_join(tasks).await {
        retired.extend(task.unwrap().into_iter().map(|r| r.token));
    }
    let mut held = Vec::new();
    for n in 0..40u64 {
        let store = if n % 3 == 0 { &a } else { &b };
        if let Some(t) = store.get(&ada, device(&format!("d{n}")), T0).await.unwrap() {
            held.push(t.token);
        }
    }
    assert_eq!(held.len(), cap, "the cap holds in total");
    let all: HashSet<String> = held
        .iter()
        .chain(&retired)
        .map(|t| t.expose().to_owned())
        .collect();
    assert_eq!(
        (held.len() + retired.len(), all.len()),
        (40, 40),
        "every token tracked or retired, once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_gets_the_same_token_from_every_replica_until_one_forgets_it() {
    let [a, b, c] = replicas::<3>();
    let ada = uid("ada");
    let t = tracked("ada", 1, Some(T0 + 60));
    a.track(&ada, device("phone"), t.clone(), 20).await.unwrap();
    for store in [&a, &b, &c] {
        assert_eq!(
            store.get(&ada, device("phone"), T0).await.unwrap(),
            Some(t.clone())
        );
    }
    assert!(
        b.confirm(&ada, device("phone"), &t.token, T0 + 5)
            .await
            .unwrap()
    );
    let seen = c.get(&ada, device("phone"), T0).await.unwrap().unwrap();
    assert_eq!(seen.confirmed_at, T0 + 5);
    assert_eq!(
        c.forget(&ada, device("phone")).await.unwrap(),
        Some(t.token)
    );
    for store in [&a, &b, &c] {
        assert_eq!(store.get(&ada, device("phone"), T0).await.unwrap(), None);
    }
    // Expired tokens are swept once, whichever replicas sweep.
    for n in 0..60u64 {
        let user = uid(&format!("u{}", n % 7));
        let t = tracked(user.as_str(), n, Some(T0 + n % 5));
        a.track(&user, device(&format!("d{n}")), t, 20)
            .await
            .unwrap();
    }
    let sweeps = [a.clone(), b.clone(), c.clone()].map(|store| {
        tokio::spawn(async move {
            let mut taken = Vec::new();
            loop {
                let due = store.take_due(T0 + 10, 7).await.unwrap();
                if due.is_empty() {
                    return taken;
                }
                taken.extend(due.into_iter().map(|r| r.token.expose().to_owned()));
            }
        })
    });
    let mut taken = Vec::new();
    for sweep in futures_join(sweeps).await {
        taken.extend(sweep.unwrap());
    }
    let distinct: HashSet<&String> = taken.iter().collect();
    assert_eq!(
        (taken.len(), distinct.len()),
        (60, 60),
        "each expired token once"
    );
}

#[tokio::test]
async fn a_key_rotation_rolled_out_replica_by_replica_keeps_every_token() {
    let prefix = unique_prefix();
    let (old, new) = (StoreKey::generate(), StoreKey::generate());
    let server = shared();
    let before = store_with(server, &prefix, old.clone(), None);
    let ada = uid("ada");
    let devices = ["a", "b", "c", "d"];
    for (n, d) in devices.iter().enumerate() {
        let t = tracked("ada", n as u64, Some(T0 + 100));
        before.track(&ada, device(d), t, 20).await.unwrap();
    }
    let gone = uid("gone");
    let deleted = before.record_change(
        &gone,
        UserChange::Deleted,
        ChangeTime::Event(5),
        Profile::default(),
    );
    deleted.await.unwrap();

    // Step 1: every replica learns the new key as the previous one; step 2 (once step 1 is
    // everywhere): the keys swap. Replicas of both steps run side by side, and each reads
    // every device, in any order.
    let step1 = store_with(server, &prefix, old.clone(), Some(new.clone()));
    let step2 = store_with(server, &prefix, new.clone(), Some(old.clone()));
    for round in 0..4 {
        let order = if round % 2 == 0 {
            [&step2, &step1]
        } else {
            [&step1, &step2]
        };
        for (n, d) in devices.iter().enumerate() {
            for store in order {
                // The reuse path's one-step read in even rounds, `get` in odd ones: each read
                // finds the device under the other step's name and moves it.
                let got = if round % 2 == 0 {
                    match store
                        .token_unless_deleted(&ada, device(d), T0)
                        .await
                        .unwrap()
                    {
                        DeviceReading::Live(found) => found,
                        other => panic!("ada is not deleted: {other:?}"),
                    }
                } else {
                    store.get(&ada, device(d), T0).await.unwrap()
                };
                let expected = tracked("ada", n as u64, Some(T0 + 100)).token;
                assert_eq!(got.map(|t| t.token), Some(expected), "round {round}, {d}");
            }
        }
    }
    assert!(step2.is_deleted(&gone).await.unwrap());
    for store in [&step1, &step2] {
        let read = store.token_unless_deleted(&gone, device("a"), T0);
        assert_eq!(read.await.unwrap(), DeviceReading::Deleted);
    }
    // A confirm (a write) seals the token again under the new key; a new mint is sealed under
    // it too.
    let a_token = tracked("ada", 0, None).token;
    assert!(
        step2
            .confirm(&ada, device("a"), &a_token, T0 + 1)
            .await
            .unwrap()
    );
    step2
        .track(&ada, device("e"), tracked("ada", 9, None), 20)
        .await
        .unwrap();
    let after = store_with(server, &prefix, new.clone(), None);
    assert_eq!(
        after
            .get(&ada, device("a"), T0)
            .await
            .unwrap()
            .map(|t| t.token),
        Some(a_token)
    );
    assert!(after.get(&ada, device("e"), T0).await.unwrap().is_some());
    // Dropping the previous key while values are still sealed under it is an error (503),
    // never a silent re-mint: putting the key back makes them readable again.
    let err = after.get(&ada, device("b"), T0).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("does not decrypt under COMETGATE_STORE_KEY"),
        "{err}"
    );
    assert!(after.is_deleted(&gone).await.is_err());
    assert!(step2.get(&ada, device("b"), T0).await.unwrap().is_some());
    // A wrong key reads nothing it was not given.
    let stranger = store_with(server, &prefix, StoreKey::generate(), None);
    assert_eq!(
        stranger.get(&ada, device("a"), T0).await.unwrap(),
        None,
        "keyed names"
    );
}

/// Awaits every task (the crate has no futures dependency; the list is short).
async fn futures_join<T>(
    tasks: impl IntoIterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut out = Vec::new();
    for task in tasks.into_iter().collect::<Vec<_>>() {
        out.push(task.await);
    }
    out
}
