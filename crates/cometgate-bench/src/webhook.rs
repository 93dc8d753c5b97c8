//! Webhook signature verification of a 2 KiB payload: cometgate's verifier
//! (`cometgate::webhook::SigningSecrets`) against the `standardwebhooks` crate, the reference
//! Rust implementation, on the same delivery, in alternating rounds on one thread.
//!
//! Both read the three headers from the same `http::HeaderMap` and check the timestamp against
//! the system clock, read on every call (the reference crate takes no clock; cometgate reads
//! the gate's); both must accept every delivery (each call is checked).

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};
use cometgate::clock::{Clock, SystemClock};
use cometgate::webhook::{HeaderNames, SigningSecret, SigningSecrets};
use data_encoding::BASE64;

const PAYLOAD_LEN: usize = 2 * 1024;
const VERIFICATIONS: usize = 20_000;
const ROUNDS: usize = 9;

/// Verifications per second, median over the rounds, and each round's ratio.
pub struct WebhookFigures {
    pub baseline: f64,
    pub cometgate: f64,
    pub per_round: Vec<f64>,
}

struct Fixture {
    ours: SigningSecrets,
    reference: standardwebhooks::Webhook,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A 2 KiB JSON body of cometgate's own event, padded in its name field.
fn payload() -> Vec<u8> {
    let head = r#"{"type":"user.updated","data":{"subject":"user_2abcDEF","avatar":"https://img.example/a.png","updatedAt":1700000000123,"name":""#;
    let tail = r#""}}"#;
    let mut body = head.as_bytes().to_vec();
    body.resize(PAYLOAD_LEN - tail.len(), b'a');
    body.extend_from_slice(tail.as_bytes());
    body
}

fn fixture() -> Fixture {
    let key: [u8; 32] = rand::random();
    let secret = format!("whsec_{}", BASE64.encode(&key));
    let body = payload();
    let id = "msg_2bVxUn6IEhYb0w8Ggi1bQ3lnU1x";
    // Now: the rounds take seconds, well within the five-minute window.
    let timestamp = SystemClock.unix_seconds();
    let signature = SigningSecret::parse(&secret)
        .expect("bench secret")
        .sign(id, timestamp, &body);
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature),
    ] {
        headers.insert(name, HeaderValue::from_str(&value).expect("header value"));
    }
    let fixture = Fixture {
        ours: secret.parse().expect("bench secrets"),
        reference: standardwebhooks::Webhook::new(&secret).expect("reference secret"),
        headers,
        body,
    };
    assert!(ours(&fixture), "cometgate refused the bench delivery");
    assert!(
        reference(&fixture),
        "standardwebhooks refused the bench delivery"
    );
    fixture
}

fn ours(f: &Fixture) -> bool {
    f.ours
        .verify(
            HeaderNames::Webhook,
            |name| f.headers.get(name).map(HeaderValue::as_bytes),
            std::hint::black_box(&f.body),
            SystemClock.unix_seconds(),
        )
        .is_ok()
}

fn reference(f: &Fixture) -> bool {
    f.reference
        .verify(std::hint::black_box(&f.body), &f.headers)
        .is_ok()
}

/// `VERIFICATIONS` calls of `verify`; panics if one refuses (nothing else is measured).
fn round(f: &Fixture, verify: fn(&Fixture) -> bool) -> Duration {
    let started = Instant::now();
    for _ in 0..VERIFICATIONS {
        assert!(std::hint::black_box(verify(f)), "a verification failed");
    }
    started.elapsed()
}

/// Runs the rounds, alternating the reference crate and cometgate.
pub fn run() -> WebhookFigures {
    let f = fixture();
    // Warm up both.
    round(&f, reference);
    round(&f, ours);
    let per_second = |d: Duration| VERIFICATIONS as f64 / d.as_secs_f64();
    let (mut baseline, mut cometgate) = (Vec::new(), Vec::new());
    for i in 0..ROUNDS {
        // Alternate which goes first, so neither always runs on a warmer cache.
        if i % 2 == 0 {
            baseline.push(per_second(round(&f, reference)));
            cometgate.push(per_second(round(&f, ours)));
        } else {
            cometgate.push(per_second(round(&f, ours)));
            baseline.push(per_second(round(&f, reference)));
        }
    }
    let per_round = cometgate
        .iter()
        .zip(&baseline)
        .map(|(c, b)| c / b)
        .collect();
    WebhookFigures {
        baseline: crate::median(baseline),
        cometgate: crate::median(cometgate),
        per_round,
    }
}

/// Prints the table.
pub fn print(f: &WebhookFigures) {
    println!(
        "\nwebhook signature verification, {PAYLOAD_LEN}-byte payload: median of {ROUNDS} alternating rounds of {VERIFICATIONS} verifications, one thread"
    );
    println!("| | verifications/s | µs each | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| standardwebhooks 1.0.1 (reference crate) | {:.0} | {:.2} | 1.00 |",
        f.baseline,
        1e6 / f.baseline
    );
    println!(
        "| cometgate::webhook::SigningSecrets | {:.0} | {:.2} | {:.2} |",
        f.cometgate,
        1e6 / f.cometgate,
        f.cometgate / f.baseline
    );
    let rounds: Vec<String> = f.per_round.iter().map(|r| format!("{r:.2}")).collect();
    println!(
        "cometgate/standardwebhooks per round: {}",
        rounds.join(", ")
    );
}

/// The target line.
pub fn targets(f: &WebhookFigures) {
    let ratio = f.cometgate / f.baseline;
    println!(
        "- webhook verification (2 KiB) vs standardwebhooks >= 1.0x: {ratio:.2}x, {}",
        crate::verdict(ratio >= 1.0)
    );
}
