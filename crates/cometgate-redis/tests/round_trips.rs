//! Round trips on the hot path: a reused token costs two (the tombstone check and the
//! lookup), as the store counts them and as Redis does.

mod common;

use cometchat_fake::FakeCometChat;
use cometgate::endpoint::Endpoint;
use common::RedisServer;
use common::gate::{builder, token, token_for};

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

#[tokio::test]
async fn a_reused_token_costs_two_round_trips() {
    let cc = FakeCometChat::start().await;
    let server = RedisServer::require();
    let store = common::store(&server);
    let endpoint = Endpoint::new(builder(&cc, &store).build().unwrap());
    let first = token(&token_for(&endpoint, "ada", "phone").await);
    let requests = 50;
    let (trips, evalsha, get) = (
        store.round_trips(),
        calls(&server, "evalsha"),
        calls(&server, "get"),
    );
    for _ in 0..requests {
        assert_eq!(token(&token_for(&endpoint, "ada", "phone").await), first);
    }
    let trips = store.round_trips() - trips;
    eprintln!("{trips} round trips for {requests} reused tokens");
    assert_eq!(trips, 2 * requests);
    // Redis saw as many: on this path the store sends only `GET` (the tombstone check) and
    // `EVALSHA` (the lookup script, which runs no `GET` inside), each a pipeline of one.
    let seen = calls(&server, "evalsha") - evalsha + calls(&server, "get") - get;
    assert_eq!(seen, trips);
}
