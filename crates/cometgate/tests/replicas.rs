//! Gates sharing one token store, as replicas share a Redis: the store's mint lock makes a
//! burst for one device mint once across all of them, and every gate hands out that token.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cometchat_fake::{FakeCometChat, FakeUser, Fault};
use cometgate::store::MemoryStore;
use common::{Ask, MINT, builder, fake_config, request, token};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_for_one_device_over_three_gates_mints_once() {
    let cc = FakeCometChat::builder()
        .seed_user(FakeUser::new("ada", "Ada"))
        .start()
        .await
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    let gates: Vec<_> = (0..3)
        .map(|_| {
            builder(fake_config(&cc))
                .token_store(Arc::clone(&store))
                .build()
                .unwrap()
        })
        .collect();
    // A slow mint: every request arrives while the first is under way.
    cc.push_faults(MINT, [Fault::Delay { ms: 300 }]);
    let asks: Vec<_> = (0..30)
        .map(|i| tokio::spawn(gates[i % 3].answer_on(&request("good:ada"), "phone")))
        .collect();
    let mut tokens = Vec::new();
    for ask in asks {
        let answer = ask.await.unwrap();
        assert_eq!(answer.status(), 200);
        tokens.push(token(&answer));
    }
    assert_eq!(cc.count(MINT), 1, "one mint across the three gates");
    assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");

    // Later requests on any gate reuse it.
    for gate in &gates {
        assert_eq!(
            token(&gate.answer_on(&request("good:ada"), "phone").await),
            tokens[0]
        );
    }
    assert_eq!(cc.count(MINT), 1);
}

#[tokio::test]
async fn a_lock_left_by_a_gate_that_died_runs_out() {
    use cometgate::store::TokenStore;
    let cc = FakeCometChat::builder()
        .seed_user(FakeUser::new("bo", "Bo"))
        .start()
        .await
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    let uid = cometgate::Uid::parse("bo").unwrap();
    let device = cometgate::DeviceId::parse("tablet").unwrap().key();
    // A holder that never releases, with a short time to live.
    let held = store
        .lock_mint(&uid, device, Duration::from_millis(300))
        .await
        .unwrap();
    assert!(held.is_some());
    assert!(
        store
            .lock_mint(&uid, device, Duration::from_secs(5))
            .await
            .unwrap()
            .is_none(),
        "held"
    );
    let gate = builder(fake_config(&cc))
        .token_store(Arc::clone(&store))
        .build()
        .unwrap();
    let answer = gate.answer_on(&request("good:bo"), "tablet").await;
    assert_eq!(answer.status(), 200, "minted once the lock ran out");
    assert_eq!(cc.count(MINT), 1);
    // The gate released its own lock: the next holder gets it at once.
    assert!(
        store
            .lock_mint(&uid, device, Duration::from_secs(5))
            .await
            .unwrap()
            .is_some()
    );
}
