//! A real, throwaway `redis-server` for tests and benchmarks (feature `test-server`): a child
//! process on a free loopback port with no persistence (`--save '' --appendonly no`), killed
//! when dropped, and also once the process that started it exits (a watcher shell), so one
//! kept in a `static` does not outlive its test binary.
//!
//! A missing `redis-server` is an error ([`StartError::Missing`], whose message says how to
//! install it), never a silent skip: a test that skips while Redis is missing passes while
//! proving nothing. [`RedisServer::require`] turns that error into a panic, for tests.
//!
//! ```no_run
//! use cometgate_redis::test_server::RedisServer;
//!
//! let server = RedisServer::require(); // panics with install instructions when missing
//! let store = cometgate_redis::RedisStore::builder()
//!     .url(server.url())
//!     .key(cometgate_redis::StoreKey::generate())
//!     .build()
//!     .unwrap();
//! # drop(store);
//! ```

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why no server started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// `redis-server` is not on `PATH`.
    #[error(
        "redis-server is not installed{}: a real Redis is needed here, and a test fails rather \
         than skip (Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`; \
         `.ci/run` installs it on CI)",
        if std::env::var("CI").is_ok_and(|v| v == "true") { " (CI=true)" } else { "" }
    )]
    Missing,
    /// It did not start, or did not answer `PING`.
    #[error("redis-server did not start: {0}")]
    NotStarted(String),
}

/// A `redis-server` child process on `127.0.0.1`, killed when dropped.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    watcher: Child,
    port: u16,
}

fn free_port() -> Result<u16, StartError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| StartError::NotStarted(format!("no free loopback port: {e}")))
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
    /// A new server on a free port (five tries, should another process take the port first).
    ///
    /// # Errors
    /// [`StartError::Missing`] without `redis-server`; [`StartError::NotStarted`] otherwise.
    pub fn start() -> Result<Self, StartError> {
        let mut last = String::new();
        for _ in 0..5 {
            match Self::try_start(free_port()?)? {
                Ok(server) => return Ok(server),
                Err(why) => last = why,
            }
        }
        Err(StartError::NotStarted(last))
    }

    /// [`start`](Self::start), panicking with the reason (and how to install Redis): for tests.
    ///
    /// # Panics
    /// When no server starts.
    pub fn require() -> Self {
        Self::start().unwrap_or_else(|e| panic!("{e}"))
    }

    /// A new server on `port`: a restart on the port a store already points at.
    ///
    /// # Errors
    /// As [`start`](Self::start).
    pub fn start_on(port: u16) -> Result<Self, StartError> {
        Self::try_start(port)?.map_err(StartError::NotStarted)
    }

    /// `Ok(Err(_))`: it did not come up on `port` (taken meanwhile, say); worth another port.
    fn try_start(port: u16) -> Result<Result<Self, String>, StartError> {
        let child = match Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--loglevel", "warning"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StartError::Missing),
            Err(e) => return Err(StartError::NotStarted(e.to_string())),
        };
        let watch = format!(
            "while kill -0 {owner} 2>/dev/null && kill -0 {redis} 2>/dev/null; do sleep 0.2; done; \
             kill -9 {redis} 2>/dev/null",
            owner = std::process::id(),
            redis = child.id()
        );
        let watcher = Command::new("sh")
            .args(["-c", &watch])
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| StartError::NotStarted(format!("sh for the watcher: {e}")))?;
        let mut server = Self {
            child,
            watcher,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if pong(port) {
                return Ok(Ok(server));
            }
            if server.child.try_wait().ok().flatten().is_some() {
                return Ok(Err(format!("it exited on port {port}")));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Err(format!("no PONG on port {port} within 10 s")))
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops it answering while keeping its connections open (`SIGSTOP`): Redis hung.
    ///
    /// # Panics
    /// When `kill` cannot be run.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a [paused](Self::pause) server answer again (`SIGCONT`).
    ///
    /// # Panics
    /// When `kill` cannot be run.
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

    /// A synchronous connection of its own, for inspecting what a store wrote.
    ///
    /// # Errors
    /// When the server does not accept it.
    pub fn client(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(self.url())?.get_connection()
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
