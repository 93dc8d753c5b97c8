//! When and how long to wait before trying CometChat again.
//!
//! Transport errors, timeouts and `5xx` answers are retried with exponential backoff — by default
//! after 1 s, 2 s and 4 s, each stretched by up to 25 % random jitter, so at most 4 attempts.
//! A `503` with a `Retry-After` waits max(backoff, `Retry-After`). `4xx` answers are **never**
//! retried (`429` included: it opens the client's rate-limit window, see
//! [`Client`](crate::client::Client)). An overall deadline caps the whole operation, retries
//! included: a wait that would end past the deadline is not started, and an attempt in flight
//! is cut at the deadline.
//!
//! Durations are clamped to [`RetryPolicy::MAX_DURATION`] (one hour) when the policy is built, and
//! every computation on them saturates, so no policy, however large, can panic a request.
//!
//! Time goes through a [`Timer`], so tests can run the schedule without sleeping:
//!
//! ```
//! use std::time::Duration;
//! use cometgate::retry::RetryPolicy;
//!
//! let policy = RetryPolicy::default();
//! assert_eq!(policy.max_attempts(), 4);
//! assert_eq!(policy.deadline(), Duration::from_secs(15));
//!
//! let quick = RetryPolicy::builder()
//!     .initial_delay(Duration::from_millis(100))
//!     .max_retries(2)
//!     .deadline(Duration::from_secs(2))
//!     .build();
//! assert_eq!(quick.max_attempts(), 3);
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;

/// The backoff schedule and the overall deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    initial_delay: Duration,
    factor: u32,
    max_retries: u32,
    jitter: f64,
    deadline: Duration,
}

impl Default for RetryPolicy {
    /// 1 s, 2 s, 4 s (+ up to 25 % jitter), then give up; 15 s overall deadline.
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(1),
            factor: 2,
            max_retries: 3,
            jitter: 0.25,
            deadline: Duration::from_secs(15),
        }
    }
}

impl RetryPolicy {
    /// The longest initial delay, wait and deadline a policy holds; longer ones are clamped to
    /// it. No token request should wait longer, and it keeps `Instant` arithmetic far from
    /// overflow.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cometgate::retry::RetryPolicy;
    ///
    /// let policy = RetryPolicy::builder().deadline(Duration::MAX).build();
    /// assert_eq!(policy.deadline(), RetryPolicy::MAX_DURATION);
    /// ```
    pub const MAX_DURATION: Duration = Duration::from_secs(60 * 60);

    /// Starts from the default policy.
    pub fn builder() -> RetryPolicyBuilder {
        RetryPolicyBuilder {
            policy: Self::default(),
        }
    }

    /// A policy that never retries (one attempt), with the given deadline (at most
    /// [`MAX_DURATION`](Self::MAX_DURATION)).
    pub fn no_retry(deadline: Duration) -> Self {
        Self {
            max_retries: 0,
            deadline: deadline.min(Self::MAX_DURATION),
            ..Self::default()
        }
    }

    /// The number of attempts at most: the first one plus the retries.
    pub fn max_attempts(&self) -> u32 {
        self.max_retries.saturating_add(1)
    }

    /// The cap on the whole operation, retries included.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// The wait before retry number `retry` (0 for the first retry), before jitter, or `None`
    /// when no retry is left. At most [`MAX_DURATION`](Self::MAX_DURATION).
    pub fn base_delay(&self, retry: u32) -> Option<Duration> {
        (retry < self.max_retries).then(|| {
            self.initial_delay
                .saturating_mul(self.factor.saturating_pow(retry))
                .min(Self::MAX_DURATION)
        })
    }

    /// [`base_delay`](Self::base_delay) stretched by a random jitter in `[0, jitter)`.
    pub fn delay(&self, retry: u32) -> Option<Duration> {
        let base = self.base_delay(retry)?;
        let stretch = if self.jitter > 0.0 {
            rand::rng().random_range(0.0..self.jitter)
        } else {
            0.0
        };
        // `base` is at most an hour and `stretch` in [0, 1): no overflow, but checked anyway
        // (`Duration::mul_f64` panics where this saturates).
        let extra = Duration::try_from_secs_f64(base.as_secs_f64() * stretch).unwrap_or_default();
        Some(base.saturating_add(extra))
    }
}

/// Builds a [`RetryPolicy`].
#[derive(Debug, Clone)]
pub struct RetryPolicyBuilder {
    policy: RetryPolicy,
}

impl RetryPolicyBuilder {
    /// The wait before the first retry (default 1 s; at most
    /// [`RetryPolicy::MAX_DURATION`]).
    #[must_use]
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.policy.initial_delay = delay.min(RetryPolicy::MAX_DURATION);
        self
    }

    /// The growth factor between waits (default 2).
    #[must_use]
    pub fn factor(mut self, factor: u32) -> Self {
        self.policy.factor = factor.max(1);
        self
    }

    /// How many retries after the first attempt (default 3).
    #[must_use]
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.policy.max_retries = retries;
        self
    }

    /// The largest random stretch of a wait, as a fraction (default 0.25; clamped to 0..=1).
    #[must_use]
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.policy.jitter = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// The cap on the whole operation, retries included (default 15 s; at most
    /// [`RetryPolicy::MAX_DURATION`]).
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.policy.deadline = deadline.min(RetryPolicy::MAX_DURATION);
        self
    }

    /// Builds the policy.
    pub fn build(self) -> RetryPolicy {
        self.policy
    }
}

/// `now + duration`, or the latest instant within reach when that overflows (the far future,
/// as far as a deadline is concerned), instead of `Instant + Duration`'s panic.
pub(crate) fn saturating_add(now: Instant, duration: Duration) -> Instant {
    if let Some(later) = now.checked_add(duration) {
        return later;
    }
    // Halve until it fits: at most 64 steps, and never reached with clamped durations.
    let mut step = duration;
    let mut later = now;
    while !step.is_zero() {
        step /= 2;
        if let Some(t) = later.checked_add(step) {
            later = t;
        }
    }
    later
}

/// A boxed, `Send` future returned by [`Timer::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The clock the retry loop uses: where "now" is and how to wait.
///
/// [`TokioTimer`] is the real one; [`ManualTimer`] advances instantly and records the waits.
pub trait Timer: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Instant;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The real clock: `Instant::now` and `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTimer;

impl Timer for TokioTimer {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock for tests: `sleep` returns at once, moves "now" forward by the duration and records
/// it, so a retry schedule can be checked without waiting.
///
/// ```
/// use std::time::Duration;
/// use cometgate::retry::{ManualTimer, Timer};
///
/// let timer = ManualTimer::new();
/// let before = timer.now();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// timer.sleep(Duration::from_secs(4)).await;
/// # });
/// assert!(timer.now() - before >= Duration::from_secs(4));
/// assert_eq!(timer.sleeps(), vec![Duration::from_secs(4)]);
/// ```
#[derive(Clone, Default)]
pub struct ManualTimer {
    slept: Arc<Mutex<Vec<Duration>>>,
}

impl ManualTimer {
    /// A timer with nothing recorded.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every wait requested so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.slept.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn total(&self) -> Duration {
        // `Sum` panics on overflow; a test may well sleep `Duration::MAX`.
        self.sleeps()
            .iter()
            .fold(Duration::ZERO, |total, d| total.saturating_add(*d))
    }
}

impl fmt::Debug for ManualTimer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualTimer")
            .field("sleeps", &self.sleeps())
            .finish()
    }
}

impl Timer for ManualTimer {
    fn now(&self) -> Instant {
        saturating_add(Instant::now(), self.total())
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        if let Ok(mut slept) = self.slept.lock() {
            slept.push(duration);
        }
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_is_1_2_4_then_stop() {
        let p = RetryPolicy::default();
        let base: Vec<_> = (0..5).map(|r| p.base_delay(r)).collect();
        assert_eq!(
            base,
            vec![
                Some(Duration::from_secs(1)),
                Some(Duration::from_secs(2)),
                Some(Duration::from_secs(4)),
                None,
                None
            ]
        );
        for retry in 0..3 {
            for _ in 0..50 {
                let d = p.delay(retry).unwrap();
                let b = p.base_delay(retry).unwrap();
                assert!(d >= b && d < b.mul_f64(1.25), "{d:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn huge_durations_are_clamped_to_an_hour() {
        let p = RetryPolicy::builder()
            .initial_delay(Duration::MAX)
            .factor(u32::MAX)
            .jitter(1.0)
            .deadline(Duration::MAX)
            .build();
        assert_eq!(p.deadline(), RetryPolicy::MAX_DURATION);
        assert_eq!(p.base_delay(2), Some(RetryPolicy::MAX_DURATION));
        assert!(p.delay(2).unwrap() < RetryPolicy::MAX_DURATION * 2);
        assert_eq!(
            RetryPolicy::no_retry(Duration::MAX).deadline(),
            RetryPolicy::MAX_DURATION
        );
    }

    #[test]
    fn instants_saturate_instead_of_panicking() {
        let now = Instant::now();
        let far = saturating_add(now, Duration::MAX);
        assert!(far > now + Duration::from_secs(86_400 * 365));
        assert_eq!(
            saturating_add(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );

        let timer = ManualTimer::new();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            timer.sleep(Duration::MAX).await;
            timer.sleep(Duration::MAX).await;
        });
        assert!(timer.now() > now);
    }

    #[test]
    fn builder_clamps_nonsense() {
        let p = RetryPolicy::builder().factor(0).jitter(f64::NAN).build();
        assert_eq!(p.base_delay(2), Some(Duration::from_secs(1)));
        assert_eq!(p.delay(0), Some(Duration::from_secs(1)));
        let huge = RetryPolicy::builder().max_retries(u32::MAX).build();
        assert!(huge.base_delay(u32::MAX - 1).is_some()); // saturates, no overflow panic
    }
}
