//! `cargo xtask bench`: the token endpoint under load, on loopback, against one in-process
//! `cometchat-fake`, with a baseline measured in the same run.
//!
//! - (a) baseline: a hand-written axum handler doing what the seed guide's Express recipe does —
//!   check the session, one REST mint per request, no limits;
//! - (b) the cometgate layer with its limits relaxed, on axum, and (b') the same gate on actix-web;
//! - (c) upstream mints per request for a burst of 100 concurrent requests by one user;
//! - RS256 verification throughput of `cometgate-jwt` with cached keys ([`jwt`]).
//!
//! Both (a) and (b) identify callers the same way (`Authorization: Bearer <uid>` checked against
//! a table of demo sessions), so the ratio measures what cometgate adds, not a JWT library.

mod jwt;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use cometchat_fake::{FakeCometChat, FakeUser};
use cometgate::vend::{Gate, RateLimit};
use cometgate::{
    Config, Identity, Principal, Region, Rejection, RequestView, UidMapper, UidMapping,
};
use cometgate_axum::TokenLayer;
use serde_json::{Value, json};
use tokio::net::TcpListener;

const USERS: usize = 500;
const CONCURRENCY: usize = 16;
const WARMUP: usize = 300;
const REQUESTS: usize = 5_000;
const ROUNDS: usize = 9;
const BURST: usize = 100;

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

async fn serve(app: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/cometchat-token")
}

struct Figures {
    rps: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

async fn load(url: &str, requests: usize) -> Figures {
    let client = reqwest::Client::new();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, next, url) = (client.clone(), next.clone(), url.to_owned());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= requests {
                    break (latencies, errors);
                }
                let t = Instant::now();
                let ok = client
                    .post(&url)
                    .bearer_auth(format!("session-{}", i % USERS))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
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

/// The gate both adapters serve: limits relaxed, readable UIDs.
fn bench_gate(fake: &FakeCometChat, sessions: Arc<HashMap<String, String>>) -> Gate<Sessions> {
    let config = Config::builder()
        .app_id(fake.app_id())
        .region(Region::Us)
        .rest_api_key(fake.api_key())
        .api_base(fake.base_url())
        .build()
        .expect("config for the fake");
    Gate::builder()
        .config(config)
        .identity(Sessions(sessions))
        .uid_mapper(UidMapper::shared_namespace(UidMapping::Readable))
        .per_user_limit(RateLimit::unlimited())
        .upstream_budget(RateLimit::unlimited())
        .build()
        .expect("gate")
}

/// (b) The cometgate layer on an axum router with one ordinary route.
fn axum_app(gate: Gate<Sessions>) -> Router {
    Router::new()
        .route("/todos", axum::routing::get(|| async { "[]" }))
        .layer(TokenLayer::new(gate))
}

/// (b') The same gate as actix-web middleware; actix serves on its own worker threads.
fn serve_actix(gate: Gate<Sessions>) -> String {
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
    tokio::spawn(server);
    format!("http://{addr}/cometchat-token")
}

/// The median of each figure over the rounds (rounds alternate between (a) and (b)).
fn median_figures(rounds: Vec<Figures>) -> Figures {
    fn mid<T: PartialOrd + Copy>(mut v: Vec<T>) -> T {
        v.sort_by(|x, y| x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal));
        v[v.len() / 2]
    }
    Figures {
        rps: mid(rounds.iter().map(|f| f.rps).collect()),
        p50: mid(rounds.iter().map(|f| f.p50).collect()),
        p99: mid(rounds.iter().map(|f| f.p99).collect()),
        errors: rounds.iter().map(|f| f.errors).sum(),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let mut builder = FakeCometChat::builder();
    for i in 0..USERS {
        builder = builder.seed_user(FakeUser::new(format!("user_{i}"), format!("User {i}")));
    }
    let fake = builder.start().await.expect("start the fake");
    let sessions = sessions();

    let baseline = serve(
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
    let gated = serve(axum_app(bench_gate(&fake, sessions.clone()))).await;
    let actix = serve_actix(bench_gate(&fake, sessions.clone()));

    // Warm up both, then measure them alternately so drift on a shared machine hits both.
    load(&baseline, WARMUP).await;
    load(&gated, WARMUP).await;
    load(&actix, WARMUP).await;
    let (mut a_rounds, mut b_rounds, mut x_rounds) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        a_rounds.push(load(&baseline, REQUESTS).await);
        b_rounds.push(load(&gated, REQUESTS).await);
        x_rounds.push(load(&actix, REQUESTS).await);
    }
    let (a, b, x) = (
        median_figures(a_rounds),
        median_figures(b_rounds),
        median_figures(x_rounds),
    );

    // (c) a burst of 100 concurrent requests by one user, on each adapter.
    let (c_axum, c_axum_ok) = burst(&fake, &gated, "session-0").await;
    let (c_actix, c_actix_ok) = burst(&fake, &actix, "session-1").await;
    let jwt = jwt::run().await;

    println!(
        "token endpoint on loopback: median of {ROUNDS} alternating rounds of {REQUESTS} requests, {CONCURRENCY} concurrent, {USERS} users, one in-process cometchat-fake"
    );
    println!("| | req/s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|");
    for (name, f) in [
        ("(a) hand-written axum handler", &a),
        ("(b) cometgate on axum", &b),
        ("(b') cometgate on actix-web", &x),
    ] {
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {} |",
            f.rps,
            ms(f.p50),
            ms(f.p99),
            f.errors
        );
    }
    for (name, f) in [("ratio b/a", &b), ("ratio b'/a", &x)] {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | |",
            f.rps / a.rps,
            ms(f.p50) / ms(a.p50),
            ms(f.p99) / ms(a.p99)
        );
    }
    for (name, mints, ok) in [
        ("axum", c_axum, c_axum_ok),
        ("actix-web", c_actix, c_actix_ok),
    ] {
        println!(
            "(c) {name}: burst of {BURST} concurrent requests by one user: {ok} answered 200, {mints} upstream mints = {:.2} mints/request",
            mints as f64 / BURST as f64
        );
    }
    jwt::print(&jwt);

    println!("\ntargets:");
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    for (name, f) in [("b/a", &b), ("b'/a", &x)] {
        let ratio = f.rps / a.rps;
        println!(
            "- {name} req/s ratio >= 0.95: {:.3}, {}",
            ratio,
            verdict(ratio >= 0.95)
        );
    }
    for (name, mints) in [("axum", c_axum), ("actix-web", c_actix)] {
        let per_request = mints as f64 / BURST as f64;
        println!(
            "- (c) {name} mints/request <= 0.05: {per_request:.2}, {}",
            verdict(per_request <= 0.05)
        );
    }
}

/// (c): `BURST` concurrent requests by one user; returns the upstream mints they caused and
/// how many answered 200.
async fn burst(fake: &FakeCometChat, url: &str, session: &str) -> (usize, usize) {
    let before = fake.count("POST /users/{uid}/auth_tokens");
    let client = reqwest::Client::new();
    let requests: Vec<_> = (0..BURST)
        .map(|_| {
            let (client, url, session) = (client.clone(), url.to_owned(), session.to_owned());
            tokio::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(session)
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
    (fake.count("POST /users/{uid}/auth_tokens") - before, ok)
}
