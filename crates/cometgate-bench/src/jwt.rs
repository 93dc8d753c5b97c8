//! RS256 verification throughput of `cometgate-jwt` with cached keys, against a baseline of
//! bare `jsonwebtoken::decode` with the same key, in the same run.
//!
//! The identity is a generic OIDC provider whose JWKS is served on loopback; it is warmed up
//! once (the one JWKS fetch), so the rounds measure verification from the cache: header
//! parsing, the `kid` lookup, the signature, the claim checks and building the principal.

use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer;
use axum::Router;
use axum::routing::get;
use cometgate_jwt::{JwtIdentity, Oidc};
use data_encoding::BASE64;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use tokio::net::TcpListener;

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
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .expect("RSA key generation");
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).expect("PKCS#8");
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        BASE64.encode(der.as_ref())
    );
    let signing = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("RSA PEM");
    let mut jwk = Jwk::from_encoding_key(&signing, Algorithm::RS256).expect("public JWK");
    jwk.common.key_id = Some("bench-1".into());
    let key = DecodingKey::from_jwk(&jwk).expect("decoding key");
    let jwks = json!({ "keys": [jwk] });

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
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("bench-1".into());
    let exp = jsonwebtoken::get_current_timestamp() + 3600;
    let tokens: Vec<String> = (0..TOKENS)
        .map(|i| {
            let claims = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": format!("user-{i}"), "exp": exp, "name": format!("User {i}")});
            jsonwebtoken::encode(&header, &claims, &signing).expect("sign")
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
