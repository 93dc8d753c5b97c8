//! What Redis holds after a run of the gate on the Redis store (mints, reuse, refresh, cap
//! evictions, a revoke whose delete failed and waits in the deferred list, expiry, webhook
//! deliveries, a tombstone, the shared limits): every key name, value, member, field, score and `DUMP` is free
//! of the tokens minted, the device ids (in clear or as the core's unkeyed device key), the
//! REST key and the store key.

mod common;

use std::time::Duration;

use cometchat_fake::{FakeCometChat, Fault};
use cometgate::DeviceId;
use cometgate::clock::ManualClock;
use cometgate::endpoint::Endpoint;
use cometgate::vend::TokenPolicy;
use cometgate::webhook::{SigningSecret, Webhooks};
use cometgate_redis::{RedisStore, StoreKey};
use common::gate::{BearerIsSubject, ask, builder, token, token_for};
use common::{contains, everything_under, shared, unique_prefix};
use secrecy::ExposeSecret;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Whether `bytes` hold something shaped like a CometChat token: `_`, 10 digits, 30 hex.
fn token_shaped(bytes: &[u8]) -> bool {
    bytes.windows(41).any(|w| {
        w[0] == b'_'
            && w[1..11].iter().all(u8::is_ascii_digit)
            && w[11..]
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    })
}

/// A Standard Webhooks delivery signed at `ts` (the gate's clock).
async fn deliver(endpoint: &Endpoint<BearerIsSubject>, id: &str, ts: u64, body: &str) {
    let signature = SigningSecret::parse(SECRET)
        .unwrap()
        .sign(id, ts, body.as_bytes());
    let request = cometgate::identity::SimpleRequest::post("/cometchat-webhooks/standard")
        .with_header("webhook-id", id)
        .with_header("webhook-timestamp", ts.to_string())
        .with_header("webhook-signature", signature);
    let answer = endpoint
        .serve(&request, body.to_owned().into())
        .expect("the webhook route")
        .await;
    assert!(answer.status() < 300, "{answer:?}");
}

#[tokio::test]
async fn redis_holds_no_token_device_id_or_key_after_a_run() {
    let cc = FakeCometChat::start().await;
    let prefix = unique_prefix();
    let key = StoreKey::generate();
    let store: RedisStore = common::store_with(shared(), &prefix, key.clone(), None);
    let clock = ManualClock::starting_now();
    let policy = TokenPolicy::default()
        .tokens_per_user(2)
        .unwrap()
        .max_age(Some(Duration::from_secs(3_600)))
        .unwrap()
        .recheck(None);
    let gate = builder(&cc, &store)
        .token_policy(policy)
        .clock(clock.clone())
        .build()
        .unwrap();
    let webhooks = Webhooks::new().standard(SECRET.parse().unwrap(), "test");
    let endpoint = Endpoint::new(gate.clone()).with_webhooks(webhooks);

    let users = ["ada", "bob", "cy"];
    let devices: Vec<String> = (0..3)
        .map(|i| format!("install-{i}-{:016x}", rand::random::<u64>()))
        .collect();
    let mut tokens = Vec::new();
    // A token expired and swept (before the rest, so the rest stays for the search).
    tokens.push(token(&token_for(&endpoint, "eve", &devices[0]).await));
    clock.advance(Duration::from_secs(3_700));
    let swept = gate.sweep().await;
    assert_eq!(swept.deleted, 1, "{swept:?}");
    for user in users {
        // Three devices over a cap of two: the first is evicted.
        for device in &devices {
            tokens.push(token(&token_for(&endpoint, user, device).await));
        }
        assert_eq!(
            token(&token_for(&endpoint, user, &devices[2]).await),
            tokens[tokens.len() - 1]
        );
    }
    // A refresh: a new token, the old one deleted.
    let refresh = format!(r#"{{"deviceId": "{}", "refresh": true}}"#, devices[1]);
    tokens.push(token(
        &ask(&endpoint, "/cometchat-token", "ada", &refresh).await,
    ));
    // A revoke whose delete keeps failing: the token waits in the deferred list.
    cc.push_faults(
        "DELETE /users/{uid}/auth_tokens/{authToken}",
        (0..4).map(|_| Fault::Status {
            status: 500,
            retry_after: None,
        }),
    );
    let revoke = format!(r#"{{"deviceId": "{}"}}"#, devices[2]);
    let revoked = ask(&endpoint, "/cometchat-token/revoke", "bob", &revoke).await;
    assert_eq!(revoked.status(), 502, "{revoked:?}");
    // Webhooks: a profile update and a deletion (a tombstone), each with its delivery id.
    let updated =
        r#"{"type":"user.updated","data":{"subject":"cy","name":"Cy","updatedAt":1700000000000}}"#;
    deliver(
        &endpoint,
        "msg_update",
        cometgate::clock::Clock::unix_seconds(&clock),
        updated,
    )
    .await;
    let deleted = r#"{"type":"user.deleted","data":{"subject":"dee","updatedAt":1700000000000}}"#;
    deliver(
        &endpoint,
        "msg_delete",
        cometgate::clock::Clock::unix_seconds(&clock),
        deleted,
    )
    .await;
    let everything = everything_under(shared(), &prefix);
    // The run left every kind of key behind, so the search below covers each.
    let names: Vec<String> = everything
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .filter(|s| s.starts_with(&prefix))
        .collect();
    for kind in [
        "tok:",
        "meta:",
        "lru:",
        "account:",
        "expiry",
        "deferred",
        "delivery:",
        "limit:mint:",
    ] {
        assert!(
            names.iter().any(|n| n[prefix.len()..].starts_with(kind)),
            "no {kind} key in {names:?}"
        );
    }
    for t in &tokens {
        assert!(
            !contains(&everything, t.as_bytes()),
            "a minted token is in Redis"
        );
        let random_part = &t[t.len() - 30..];
        assert!(
            !contains(&everything, random_part.as_bytes()),
            "a token's random part is in Redis"
        );
    }
    assert!(
        !everything.iter().any(|v| token_shaped(v)),
        "something token-shaped is in Redis"
    );
    for device in &devices {
        assert!(
            !contains(&everything, device.as_bytes()),
            "a device id is in Redis"
        );
        let unkeyed = DeviceId::parse(device).unwrap().key().to_bytes();
        let hex = data_encoding::HEXLOWER.encode(&unkeyed);
        assert!(
            !contains(&everything, hex.as_bytes()),
            "an unkeyed device key is in Redis"
        );
        assert!(
            !contains(&everything, &unkeyed),
            "an unkeyed device key is in Redis"
        );
    }
    assert!(
        !contains(&everything, cc.api_key().as_bytes()),
        "the REST key is in Redis"
    );
    let key_text = key.to_base64();
    let key_b64 = key_text.expose_secret().trim_end_matches('=');
    assert!(
        !contains(&everything, key_b64.as_bytes()),
        "the store key is in Redis"
    );
    // The profile of a webhook is sealed too.
    assert!(
        !contains(&everything, b"\"Cy\""),
        "a profile is in Redis in clear"
    );
}
