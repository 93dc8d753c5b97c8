//! The cross-replica mint lock on its own: `SET NX PX` under the device's keyed name, released
//! only by its holder, gone by itself once its time to live runs out.

mod common;

use std::time::Duration;

use cometgate::store::{MintLock, TokenStore};
use cometgate::{DeviceId, Uid};
use cometgate_redis::StoreKey;
use common::{contains, everything_under, shared, store_with, unique_prefix};

#[tokio::test]
async fn one_holder_at_a_time_across_replicas_released_by_its_holder_only() {
    let (prefix, key) = (unique_prefix(), StoreKey::generate());
    let [a, b] = [(); 2].map(|()| store_with(shared(), &prefix, key.clone(), None));
    let ada = Uid::parse("ada").unwrap();
    let id = format!("install-{:016x}", rand::random::<u64>());
    let phone = DeviceId::parse(&id).unwrap().key();
    let tablet = DeviceId::parse("tablet").unwrap().key();
    let ttl = Duration::from_secs(30);

    let held = a.lock_mint(&ada, phone, ttl).await.unwrap().expect("free");
    assert_eq!(b.lock_mint(&ada, phone, ttl).await.unwrap(), None, "held");
    assert!(
        b.lock_mint(&ada, tablet, ttl).await.unwrap().is_some(),
        "per device"
    );
    let bob = Uid::parse("bob").unwrap();
    assert!(
        b.lock_mint(&bob, phone, ttl).await.unwrap().is_some(),
        "per user"
    );

    // The key names the device by its keyed name only; the value is the random holder value.
    let everything = everything_under(shared(), &prefix);
    assert!(
        !contains(&everything, id.as_bytes()),
        "a device id in Redis"
    );
    let unkeyed = data_encoding::HEXLOWER.encode(&phone.to_bytes());
    assert!(!contains(&everything, unkeyed.as_bytes()));
    assert!(contains(
        &everything,
        format!("{prefix}flight:{{ada}}:").as_bytes()
    ));
    assert!(contains(&everything, held.as_str().as_bytes()));

    // Another holder's value releases nothing; the holder's does.
    b.unlock_mint(&ada, phone, &MintLock::generate())
        .await
        .unwrap();
    assert_eq!(b.lock_mint(&ada, phone, ttl).await.unwrap(), None);
    a.unlock_mint(&ada, phone, &held).await.unwrap();
    let next = b
        .lock_mint(&ada, phone, ttl)
        .await
        .unwrap()
        .expect("released");
    // The first holder releasing again (its lock is long gone) leaves the next one's alone.
    a.unlock_mint(&ada, phone, &held).await.unwrap();
    assert_eq!(a.lock_mint(&ada, phone, ttl).await.unwrap(), None);
    b.unlock_mint(&ada, phone, &next).await.unwrap();
}

#[tokio::test]
async fn a_lock_whose_holder_died_runs_out() {
    let (prefix, key) = (unique_prefix(), StoreKey::generate());
    let [a, b] = [(); 2].map(|()| store_with(shared(), &prefix, key.clone(), None));
    let ada = Uid::parse("ada").unwrap();
    let phone = DeviceId::parse("phone").unwrap().key();
    let short = Duration::from_millis(200);
    assert!(a.lock_mint(&ada, phone, short).await.unwrap().is_some());
    assert_eq!(b.lock_mint(&ada, phone, short).await.unwrap(), None);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        b.lock_mint(&ada, phone, short).await.unwrap().is_some(),
        "ran out"
    );
    // A zero time to live is taken as 1 ms, not refused.
    let cy = Uid::parse("cy").unwrap();
    assert!(
        a.lock_mint(&cy, phone, Duration::ZERO)
            .await
            .unwrap()
            .is_some()
    );
}
