//! CometChat's `429` and `503` + `Retry-After`, honoured by the client: a scripted upstream
//! (wiremock, which counts the requests it received) and the `ManualTimer`, so nothing sleeps.

use std::time::Duration;

use cometgate::client::Client;
use cometgate::retry::{ManualTimer, Timer};
use cometgate::{Config, Region, Uid};
use proptest::prelude::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer, timer: &ManualTimer) -> Client {
    let config = Config::builder()
        .app_id("testapp")
        .region(Region::Us)
        .rest_api_key("f1915e328e249ffaaafd97fb46a57ba55d233fbf")
        .api_base(format!("{}/v3", server.uri()))
        .build()
        .unwrap();
    Client::builder(config)
        .timer(timer.clone())
        .build()
        .unwrap()
}

fn uid(s: &str) -> Uid {
    Uid::parse(s).unwrap()
}

fn too_many_requests() -> ResponseTemplate {
    ResponseTemplate::new(429).set_body_json(json!({"error": {
        "message": "Too many requests", "devMessage": "Too many requests",
        "source": "chat-api", "code": "ERR_TOO_MANY_REQUESTS"}}))
}

fn minted(u: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"data": {
        "uid": u, "authToken": format!("{u}_1694668129d2eca40a65abba29e6860224018ad8"),
        "createdAt": 1694668129}}))
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

/// Mints for `a` answer 429 with `retry_after` (if any); every other mint succeeds.
async fn a_is_rate_limited(server: &MockServer, retry_after: Option<&str>) {
    let mut limited = too_many_requests();
    if let Some(value) = retry_after {
        limited = limited.insert_header("Retry-After", value);
    }
    Mock::given(method("POST"))
        .and(path("/v3/users/a/auth_tokens"))
        .respond_with(limited)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v3/users/b/auth_tokens"))
        .respond_with(minted("b"))
        .with_priority(2)
        .mount(server)
        .await;
}

#[tokio::test]
async fn after_a_429_other_users_calls_wait_out_its_window_without_a_request() {
    let server = MockServer::start().await;
    a_is_rate_limited(&server, Some("5")).await;
    let timer = ManualTimer::new();
    let c = client(&server, &timer);

    let first = c.create_auth_token(&uid("a")).await.unwrap_err();
    assert_eq!(first.status(), Some(429));
    assert!(first.is_rate_limited() && !first.is_cooldown() && !first.is_retryable());
    assert_eq!(first.retry_after(), Some(Duration::from_secs(5)));
    assert_eq!(requests(&server).await, 1);

    // Another user's mint, through a clone of the same client: no request, the rest of the
    // window.
    let second = c.clone().create_auth_token(&uid("b")).await.unwrap_err();
    assert_eq!(
        requests(&server).await,
        1,
        "called CometChat inside its 429 window"
    );
    assert_eq!(second.status(), Some(429));
    assert!(second.is_cooldown() && second.is_rate_limited() && !second.is_retryable());
    let left = second.retry_after().unwrap();
    assert!(
        left <= Duration::from_secs(5) && left > Duration::from_secs(4),
        "{left:?}"
    );
    assert!(
        second
            .to_string()
            .starts_with("not sent: CometChat answered 429"),
        "{second}"
    );
    // Every endpoint, not only mints.
    assert!(c.get_user(&uid("b")).await.unwrap_err().is_cooldown());
    assert_eq!(requests(&server).await, 1);

    // Three seconds later: about two are left.
    timer.sleep(Duration::from_secs(3)).await;
    let third = c.create_auth_token(&uid("b")).await.unwrap_err();
    let left = third.retry_after().unwrap();
    assert!(
        left <= Duration::from_secs(2) && left > Duration::from_secs(1),
        "{left:?}"
    );
    assert_eq!(requests(&server).await, 1);

    assert!(c.rate_limit_remaining().is_some());

    // The window over, calls go through again.
    timer.sleep(Duration::from_secs(2)).await;
    assert_eq!(c.rate_limit_remaining(), None);
    c.create_auth_token(&uid("b")).await.unwrap();
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_flights_of_many_users_all_wait_out_the_window() {
    let server = MockServer::start().await;
    a_is_rate_limited(&server, Some("30")).await;
    let timer = ManualTimer::new();
    let c = client(&server, &timer);
    assert!(c.create_auth_token(&uid("a")).await.is_err());
    let flights: Vec<_> = (0..32)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.create_auth_token(&uid(&format!("u{i}"))).await })
        })
        .collect();
    for flight in flights {
        let e = flight.await.unwrap().unwrap_err();
        assert!(e.is_cooldown(), "{e:?}");
    }
    assert_eq!(requests(&server).await, 1);
}

/// The window a `429` with this `Retry-After` must open, from the client's documentation.
fn documented_window(header: Option<&str>) -> Duration {
    header
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(1), |s| Duration::from_secs(s.min(60)))
}

#[tokio::test]
async fn missing_garbled_and_huge_retry_afters_give_bounded_windows() {
    let cases = [
        (None, 1),
        (Some("soon"), 1),
        (Some("-3"), 1),
        (Some("1.5"), 1),
        (Some("Wed, 21 Oct 2015 07:28:00 GMT"), 1),
        (Some("7"), 7),
        (Some("60"), 60),
        (Some("3600"), 60),
        (Some("18446744073709551615"), 60),
    ];
    for (header, secs) in cases {
        assert_eq!(documented_window(header), Duration::from_secs(secs));
        let server = MockServer::start().await;
        a_is_rate_limited(&server, header).await;
        let timer = ManualTimer::new();
        let c = client(&server, &timer);
        let e = c.create_auth_token(&uid("a")).await.unwrap_err();
        assert_eq!(
            e.retry_after(),
            Some(Duration::from_secs(secs)),
            "{header:?}"
        );
        let left = c.rate_limit_remaining().unwrap();
        assert!(left <= Duration::from_secs(secs), "{header:?}: {left:?}");
    }
}

#[tokio::test]
async fn retry_after_zero_opens_no_window() {
    let server = MockServer::start().await;
    a_is_rate_limited(&server, Some("0")).await;
    let c = client(&server, &ManualTimer::new());
    let e = c.create_auth_token(&uid("a")).await.unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::ZERO));
    c.create_auth_token(&uid("b")).await.unwrap();
    assert_eq!(requests(&server).await, 2);
}

/// A 503 once, with `retry_after`, then success.
async fn unavailable_once(server: &MockServer, retry_after: &str) {
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", retry_after))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .respond_with(minted("a"))
        .with_priority(2)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_503_retry_after_past_the_deadline_gives_up_at_once() {
    let server = MockServer::start().await;
    unavailable_once(&server, "100").await; // the default deadline is 15 s
    let timer = ManualTimer::new();
    let e = client(&server, &timer)
        .create_auth_token(&uid("a"))
        .await
        .unwrap_err();
    assert!(e.is_deadline(), "{e:?}");
    assert_eq!(e.status(), Some(503));
    assert!(
        timer.sleeps().is_empty(),
        "waited for nothing: {:?}",
        timer.sleeps()
    );
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn a_503_retry_after_shorter_than_the_backoff_or_unreadable_keeps_the_backoff() {
    for header in ["0", "soon"] {
        let server = MockServer::start().await;
        unavailable_once(&server, header).await;
        let timer = ManualTimer::new();
        client(&server, &timer)
            .create_auth_token(&uid("a"))
            .await
            .unwrap();
        let sleeps = timer.sleeps();
        assert_eq!(sleeps.len(), 1);
        assert!(
            (1000..1250).contains(&sleeps[0].as_millis()),
            "{header}: {sleeps:?}"
        );
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_429_retry_after_opens_a_bounded_window_that_ends(
        header in prop_oneof![
            Just(None),
            (0u64..200).prop_map(|s| Some(s.to_string())),
            any::<u64>().prop_map(|s| Some(s.to_string())),
            "[ -~]{0,24}".prop_map(Some),
        ],
    ) {
        runtime().block_on(async {
            let server = MockServer::start().await;
            a_is_rate_limited(&server, header.as_deref()).await;
            let timer = ManualTimer::new();
            let c = client(&server, &timer);
            let e = c.create_auth_token(&uid("a")).await.unwrap_err();
            let window = documented_window(header.as_deref());
            assert_eq!(e.retry_after(), Some(window), "{header:?}");
            let second = c.create_auth_token(&uid("b")).await;
            if window.is_zero() {
                assert!(second.is_ok(), "{header:?}: {second:?}");
                assert_eq!(requests(&server).await, 2);
            } else {
                let e = second.unwrap_err();
                assert!(e.is_cooldown() && e.retry_after().unwrap() <= window, "{e:?}");
                assert_eq!(requests(&server).await, 1);
                timer.sleep(window).await;
                assert!(c.create_auth_token(&uid("b")).await.is_ok(), "{header:?}");
                assert_eq!(requests(&server).await, 2);
            }
        });
    }

    #[test]
    fn a_503_retry_after_is_waited_when_it_fits_the_deadline(secs in 0u64..30) {
        runtime().block_on(async {
            let server = MockServer::start().await;
            unavailable_once(&server, &secs.to_string()).await;
            let timer = ManualTimer::new();
            let c = client(&server, &timer);
            let deadline = c.retry_policy().deadline();
            let result = c.create_auth_token(&uid("a")).await;
            let asked = Duration::from_secs(secs);
            if asked < deadline - Duration::from_secs(1) {
                assert!(result.is_ok(), "{secs} s: {result:?}");
                let slept = timer.sleeps();
                assert_eq!(slept.len(), 1);
                assert!(slept[0] >= asked && slept[0] >= Duration::from_secs(1), "{slept:?}");
                assert!(slept[0] <= asked.max(Duration::from_millis(1250)), "{slept:?}");
                assert_eq!(requests(&server).await, 2);
            } else if asked >= deadline {
                let e = result.unwrap_err();
                assert!(e.is_deadline() && e.status() == Some(503), "{e:?}");
                assert!(timer.sleeps().is_empty());
                assert_eq!(requests(&server).await, 1);
            }
        });
    }
}

#[tokio::test]
async fn a_503_retry_after_that_fits_the_deadline_is_waited() {
    let server = MockServer::start().await;
    unavailable_once(&server, "3").await;
    let timer = ManualTimer::new();
    client(&server, &timer)
        .create_auth_token(&uid("a"))
        .await
        .unwrap();
    assert_eq!(requests(&server).await, 2);
    // max(backoff of 1 s + up to 25 % jitter, Retry-After of 3 s)
    assert_eq!(timer.sleeps(), vec![Duration::from_secs(3)]);
}
