//! Single-flight: concurrent callers for the same key share one run of the work.
//!
//! Built on [`futures_util::future::Shared`]: every caller holds a clone of the same shared
//! future, and whichever caller polls drives it. That makes it cancellation-safe by
//! construction: if the caller that started the work goes away, the others keep polling the
//! same future and still get its result; only when **every** caller has gone is the work
//! dropped. The registry keeps only a weak handle, and a guard inside the work removes the
//! entry when the work finishes or is dropped, so a finished result is never handed to a later
//! caller and the map never holds dead flights.
//!
//! (Crates on crates.io such as `async_singleflight` report a cancelled leader to the
//! followers as a failure or make them start over; sharing the future avoids both.)

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, WeakShared};

type Registry<K, T> = Mutex<HashMap<K, Entry<T>>>;

struct Entry<T> {
    id: u64,
    flight: WeakShared<BoxFuture<'static, T>>,
}

/// A registry of in-flight work, keyed by `K`, each producing a `T` shared by every caller.
pub(crate) struct SingleFlight<K, T> {
    flights: Arc<Registry<K, T>>,
    next_id: AtomicU64,
}

/// One caller's handle on a flight: await it for the shared result.
pub(crate) struct Flight<T: Clone> {
    shared: Shared<BoxFuture<'static, T>>,
    joined: bool,
}

impl<T: Clone> Flight<T> {
    /// Whether this caller joined work another caller had started.
    pub(crate) fn joined(&self) -> bool {
        self.joined
    }
}

impl<T: Clone> Future for Flight<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.shared.poll_unpin(cx)
    }
}

/// Removes its flight's entry when the work finishes or is dropped unfinished.
struct Deregister<K: Hash + Eq, T> {
    flights: Weak<Registry<K, T>>,
    key: Option<K>,
    id: u64,
}

impl<K: Hash + Eq, T> Drop for Deregister<K, T> {
    fn drop(&mut self) {
        let (Some(flights), Some(key)) = (self.flights.upgrade(), self.key.take()) else {
            return;
        };
        let mut map = lock(&flights);
        // A later flight for the same key may already have replaced this one.
        if map.get(&key).is_some_and(|e| e.id == self.id) {
            map.remove(&key);
        }
    }
}

fn lock<K, T>(flights: &Registry<K, T>) -> MutexGuard<'_, HashMap<K, Entry<T>>> {
    // The map is consistent after every statement, so a panic elsewhere cannot leave it broken.
    flights.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<K, T> SingleFlight<K, T>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    pub(crate) fn new() -> Self {
        Self {
            flights: Arc::new(Mutex::new(HashMap::new())),
            next_id: AtomicU64::new(0),
        }
    }

    /// Joins the flight for `key` if one is running, else starts `work()`. Whatever a flight
    /// costs (a rate-limit cell) is spent inside `work`, so joining costs nothing.
    pub(crate) fn join_or_start<F>(&self, key: &K, work: impl FnOnce() -> F) -> Flight<T>
    where
        F: Future<Output = T> + Send + 'static,
    {
        let mut map = lock(&self.flights);
        if let Some(shared) = map.get(key).and_then(|e| e.flight.upgrade()) {
            return Flight {
                shared,
                joined: true,
            };
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let guard = Deregister {
            flights: Arc::downgrade(&self.flights),
            key: Some(key.clone()),
            id,
        };
        // A combinator, not an async block: a block would hold `work` twice (its capture and
        // the awaited copy). The guard goes with the closure: when the work finishes, or when
        // the last caller drops it unfinished.
        let shared = work()
            .map(move |out| {
                drop(guard);
                out
            })
            .boxed()
            .shared();
        if let Some(flight) = shared.downgrade() {
            map.insert(key.clone(), Entry { id, flight });
        }
        Flight {
            shared,
            joined: false,
        }
    }

    /// How many flights are registered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.flights).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use tokio::sync::Notify;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn twenty_concurrent_callers_share_one_run() {
        let flights = Arc::new(SingleFlight::<String, u32>::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(Notify::new());
        let mut tasks = Vec::new();
        let mut joined = 0;
        for _ in 0..20 {
            let (runs, release) = (runs.clone(), release.clone());
            let flight = flights.join_or_start(&"alice".to_owned(), move || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                release.notified().await;
                7
            });
            joined += usize::from(flight.joined());
            tasks.push(tokio::spawn(flight));
        }
        assert_eq!(joined, 19);
        tokio::task::yield_now().await;
        release.notify_one();
        for task in tasks {
            assert_eq!(task.await.unwrap(), 7);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(flights.len(), 0, "finished flights are deregistered");
    }

    #[tokio::test]
    async fn different_keys_run_separately() {
        let flights = SingleFlight::<u8, u8>::new();
        let a = flights.join_or_start(&1, || async { 1 });
        let b = flights.join_or_start(&2, || async { 2 });
        assert!(!a.joined() && !b.joined());
        assert_eq!((a.await, b.await), (1, 2));
    }

    #[tokio::test]
    async fn a_finished_flight_is_not_reused() {
        let flights = SingleFlight::<u8, usize>::new();
        let runs = Arc::new(AtomicUsize::new(0));
        for expected in 1..=3 {
            let runs = runs.clone();
            let first = flights.join_or_start(&0, move || async move {
                runs.fetch_add(1, Ordering::SeqCst) + 1
            });
            // Hold a clone of the finished flight while asking again.
            let value = first.shared.clone().await;
            assert_eq!(value, expected);
            let again = flights.join_or_start(&0, || async { 0 });
            assert!(!again.joined(), "a finished flight must not be joined");
            assert_eq!(again.await, 0);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn followers_finish_the_work_when_the_leader_is_cancelled() {
        let flights = Arc::new(SingleFlight::<u8, &'static str>::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(Notify::new());
        let release = Arc::new(Notify::new());
        let work = {
            let (runs, started, release) = (runs.clone(), started.clone(), release.clone());
            move || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                started.notify_one();
                release.notified().await;
                "minted"
            }
        };
        let leader = flights.join_or_start(&9, work);
        let leader = tokio::spawn(leader);
        started.notified().await;
        let followers: Vec<_> = (0..5)
            .map(|_| {
                let f = flights.join_or_start(&9, || async { "second run" });
                assert!(f.joined());
                tokio::spawn(f)
            })
            .collect();
        leader.abort();
        assert!(leader.await.unwrap_err().is_cancelled());
        release.notify_one();
        for f in followers {
            assert_eq!(f.await.unwrap(), "minted");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test]
    async fn work_abandoned_by_every_caller_is_dropped_and_restarted() {
        let flights = SingleFlight::<u8, u8>::new();
        let abandoned = flights.join_or_start(&1, std::future::pending::<u8>);
        assert_eq!(flights.len(), 1);
        drop(abandoned);
        assert_eq!(flights.len(), 0, "the guard deregisters dropped work");
        let fresh = flights.join_or_start(&1, || async { 5 });
        assert!(!fresh.joined());
        assert_eq!(fresh.await, 5);
    }
}
