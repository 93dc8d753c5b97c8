//! OIDC discovery over real HTTP on loopback: the document is read again when it is old, or
//! when a token's key cannot be found, so an issuer that moves its `jwks_uri` is followed; and
//! re-reading it stays bounded by the cooldown.

mod support;

use std::time::Duration;

use cometgate::{Principal, Rejection};
use cometgate_jwt::{JwtIdentity, Oidc};
use futures_util::future::join_all;
use serde_json::{Value, json};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
const COOLDOWN: Duration = Duration::from_secs(1);
const PAST_COOLDOWN: Duration = Duration::from_millis(1_100);

/// An issuer on loopback whose discovery document names the JWKS at `jwks_path`.
struct Issuer {
    server: MockServer,
}

impl Issuer {
    async fn start() -> Self {
        Self {
            server: MockServer::start().await,
        }
    }

    fn url(&self) -> String {
        self.server.uri()
    }

    /// Serves (only) a discovery document naming `jwks_path`, cached for `discovery_max_age`,
    /// and `keys` at `jwks_path`, cached for an hour. Request counts restart at zero.
    async fn serve(&self, discovery_max_age: u32, jwks_path: &str, keys: &[&SigningKey]) {
        self.server.reset().await;
        let document =
            json!({"issuer": self.url(), "jwks_uri": format!("{}{jwks_path}", self.url())});
        let set = json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() });
        for (at, body, max_age) in [
            (DISCOVERY_PATH, document, discovery_max_age),
            (jwks_path, set, 3600),
        ] {
            Mock::given(method("GET"))
                .and(path(at))
                .respond_with(
                    ResponseTemplate::new(200)
                        .insert_header("cache-control", format!("max-age={max_age}"))
                        .set_body_json(body),
                )
                .mount(&self.server)
                .await;
        }
    }

    /// How many requests for `at` reached the issuer since the last `serve`.
    async fn requests(&self, at: &str) -> usize {
        let requests = self.server.received_requests().await.unwrap_or_default();
        requests.iter().filter(|r| r.url.path() == at).count()
    }

    fn identity(&self) -> JwtIdentity {
        Oidc::new(self.url(), "chat")
            .refetch_cooldown(COOLDOWN)
            .build()
            .unwrap()
    }

    fn claims(&self) -> Value {
        json!({"iss": self.url(), "aud": "chat", "sub": "u1", "exp": now() + 600})
    }

    /// What `identity` makes of a token of this issuer signed by `key`.
    async fn verify(
        &self,
        identity: &JwtIdentity,
        key: &SigningKey,
    ) -> Result<Principal, Rejection> {
        resolve(identity, &key.sign(&self.claims())).await
    }
}

#[tokio::test]
async fn an_issuer_that_moves_its_jwks_uri_is_followed_on_a_key_miss() {
    let issuer = Issuer::start().await;
    let old = SigningKey::rsa("2026-11");
    issuer.serve(3600, "/old/jwks.json", &[&old]).await;
    let identity = issuer.identity();
    issuer.verify(&identity, &old).await.unwrap();

    // The issuer moves its keys (and rotates them): the old URL is gone, discovery names a new
    // one. The discovery document is still fresh: the miss on the new kid is what re-reads it.
    let new = SigningKey::p256("2026-12");
    issuer.serve(3600, "/new/jwks.json", &[&new]).await;
    tokio::time::sleep(PAST_COOLDOWN).await;
    let principal = issuer.verify(&identity, &new).await;
    assert!(
        principal.is_ok(),
        "the moved jwks_uri was followed: {principal:?}"
    );
    assert_eq!(issuer.requests(DISCOVERY_PATH).await, 1);
    assert_eq!(issuer.requests("/new/jwks.json").await, 1);
    assert_invalid(
        "a key the new set does not list",
        issuer.verify(&identity, &old).await,
    );

    // Misses keep re-reading discovery bounded: a flood of made-up kids within the cooldown
    // costs no further discovery fetch.
    let flood = (0..50).map(|i| {
        let token = unsigned_with_alg("RS256", &format!("made-up-{i}"), &issuer.claims());
        let identity = identity.clone();
        async move { resolve(&identity, &token).await }
    });
    assert!(join_all(flood).await.iter().all(Result::is_err));
    assert_eq!(issuer.requests(DISCOVERY_PATH).await, 1, "one per cooldown");
}

#[tokio::test]
async fn an_old_discovery_document_is_read_again() {
    let issuer = Issuer::start().await;
    let key = SigningKey::rsa("k1");
    // `max-age=0`: the document is fresh for one cooldown only.
    issuer.serve(0, "/old/jwks.json", &[&key]).await;
    let identity = issuer.identity();
    issuer.verify(&identity, &key).await.unwrap();
    assert_eq!(issuer.requests(DISCOVERY_PATH).await, 1);

    // Same key, new place. The old JWKS would still answer from its cache (max-age 1 h), but
    // the old discovery document is read again and its new jwks_uri is used.
    issuer.serve(0, "/new/jwks.json", &[&key]).await;
    tokio::time::sleep(PAST_COOLDOWN).await;
    issuer.verify(&identity, &key).await.unwrap();
    assert_eq!(issuer.requests(DISCOVERY_PATH).await, 1);
    assert_eq!(issuer.requests("/new/jwks.json").await, 1);

    // While discovery cannot be read, the keys already found keep working.
    issuer.server.reset().await;
    tokio::time::sleep(PAST_COOLDOWN).await;
    let during_outage = issuer.verify(&identity, &key).await;
    assert!(during_outage.is_ok(), "{during_outage:?}");
    assert_eq!(
        issuer.requests(DISCOVERY_PATH).await,
        1,
        "a re-read was tried"
    );
}
