//! Rate limits, on [`governor`]: one per user, and one budget for all calls to CometChat.
//!
//! * **Per user** (keyed by [`Uid`]): a user may start a new token mint `burst` times at once,
//!   then once per `period / rate`. The default, [`RateLimit::PER_USER_DEFAULT`], is a burst of 5
//!   then 10 per minute: apps mint once per sign-in, so a client that asks more often is broken
//!   or hostile. Exceeding it answers `429` with `Retry-After` from governor's
//!   [`NotUntil`](governor::NotUntil).
//! * **Upstream budget** (one for the process): every call cometgate makes to CometChat (a mint,
//!   a user creation) takes one cell. The default, [`RateLimit::UPSTREAM_DEFAULT`], is 1,000 per
//!   minute with a burst of 100, so at most 1,100 calls in any minute: a tenth of CometChat's
//!   documented limit for "core" operations (10,000 per minute per app), which leaves room for
//!   the app's other CometChat traffic and for retries (which the client makes within one call
//!   and are not counted). Spent budget answers `503` with `Retry-After`.
//!
//! Memory stays bounded: keys whose cells have all refilled carry no information and are
//! dropped (`retain_recent` + `shrink_to_fit`) at most once per [`CLEANUP_INTERVAL`], on the
//! calls themselves, so no background task outlives the gate.
//!
//! ```
//! use cometgate::vend::RateLimit;
//!
//! let limit = RateLimit::per_minute(10).with_burst(5);
//! assert_eq!(limit, RateLimit::PER_USER_DEFAULT);
//! assert!(RateLimit::per_second(0).validate().is_err());
//! ```

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};

use crate::store::{LimitKey, LimitStore, StoreBackend, StoreError};
use crate::telemetry;
use crate::uid::Uid;

/// How often idle per-user entries are swept.
pub const CLEANUP_INTERVAL: Duration = Duration::from_secs(60);

/// A rate: `rate` cells per `period`, of which up to `burst` may be used at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    rate: u32,
    period: Duration,
    burst: u32,
    unlimited: bool,
}

/// Why a [`RateLimit`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateLimitError {
    /// The rate, the burst or the period is zero.
    #[error(
        "a rate limit needs a rate, a burst and a period above zero (got {rate} per {period:?}, burst {burst}); use RateLimit::unlimited() to switch a limit off"
    )]
    Zero {
        /// The rate given.
        rate: u32,
        /// The period given.
        period: Duration,
        /// The burst given.
        burst: u32,
    },
    /// A limit written as text (an environment variable) is not `<n>/<s|min|h>[,burst=<b>]`
    /// or `off`.
    #[error(
        "expected `<n>/<s|min|h>` with an optional `,burst=<b>`, or `off` (e.g. `10/min,burst=5`); got {got:?}: {problem}"
    )]
    Malformed {
        /// The text given (at most 60 characters of it).
        got: String,
        /// What is wrong with it.
        problem: &'static str,
    },
}

impl RateLimit {
    /// The per-user default: a burst of 5, then 10 per minute.
    pub const PER_USER_DEFAULT: RateLimit = RateLimit::per_minute(10).with_burst(5);

    /// The upstream default: 1,000 per minute with a burst of 100 (see the
    /// [module documentation](self) for why).
    pub const UPSTREAM_DEFAULT: RateLimit = RateLimit::per_minute(1_000).with_burst(100);

    /// `rate` per `period`, with a burst of `rate`.
    pub const fn new(rate: u32, period: Duration) -> Self {
        Self {
            rate,
            period,
            burst: rate,
            unlimited: false,
        }
    }

    /// `rate` per second, with a burst of `rate`.
    pub const fn per_second(rate: u32) -> Self {
        Self::new(rate, Duration::from_secs(1))
    }

    /// `rate` per minute, with a burst of `rate`.
    pub const fn per_minute(rate: u32) -> Self {
        Self::new(rate, Duration::from_secs(60))
    }

    /// No limit at all (for benchmarks, or when a proxy in front already limits).
    pub const fn unlimited() -> Self {
        Self {
            rate: u32::MAX,
            period: Duration::from_secs(1),
            burst: u32::MAX,
            unlimited: true,
        }
    }

    /// Sets how many cells may be used at once.
    #[must_use]
    pub const fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst;
        self
    }

    /// Whether this is [`RateLimit::unlimited`].
    pub const fn is_unlimited(&self) -> bool {
        self.unlimited
    }

    /// How many cells may be used at once.
    pub const fn burst(&self) -> u32 {
        self.burst
    }

    /// How long one cell takes to refill (`period / rate`): the emission interval of GCRA, for
    /// a [`LimitStore`] that keeps the cells itself. `None` when unlimited or zero.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cometgate::vend::RateLimit;
    ///
    /// assert_eq!(RateLimit::PER_USER_DEFAULT.cell_interval(), Some(Duration::from_secs(6)));
    /// assert_eq!(RateLimit::unlimited().cell_interval(), None);
    /// ```
    pub fn cell_interval(&self) -> Option<Duration> {
        if self.unlimited || self.rate == 0 {
            return None;
        }
        Some(self.period / self.rate)
    }

    /// Checks that the limit can be built.
    pub fn validate(&self) -> Result<(), RateLimitError> {
        self.quota().map(drop)
    }

    /// The governor quota, or `None` when unlimited.
    fn quota(&self) -> Result<Option<Quota>, RateLimitError> {
        if self.unlimited {
            return Ok(None);
        }
        let zero = RateLimitError::Zero {
            rate: self.rate,
            period: self.period,
            burst: self.burst,
        };
        let (Some(rate), Some(burst)) = (NonZeroU32::new(self.rate), NonZeroU32::new(self.burst))
        else {
            return Err(zero);
        };
        // One cell refills every period / rate.
        let interval = self.period / rate.get();
        Quota::with_period(interval)
            .map(|q| Some(q.allow_burst(burst)))
            .ok_or(zero)
    }
}

/// Reads a limit as operators write it: `<n>/<s|min|h>` with an optional `,burst=<b>`
/// (burst defaults to `n`), or `off` for no limit. The parsed limit is validated (no zeros).
///
/// ```
/// use std::time::Duration;
/// use cometgate::vend::RateLimit;
///
/// assert_eq!("9000/min,burst=500".parse(), Ok(RateLimit::per_minute(9000).with_burst(500)));
/// assert_eq!("10/s".parse(), Ok(RateLimit::per_second(10)));
/// assert_eq!("3600/h".parse(), Ok(RateLimit::new(3600, Duration::from_secs(3600))));
/// assert_eq!("off".parse(), Ok(RateLimit::unlimited()));
/// assert!("10/week".parse::<RateLimit>().is_err());
/// assert!("0/min".parse::<RateLimit>().is_err());
/// ```
impl std::str::FromStr for RateLimit {
    type Err = RateLimitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = |problem| RateLimitError::Malformed {
            got: text.chars().take(60).collect(),
            problem,
        };
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(Self::unlimited());
        }
        let (rate, burst) = match text.split_once(',') {
            Some((rate, burst)) => {
                let burst = burst
                    .trim()
                    .strip_prefix("burst=")
                    .ok_or(malformed("after `,` only `burst=<b>` is allowed"))?;
                (rate, Some(burst))
            }
            None => (text, None),
        };
        let (count, unit) = rate
            .split_once('/')
            .ok_or(malformed("the rate needs a `/` and a unit"))?;
        let count: u32 = parse_count(count).ok_or(malformed("the rate is not a whole number"))?;
        let period = match unit.trim() {
            "s" => Duration::from_secs(1),
            "min" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(malformed("the unit must be `s`, `min` or `h`")),
        };
        let mut limit = Self::new(count, period);
        if let Some(burst) = burst {
            limit = limit.with_burst(
                parse_count(burst).ok_or(malformed("the burst is not a whole number"))?,
            );
        }
        limit.validate()?;
        Ok(limit)
    }
}

/// Digits only (no sign, no spaces inside), within `u32`.
fn parse_count(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The per-user limiter: a keyed governor limiter with amortized cleanup.
pub(crate) struct UserLimiter {
    limiter: Option<DefaultKeyedRateLimiter<Uid>>,
    clock: DefaultClock,
    last_cleanup: Mutex<Instant>,
}

impl UserLimiter {
    pub(crate) fn new(limit: RateLimit) -> Result<Self, RateLimitError> {
        Ok(Self {
            limiter: limit.quota()?.map(DefaultKeyedRateLimiter::keyed),
            clock: DefaultClock::default(),
            last_cleanup: Mutex::new(Instant::now()),
        })
    }

    /// Takes one cell for `uid`, or says how long until one is free. Cheap: safe to call
    /// under a lock.
    pub(crate) fn check(&self, uid: &Uid) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter
            .check_key(uid)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// At most once per [`CLEANUP_INTERVAL`], forgets users whose cells have all refilled.
    /// Walks every key when it runs, so callers should not hold other locks.
    pub(crate) fn housekeeping(&self) {
        let Some(limiter) = &self.limiter else {
            return;
        };
        // `try_lock`: if another caller is sweeping right now, this one need not wait.
        let Ok(mut last) = self.last_cleanup.try_lock() else {
            return;
        };
        if last.elapsed() < CLEANUP_INTERVAL {
            return;
        }
        *last = Instant::now();
        drop(last);
        limiter.retain_recent();
        limiter.shrink_to_fit();
    }

    /// How many users the limiter currently remembers.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| l.len())
    }

    /// Forces the next check to sweep (tests).
    #[cfg(test)]
    pub(crate) fn expire_cleanup_timer(&self) {
        if let Ok(mut last) = self.last_cleanup.lock() {
            *last = Instant::now()
                .checked_sub(CLEANUP_INTERVAL)
                .unwrap_or(*last);
        }
    }
}

/// The app-wide budget of CometChat calls.
pub(crate) struct UpstreamBudget {
    limiter: Option<DefaultDirectRateLimiter>,
    clock: DefaultClock,
}

impl UpstreamBudget {
    pub(crate) fn new(limit: RateLimit) -> Result<Self, RateLimitError> {
        Ok(Self {
            limiter: limit.quota()?.map(DefaultDirectRateLimiter::direct),
            clock: DefaultClock::default(),
        })
    }

    /// Takes one cell, or says how long until one is free.
    pub(crate) fn check(&self) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter
            .check()
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// The embedded [`LimitStore`]: governor limiters in the process, built by the gate from its
/// limits (so the `limit` of each call is the one they were built with).
pub(crate) struct MemoryLimits {
    mints: UserLimiter,
    revokes: UserLimiter,
    budget: UpstreamBudget,
}

impl MemoryLimits {
    pub(crate) fn new(per_user: RateLimit, upstream: RateLimit) -> Result<Self, LimitsError> {
        Ok(Self {
            mints: UserLimiter::new(per_user).map_err(LimitsError::PerUser)?,
            revokes: UserLimiter::new(per_user).map_err(LimitsError::PerUser)?,
            budget: UpstreamBudget::new(upstream).map_err(LimitsError::Upstream)?,
        })
    }

    fn take_now(&self, key: LimitKey<'_>) -> Result<(), Duration> {
        match key {
            LimitKey::Upstream => self.budget.check(),
            LimitKey::Mint(uid) => {
                self.mints.housekeeping();
                self.mints.check(uid)
            }
            LimitKey::RevokeAll(uid) => {
                self.revokes.housekeeping();
                self.revokes.check(uid)
            }
        }
    }
}

impl std::fmt::Debug for MemoryLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLimits").finish_non_exhaustive()
    }
}

#[async_trait]
impl LimitStore for MemoryLimits {
    async fn take(
        &self,
        key: LimitKey<'_>,
        _limit: RateLimit,
    ) -> Result<Result<(), Duration>, StoreError> {
        Ok(self.take_now(key))
    }

    fn backend(&self) -> StoreBackend {
        StoreBackend::Memory
    }
}

/// Which of the gate's limits cannot be built.
#[derive(Debug)]
pub(crate) enum LimitsError {
    PerUser(RateLimitError),
    Upstream(RateLimitError),
}

/// The gate's limits and where their cells live.
pub(crate) struct Limits {
    store: Arc<dyn LimitStore>,
    per_user: RateLimit,
    upstream: RateLimit,
}

impl Limits {
    pub(crate) fn new(
        store: Arc<dyn LimitStore>,
        per_user: RateLimit,
        upstream: RateLimit,
    ) -> Self {
        Self {
            store,
            per_user,
            upstream,
        }
    }

    /// Takes one cell under `key`, else the caller's error for the refusal: `limited(wait)`
    /// when none is free for `wait`, `failed(error)` when the store failed.
    pub(crate) async fn take_or<E>(
        &self,
        key: LimitKey<'_>,
        limited: impl FnOnce(Duration) -> E,
        failed: impl FnOnce(StoreError) -> E,
    ) -> Result<(), E> {
        match self.take(key).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(wait)) => Err(limited(wait)),
            Err(error) => Err(failed(error)),
        }
    }

    /// Takes one cell under `key`: `Ok(Err(wait))` when none is free. An unlimited limit asks
    /// no store.
    async fn take(&self, key: LimitKey<'_>) -> Result<Result<(), Duration>, StoreError> {
        let limit = match key {
            LimitKey::Upstream => self.upstream,
            LimitKey::Mint(_) | LimitKey::RevokeAll(_) => self.per_user,
        };
        if limit.is_unlimited() {
            return Ok(Ok(()));
        }
        let taken = self.store.take(key, limit).await;
        if taken.is_err() {
            telemetry::store_error(self.store.backend());
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Whatever an operator writes, parsing never panics, and the limits that parse are
        /// valid ones.
        #[test]
        fn any_text_parses_or_fails_cleanly(text in "\\PC{0,40}") {
            if let Ok(limit) = text.parse::<RateLimit>() {
                proptest::prop_assert!(limit.validate().is_ok());
            }
        }

        /// Every well-formed value reads back as the limit it spells.
        #[test]
        fn written_limits_read_back(n in 1u32..1_000_000, b in proptest::option::of(1u32..100_000), unit in 0usize..3) {
            let (word, period) = [("s", 1), ("min", 60), ("h", 3600)][unit];
            let text = match b {
                Some(b) => format!("{n}/{word},burst={b}"),
                None => format!("{n}/{word}"),
            };
            let want = RateLimit::new(n, Duration::from_secs(period)).with_burst(b.unwrap_or(n));
            proptest::prop_assert_eq!(text.parse::<RateLimit>(), Ok(want));
        }
    }

    #[test]
    fn malformed_limits_say_what_is_wrong() {
        for (text, problem) in [
            ("10", "the rate needs a `/` and a unit"),
            ("10/week", "the unit must be `s`, `min` or `h`"),
            ("ten/min", "the rate is not a whole number"),
            ("-1/min", "the rate is not a whole number"),
            ("10/min,bust=3", "after `,` only `burst=<b>` is allowed"),
            ("10/min,burst=x", "the burst is not a whole number"),
            ("99999999999/min", "the rate is not a whole number"),
        ] {
            match text.parse::<RateLimit>() {
                Err(RateLimitError::Malformed { problem: p, .. }) => {
                    assert_eq!(p, problem, "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(
            "0/min".parse::<RateLimit>(),
            Err(RateLimitError::Zero { .. })
        ));
        assert!(matches!(
            "10/min,burst=0".parse::<RateLimit>(),
            Err(RateLimitError::Zero { .. })
        ));
    }
    use crate::vend::problem::retry_after_secs;

    fn uid(s: &str) -> Uid {
        Uid::parse(s).unwrap()
    }

    #[test]
    fn burst_then_limited_with_a_positive_wait() {
        let limiter = UserLimiter::new(RateLimit::PER_USER_DEFAULT).unwrap();
        let alice = uid("alice");
        for i in 0..5 {
            assert_eq!(
                limiter.check(&alice),
                Ok(()),
                "request {i} is within the burst"
            );
        }
        let wait = limiter.check(&alice).unwrap_err();
        // 10 per minute: one cell every 6 s.
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(6),
            "{wait:?}"
        );
        let secs = retry_after_secs(wait);
        assert!((1..=6).contains(&secs), "{secs}");
    }

    #[test]
    fn one_users_burst_never_limits_another() {
        let limiter = UserLimiter::new(RateLimit::per_minute(10).with_burst(3)).unwrap();
        let mallory = uid("mallory");
        for _ in 0..50 {
            let _ = limiter.check(&mallory);
        }
        assert!(limiter.check(&mallory).is_err());
        for name in ["alice", "bob", "carol"] {
            for _ in 0..3 {
                assert_eq!(limiter.check(&uid(name)), Ok(()), "{name}");
            }
        }
    }

    #[test]
    fn unlimited_never_limits_and_remembers_nothing() {
        let limiter = UserLimiter::new(RateLimit::unlimited()).unwrap();
        for _ in 0..10_000 {
            assert_eq!(limiter.check(&uid("alice")), Ok(()));
        }
        assert_eq!(limiter.len(), 0);
        let budget = UpstreamBudget::new(RateLimit::unlimited()).unwrap();
        assert!((0..10_000).all(|_| budget.check().is_ok()));
    }

    #[test]
    fn idle_users_are_swept() {
        // Cells refill every millisecond, so after a short pause every key is idle.
        let limiter = UserLimiter::new(RateLimit::per_second(1_000).with_burst(1)).unwrap();
        for i in 0..500 {
            assert_eq!(limiter.check(&uid(&format!("u{i}"))), Ok(()));
        }
        assert_eq!(limiter.len(), 500);
        std::thread::sleep(Duration::from_millis(20));
        limiter.housekeeping();
        assert_eq!(
            limiter.len(),
            500,
            "not yet: the sweep runs once per interval"
        );
        limiter.expire_cleanup_timer();
        limiter.housekeeping();
        assert_eq!(limiter.len(), 0, "every key had refilled");
    }

    #[test]
    fn budget_runs_out_and_names_a_wait() {
        let budget = UpstreamBudget::new(RateLimit::per_minute(60).with_burst(2)).unwrap();
        assert!(budget.check().is_ok());
        assert!(budget.check().is_ok());
        let wait = budget.check().unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
    }

    #[test]
    fn zero_limits_are_refused_with_a_clear_error() {
        for bad in [
            RateLimit::per_minute(0),
            RateLimit::per_minute(5).with_burst(0),
            RateLimit::new(5, Duration::ZERO),
        ] {
            let err = bad.validate().unwrap_err();
            assert!(err.to_string().contains("unlimited()"), "{err}");
            assert!(UserLimiter::new(bad).is_err());
        }
        assert!(RateLimit::UPSTREAM_DEFAULT.validate().is_ok());
    }
}
