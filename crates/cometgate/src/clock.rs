//! Wall-clock time for the token lifecycle: when a token was minted, confirmed and expires.
//!
//! The gate reads time through a [`Clock`] so that tests (yours too) can move time forward
//! instead of waiting: [`ManualClock`]. Production uses [`SystemClock`].

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time in whole seconds since the Unix epoch.
pub trait Clock: Send + Sync + 'static {
    /// Seconds since 1970-01-01T00:00:00Z.
    fn unix_seconds(&self) -> u64;

    /// Milliseconds since 1970-01-01T00:00:00Z (by default the seconds, times 1000). User
    /// events are ordered in milliseconds, as providers date them.
    fn unix_millis(&self) -> u64 {
        self.unix_seconds().saturating_mul(1000)
    }
}

/// The system's wall clock (the default).
///
/// ```
/// use cometgate::clock::{Clock, SystemClock};
///
/// assert!(SystemClock.unix_seconds() > 1_700_000_000);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_seconds(&self) -> u64 {
        // A clock set before 1970 reads as 1970: tokens then look young, never expired early.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn unix_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A clock that moves only when told to: for tests of expiry and rechecks. Clones share the
/// same time.
///
/// ```
/// use std::time::Duration;
/// use cometgate::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::at(1_700_000_000);
/// let shared = clock.clone();
/// clock.advance(Duration::from_secs(90));
/// assert_eq!(shared.unix_seconds(), 1_700_000_090);
/// ```
#[derive(Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock that reads `unix_seconds` until advanced.
    pub fn at(unix_seconds: u64) -> Self {
        Self(Arc::new(AtomicU64::new(unix_seconds)))
    }

    /// A clock that starts at the system's current time.
    pub fn starting_now() -> Self {
        Self::at(SystemClock.unix_seconds())
    }

    /// Moves the time forward by `by` (whole seconds; the fraction is dropped; saturates).
    pub fn advance(&self, by: Duration) {
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(by.as_secs()))
            });
    }
}

impl Clock for ManualClock {
    fn unix_seconds(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock")
            .field(&self.unix_seconds())
            .finish()
    }
}
