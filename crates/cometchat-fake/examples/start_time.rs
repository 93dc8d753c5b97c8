//! Measures how long a fake takes to start and answer its first request, against a plain
//! `TcpListener` bind + accept round trip as the baseline measured in the same run.
//!
//! ```text
//! cargo run --release -p cometchat-fake --example start_time
//! ```

use std::time::{Duration, Instant};

use cometchat_fake::FakeCometChat;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ROUNDS: usize = 200;

async fn first_request(addr: std::net::SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /v3/settings HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.expect("read");
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let mut fake = Vec::new();
    let mut start_only = Vec::new();
    let mut baseline = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let cc = FakeCometChat::start().await;
        start_only.push(t.elapsed());
        first_request(cc.addr()).await;
        fake.push(t.elapsed());
        cc.shutdown().await;

        let t = Instant::now();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        });
        first_request(addr).await;
        let _ = server.await;
        baseline.push(t.elapsed());
    }
    let (f, s, b) = (median(fake), median(start_only), median(baseline));
    println!("median of {ROUNDS} rounds:");
    println!("  FakeCometChat::start()                 {s:?}");
    println!("  start + first HTTP request answered     {f:?}");
    println!("  baseline: bind + raw HTTP round trip    {b:?}");
    println!(
        "  ratio (start + first request) / baseline: {:.2}",
        f.as_secs_f64() / b.as_secs_f64()
    );
}
