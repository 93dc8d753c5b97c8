//! Where rate limits keep their cells: the per-user limits and the app-wide upstream budget.
//!
//! [`LimitStore`] is the seam. The embedded default keeps the cells in the process (governor,
//! built by the gate from its limits); `cometgate-redis` keeps them in Redis, so N replicas
//! share one budget and one limit per user instead of multiplying them by N. The gate never
//! asks a store about a limit that is [`RateLimit::unlimited`].
//!
//! ```
//! use std::time::Duration;
//! use async_trait::async_trait;
//! use cometgate::store::{LimitKey, LimitStore, StoreError};
//! use cometgate::vend::RateLimit;
//!
//! /// Refuses every cell (a test double).
//! #[derive(Debug)]
//! struct Closed;
//!
//! #[async_trait]
//! impl LimitStore for Closed {
//!     async fn take(&self, _: LimitKey<'_>, limit: RateLimit) -> Result<Result<(), Duration>, StoreError> {
//!         Ok(Err(limit.cell_interval().unwrap_or(Duration::from_secs(1))))
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let wait = Closed.take(LimitKey::Upstream, RateLimit::per_second(2)).await?.unwrap_err();
//! assert_eq!(wait, Duration::from_millis(500));
//! # Ok::<(), StoreError>(())
//! # }).unwrap();
//! ```

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::store::{StoreBackend, StoreError};
use crate::uid::Uid;
use crate::vend::RateLimit;

/// Which limit a cell is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitKey<'a> {
    /// The app-wide budget of calls to CometChat ([`GateBuilder::upstream_budget`](crate::GateBuilder::upstream_budget)).
    Upstream,
    /// A user starting a token mint ([`GateBuilder::per_user_limit`](crate::GateBuilder::per_user_limit)).
    Mint(&'a Uid),
    /// A user revoking all their tokens on the revoke route (the same limit, its own cells, so a
    /// logout is never refused because of mints).
    RevokeAll(&'a Uid),
}

impl LimitKey<'_> {
    /// The user the cells belong to, `None` for the app-wide budget.
    pub fn uid(&self) -> Option<&Uid> {
        match self {
            Self::Upstream => None,
            Self::Mint(uid) | Self::RevokeAll(uid) => Some(uid),
        }
    }

    /// A short name for the kind of limit: `upstream`, `mint`, `revoke`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Upstream => "upstream",
            Self::Mint(_) => "mint",
            Self::RevokeAll(_) => "revoke",
        }
    }
}

/// Keeps the cells of the gate's rate limits (GCRA: a cell refills every
/// [`RateLimit::cell_interval`], up to [`RateLimit::burst`] at once).
#[async_trait]
pub trait LimitStore: fmt::Debug + Send + Sync + 'static {
    /// Takes one cell of `limit` under `key`: `Ok(Ok(()))` when one was free, `Ok(Err(wait))`
    /// when none is for `wait`. `limit` is never unlimited.
    async fn take(
        &self,
        key: LimitKey<'_>,
        limit: RateLimit,
    ) -> Result<Result<(), Duration>, StoreError>;

    /// Which kind of store this is, for the `backend` label of the store-error metric.
    fn backend(&self) -> StoreBackend {
        StoreBackend::Custom
    }
}

#[async_trait]
impl<S: LimitStore> LimitStore for std::sync::Arc<S> {
    async fn take(
        &self,
        key: LimitKey<'_>,
        limit: RateLimit,
    ) -> Result<Result<(), Duration>, StoreError> {
        (**self).take(key, limit).await
    }

    fn backend(&self) -> StoreBackend {
        (**self).backend()
    }
}
