//! (h) of `cargo xtask bench`: the reuse path's server of (d), in a process of its own, so that
//! it can be built twice and the two builds measured alternately (see `src/metrics_row.rs`):
//!
//! - with the bench's `metrics` feature: cometgate's `metrics` feature on, and the quickstarts'
//!   Prometheus recorder installed with their `/metrics` listener (`quickstart-common`'s
//!   `MetricsServer`, exactly as `METRICS_ADDR` starts it);
//! - without it: cometgate without its `metrics` feature, every metric call compiled out.
//!
//! It serves the same gate as (d) (the app's HS256 JWTs, a recheck of an hour, limits relaxed)
//! on axum on a loopback port, against an in-process `cometchat-fake`.
//!
//! Its protocol, a line each: it reads the JWTs' secret (hex) on stdin, then prints
//! `token <url>` and `metrics <url>` (or `metrics off`); it answers each `upstream` line on
//! stdin with `upstream <n>`, the calls its fake has received so far, and exits when stdin
//! closes.

use cometchat_fake::FakeCometChat;

#[allow(dead_code)] // The bench's load generator uses the rest.
#[path = "../hs256.rs"]
mod hs256;
#[path = "../serve.rs"]
mod serve;
#[path = "../subject.rs"]
mod subject;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut lines = std::io::stdin().lines();
    let Some(Ok(secret)) = lines.next() else {
        eprintln!("usage: token-server, the JWTs' secret on the first line of stdin");
        std::process::exit(2);
    };
    let fake = runtime.block_on(FakeCometChat::start());
    let gate = hs256::Hs256::with_secret(secret, 0).reuse_gate(&fake);
    let (url, _server) = runtime.block_on(serve::serve(serve::axum_app(gate)));
    #[cfg(feature = "metrics")]
    let metrics = {
        use quickstart_common::metrics::{METRICS_PATH, MetricsServer};
        let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let server = runtime
            .block_on(MetricsServer::start(loopback))
            .expect("the metrics listener");
        println!("token {url}");
        println!("metrics http://{}{METRICS_PATH}", server.addr());
        server
    };
    #[cfg(not(feature = "metrics"))]
    {
        println!("token {url}");
        println!("metrics off");
    }
    for line in lines {
        match line.as_deref() {
            Ok("upstream") => println!("upstream {}", fake.route_counts().values().sum::<usize>()),
            _ => break,
        }
    }
    #[cfg(feature = "metrics")]
    metrics.stop();
}
