//! CometChat's `429` window: after one, every call through the same client fails fast, without
//! a request, until the `Retry-After` it named has passed.
//!
//! CometChat's rate limits count per app and key, not per user, so a `429` for one user's mint
//! says that everyone's next call would be refused too: calling anyway only spends the limit
//! again and lengthens the outage.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::retry;

/// The window a `429` opens when its `Retry-After` is missing or unreadable.
pub const DEFAULT_RATE_LIMIT_WINDOW: Duration = Duration::from_secs(1);

/// The longest window a `429` opens, whatever its `Retry-After` says: a wrong or hostile header
/// must not stop an app for hours.
pub const MAX_RATE_LIMIT_WINDOW: Duration = Duration::from_secs(60);

/// The window a `429` with this `Retry-After` (in seconds, if readable) opens.
pub(crate) fn window(retry_after: Option<Duration>) -> Duration {
    retry_after
        .unwrap_or(DEFAULT_RATE_LIMIT_WINDOW)
        .min(MAX_RATE_LIMIT_WINDOW)
}

/// Until when calls fail fast; shared by every clone of a client.
#[derive(Debug, Default)]
pub(crate) struct Cooldown {
    until: Mutex<Option<Instant>>,
}

impl Cooldown {
    /// The rest of the window at `now`, or `None` when calls may go out.
    pub(crate) fn remaining(&self, now: Instant) -> Option<Duration> {
        // A poisoned lock only means a panic elsewhere while it was held; the instant inside is
        // still meaningful.
        let until = *self.until.lock().unwrap_or_else(PoisonError::into_inner);
        until
            .map(|until| until.saturating_duration_since(now))
            .filter(|left| !left.is_zero())
    }

    /// Opens (or extends, never shortens) the window to `now + window`.
    pub(crate) fn open(&self, now: Instant, window: Duration) {
        let end = retry::saturating_add(now, window);
        let mut until = self.until.lock().unwrap_or_else(PoisonError::into_inner);
        if until.is_none_or(|current| current < end) {
            *until = Some(end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_clamped_and_default_to_a_second() {
        assert_eq!(window(None), Duration::from_secs(1));
        assert_eq!(window(Some(Duration::ZERO)), Duration::ZERO);
        assert_eq!(window(Some(Duration::from_secs(7))), Duration::from_secs(7));
        assert_eq!(window(Some(Duration::MAX)), Duration::from_secs(60));
    }

    #[test]
    fn a_window_counts_down_and_is_only_ever_extended() {
        let cooldown = Cooldown::default();
        let t0 = Instant::now();
        assert_eq!(cooldown.remaining(t0), None);
        cooldown.open(t0, Duration::from_secs(5));
        assert_eq!(cooldown.remaining(t0), Some(Duration::from_secs(5)));
        let t2 = t0 + Duration::from_secs(2);
        assert_eq!(cooldown.remaining(t2), Some(Duration::from_secs(3)));
        // A shorter window from a later 429 does not cut the current one.
        cooldown.open(t2, Duration::from_secs(1));
        assert_eq!(cooldown.remaining(t2), Some(Duration::from_secs(3)));
        cooldown.open(t2, Duration::from_secs(10));
        assert_eq!(cooldown.remaining(t2), Some(Duration::from_secs(10)));
        assert_eq!(cooldown.remaining(t2 + Duration::from_secs(10)), None);
        // A zero window (Retry-After: 0) opens nothing.
        let fresh = Cooldown::default();
        fresh.open(t0, Duration::ZERO);
        assert_eq!(fresh.remaining(t0), None);
    }
}
