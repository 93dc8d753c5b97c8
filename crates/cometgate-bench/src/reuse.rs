//! (d) the reuse path against (e) a hand-written handler that verifies the same JWT.
//!
//! Every request of a round names a device the gate already tracks (`{"deviceId": ...}`), so
//! cometgate verifies the JWT, maps the UID, hashes the device id, finds the stored token and
//! answers it, with no upstream call (the recheck is an hour, the rounds last seconds; the
//! rounds are checked to make none). The baseline verifies the same HS256 JWT with bare
//! `jsonwebtoken` under the same rules and answers a fixed JSON body of the same shape, so
//! (d)/(e) is what cometgate adds to the verification an app does anyway.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use cometchat_fake::FakeCometChat;
use cometgate::vend::TokenPolicy;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::Value;

use crate::hs256::Hs256;
use crate::{Call, Figures, USERS, load, median, median_figures, serve};

/// Devices each user has; all are tracked before the rounds.
const DEVICES: usize = 3;
/// Rounds of each row, and requests per round: the reuse path is fast, so rounds are longer
/// and more numerous than (a)'s to keep the shared machine's noise out of the median.
const ROUNDS: usize = 15;
const REQUESTS: usize = 10_000;
/// The recheck in force: long, so that no stored token is due during the run.
const RECHECK: Duration = Duration::from_secs(3_600);
/// What the baseline answers: the shape of cometgate's answer, with a token of CometChat's
/// form.
const FIXED_BODY: &str = r#"{"authToken":"ab3xnumfqx2k6mzvqcr4vq6swuhn5cbxyg2krdbxfdfvbxn7c6c6r3sg_1694668129d2eca40a65abba29e6860224018ad8","uid":"ab3xnumfqx2k6mzvqcr4vq6swuhn5cbxyg2krdbxfdfvbxn7c6c6r3sg","deviceId":"u123-d1","expiresAt":1695272929}"#;

pub struct ReuseFigures {
    /// (e), per round.
    baseline: Vec<Figures>,
    /// (d), per round.
    gated: Vec<Figures>,
    /// CometChat calls during the rounds of (d): must be 0.
    upstream_calls: usize,
}

struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

/// (e): verify the bearer JWT, answer a fixed body.
async fn verify_handler(State(v): State<Arc<Verifier>>, headers: HeaderMap) -> impl IntoResponse {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    let verified =
        token.is_some_and(|t| jsonwebtoken::decode::<Value>(t, &v.key, &v.validation).is_ok());
    if !verified {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::CACHE_CONTROL, "no-store")],
            "{}",
        );
    }
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        FIXED_BODY,
    )
}

/// Request `i`: user `i % USERS` on one of its devices.
fn known_device(jwts: &Arc<Hs256>) -> impl Fn(usize) -> Call + Send + Sync + 'static {
    let jwts = Arc::clone(jwts);
    move |i| {
        let (user, device) = (i % jwts.users(), (i / jwts.users()) % DEVICES);
        Call {
            bearer: jwts.token(user).to_owned(),
            body: Some(format!(r#"{{"deviceId":"u{user}-d{device}"}}"#)),
        }
    }
}

fn upstream_calls(fake: &FakeCometChat) -> usize {
    fake.route_counts().values().sum()
}

pub async fn run(fake: &FakeCometChat) -> ReuseFigures {
    let jwts = Arc::new(Hs256::new(USERS));
    let (key, validation) = jwts.baseline();
    let (baseline, _baseline_server) = serve(
        Router::new()
            .route("/cometchat-token", post(verify_handler))
            .with_state(Arc::new(Verifier { key, validation })),
    )
    .await;
    let policy = TokenPolicy::default().recheck(Some(RECHECK));
    let gate = jwts.gate(fake, policy);
    let (gated, _gated_server) = serve(crate::axum_app(gate)).await;

    // Track every device (first sign-ins: the users are new to CometChat), then warm both up.
    let tracked = load(&gated, USERS * DEVICES, known_device(&jwts)).await;
    assert_eq!(tracked.errors, 0, "tracking the devices failed");
    load(&baseline, crate::WARMUP, known_device(&jwts)).await;
    load(&gated, crate::WARMUP, known_device(&jwts)).await;

    // Each round runs e, d, d, e (half the requests each): drift during a round then weighs
    // on both rows alike.
    let before = upstream_calls(fake);
    let (mut e, mut d) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let e1 = load(&baseline, REQUESTS / 2, known_device(&jwts)).await;
        let d1 = load(&gated, REQUESTS / 2, known_device(&jwts)).await;
        let d2 = load(&gated, REQUESTS / 2, known_device(&jwts)).await;
        let e2 = load(&baseline, REQUESTS / 2, known_device(&jwts)).await;
        e.push(combine(&e1, &e2));
        d.push(combine(&d1, &d2));
    }
    ReuseFigures {
        baseline: e,
        gated: d,
        upstream_calls: upstream_calls(fake) - before,
    }
}

/// Two equal halves of a round as one: requests over the total time, and the mean of the
/// halves' latency percentiles.
fn combine(x: &Figures, y: &Figures) -> Figures {
    Figures {
        rps: 2.0 / (1.0 / x.rps + 1.0 / y.rps),
        p50: (x.p50 + y.p50) / 2,
        p99: (x.p99 + y.p99) / 2,
        errors: x.errors + y.errors,
    }
}

/// The req/s ratio (d)/(e) of each round.
fn round_ratios(f: &ReuseFigures) -> Vec<f64> {
    f.gated
        .iter()
        .zip(&f.baseline)
        .map(|(d, e)| d.rps / e.rps)
        .collect()
}

pub fn print(f: &ReuseFigures) {
    println!(
        "\nreuse path on loopback: median of {ROUNDS} rounds of {REQUESTS} requests per row (e, d, d, e: half each), {} concurrent, {USERS} users with {DEVICES} tracked devices each, HS256 JWTs",
        crate::CONCURRENCY
    );
    println!("| | req/s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|");
    let (e, d) = (median_figures(&f.baseline), median_figures(&f.gated));
    crate::print_row("(e) hand-written axum handler verifying the JWT", &e);
    crate::print_row("(d) cometgate on axum, known device (reuse)", &d);
    crate::print_ratio("ratio d/e", &d, &e);
    let per_round: Vec<String> = round_ratios(f).iter().map(|r| format!("{r:.2}")).collect();
    println!(
        "(d)/(e) req/s per round: {}; median {:.2}; upstream calls during (d): {}",
        per_round.join(", "),
        median(round_ratios(f)),
        f.upstream_calls
    );
}

pub fn targets(f: &ReuseFigures) {
    let ratio = median(round_ratios(f));
    println!(
        "- (d)/(e) req/s ratio >= 0.8 (median of the rounds' ratios): {ratio:.3}, {}",
        crate::verdict(ratio >= 0.8 && f.upstream_calls == 0)
    );
}
