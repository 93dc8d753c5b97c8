//! The metrics contract (feature `metrics`): each scripted step against `cometchat-fake` moves
//! exactly the counters it should, by exactly the right amount; every label keeps to its fixed
//! set of values; no subject or device id ever reaches a label.
//!
//! Each test records into its own `metrics-util` debugging recorder, installed for the test's
//! thread only, on a current-thread runtime (so the tasks the gate spawns record there too).
//! Every snapshot takes the counters' movements since the previous one.
#![cfg(feature = "metrics")]

mod common;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use cometchat_fake::{FakeCometChat, Fault, JournalEntry};
use cometgate::client::TokenValue;
use cometgate::clock::ManualClock;
use cometgate::device::DeviceKey;
use cometgate::identity::SimpleRequest;
use cometgate::store::{Retired, StoreError, TokenStore, TrackedToken};
use cometgate::telemetry::{
    self, ALL_METRICS, HeadroomScope, LimitScope, Operation, REQUEST_OUTCOMES, RouteLabel,
    StoreBackend, TokenEvent,
};
use cometgate::vend::{Gate, RateLimit, TokenPolicy};
use cometgate::{Uid, UidMapper, UidMapping};
use common::*;
use metrics::Label;
use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

const HOUR: Duration = Duration::from_secs(3_600);

/// One metric as recorded: its name and its labels, sorted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Series {
    name: String,
    labels: Vec<(String, String)>,
}

impl Series {
    /// `name{k="v",…}`, the Prometheus notation.
    fn render(&self) -> String {
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        format!("{}{{{}}}", self.name, labels.join(","))
    }
}

/// What moved since the previous snapshot.
#[derive(Debug, Default)]
struct Moved {
    /// Counters that moved, by how much.
    counters: BTreeMap<String, u64>,
    /// Gauges set since the last snapshot: the recorder resets them to 0 when read, so a 0 is
    /// one not set since (the tests never see a real headroom of 0).
    gauges: BTreeMap<String, f64>,
    /// Histograms, by how many values they received.
    histograms: BTreeMap<String, usize>,
    /// Every series seen, for the label contract.
    series: Vec<(MetricKind, Series)>,
}

fn take(snapshotter: &Snapshotter) -> Moved {
    let mut moved = Moved::default();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let (kind, key) = key.into_parts();
        let mut labels: Vec<(String, String)> = key
            .labels()
            .map(|l: &Label| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        labels.sort();
        let series = Series {
            name: key.name().to_owned(),
            labels,
        };
        match value {
            DebugValue::Counter(0) => {}
            DebugValue::Counter(n) => {
                moved.counters.insert(series.render(), n);
            }
            DebugValue::Gauge(g) if g.into_inner() == 0.0 => {}
            DebugValue::Gauge(g) => {
                moved.gauges.insert(series.render(), g.into_inner());
            }
            DebugValue::Histogram(values) if values.is_empty() => {}
            DebugValue::Histogram(values) => {
                moved.histograms.insert(series.render(), values.len());
            }
        }
        moved.series.push((kind, series));
    }
    assert_contract(&moved.series);
    moved
}

fn counts(expected: &[(&str, u64)]) -> BTreeMap<String, u64> {
    expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), *v))
        .collect()
}

/// The counters that moved since the last snapshot are exactly `expected`, by exactly as much.
#[track_caller]
fn assert_moved(snapshotter: &Snapshotter, expected: &[(&str, u64)]) {
    assert_eq!(take(snapshotter).counters, counts(expected));
}

/// Every series is a documented metric of the right kind, with exactly its documented label
/// names, each value from that label's fixed set.
fn assert_contract(series: &[(MetricKind, Series)]) {
    let values = |all: Vec<&'static str>| move |v: &str| all.contains(&v);
    let route = values(RouteLabel::ALL.iter().map(|r| r.as_str()).collect());
    let operation = values(Operation::ALL.iter().map(|o| o.as_str()).collect());
    let event = values(TokenEvent::ALL.iter().map(|e| e.as_str()).collect());
    let limit = values(LimitScope::ALL.iter().map(|s| s.as_str()).collect());
    let headroom = values(HeadroomScope::ALL.iter().map(|s| s.as_str()).collect());
    let backend = values(StoreBackend::ALL.iter().map(|b| b.as_str()).collect());
    let outcome = values(REQUEST_OUTCOMES.to_vec());
    let status = |v: &str| {
        v == telemetry::STATUS_ERROR
            || (v.len() == 3 && v.parse::<u16>().is_ok_and(|c| (100..=599).contains(&c)))
    };
    for (kind, s) in series {
        assert!(ALL_METRICS.contains(&s.name.as_str()), "undocumented {s:?}");
        let (expected_kind, label_names): (MetricKind, &[&str]) = match s.name.as_str() {
            telemetry::REQUESTS_TOTAL => (MetricKind::Counter, &["outcome", "route"]),
            telemetry::REQUEST_DURATION_SECONDS => (MetricKind::Histogram, &["route"]),
            telemetry::UPSTREAM_REQUESTS_TOTAL => (MetricKind::Counter, &["operation", "status"]),
            telemetry::UPSTREAM_DURATION_SECONDS => (MetricKind::Histogram, &["operation"]),
            telemetry::TOKENS_TOTAL => (MetricKind::Counter, &["event"]),
            telemetry::RATE_LIMITED_TOTAL => (MetricKind::Counter, &["scope"]),
            telemetry::COMETCHAT_RATE_LIMIT_REMAINING => (MetricKind::Gauge, &["scope"]),
            telemetry::STORE_ERRORS_TOTAL => (MetricKind::Counter, &["backend"]),
            other => panic!("no contract for {other}"),
        };
        assert_eq!(*kind, expected_kind, "{s:?}");
        let names: Vec<&str> = s.labels.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, label_names, "{s:?}");
        for (k, v) in &s.labels {
            let ok = match (s.name.as_str(), k.as_str()) {
                (_, "route") => route(v),
                (_, "outcome") => outcome(v),
                (_, "operation") => operation(v),
                (_, "status") => status(v),
                (_, "event") => event(v),
                (telemetry::RATE_LIMITED_TOTAL, "scope") => limit(v),
                (_, "scope") => headroom(v),
                (_, "backend") => backend(v),
                _ => false,
            };
            assert!(ok, "{k}={v:?} is not in the fixed set of {}", s.name);
        }
    }
}

/// Runs `test` on a current-thread runtime with a fresh recorder installed for this thread.
fn recorded<F, Fut>(test: F)
where
    F: FnOnce(Snapshotter) -> Fut,
    Fut: Future<Output = ()>,
{
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || runtime.block_on(test(snapshotter)));
}

fn gate(cc: &FakeCometChat, clock: &ManualClock) -> Gate<TestAuth> {
    let policy = TokenPolicy::default()
        .tokens_per_user(2)
        .unwrap()
        .max_age(Some(24 * HOUR))
        .unwrap()
        .recheck(None);
    builder(fake_config(cc))
        .token_policy(policy)
        .clock(clock.clone())
        .per_user_limit(RateLimit::unlimited())
        .build()
        .unwrap()
}

/// The headroom CometChat's last answer reported, as the gauges must show it.
fn last_headroom(cc: &FakeCometChat) -> BTreeMap<String, f64> {
    let journal: Vec<JournalEntry> = cc.journal();
    let last = journal.last().expect("a call to the fake");
    let header = |name: &str| -> f64 {
        last.response_headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or_else(|| panic!("the fake sent no {name}"))
    };
    BTreeMap::from([
        (
            r#"cometgate_cometchat_rate_limit_remaining{scope="app"}"#.to_owned(),
            header("x-ratelimit-remaining-for-app"),
        ),
        (
            r#"cometgate_cometchat_rate_limit_remaining{scope="user"}"#.to_owned(),
            header("x-ratelimit-remaining"),
        ),
    ])
}

#[test]
fn every_lifecycle_step_moves_exactly_its_counters() {
    recorded(|snapshotter| async move {
        let cc = FakeCometChat::start().await;
        let clock = ManualClock::starting_now();
        let gate = gate(&cc, &clock);
        take(&snapshotter);

        // Mint: a first sign-in costs a mint (404, no such user) and a create with its token.
        let first = gate.answer_on(&request("good:ada"), "phone").await;
        token(&first);
        let moved = take(&snapshotter);
        assert_eq!(
            moved.counters,
            counts(&[
                (
                    r#"cometgate_requests_total{outcome="minted",route="token"}"#,
                    1
                ),
                (r#"cometgate_tokens_total{event="minted"}"#, 1),
                (
                    r#"cometgate_upstream_requests_total{operation="create_user",status="200"}"#,
                    1
                ),
                (
                    r#"cometgate_upstream_requests_total{operation="mint_token",status="404"}"#,
                    1
                ),
            ])
        );
        assert_eq!(
            moved.gauges,
            last_headroom(&cc),
            "the headroom is CometChat's last header"
        );
        assert_eq!(
            moved.histograms,
            counts(&[
                (r#"cometgate_request_duration_seconds{route="token"}"#, 1),
                (
                    r#"cometgate_upstream_duration_seconds{operation="create_user"}"#,
                    1
                ),
                (
                    r#"cometgate_upstream_duration_seconds{operation="mint_token"}"#,
                    1
                ),
            ])
            .into_iter()
            .map(|(k, v)| (k, v as usize))
            .collect()
        );

        // Reuse: no upstream call.
        let again = gate.answer_on(&request("good:ada"), "phone").await;
        assert_eq!(token(&again), token(&first));
        let moved = take(&snapshotter);
        assert_eq!(
            moved.counters,
            counts(&[
                (
                    r#"cometgate_requests_total{outcome="reused",route="token"}"#,
                    1
                ),
                (r#"cometgate_tokens_total{event="reused"}"#, 1),
            ])
        );
        assert!(moved.gauges.is_empty(), "no call, no new headroom");

        // Refresh: one token minted, the old one revoked.
        let refreshed = gate
            .answer_with(
                &request("good:ada"),
                r#"{"deviceId": "phone", "refresh": true}"#.to_owned(),
            )
            .await;
        assert_ne!(token(&refreshed), token(&first));
        let moved = take(&snapshotter);
        assert_eq!(
            moved.counters,
            counts(&[
                (
                    r#"cometgate_requests_total{outcome="refreshed",route="token"}"#,
                    1
                ),
                (r#"cometgate_tokens_total{event="minted"}"#, 1),
                (r#"cometgate_tokens_total{event="revoked"}"#, 1),
                (
                    r#"cometgate_upstream_requests_total{operation="delete_token",status="200"}"#,
                    1
                ),
                (
                    r#"cometgate_upstream_requests_total{operation="mint_token",status="200"}"#,
                    1
                ),
            ])
        );
        assert_eq!(moved.gauges, last_headroom(&cc));

        // Revoke one device.
        let revoked = revoke(&gate, "good:ada", r#"{"deviceId": "phone"}"#).await;
        assert_eq!(revoked.status(), 204);
        assert_moved(
            &snapshotter,
            &[
                (
                    r#"cometgate_requests_total{outcome="revoked",route="revoke"}"#,
                    1,
                ),
                (r#"cometgate_tokens_total{event="revoked"}"#, 1),
                (
                    r#"cometgate_upstream_requests_total{operation="delete_token",status="200"}"#,
                    1,
                ),
            ],
        );

        // 401: nothing but the refusal.
        let missing = gate.answer(&SimpleRequest::post("/cometchat-token")).await;
        assert_eq!(missing.status(), 401);
        assert_moved(
            &snapshotter,
            &[(
                r#"cometgate_requests_total{outcome="missing-credentials",route="token"}"#,
                1,
            )],
        );

        // Eviction: a third device over the cap of two deletes the least recently used one.
        for device in ["phone", "tablet"] {
            token(&gate.answer_on(&request("good:bob"), device).await);
        }
        take(&snapshotter);
        token(&gate.answer_on(&request("good:bob"), "laptop").await);
        assert_moved(
            &snapshotter,
            &[
                (
                    r#"cometgate_requests_total{outcome="minted",route="token"}"#,
                    1,
                ),
                (r#"cometgate_tokens_total{event="evicted"}"#, 1),
                (r#"cometgate_tokens_total{event="minted"}"#, 1),
                (
                    r#"cometgate_upstream_requests_total{operation="delete_token",status="200"}"#,
                    1,
                ),
                (
                    r#"cometgate_upstream_requests_total{operation="mint_token",status="200"}"#,
                    1,
                ),
            ],
        );

        // Expiry: the sweep deletes bob's two live tokens (ada has none left).
        clock.advance(25 * HOUR);
        let report = gate.sweep().await;
        assert_eq!(report.deleted, 2);
        let moved = take(&snapshotter);
        assert_eq!(
            moved.counters,
            counts(&[
                (r#"cometgate_tokens_total{event="expired"}"#, 2),
                (
                    r#"cometgate_upstream_requests_total{operation="delete_token",status="200"}"#,
                    2
                ),
            ])
        );
        assert_eq!(moved.gauges, last_headroom(&cc));
    });
}

#[test]
fn logout_everywhere_counts_one_revoked_per_tracked_token() {
    recorded(|snapshotter| async move {
        let cc = FakeCometChat::start().await;
        let clock = ManualClock::starting_now();
        let gate = gate(&cc, &clock);
        for device in ["phone", "tablet"] {
            token(&gate.answer_on(&request("good:ada"), device).await);
        }
        take(&snapshotter);
        let all = revoke(&gate, "good:ada", r#"{"all": true}"#).await;
        assert_eq!(all.status(), 204);
        assert_moved(
            &snapshotter,
            &[
                (
                    r#"cometgate_requests_total{outcome="revoked",route="revoke"}"#,
                    1,
                ),
                (r#"cometgate_tokens_total{event="revoked"}"#, 2),
                (
                    r#"cometgate_upstream_requests_total{operation="flush_tokens",status="200"}"#,
                    1,
                ),
            ],
        );
    });
}

#[test]
fn an_upstream_503_counts_one_failed_call_and_no_token() {
    recorded(|snapshotter| async move {
        let cc = FakeCometChat::start().await;
        // One per attempt: the client retries a 503 three times.
        cc.push_faults(MINT, vec![Fault::status(503); 4]);
        let clock = ManualClock::starting_now();
        let gate = gate(&cc, &clock);
        take(&snapshotter);
        let failed = gate.answer_on(&request("good:ada"), "phone").await;
        assert_eq!(failed.status(), 502);
        assert_moved(
            &snapshotter,
            &[
                (
                    r#"cometgate_requests_total{outcome="upstream-failure",route="token"}"#,
                    1,
                ),
                (
                    r#"cometgate_upstream_requests_total{operation="mint_token",status="503"}"#,
                    1,
                ),
            ],
        );
    });
}

#[test]
fn cometchats_429_counts_once_and_its_window_costs_no_call() {
    recorded(|snapshotter| async move {
        let cc = FakeCometChat::start().await;
        cc.push_faults(
            MINT,
            [Fault::Status {
                status: 429,
                retry_after: Some(30),
            }],
        );
        let clock = ManualClock::starting_now();
        let gate = gate(&cc, &clock);
        take(&snapshotter);
        let busy = gate.answer_on(&request("good:ada"), "phone").await;
        assert_eq!(busy.status(), 503);
        assert_moved(
            &snapshotter,
            &[
                (r#"cometgate_rate_limited_total{scope="cometchat"}"#, 1),
                (
                    r#"cometgate_requests_total{outcome="upstream-rate-limited",route="token"}"#,
                    1,
                ),
                (
                    r#"cometgate_upstream_requests_total{operation="mint_token",status="429"}"#,
                    1,
                ),
            ],
        );
        // Inside the window the client answers without calling.
        let still = gate.answer_on(&request("good:ada"), "phone").await;
        assert_eq!(still.status(), 503);
        assert_moved(
            &snapshotter,
            &[(
                r#"cometgate_requests_total{outcome="upstream-rate-limited",route="token"}"#,
                1,
            )],
        );
    });
}

#[test]
fn the_per_user_limit_and_the_budget_count_their_refusals() {
    recorded(|snapshotter| async move {
        let cc = FakeCometChat::start().await;
        let limited = builder(fake_config(&cc))
            .per_user_limit(RateLimit::per_minute(1))
            .build()
            .unwrap();
        token(&limited.answer(&request("good:ada")).await);
        take(&snapshotter);
        let refused = limited.answer(&request("good:ada")).await;
        assert_eq!(refused.status(), 429);
        assert_moved(
            &snapshotter,
            &[
                (r#"cometgate_rate_limited_total{scope="user"}"#, 1),
                (
                    r#"cometgate_requests_total{outcome="rate-limited",route="token"}"#,
                    1,
                ),
            ],
        );

        // A budget of one call: the first sign-in's mint spends it, its create is refused.
        let budgeted = builder(fake_config(&cc))
            .upstream_budget(RateLimit::per_minute(1))
            .build()
            .unwrap();
        let spent = budgeted.answer(&request("good:bob")).await;
        assert_eq!(spent.status(), 503);
        assert_moved(
            &snapshotter,
            &[
                (r#"cometgate_rate_limited_total{scope="budget"}"#, 1),
                (
                    r#"cometgate_requests_total{outcome="upstream-budget-exhausted",route="token"}"#,
                    1,
                ),
                (
                    r#"cometgate_upstream_requests_total{operation="mint_token",status="404"}"#,
                    1,
                ),
            ],
        );
    });
}

/// A store whose every operation fails.
#[derive(Debug)]
struct BrokenStore;

fn broken() -> StoreError {
    StoreError::new("the test store is down")
}

#[async_trait]
impl TokenStore for BrokenStore {
    async fn get(&self, _: &Uid, _: DeviceKey, _: u64) -> Result<Option<TrackedToken>, StoreError> {
        Err(broken())
    }
    async fn confirm(
        &self,
        _: &Uid,
        _: DeviceKey,
        _: &TokenValue,
        _: u64,
    ) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn track(
        &self,
        _: &Uid,
        _: DeviceKey,
        _: TrackedToken,
        _: usize,
    ) -> Result<Vec<Retired>, StoreError> {
        Err(broken())
    }
    async fn forget(&self, _: &Uid, _: DeviceKey) -> Result<Option<TokenValue>, StoreError> {
        Err(broken())
    }
    async fn forget_user(&self, _: &Uid) -> Result<Vec<TokenValue>, StoreError> {
        Err(broken())
    }
    async fn take_due(&self, _: u64, _: usize) -> Result<Vec<Retired>, StoreError> {
        Err(broken())
    }
    async fn defer(&self, _: Vec<Retired>) -> Result<(), StoreError> {
        Err(broken())
    }
}

#[test]
fn store_failures_count_under_their_backend() {
    recorded(|snapshotter| async move {
        let cc = FakeCometChat::start().await;
        let gate = builder(fake_config(&cc))
            .token_store(BrokenStore)
            .build()
            .unwrap();
        take(&snapshotter);
        let down = gate.answer_on(&request("good:ada"), "phone").await;
        assert_eq!(down.status(), 503);
        assert_moved(
            &snapshotter,
            &[
                (
                    r#"cometgate_requests_total{outcome="store-unavailable",route="token"}"#,
                    1,
                ),
                (r#"cometgate_store_errors_total{backend="custom"}"#, 1),
            ],
        );
        gate.sweep().await;
        assert_moved(
            &snapshotter,
            &[(r#"cometgate_store_errors_total{backend="custom"}"#, 1)],
        );
    });
}

#[test]
fn the_memory_store_reports_its_backend() {
    assert_eq!(
        cometgate::MemoryStore::default().backend(),
        StoreBackend::Memory
    );
    assert_eq!(BrokenStore.backend(), StoreBackend::Custom);
}

/// Subjects and device ids: long enough that a match with a fixed label value cannot be chance.
fn identifier() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.:-]{8,40}"
}

#[test]
fn no_subject_or_device_id_ever_reaches_a_label() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        let (_cc, gate) = runtime.block_on(async {
            let cc = FakeCometChat::start().await;
            let gate = builder(fake_config(&cc))
                .uid_mapper(UidMapper::shared_namespace(UidMapping::Readable))
                .per_user_limit(RateLimit::unlimited())
                .build()
                .unwrap();
            (cc, gate)
        });
        let mut runner = TestRunner::new(ProptestConfig::with_cases(256));
        let result = runner.run(
            &(identifier(), identifier(), any::<bool>()),
            |(subject, device, refresh)| {
                let bearer = format!("good:{subject}");
                let body = serde_json::json!({ "deviceId": device, "refresh": refresh });
                let answers = runtime.block_on(async {
                    let minted = gate.answer_with(&request(&bearer), body.to_string()).await;
                    let revoked = revoke(
                        &gate,
                        &bearer,
                        &serde_json::json!({ "deviceId": device }).to_string(),
                    )
                    .await;
                    (minted.status(), revoked.status())
                });
                let moved = take(&snapshotter);
                prop_assert!(!moved.counters.is_empty(), "the case recorded nothing");
                for (_, series) in &moved.series {
                    for (_, value) in &series.labels {
                        prop_assert!(
                            !value.contains(subject.as_str()) && !value.contains(device.as_str()),
                            "{value:?} names the caller ({answers:?})"
                        );
                    }
                }
                Ok(())
            },
        );
        result.unwrap();
    });
}

#[test]
fn a_deferred_delete_counts_once_when_the_sweep_finishes_it() {
    recorded(|snapshotter| async move {
        let cc = FakeCometChat::start().await;
        let clock = ManualClock::starting_now();
        let gate = gate(&cc, &clock);
        token(&gate.answer_on(&request("good:ada"), "phone").await);
        take(&snapshotter);
        // CometChat fails the logout's delete on every attempt: deferred, not yet revoked.
        cc.push_faults(
            "DELETE /users/{uid}/auth_tokens/{authToken}",
            vec![Fault::status(503); 4],
        );
        let failed = revoke(&gate, "good:ada", r#"{"deviceId": "phone"}"#).await;
        assert_eq!(failed.status(), 502);
        assert_moved(
            &snapshotter,
            &[
                (
                    r#"cometgate_requests_total{outcome="upstream-failure",route="revoke"}"#,
                    1,
                ),
                (
                    r#"cometgate_upstream_requests_total{operation="delete_token",status="503"}"#,
                    1,
                ),
            ],
        );
        // The sweep deletes it: one revoked token, once.
        assert_eq!(gate.sweep().await.deleted, 1);
        assert_moved(
            &snapshotter,
            &[
                (r#"cometgate_tokens_total{event="revoked"}"#, 1),
                (
                    r#"cometgate_upstream_requests_total{operation="delete_token",status="200"}"#,
                    1,
                ),
            ],
        );
        assert_eq!(gate.sweep().await.deleted, 0);
        assert_moved(&snapshotter, &[]);
    });
}
