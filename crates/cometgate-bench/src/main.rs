//! `cargo xtask bench`: the token endpoint under load, on loopback, against one in-process
//! `cometchat-fake`, with a baseline measured in the same run. Every ratio compares rounds
//! measured alternately in the same run (the machine is shared and noisy), as medians.
//!
//! - (a) baseline: a hand-written axum handler doing what the seed guide's Express recipe does —
//!   check the session, one REST mint per request, no limits;
//! - (b) the cometgate layer with its limits relaxed, on axum, and (b') the same gate on
//!   actix-web, doing the same work as (a): one mint per request (see [`fresh_gate_round`]);
//! - (c) upstream mints per request for a burst of 100 concurrent requests by one user on one
//!   new device;
//! - (d) the reuse path: a known device gets its stored token back, no upstream call, against
//!   (e) a hand-written axum handler verifying the same HS256 JWT ([`reuse`]);
//! - (f) upstream calls per request over a realistic mix of cold starts ([`mix`]);
//! - (g) bytes per tracked device in the in-memory store, measured in a process of its own with
//!   a counting allocator (`src/bin/store-memory.rs`), so that the counting does not slow the
//!   other rows;
//! - RS256 verification throughput of `cometgate-jwt` with cached keys ([`jwt`]);
//! - webhook signature verification of a 2 KiB payload against the `standardwebhooks` crate
//!   ([`webhook`]);
//! - webhook deliveries per second end to end against the fake's own round trip
//!   ([`webhook_deliveries`]);
//! - the reuse and mint paths with the Redis store against the in-memory store, and Redis round
//!   trips per request, on a `redis-server` the bench starts ([`redis_row`]);
//! - (h) the reuse path of (d) served by a build of cometgate without its `metrics` feature
//!   against (h') one with it and the quickstarts' Prometheus recorder: two builds of
//!   `src/bin/token-server.rs`, each in a process of its own, measured alternately
//!   ([`metrics_row`]).
//!
//! (a), (b) and (c) identify callers the same way (`Authorization: Bearer <uid>` checked against
//! a table of demo sessions), so the ratio measures what cometgate adds, not a JWT library;
//! (d), (e) and (f) verify real HS256 JWTs signed in the bench ([`hs256`]).
//!
//! One group alone, e.g. under a profiler: `cometgate-bench mint` ((a), (b), (b')), `reuse`,
//! `webhook`, `webhooks`, `redis`, `metrics`.

mod hs256;
mod jwt;
mod metrics_row;
mod mix;
mod redis_row;
mod reuse;
mod serve;
mod subject;
mod webhook;
mod webhook_deliveries;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use cometchat_fake::{FakeCometChat, FakeUser};
use cometgate::vend::{Gate, RateLimit};
use cometgate::{Identity, Principal, Rejection, RequestView, UidMapper, UidMapping};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

pub(crate) use crate::serve::{axum_app, fake_config, serve};

const USERS: usize = 500;
const CONCURRENCY: usize = 16;
const WARMUP: usize = 300;
const REQUESTS: usize = 5_000;
const ROUNDS: usize = 9;
const BURST: usize = 100;

/// The fake's route for one token's delete: what an eviction costs upstream.
const DELETE_ONE: &str = "DELETE /users/{uid}/auth_tokens/{authToken}";
const MINT: &str = "POST /users/{uid}/auth_tokens";

/// Demo sessions: bearer token → app user id.
fn sessions() -> Arc<HashMap<String, String>> {
    Arc::new(
        (0..USERS)
            .map(|i| (format!("session-{i}"), format!("user_{i}")))
            .collect(),
    )
}

#[derive(Clone)]
struct Baseline {
    sessions: Arc<HashMap<String, String>>,
    http: reqwest::Client,
    api_base: String,
    app_id: String,
    api_key: String,
}

/// (a) What the seed's Express recipe does, in axum.
async fn baseline_handler(State(s): State<Baseline>, headers: HeaderMap) -> (StatusCode, String) {
    let uid = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| s.sessions.get(t));
    let Some(uid) = uid else {
        return (StatusCode::UNAUTHORIZED, "{}".into());
    };
    let minted = s
        .http
        .post(format!("{}/users/{uid}/auth_tokens", s.api_base))
        // The seed's headers: Content-Type (set by `.json`), appId and apiKey.
        .header("appId", &s.app_id)
        .header("apikey", &s.api_key)
        .json(&json!({"force": true}))
        .send()
        .await;
    let body: Option<Value> = match minted {
        Ok(r) if r.status().is_success() => r.json().await.ok(),
        _ => None,
    };
    match body.as_ref().and_then(|b| b["data"]["authToken"].as_str()) {
        Some(token) => (StatusCode::OK, json!({ "authToken": token }).to_string()),
        None => (StatusCode::BAD_GATEWAY, "{}".into()),
    }
}

pub(crate) struct Figures {
    pub(crate) rps: f64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    pub(crate) errors: usize,
}

/// What request `i` of a load sends: its bearer credential and JSON body, if any.
pub(crate) struct Call {
    pub(crate) bearer: String,
    pub(crate) body: Option<String>,
}

/// The calls of (a), (b) and (c): a demo session, no body.
fn session_call(i: usize) -> Call {
    Call {
        bearer: format!("session-{}", i % USERS),
        body: None,
    }
}

/// `requests` POSTs to `url`, `CONCURRENCY` at a time, request `i` built by `call(i)`; an
/// answer other than 2xx is an error.
pub(crate) async fn load(
    url: &str,
    requests: usize,
    call: impl Fn(usize) -> Call + Send + Sync + 'static,
) -> Figures {
    let url = url.to_owned();
    let send = move |client: &reqwest::Client, i: usize| {
        let Call { bearer, body } = call(i);
        let request = client.post(&url).bearer_auth(bearer);
        match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(body),
            None => request,
        }
    };
    load_requests(requests, send, |status| status.is_success()).await
}

/// `requests` requests, `CONCURRENCY` at a time, request `i` built by `request(client, i)`;
/// an answer whose status `expected` refuses (or none) is an error. A request's latency is
/// timed from its send, after it is built; the round's throughput includes the building.
pub(crate) async fn load_requests(
    requests: usize,
    request: impl Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
    expected: fn(reqwest::StatusCode) -> bool,
) -> Figures {
    let client = reqwest::Client::new();
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, next, request) = (client.clone(), next.clone(), request.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    break (latencies, errors);
                }
                let built = request(&client, i);
                let t = Instant::now();
                let ok = built.send().await.is_ok_and(|r| expected(r.status()));
                latencies.push(t.elapsed());
                errors += usize::from(!ok);
            }
        }));
    }
    let mut all = Vec::with_capacity(requests);
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await.expect("worker");
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    all.sort();
    Figures {
        rps: requests as f64 / elapsed.as_secs_f64(),
        p50: all[all.len() / 2],
        p99: all[all.len() * 99 / 100],
        errors,
    }
}

/// The same demo sessions, as a cometgate identity.
struct Sessions(Arc<HashMap<String, String>>);

impl Identity for Sessions {
    type Credentials = String;

    fn extract<R: RequestView + ?Sized>(&self, request: &R) -> Result<String, Rejection> {
        let value = request
            .header_str("authorization")
            .ok_or(Rejection::Missing)?;
        value
            .strip_prefix("Bearer ")
            .map(str::to_owned)
            .ok_or_else(|| Rejection::invalid("not a bearer token"))
    }

    async fn verify(&self, session: String) -> Result<Principal, Rejection> {
        self.0
            .get(&session)
            .map(|uid| Principal::new("bench", uid.clone()))
            .ok_or_else(|| Rejection::invalid("unknown session"))
    }
}

/// The gate both adapters serve in (b), (b') and (c): limits relaxed, readable UIDs, the default
/// token policy.
fn bench_gate(fake: &FakeCometChat, sessions: Arc<HashMap<String, String>>) -> Gate<Sessions> {
    Gate::builder()
        .config(fake_config(fake))
        .identity(Sessions(sessions))
        .uid_mapper(UidMapper::shared_namespace(UidMapping::Readable))
        .per_user_limit(RateLimit::unlimited())
        .upstream_budget(RateLimit::unlimited())
        .build()
        .expect("gate")
}

/// (b') The same gate as actix-web middleware; actix serves on its own worker threads.
fn serve_actix(gate: Gate<Sessions>) -> (String, actix_web::dev::ServerHandle) {
    let endpoint = cometgate_actix::TokenEndpoint::new(gate);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .route("/todos", actix_web::web::get().to(|| async { "[]" }))
            .wrap(endpoint.clone())
    })
    .workers(2)
    .disable_signals()
    .listen(listener)
    .expect("listen on loopback")
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://{addr}/cometchat-token"), handle)
}

/// Which adapter serves a gate.
#[derive(Clone, Copy)]
enum Adapter {
    Axum,
    Actix,
}

/// A gate served on an adapter of its own, for one round.
struct Served {
    url: String,
    server: Server,
}

enum Server {
    Axum(JoinHandle<std::io::Result<()>>),
    Actix(actix_web::dev::ServerHandle),
}

impl Served {
    async fn start(adapter: Adapter, gate: Gate<Sessions>) -> Self {
        match adapter {
            Adapter::Axum => {
                let (url, server) = serve(axum_app(gate)).await;
                Self {
                    url,
                    server: Server::Axum(server),
                }
            }
            Adapter::Actix => {
                let (url, handle) = serve_actix(gate);
                Self {
                    url,
                    server: Server::Actix(handle),
                }
            }
        }
    }

    /// Stops the server, so its gate (and the gate's background sweep) goes away.
    async fn stop(self) {
        match self.server {
            Server::Axum(server) => server.abort(),
            Server::Actix(handle) => handle.stop(false).await,
        }
    }
}

/// One round of (b) or (b') on a gate of its own: warm up, then `REQUESTS` requests.
///
/// Requests without a body are each a new device, so they mint (the same work as (a)) and the
/// gate tracks every one. A gate that lived through all the rounds would see about 90 devices
/// per user and, past the cap of 20, delete the least recently used one upstream on every
/// mint: work that (a) does not do. A fresh gate per round sees `(WARMUP + REQUESTS) / USERS`
/// = 11 devices per user, under the default cap, so each request is one mint and nothing
/// else upstream; `main` checks that no delete happened. Tracking itself (the store) stays in
/// the measured work: it is what cometgate adds.
async fn fresh_gate_round(
    fake: &FakeCometChat,
    sessions: &Arc<HashMap<String, String>>,
    adapter: Adapter,
) -> Figures {
    let served = Served::start(adapter, bench_gate(fake, sessions.clone())).await;
    load(&served.url, WARMUP, session_call).await;
    let figures = load(&served.url, REQUESTS, session_call).await;
    served.stop().await;
    figures
}

/// The median of each figure over the rounds (rounds alternate between the rows compared).
pub(crate) fn median_figures(rounds: &[Figures]) -> Figures {
    Figures {
        rps: median(rounds.iter().map(|f| f.rps).collect()),
        p50: median(rounds.iter().map(|f| f.p50).collect()),
        p99: median(rounds.iter().map(|f| f.p99).collect()),
        errors: rounds.iter().map(|f| f.errors).sum(),
    }
}

pub(crate) fn median<T: PartialOrd + Copy>(mut v: Vec<T>) -> T {
    v.sort_by(|x, y| x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A table row: `| name | req/s | p50 ms | p99 ms | errors |`.
pub(crate) fn print_row(name: &str, f: &Figures) {
    println!(
        "| {name} | {:.0} | {:.2} | {:.2} | {} |",
        f.rps,
        ms(f.p50),
        ms(f.p99),
        f.errors
    );
}

/// A ratio row of `f` against the baseline `base`.
pub(crate) fn print_ratio(name: &str, f: &Figures, base: &Figures) {
    println!(
        "| {name} | {:.2} | {:.2} | {:.2} | |",
        f.rps / base.rps,
        ms(f.p50) / ms(base.p50),
        ms(f.p99) / ms(base.p99)
    );
}

pub(crate) fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

#[tokio::main]
async fn main() {
    // `cometgate-bench reuse`: only (d) and (e), e.g. under a profiler.
    if std::env::args().nth(1).as_deref() == Some("reuse") {
        let fake = FakeCometChat::start().await;
        let reuse = reuse::run(&fake).await;
        reuse::print(&reuse);
        reuse::targets(&reuse);
        return;
    }
    // `cometgate-bench webhook`: only the webhook verification row.
    if std::env::args().nth(1).as_deref() == Some("webhook") {
        let figures = webhook::run();
        webhook::print(&figures);
        webhook::targets(&figures);
        return;
    }
    // `cometgate-bench webhooks`: only the webhook deliveries end to end.
    if std::env::args().nth(1).as_deref() == Some("webhooks") {
        let deliveries = webhook_deliveries::run().await;
        webhook_deliveries::print(&deliveries);
        webhook_deliveries::targets(&deliveries);
        return;
    }
    // `cometgate-bench redis`: only the Redis store against the in-memory one.
    if std::env::args().nth(1).as_deref() == Some("redis") {
        let redis = redis_row::run().await;
        redis_row::print(&redis);
        redis_row::targets(&redis);
        if redis.is_err() {
            std::process::exit(1);
        }
        return;
    }
    // `cometgate-bench metrics`: only (h) and (h').
    if std::env::args().nth(1).as_deref() == Some("metrics") {
        let metrics = metrics_row::run().await;
        metrics_row::print(&metrics);
        metrics_row::targets(&metrics);
        return;
    }
    let mut builder = FakeCometChat::builder();
    for i in 0..USERS {
        builder = builder.seed_user(FakeUser::new(format!("user_{i}"), format!("User {i}")));
    }
    let fake = builder.start().await.expect("start the fake");
    let sessions = sessions();

    let mint = mint_rows(&fake, &sessions).await;
    // `cometgate-bench mint`: only (a), (b) and (b'), e.g. under a profiler.
    if std::env::args().nth(1).as_deref() == Some("mint") {
        print_mint_rows(&mint);
        println!("\ntargets:");
        mint_targets(&mint);
        return;
    }

    // (c) a burst of 100 concurrent requests by one user on one new device, on each adapter.
    let mut c = Vec::new();
    for (name, adapter, session) in [
        ("axum", Adapter::Axum, "session-0"),
        ("actix-web", Adapter::Actix, "session-1"),
    ] {
        let served = Served::start(adapter, bench_gate(&fake, sessions.clone())).await;
        let (mints, ok) = burst(&fake, &served.url, session).await;
        served.stop().await;
        c.push((name, mints, ok));
    }
    let reuse = reuse::run(&fake).await;
    let mix = mix::run().await;
    let jwt = jwt::run().await;
    let webhook = webhook::run();
    let deliveries = webhook_deliveries::run().await;
    let redis = redis_row::run().await;
    let metrics = metrics_row::run().await;

    print_mint_rows(&mint);
    for (name, mints, ok) in &c {
        println!(
            "(c) {name}: burst of {BURST} concurrent requests by one user on one new device: {ok} answered 200, {mints} upstream mints = {:.2} mints/request",
            *mints as f64 / BURST as f64
        );
    }
    reuse::print(&reuse);
    mix::print(&mix);
    jwt::print(&jwt);
    webhook::print(&webhook);
    webhook_deliveries::print(&deliveries);
    redis_row::print(&redis);
    metrics_row::print(&metrics);
    let memory = memory_rows();

    println!("\ntargets:");
    mint_targets(&mint);
    for (name, mints, _) in &c {
        let per_request = *mints as f64 / BURST as f64;
        println!(
            "- (c) {name} mints/request <= 0.05: {per_request:.2}, {}",
            verdict(per_request <= 0.05)
        );
    }
    reuse::targets(&reuse);
    mix::targets(&mix);
    webhook::targets(&webhook);
    webhook_deliveries::targets(&deliveries);
    redis_row::targets(&redis);
    metrics_row::targets(&metrics);
    for (name, bytes) in memory {
        match bytes {
            Some(bytes) => println!(
                "- (g) {name}: bytes per tracked device <= 200: {bytes:.1}, {}",
                verdict(bytes <= 200.0)
            ),
            None => println!("- (g) {name}: NOT measured (see above)"),
        }
    }
    if redis.is_err() {
        // Every other row is printed; a missing Redis still fails the run.
        std::process::exit(1);
    }
}

/// (a), (b) and (b'): every round of each, and the evictions during (b) and (b').
struct MintRows {
    a: Vec<Figures>,
    b: Vec<Figures>,
    x: Vec<Figures>,
    deletes: usize,
}

/// Measures (a), (b) and (b') in alternating rounds on `fake`.
async fn mint_rows(fake: &FakeCometChat, sessions: &Arc<HashMap<String, String>>) -> MintRows {
    let (baseline, _baseline_server) = serve(
        Router::new()
            .route("/cometchat-token", post(baseline_handler))
            .with_state(Baseline {
                sessions: sessions.clone(),
                http: reqwest::Client::new(),
                api_base: fake.base_url(),
                app_id: fake.app_id().to_owned(),
                api_key: fake.api_key().to_owned(),
            }),
    )
    .await;
    // Warm up, then measure alternately so drift on a shared machine hits every row.
    load(&baseline, WARMUP, session_call).await;
    let deletes_before = fake.count(DELETE_ONE);
    let (mut a, mut b, mut x) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        a.push(load(&baseline, REQUESTS, session_call).await);
        b.push(fresh_gate_round(fake, sessions, Adapter::Axum).await);
        x.push(fresh_gate_round(fake, sessions, Adapter::Actix).await);
    }
    MintRows {
        a,
        b,
        x,
        deletes: fake.count(DELETE_ONE) - deletes_before,
    }
}

fn print_mint_rows(rows: &MintRows) {
    let (a, b, x) = (
        median_figures(&rows.a),
        median_figures(&rows.b),
        median_figures(&rows.x),
    );
    println!(
        "token endpoint on loopback: median of {ROUNDS} alternating rounds of {REQUESTS} requests, {CONCURRENCY} concurrent, {USERS} users, one in-process cometchat-fake"
    );
    println!("| | req/s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|");
    print_row("(a) hand-written axum handler", &a);
    print_row("(b) cometgate on axum", &b);
    print_row("(b') cometgate on actix-web", &x);
    print_ratio("ratio b/a", &b, &a);
    print_ratio("ratio b'/a", &x, &a);
    for (name, rounds) in [("b/a", &rows.b), ("b'/a", &rows.x)] {
        let per_round: Vec<String> = rounds
            .iter()
            .zip(&rows.a)
            .map(|(f, a)| format!("{:.2}", f.rps / a.rps))
            .collect();
        println!("{name} req/s per round: {}", per_round.join(", "));
    }
    println!(
        "(b), (b'): one mint per request, a fresh gate per round; evictions (upstream deletes) during their rounds: {}",
        rows.deletes
    );
}

fn mint_targets(rows: &MintRows) {
    let a = median_figures(&rows.a);
    for (name, rounds) in [("b/a", &rows.b), ("b'/a", &rows.x)] {
        let ratio = median_figures(rounds).rps / a.rps;
        println!(
            "- {name} req/s ratio >= 0.95: {:.3}, {}",
            ratio,
            verdict(ratio >= 0.95 && rows.deletes == 0)
        );
    }
}

/// (c): `BURST` concurrent requests by one user, all naming one device the gate has not seen
/// (an app that fires several token requests as it starts); returns the upstream mints they
/// caused and how many answered 200. Requests without a device id would each be a new device,
/// and so a mint of its own, by design.
async fn burst(fake: &FakeCometChat, url: &str, session: &str) -> (usize, usize) {
    let before = fake.count(MINT);
    let client = reqwest::Client::new();
    let requests: Vec<_> = (0..BURST)
        .map(|_| {
            let (client, url, session) = (client.clone(), url.to_owned(), session.to_owned());
            tokio::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(session)
                    .header("content-type", "application/json")
                    .body(r#"{"deviceId": "burst-device"}"#)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .collect();
    let mut ok = 0;
    for r in requests {
        ok += usize::from(r.await.expect("burst request") == 200);
    }
    (fake.count(MINT) - before, ok)
}

/// The distributions (g) measures: devices per user.
const MEMORY_DISTRIBUTIONS: [(&str, usize); 2] =
    [("3 devices per user", 3), ("1 device per user", 1)];

/// (g) runs `src/bin/store-memory.rs` once per distribution, each in a process of its own: its
/// counting allocator must not slow the rows above, and a fresh process gives each
/// distribution an honest resident-memory figure too. Returns bytes per device by distribution.
fn memory_rows() -> Vec<(&'static str, Option<f64>)> {
    println!(
        "\n(g) in-memory store holding 1,000,000 tracked devices (a counting allocator in a process of its own)"
    );
    println!(
        "| | users added | UID length | bytes per device | allocations per device | resident MB |"
    );
    println!("|---|---|---|---|---|---|");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    MEMORY_DISTRIBUTIONS
        .iter()
        .map(|&(name, per_user)| {
            let mut command = std::process::Command::new(&cargo);
            command.args(["run", "--quiet", "--locked", "--manifest-path", manifest]);
            if !cfg!(debug_assertions) {
                command.arg("--release");
            }
            command.args(["--bin", "store-memory", "--", &per_user.to_string()]);
            let output = command.output();
            let line = match &output {
                Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
                Ok(o) => {
                    println!(
                        "| {name} | store-memory failed ({}): {} |",
                        o.status,
                        String::from_utf8_lossy(&o.stderr).trim()
                    );
                    return (name, None);
                }
                Err(e) => {
                    println!("| {name} | could not run cargo for store-memory: {e} |");
                    return (name, None);
                }
            };
            // The child prints `| users added | UID length | bytes | allocations | resident MB |`.
            println!("| {name} {line}");
            let bytes = line
                .split('|')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .nth(2)
                .and_then(|f| f.parse::<f64>().ok());
            (name, bytes)
        })
        .collect()
}
