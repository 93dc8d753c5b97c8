//! (d) the reuse path against (e) a hand-written handler that verifies the same JWT.
//!
//! Every request of a round names a device the gate already tracks (`{"deviceId": ...}`), so
//! cometgate verifies the JWT, maps the UID, hashes the device id, finds the stored token and
//! answers it, with no upstream call (the recheck is an hour, the rounds last seconds; the
//! rounds are checked to make none). The baseline verifies the same HS256 JWT with bare
//! `jsonwebtoken` under the same rules and answers a fixed JSON body of the same shape, so
//! (d)/(e) is what cometgate adds to the verification an app does anyway.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use cometchat_fake::FakeCometChat;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::Value;

use crate::hs256::Hs256;
use crate::{Call, Figures, USERS, load, median, median_figures, serve};

/// Devices each user has; all are tracked before the rounds.
pub(crate) const DEVICES: usize = 3;
/// Rounds of each row, and requests per round: the reuse path is fast, so rounds are longer
/// and more numerous than (a)'s to keep the shared machine's noise out of the median.
const ROUNDS: usize = 15;
pub(crate) const REQUESTS: usize = 10_000;
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
pub(crate) fn known_device(jwts: &Arc<Hs256>) -> impl Fn(usize) -> Call + Send + Sync + 'static {
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
    let gate = jwts.reuse_gate(fake);
    let (gated, _gated_server) = serve(crate::axum_app(gate)).await;

    // Track every device (first sign-ins: the users are new to CometChat), then warm both up.
    let tracked = load(&gated, USERS * DEVICES, known_device(&jwts)).await;
    assert_eq!(tracked.errors, 0, "tracking the devices failed");
    load(&baseline, crate::WARMUP, known_device(&jwts)).await;
    load(&gated, crate::WARMUP, known_device(&jwts)).await;

    let before = upstream_calls(fake);
    let (e, d) = alternate(&baseline, &gated, &jwts, ROUNDS).await;
    ReuseFigures {
        baseline: e,
        gated: d,
        upstream_calls: upstream_calls(fake) - before,
    }
}

/// `rounds` rounds of `REQUESTS` requests to each of `baseline` and `measured`, every request
/// naming a tracked device; returns the figures of each row, per round.
///
/// Each round runs baseline, measured, measured, baseline (half the requests each): drift
/// during a round then weighs on both rows alike.
pub(crate) async fn alternate(
    baseline: &str,
    measured: &str,
    jwts: &Arc<Hs256>,
    rounds: usize,
) -> (Vec<Figures>, Vec<Figures>) {
    let (mut base, mut rows) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let b1 = load(baseline, REQUESTS / 2, known_device(jwts)).await;
        let m1 = load(measured, REQUESTS / 2, known_device(jwts)).await;
        let m2 = load(measured, REQUESTS / 2, known_device(jwts)).await;
        let b2 = load(baseline, REQUESTS / 2, known_device(jwts)).await;
        base.push(combine(&b1, &b2));
        rows.push(combine(&m1, &m2));
    }
    (base, rows)
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

/// The req/s ratio measured/baseline of each round.
pub(crate) fn round_ratios(measured: &[Figures], baseline: &[Figures]) -> Vec<f64> {
    measured
        .iter()
        .zip(baseline)
        .map(|(m, b)| m.rps / b.rps)
        .collect()
}

/// A row pair's table: the medians of `baseline` and `measured` (named by their letters) and
/// their ratio, then the per-round ratios and their median, which is returned.
pub(crate) fn print_pair(
    (base_letter, base_name, baseline): (&str, &str, &[Figures]),
    (letter, name, measured): (&str, &str, &[Figures]),
) -> f64 {
    println!("| | req/s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|");
    let (b, m) = (median_figures(baseline), median_figures(measured));
    crate::print_row(&format!("({base_letter}) {base_name}"), &b);
    crate::print_row(&format!("({letter}) {name}"), &m);
    crate::print_ratio(&format!("ratio {letter}/{base_letter}"), &m, &b);
    let ratios = round_ratios(measured, baseline);
    let per_round: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    let ratio = median(ratios);
    print!(
        "({letter})/({base_letter}) req/s per round: {}; median {ratio:.2}",
        per_round.join(", ")
    );
    ratio
}

pub fn print(f: &ReuseFigures) {
    println!(
        "\nreuse path on loopback: median of {ROUNDS} rounds of {REQUESTS} requests per row (e, d, d, e: half each), {} concurrent, {USERS} users with {DEVICES} tracked devices each, HS256 JWTs",
        crate::CONCURRENCY
    );
    print_pair(
        (
            "e",
            "hand-written axum handler verifying the JWT",
            &f.baseline,
        ),
        ("d", "cometgate on axum, known device (reuse)", &f.gated),
    );
    println!("; upstream calls during (d): {}", f.upstream_calls);
}

pub fn targets(f: &ReuseFigures) {
    let ratio = median(round_ratios(&f.gated, &f.baseline));
    println!(
        "- (d)/(e) req/s ratio >= 0.8 (median of the rounds' ratios): {ratio:.3}, {}",
        crate::verdict(ratio >= 0.8 && f.upstream_calls == 0)
    );
}
