//! RS256 verification throughput of `cometgate-jwt` with cached keys, against a baseline of
//! bare `jsonwebtoken::decode` with the same key, in the same run.
//!
//! The identity is a generic OIDC provider whose JWKS is served on loopback; it is warmed up
//! once (the one JWKS fetch), so the rounds measure verification from the cache: header
//! parsing, the `kid` lookup, the signature, the claim checks and building the principal.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use cometgate_jwt::{JwtIdentity, Oidc};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use tokio::net::TcpListener;

// The same generated keys as cometgate-jwt's own tests.
#[path = "../../cometgate-jwt/tests/support/keys.rs"]
mod keys;
use keys::SigningKey;

const ISSUER: &str = "https://id.bench.example";
const AUDIENCE: &str = "chat";
const TOKENS: usize = 1_000;
const VERIFICATIONS: usize = 20_000;
const ROUNDS: usize = 5;

/// What one run measured: verifications per second, median over the rounds.
pub struct JwtFigures {
    pub baseline: f64,
    pub cometgate: f64,
}

struct Fixture {
    tokens: Vec<String>,
    key: DecodingKey,
    identity: JwtIdentity,
}

async fn fixture() -> Fixture {
    let signing = SigningKey::rsa("bench-1");
    let jwk: Jwk = serde_json::from_value(signing.jwk.clone()).expect("public JWK");
    let key = DecodingKey::from_jwk(&jwk).expect("decoding key");
    let jwks = json!({ "keys": [signing.jwk] });

    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let app = Router::new().route(
        "/jwks.json",
        get(move || {
            let jwks = jwks.clone();
            async move { axum::Json(jwks) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let identity = Oidc::new(ISSUER, AUDIENCE)
        .jwks_url(format!("http://{addr}/jwks.json"))
        .build()
        .expect("identity");
    let exp = jsonwebtoken::get_current_timestamp() + 3600;
    let tokens: Vec<String> = (0..TOKENS)
        .map(|i| {
            signing.sign(&json!({"iss": ISSUER, "aud": AUDIENCE, "sub": format!("user-{i}"), "exp": exp, "name": format!("User {i}")}))
        })
        .collect();
    // Warm the cache: the only JWKS fetch of the run.
    identity
        .verify_token(&tokens[0])
        .await
        .expect("warm-up verification");
    Fixture {
        tokens,
        key,
        identity,
    }
}

fn baseline_round(f: &Fixture, validation: &Validation) -> Duration {
    let started = Instant::now();
    for i in 0..VERIFICATIONS {
        let data = jsonwebtoken::decode::<Value>(&f.tokens[i % TOKENS], &f.key, validation)
            .expect("baseline verification");
        std::hint::black_box(data);
    }
    started.elapsed()
}

async fn cometgate_round(f: &Fixture) -> Duration {
    let started = Instant::now();
    for i in 0..VERIFICATIONS {
        let principal = f
            .identity
            .verify_token(&f.tokens[i % TOKENS])
            .await
            .expect("cometgate-jwt verification");
        std::hint::black_box(principal);
    }
    started.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|x, y| x.total_cmp(y));
    v[v.len() / 2]
}

/// Runs the rounds, alternating baseline and cometgate-jwt.
pub async fn run() -> JwtFigures {
    let f = fixture().await;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    let per_second = |d: Duration| VERIFICATIONS as f64 / d.as_secs_f64();
    let (mut baseline, mut cometgate) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        baseline.push(per_second(baseline_round(&f, &validation)));
        cometgate.push(per_second(cometgate_round(&f).await));
    }
    JwtFigures {
        baseline: median(baseline),
        cometgate: median(cometgate),
    }
}

/// Prints the table.
pub fn print(f: &JwtFigures) {
    println!(
        "\nRS256 verification with cached keys: median of {ROUNDS} alternating rounds of {VERIFICATIONS} verifications, one thread"
    );
    println!("| | verifications/s | ratio |");
    println!("|---|---|---|");
    println!("| bare jsonwebtoken::decode | {:.0} | 1.00 |", f.baseline);
    println!(
        "| cometgate-jwt (OIDC provider, JWKS cache) | {:.0} | {:.2} |",
        f.cometgate,
        f.cometgate / f.baseline
    );
}
