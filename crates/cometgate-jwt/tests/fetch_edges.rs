//! Key fetching at its edges, over real HTTP on loopback: discovery that points at plain HTTP,
//! discovery outages, redirects, oversized documents, and keys pinned to one algorithm.

mod support;

use std::time::Duration;

use cometgate_jwt::{Oidc, Supabase};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn claims(iss: &str, aud: &str) -> Value {
    json!({"iss": iss, "aud": aud, "sub": "u1", "exp": now() + 600})
}

/// An OIDC identity for `https://id.example` whose JWKS is `server`'s `/jwks.json`.
fn identity_with_keys_at(server: &MockServer) -> cometgate_jwt::JwtIdentity {
    Oidc::new("https://id.example", "chat")
        .jwks_url(format!("{}/jwks.json", server.uri()))
        .build()
        .unwrap()
}

fn invalid_reason(result: Result<cometgate::Principal, cometgate::Rejection>) -> String {
    match result {
        Err(cometgate::Rejection::Invalid { reason }) => reason,
        other => panic!("expected an invalid-token rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn discovery_naming_a_plain_http_jwks_uri_is_refused() {
    let server = MockServer::start().await;
    let issuer = server.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": issuer, "jwks_uri": "http://keys.example/jwks.json"
        })))
        .mount(&server)
        .await;
    let identity = Oidc::new(&issuer, "chat").build().unwrap();
    assert_eq!(
        server.received_requests().await.map(|r| r.len()),
        Some(0),
        "no I/O at build"
    );
    let key = SigningKey::rsa("k");
    let reason = invalid_reason(resolve(&identity, &key.sign(&claims(&issuer, "chat"))).await);
    assert!(reason.contains("https"), "{reason}");
}

#[tokio::test]
async fn a_failed_discovery_is_retried_at_most_once_per_cooldown() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let issuer = server.uri();
    let identity = Oidc::new(&issuer, "chat")
        .refetch_cooldown(Duration::from_secs(1))
        .build()
        .unwrap();
    let token = SigningKey::rsa("k").sign(&claims(&issuer, "chat"));
    for _ in 0..5 {
        invalid_reason(resolve(&identity, &token).await);
    }
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1));
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    invalid_reason(resolve(&identity, &token).await);
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(2));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let key = SigningKey::rsa("k");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/jwks.json"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/elsewhere.json"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/elsewhere.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [key.jwk]})))
        .mount(&server)
        .await;
    let identity = identity_with_keys_at(&server);
    let reason =
        invalid_reason(resolve(&identity, &key.sign(&claims("https://id.example", "chat"))).await);
    assert!(reason.contains("302"), "{reason}");
    let requests = server.received_requests().await.unwrap_or_default();
    assert!(
        requests.iter().all(|r| r.url.path() == "/jwks.json"),
        "followed a redirect"
    );
}

#[tokio::test]
async fn an_oversized_jwks_document_is_refused() {
    let key = SigningKey::rsa("k");
    let server = MockServer::start().await;
    let padding = "x".repeat(300 * 1024);
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"keys": [key.jwk], "padding": padding})),
        )
        .mount(&server)
        .await;
    let identity = identity_with_keys_at(&server);
    let reason =
        invalid_reason(resolve(&identity, &key.sign(&claims("https://id.example", "chat"))).await);
    assert!(reason.contains("more than"), "{reason}");
}

#[tokio::test]
async fn a_key_pinned_to_rs256_does_not_verify_ps256() {
    // Both algorithms are allowed, but the JWKS pins this key to RS256: a PS256 token under
    // its kid is refused, while RS256 passes.
    let rsa = SigningKey::rsa("pinned");
    let jwks = JwksServer::start(&[&rsa], "max-age=600").await;
    let identity = Oidc::new("https://id.example", "chat")
        .algorithms(&[Algorithm::RS256, Algorithm::PS256])
        .jwks_url(jwks.url())
        .build()
        .unwrap();
    let claims = claims("https://id.example", "chat");
    assert!(resolve(&identity, &rsa.sign(&claims)).await.is_ok());
    let mut ps = rsa.header();
    ps.alg = Algorithm::PS256;
    let reason = invalid_reason(resolve(&identity, &rsa.sign_with(ps, &claims)).await);
    assert!(reason.contains("PS256"), "{reason}");
}

#[tokio::test]
async fn supabase_allow_flags_are_independent() {
    let secret = "super-secret-jwt-token-with-at-least-32-characters-long";
    let issuer = "https://abcdefghijklmnopqrst.supabase.co/auth/v1";
    let token = |role: &str| {
        sign_hs256(
            secret.as_bytes(),
            None,
            &json!({"iss": issuer, "aud": "authenticated", "sub": "3f2b8c1e-0d4a-4b7e-9a51-6f0e2c9d8b7a", "role": role, "exp": now() + 600}),
        )
    };
    let service_only = Supabase::project("abcdefghijklmnopqrst")
        .legacy_jwt_secret(secret)
        .allow_service_role(true)
        .build()
        .unwrap();
    assert!(resolve(&service_only, &token("service_role")).await.is_ok());
    invalid_reason(resolve(&service_only, &token("anon")).await);
    let anon_only = Supabase::project("abcdefghijklmnopqrst")
        .legacy_jwt_secret(secret)
        .allow_anon(true)
        .build()
        .unwrap();
    assert!(resolve(&anon_only, &token("anon")).await.is_ok());
    invalid_reason(resolve(&anon_only, &token("service_role")).await);
    assert!(resolve(&anon_only, &token("authenticated")).await.is_ok());
}
