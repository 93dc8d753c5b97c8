//! A real `redis-server` for the tests: one shared per test binary ([`shared`]), or one a
//! test owns ([`RedisServer::start`]) when it kills or pauses it. Each listens on a free
//! loopback port with no persistence (`--save '' --appendonly no`).
//!
//! A missing `redis-server` fails the tests (with `CI=true` and without): a skipped Redis test
//! would pass while proving nothing.
#![allow(dead_code)] // each test binary uses its own subset

pub mod gate;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cometgate_redis::{RedisStore, StoreKey};

/// A `redis-server` child process, killed when dropped. A watcher shell also kills it once the
/// test binary has exited, so the [`shared`] one (a static, never dropped) does not outlive it.
pub struct RedisServer {
    child: Child,
    watcher: Child,
    port: u16,
}

fn missing() -> ! {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    panic!(
        "redis-server is not installed{}: the cometgate-redis tests need a real Redis and fail \
         rather than skip. Install it (Debian/Ubuntu: `apt-get install redis-server`; macOS: \
         `brew install redis`); `.ci/run` does so on CI.",
        if ci { " (CI=true)" } else { "" }
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Whether a Redis on `port` answers `PING`.
fn pong(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = [0; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
        && stream.shutdown(Shutdown::Both).is_ok()
}

impl RedisServer {
    /// A new server on a free port.
    pub fn start() -> Self {
        for _ in 0..5 {
            if let Some(server) = Self::try_start(free_port()) {
                return server;
            }
        }
        panic!("redis-server did not start on a free port (5 tries)");
    }

    /// A new server on `port` (a restart on the port a store already points at).
    pub fn start_on(port: u16) -> Self {
        Self::try_start(port).unwrap_or_else(|| panic!("redis-server did not start on {port}"))
    }

    fn try_start(port: u16) -> Option<Self> {
        let child = match Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--loglevel", "warning"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing(),
            Err(e) => panic!("could not run redis-server: {e}"),
        };
        let watch = format!(
            "while kill -0 {test} 2>/dev/null && kill -0 {redis} 2>/dev/null; do sleep 0.2; done; \
             kill -9 {redis} 2>/dev/null",
            test = std::process::id(),
            redis = child.id()
        );
        let watcher = Command::new("sh")
            .args(["-c", &watch])
            .stdin(Stdio::null())
            .spawn()
            .expect("sh for the watcher");
        let mut server = Self {
            child,
            watcher,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if pong(port) {
                return Some(server);
            }
            if server.child.try_wait().ok().flatten().is_some() {
                return None; // the port was taken meanwhile
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = server.child.kill();
        None
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops it answering while keeping its connections open (`SIGSTOP`).
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server answer again (`SIGCONT`).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill {signal}");
    }

    /// A synchronous command on a connection of its own, for inspecting what the store wrote.
    pub fn client(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .expect("a connection to the test redis-server")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A paused server would not die of SIGTERM; SIGKILL needs no cooperation.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.watcher.kill();
        let _ = self.watcher.wait();
    }
}

/// The test binary's shared server, started on first use.
pub fn shared() -> &'static RedisServer {
    static SERVER: OnceLock<RedisServer> = OnceLock::new();
    SERVER.get_or_init(RedisServer::start)
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
    let mut connection = server.client();
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
