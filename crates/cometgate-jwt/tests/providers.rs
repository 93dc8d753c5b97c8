//! Every provider against keys generated here and a JWKS server on loopback: a valid token
//! passes, and each attack fails with `Rejection::Invalid` (401 `invalid_token`).

mod support;

use std::time::Duration;

use cometgate::identity::SimpleRequest;
use cometgate::{Identity, Principal, Rejection, UidMapError, UidMapper, UidMapping};
use cometgate_jwt::{Auth0, Clerk, Firebase, JwtIdentity, Oidc, SharedSecret, Supabase};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A provider under test: its identity, how a legitimate token is signed, and valid claims.
struct Target<'a> {
    name: &'static str,
    identity: JwtIdentity,
    /// The legitimate key (`None` for shared-secret providers).
    key: Option<&'a SigningKey>,
    secret: Option<&'a [u8]>,
    claims: Value,
    has_audience: bool,
}

impl<'a> Target<'a> {
    /// A provider whose tokens `key` signs, with an audience.
    fn signed_by(
        name: &'static str,
        identity: JwtIdentity,
        key: &'a SigningKey,
        claims: Value,
    ) -> Self {
        Self {
            name,
            identity,
            key: Some(key),
            secret: None,
            claims,
            has_audience: true,
        }
    }

    /// A provider whose tokens are HS256 with `secret`, with an audience.
    fn hs256(name: &'static str, identity: JwtIdentity, secret: &'a [u8], claims: Value) -> Self {
        Self {
            name,
            identity,
            key: None,
            secret: Some(secret),
            claims,
            has_audience: true,
        }
    }

    fn sign(&self, claims: &Value) -> String {
        match (self.key, self.secret) {
            (Some(key), _) => key.sign(claims),
            (None, Some(secret)) => sign_hs256(secret, None, claims),
            (None, None) => unreachable!("a target has a key or a secret"),
        }
    }

    fn with(&self, changes: Value) -> Value {
        let mut claims = self.claims.clone();
        for (k, v) in changes.as_object().into_iter().flatten() {
            if v.is_null() {
                claims.as_object_mut().map(|c| c.remove(k));
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    }

    /// The valid claims changed by `changes`, signed legitimately, must be refused.
    async fn rejects_with(&self, case: &str, changes: Value) {
        self.rejects(case, &self.sign(&self.with(changes))).await;
    }

    async fn rejects(&self, case: &str, token: &str) {
        assert_invalid(
            &format!("{}: {case}", self.name),
            resolve(&self.identity, token).await,
        );
    }

    /// The valid token passes; every generic attack is refused.
    async fn check(&self) {
        let name = self.name;
        let valid = self.sign(&self.claims);
        let principal = resolve(&self.identity, &valid)
            .await
            .unwrap_or_else(|e| panic!("{name}: valid token refused: {e}"));
        assert_eq!(
            Some(principal.subject()),
            self.claims["sub"].as_str(),
            "{name}"
        );
        assert_eq!(principal.issuer(), self.identity.issuer(), "{name}");
        assert_eq!(
            Some(principal.issuer()),
            self.claims["iss"].as_str(),
            "{name}"
        );
        // The suggested mapper is single_issuer(the `iss` just verified, the provider's mapping):
        // the UID is the mapped subject alone, and any other issuer is refused.
        let mapper = self
            .identity
            .uid_mapper()
            .expect("providers suggest a mapper");
        assert_eq!(
            mapper.map(&principal),
            UidMapper::shared_namespace(self.identity.uid_mapping()).map(&principal),
            "{name}"
        );
        let elsewhere = Principal::new("https://evil.example", principal.subject());
        assert!(
            matches!(
                mapper.map(&elsewhere),
                Err(UidMapError::UnknownIssuer { .. })
            ),
            "{name}"
        );

        let now = now();
        self.rejects_with("expired", json!({"exp": now - 3600}))
            .await;
        // The default leeway is 30 s: one second past it is refused, well inside it passes.
        self.rejects_with("expired by leeway + 1 s", json!({"exp": now - 31}))
            .await;
        assert!(
            resolve(
                &self.identity,
                &self.sign(&self.with(json!({"exp": now - 5})))
            )
            .await
            .is_ok(),
            "{name}: a token expired 5 s ago is within the leeway"
        );
        self.rejects_with("nbf in the future", json!({"nbf": now + 600}))
            .await;
        self.rejects_with("iat in the future", json!({"iat": now + 600}))
            .await;
        self.rejects_with("wrong iss", json!({"iss": "https://evil.example"}))
            .await;
        self.rejects_with("missing iss", json!({"iss": null})).await;
        self.rejects_with("missing sub", json!({"sub": null})).await;
        self.rejects_with("empty sub", json!({"sub": " "})).await;
        self.rejects_with("numeric sub", json!({"sub": 42})).await;
        self.rejects_with("missing exp", json!({"exp": null})).await;
        self.rejects_with("string exp", json!({"exp": "never"}))
            .await;
        if self.has_audience {
            self.rejects_with("wrong aud", json!({"aud": "someone-else"}))
                .await;
            self.rejects_with("missing aud", json!({"aud": null})).await;
        }
        let kid = self.key.map_or("k", |k| k.kid.as_str());
        self.rejects("alg none", &unsigned(kid, &self.claims)).await;
        self.rejects(
            "tampered payload",
            &tampered(&valid, &self.with(json!({"sub": "someone-else"}))),
        )
        .await;
        self.rejects("truncated signature", &valid[..valid.len() - 4])
            .await;
        self.rejects("not a JWT", "definitely-not-a-jwt").await;

        let Some(key) = self.key else { return };
        // Key confusion: HS256 "signed" with the public key an attacker can download.
        let confused = sign_hs256(&key.public_bytes, Some(&key.kid), &self.claims);
        self.rejects("HS256 signed with the public key", &confused)
            .await;
        let jwk_text = key.jwk.to_string();
        let confused = sign_hs256(jwk_text.as_bytes(), Some(&key.kid), &self.claims);
        self.rejects("HS256 signed with the JWK text", &confused)
            .await;

        // A known kid, signed by a key that is not the one published under it.
        let impostor = if key.alg == Algorithm::ES256 {
            SigningKey::p256(&key.kid)
        } else {
            SigningKey::rsa(&key.kid)
        };
        self.rejects("known kid, other key", &impostor.sign(&self.claims))
            .await;

        // A key of another family under the known kid.
        let other_family = if key.alg == Algorithm::ES256 {
            SigningKey::rsa(&key.kid)
        } else {
            SigningKey::p256(&key.kid)
        };
        self.rejects("known kid, other family", &other_family.sign(&self.claims))
            .await;

        // jku / x5u / embedded jwk pointing at the attacker's own key: never followed.
        let attacker = SigningKey::rsa("attacker");
        let attacker_jwks = JwksServer::start(&[&attacker], "max-age=60").await;
        let mut header = attacker.header();
        header.jku = Some(attacker_jwks.url());
        header.x5u = Some(attacker_jwks.url());
        header.jwk = serde_json::from_value(attacker.jwk.clone()).ok();
        self.rejects(
            "jku/x5u/jwk headers",
            &attacker.sign_with(header.clone(), &self.claims),
        )
        .await;
        header.kid = Some(key.kid.clone());
        self.rejects(
            "jwk header under the known kid",
            &attacker.sign_with(header, &self.claims),
        )
        .await;
        assert_eq!(
            attacker_jwks.fetches().await,
            0,
            "{name}: followed a jku/x5u header"
        );

        self.rejects("unknown kid", &SigningKey::rsa("nobody").sign(&self.claims))
            .await;
        let mut no_kid = key.header();
        no_kid.kid = None;
        self.rejects("no kid", &key.sign_with(no_kid, &self.claims))
            .await;
    }
}

fn base_claims(iss: &str, aud: Option<&str>, sub: &str) -> Value {
    let now = now();
    let mut claims =
        json!({"iss": iss, "sub": sub, "iat": now - 10, "exp": now + 600, "name": "Ada"});
    if let Some(aud) = aud {
        claims["aud"] = json!(aud);
    }
    claims
}

/// Firebase ID-token claims for `sub`, signed in with `provider` (`password`, `anonymous`, …).
fn firebase_claims(project: &str, sub: &str, provider: &str) -> Value {
    let mut claims = base_claims(
        &format!("https://securetoken.google.com/{project}"),
        Some(project),
        sub,
    );
    claims["auth_time"] = json!(now() - 60);
    claims["firebase"] = json!({"identities": {}, "sign_in_provider": provider});
    claims
}

/// The Firebase project `my-project`, its keys served by `jwks`.
fn firebase(jwks: &JwksServer) -> Firebase {
    Firebase::new("my-project").jwks_url(jwks.url())
}

#[tokio::test]
async fn firebase_accepts_id_tokens_and_refuses_attacks() {
    let key = SigningKey::rsa("fb-1");
    let jwks = JwksServer::start(&[&key], "public, max-age=19800").await;
    let identity = firebase(&jwks).build().unwrap();
    assert_eq!(identity.uid_mapping(), UidMapping::Encoded);
    let mut claims = firebase_claims("my-project", "kTg2V9cXhQNoP1m3RcYbZ8W4aE12", "google.com");
    claims["picture"] = json!("https://lh3.example/ada.png");
    let target = Target::signed_by("firebase", identity, &key, claims);
    target.check().await;

    let principal = resolve(&target.identity, &target.sign(&target.claims))
        .await
        .unwrap();
    assert_eq!(principal.name(), Some("Ada"));
    assert_eq!(principal.avatar(), Some("https://lh3.example/ada.png"));
    target
        .rejects_with("auth_time missing", json!({"auth_time": null}))
        .await;
    target
        .rejects_with("auth_time in the future", json!({"auth_time": now() + 600}))
        .await;
    // Firebase pins RS256: an ES256 token under a published ES256 key is still refused.
    let ec = SigningKey::p256("fb-ec");
    jwks.publish(&[&key, &ec], "max-age=60").await;
    target
        .rejects("ES256 for Firebase", &ec.sign(&target.claims))
        .await;
}

#[tokio::test]
async fn firebase_refuses_anonymous_sign_ins_by_default() {
    let key = SigningKey::rsa("fb-1");
    let jwks = JwksServer::start(&[&key], "max-age=600").await;
    let strict = firebase(&jwks).build().unwrap();
    let signed_in = key.sign(&firebase_claims("my-project", "kTg2V9cX", "password"));
    assert!(resolve(&strict, &signed_in).await.is_ok());
    // What `signInAnonymously()` yields: `firebase.sign_in_provider` (and the legacy top-level
    // `provider_id`) say "anonymous".
    let anonymous = firebase_claims("my-project", "aN0nYm0us", "anonymous");
    let mut legacy = firebase_claims("my-project", "aN0nYm0us", "password");
    legacy["provider_id"] = json!("anonymous");
    for (case, claims) in [("sign_in_provider", &anonymous), ("provider_id", &legacy)] {
        let Err(Rejection::Invalid { reason }) = resolve(&strict, &key.sign(claims)).await else {
            panic!("{case}: an anonymous sign-in must be refused as an invalid token");
        };
        assert!(reason.contains("anonymous"), "{case}: {reason}");
    }
    let with_guests = firebase(&jwks).allow_anonymous(true).build().unwrap();
    for claims in [&anonymous, &legacy] {
        let principal = resolve(&with_guests, &key.sign(claims)).await.unwrap();
        assert_eq!(principal.subject(), "aN0nYm0us");
    }
}

#[tokio::test]
async fn supabase_accepts_user_tokens_and_refuses_anon_and_service_role() {
    let key = SigningKey::p256("sb-1");
    let jwks = JwksServer::start(&[&key], "max-age=600").await;
    let base = jwks.base();
    let identity = Supabase::url(&base).jwks_url(jwks.url()).build().unwrap();
    assert_eq!(identity.uid_mapping(), UidMapping::Readable);
    let mut claims = base_claims(
        &format!("{base}/auth/v1"),
        Some("authenticated"),
        "3f2b8c1e-0d4a-4b7e-9a51-6f0e2c9d8b7a",
    );
    claims["role"] = json!("authenticated");
    claims["user_metadata"] =
        json!({"full_name": "Grace Hopper", "avatar_url": "https://img.example/g.png"});
    claims.as_object_mut().unwrap().remove("name");
    claims["session_id"] = json!("8d1f2e3a-5b6c-4d7e-9f80-a1b2c3d4e5f6");
    let target = Target::signed_by("supabase", identity, &key, claims);
    target.check().await;

    let principal = resolve(&target.identity, &target.sign(&target.claims))
        .await
        .unwrap();
    assert_eq!(principal.name(), Some("Grace Hopper"));
    // The session is the device key when the client names none.
    assert_eq!(
        principal.session_id(),
        Some("8d1f2e3a-5b6c-4d7e-9f80-a1b2c3d4e5f6")
    );
    assert_eq!(principal.avatar(), Some("https://img.example/g.png"));
    target
        .rejects_with("role anon", json!({"role": "anon"}))
        .await;
    target
        .rejects_with("anonymous sign-in", json!({"is_anonymous": true}))
        .await;
    target
        .rejects_with("service_role", json!({"role": "service_role"}))
        .await;

    let lenient = Supabase::url(&base)
        .jwks_url(jwks.url())
        .allow_anon(true)
        .allow_service_role(true)
        .build()
        .unwrap();
    for role in ["anon", "service_role"] {
        let token = target.sign(&target.with(json!({"role": role})));
        assert!(
            resolve(&lenient, &token).await.is_ok(),
            "{role} explicitly allowed"
        );
    }
}

#[tokio::test]
async fn supabase_legacy_secret_verifies_hs256_only() {
    let secret = b"super-secret-jwt-token-with-at-least-32-characters-long";
    let identity = Supabase::project("abcdefghijklmnopqrst")
        .legacy_jwt_secret(String::from_utf8_lossy(secret).into_owned())
        .build()
        .unwrap();
    let mut claims = base_claims(
        "https://abcdefghijklmnopqrst.supabase.co/auth/v1",
        Some("authenticated"),
        "3f2b8c1e-0d4a-4b7e-9a51-6f0e2c9d8b7a",
    );
    claims["role"] = json!("authenticated");
    let target = Target::hs256("supabase (legacy secret)", identity, secret, claims);
    target.check().await;
    let wrong = sign_hs256(
        b"another-secret-that-is-long-enough-for-hs256!!",
        None,
        &target.claims,
    );
    target.rejects("signed with another secret", &wrong).await;
    target
        .rejects(
            "RS256 where HS256 is configured",
            &SigningKey::rsa("r").sign(&target.claims),
        )
        .await;
    target
        .rejects_with("anon key", json!({"role": "anon"}))
        .await;
}

#[tokio::test]
async fn clerk_accepts_session_tokens_from_authorized_parties_only() {
    let key = SigningKey::rsa("ins_1");
    let jwks = JwksServer::start(&[&key], "max-age=3600").await;
    let frontend = jwks.base();
    let identity = Clerk::new(&frontend, ["https://app.example"])
        .build()
        .unwrap();
    assert_eq!(identity.uid_mapping(), UidMapping::Encoded);
    let mut claims = base_claims(&frontend, None, "user_2NxTq8bKq0ZbY3fP");
    claims["sid"] = json!("sess_2NxTq9");
    claims["azp"] = json!("https://app.example");
    let target = Target {
        has_audience: false,
        ..Target::signed_by("clerk", identity, &key, claims)
    };
    target.check().await;

    target.rejects_with("no sid", json!({"sid": null})).await;
    target
        .rejects_with("foreign azp", json!({"azp": "https://evil.example"}))
        .await;
    target
        .rejects_with("non-string azp", json!({"azp": ["https://app.example"]}))
        .await;
    target
        .rejects_with(
            "an aud when none is expected (template for a third party)",
            json!({"aud": "convex"}),
        )
        .await;
    let native_only = Clerk::new(&frontend, Vec::<String>::new()).build().unwrap();
    assert_invalid(
        "azp with no authorized parties",
        resolve(&native_only, &target.sign(&target.claims)).await,
    );
    let native = target.sign(&target.with(json!({"azp": null})));
    assert!(
        resolve(&target.identity, &native).await.is_ok(),
        "native apps send no azp"
    );
    // The JWKS was fetched from the Frontend API's well-known path.
    assert!(jwks.fetches().await >= 1);
}

#[tokio::test]
async fn auth0_accepts_access_tokens_with_an_audience_array() {
    let key = SigningKey::rsa("a0-1");
    let jwks = JwksServer::start(&[&key], "max-age=600").await;
    let identity = Auth0::new("my-tenant.eu.auth0.com", "https://api.myapp.example")
        .jwks_url(jwks.url())
        .build()
        .unwrap();
    assert_eq!(identity.issuer(), "https://my-tenant.eu.auth0.com/");
    let mut claims = base_claims(
        "https://my-tenant.eu.auth0.com/",
        Some("https://api.myapp.example"),
        "auth0|65f1c0ffee",
    );
    claims["aud"] = json!([
        "https://api.myapp.example",
        "https://my-tenant.eu.auth0.com/userinfo"
    ]);
    let target = Target::signed_by("auth0", identity, &key, claims);
    target.check().await;
    // The issuer without its trailing slash is another issuer.
    target
        .rejects_with(
            "iss without trailing slash",
            json!({"iss": "https://my-tenant.eu.auth0.com"}),
        )
        .await;
}

#[tokio::test]
async fn oidc_with_discovery_and_with_an_explicit_jwks_url() {
    let key = SigningKey::rsa("kc-1");
    let jwks = JwksServer::start(&[&key], "max-age=600").await;
    let issuer = format!("{}/realms/main", jwks.base());
    Mock::given(method("GET"))
        .and(path("/realms/main/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": issuer, "jwks_uri": jwks.url()
        })))
        .mount(&jwks.server)
        .await;
    let identity = Oidc::new(&issuer, "chat-backend").build().unwrap();
    let claims = base_claims(&issuer, Some("chat-backend"), "f:1234:Ada@Example.org");
    let target = Target::signed_by("oidc (discovery)", identity, &key, claims);
    target.check().await;

    let explicit = Oidc::new("https://id.example", "chat")
        .jwks_url(jwks.url())
        .build()
        .unwrap();
    let claims = base_claims("https://id.example", Some("chat"), "u1");
    assert!(resolve(&explicit, &key.sign(&claims)).await.is_ok());
}

#[tokio::test]
async fn oidc_discovery_for_another_issuer_is_refused() {
    let key = SigningKey::rsa("kc-1");
    let jwks = JwksServer::start(&[&key], "max-age=600").await;
    let issuer = jwks.base();
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": "https://evil.example", "jwks_uri": jwks.url()
        })))
        .mount(&jwks.server)
        .await;
    let identity = Oidc::new(&issuer, "chat").build().unwrap();
    let token = key.sign(&base_claims(&issuer, Some("chat"), "u1"));
    assert_invalid(
        "discovery names another issuer",
        resolve(&identity, &token).await,
    );
}

#[tokio::test]
async fn shared_secret_accepts_its_own_tokens_only() {
    let secret = b"0123456789abcdef0123456789abcdef-demo";
    let identity = SharedSecret::new(
        String::from_utf8_lossy(secret).into_owned(),
        "https://api.myapp.example",
        "myapp",
    )
    .build()
    .unwrap();
    let target = Target::hs256(
        "shared secret",
        identity,
        secret,
        base_claims("https://api.myapp.example", Some("myapp"), "42"),
    );
    target.check().await;
    let wrong = sign_hs256(
        b"0123456789abcdef0123456789abcdef-evil",
        None,
        &target.claims,
    );
    target.rejects("another secret", &wrong).await;
    target
        .rejects("RS256", &SigningKey::rsa("r").sign(&target.claims))
        .await;
}

#[tokio::test]
async fn the_leeway_is_configurable_and_capped_at_60_seconds() {
    let secret = "0123456789abcdef0123456789abcdef";
    let strict = SharedSecret::new(secret, "iss", "aud")
        .leeway(Duration::ZERO)
        .build()
        .unwrap();
    let claims = json!({"iss": "iss", "aud": "aud", "sub": "u", "exp": now() - 2});
    let token = sign_hs256(secret.as_bytes(), None, &claims);
    assert_invalid("expired 2 s ago, no leeway", resolve(&strict, &token).await);
    let lenient = SharedSecret::new(secret, "iss", "aud")
        .leeway(Duration::from_secs(60))
        .build()
        .unwrap();
    assert!(resolve(&lenient, &token).await.is_ok());
    let err = SharedSecret::new(secret, "iss", "aud")
        .leeway(Duration::from_secs(61))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("at most 60 s"), "{err}");
}

#[tokio::test]
async fn credentials_are_read_from_the_authorization_header_only() {
    let secret = "0123456789abcdef0123456789abcdef";
    let identity = SharedSecret::new(secret, "iss", "aud").build().unwrap();
    let token = sign_hs256(
        secret.as_bytes(),
        None,
        &json!({"iss": "iss", "aud": "aud", "sub": "u", "exp": now() + 60}),
    );
    let elsewhere = [
        SimpleRequest::post(format!("/cometchat-token?access_token={token}")),
        SimpleRequest::post("/cometchat-token").with_header("X-Access-Token", token.clone()),
        SimpleRequest::post("/cometchat-token").with_header("Cookie", format!("__session={token}")),
    ];
    for request in &elsewhere {
        assert_eq!(
            identity.resolve(request).await,
            Err(Rejection::Missing),
            "{request:?}"
        );
    }
    let basic = SimpleRequest::post("/t").with_header("Authorization", format!("Basic {token}"));
    assert!(matches!(
        identity.resolve(&basic).await,
        Err(Rejection::Invalid { .. })
    ));
    assert!(identity.resolve(&bearer(&token)).await.is_ok());
}

#[test]
fn bad_configuration_fails_the_build_with_the_setting_named() {
    let cases: Vec<(&str, Result<JwtIdentity, cometgate_jwt::BuildError>)> = vec![
        ("Firebase project id", Firebase::new("").build()),
        ("Firebase project id", Firebase::new("My/Project").build()),
        (
            "Supabase project ref",
            Supabase::project("abc.evil.example/").build(),
        ),
        (
            "Supabase URL",
            Supabase::url("http://abc.supabase.co").build(),
        ),
        (
            "Clerk Frontend API URL",
            Clerk::new("http://clerk.example", ["https://a"]).build(),
        ),
        ("Auth0 domain", Auth0::new("evil.example/x?", "aud").build()),
        ("Auth0 API audience", Auth0::new("t.auth0.com", "").build()),
        (
            "OIDC audience",
            Oidc::new("https://id.example", " ").build(),
        ),
        (
            "JWKS URL",
            Oidc::new("https://id.example", "a")
                .jwks_url("http://keys.example/jwks")
                .build(),
        ),
        (
            "algorithm",
            Oidc::new("https://id.example", "a")
                .algorithms(&[Algorithm::HS256])
                .build(),
        ),
        (
            "algorithm",
            Auth0::new("t.auth0.com", "a").algorithms(&[]).build(),
        ),
        ("32 bytes", SharedSecret::new("too-short", "i", "a").build()),
        (
            "Auth0 domain",
            Auth0::new("evil.example\\.auth0.com", "aud").build(),
        ),
        (
            "Auth0 domain",
            Auth0::new("tenant.auth0.com:444", "aud").build(),
        ),
        (
            "user info",
            Oidc::new("https://id.example", "a")
                .jwks_url("https://u:p@keys.example/jwks")
                .build(),
        ),
        (
            "cooldown",
            Firebase::new("p").refetch_cooldown(Duration::ZERO).build(),
        ),
        (
            "cooldown",
            Oidc::new("https://id.example", "a")
                .refetch_cooldown(Duration::from_millis(10))
                .build(),
        ),
        (
            "timeout",
            Firebase::new("p").fetch_timeout(Duration::ZERO).build(),
        ),
        (
            "timeout",
            Clerk::new("https://c.example", ["https://a"])
                .fetch_timeout(Duration::from_secs(31))
                .build(),
        ),
        (
            "issuer",
            SharedSecret::new("0123456789abcdef0123456789abcdef", "", "a").build(),
        ),
        (
            "stale_if_error",
            Firebase::new("p")
                .stale_if_error(Duration::from_secs(24 * 3600 + 1))
                .build(),
        ),
        (
            "stale_if_error",
            Oidc::new("https://id.example", "a")
                .stale_if_error(Duration::MAX)
                .build(),
        ),
    ];
    for (needle, result) in cases {
        let error = result.expect_err(needle).to_string();
        assert!(error.contains(needle), "{error:?} should name {needle:?}");
    }
}

#[test]
fn debug_output_never_shows_the_secret() {
    let secret = "sentinel-secret-0123456789abcdef-XYZ";
    let builder = SharedSecret::new(secret, "iss", "aud");
    assert!(!format!("{builder:?}").contains("sentinel"));
    let identity = builder.build().unwrap();
    assert!(!format!("{identity:?}").contains("sentinel"));
    let short = SharedSecret::new("sentinel", "iss", "aud")
        .build()
        .unwrap_err();
    assert!(!short.to_string().contains("sentinel"));
    let supabase = Supabase::project("abc").legacy_jwt_secret(secret);
    assert!(
        !format!("{supabase:?}").contains("sentinel"),
        "{supabase:?}"
    );
    assert!(!format!("{:?}", supabase.build().unwrap()).contains("sentinel"));
}

#[tokio::test]
async fn a_provider_built_into_a_gate_lends_its_uid_mapping() {
    use cometchat_fake::FakeCometChat;
    use cometgate::vend::Gate;

    let cc = FakeCometChat::start().await;
    let secret = "0123456789abcdef0123456789abcdef";
    let config = cometgate::Config::builder()
        .app_id(cc.app_id())
        .region(cc.region().parse().unwrap())
        .rest_api_key(cc.api_key())
        .api_base(cc.base_url())
        .build()
        .unwrap();
    let claims = json!({"iss": "i", "aud": "a", "sub": "ada", "exp": now() + 60});
    let token = sign_hs256(secret.as_bytes(), None, &claims);
    let uid_of = |answer: cometgate::Answer| -> String {
        let body: Value = serde_json::from_slice(answer.body()).unwrap();
        body["uid"].as_str().unwrap_or_default().to_owned()
    };
    let ask = |gate: &Gate<_>| {
        cometgate::Endpoint::new(gate.clone())
            .serve(&bearer(&token), Default::default())
            .unwrap()
    };
    // Default for a shared secret: encoded.
    let gate = Gate::builder()
        .config(config.clone())
        .identity(SharedSecret::new(secret, "i", "a").build().unwrap())
        .build()
        .unwrap();
    assert_eq!(uid_of(ask(&gate).await), "mfsgc");
    // The provider's own choice is used when the gate is told nothing.
    let readable = SharedSecret::new(secret, "i", "a")
        .uid_mapping(UidMapping::Readable)
        .build()
        .unwrap();
    let gate = Gate::builder()
        .config(config)
        .identity(readable)
        .build()
        .unwrap();
    assert_eq!(uid_of(ask(&gate).await), "ada");
}

#[tokio::test]
async fn rejection_reasons_are_safe_to_log() {
    let secret = "0123456789abcdef0123456789abcdef";
    let identity = SharedSecret::new(secret, "iss", "aud").build().unwrap();
    // An `alg` that smuggles a forged log line, and a huge one.
    for alg in [
        "x\n2026-12-01T00:00:00Z INFO admin signed in",
        &"A".repeat(10_000),
    ] {
        let token = unsigned_with_alg(alg, "k", &json!({"sub": "u"}));
        let Err(Rejection::Invalid { reason }) = resolve(&identity, &token).await else {
            panic!("expected an invalid-token rejection");
        };
        assert!(!reason.contains('\n'), "{reason:?}");
        assert!(reason.len() <= 310, "{} bytes", reason.len());
        assert!(!reason.contains(&token), "the token is never echoed");
    }
}

#[tokio::test]
async fn unreachable_keys_are_an_invalid_token_not_a_panic() {
    // Nothing listens here: the build succeeds (no I/O), verification fails cleanly.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    drop(listener);
    let identity = Firebase::new("p").jwks_url(dead).build().unwrap();
    let key = SigningKey::rsa("k");
    let claims = firebase_claims("p", "u", "password");
    assert_invalid(
        "JWKS unreachable",
        resolve(&identity, &key.sign(&claims)).await,
    );

    let slow = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&slow)
        .await;
    let identity = Firebase::new("p")
        .jwks_url(format!("{}/jwks.json", slow.uri()))
        .fetch_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    assert_invalid("JWKS hangs", resolve(&identity, &key.sign(&claims)).await);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "fetch timeout honoured: {:?}",
        started.elapsed()
    );
}
