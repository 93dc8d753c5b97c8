//! Three gates (replicas) sharing one Redis and one fake, each with its own `RedisStore` (its
//! own connection) under one prefix and key, as a deployment wires them: the upstream budget
//! and a per-user limit hold in total, a burst for one device mints once, every replica hands
//! out a device's token, and a revoke on one replica is seen by all.

mod common;

use std::time::{Duration, Instant};

use cometchat_fake::{FakeCometChat, FakeUser, Fault};
use cometgate::Uid;
use cometgate::endpoint::Endpoint;
use cometgate::store::{AccountStore, ChangeTime, Verdict};
use cometgate::vend::RateLimit;
use cometgate::webhook::{Profile, UserChange};
use cometgate_redis::StoreKey;
use common::gate::{BearerIsSubject, ask, builder, token, token_for};
use common::{shared, store_with, unique_prefix};

const MINT: &str = "POST /users/{uid}/auth_tokens";
const CREATE: &str = "POST /users";

async fn fake() -> FakeCometChat {
    FakeCometChat::builder()
        .seed_user(FakeUser::new("ada", "Ada"))
        .start()
        .await
        .unwrap()
}

/// Three replicas on `cc`, with `per_user` and `upstream` limits.
fn replicas(
    cc: &FakeCometChat,
    per_user: RateLimit,
    upstream: RateLimit,
) -> Vec<Endpoint<BearerIsSubject>> {
    let (prefix, key) = (unique_prefix(), StoreKey::generate());
    (0..3)
        .map(|_| {
            let store = store_with(shared(), &prefix, key.clone(), None);
            let gate = builder(cc, &store)
                .per_user_limit(per_user)
                .upstream_budget(upstream)
                .build()
                .unwrap();
            Endpoint::new(gate)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_upstream_budget_holds_in_total_across_three_gates() {
    let cc = fake().await;
    let interval = Duration::from_millis(100);
    let burst = 5;
    let upstream = RateLimit::new(1, interval).with_burst(burst);
    let gates = replicas(&cc, RateLimit::unlimited(), upstream);
    let start = Instant::now();
    let run = Duration::from_millis(1_200);
    // Each gate asks for a new device's token without pause: every request wants a mint.
    let loops: Vec<_> = gates
        .iter()
        .enumerate()
        .map(|(g, gate)| {
            let gate = gate.clone();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                let mut n = 0;
                while start.elapsed() < run {
                    let answer = token_for(&gate, "ada", &format!("g{g}-d{n}")).await;
                    statuses.push(answer.status());
                    n += 1;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                statuses
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for l in loops {
        statuses.extend(l.await.unwrap());
    }
    let elapsed = start.elapsed();
    let calls = cc.count(MINT) + cc.count(CREATE);
    // GCRA over any span of length L: at most `burst + L / interval` cells.
    let budget = usize::try_from(elapsed.as_millis() / interval.as_millis()).unwrap();
    let bound = budget + burst as usize;
    assert!(
        calls <= bound,
        "{calls} upstream calls in {elapsed:?}: more than the budget ({budget}) + burst ({burst})"
    );
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(ok, calls, "one call per token handed out");
    assert!(calls > burst as usize, "the budget refills: {calls}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert!(
        statuses.len() > 2 * bound,
        "the gates asked for far more than the budget: {}",
        statuses.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_per_user_limit_holds_in_total_across_three_gates() {
    let cc = fake().await;
    // No refill within the test: exactly the burst is minted, wherever the requests land.
    let per_user = RateLimit::per_minute(1).with_burst(3);
    let gates = replicas(&cc, per_user, RateLimit::UPSTREAM_DEFAULT);
    let asks: Vec<_> = (0..15)
        .map(|n| {
            let gate = gates[n % 3].clone();
            tokio::spawn(async move { token_for(&gate, "ada", &format!("d{n}")).await.status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for a in asks {
        statuses.push(a.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [[200; 3].as_slice(), &[429; 12]].concat());
    assert_eq!(cc.count(MINT), 3, "one mint per cell, across the gates");
    // Another user has cells of their own.
    assert_eq!(token_for(&gates[1], "bob", "d0").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_for_one_device_over_three_gates_mints_once() {
    let cc = fake().await;
    let gates = replicas(
        &cc,
        RateLimit::PER_USER_DEFAULT,
        RateLimit::UPSTREAM_DEFAULT,
    );
    // A slow mint: every request arrives while the first is under way.
    cc.push_faults(MINT, [Fault::Delay { ms: 300 }]);
    let asks: Vec<_> = (0..30)
        .map(|n| {
            let gate = gates[n % 3].clone();
            tokio::spawn(async move { token_for(&gate, "ada", "phone").await })
        })
        .collect();
    let mut tokens = Vec::new();
    for a in asks {
        tokens.push(token(&a.await.unwrap()));
    }
    assert_eq!(cc.count(MINT), 1, "one mint across the three gates");
    assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");
}

#[tokio::test]
async fn a_device_gets_the_same_token_from_every_gate() {
    let cc = fake().await;
    let gates = replicas(
        &cc,
        RateLimit::PER_USER_DEFAULT,
        RateLimit::UPSTREAM_DEFAULT,
    );
    let first = token(&token_for(&gates[0], "ada", "phone").await);
    for gate in &gates {
        assert_eq!(token(&token_for(gate, "ada", "phone").await), first);
    }
    let other = token(&token_for(&gates[2], "ada", "tablet").await);
    assert_ne!(other, first);
    assert_eq!(token(&token_for(&gates[1], "ada", "tablet").await), other);
    assert_eq!(cc.count(MINT), 2, "one mint per device");
}

#[tokio::test]
async fn after_a_revoke_on_one_gate_no_gate_hands_out_the_old_token() {
    let cc = fake().await;
    let gates = replicas(
        &cc,
        RateLimit::PER_USER_DEFAULT,
        RateLimit::UPSTREAM_DEFAULT,
    );
    let old = token(&token_for(&gates[0], "ada", "phone").await);
    for gate in &gates {
        assert_eq!(token(&token_for(gate, "ada", "phone").await), old);
    }
    let revoked = ask(
        &gates[1],
        "/cometchat-token/revoke",
        "ada",
        r#"{"deviceId": "phone"}"#,
    )
    .await;
    assert_eq!(revoked.status(), 204, "{revoked:?}");
    assert!(!cc.tokens("ada").contains(&old), "deleted at CometChat");
    let new = token(&token_for(&gates[2], "ada", "phone").await);
    assert_ne!(new, old);
    for gate in &gates {
        assert_eq!(token(&token_for(gate, "ada", "phone").await), new);
    }
    assert_eq!(cc.count(MINT), 2);
}

#[tokio::test]
async fn a_deletion_recorded_by_one_replica_stops_every_gate_handing_out_a_known_devices_token() {
    let cc = fake().await;
    let (prefix, key) = (unique_prefix(), StoreKey::generate());
    let gates: Vec<_> = (0..2)
        .map(|_| {
            Endpoint::new(
                builder(&cc, &store_with(shared(), &prefix, key.clone(), None))
                    .build()
                    .unwrap(),
            )
        })
        .collect();
    let old = token(&token_for(&gates[0], "ada", "phone").await);
    assert_eq!(token(&token_for(&gates[1], "ada", "phone").await), old);
    // A third replica records the deletion; the device's token is still tracked (its revoke
    // has not run yet): the tombstone alone must stop both gates.
    let third = store_with(shared(), &prefix, key, None);
    let ada = Uid::parse("ada").unwrap();
    let deleted = third.record_change(
        &ada,
        UserChange::Deleted,
        ChangeTime::Event(1_000),
        Profile::default(),
    );
    assert_eq!(deleted.await.unwrap(), Verdict::Delete);
    for gate in &gates {
        let answer = token_for(gate, "ada", "phone").await;
        assert_eq!(answer.status(), 403, "{answer:?}");
        assert!(!String::from_utf8_lossy(answer.body()).contains(&old));
    }
    assert_eq!(cc.count(MINT), 1, "no mint after the deletion");
}
