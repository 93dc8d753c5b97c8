//! [`LimitStore`] on Redis: the per-user limits and the app-wide upstream budget as GCRA cells
//! shared by every replica, one script call ([`scripts::TAKE_CELL`]) per cell taken. The
//! script reads Redis's clock, not the replica's, so replicas whose clocks disagree still share
//! one limit; a key holds one number (a time) and expires once all its cells are free again.

use std::time::Duration;

use async_trait::async_trait;
use cometgate::store::{LimitKey, LimitStore, StoreBackend, StoreError};
use cometgate::vend::RateLimit;

use crate::{RedisStore, scripts};

/// Above this many µs (about 142 years) times lose precision in Lua's doubles; a longer
/// interval or tolerance is as good as infinite.
const MAX_MICROS: u128 = 1 << 52;

/// The script's arguments for `limit`: the emission interval `T` and the tolerance
/// `T * (burst - 1)`, in µs. `T` is rounded to the µs (at least 1: a rate above a million per
/// second is taken as a million). `None` for an unlimited limit (the gate never asks).
fn gcra(limit: RateLimit) -> Option<(u64, u64)> {
    let interval = limit.cell_interval()?.as_micros().clamp(1, MAX_MICROS);
    let tolerance = (interval * u128::from(limit.burst().saturating_sub(1))).min(MAX_MICROS);
    // Both at most 2^52, so they fit.
    Some((interval as u64, tolerance as u64))
}

#[async_trait]
impl LimitStore for RedisStore {
    async fn take(
        &self,
        key: LimitKey<'_>,
        limit: RateLimit,
    ) -> Result<Result<(), Duration>, StoreError> {
        let Some((interval, tolerance)) = gcra(limit) else {
            return Ok(Ok(())); // unlimited: nothing to keep
        };
        let mut invocation = scripts::TAKE_CELL.prepare_invoke();
        invocation
            .key(self.inner.layout.limit(key))
            .arg(interval)
            .arg(tolerance);
        let mut pipe = redis::pipe();
        pipe.invoke_script(&invocation);
        let (wait,): (u64,) = self.query("limit take", &pipe).await?;
        Ok(match wait {
            0 => Ok(()),
            micros => Err(Duration::from_micros(micros)),
        })
    }

    fn backend(&self) -> StoreBackend {
        StoreBackend::Redis
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_arguments_follow_the_rate_and_the_burst() {
        let per_user = RateLimit::per_minute(10).with_burst(5);
        assert_eq!(gcra(per_user), Some((6_000_000, 24_000_000)));
        assert_eq!(
            gcra(RateLimit::per_second(4).with_burst(1)),
            Some((250_000, 0))
        );
        assert_eq!(gcra(RateLimit::unlimited()), None);
        let fast = RateLimit::new(10, Duration::from_nanos(10));
        assert_eq!(gcra(fast).map(|(t, _)| t), Some(1), "at least 1 µs");
        let slow = RateLimit::new(1, Duration::from_secs(u64::MAX)).with_burst(u32::MAX);
        let (t, tolerance) = gcra(slow).unwrap();
        assert!(t <= 1 << 52 && tolerance <= 1 << 52);
    }
}
