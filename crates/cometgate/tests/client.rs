//! The REST client against a scripted upstream (wiremock) over real loopback HTTP.

use std::time::{Duration, Instant};

use cometgate::client::{
    Client, DeleteMode, NewUser, PageRequest, TokenValue, UnsetField, UserUpdate,
};
use cometgate::retry::{ManualTimer, RetryPolicy};
use cometgate::{Config, Region, Uid};
use proptest::prelude::*;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "f1915e328e249ffaaafd97fb46a57ba55d233fbf";

fn config(server: &MockServer, key: &str) -> Config {
    Config::builder()
        .app_id("testapp")
        .region(Region::Us)
        .rest_api_key(key)
        .api_base(format!("{}/v3", server.uri()))
        .build()
        .unwrap()
}

fn client_with(server: &MockServer, timer: ManualTimer) -> Client {
    Client::builder(config(server, KEY))
        .timer(timer)
        .build()
        .unwrap()
}

fn client(server: &MockServer) -> Client {
    client_with(server, ManualTimer::new())
}

fn uid(s: &str) -> Uid {
    Uid::parse(s).unwrap()
}

fn cc_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"error": {
        "message": message, "devMessage": message, "source": "chat-api", "code": code}}))
}

const TOKEN: &str = "user_000_1694668129d2eca40a65abba29e6860224018ad8";

#[tokio::test]
async fn mint_sends_the_real_request_shape() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/users/user_000/auth_tokens"))
        .and(header("apikey", KEY))
        .and(header("appid", "testapp"))
        .and(header("accept", "application/json"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"force": true})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "uid": "user_000", "authToken": TOKEN, "createdAt": 1694668129}})))
        .expect(1)
        .mount(&server)
        .await;
    let token = client(&server)
        .create_auth_token(&uid("user_000"))
        .await
        .unwrap();
    assert_eq!(token.uid.as_str(), "user_000");
    assert_eq!(token.auth_token.expose(), TOKEN);
    assert_eq!(token.created_at, Some(1694668129));
}

#[tokio::test]
async fn user_endpoints() {
    let server = MockServer::start().await;
    let user = json!({"uid": "user_000", "name": "test", "status": "offline", "role": "default", "createdAt": 1694667681});
    Mock::given(method("POST"))
        .and(path("/v3/users"))
        .and(body_json(json!({"uid": "user_000", "name": "test", "withAuthToken": true})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "uid": "user_000", "name": "test", "status": "offline", "role": "default",
            "createdAt": 1694667681, "authToken": "user_000_169466768147ce45a79418c20c57234ba9694e2f"}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/users/user_000"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": user})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/users"))
        .and(query_param("perPage", "5"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [user],
            "meta": {"pagination": {"total": 25, "count": 5, "per_page": 5, "current_page": 2, "total_pages": 5},
                     "cursor": {"updatedAt": 1694667984, "affix": "prepend"}}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/v3/users/user_000"))
        .and(body_json(
            json!({"name": "test", "link": "https://foo.bar", "unset": ["avatar"]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "uid": "user_000", "name": "test", "link": "https://foo.bar", "status": "offline",
            "role": "default", "createdAt": 1694667681, "updatedAt": 1694667756}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v3/users/user_000"))
        .and(body_json(json!({"permanent": true})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "success": true, "message": "User with UID user_000 has been deleted successfully."}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v3/users/other"))
        .and(body_json(json!({"permanent": false})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"deactivatedUids": ["other"]}})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server);
    let created = c
        .create_user(&NewUser::new(uid("user_000"), "test").with_auth_token(true))
        .await
        .unwrap();
    assert!(created.auth_token.is_some());
    assert_eq!(c.get_user(&uid("user_000")).await.unwrap().name, "test");
    let page = c
        .list_users(PageRequest {
            per_page: 5,
            page: 2,
        })
        .await
        .unwrap();
    assert_eq!(page.meta.unwrap().pagination.total, 25);
    let updated = c
        .update_user(
            &uid("user_000"),
            &UserUpdate::new()
                .name("test")
                .link("https://foo.bar")
                .unset(UnsetField::Avatar),
        )
        .await
        .unwrap();
    assert_eq!(updated.updated_at, Some(1694667756));
    assert_eq!(updated.avatar, None);
    c.delete_user(&uid("user_000"), DeleteMode::Permanent)
        .await
        .unwrap();
    c.delete_user(&uid("other"), DeleteMode::Deactivate)
        .await
        .unwrap();
}

#[tokio::test]
async fn reactivate_sends_uids_to_activate_and_reads_the_lists() {
    let server = MockServer::start().await;
    for (uid, data) in [
        ("neo", json!({"reactivatedUids": ["neo"]})),
        ("trin", json!({"notFound": ["trin"]})),
        (
            "odd",
            json!({"reactivatedUids": ["someone_else"], "notFound": ["odd"]}),
        ),
    ] {
        Mock::given(method("PUT"))
            .and(path("/v3/users"))
            .and(header("content-type", "application/json"))
            .and(body_json(json!({"uidsToActivate": [uid]})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": data })))
            .expect(1)
            .mount(&server)
            .await;
    }
    let c = client(&server);
    assert!(c.reactivate_user(&uid("neo")).await.unwrap());
    assert!(!c.reactivate_user(&uid("trin")).await.unwrap());
    assert!(!c.reactivate_user(&uid("odd")).await.unwrap());
}

#[tokio::test]
async fn reactivate_is_retried_like_every_call() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"reactivatedUids": ["neo"]}})),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let timer = ManualTimer::new();
    assert!(
        client_with(&server, timer.clone())
            .reactivate_user(&uid("neo"))
            .await
            .unwrap()
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    let secs: Vec<u64> = timer.sleeps().iter().map(Duration::as_secs).collect();
    assert_eq!(secs, vec![1, 2]);
    // A 4xx is not retried.
    server.reset().await;
    Mock::given(method("PUT"))
        .respond_with(cc_error(
            400,
            "ERR_BAD_REQUEST",
            "Failed to validate the data sent with the request.",
        ))
        .mount(&server)
        .await;
    let e = client(&server)
        .reactivate_user(&uid("neo"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ERR_BAD_REQUEST"));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn token_endpoints() {
    let server = MockServer::start().await;
    let t = json!({"uid": "user_000", "authToken": TOKEN, "createdAt": 1694668129});
    Mock::given(method("GET"))
        .and(path("/v3/users/user_000/auth_tokens"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [t],
            "meta": {"pagination": {"total": 1, "count": 1, "per_page": 100, "current_page": 1, "total_pages": 1}}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v3/users/user_000/auth_tokens/{TOKEN}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": t})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v3/users/user_000/auth_tokens/{TOKEN}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"success": true}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v3/users/user_000/auth_tokens"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "success": true, "message": "Cleared Auth Tokens successfully for uid user_000."}})))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let u = uid("user_000");
    let page = c
        .list_auth_tokens(&u, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.data[0].auth_token.expose(), TOKEN);
    let token = TokenValue::new(TOKEN);
    assert_eq!(
        c.get_auth_token(&u, &token).await.unwrap().auth_token,
        token
    );
    c.delete_auth_token(&u, &token).await.unwrap();
    c.flush_auth_tokens(&u).await.unwrap();
}

#[tokio::test]
async fn errors_carry_status_code_and_retry_after() {
    let server = MockServer::start().await;
    let cases = [
        (
            "a",
            cc_error(
                404,
                "ERR_UID_NOT_FOUND",
                "The UID a does not exist, please make sure you have created a user with UID a.",
            ),
        ),
        (
            "b",
            cc_error(400, "ERR_UID_ALREADY_EXISTS", "The uid b already exists."),
        ),
        (
            "c",
            cc_error(
                401,
                "AUTH_ERR_APIKEY_NOT_FOUND",
                "The key f1915**************************33fbf does not exist. Please use correct apiKey.",
            ),
        ),
        (
            "d",
            cc_error(429, "ERR_TOO_MANY_REQUESTS", "Too many requests")
                .insert_header("Retry-After", "7"),
        ),
        ("e", cc_error(402, "ERR_PLAN_QUOTA_RESTRICTION", "quota")),
        ("f", cc_error(403, "AUTH_ERR_NO_ACCESS", "scope")),
        (
            "g",
            ResponseTemplate::new(404).set_body_string("<html>not json</html>"),
        ),
    ];
    for (u, response) in cases.clone() {
        Mock::given(method("POST"))
            .and(path(format!("/v3/users/{u}/auth_tokens")))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
    }
    let c = client(&server);
    let err = |u: &'static str| {
        let c = c.clone();
        async move { c.create_auth_token(&uid(u)).await.unwrap_err() }
    };
    let e = err("a").await;
    assert!(e.is_uid_not_found() && e.status() == Some(404) && !e.is_retryable());
    assert!(
        e.to_string()
            .starts_with("CometChat answered 404 ERR_UID_NOT_FOUND: The UID a")
    );
    assert!(err("b").await.is_uid_already_exists());
    let e = err("c").await;
    assert_eq!(
        (e.status(), e.code()),
        (Some(401), Some("AUTH_ERR_APIKEY_NOT_FOUND"))
    );
    assert_eq!(err("e").await.status(), Some(402));
    assert_eq!(err("f").await.code(), Some("AUTH_ERR_NO_ACCESS"));
    let e = err("g").await;
    assert_eq!((e.status(), e.code()), (Some(404), None));
    // Last: a 429 opens a window in which this client sends nothing (tests/rate_limit.rs).
    let e = err("d").await;
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert!(!e.is_retryable(), "429 is never retried");
}

#[tokio::test]
async fn malformed_success_body_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"data\": {\"uid\": 5"))
        .mount(&server)
        .await;
    let e = client(&server).get_user(&uid("a")).await.unwrap_err();
    assert!(e.is_decode(), "{e:?}");
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("Location", format!("{}/steal", elsewhere.uri())),
        )
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server)
        .create_auth_token(&uid("a"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(307));
}

async fn script(server: &MockServer, failures: u64, failure: ResponseTemplate) {
    Mock::given(method("POST"))
        .respond_with(failure)
        .up_to_n_times(failures)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "uid": "a", "authToken": "a_1694668129d2eca40a65abba29e6860224018ad8", "createdAt": 1694668129}})))
        .with_priority(2)
        .mount(server)
        .await;
}

#[tokio::test]
async fn five_hundreds_are_retried_after_1s_then_2s() {
    let server = MockServer::start().await;
    script(&server, 2, ResponseTemplate::new(503)).await;
    let timer = ManualTimer::new();
    let c = client_with(&server, timer.clone());
    c.create_auth_token(&uid("a")).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    let sleeps = timer.sleeps();
    assert_eq!(sleeps.len(), 2);
    assert!((1000..1250).contains(&sleeps[0].as_millis()), "{sleeps:?}");
    assert!((2000..2500).contains(&sleeps[1].as_millis()), "{sleeps:?}");
}

#[tokio::test]
async fn gives_up_after_four_attempts() {
    let server = MockServer::start().await;
    script(&server, 10, cc_error(500, "ERR_EXCEPTION", "boom")).await;
    let timer = ManualTimer::new();
    let e = client_with(&server, timer.clone())
        .create_auth_token(&uid("a"))
        .await
        .unwrap_err();
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
    assert_eq!(e.status(), Some(500));
    let secs: Vec<u64> = timer.sleeps().iter().map(Duration::as_secs).collect();
    assert_eq!(secs, vec![1, 2, 4]);
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    // Unpooled: a pooled wiremock server keeps its port open and answering after drop.
    let server = MockServer::builder().start().await;
    let c = client(&server);
    drop(server); // the port now refuses connections
    let e = c.create_auth_token(&uid("a")).await.unwrap_err();
    assert!(e.is_connect(), "{e:?}");
}

/// The connect timeout bounds the whole connection, TLS handshake included: a server that
/// takes the TCP connection and never answers the handshake is a timeout once the connect
/// timeout has passed, long before the request timeout.
#[tokio::test]
async fn a_tls_handshake_that_never_ends_is_cut_by_the_connect_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || listener.accept().map(|(stream, _)| stream));
    let config = Config::builder()
        .app_id("testapp")
        .region(Region::Us)
        .rest_api_key(KEY)
        .api_base(format!("https://127.0.0.1:{port}/v3"))
        .build()
        .unwrap();
    let c = Client::builder(config)
        .connect_timeout(Duration::from_millis(200))
        .request_timeout(Duration::from_secs(20))
        .retry_policy(RetryPolicy::no_retry(Duration::from_secs(30)))
        .build()
        .unwrap();
    let started = Instant::now();
    let e = c.create_auth_token(&uid("a")).await.unwrap_err();
    let took = started.elapsed();
    assert!(e.is_timeout(), "{e:?}");
    // Generous bound: the connect timeout is 0.2 s, the request timeout 20 s.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(held.join().unwrap().is_ok(), "the TCP connection was made");
}

#[tokio::test]
async fn hung_upstream_ends_at_the_deadline() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let c = Client::builder(config(&server, KEY))
        .request_timeout(Duration::from_millis(300))
        .retry_policy(
            RetryPolicy::builder()
                .initial_delay(Duration::from_millis(100))
                .deadline(Duration::from_millis(900))
                .build(),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let e = c.create_auth_token(&uid("a")).await.unwrap_err();
    let took = started.elapsed();
    assert!(e.is_deadline() || e.is_timeout(), "{e:?}");
    // Generous bound: the deadline is 0.9 s; the point is that it does not wait 30 s.
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[tokio::test]
async fn the_deadline_cuts_off_an_attempt_in_flight() {
    // The request timeout (10 s) is far above the deadline (500 ms): only the deadline can end
    // this call, in the middle of its first attempt.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let deadline = Duration::from_millis(500);
    let c = Client::builder(config(&server, KEY))
        .request_timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy::builder().deadline(deadline).build())
        .build()
        .unwrap();
    let started = Instant::now();
    let e = c.create_auth_token(&uid("a")).await.unwrap_err();
    let took = started.elapsed();
    assert!(e.is_deadline(), "{e:?}");
    assert!(
        took >= deadline - Duration::from_millis(20),
        "ended early: {took:?}"
    );
    assert!(
        took < deadline + Duration::from_secs(1),
        "ended late: {took:?}"
    );
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1));
}

#[tokio::test]
async fn create_user_retried_into_already_exists_is_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/users"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v3/users"))
        .respond_with(cc_error(400, "ERR_UID_ALREADY_EXISTS", "exists"))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/users/neo"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"uid": "neo", "name": "Neo"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let user = client(&server)
        .create_user(&NewUser::new(uid("neo"), "Neo"))
        .await
        .unwrap();
    assert_eq!(user.name, "Neo");
}

#[tokio::test]
async fn already_exists_on_a_first_attempt_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(cc_error(400, "ERR_UID_ALREADY_EXISTS", "exists"))
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server)
        .create_user(&NewUser::new(uid("neo"), "Neo"))
        .await
        .unwrap_err();
    assert!(e.is_uid_already_exists());
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn any_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::MAX),
        (0u64..20_000).prop_map(Duration::from_millis),
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
    ]
}

/// Any policy: arbitrary durations, factors and jitter, and `retries` retries.
fn any_policy(retries: impl Strategy<Value = u32>) -> impl Strategy<Value = RetryPolicy> {
    (
        any_duration(),
        any::<u32>(),
        retries,
        prop_oneof![any::<f64>(), Just(f64::NAN), Just(f64::INFINITY), 0.0..1.0],
        any_duration(),
    )
        .prop_map(|(initial, factor, retries, jitter, deadline)| {
            RetryPolicy::builder()
                .initial_delay(initial)
                .factor(factor)
                .max_retries(retries)
                .jitter(jitter)
                .deadline(deadline)
                .build()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_policy_computes_its_schedule_without_panicking(
        policy in any_policy(any::<u32>()),
        retry in prop_oneof![0u32..70, any::<u32>()],
    ) {
        let base = policy.base_delay(retry);
        let delay = policy.delay(retry);
        prop_assert_eq!(base.is_some(), delay.is_some());
        if let (Some(base), Some(delay)) = (base, delay) {
            prop_assert!(delay >= base && delay <= base * 2, "{delay:?} from {base:?}");
        }
        prop_assert!(policy.deadline() <= RetryPolicy::MAX_DURATION);
    }

    /// Few retries, so that a case ends quickly; the waits go through the `ManualTimer`.
    #[test]
    fn any_policy_runs_its_schedule_without_panicking(policy in any_policy(0u32..6)) {
        let attempts = policy.max_attempts() as usize;
        runtime().block_on(async {
            let server = MockServer::start().await;
            Mock::given(method("POST")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
            let timer = ManualTimer::new();
            let c = Client::builder(config(&server, KEY))
                .retry_policy(policy.clone())
                .timer(timer.clone())
                .build()
                .unwrap();
            let e = c.create_auth_token(&uid("a")).await.unwrap_err();
            assert!(e.status() == Some(503) || e.is_deadline(), "{e:?}");
            let sent = server.received_requests().await.unwrap().len();
            assert!(sent <= attempts, "{sent} requests");
            assert!(sent > 0 || e.is_deadline(), "no request, yet {e:?}");
            // Every wait that was started ended before the deadline.
            let waited = timer.sleeps().iter().fold(Duration::ZERO, |a, d| a.saturating_add(*d));
            assert!(
                waited.is_zero() || waited < c.retry_policy().deadline(),
                "{waited:?} for {policy:?}"
            );
        });
    }

    #[test]
    fn four_hundreds_are_never_retried(status in 400u16..500) {
        let rt = runtime();
        rt.block_on(async {
            let server = MockServer::start().await;
            Mock::given(method("POST")).respond_with(ResponseTemplate::new(status)).mount(&server).await;
            let e = client(&server).create_auth_token(&uid("a")).await.unwrap_err();
            assert_eq!(e.status(), Some(status));
            assert_eq!(server.received_requests().await.unwrap().len(), 1);
        });
    }

    #[test]
    fn upstream_text_is_escaped_bounded_and_free_of_the_key(
        key in "[0-9a-f]{10,40}",
        mask in 0usize..40,
        mask_char in prop::sample::select(vec!['*', 'x', '#', '•']),
        upper in any::<bool>(),
        // No hex digits in the noise, so a key fragment can only come from the echo.
        before in r"[g-zG-Z \r\n\t\x{1b}\[\]\x{202e}\x{200b}\x{85}]{0,30}",
        after in r"[g-zG-Z \r\n\t\x{1b}\[\]\x{202e}\x{200b}\x{85}]{0,30}",
        filler in 0usize..2_000,
        status in 400u16..600,
    ) {
        let echo = format!("{}{}{}", &key[..5], mask_char.to_string().repeat(mask), &key[key.len() - 5..]);
        let echo = if upper { echo.to_ascii_uppercase() } else { echo };
        let message = format!("{before}{echo}{after}{}", "q".repeat(filler));
        let code = format!("{before}ERR{after}{echo}");
        let e = runtime().block_on(async {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .respond_with(cc_error(status, &code, &message))
                .mount(&server)
                .await;
            Client::builder(config(&server, &key))
                .timer(ManualTimer::new())
                .build()
                .unwrap()
                .create_auth_token(&uid("a"))
                .await
                .unwrap_err()
        });
        let shown = [
            (e.to_string(), 500),
            (e.upstream_message().unwrap_or_default().to_owned(), 300),
            (e.code().unwrap_or_default().to_owned(), 64),
        ];
        for (text, bound) in shown {
            let lower = text.to_ascii_lowercase();
            prop_assert!(!lower.contains(&key[..5]) && !lower.contains(&key[key.len() - 5..]), "{text:?}");
            prop_assert!(
                !text.chars().any(|c| c.is_control() || matches!(c, '\u{202e}' | '\u{200b}')),
                "{text:?}"
            );
            prop_assert!(text.chars().count() <= bound, "{} chars: {text:?}", text.chars().count());
        }
    }

    #[test]
    fn the_key_never_appears_in_errors(
        key in "[A-Za-z0-9]{20,40}",
        status in prop_oneof![400u16..600, Just(200u16)],
        echo in any::<bool>(),
        noise in "\\PC{0,40}",
    ) {
        let rt = runtime();
        rt.block_on(async {
            let server = MockServer::start().await;
            // A hostile upstream echoing the key in every field it can.
            let text = if echo { format!("{noise}{key}{noise}") } else { noise.clone() };
            let body = if status == 200 {
                format!("{{\"data\": \"{key}\"}}")
            } else {
                json!({"error": {"message": text, "devMessage": text, "code": text}}).to_string()
            };
            Mock::given(method("POST"))
                .respond_with(ResponseTemplate::new(status).set_body_string(body))
                .mount(&server)
                .await;
            let c = Client::builder(config(&server, &key)).timer(ManualTimer::new()).build().unwrap();
            let e = c.create_auth_token(&uid("a")).await.unwrap_err();
            let shown = format!("{e} {e:?} {:?}", std::error::Error::source(&e).map(|s| s.to_string()));
            assert!(!shown.contains(&key), "{shown}");
            assert!(!format!("{c:?}").contains(&key));
        });
    }
}
