//! Wall-clock time in unix seconds, as CometChat stamps users and tokens.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in whole unix seconds (0 on a clock set before 1970).
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .unwrap_or(0)
}
