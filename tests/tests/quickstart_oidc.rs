//! The quickstarts' OIDC switch: with `AUTH_ISSUER`, `AUTH_AUDIENCE` and `AUTH_JWKS_URL` set,
//! both quickstarts accept RS256 tokens from that issuer (keys generated here, served by a JWKS
//! server on loopback) and no longer accept demo tokens.

#[path = "../../crates/cometgate-jwt/tests/support/mod.rs"]
mod support;

use cometgate::{Principal, UidMapper, UidMapping};
use serde_json::{Value, json};
use support::{JwksServer, SigningKey, now};

const ISSUER: &str = "https://id.myapp.example/realms/main";
const AUDIENCE: &str = "chat-backend";
const SUBJECT: &str = "f:5c1e:Kim.Lee@Example.org";

/// Checks one running quickstart: `base` serves the app, `fake` is its embedded CometChat.
async fn check(
    name: &str,
    base: &str,
    banner: &str,
    fake: &cometchat_fake::FakeCometChat,
    key: &SigningKey,
) {
    assert!(banner.contains(ISSUER), "{name}: {banner}");
    assert!(
        !banner.contains("demo user"),
        "{name}: no demo token in OIDC mode: {banner}"
    );
    let http = reqwest::Client::new();
    let url = format!("{base}/cometchat-token");
    let token = key.sign(&json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": SUBJECT, "exp": now() + 600, "name": "Kim Lee"
    }));
    let response = http.post(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 200, "{name}");
    let body: Value = response.json().await.unwrap();
    // OIDC subjects are encoded (the provider default): mixed case and ':' stay injective.
    let expected = UidMapper::single_issuer(ISSUER, UidMapping::Encoded)
        .map(&Principal::new(ISSUER, SUBJECT))
        .unwrap();
    assert_eq!(body["uid"], expected.as_str(), "{name}");
    assert_eq!(
        fake.user(expected.as_str()).map(|u| u.name),
        Some("Kim Lee".to_owned()),
        "{name}"
    );

    let demo = quickstart_common::demo_auth::sign_demo_token(
        &"any demo secret of at least thirty-two bytes"
            .to_owned()
            .into(),
        "alice",
        None,
        std::time::Duration::from_secs(60),
    );
    let response = http.post(&url).bearer_auth(demo).send().await.unwrap();
    assert_eq!(
        response.status(),
        401,
        "{name}: demo tokens are refused in OIDC mode"
    );
}

#[tokio::test]
async fn both_quickstarts_accept_an_oidc_issuers_tokens() {
    let key = SigningKey::rsa("realm-key-1");
    let jwks = JwksServer::start(&[&key], "max-age=300").await;
    let url = jwks.url();
    let vars = |name: &str| match name {
        "PORT" => Some("0".to_owned()),
        "AUTH_ISSUER" => Some(ISSUER.to_owned()),
        "AUTH_AUDIENCE" => Some(AUDIENCE.to_owned()),
        "AUTH_JWKS_URL" => Some(url.clone()),
        _ => None,
    };

    let axum_app = axum_quickstart::start(axum_quickstart::Settings::from_lookup(vars).unwrap())
        .await
        .unwrap();
    let base = format!("http://{}", axum_app.addr());
    check(
        "axum",
        &base,
        axum_app.banner(),
        axum_app.fake().unwrap(),
        &key,
    )
    .await;
    axum_app.shutdown().await.unwrap();

    let actix_app = actix_quickstart::start(actix_quickstart::Settings::from_lookup(vars).unwrap())
        .await
        .unwrap();
    let base = format!("http://{}", actix_app.addr());
    check(
        "actix",
        &base,
        actix_app.banner(),
        actix_app.fake().unwrap(),
        &key,
    )
    .await;
    actix_app.shutdown().await.unwrap();
}

#[test]
fn a_half_configured_oidc_switch_says_what_is_missing() {
    let only_issuer = quickstart_common::Settings::from_lookup(|n| {
        (n == "AUTH_ISSUER").then(|| ISSUER.to_owned())
    });
    let error = only_issuer.unwrap_err().to_string();
    assert!(error.contains("AUTH_AUDIENCE"), "{error}");
    let short_secret = quickstart_common::Settings::from_lookup(|n| {
        (n == "DEMO_JWT_SECRET").then(|| "short".to_owned())
    })
    .unwrap();
    let error = quickstart_common::gate(
        cometgate::Config::builder()
            .app_id("abc")
            .region(cometgate::Region::Us)
            .rest_api_key("k")
            .build()
            .unwrap(),
        &short_secret,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("DEMO_JWT_SECRET") && error.contains("32 bytes"),
        "{error}"
    );
}
