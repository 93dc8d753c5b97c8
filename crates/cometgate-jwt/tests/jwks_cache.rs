//! The JWKS cache over real HTTP on loopback: lazy first fetch, `Cache-Control: max-age`,
//! key rotation, the refetch cooldown under a flood of unknown `kid`s, and outages.

mod support;

use std::time::Duration;

use cometgate_jwt::{JwtIdentity, Oidc};
use futures_util::future::join_all;
use serde_json::{Value, json};
use support::*;

const ISSUER: &str = "https://id.example";
/// The least cooldown providers accept, and a wait just past it.
const COOLDOWN: Duration = Duration::from_secs(1);
const PAST_COOLDOWN: Duration = Duration::from_millis(1_100);

fn identity(jwks: &JwksServer, cooldown: Duration) -> JwtIdentity {
    Oidc::new(ISSUER, "chat")
        .jwks_url(jwks.url())
        .refetch_cooldown(cooldown)
        .build()
        .unwrap()
}

fn claims(sub: &str) -> Value {
    json!({"iss": ISSUER, "aud": "chat", "sub": sub, "exp": now() + 600})
}

#[tokio::test]
async fn nothing_is_fetched_before_the_first_token_and_then_once() {
    let key = SigningKey::rsa("k1");
    let jwks = JwksServer::start(&[&key], "max-age=600").await;
    let identity = identity(&jwks, Duration::from_secs(30));
    assert_eq!(jwks.fetches().await, 0, "construction does no I/O");
    for i in 0..5 {
        resolve(&identity, &key.sign(&claims(&format!("u{i}"))))
            .await
            .unwrap();
    }
    assert_eq!(jwks.fetches().await, 1, "cached keys are reused");
}

#[tokio::test]
async fn concurrent_first_requests_share_one_fetch() {
    let key = SigningKey::rsa("k1");
    let jwks = JwksServer::start(&[&key], "max-age=600").await;
    let identity = identity(&jwks, Duration::from_secs(30));
    let token = key.sign(&claims("u"));
    let results = join_all((0..20).map(|_| {
        let identity = identity.clone();
        let token = token.clone();
        async move { resolve(&identity, &token).await }
    }))
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(jwks.fetches().await, 1);
}

#[tokio::test]
async fn max_age_is_honoured() {
    let key = SigningKey::rsa("k1");
    let token = key.sign(&claims("u"));

    // Fresh for an hour: no refetch even after the cooldown has passed.
    let jwks = JwksServer::start(&[&key], "public, max-age=3600").await;
    let fresh = identity(&jwks, COOLDOWN);
    resolve(&fresh, &token).await.unwrap();
    tokio::time::sleep(PAST_COOLDOWN).await;
    resolve(&fresh, &token).await.unwrap();
    assert_eq!(jwks.fetches().await, 1);

    // No caching allowed: stale at once, refetched once the cooldown has passed.
    let jwks = JwksServer::start(&[&key], "no-store").await;
    let stale = identity(&jwks, COOLDOWN);
    resolve(&stale, &token).await.unwrap();
    tokio::time::sleep(PAST_COOLDOWN).await;
    resolve(&stale, &token).await.unwrap();
    assert_eq!(jwks.fetches().await, 2);
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_by_refetching_on_its_unknown_kid() {
    let old = SigningKey::rsa("2026-11");
    let new = SigningKey::p256("2026-12");
    let jwks = JwksServer::start(&[&old], "max-age=3600").await;
    let identity = identity(&jwks, COOLDOWN);
    resolve(&identity, &old.sign(&claims("u"))).await.unwrap();

    jwks.publish(&[&new], "max-age=3600").await;
    tokio::time::sleep(PAST_COOLDOWN).await;
    let principal = resolve(&identity, &new.sign(&claims("u2"))).await.unwrap();
    assert_eq!(principal.subject(), "u2");
    assert_eq!(jwks.fetches().await, 1, "one refetch for the new kid");
    // The retired key is gone from the set: its tokens no longer pass.
    assert_invalid(
        "retired key",
        resolve(&identity, &old.sign(&claims("u"))).await,
    );
}

#[tokio::test]
async fn a_flood_of_unknown_kids_costs_at_most_one_fetch_per_cooldown() {
    let key = SigningKey::rsa("real");
    let jwks = JwksServer::start(&[&key], "max-age=3600").await;
    let cooldown = COOLDOWN;
    let identity = identity(&jwks, cooldown);
    resolve(&identity, &key.sign(&claims("u"))).await.unwrap();
    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    jwks.publish(&[&key], "max-age=3600").await; // fetch count back to zero

    // Unknown kids are refused before any signature check, so unsigned tokens do; making
    // them all up front keeps the flood itself fast, whatever the crypto backend.
    let made_up = |round: usize| -> Vec<String> {
        (0..100)
            .map(|i| unsigned_with_alg("RS256", &format!("made-up-{round}-{i}"), &claims("victim")))
            .collect()
    };
    let rounds = [made_up(1), made_up(2), made_up(3)];
    let flood = |round: usize| {
        join_all(rounds[round - 1].iter().map(|token| {
            let identity = identity.clone();
            async move { resolve(&identity, token).await }
        }))
    };
    let results = flood(1).await;
    assert!(results.iter().all(Result::is_err));
    assert_eq!(jwks.fetches().await, 1, "100 unknown kids, one fetch");
    let results = flood(2).await;
    assert!(results.iter().all(Result::is_err));
    assert_eq!(
        jwks.fetches().await,
        1,
        "still within the cooldown: no fetch"
    );
    // The real key kept working throughout.
    resolve(&identity, &key.sign(&claims("u"))).await.unwrap();

    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    flood(3).await;
    assert_eq!(jwks.fetches().await, 2, "one more fetch after the cooldown");
}

#[tokio::test]
async fn cached_keys_keep_working_while_the_jwks_endpoint_is_down() {
    let key = SigningKey::rsa("k1");
    let jwks = JwksServer::start(&[&key], "max-age=0").await;
    let identity = identity(&jwks, COOLDOWN);
    resolve(&identity, &key.sign(&claims("u"))).await.unwrap();

    jwks.go_down().await;
    for i in 0..2 {
        tokio::time::sleep(PAST_COOLDOWN).await;
        let result = resolve(&identity, &key.sign(&claims(&format!("u{i}")))).await;
        assert!(
            result.is_ok(),
            "served from the cache during the outage: {result:?}"
        );
    }
    assert!(jwks.fetches().await >= 1, "refreshes were attempted");
    assert_invalid(
        "unknown kid during an outage",
        resolve(&identity, &SigningKey::rsa("new").sign(&claims("u"))).await,
    );
}

#[tokio::test]
async fn a_cold_cache_with_the_endpoint_down_is_an_invalid_token() {
    let key = SigningKey::rsa("k1");
    let jwks = JwksServer::start(&[&key], "max-age=60").await;
    jwks.go_down().await;
    let identity = identity(&jwks, Duration::from_secs(30));
    let Err(cometgate::Rejection::Invalid { reason }) =
        resolve(&identity, &key.sign(&claims("u"))).await
    else {
        panic!("expected an invalid-token rejection");
    };
    assert!(reason.contains("unavailable"), "{reason}");
    // A second token within the cooldown does not hit the endpoint again.
    let _ = resolve(&identity, &key.sign(&claims("u"))).await;
    assert_eq!(jwks.fetches().await, 1);
}

#[tokio::test]
async fn a_set_with_no_usable_keys_does_not_wipe_the_cache() {
    let key = SigningKey::rsa("k1");
    let jwks = JwksServer::start(&[&key], "max-age=0").await;
    let identity = identity(&jwks, COOLDOWN);
    resolve(&identity, &key.sign(&claims("u"))).await.unwrap();

    // A broken deploy publishes an empty set, then one whose entries are all unusable here
    // (a symmetric key, an encryption key): each counts as a failed fetch, and the keys
    // already cached keep verifying.
    let unusable = json!({"keys": [
        {"kty": "oct", "kid": "k1", "k": "c2VjcmV0"},
        {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
    ]});
    for set in [json!({"keys": []}), unusable] {
        jwks.publish_document(set, "max-age=600").await;
        tokio::time::sleep(PAST_COOLDOWN).await;
        let result = resolve(&identity, &key.sign(&claims("u"))).await;
        assert!(result.is_ok(), "the good keys were kept: {result:?}");
        assert_eq!(jwks.fetches().await, 1, "a refresh was attempted");
    }
}

#[tokio::test]
async fn stale_keys_are_served_for_stale_if_error_and_no_longer() {
    let key = SigningKey::rsa("k1");
    // `max-age=0`: fresh for one cooldown (1 s), then stale for at most 1 s more.
    let jwks = JwksServer::start(&[&key], "max-age=0").await;
    let identity = Oidc::new(ISSUER, "chat")
        .jwks_url(jwks.url())
        .refetch_cooldown(COOLDOWN)
        .stale_if_error(Duration::from_secs(1))
        .build()
        .unwrap();
    resolve(&identity, &key.sign(&claims("u"))).await.unwrap();

    // The JWKS becomes unreachable (an outage, or an attacker keeping a withdrawn key alive).
    jwks.go_down().await;
    tokio::time::sleep(PAST_COOLDOWN).await;
    let within = resolve(&identity, &key.sign(&claims("u"))).await;
    assert!(within.is_ok(), "stale but within the bound: {within:?}");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let Err(cometgate::Rejection::Invalid { reason }) =
        resolve(&identity, &key.sign(&claims("u"))).await
    else {
        panic!("past max-age + stale_if_error, the cached key must no longer verify");
    };
    assert!(reason.contains("stale_if_error"), "{reason}");
    assert!(jwks.fetches().await >= 2, "refreshes kept being attempted");

    // Once the JWKS answers again, the next fetch restores verification.
    jwks.publish(&[&key], "max-age=600").await;
    tokio::time::sleep(PAST_COOLDOWN).await;
    resolve(&identity, &key.sign(&claims("u"))).await.unwrap();
}
