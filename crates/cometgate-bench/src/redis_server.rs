//! A `redis-server` of the bench's own on a free loopback port, with no persistence (`--save ''
//! --appendonly no`). A small copy of `cometgate-redis`'s test harness
//! (`crates/cometgate-redis/tests/common/mod.rs`), which is test-only and not exported.
//!
//! A missing `redis-server` stops the Redis rows with a message saying how to install it.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` child process, killed when dropped. A watcher shell also kills it once the
/// bench has exited, should the bench die without dropping it.
pub struct RedisServer {
    child: Child,
    watcher: Child,
    port: u16,
}

/// Why no server started.
#[derive(Debug)]
pub enum StartError {
    /// `redis-server` is not on `PATH`.
    Missing,
    /// It did not start (or not answer `PING`) on a free port in five tries.
    NotStarted(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => f.write_str(
                "redis-server is not installed: the Redis rows need a real Redis (Debian/Ubuntu: \
                 `apt-get install redis-server`; macOS: `brew install redis`)",
            ),
            Self::NotStarted(why) => write!(f, "redis-server did not start: {why}"),
        }
    }
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
    pub fn start() -> Result<Self, StartError> {
        let mut last = String::new();
        for _ in 0..5 {
            match Self::try_start(free_port())? {
                Ok(server) => return Ok(server),
                Err(why) => last = why,
            }
        }
        Err(StartError::NotStarted(last))
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
            "while kill -0 {bench} 2>/dev/null && kill -0 {redis} 2>/dev/null; do sleep 0.2; done; \
             kill -9 {redis} 2>/dev/null",
            bench = std::process::id(),
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

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.watcher.kill();
        let _ = self.watcher.wait();
    }
}
