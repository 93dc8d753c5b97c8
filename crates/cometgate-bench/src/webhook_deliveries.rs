//! Webhook deliveries per second end to end: signed Standard Webhooks deliveries posted over
//! loopback to the cometgate layer on axum (`Endpoint::with_webhooks`), each applied to the
//! in-process `cometchat-fake`, against the fake's own round trip (one `POST /users` sent
//! straight to it, the upstream work a delivery for a new user ends in) in alternating rounds.
//!
//! Every delivery is `user.updated` for a subject no other delivery names, with a fresh
//! delivery id, so none is deduplicated and each creates its CometChat user (`updated` creates
//! a user CometChat lacks). Bodies and signatures are made before each round, so the client's
//! signing is not measured. Every answer must be `204`, and after the rounds every subject's
//! user must be at the fake with the name its delivery carried.

use std::sync::Arc;

use cometchat_fake::FakeCometChat;
use cometgate::Principal;
use cometgate::clock::{Clock, SystemClock};
use cometgate::endpoint::Endpoint;
use cometgate::vend::{Gate, TokenPolicy};
use cometgate::webhook::{SigningSecret, Webhooks};
use cometgate_axum::TokenLayer;
use cometgate_jwt::JwtIdentity;
use data_encoding::BASE64;
use serde_json::json;

use crate::hs256::{Hs256, ISSUER};
use crate::subject::firebase_like;
use crate::{Figures, load_requests, median, median_figures, serve};

const ROUNDS: usize = 7;
const DELIVERIES: usize = 2_000;
const WARMUP: usize = 200;
/// Where the subjects of the deliveries start among `firebase_like`'s (the other rows use the
/// first few thousand; these are new to the gate and the fake).
const FIRST_SUBJECT: usize = 1_000_000;

pub struct DeliveryFigures {
    /// The fake's own round trip, per round.
    direct: Vec<Figures>,
    /// Deliveries, per round.
    deliveries: Vec<Figures>,
    /// CometChat calls per delivery during the rounds.
    upstream_per_delivery: f64,
    /// Deliveries whose user is not at the fake (or not with its name) after the rounds.
    missing: usize,
}

/// One signed delivery, ready to send.
struct Delivery {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    subject: String,
    name: String,
}

/// `count` deliveries for the subjects from `first` on, signed with `secret` now.
fn deliveries(secret: &SigningSecret, first: usize, count: usize) -> Arc<Vec<Delivery>> {
    let timestamp = SystemClock.unix_seconds();
    let updated_at = SystemClock.unix_millis();
    let made = (first..first + count)
        .map(|n| {
            let subject = firebase_like(n);
            let name = format!("Webhook User {n}");
            let body = json!({
                "type": "user.updated",
                "data": {
                    "subject": subject,
                    "name": name,
                    "avatar": format!("https://img.example/{n}.png"),
                    "updatedAt": updated_at,
                },
            })
            .to_string();
            let id = format!("msg_bench_{n}");
            Delivery {
                signature: secret.sign(&id, timestamp, body.as_bytes()),
                timestamp: timestamp.to_string(),
                id,
                body,
                subject,
                name,
            }
        })
        .collect();
    Arc::new(made)
}

/// One round posting `deliveries` to `url`, every answer `204`.
async fn deliver(url: &str, deliveries: &Arc<Vec<Delivery>>) -> Figures {
    let (url, deliveries) = (url.to_owned(), Arc::clone(deliveries));
    let count = deliveries.len();
    let send = move |client: &reqwest::Client, i: usize| {
        let d = &deliveries[i];
        client
            .post(&url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.id)
            .header("webhook-timestamp", &d.timestamp)
            .header("webhook-signature", &d.signature)
            .body(d.body.clone())
    };
    load_requests(count, send, |s| s == reqwest::StatusCode::NO_CONTENT).await
}

/// One round of `count` users created straight at the fake, as cometgate's client does.
async fn direct(fake: &FakeCometChat, round: usize, count: usize) -> Figures {
    let url = format!("{}/users", fake.base_url());
    let (app_id, api_key) = (fake.app_id().to_owned(), fake.api_key().to_owned());
    let send = move |client: &reqwest::Client, i: usize| {
        client
            .post(&url)
            .header("appId", &app_id)
            .header("apikey", &api_key)
            .json(&json!({"uid": format!("direct-{round}-{i}"), "name": format!("Direct {i}")}))
    };
    load_requests(count, send, |s| s.is_success()).await
}

fn upstream_calls(fake: &FakeCometChat) -> usize {
    fake.route_counts().values().sum()
}

/// How many of `deliveries` left no user at the fake with their name.
fn missing(fake: &FakeCometChat, gate: &Gate<JwtIdentity>, deliveries: &[Delivery]) -> usize {
    deliveries
        .iter()
        .filter(|d| {
            let uid = gate
                .uid_mapper()
                .map(&Principal::new(ISSUER, d.subject.clone()))
                .expect("map the subject");
            fake.user(uid.as_str()).is_none_or(|u| u.name != d.name)
        })
        .count()
}

pub async fn run() -> DeliveryFigures {
    let fake = FakeCometChat::start().await;
    let jwts = Hs256::new(1);
    let gate = jwts.gate(&fake, TokenPolicy::default());
    let key: [u8; 32] = rand::random();
    let text = format!("whsec_{}", BASE64.encode(&key));
    let secret = SigningSecret::parse(&text).expect("bench secret");
    let endpoint = Endpoint::new(gate.clone())
        .with_webhooks(Webhooks::new().standard(text.parse().expect("bench secrets"), ISSUER));
    let app = axum::Router::new()
        .route("/todos", axum::routing::get(|| async { "[]" }))
        .layer(TokenLayer::from_endpoint(endpoint));
    let (token_url, _server) = serve(app).await;
    let url = token_url.replace("/cometchat-token", "/cometchat-webhooks/standard");

    let warmup = deliveries(&secret, FIRST_SUBJECT, WARMUP);
    let warmed = deliver(&url, &warmup).await;
    assert_eq!(warmed.errors, 0, "a warm-up delivery was not answered 204");
    direct(&fake, usize::MAX, WARMUP).await;

    let (mut direct_rounds, mut delivery_rounds, mut all) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let first = FIRST_SUBJECT + WARMUP + round * DELIVERIES;
        let batch = deliveries(&secret, first, DELIVERIES);
        direct_rounds.push(direct(&fake, round, DELIVERIES).await);
        // Only the deliveries' calls count: the direct rounds' own are taken out.
        let calls = upstream_calls(&fake);
        delivery_rounds.push(deliver(&url, &batch).await);
        all.push((batch, upstream_calls(&fake) - calls));
    }
    let upstream: usize = all.iter().map(|(_, calls)| calls).sum();
    let missing = all
        .iter()
        .map(|(batch, _)| missing(&fake, &gate, batch))
        .sum();
    DeliveryFigures {
        direct: direct_rounds,
        deliveries: delivery_rounds,
        upstream_per_delivery: upstream as f64 / (ROUNDS * DELIVERIES) as f64,
        missing,
    }
}

pub fn print(f: &DeliveryFigures) {
    println!(
        "\nwebhook deliveries end to end: median of {ROUNDS} alternating rounds of {DELIVERIES}, {} concurrent, signed Standard Webhooks `user.updated` for new subjects, cometgate on axum against one in-process cometchat-fake",
        crate::CONCURRENCY
    );
    println!("| | per s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|");
    let (d, w) = (median_figures(&f.direct), median_figures(&f.deliveries));
    crate::print_row("fake's own round trip (POST /users, direct)", &d);
    crate::print_row("webhook deliveries (204)", &w);
    crate::print_ratio("ratio deliveries/direct", &w, &d);
    let ratios = crate::reuse::round_ratios(&f.deliveries, &f.direct);
    let per_round: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    println!(
        "deliveries/direct per round: {}; median {:.2}; CometChat calls per delivery: {:.2}; users missing at the fake after the rounds: {}",
        per_round.join(", "),
        median(ratios),
        f.upstream_per_delivery,
        f.missing
    );
}

pub fn targets(f: &DeliveryFigures) {
    let w = median_figures(&f.deliveries);
    let ok = w.errors == 0 && f.missing == 0;
    println!(
        "- webhook deliveries/s end to end (reported): {:.0}, every answer 204 and every user at the fake: {}",
        w.rps,
        if ok { "yes" } else { "NO" }
    );
}
