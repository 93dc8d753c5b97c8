//! CometChat's per-minute rate limits: the `X-RateLimit-*` headers on every answer, and the
//! optional limit after which the fake answers 429.
//!
//! The real server counts "core" operations against 10,000 a minute and the rest against
//! 20,000 (`X-RateLimit-Limit` / `-Remaining`), and all of them against 100,000 for the app
//! (`-For-App`). A limit set with
//! [`rate_limit_per_minute`](crate::FakeBuilder::rate_limit_per_minute) is the app's limit: it
//! replaces the 100,000, and no category may report more room than the app has left, so a client
//! that follows the headers stays under it.

use std::time::{Duration, Instant};

use http::HeaderMap;
use http::HeaderValue;

const CORE_LIMIT_PER_MINUTE: u64 = 10_000;
const STANDARD_LIMIT_PER_MINUTE: u64 = 20_000;
const APP_LIMIT_PER_MINUTE: u64 = 100_000;
const WINDOW: Duration = Duration::from_secs(60);

/// A fixed one-minute window counting requests.
#[derive(Debug)]
pub(crate) struct Window {
    /// The configured limit; without one the fake never answers 429 on its own.
    limit: Option<u64>,
    started: Option<Instant>,
    core: u64,
    standard: u64,
}

/// The limits and what is left of them after one request, as the headers report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    pub limit: u64,
    pub remaining: u64,
    pub app_limit: u64,
    pub app_remaining: u64,
}

impl Usage {
    /// Sets the four `X-RateLimit-*` headers.
    pub fn write(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert(
            "x-ratelimit-limit-for-app",
            HeaderValue::from(self.app_limit),
        );
        headers.insert(
            "x-ratelimit-remaining-for-app",
            HeaderValue::from(self.app_remaining),
        );
    }
}

impl Window {
    /// A window for an app limited to `limit` requests a minute; without one, the headers
    /// report CometChat's 100,000 and no request is refused.
    pub fn new(limit: Option<u64>) -> Self {
        Self {
            limit,
            started: None,
            core: 0,
            standard: 0,
        }
    }

    /// Counts one answered request (a "core" operation or not) and reports the usage after it.
    pub fn count(&mut self, core: bool) -> Usage {
        self.roll();
        let (category_limit, used) = if core {
            self.core += 1;
            (CORE_LIMIT_PER_MINUTE, self.core)
        } else {
            self.standard += 1;
            (STANDARD_LIMIT_PER_MINUTE, self.standard)
        };
        let app_limit = self.app_limit();
        let app_remaining = app_limit.saturating_sub(self.total());
        Usage {
            limit: category_limit.min(app_limit),
            remaining: category_limit.saturating_sub(used).min(app_remaining),
            app_limit,
            app_remaining,
        }
    }

    /// Whole seconds until the window ends, when the app has used its configured limit: the
    /// request must be answered 429 with this `Retry-After`. Counts nothing.
    pub fn exhausted(&mut self) -> Option<u64> {
        let limit = self.limit?;
        self.roll();
        (self.total() >= limit).then(|| self.reset_in())
    }

    fn app_limit(&self) -> u64 {
        self.limit.unwrap_or(APP_LIMIT_PER_MINUTE)
    }

    fn total(&self) -> u64 {
        self.core + self.standard
    }

    /// Starts a new window when the current one is a minute old.
    fn roll(&mut self) {
        let now = Instant::now();
        let started = *self.started.get_or_insert(now);
        if now.duration_since(started) >= WINDOW {
            *self = Window {
                started: Some(now),
                ..Window::new(self.limit)
            };
        }
    }

    /// Whole seconds until the current window ends (at least 1).
    fn reset_in(&self) -> u64 {
        let elapsed = self.started.map_or(0, |s| s.elapsed().as_secs());
        WINDOW.as_secs().saturating_sub(elapsed).max(1)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn cometchat_s_own_limits_without_a_configured_one() {
        let mut window = Window::new(None);
        assert_eq!(
            window.count(true),
            Usage {
                limit: 10_000,
                remaining: 9_999,
                app_limit: 100_000,
                app_remaining: 99_999
            }
        );
        let standard = window.count(false);
        assert_eq!((standard.limit, standard.remaining), (20_000, 19_999));
        assert_eq!(standard.app_remaining, 99_998);
        assert_eq!(window.exhausted(), None);
    }

    #[test]
    fn looking_up_the_limit_counts_no_request() {
        let mut window = Window::new(Some(3));
        window.count(false);
        window.count(false);
        assert_eq!(window.exhausted(), None);
        assert_eq!(window.exhausted(), None, "exhausted must not count");
        assert_eq!(window.count(false).app_remaining, 0);
        let reset = window.exhausted().unwrap();
        assert!((1..=60).contains(&reset));
    }

    #[test]
    fn a_minute_old_window_starts_afresh() {
        let mut window = Window::new(Some(1));
        window.count(true);
        assert!(window.exhausted().is_some());
        window.started = Some(Instant::now() - Duration::from_secs(61));
        assert_eq!(window.exhausted(), None);
        assert_eq!(window.count(true).app_remaining, 0);
        window.started = Some(Instant::now() - Duration::from_secs(61));
        window.roll();
        assert_eq!(window.reset_in(), 60);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// A client that stops when any remaining count reaches 0 never meets the limit's 429,
        /// and the counts go down by one per request.
        #[test]
        fn the_headers_never_promise_more_than_the_limit(
            limit in prop::option::of(1u64..50),
            kinds in prop::collection::vec(any::<bool>(), 1..80),
        ) {
            let mut window = Window::new(limit);
            let app_limit = limit.unwrap_or(APP_LIMIT_PER_MINUTE);
            for (i, core) in kinds.iter().enumerate() {
                let answered_429 = window.exhausted().is_some();
                prop_assert_eq!(answered_429, limit.is_some_and(|l| i as u64 >= l));
                let usage = window.count(*core);
                prop_assert_eq!(usage.app_limit, app_limit);
                prop_assert_eq!(usage.app_remaining, app_limit.saturating_sub(i as u64 + 1));
                prop_assert!(usage.remaining <= usage.app_remaining);
                prop_assert!(usage.remaining < usage.limit);
                prop_assert!(usage.limit <= app_limit);
            }
        }
    }
}
