//! Redis unavailable: refusing connections (killed) or accepting them and not answering
//! (paused). Every store call fails within the response timeout (never a hang), the token
//! route answers `503` problem+json with `Retry-After`, and once Redis is back the store and
//! the gate work again by themselves.

mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use cometchat_fake::FakeCometChat;
use cometgate::client::TokenValue;
use cometgate::endpoint::Endpoint;
use cometgate::store::{AccountStore, StoreError, TokenStore, TrackedToken};
use cometgate::vend::ProblemType;
use cometgate::{DeviceId, Uid};
use cometgate_redis::{RedisStore, StoreKey};
use common::RedisServer;
use common::gate::{builder, token, token_for};

const TIMEOUT: Duration = Duration::from_millis(300);
/// What a call may take beyond the timeout (scheduling on a busy machine).
const SLACK: Duration = Duration::from_millis(400);

fn store_on(server: &RedisServer) -> RedisStore {
    RedisStore::builder()
        .url(server.url())
        .prefix(common::unique_prefix())
        .key(StoreKey::generate())
        .response_timeout(TIMEOUT)
        .build()
        .unwrap()
}

fn ada() -> Uid {
    Uid::parse("ada").unwrap()
}

fn phone() -> cometgate::device::DeviceKey {
    DeviceId::parse("phone").unwrap().key()
}

fn tracked(n: u64) -> TrackedToken {
    TrackedToken {
        token: TokenValue::new(format!("ada_1700000000{n:030x}")),
        minted_at: 1_700_000_000,
        expires_at: None,
        confirmed_at: 1_700_000_000,
    }
}

/// Runs `call`, which must fail, and returns how long it took.
async fn fails_within<T: std::fmt::Debug>(
    what: &str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Duration {
    let started = Instant::now();
    // The outer bound only turns a hang into a failure of this test.
    let result = tokio::time::timeout(TIMEOUT * 20, call)
        .await
        .unwrap_or_else(|_| panic!("{what} hung"));
    let took = started.elapsed();
    let error = result.expect_err(what);
    assert!(
        error
            .to_string()
            .starts_with("the token store failed: redis:"),
        "{error}"
    );
    assert!(took <= TIMEOUT + SLACK, "{what} took {took:?}");
    took
}

/// Every kind of call fails promptly; returns the slowest failure.
async fn every_call_fails_promptly(store: &RedisStore) -> Duration {
    [
        fails_within("get", store.get(&ada(), phone(), 0)).await,
        fails_within("track", store.track(&ada(), phone(), tracked(2), 20)).await,
        fails_within("forget", store.forget(&ada(), phone())).await,
        fails_within("take_due", store.take_due(u64::MAX, 10)).await,
        fails_within("is_deleted", store.is_deleted(&ada())).await,
        fails_within("delivery_done", store.delivery_done("k", 0)).await,
        fails_within("ping", store.ping()).await,
    ]
    .into_iter()
    .max()
    .unwrap_or_default()
}

/// Polls until the store answers again, by itself (no call but the store's own).
async fn works_again(store: &RedisStore) -> Duration {
    let started = Instant::now();
    while store.ping().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "Redis is back, the store is not"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn a_killed_redis_fails_calls_within_the_timeout_and_a_restarted_one_serves_again() {
    let server = RedisServer::require();
    let port = server.port();
    let store = store_on(&server);
    store.track(&ada(), phone(), tracked(1), 20).await.unwrap();
    drop(server); // killed: connections drop, new ones are refused
    let slowest = every_call_fails_promptly(&store).await;
    // Still down a while later: still prompt (the reconnection keeps failing fast).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = every_call_fails_promptly(&store).await;
    eprintln!("killed: slowest failure {slowest:?}, {later:?} later");

    let server = RedisServer::start_on(port).expect("redis-server restarted on its port");
    let back = works_again(&store).await;
    // A restarted Redis has lost its scripts (and, without persistence, its data): the store
    // loads them again on first use.
    assert_eq!(store.get(&ada(), phone(), 0).await.unwrap(), None);
    store.track(&ada(), phone(), tracked(3), 20).await.unwrap();
    assert_eq!(
        store.get(&ada(), phone(), 0).await.unwrap(),
        Some(tracked(3))
    );
    eprintln!("serving again {back:?} after the restart");
    drop(server);
}

#[tokio::test]
async fn a_redis_that_accepts_and_does_not_answer_fails_calls_within_the_timeout() {
    let server = RedisServer::require();
    let store = store_on(&server);
    store.track(&ada(), phone(), tracked(1), 20).await.unwrap();
    server.pause();
    let slowest = every_call_fails_promptly(&store).await;
    eprintln!("paused: slowest failure {slowest:?}");
    server.resume();
    works_again(&store).await;
    // The calls that timed out were queued in Redis's socket and ran once it resumed (a call
    // that failed by its timeout may still happen, as with any remote store): only that the
    // store serves again is certain.
    store.get(&ada(), phone(), 0).await.unwrap();
    store.track(&ada(), phone(), tracked(4), 20).await.unwrap();
    assert_eq!(
        store.get(&ada(), phone(), 0).await.unwrap(),
        Some(tracked(4))
    );
}

#[tokio::test]
async fn a_store_built_while_redis_is_down_fails_promptly_then_serves_once_it_is_up() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let store = RedisStore::builder()
        .url(format!("redis://127.0.0.1:{port}"))
        .key(StoreKey::generate())
        .response_timeout(TIMEOUT)
        .build()
        .expect("building does not connect");
    every_call_fails_promptly(&store).await;
    let _server = RedisServer::start_on(port).expect("redis-server restarted on its port");
    works_again(&store).await;
    store.track(&ada(), phone(), tracked(1), 20).await.unwrap();
}

/// Two token requests (a tracked device and a new one) answer `503` problem+json with
/// `Retry-After`, promptly, and mint nothing.
async fn the_token_route_is_unavailable(
    endpoint: &Endpoint<common::gate::BearerIsSubject>,
    cc: &FakeCometChat,
    outage: &str,
) {
    let calls = cc.journal().len();
    for device in ["phone", "tablet"] {
        let started = Instant::now();
        let answer = tokio::time::timeout(TIMEOUT * 20, token_for(endpoint, "ada", device))
            .await
            .unwrap_or_else(|_| panic!("the token route hung ({outage})"));
        let took = started.elapsed();
        assert_eq!(answer.status(), 503, "{outage}: {answer:?}");
        assert_eq!(
            answer.problem().map(|p| p.problem_type()),
            Some(ProblemType::StoreUnavailable)
        );
        assert_eq!(
            answer.header("content-type"),
            Some("application/problem+json")
        );
        assert!(
            answer.header("retry-after").is_some(),
            "{outage}: Retry-After"
        );
        // A device named: the tombstone and its token are one call, within the timeout.
        assert!(took <= TIMEOUT + SLACK, "{outage}: answered in {took:?}");
    }
    assert_eq!(
        cc.journal().len(),
        calls,
        "{outage}: no upstream call without the store"
    );
}

#[tokio::test]
async fn the_token_route_answers_503_with_retry_after_while_redis_is_down_and_200_after() {
    let cc = FakeCometChat::start().await;
    let server = RedisServer::require();
    let port = server.port();
    let store = store_on(&server);
    let endpoint = Endpoint::new(builder(&cc, &store).build().unwrap());
    let first = token(&token_for(&endpoint, "ada", "phone").await);
    assert_eq!(
        token(&token_for(&endpoint, "ada", "phone").await),
        first,
        "reused"
    );

    drop(server);
    the_token_route_is_unavailable(&endpoint, &cc, "killed").await;
    let server = RedisServer::start_on(port).expect("redis-server restarted on its port");
    works_again(&store).await;
    // The restarted Redis has no data (no persistence): the device gets a new token.
    let second = token(&token_for(&endpoint, "ada", "phone").await);

    server.pause();
    the_token_route_is_unavailable(&endpoint, &cc, "paused").await;
    server.resume();
    works_again(&store).await;
    assert_eq!(
        token(&token_for(&endpoint, "ada", "phone").await),
        second,
        "reused"
    );
}
