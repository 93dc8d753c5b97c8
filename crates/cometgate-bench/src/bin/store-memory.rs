//! (g) of `cargo xtask bench`: the memory `MemoryStore` takes to hold 1,000,000 tracked devices.
//!
//! `store-memory <devices per user>` fills `MemoryStore::with_capacity(1_000_000)` through the
//! `TokenStore` trait with realistic entries: UIDs as `UidMapper::default()` maps Firebase-like
//! subjects, tokens in CometChat's form `<uid>_<10 digits><30 lowercase hex>`, a max age, one
//! device id per install. It prints the cells of one table row:
//! `| users added | UID length | bytes per device | allocations per device | resident MB |`.
//!
//! The bytes are counted by a global allocator (`stats_alloc`) installed in this binary only, so
//! that the counting does not slow the bench's other rows: the sizes asked of the allocator,
//! allocated minus freed while the store filled. Everything else made meanwhile (UIDs, ids,
//! tokens, the trait's boxed futures, what `track` returns) is freed meanwhile too, so the
//! difference is what the store holds. The allocator's own overhead per allocation is not in
//! it; the growth of the resident set, also printed, includes it.
//!
//! The store splits its capacity into 16 shards by UID, and users do not spread exactly
//! evenly, so it is filled until it holds exactly its capacity (a full shard forgets its least
//! recently used device as another user arrives, like in production).

use std::alloc::System;

use cometgate::client::TokenValue;
use cometgate::store::{MemoryStore, TokenStore, TrackedToken};
use cometgate::vend::TokenPolicy;
use cometgate::{DeviceId, Principal, Uid, UidMapper};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[path = "../subject.rs"]
mod subject;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const DEVICES: usize = 1_000_000;
const FIREBASE: &str = "https://securetoken.google.com/bench-project";
const WEEK: u64 = 7 * 24 * 3_600;

/// The resident set size in bytes (Linux: `/proc/self/statm`, 4 KiB pages).
fn resident_bytes() -> f64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(f64::NAN, |pages| pages * 4096.0)
}

/// Tracks `per_user` devices of user `user`; returns how many tokens the store forgot.
async fn track_user(
    store: &MemoryStore,
    mapper: &UidMapper,
    rng: &mut StdRng,
    user: usize,
    per_user: usize,
) -> (Uid, usize) {
    let uid = mapper
        .map(&Principal::new(FIREBASE, subject::firebase_like(user)))
        .expect("map the subject");
    let mut forgotten = 0;
    for device in 0..per_user {
        let key = DeviceId::parse(&format!("install-{user}-{device}"))
            .expect("device id")
            .key();
        let minted = 1_700_000_000 + rng.random_range(0..WEEK);
        // 120 random bits: 30 hex digits.
        let hex = rng.random::<u128>() >> 8;
        let token = TokenValue::new(format!("{}_{minted:010}{hex:030x}", uid.as_str()));
        let tracked = TrackedToken {
            token,
            minted_at: minted,
            expires_at: Some(minted + WEEK),
            confirmed_at: minted,
        };
        forgotten += store
            .track(&uid, key, tracked, TokenPolicy::default().per_user_cap())
            .await
            .expect("track")
            .len();
    }
    (uid, forgotten)
}

fn main() {
    let Some(per_user) = std::env::args()
        .nth(1)
        .and_then(|a| a.parse::<usize>().ok())
        .filter(|n| (1..=90).contains(n))
    else {
        eprintln!("usage: store-memory <devices per user, 1 to 90>");
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mapper = UidMapper::default();
    let mut rng = StdRng::seed_from_u64(7);
    let resident_before = resident_bytes();

    let region = Region::new(GLOBAL);
    let store = MemoryStore::with_capacity(DEVICES);
    let (users, uid_len, forgotten) = runtime.block_on(async {
        let (mut users, mut uid_len, mut forgotten) = (0, 0, 0);
        while users < DEVICES.div_ceil(per_user) || store.len() < DEVICES {
            let (uid, lost) = track_user(&store, &mapper, &mut rng, users, per_user).await;
            uid_len = uid.as_str().len();
            forgotten += lost;
            users += 1;
        }
        (users, uid_len, forgotten)
    });
    let change = region.change();
    let resident = resident_bytes() - resident_before;

    assert_eq!(store.len(), DEVICES, "the store must hold its capacity");
    let held = DEVICES as f64;
    let bytes = change.bytes_allocated as f64 - change.bytes_deallocated as f64;
    let allocations = change.allocations as f64 - change.deallocations as f64;
    println!(
        "| {users} ({forgotten} devices forgotten by full shards) | {uid_len} | {:.1} | {:.2} | {:.0} |",
        bytes / held,
        allocations / held,
        resident / 1e6
    );
    drop(store);
}
