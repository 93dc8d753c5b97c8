//! The limit seam: every cell of the per-user limits and of the upstream budget is taken from
//! the gate's [`LimitStore`], so a store shared by several gates (replicas) enforces one limit
//! in total; what the store answers is what the routes answer.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cometchat_fake::FakeCometChat;
use cometgate::store::{LimitKey, LimitStore, StoreBackend, StoreError};
use cometgate::vend::{ProblemType, RateLimit};
use common::{Ask, MINT, builder, fake_config, problem_type, request, revoke};

/// What a scripted store answers for one kind of limit.
#[derive(Debug, Clone, Copy)]
enum Script {
    /// A fixed number of cells in total (a stand-in for a shared GCRA), then refusals.
    Cells(u32),
    /// Always unavailable.
    Broken,
}

/// A limit store shared by every gate of a test: it records each call.
#[derive(Debug, Default)]
struct Shared {
    scripts: HashMap<&'static str, Script>,
    taken: Mutex<HashMap<String, u32>>,
    calls: Mutex<Vec<(&'static str, Option<String>, RateLimit)>>,
}

impl Shared {
    fn with(scripts: &[(&'static str, Script)]) -> Arc<Self> {
        Arc::new(Self {
            scripts: scripts.iter().copied().collect(),
            ..Self::default()
        })
    }

    fn calls(&self, kind: &str) -> usize {
        let calls = self.calls.lock().unwrap();
        calls.iter().filter(|(k, ..)| *k == kind).count()
    }
}

#[async_trait]
impl LimitStore for Shared {
    async fn take(
        &self,
        key: LimitKey<'_>,
        limit: RateLimit,
    ) -> Result<Result<(), Duration>, StoreError> {
        let uid = key.uid().map(|u| u.as_str().to_owned());
        self.calls
            .lock()
            .unwrap()
            .push((key.as_str(), uid.clone(), limit));
        match self.scripts.get(key.as_str()) {
            None => Ok(Ok(())),
            Some(Script::Broken) => Err(StoreError::new("the limit store is down")),
            Some(Script::Cells(cells)) => {
                let mut taken = self.taken.lock().unwrap();
                let used = taken
                    .entry(format!("{}:{uid:?}", key.as_str()))
                    .or_default();
                if *used < *cells {
                    *used += 1;
                    Ok(Ok(()))
                } else {
                    Ok(Err(Duration::from_secs(7)))
                }
            }
        }
    }

    fn backend(&self) -> StoreBackend {
        StoreBackend::Custom
    }
}

#[tokio::test]
async fn two_gates_sharing_a_limit_store_enforce_one_per_user_limit_in_total() {
    let cc = FakeCometChat::start().await;
    let limits = Shared::with(&[("mint", Script::Cells(3))]);
    let per_user = RateLimit::per_minute(10).with_burst(3);
    let gates: Vec<_> = (0..2)
        .map(|_| {
            builder(fake_config(&cc))
                .per_user_limit(per_user)
                .limit_store(Arc::clone(&limits))
                .build()
                .unwrap()
        })
        .collect();
    let mut statuses = Vec::new();
    for i in 0..6 {
        // A new device each time: every request is a new mint.
        let answer = gates[i % 2].answer(&request("good:ada")).await;
        if answer.status() == 429 {
            assert_eq!(problem_type(&answer), Some(ProblemType::RateLimited));
            assert_eq!(answer.header("retry-after"), Some("7"), "the store's wait");
        }
        statuses.push(answer.status());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429]);
    assert_eq!(cc.count(MINT), 3, "one mint per cell, across both gates");
    let calls = limits.calls.lock().unwrap();
    let mints: Vec<_> = calls.iter().filter(|(k, ..)| *k == "mint").collect();
    assert_eq!(mints.len(), 6);
    assert!(
        mints
            .iter()
            .all(|(_, uid, limit)| uid.as_deref() == Some("ada") && *limit == per_user),
        "{mints:?}"
    );
}

#[tokio::test]
async fn the_upstream_budget_is_taken_from_the_store_per_call() {
    let cc = FakeCometChat::start().await;
    let limits = Shared::with(&[("upstream", Script::Cells(2))]);
    let gate = builder(fake_config(&cc))
        .limit_store(Arc::clone(&limits))
        .build()
        .unwrap();
    // A new user costs two calls: the mint (404) and the create that returns a token.
    assert_eq!(gate.answer(&request("good:bea")).await.status(), 200);
    assert_eq!(limits.calls("upstream"), 2);
    let answer = gate.answer(&request("good:bea")).await;
    assert_eq!(answer.status(), 503);
    assert_eq!(
        problem_type(&answer),
        Some(ProblemType::UpstreamBudgetExhausted)
    );
    assert_eq!(cc.count(MINT), 1, "the refused call was not made");
}

#[tokio::test]
async fn a_broken_limit_store_is_a_503_and_no_upstream_call() {
    for kind in ["mint", "upstream"] {
        let cc = FakeCometChat::start().await;
        let gate = builder(fake_config(&cc))
            .limit_store(Shared::with(&[(kind, Script::Broken)]))
            .build()
            .unwrap();
        let answer = gate.answer(&request("good:cy")).await;
        assert_eq!(answer.status(), 503, "{kind}");
        assert_eq!(
            problem_type(&answer),
            Some(ProblemType::StoreUnavailable),
            "{kind}"
        );
        assert!(answer.header("retry-after").is_some(), "{kind}");
        assert_eq!(cc.count(MINT), 0, "{kind}");
        cc.assert_no_unexpected();
    }
}

#[tokio::test]
async fn revoking_all_takes_its_own_cells_and_unlimited_limits_ask_no_store() {
    let cc = FakeCometChat::start().await;
    let limits = Shared::with(&[("revoke", Script::Cells(1))]);
    let gate = builder(fake_config(&cc))
        .limit_store(Arc::clone(&limits))
        .build()
        .unwrap();
    assert_eq!(gate.answer(&request("good:dan")).await.status(), 200);
    let all = r#"{"all": true}"#;
    assert_eq!(revoke(&gate, "good:dan", all).await.status(), 204);
    let refused = revoke(&gate, "good:dan", all).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(limits.calls("revoke"), 2);

    let unlimited = Shared::with(&[]);
    let gate = builder(fake_config(&cc))
        .per_user_limit(RateLimit::unlimited())
        .upstream_budget(RateLimit::unlimited())
        .limit_store(Arc::clone(&unlimited))
        .build()
        .unwrap();
    assert_eq!(gate.answer(&request("good:eli")).await.status(), 200);
    assert_eq!(revoke(&gate, "good:eli", all).await.status(), 204);
    assert!(unlimited.calls.lock().unwrap().is_empty());
}

/// The per-user cell is spent by the gate that mints, not by gates waiting for its token: one
/// cell in the shared store still serves a burst for one device spread over three gates.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gates_waiting_for_another_gates_mint_spend_no_user_cell() {
    let cc = cometchat_fake::FakeCometChat::builder()
        .seed_user(cometchat_fake::FakeUser::new("cat", "Cat"))
        .start()
        .await
        .unwrap();
    let limits = Shared::with(&[("mint", Script::Cells(1))]);
    let tokens = Arc::new(cometgate::store::MemoryStore::new());
    let gates: Vec<_> = (0..3)
        .map(|_| {
            builder(fake_config(&cc))
                .token_store(Arc::clone(&tokens))
                .limit_store(Arc::clone(&limits))
                .build()
                .unwrap()
        })
        .collect();
    cc.push_faults(MINT, [cometchat_fake::Fault::Delay { ms: 300 }]);
    let asks: Vec<_> = (0..30)
        .map(|i| tokio::spawn(gates[i % 3].answer_on(&request("good:cat"), "phone")))
        .collect();
    for ask in asks {
        assert_eq!(ask.await.unwrap().status(), 200);
    }
    assert_eq!(cc.count(MINT), 1);
    assert_eq!(limits.calls("mint"), 1, "one cell, for the one mint");
}
