//! Round trips on the hot path: a reused token costs one (the tombstone and the lookup in one
//! script) when the gate has the store through `GateBuilder::store`, two when it is given as
//! token and account store separately; as the store counts them and as Redis does.

mod common;

use cometchat_fake::FakeCometChat;
use cometgate::endpoint::Endpoint;
use cometgate::vend::GateBuilder;
use cometgate_redis::RedisStore;
use common::RedisServer;
use common::gate::{BearerIsSubject, builder, token, token_for};
/// Calls of `command` Redis has run, from `INFO commandstats`.
fn calls(server: &RedisServer, command: &str) -> u64 {
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(
            &mut server
                .client()
                .expect("a connection to the test redis-server"),
        )
        .unwrap();
    stats
        .lines()
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{command}:calls=")))
        .and_then(|rest| rest.split(',').next()?.parse().ok())
        .unwrap_or(0)
}

/// `requests` reuses of one device's token on `gate`: the store's round trips, and the
/// pipelines Redis saw (`EVALSHA` of a script, `GET` sent alone).
async fn reuse(
    server: &RedisServer,
    store: &RedisStore,
    gate: GateBuilder<BearerIsSubject>,
    requests: u64,
) -> (u64, u64, u64) {
    let endpoint = Endpoint::new(gate.build().unwrap());
    let first = token(&token_for(&endpoint, "ada", "phone").await);
    let (trips, evalsha, get) = (
        store.round_trips(),
        calls(server, "evalsha"),
        calls(server, "get"),
    );
    for _ in 0..requests {
        assert_eq!(token(&token_for(&endpoint, "ada", "phone").await), first);
    }
    (
        store.round_trips() - trips,
        calls(server, "evalsha") - evalsha,
        calls(server, "get") - get,
    )
}

#[tokio::test]
async fn a_reused_token_costs_one_round_trip() {
    let cc = FakeCometChat::start().await;
    let server = RedisServer::require();
    let store = common::store(&server);
    let requests = 50;
    let (trips, evalsha, _) = reuse(&server, &store, builder(&cc, &store), requests).await;
    eprintln!("{trips} round trips for {requests} reused tokens");
    assert_eq!(trips, requests);
    // Redis saw as many: one script per request (its own `GET` of the account record is run
    // inside it, so `INFO` counts it among the `GET`s, not as a pipeline).
    assert_eq!(evalsha, trips);
}

#[tokio::test]
async fn a_reused_token_costs_two_round_trips_with_the_stores_given_apart() {
    let cc = FakeCometChat::start().await;
    let server = RedisServer::require();
    let store = common::store(&server);
    let apart = builder(&cc, &store)
        .token_store(store.clone())
        .account_store(store.clone());
    let requests = 50;
    let (trips, evalsha, get) = reuse(&server, &store, apart, requests).await;
    assert_eq!(trips, 2 * requests);
    // The tombstone check (`GET`) and the lookup script (which runs no `GET`), each alone.
    assert_eq!((evalsha, get), (requests, requests));
}
