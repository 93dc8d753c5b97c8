//! Test support: keys generated per test (RSA 2048 and P-256 with aws-lc-rs), token signing,
//! and a JWKS server on loopback (wiremock) that counts its fetches.
#![allow(dead_code)] // each test file uses a part

use std::time::{SystemTime, UNIX_EPOCH};

use cometgate::identity::SimpleRequest;
use cometgate::{Identity, Principal, Rejection};
use data_encoding::BASE64URL_NOPAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod keys;
pub use keys::SigningKey;

/// Now, in unix seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Signs `claims` with HS256 and `secret`, with an optional `kid`.
pub fn sign_hs256(secret: &[u8], kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).expect("signing")
}

/// An unsigned `alg: none` token.
pub fn unsigned(kid: &str, claims: &Value) -> String {
    unsigned_with_alg("none", kid, claims)
}

/// A token whose header says `alg` and `kid` but whose signature is empty.
pub fn unsigned_with_alg(alg: &str, kid: &str, claims: &Value) -> String {
    let header = json!({"alg": alg, "typ": "JWT", "kid": kid});
    format!(
        "{}.{}.",
        BASE64URL_NOPAD.encode(header.to_string().as_bytes()),
        BASE64URL_NOPAD.encode(claims.to_string().as_bytes())
    )
}

/// `token` with its payload replaced by `claims` (signature kept).
pub fn tampered(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        BASE64URL_NOPAD.encode(claims.to_string().as_bytes()),
        parts[2]
    )
}

/// A JWKS server on loopback.
pub struct JwksServer {
    pub server: MockServer,
}

pub const JWKS_PATH: &str = "/.well-known/jwks.json";

impl JwksServer {
    /// Serves `keys` at [`JWKS_PATH`] with `cache_control`.
    pub async fn start(keys: &[&SigningKey], cache_control: &str) -> Self {
        let this = Self {
            server: MockServer::start().await,
        };
        this.publish(keys, cache_control).await;
        this
    }

    /// Replaces what is served with `keys` (a rotation); the fetch count restarts at zero.
    pub async fn publish(&self, keys: &[&SigningKey], cache_control: &str) {
        let set = json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() });
        self.publish_document(set, cache_control).await;
    }

    /// Replaces what is served with the JSON document `set`; the fetch count restarts at zero.
    pub async fn publish_document(&self, set: Value, cache_control: &str) {
        self.server.reset().await;
        Mock::given(method("GET"))
            .and(path(JWKS_PATH))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("cache-control", cache_control)
                    .set_body_json(set),
            )
            .mount(&self.server)
            .await;
    }

    /// Answers every request with 503 from now on; the fetch count restarts at zero.
    pub async fn go_down(&self) {
        self.server.reset().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&self.server)
            .await;
    }

    /// The JWKS URL.
    pub fn url(&self) -> String {
        format!("{}{JWKS_PATH}", self.server.uri())
    }

    /// The server's base URL (for discovery documents).
    pub fn base(&self) -> String {
        self.server.uri()
    }

    /// How many requests reached the server since the last publish.
    pub async fn fetches(&self) -> usize {
        self.server
            .received_requests()
            .await
            .map_or(0, |requests| requests.len())
    }
}

/// A token request carrying `Authorization: Bearer <token>`.
pub fn bearer(token: &str) -> SimpleRequest {
    SimpleRequest::post("/cometchat-token").with_header("Authorization", format!("Bearer {token}"))
}

/// Resolves a bearer token with `identity`.
pub async fn resolve<I: Identity>(identity: &I, token: &str) -> Result<Principal, Rejection> {
    identity.resolve(&bearer(token)).await
}

/// Asserts that `result` is an invalid-credentials rejection (`401 invalid_token`).
#[track_caller]
pub fn assert_invalid(case: &str, result: Result<Principal, Rejection>) {
    match result {
        Err(Rejection::Invalid { .. }) => {}
        other => panic!("{case}: expected Rejection::Invalid, got {other:?}"),
    }
}
