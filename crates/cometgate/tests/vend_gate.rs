//! The Gate end to end against a real loopback upstream: `cometchat-fake` for stateful runs
//! (provisioning, journal), `wiremock` for scripted answers (4xx, 429, hangs, echoed keys).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cometchat_fake::{FakeCometChat, FakeUser, Fault};
use cometgate::endpoint::{BodyRead, Endpoint};
use cometgate::identity::SimpleRequest;
use cometgate::retry::RetryPolicy;
use cometgate::vend::{Gate, ProblemType, RateLimit};
use cometgate::{Principal, Rejection};
use proptest::prelude::*;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Against cometchat-fake
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn mints_a_token_for_an_existing_user() {
    let cc = FakeCometChat::builder()
        .seed_user(FakeUser::new("alice", "Alice"))
        .start()
        .await
        .unwrap();
    let gate = builder(fake_config(&cc)).build().unwrap();

    let answer = gate.answer(&request("good:alice")).await;

    assert_eq!(answer.status(), 200, "{answer:?}");
    assert_eq!(
        header(&answer, "cache-control").as_deref(),
        Some("no-store")
    );
    assert_eq!(
        header(&answer, "content-type").as_deref(),
        Some("application/json")
    );
    let json = body(&answer);
    assert_eq!(json["uid"], "alice");
    let token = json["authToken"].as_str().unwrap().to_owned();
    assert_eq!(cc.tokens("alice"), vec![token]);
    assert_eq!(cc.count(MINT), 1);
    assert_eq!(cc.count(CREATE), 0);
    cc.assert_secret_never_sent(cc.api_key());
}

#[tokio::test]
async fn provisions_a_new_user_just_in_time_with_the_principals_name() {
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc)).build().unwrap();

    let answer = gate.answer(&request("good:bob:Bob Builder")).await;
    assert_eq!(answer.status(), 200, "{answer:?}");
    assert_eq!(cc.user("bob").unwrap().name, "Bob Builder");
    // mint (not found), then create with `withAuthToken`: two calls, the create's token used.
    assert_eq!(cc.count(MINT), 1);
    assert_eq!(cc.count(CREATE), 1);
    let create = &cc.requests_to(CREATE)[0];
    let sent: serde_json::Value = serde_json::from_str(&create.body).unwrap();
    assert_eq!(sent["withAuthToken"], true);
    assert_eq!(
        cc.tokens("bob"),
        vec![body(&answer)["authToken"].as_str().unwrap().to_owned()]
    );

    // No name: the UID stands in, since CometChat requires one.
    let answer = gate.answer(&request("good:carol")).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(cc.user("carol").unwrap().name, "carol");
}

#[tokio::test]
async fn without_jit_an_unknown_user_is_a_502_after_one_call() {
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc))
        .jit_provisioning(false)
        .build()
        .unwrap();
    let answer = gate.answer(&request("good:dave")).await;
    assert_eq!(problem_type(&answer), Some(ProblemType::UpstreamFailure));
    assert_eq!(answer.status(), 502);
    assert_eq!(cc.count(MINT), 1);
    assert_eq!(cc.count(CREATE), 0);
    assert!(cc.user("dave").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_parallel_first_requests_create_at_most_once_and_all_succeed() {
    let cc = FakeCometChat::start().await;
    // Hold the first mint so that every request arrives while it is in flight.
    cc.push_faults(MINT, [Fault::Delay { ms: 300 }]);
    // Default per-user limit (burst 5): requests that join the mint in flight cost nothing.
    let gate = builder(fake_config(&cc)).build().unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let gate = gate.clone();
            tokio::spawn(async move {
                gate.answer_on(&request("good:newbie:Newbie"), "phone")
                    .await
            })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        let answer = task.await.unwrap();
        assert_eq!(answer.status(), 200, "{answer:?}");
        tokens.push(body(&answer)["authToken"].as_str().unwrap().to_owned());
    }
    let created = cc.requests_to(CREATE);
    assert!(created.iter().filter(|e| e.status == Some(200)).count() <= 1);
    assert_eq!(cc.users().len(), 1);
    // One flight: mint (not found), create with its token; everyone shares it.
    assert_eq!(cc.route_counts()[MINT], 1, "{:?}", cc.route_counts());
    assert!(tokens.iter().all(|t| t == &tokens[0]));
    assert_eq!(cc.tokens("newbie"), vec![tokens[0].clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_still_get_the_token_when_the_first_caller_goes_away() {
    let cc = FakeCometChat::builder()
        .seed_user(FakeUser::new("olga", "Olga"))
        .start()
        .await
        .unwrap();
    cc.push_faults(MINT, [Fault::Delay { ms: 400 }]);
    let gate = builder(fake_config(&cc)).build().unwrap();
    let leader = {
        let gate = gate.clone();
        tokio::spawn(async move { gate.answer_on(&request("good:olga"), "tablet").await })
    };
    // Let the leader start the mint (it is held upstream for 400 ms), then join it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let followers: Vec<_> = (0..5)
        .map(|_| {
            let gate = gate.clone();
            tokio::spawn(async move { gate.answer_on(&request("good:olga"), "tablet").await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    leader.abort(); // the first client disconnected
    let mut tokens = Vec::new();
    for f in followers {
        let answer = f.await.unwrap();
        assert_eq!(answer.status(), 200, "{answer:?}");
        tokens.push(body(&answer)["authToken"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        cc.count(MINT),
        1,
        "the followers finished the leader's mint"
    );
    assert!(tokens.iter().all(|t| t == &tokens[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_racing_to_create_a_user_both_succeed() {
    // Two gates share no single-flight state, like two replicas: both find the user missing,
    // one create wins, the other sees ERR_UID_ALREADY_EXISTS and mints anyway.
    let cc = FakeCometChat::start().await;
    cc.push_faults(MINT, [Fault::Delay { ms: 200 }, Fault::Delay { ms: 200 }]);
    let gates: Vec<_> = (0..2)
        .map(|_| builder(fake_config(&cc)).build().unwrap())
        .collect();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let gate = gates[i % 2].clone();
            tokio::spawn(async move { gate.answer_on(&request("good:racer"), "laptop").await })
        })
        .collect();
    for task in tasks {
        let answer = task.await.unwrap();
        assert_eq!(answer.status(), 200, "{answer:?}");
    }
    let created = cc.requests_to(CREATE);
    assert!(created.len() <= 2, "at most one create per replica");
    assert_eq!(created.iter().filter(|e| e.status == Some(200)).count(), 1);
    assert_eq!(cc.users().len(), 1);
}

#[tokio::test]
async fn unauthenticated_requests_never_reach_cometchat() {
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc)).realm("chat").build().unwrap();

    let missing = gate.answer(&SimpleRequest::post("/cometchat-token")).await;
    assert_eq!(
        problem_type(&missing),
        Some(ProblemType::MissingCredentials)
    );
    assert_eq!(
        header(&missing, "www-authenticate").as_deref(),
        Some("Bearer realm=\"chat\"")
    );

    let basic =
        SimpleRequest::post("/cometchat-token").with_header("authorization", "Basic Zm9vOmJhcg==");
    let invalid = gate.answer(&basic).await;
    assert_eq!(
        problem_type(&invalid),
        Some(ProblemType::InvalidCredentials)
    );
    assert_eq!(
        header(&invalid, "www-authenticate").as_deref(),
        Some("Bearer realm=\"chat\", error=\"invalid_token\"")
    );
    let forged = gate.answer(&request("forged:alice")).await;
    assert_eq!(forged.status(), 401);
    assert!(
        !String::from_utf8(forged.body().to_vec())
            .unwrap()
            .contains("unknown test token")
    );

    let refused = gate.answer(&request("banned:alice")).await;
    assert_eq!(problem_type(&refused), Some(ProblemType::IdentityRefused));
    assert_eq!(refused.status(), 403);

    // The app's own extractor found nobody: the same 401, and no call either.
    let mut call = Endpoint::new(gate.clone())
        .route(&SimpleRequest::post("/cometchat-token"))
        .unwrap();
    call.identified(Err(Rejection::Missing));
    assert_eq!(
        call.body_limits(),
        None,
        "no credentials: the body is not waited for"
    );
    let rejected = call.answer(BodyRead::Skipped).await;
    assert_eq!(rejected.status(), 401);

    assert!(cc.journal().is_empty(), "{:?}", cc.route_counts());
}

#[tokio::test]
async fn per_user_limit_answers_429_with_integer_retry_after_and_spares_others() {
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc))
        .per_user_limit(RateLimit::per_minute(10).with_burst(2))
        .build()
        .unwrap();
    for _ in 0..2 {
        assert_eq!(gate.answer(&request("good:eve")).await.status(), 200);
    }
    let limited = gate.answer(&request("good:eve")).await;
    assert_eq!(problem_type(&limited), Some(ProblemType::RateLimited));
    let retry: u64 = header(&limited, "retry-after").unwrap().parse().unwrap();
    assert!((1..=6).contains(&retry), "{retry}");
    let mints_before = cc.count(MINT);

    let other = gate.answer(&request("good:frank")).await;
    assert_eq!(other.status(), 200, "eve's burst must not limit frank");
    assert_eq!(
        cc.count(MINT),
        mints_before + 1,
        "frank: one mint, then the create returns the token"
    );
}

#[tokio::test]
async fn spent_upstream_budget_answers_503_without_calling() {
    let cc = FakeCometChat::builder()
        .seed_user(FakeUser::new("gina", "Gina"))
        .seed_user(FakeUser::new("hank", "Hank"))
        .start()
        .await
        .unwrap();
    let gate = builder(fake_config(&cc))
        .upstream_budget(RateLimit::per_minute(1))
        .build()
        .unwrap();
    assert_eq!(gate.answer(&request("good:gina")).await.status(), 200);
    let answer = gate.answer(&request("good:hank")).await;
    assert_eq!(
        problem_type(&answer),
        Some(ProblemType::UpstreamBudgetExhausted)
    );
    assert_eq!(answer.status(), 503);
    let retry: u64 = header(&answer, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(cc.count(MINT), 1);
}

#[tokio::test]
async fn a_5xx_is_retried_then_succeeds() {
    let cc = FakeCometChat::builder()
        .seed_user(FakeUser::new("ivy", "Ivy"))
        .start()
        .await
        .unwrap();
    cc.push_faults(MINT, [Fault::status(503), Fault::status(500)]);
    let gate = builder(fake_config(&cc)).build().unwrap();
    let answer = gate.answer(&request("good:ivy")).await;
    assert_eq!(answer.status(), 200, "{answer:?}");
    assert_eq!(cc.count(MINT), 3);
}

#[tokio::test]
async fn cometchat_429_is_a_503_with_its_retry_after() {
    let cc = FakeCometChat::builder()
        .seed_user(FakeUser::new("jack", "Jack"))
        .start()
        .await
        .unwrap();
    cc.push_faults(MINT, [Fault::too_many_requests(7)]);
    let gate = builder(fake_config(&cc)).build().unwrap();
    let answer = gate.answer(&request("good:jack")).await;
    assert_eq!(
        problem_type(&answer),
        Some(ProblemType::UpstreamRateLimited)
    );
    assert_eq!(header(&answer, "retry-after").as_deref(), Some("7"));
    assert_eq!(cc.count(MINT), 1, "a 429 is never retried");
}

#[tokio::test]
async fn answer_principal_bypasses_the_identity_and_maps_the_uid() {
    let cc = FakeCometChat::start().await;
    // A gate without identity serves only principals resolved by the adapter.
    let gate = Gate::builder().config(fake_config(&cc)).build().unwrap();
    let request = SimpleRequest::post("/cometchat-token");
    let mut call = Endpoint::new(gate.clone()).route(&request).unwrap();
    call.identified(Ok(Principal::new("iss", "Kim").with_name("Kim")));
    let answer = call.answer(BodyRead::Complete(Bytes::new())).await;
    assert_eq!(answer.status(), 200, "{answer:?}");
    // Default mapping: encoded, so the mixed-case subject stays distinct from "kim".
    let uid = body(&answer)["uid"].as_str().unwrap().to_owned();
    assert_ne!(uid, "kim");
    assert_eq!(cc.user(&uid).unwrap().name, "Kim");

    // An adapter that forgets to identify the caller gets a configuration error, not a 401.
    let call = Endpoint::new(gate.clone()).route(&request).unwrap();
    let misconfigured = call.answer(BodyRead::Skipped).await;
    assert_eq!(
        problem_type(&misconfigured),
        Some(ProblemType::Misconfigured)
    );
}

#[tokio::test]
async fn an_unmappable_principal_is_a_500_without_upstream_calls() {
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc)).build().unwrap();
    // Readable mapping refuses upper case instead of merging users.
    let answer = gate.answer(&request("good:Alice")).await;
    assert_eq!(problem_type(&answer), Some(ProblemType::Misconfigured));
    assert_eq!(answer.status(), 500);
    assert!(cc.journal().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Against wiremock
// ---------------------------------------------------------------------------------------------

fn mint_path() -> wiremock::matchers::PathRegexMatcher {
    path_regex(r"^/v3/users/[^/]+/auth_tokens$")
}

#[tokio::test]
async fn an_upstream_4xx_is_a_502_after_exactly_one_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(mint_path())
        .respond_with(ResponseTemplate::new(401).set_body_string(
            r#"{"error":{"message":"The API Key is invalid","code":"AUTH_ERR_APIKEY_NOT_FOUND"}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let gate = builder(mock_config(&server, "wrongkey")).build().unwrap();
    let answer = gate.answer(&request("good:alice")).await;
    assert_eq!(problem_type(&answer), Some(ProblemType::UpstreamFailure));
    assert_eq!(answer.status(), 502);
    let text = String::from_utf8(answer.body().to_vec()).unwrap();
    assert!(
        !text.contains("API Key") && !text.contains("AUTH_ERR"),
        "{text}"
    );
    server.verify().await;
}

#[tokio::test]
async fn a_user_created_meanwhile_by_someone_else_still_gets_a_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(mint_path())
        .respond_with(ResponseTemplate::new(404).set_body_string(
            r#"{"error":{"message":"The UID alice does not exist","code":"ERR_UID_NOT_FOUND"}}"#,
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/v3/users$"))
        .respond_with(ResponseTemplate::new(400).set_body_string(
            r#"{"error":{"message":"The uid alice already exists","code":"ERR_UID_ALREADY_EXISTS"}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(mint_path())
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"data":{"uid":"alice","authToken":"alice_17000000001a2b3c4d5e6f"}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let gate = builder(mock_config(&server, "key")).build().unwrap();
    let answer = gate.answer(&request("good:alice")).await;
    assert_eq!(answer.status(), 200, "{answer:?}");
    assert_eq!(body(&answer)["authToken"], "alice_17000000001a2b3c4d5e6f");
    server.verify().await;
}

#[tokio::test]
async fn a_hung_upstream_is_a_504_at_the_deadline() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&server)
        .await;
    let gate = builder(mock_config(&server, "key"))
        .retry_policy(
            RetryPolicy::builder()
                .deadline(Duration::from_millis(300))
                .build(),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let answer = gate.answer(&request("good:alice")).await;
    assert_eq!(problem_type(&answer), Some(ProblemType::UpstreamTimeout));
    assert_eq!(answer.status(), 504);
    // Generous bound: the deadline plus a wide margin for a loaded CI machine.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// The log event
// ---------------------------------------------------------------------------------------------

type Events = Arc<Mutex<Vec<HashMap<String, String>>>>;

/// Collects every event's fields as text.
struct Collect(Events);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Collect {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = HashMap::new();
        fields.insert("target".into(), event.metadata().target().to_owned());
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(fields);
    }
}

#[tokio::test]
async fn each_request_emits_one_event_without_key_or_token() {
    common::logs::pin_interest();
    let events = Events::default();
    let subscriber = tracing_subscriber::registry().with(Collect(events.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);

    let cc = FakeCometChat::builder()
        .seed_user(FakeUser::new("lena", "Lena"))
        .start()
        .await
        .unwrap();
    let gate = builder(fake_config(&cc)).build().unwrap();
    let answer = gate
        .answer(&request("good:lena").with_header("x-request-id", "req-42"))
        .await;
    let token = body(&answer)["authToken"].as_str().unwrap().to_owned();
    let denied = gate
        .answer(&request("nope").with_header("x-request-id", "req-43\nforged"))
        .await;
    assert_eq!(denied.status(), 401);
    let fresh = body(&denied)["requestId"].as_str().unwrap().to_owned();
    assert!(
        fresh.len() == 32 && fresh.bytes().all(|b| b.is_ascii_hexdigit()),
        "{fresh}"
    );
    assert_eq!(denied.header("x-request-id"), Some(fresh.as_str()));

    let events = events.lock().unwrap().clone();
    let gate_events: Vec<_> = events
        .iter()
        .filter(|e| e["target"] == "cometgate::vend")
        .collect();
    assert_eq!(gate_events.len(), 2, "{gate_events:#?}");
    let ok = gate_events[0];
    assert_eq!(ok["request_id"], "req-42");
    assert_eq!(ok["outcome"], "minted");
    assert_eq!(ok["reason"], "ok");
    assert_eq!(ok["status"], "200");
    assert!(
        !ok.contains_key("uid"),
        "no user id in the log: the keyed subject hash correlates a caller's requests"
    );
    assert!(ok.contains_key("subject"));
    assert!(!ok.values().any(|v| v.contains("lena")), "{ok:?}");
    assert_eq!(ok["upstream_status"], "200");
    assert_eq!(ok["upstream_calls"], "1");
    assert!(ok.contains_key("upstream_latency_ms"));
    let bad = gate_events[1];
    assert_eq!(
        bad["request_id"], fresh,
        "an unsafe id is replaced, never logged"
    );
    assert_eq!(bad["reason"], "invalid-credentials");
    assert_eq!(bad["detail"], "unknown test token");

    let all = format!("{events:?}");
    assert!(!all.contains(&token), "the whole token must not be logged");
    assert!(!all.contains(cc.api_key()));
}

// ---------------------------------------------------------------------------------------------
// The REST key never reaches a client, whatever the upstream says
// ---------------------------------------------------------------------------------------------

fn status_strategy() -> impl Strategy<Value = u16> {
    prop::sample::select(vec![200u16, 400, 401, 403, 404, 422, 429, 500, 502, 503])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_rest_key_never_appears_in_an_answer(
        key in "[A-Za-z0-9]{12,40}",
        status in status_strategy(),
        code in prop::sample::select(vec![
            "ERR_UID_NOT_FOUND", "AUTH_ERR_APIKEY_NOT_FOUND", "ERR_TOO_MANY_REQUESTS",
            "ERR_BAD_REQUEST", "ERR_UID_ALREADY_EXISTS",
        ]),
        wrap in "[ -~]{0,20}",
        echo_in_header in any::<bool>(),
        bearer in prop::sample::select(vec!["good:alice", "good:alice:Alice", "banned:x", "junk"]),
    ) {
        let runtime = runtime();
        // Capture every event of the case: the key must not be logged either.
        common::logs::pin_interest();
        let events = Events::default();
        let subscriber = tracing_subscriber::registry().with(Collect(events.clone()));
        let _logs = tracing::subscriber::set_default(subscriber);
        runtime.block_on(async {
            let server = shared_server().await;
            server.reset().await;
            let echo = format!("{wrap}{key}{wrap}");
            let body = if status == 200 {
                // A "success" that is not CometChat's shape and echoes the key.
                format!(r#"{{"data":{{"uid":"{echo}"}}}}"#)
            } else {
                serde_json::json!({"error": {"message": echo, "code": code, "devMessage": key}})
                    .to_string()
            };
            let mut response = ResponseTemplate::new(status).set_body_string(body);
            if echo_in_header {
                response = response.insert_header("x-echo", key.as_str()).insert_header("retry-after", "3");
            }
            Mock::given(method("POST")).respond_with(response).mount(server).await;
            let gate = builder(mock_config(server, &key))
                .retry_policy(RetryPolicy::no_retry(Duration::from_secs(5)))
                .build()
                .unwrap();
            let answer = gate.answer(&request(bearer)).await;
            prop_assert_ne!(answer.status(), 200);
            let body = String::from_utf8(answer.body().to_vec()).unwrap();
            prop_assert!(!body.contains(&key), "key in body: {}", body);
            for (name, value) in answer.headers() {
                prop_assert!(!value.contains(&key), "key in header {}: {}", name, value);
            }
            let debug = format!("{answer:?} {gate:?}");
            prop_assert!(!debug.contains(&key), "key in Debug: {}", debug);
            Ok(())
        })?;
        let logged = format!("{:?}", events.lock().unwrap());
        prop_assert!(logged.contains("token request"), "the gate logged nothing: {}", logged);
        prop_assert!(!logged.contains(&key), "key in logs: {}", logged);
    }
}

/// One mock server for all cases (reset before each), started on the shared runtime.
async fn shared_server() -> &'static MockServer {
    static SERVER: tokio::sync::OnceCell<MockServer> = tokio::sync::OnceCell::const_new();
    SERVER.get_or_init(MockServer::start).await
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    })
}
