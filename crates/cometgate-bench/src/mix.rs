//! (f) upstream calls per request over a realistic mix of cold starts.
//!
//! 1,000 users with 3 devices each; every device cold-starts 20 times, and each cold start is
//! one token request naming that device. The 60,000 requests are shuffled (fixed seed) and sent
//! through the cometgate layer on axum, 16 at a time, against a fresh `cometchat-fake`; every
//! request the fake receives counts (mints, creates, rechecks, deletes). The gate runs the
//! default token policy (cap 20, max age 7 days, recheck 60 s: the run is shorter than that),
//! with the per-user limit and the upstream budget relaxed as in (b).
//!
//! A device's first request must mint, so 1 call per 20 requests is the floor: 0.05. It is run
//! twice: (f) for users who already exist at CometChat (an app in its steady state), (f') for
//! users new to CometChat, whose first sign-in also pays the mint that finds no user before
//! the create that returns a token.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cometchat_fake::{FakeCometChat, FakeUser};
use cometgate::vend::TokenPolicy;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::hs256::Hs256;
use crate::{Call, load, serve};

const USERS: usize = 1_000;
const DEVICES: usize = 3;
const COLD_STARTS: usize = 20;
const SEED: u64 = 10;

/// One run of the mix.
struct Run {
    label: &'static str,
    name: &'static str,
    requests: usize,
    calls: BTreeMap<String, usize>,
    errors: usize,
    elapsed: Duration,
}

impl Run {
    fn calls(&self) -> usize {
        self.calls.values().sum()
    }
}

pub struct MixFigures {
    runs: Vec<Run>,
}

/// Every (user, device) `COLD_STARTS` times, shuffled with a fixed seed.
fn cold_starts() -> Vec<(usize, usize)> {
    let mut order: Vec<(usize, usize)> = (0..USERS)
        .flat_map(|u| (0..DEVICES).map(move |d| (u, d)))
        .flat_map(|device| std::iter::repeat_n(device, COLD_STARTS))
        .collect();
    order.shuffle(&mut StdRng::seed_from_u64(SEED));
    order
}

async fn run_once(
    (label, name): (&'static str, &'static str),
    existing_users: bool,
    jwts: &Arc<Hs256>,
    order: &Arc<Vec<(usize, usize)>>,
) -> Run {
    let mut builder = FakeCometChat::builder();
    if existing_users {
        for (i, uid) in jwts.uids().into_iter().enumerate() {
            builder = builder.seed_user(FakeUser::new(uid.as_str(), format!("User {i}")));
        }
    }
    let fake = builder.start().await.expect("start the fake");
    let gate = jwts.gate(&fake, TokenPolicy::default());
    let (url, server) = serve(crate::axum_app(gate)).await;
    let (jwts, order) = (Arc::clone(jwts), Arc::clone(order));
    let started = Instant::now();
    let figures = load(&url, order.len(), move |i| {
        let (user, device) = order[i];
        Call {
            bearer: jwts.token(user).to_owned(),
            body: Some(format!(r#"{{"deviceId":"u{user}-d{device}"}}"#)),
        }
    })
    .await;
    let elapsed = started.elapsed();
    server.abort();
    Run {
        label,
        name,
        requests: USERS * DEVICES * COLD_STARTS,
        calls: fake.route_counts(),
        errors: figures.errors,
        elapsed,
    }
}

pub async fn run() -> MixFigures {
    let jwts = Arc::new(Hs256::new(USERS));
    let order = Arc::new(cold_starts());
    let mut runs = Vec::new();
    for (label, name, existing) in [
        ("(f)", "users who already exist at CometChat", true),
        ("(f')", "users new to CometChat (first sign-ins)", false),
    ] {
        runs.push(run_once((label, name), existing, &jwts, &order).await);
    }
    MixFigures { runs }
}

pub fn print(f: &MixFigures) {
    println!(
        "\nupstream calls per request over a mix: {USERS} users x {DEVICES} devices x {COLD_STARTS} cold starts = {} requests, shuffled (seed {SEED}), default token policy, {} concurrent",
        USERS * DEVICES * COLD_STARTS,
        crate::CONCURRENCY
    );
    println!("| | requests | upstream calls | calls/request | errors | seconds |");
    println!("|---|---|---|---|---|---|");
    for run in &f.runs {
        println!(
            "| {} {} | {} | {} | {:.4} | {} | {:.1} |",
            run.label,
            run.name,
            run.requests,
            run.calls(),
            run.calls() as f64 / run.requests as f64,
            run.errors,
            run.elapsed.as_secs_f64()
        );
    }
    for run in &f.runs {
        let routes: Vec<String> = run.calls.iter().map(|(r, n)| format!("{r}: {n}")).collect();
        println!("{} calls by route: {}", run.label, routes.join(", "));
    }
}

pub fn targets(f: &MixFigures) {
    for run in &f.runs {
        // In integers: calls/requests <= 1/20.
        let met = run.calls() * 20 <= run.requests && run.errors == 0;
        println!(
            "- {} upstream calls/request <= 0.05: {:.4}, {}",
            run.label,
            run.calls() as f64 / run.requests as f64,
            crate::verdict(met)
        );
    }
}
