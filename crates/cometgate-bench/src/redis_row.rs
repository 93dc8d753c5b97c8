//! The Redis store (`cometgate-redis`) against the in-memory store, both on axum over loopback
//! with the same HS256 gate, in alternating rounds of one run, on a `redis-server` the bench
//! starts (`cometgate_redis::test_server`):
//!
//! - the reuse path, as in (d): every request names a tracked device and gets its stored token
//!   back, no upstream call (checked); with `RedisStore::round_trips` per reused request;
//! - the mint path, as in (b): every request is a new device, so one mint at the fake, on a
//!   fresh gate (and a fresh Redis prefix) per round so that no user passes the device cap and
//!   nothing is evicted (checked); with round trips per mint.

use std::sync::Arc;

use cometchat_fake::FakeCometChat;
use cometgate::vend::{Gate, TokenPolicy};
use cometgate_jwt::JwtIdentity;
use cometgate_redis::test_server::{RedisServer, StartError};
use cometgate_redis::{RedisStore, StoreKey};

use crate::hs256::Hs256;
use crate::reuse::{DEVICES, alternate, known_device, print_pair, round_ratios};
use crate::{Call, DELETE_ONE, Figures, USERS, axum_app, load, median, serve};

/// Reuse rounds (of `reuse::REQUESTS` requests per row).
const REUSE_ROUNDS: usize = 9;
/// Mint rounds, and requests per round: with the warm-up, `(WARMUP + MINTS) / USERS` = 6.6
/// devices per user on each fresh gate, under the default cap of 20.
const MINT_ROUNDS: usize = 7;
const MINTS: usize = 3_000;

pub struct RedisFigures {
    reuse_memory: Vec<Figures>,
    reuse_redis: Vec<Figures>,
    /// CometChat calls during the reuse rounds: must be 0.
    reuse_upstream: usize,
    /// Redis round trips per reused request.
    reuse_trips: f64,
    mint_memory: Vec<Figures>,
    mint_redis: Vec<Figures>,
    /// Upstream deletes (evictions) during the mint rounds: must be 0.
    mint_deletes: usize,
    /// Redis round trips per minted request.
    mint_trips: f64,
}

/// An empty store on `server`: a prefix of its own and a new key.
fn store(server: &RedisServer, prefix: &str) -> RedisStore {
    RedisStore::builder()
        .url(server.url())
        .prefix(prefix)
        .key(StoreKey::generate())
        .build()
        .expect("a valid bench store")
}

/// `jwts`' gate with `policy` on `fake`, keeping its tokens and accounts in `store`.
fn redis_gate(
    jwts: &Hs256,
    fake: &FakeCometChat,
    policy: TokenPolicy,
    store: &RedisStore,
) -> Gate<JwtIdentity> {
    jwts.builder(fake, policy)
        .store(store.clone())
        .build()
        .expect("gate")
}

/// Request `i`: user `i % USERS` without a device id, so a new device (one mint).
fn new_device(jwts: &Arc<Hs256>) -> impl Fn(usize) -> Call + Send + Sync + 'static {
    let jwts = Arc::clone(jwts);
    move |i| Call {
        bearer: jwts.token(i % jwts.users()).to_owned(),
        body: None,
    }
}

fn upstream_calls(fake: &FakeCometChat) -> usize {
    fake.route_counts().values().sum()
}

/// One mint round on a fresh gate: warm up, then `MINTS` requests, each a new device. Returns
/// its figures and the Redis round trips of the measured requests (0 without `store`).
async fn mint_round(
    jwts: &Arc<Hs256>,
    fake: &FakeCometChat,
    store: Option<&RedisStore>,
) -> (Figures, u64) {
    let gate = match store {
        Some(store) => redis_gate(jwts, fake, TokenPolicy::default(), store),
        None => jwts.gate(fake, TokenPolicy::default()),
    };
    let (url, server) = serve(axum_app(gate)).await;
    load(&url, crate::WARMUP, new_device(jwts)).await;
    let trips = || store.map_or(0, RedisStore::round_trips);
    let before = trips();
    let figures = load(&url, MINTS, new_device(jwts)).await;
    let trips = trips() - before;
    server.abort();
    (figures, trips)
}

pub async fn run() -> Result<RedisFigures, StartError> {
    let server = RedisServer::start()?;
    let fake = FakeCometChat::start().await;
    let jwts = Arc::new(Hs256::new(USERS));

    // Reuse: one gate per store, every device tracked on each before the rounds.
    let redis = store(&server, "bench-reuse:");
    let (memory_url, _memory_server) = serve(axum_app(jwts.reuse_gate(&fake))).await;
    let (redis_url, _redis_server) = serve(axum_app(redis_gate(
        &jwts,
        &fake,
        Hs256::reuse_policy(),
        &redis,
    )))
    .await;
    for url in [&memory_url, &redis_url] {
        let tracked = load(url, USERS * DEVICES, known_device(&jwts)).await;
        assert_eq!(tracked.errors, 0, "tracking the devices failed");
        load(url, crate::WARMUP, known_device(&jwts)).await;
    }
    let (calls, trips) = (upstream_calls(&fake), redis.round_trips());
    let (reuse_memory, reuse_redis) = alternate(&memory_url, &redis_url, &jwts, REUSE_ROUNDS).await;
    let reuse_trips =
        (redis.round_trips() - trips) as f64 / (REUSE_ROUNDS * crate::reuse::REQUESTS) as f64;
    let reuse_upstream = upstream_calls(&fake) - calls;

    // Mint: a fresh gate per round and row; the order alternates from round to round.
    let deletes = fake.count(DELETE_ONE);
    let (mut mint_memory, mut mint_redis, mut redis_trips) = (Vec::new(), Vec::new(), 0);
    for round in 0..MINT_ROUNDS {
        let store = store(&server, &format!("bench-mint-{round}:"));
        let redis_first = round % 2 == 1;
        if redis_first {
            let (f, t) = mint_round(&jwts, &fake, Some(&store)).await;
            mint_redis.push(f);
            redis_trips += t;
        }
        mint_memory.push(mint_round(&jwts, &fake, None).await.0);
        if !redis_first {
            let (f, t) = mint_round(&jwts, &fake, Some(&store)).await;
            mint_redis.push(f);
            redis_trips += t;
        }
    }
    Ok(RedisFigures {
        reuse_memory,
        reuse_redis,
        reuse_upstream,
        reuse_trips,
        mint_memory,
        mint_redis,
        mint_deletes: fake.count(DELETE_ONE) - deletes,
        mint_trips: redis_trips as f64 / (MINT_ROUNDS * MINTS) as f64,
    })
}

pub fn print(f: &Result<RedisFigures, StartError>) {
    let f = match f {
        Ok(f) => f,
        Err(e) => {
            println!("\nRedis store rows NOT measured: {e}");
            return;
        }
    };
    println!(
        "\nRedis store against the in-memory store, on axum, one local redis-server (no persistence), {} concurrent, {USERS} users, HS256 JWTs",
        crate::CONCURRENCY
    );
    println!(
        "reuse path: median of {REUSE_ROUNDS} rounds of {} requests per row (m, r, r, m: half each), {DEVICES} tracked devices per user",
        crate::reuse::REQUESTS
    );
    print_pair(
        (
            "m",
            "in-memory store, known device (reuse)",
            &f.reuse_memory,
        ),
        ("r", "Redis store, known device (reuse)", &f.reuse_redis),
    );
    println!(
        "; upstream calls during the rounds: {}; Redis round trips per reused request: {:.2}",
        f.reuse_upstream, f.reuse_trips
    );
    println!(
        "mint path: median of {MINT_ROUNDS} alternating rounds of {MINTS} requests, each a new device (one mint), a fresh gate per round"
    );
    print_pair(
        ("m'", "in-memory store, new device (mint)", &f.mint_memory),
        ("r'", "Redis store, new device (mint)", &f.mint_redis),
    );
    println!(
        "; evictions (upstream deletes) during the rounds: {}; Redis round trips per minted request: {:.2}",
        f.mint_deletes, f.mint_trips
    );
}

pub fn targets(f: &Result<RedisFigures, StartError>) {
    let Ok(f) = f else {
        println!("- Redis store rows: NOT measured (see above)");
        return;
    };
    let reuse = median(round_ratios(&f.reuse_redis, &f.reuse_memory));
    println!(
        "- (r)/(m) Redis/in-memory reuse req/s ratio >= 0.5 (median of the rounds' ratios): {reuse:.3}, {}",
        crate::verdict(reuse >= 0.5 && f.reuse_upstream == 0)
    );
    let mint = median(round_ratios(&f.mint_redis, &f.mint_memory));
    println!(
        "- (r')/(m') Redis/in-memory mint req/s ratio (reported): {mint:.3}{}",
        if f.mint_deletes == 0 {
            ""
        } else {
            " (evictions happened: NOT comparable)"
        }
    );
    println!(
        "- Redis round trips per reused request <= 2: {:.2}, {}",
        f.reuse_trips,
        crate::verdict(f.reuse_trips <= 2.0)
    );
}
