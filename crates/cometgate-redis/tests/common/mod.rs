//! A real `redis-server` for the tests (`cometgate_redis::test_server`): one shared per test
//! binary ([`shared`]), or one a test owns ([`RedisServer::require`]) when it kills or pauses
//! it. A missing `redis-server` fails the tests (with `CI=true` and without): a skipped Redis
//! test would pass while proving nothing.
#![allow(dead_code)] // each test binary uses its own subset

pub mod gate;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use cometgate_redis::test_server::RedisServer;
use cometgate_redis::{RedisStore, StoreKey};

/// The test binary's shared server, started on first use.
pub fn shared() -> &'static RedisServer {
    static SERVER: OnceLock<RedisServer> = OnceLock::new();
    SERVER.get_or_init(RedisServer::require)
}

/// A prefix no other store of this run uses, so stores on one server start empty.
pub fn unique_prefix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "t{}-{}:",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// An empty store on `server` (a prefix of its own, a new key). Call it inside a runtime.
pub fn store(server: &RedisServer) -> RedisStore {
    store_with(server, &unique_prefix(), StoreKey::generate(), None)
}

/// A store on `server` under `prefix` with `key` (and `previous`): several of them with the
/// same settings are replicas sharing one state.
pub fn store_with(
    server: &RedisServer,
    prefix: &str,
    key: StoreKey,
    previous: Option<StoreKey>,
) -> RedisStore {
    let mut builder = RedisStore::builder()
        .url(server.url())
        .prefix(prefix)
        .key(key)
        .response_timeout(Duration::from_millis(500));
    if let Some(previous) = previous {
        builder = builder.previous_key(previous);
    }
    builder.build().expect("a valid test store")
}

/// Every key under `prefix` and everything it holds (its name, then each member, field, value
/// and score as bytes), read by type; and `DUMP` of each key (its serialized form).
pub fn everything_under(server: &RedisServer, prefix: &str) -> Vec<Vec<u8>> {
    let mut connection = server
        .client()
        .expect("a connection to the test redis-server");
    let keys: Vec<Vec<u8>> = redis::cmd("SCAN")
        .cursor_arg(0)
        .arg("MATCH")
        .arg(format!("{prefix}*"))
        .arg("COUNT")
        .arg(1000)
        .clone()
        .iter::<Vec<u8>>(&mut connection)
        .expect("SCAN")
        .map(|k| k.expect("a key"))
        .collect();
    let mut all = Vec::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE").arg(&key).query(&mut connection).unwrap();
        let parts: Vec<Vec<u8>> = match kind.as_str() {
            "string" => vec![redis::cmd("GET").arg(&key).query(&mut connection).unwrap()],
            "hash" => redis::cmd("HGETALL")
                .arg(&key)
                .query(&mut connection)
                .unwrap(),
            "zset" => redis::cmd("ZRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES")
                .query(&mut connection)
                .unwrap(),
            "list" => redis::cmd("LRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query(&mut connection)
                .unwrap(),
            "set" => redis::cmd("SMEMBERS")
                .arg(&key)
                .query(&mut connection)
                .unwrap(),
            other => panic!(
                "the store wrote a {other} at {}",
                String::from_utf8_lossy(&key)
            ),
        };
        let dump: Vec<u8> = redis::cmd("DUMP").arg(&key).query(&mut connection).unwrap();
        all.push(key);
        all.extend(parts);
        all.push(dump);
    }
    all
}

/// Whether `needle` occurs in any of `haystack`.
pub fn contains(haystack: &[Vec<u8>], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .iter()
            .any(|h| h.windows(needle.len()).any(|w| w == needle))
}
