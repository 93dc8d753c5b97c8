//! The limit store on its own: GCRA cells on Redis's clock, `burst` at once then one per
//! interval, each limit and each user under a key of its own.

mod common;

use std::time::Duration;

use cometgate::Uid;
use cometgate::store::{LimitKey, LimitStore, StoreBackend};
use cometgate::vend::RateLimit;
use common::{everything_under, shared, store, unique_prefix};

fn uid(s: &str) -> Uid {
    Uid::parse(s).unwrap()
}

#[tokio::test]
async fn a_burst_is_free_then_a_refusal_says_how_long_until_a_cell_refills() {
    let store = store(shared());
    assert_eq!(LimitStore::backend(&store), StoreBackend::Redis);
    let interval = Duration::from_millis(400);
    let limit = RateLimit::new(1, interval).with_burst(3);
    let ada = uid("ada");
    for n in 0..3 {
        let taken = store.take(LimitKey::Mint(&ada), limit).await.unwrap();
        assert_eq!(taken, Ok(()), "cell {n} of the burst");
    }
    let wait = store
        .take(LimitKey::Mint(&ada), limit)
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        wait > Duration::ZERO && wait <= interval,
        "a wait of at most one interval: {wait:?}"
    );
    // Refused calls take nothing: after the wait, exactly one cell is free again.
    tokio::time::sleep(wait + Duration::from_millis(20)).await;
    assert_eq!(
        store.take(LimitKey::Mint(&ada), limit).await.unwrap(),
        Ok(())
    );
    let again = store.take(LimitKey::Mint(&ada), limit).await.unwrap();
    assert!(again.is_err(), "one cell refilled, not more: {again:?}");
}

#[tokio::test]
async fn cells_refill_one_per_interval_up_to_the_burst() {
    let store = store(shared());
    let interval = Duration::from_millis(150);
    let limit = RateLimit::new(1, interval).with_burst(2);
    let key = LimitKey::Upstream;
    for _ in 0..2 {
        assert_eq!(store.take(key, limit).await.unwrap(), Ok(()));
    }
    assert!(store.take(key, limit).await.unwrap().is_err());
    // Idle for many intervals: the bucket is full again, but holds no more than the burst.
    tokio::time::sleep(interval * 5).await;
    for _ in 0..2 {
        assert_eq!(store.take(key, limit).await.unwrap(), Ok(()));
    }
    assert!(store.take(key, limit).await.unwrap().is_err(), "burst 2");
    // A burst of 1 allows one per interval.
    let one = RateLimit::new(1, interval).with_burst(1);
    let bob = uid("bob");
    assert_eq!(store.take(LimitKey::Mint(&bob), one).await.unwrap(), Ok(()));
    let wait = store
        .take(LimitKey::Mint(&bob), one)
        .await
        .unwrap()
        .unwrap_err();
    assert!(wait > interval / 2 && wait <= interval, "{wait:?}");
    tokio::time::sleep(interval + Duration::from_millis(20)).await;
    assert_eq!(store.take(LimitKey::Mint(&bob), one).await.unwrap(), Ok(()));
}

#[tokio::test]
async fn each_limit_and_each_user_has_its_own_cells_and_keys_expire_once_full() {
    let server = shared();
    let prefix = unique_prefix();
    let store = common::store_with(server, &prefix, cometgate_redis::StoreKey::generate(), None);
    let limit = RateLimit::new(1, Duration::from_millis(300)).with_burst(1);
    let (ada, bob) = (uid("ada"), uid("bob"));
    let keys = [
        LimitKey::Upstream,
        LimitKey::Mint(&ada),
        LimitKey::RevokeAll(&ada),
        LimitKey::Mint(&bob),
    ];
    for key in keys {
        assert_eq!(store.take(key, limit).await.unwrap(), Ok(()), "{key:?}");
    }
    for key in keys {
        assert!(store.take(key, limit).await.unwrap().is_err(), "{key:?}");
    }
    let mut names: Vec<String> = everything_under(server, &prefix)
        .into_iter()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .filter(|s| s.starts_with(&prefix))
        .map(|s| s[prefix.len()..].to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "limit:mint:{ada}",
            "limit:mint:{bob}",
            "limit:revoke:{ada}",
            "limit:upstream"
        ]
    );
    let mut redis = server
        .client()
        .expect("a connection to the test redis-server");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}limit:upstream"))
        .query(&mut redis)
        .unwrap();
    assert!((1..=300).contains(&ttl), "kept until full again: {ttl} ms");
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(everything_under(server, &prefix).is_empty(), "all expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_takers_on_several_stores_share_the_cells() {
    let prefix = unique_prefix();
    let key = cometgate_redis::StoreKey::generate();
    let replicas: Vec<_> = (0..3)
        .map(|_| common::store_with(shared(), &prefix, key.clone(), None))
        .collect();
    // A long interval: no cell refills during the test, so exactly the burst is taken.
    let limit = RateLimit::per_minute(1).with_burst(7);
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let store = replicas[i % 3].clone();
            tokio::spawn(
                async move { store.take(LimitKey::Upstream, limit).await.unwrap().is_ok() },
            )
        })
        .collect();
    let mut taken = 0;
    for task in tasks {
        taken += usize::from(task.await.unwrap());
    }
    assert_eq!(taken, 7);
}
