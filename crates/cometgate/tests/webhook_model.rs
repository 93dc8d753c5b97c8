//! A model-based property of the webhook receivers, at the core [`Endpoint`] (`serve`, no HTTP
//! adapter) against the fake: random histories of `created` / `updated` / `deleted` events for
//! two or three users, delivered out of time order, some again under the same delivery id
//! (redeliveries), some again under a new one (a sender that resends), with `503`s pushed at
//! the fake's user routes; a delivery answered `503` is delivered again later, with a fresh
//! signed timestamp (as Svix does). The gate's clock is a [`ManualClock`] that moves 10 s per
//! delivery, so every time the gate reads is known to the model.
//!
//! The model is written from the documented rules (`cometgate::store::accounts`,
//! `cometgate::vend::sync`, `cometgate::webhook::receiver`), not from the code:
//! - a delivery whose id was completed is acknowledged and reaches nothing;
//! - any other delivery is ordered by the store before CometChat is called, so it counts even
//!   when its CometChat call then fails. Its time is the event's `updatedAt`
//!   ([`Dated::Event`]), else the end of the signed second, `ts * 1000 + 999`
//!   ([`Dated::Delivery`]); either is clamped to the gate's clock;
//! - a deletion dated by its event is a deletion at that time; one dated by its delivery
//!   deletes everything known so far: a deletion at the newest of its time and every known
//!   creation and profile;
//! - a creation dated by its event is a creation (it can lift a tombstone) and a profile; a
//!   creation dated by its delivery, and any update, is only a profile;
//! - an account is deleted when a deletion is known and no creation is newer than the newest
//!   one (equal times favour the deletion); otherwise it is at CometChat with the name of its
//!   newest profile, or absent when none is known.
//!
//! Checked after every delivery: each account the model says is deleted is refused a token
//! (`403 account-deleted`) with no CometChat call at all; whenever no failed delivery is
//! waiting for its retry, the fake holds exactly what the model says; a redelivery of a
//! completed id calls nothing. At the end (every delivery completed), the fake holds what the
//! model says and nothing outside the sync's routes was called.
//!
//! The sender signs each attempt of one id no earlier than its last attempt (as Svix does).
//! A sender that does not is covered by the test at the end,
//! `a_failed_delivery_completes_when_its_id_comes_again_signed_earlier`.
//!
//! One fake serves the whole property (reset between cases); each case has a fresh gate and
//! clock, so no account record or delivery id leaks from one case to the next.

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use cometchat_fake::{FakeCometChat, Fault};
use cometgate::RateLimit;
use cometgate::clock::{Clock, ManualClock};
use cometgate::endpoint::{Answer, Endpoint};
use cometgate::identity::SimpleRequest;
use cometgate::retry::RetryPolicy;
use cometgate::vend::ProblemType;
use cometgate::webhook::{SigningSecret, UserChange, Webhooks};
use common::{Ask, builder, fake_config, problem_type, request};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const USERS: [&str; 3] = ["ana", "ben", "cy"];
const NAMES: [&str; 4] = ["Ada", "Bea", "Cid", "Dot"];
/// The gate's clock at the start of each case (Unix seconds).
const START: u64 = 1_700_000_000;
/// How far the gate's clock moves before each delivery.
const TICK: u64 = 10;
/// The calls user sync makes, where the upstream faults land.
const SYNC_ROUTES: [&str; 4] = [
    "POST /users",
    "PUT /users/{uid}",
    "DELETE /users/{uid}",
    "DELETE /users/{uid}/auth_tokens",
];

/// One event of the history.
#[derive(Debug, Clone)]
struct Event {
    user: usize,
    change: UserChange,
    name: &'static str,
    /// `updatedAt` (Unix ms), or `None`: the delivery's signed timestamp orders it. Event times
    /// end in 500 ms, clamped ones and delivery times in 000 or 999 of a second no other
    /// delivery of the case was at, so two different profiles never tie.
    updated_at: Option<u64>,
}

/// One delivery the sender makes (and repeats after a `503`).
#[derive(Debug, Clone)]
struct Step {
    event: usize,
    /// Sent under a delivery id of its own, not the event's.
    fresh_id: bool,
    /// `503`s pushed at one sync route before its first attempt.
    faults: Option<(&'static str, usize)>,
    /// How far behind the gate's clock the sender's signed timestamp is (s; negative: ahead;
    /// within the 5 min tolerance). Far enough behind, a delivery-dated change is older than
    /// changes the gate already knows.
    skew: i64,
    /// After a `503`, how many queued deliveries go before its retry.
    retry_after: usize,
}

#[derive(Debug, Clone)]
struct Case {
    events: Vec<Event>,
    steps: Vec<Step>,
}

fn change() -> impl Strategy<Value = UserChange> {
    prop_oneof![
        Just(UserChange::Created),
        Just(UserChange::Updated),
        Just(UserChange::Deleted),
    ]
}

/// `n` events for 2–3 users at distinct times spread around the deliveries (some after the
/// delivery that carries them: clamped to the gate's clock), a quarter without `updatedAt`;
/// each delivered once plus up to four more times, in a shuffled order.
fn case() -> impl Strategy<Value = Case> {
    (2..=3usize, 2..=10usize)
        .prop_flat_map(|(users, n)| {
            let undated = prop::bool::weighted(0.25);
            let events = prop::collection::vec((0..users, change(), 0..NAMES.len(), undated), n);
            let slots = Just((0..3 * n as u64).collect::<Vec<_>>()).prop_shuffle();
            let extra = prop::collection::vec((0..n, any::<bool>()), 0..=4);
            (events, slots, extra)
        })
        .prop_flat_map(|(events, slots, extra)| {
            let n = events.len() as u64;
            let events: Vec<Event> = events
                .into_iter()
                .zip(slots)
                .map(|((user, change, name, undated), slot)| Event {
                    user,
                    change,
                    name: NAMES[name],
                    // From 5n s before the first delivery to 10n s after it.
                    updated_at: (!undated).then(|| (START - 5 * n + 5 * slot) * 1000 + 500),
                })
                .collect();
            let order: Vec<(usize, bool)> =
                (0..events.len()).map(|i| (i, false)).chain(extra).collect();
            let len = order.len();
            let details = prop::collection::vec(
                (
                    prop::option::weighted(
                        0.3,
                        (prop::sample::select(&SYNC_ROUTES[..]), 1..=2usize),
                    ),
                    prop_oneof![-3..=3i64, 0..=250i64],
                    0..=3usize,
                ),
                len,
            );
            (Just(events), Just(order).prop_shuffle(), details)
        })
        .prop_map(|(events, order, details)| Case {
            events,
            steps: order
                .into_iter()
                .zip(details)
                .map(|((event, fresh_id), (faults, skew, retry_after))| Step {
                    event,
                    fresh_id,
                    faults,
                    skew,
                    retry_after,
                })
                .collect(),
        })
}

/// How the gate dates a change (ms, already clamped to its clock).
#[derive(Debug, Clone, Copy)]
enum Dated {
    Event(u64),
    Delivery(u64),
}

/// What the gate knows of one account: every change that reached its store.
#[derive(Debug, Default)]
struct Account {
    deletions: Vec<u64>,
    /// Event-dated creations only: the changes that can lift a tombstone.
    creations: Vec<u64>,
    /// Every creation and update.
    profiles: Vec<(u64, &'static str)>,
}

/// What the model says of one user.
#[derive(Debug, PartialEq, Eq)]
enum Expected {
    Deleted,
    Present(&'static str),
    Absent,
}

impl Account {
    fn record(&mut self, change: UserChange, dated: Dated, name: &'static str) {
        match (change, dated) {
            (UserChange::Deleted, Dated::Event(at)) => self.deletions.push(at),
            (UserChange::Deleted, Dated::Delivery(at)) => {
                let known = self.creations.iter().copied();
                let known = known.chain(self.profiles.iter().map(|(t, _)| *t));
                self.deletions.push(known.fold(at, u64::max));
            }
            (UserChange::Created, Dated::Event(at)) => {
                self.creations.push(at);
                self.profiles.push((at, name));
            }
            (UserChange::Created | UserChange::Updated, Dated::Event(at) | Dated::Delivery(at)) => {
                self.profiles.push((at, name));
            }
        }
    }

    fn expected(&self) -> Expected {
        let deleted = self.deletions.iter().max();
        let created = self.creations.iter().max();
        if deleted.is_some_and(|d| created.is_none_or(|c| c <= d)) {
            return Expected::Deleted;
        }
        self.profiles
            .iter()
            .max_by_key(|(t, _)| *t)
            .map_or(Expected::Absent, |(_, name)| Expected::Present(name))
    }
}

fn body(event: &Event) -> String {
    let kind = match event.change {
        UserChange::Created => "user.created",
        UserChange::Updated => "user.updated",
        UserChange::Deleted => "user.deleted",
    };
    let mut data = json!({"subject": USERS[event.user], "name": event.name});
    if let Some(at) = event.updated_at {
        data["updatedAt"] = json!(at);
    }
    json!({"type": kind, "data": data}).to_string()
}

async fn deliver(
    endpoint: &Endpoint<common::TestAuth>,
    event: &Event,
    id: &str,
    ts: u64,
) -> Answer {
    let body = body(event);
    let signature = SigningSecret::parse(SECRET)
        .expect("secret")
        .sign(id, ts, body.as_bytes());
    let request = SimpleRequest::post("/cometchat-webhooks/standard")
        .with_header("webhook-id", id)
        .with_header("webhook-timestamp", ts.to_string())
        .with_header("webhook-signature", signature);
    endpoint
        .serve(&request, Bytes::from(body))
        .expect("the webhook route")
        .await
}

fn check(cond: bool, message: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if cond {
        Ok(())
    } else {
        Err(TestCaseError::fail(message()))
    }
}

fn calls(cc: &FakeCometChat) -> usize {
    cc.route_counts().values().sum()
}

/// Every account the model says is deleted is refused a token (`403 account-deleted`) with
/// no CometChat call.
async fn deleted_stay_deleted(
    cc: &FakeCometChat,
    endpoint: &Endpoint<common::TestAuth>,
    accounts: &[Account],
) -> Result<(), TestCaseError> {
    for (account, subject) in accounts.iter().zip(USERS) {
        if account.expected() != Expected::Deleted {
            continue;
        }
        let before = calls(cc);
        let answer = endpoint
            .gate()
            .answer_on(&request(&format!("good:{subject}")), "phone")
            .await;
        check(
            problem_type(&answer) == Some(ProblemType::AccountDeleted),
            || format!("{subject} is deleted, yet its token request got {answer:?}"),
        )?;
        check(calls(cc) == before, || {
            format!("{subject} is deleted, yet its token request called CometChat")
        })?;
    }
    Ok(())
}

/// The fake holds what the model says of every user.
fn fake_agrees(cc: &FakeCometChat, accounts: &[Account], when: &str) -> Result<(), TestCaseError> {
    for (account, subject) in accounts.iter().zip(USERS) {
        let at_fake = cc.user(subject).map(|u| u.name);
        let model = account.expected();
        let agrees = match &model {
            Expected::Deleted | Expected::Absent => at_fake.is_none(),
            Expected::Present(name) => at_fake.as_deref() == Some(*name),
        };
        check(agrees, || {
            format!("{when}, {subject}: the model says {model:?}, the fake has {at_fake:?}")
        })?;
    }
    Ok(())
}

/// How often the cases met each situation the model distinguishes: the property checks that
/// every one was met, so a generator that drifted would fail rather than pass vacuously.
#[derive(Debug, Default)]
struct Seen {
    failed: usize,
    redelivered: usize,
    resent: usize,
    clamped: usize,
    deleted_all_known: usize,
    lifted: usize,
    /// A delivery-dated creation that reached a deleted account (it must not lift it).
    undated_creation_on_tombstone: usize,
    ended: BTreeMap<&'static str, usize>,
}

impl Seen {
    fn all_met(&self) -> bool {
        [
            self.failed,
            self.redelivered,
            self.resent,
            self.clamped,
            self.deleted_all_known,
            self.lifted,
            self.undated_creation_on_tombstone,
        ]
        .iter()
        .all(|n| *n > 0)
            && self.ended.len() == 3
    }
}

/// A fresh gate on `clock` serving the `standard` source. No retries inside the gate: one
/// pushed 503 fails the delivery, which the sender repeats. No budget: only the faults make a
/// delivery fail.
fn endpoint(cc: &FakeCometChat, clock: &ManualClock) -> Endpoint<common::TestAuth> {
    let gate = builder(fake_config(cc))
        .retry_policy(RetryPolicy::no_retry(Duration::from_secs(2)))
        .upstream_budget(RateLimit::unlimited())
        .clock(clock.clone())
        .build()
        .expect("gate");
    let webhooks = Webhooks::new().standard(SECRET.parse().expect("secret"), "test");
    Endpoint::new(gate).with_webhooks(webhooks)
}

async fn run_case(cc: &FakeCometChat, case: &Case, seen: &mut Seen) -> Result<(), TestCaseError> {
    cc.reset();
    let clock = ManualClock::at(START);
    let endpoint = endpoint(cc, &clock);
    let mut accounts: Vec<Account> = USERS.iter().map(|_| Account::default()).collect();
    // (step index, whether this is a retry after a 503)
    let mut queue: VecDeque<(usize, bool)> = (0..case.steps.len()).map(|i| (i, false)).collect();
    let mut done = BTreeSet::new();
    let mut signed_in: BTreeMap<u64, String> = BTreeMap::new();
    let mut last_signed: BTreeMap<String, u64> = BTreeMap::new();
    let mut log = Vec::new();
    while let Some((index, retry)) = queue.pop_front() {
        let step = &case.steps[index];
        let event = &case.events[step.event];
        clock.advance(Duration::from_secs(TICK));
        let now_ms = clock.unix_millis();
        if !retry && let Some((route, n)) = step.faults {
            cc.push_faults(route, std::iter::repeat_n(Fault::status(503), n));
        }
        let id = if step.fresh_id {
            format!("resent_{index}")
        } else {
            format!("evt_{}", step.event)
        };
        // The sender signs each attempt of one id no earlier than the last (Svix signs every
        // attempt when it sends it; the test below covers a sender that does not), in a
        // second no other id was signed in, so two delivery-dated profiles never tie (a tie
        // has no documented winner).
        let mut ts = clock.unix_seconds().saturating_add_signed(-step.skew);
        if let Some(&last) = last_signed.get(&id) {
            ts = ts.max(last);
        }
        while signed_in.get(&ts).is_some_and(|other| *other != id) {
            ts += 1;
        }
        signed_in.insert(ts, id.clone());
        last_signed.insert(id.clone(), ts);
        let before = calls(cc);
        let answer = deliver(&endpoint, event, &id, ts).await;
        let duplicate = done.contains(&id);
        if duplicate {
            seen.redelivered += 1;
        } else {
            let dated = match event.updated_at {
                Some(at) => Dated::Event(at.min(now_ms)),
                None => Dated::Delivery((ts * 1000 + 999).min(now_ms)),
            };
            let account = &mut accounts[event.user];
            let was_deleted = account.expected() == Expected::Deleted;
            account.record(event.change, dated, event.name);
            seen.clamped += usize::from(event.updated_at.is_some_and(|at| at > now_ms));
            seen.lifted += usize::from(was_deleted && account.expected() != Expected::Deleted);
            seen.undated_creation_on_tombstone += usize::from(
                was_deleted && event.change == UserChange::Created && event.updated_at.is_none(),
            );
            if let (UserChange::Deleted, Dated::Delivery(at)) = (event.change, dated) {
                seen.deleted_all_known += usize::from(account.deletions.last() > Some(&at));
            }
        }
        seen.resent += usize::from(step.fresh_id && !retry);
        log.push(format!("{id} {event:?} ts={ts}: {}", answer.status()));
        let context = || format!("after {log:#?}");
        match answer.status() {
            204 if duplicate => check(calls(cc) == before, || {
                format!(
                    "a redelivery of a completed id called CometChat, {}",
                    context()
                )
            })?,
            204 => {
                done.insert(id);
            }
            503 => {
                seen.failed += 1;
                check(!duplicate, || {
                    format!("a completed id failed, {}", context())
                })?;
                check(answer.header("retry-after").is_some(), || {
                    format!("a 503 without Retry-After: {answer:?}")
                })?;
                queue.insert(step.retry_after.min(queue.len()), (index, true));
            }
            other => {
                return Err(TestCaseError::fail(format!(
                    "{other} {answer:?}, {}",
                    context()
                )));
            }
        }
        deleted_stay_deleted(cc, &endpoint, &accounts).await?;
        if !queue.iter().any(|(_, retry)| *retry) {
            fake_agrees(cc, &accounts, &context())?;
        }
    }
    fake_agrees(cc, &accounts, "at the end")?;
    for account in &accounts {
        let end = match account.expected() {
            Expected::Deleted => "deleted",
            Expected::Present(_) => "present",
            Expected::Absent => "absent",
        };
        *seen.ended.entry(end).or_default() += 1;
    }
    let outside: BTreeMap<_, _> = cc
        .route_counts()
        .into_iter()
        .filter(|(route, _)| !SYNC_ROUTES.contains(&route.as_str()))
        .collect();
    check(outside.is_empty(), || {
        format!("calls outside the sync: {outside:?}")
    })
}

#[test]
fn the_fake_ends_as_the_newest_events_say_and_deleted_users_stay_deleted() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let cc = runtime.block_on(FakeCometChat::start());
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let seen = std::sync::Mutex::new(Seen::default());
    let result = runner.run(&case(), |case| {
        let mut seen = seen.lock().expect("not poisoned");
        runtime.block_on(run_case(&cc, &case, &mut seen))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let seen = seen.into_inner().expect("not poisoned");
    eprintln!("{seen:?}");
    assert!(seen.all_met(), "a situation was never met: {seen:?}");
}

/// A delivery-dated change whose CometChat call failed completes when the same delivery id
/// comes again signed earlier than the failed attempt: the record is unsettled until CometChat
/// reflects it, so the earlier-signed attempt, ordered as older, re-applies the record's state
/// instead of being acknowledged with nothing done (and its id remembered as complete, which
/// used to leave the profile lost: the sender stops at the `204`). Svix signs each attempt
/// when it sends it, so one sender does this only with a clock that went back; two gate
/// replicas whose clocks differ by more than the retry interval do it too (the second
/// attempt's time is clamped to the slower clock).
#[tokio::test]
async fn a_failed_delivery_completes_when_its_id_comes_again_signed_earlier() {
    let cc = FakeCometChat::start().await;
    let clock = ManualClock::at(START);
    let endpoint = endpoint(&cc, &clock);
    let event = Event {
        user: 0,
        change: UserChange::Updated,
        name: "Bea",
        updated_at: None,
    };
    cc.push_faults("PUT /users/{uid}", [Fault::status(503)]);
    let first = deliver(&endpoint, &event, "msg_1", START).await;
    assert_eq!(first.status(), 503, "{first:?}");
    clock.advance(Duration::from_secs(TICK));
    let earlier = deliver(&endpoint, &event, "msg_1", START - 1).await;
    assert_eq!(earlier.status(), 204, "{earlier:?}");
    assert_eq!(
        cc.user(USERS[0]).map(|u| u.name).as_deref(),
        Some("Bea"),
        "the sender stops at this 204: the profile must be at CometChat now"
    );
    let puts = cc.count("PUT /users/{uid}");
    clock.advance(Duration::from_secs(TICK));
    let later = deliver(&endpoint, &event, "msg_1", START + 2 * TICK).await;
    assert_eq!(later.status(), 204, "{later:?}");
    assert_eq!(
        cc.user(USERS[0]).map(|u| u.name).as_deref(),
        Some("Bea"),
        "every attempt of msg_1 was answered, the last 204, yet CometChat never got its profile"
    );
    assert_eq!(
        cc.count("PUT /users/{uid}"),
        puts,
        "the last attempt is a duplicate"
    );
}
