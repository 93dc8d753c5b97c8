//! The token store: which token each of a user's devices holds, so a device gets the same token
//! back instead of a new mint, the number of live tokens per user stays bounded, and expiry is
//! real.
//!
//! [`TokenStore`] is the seam: the gate's token lifecycle is written once against it, and a
//! backend implements it. [`MemoryStore`] is the embedded default (one process);
//! `cometgate-redis` shares the same state between replicas. Every operation that changes state
//! is atomic per user: "track this minted token and tell me which ones to delete" is one call,
//! so a shared backend can implement it with one script or transaction.
//!
//! A tracked token is a credential: no store type shows one in `Debug`, an error or a log.
//! Stores never see a device id either, only its [`DeviceKey`].

pub mod accounts;
mod compact;
pub mod limits;
mod memory;
#[cfg(any(test, feature = "store-suite"))]
pub mod suite;

use std::fmt;

use async_trait::async_trait;

pub use accounts::{AccountRecord, AccountStore, ChangeTime, MemoryAccountStore, Verdict};
pub use limits::{LimitKey, LimitStore};
pub use memory::MemoryStore;

use crate::client::TokenValue;
use crate::device::DeviceKey;
use crate::uid::Uid;

/// A token the store tracks for one (UID, device). Times are Unix seconds.
#[derive(Clone, PartialEq, Eq)]
pub struct TrackedToken {
    /// The auth token.
    pub token: TokenValue,
    /// When cometgate minted it.
    pub minted_at: u64,
    /// When it stops being handed out (`minted_at` plus the max age), `None` without a max age.
    pub expires_at: Option<u64>,
    /// When CometChat last confirmed it (the mint counts as a confirmation).
    pub confirmed_at: u64,
}

impl TrackedToken {
    /// Whether the token must no longer be handed out at `now`.
    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

impl fmt::Debug for TrackedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackedToken")
            .field("token", &self.token)
            .field("minted_at", &self.minted_at)
            .field("expires_at", &self.expires_at)
            .field("confirmed_at", &self.confirmed_at)
            .finish()
    }
}

/// Why a store stopped tracking a token, which must now be deleted at CometChat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetireReason {
    /// The device got a new token (refresh, expiry, or CometChat no longer had the old one).
    Replaced,
    /// The user went over the cap of live tokens: the least recently used device loses its
    /// token.
    Evicted,
    /// The store went over its capacity: the least recently used device of the least recently
    /// used user loses its token.
    Forgotten,
    /// The token reached its max age.
    Expired,
    /// The device logged out; its delete failed and waits for a retry.
    Revoked,
}

impl RetireReason {
    /// A short name for logs and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Replaced => "replaced",
            Self::Evicted => "evicted",
            Self::Forgotten => "forgotten",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

/// The right to mint for one (UID, device), held by one gate until released or until its time
/// to live runs out (a replica that died mid-mint does not block the device for long). The
/// value is random: a store releases a lock only for the holder that took it.
#[derive(Clone, PartialEq, Eq)]
pub struct MintLock(String);

impl MintLock {
    /// A new random holder value (32 hex digits).
    pub fn generate() -> Self {
        Self(format!("{:032x}", rand::random::<u128>()))
    }

    /// The holder value, as a store writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MintLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MintLock(..)")
    }
}

/// Which kind of store a [`TokenStore`] is, for the `backend` label of
/// [`STORE_ERRORS_TOTAL`](crate::telemetry::STORE_ERRORS_TOTAL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreBackend {
    /// The embedded [`MemoryStore`].
    Memory,
    /// A shared Redis.
    Redis,
    /// Any other implementation (the default of [`TokenStore::backend`]).
    Custom,
}

impl StoreBackend {
    /// Every backend, in declaration order.
    pub const ALL: &'static [Self] = &[Self::Memory, Self::Redis, Self::Custom];

    /// The label value: `memory`, `redis`, `custom`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Redis => "redis",
            Self::Custom => "custom",
        }
    }
}

/// A token the store no longer tracks; the gate deletes it upstream.
#[derive(Clone, PartialEq, Eq)]
pub struct Retired {
    /// Whose token it is.
    pub uid: Uid,
    /// The token to delete.
    pub token: TokenValue,
    /// Why it was retired.
    pub reason: RetireReason,
}

impl fmt::Debug for Retired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retired")
            .field("uid", &self.uid)
            .field("token", &self.token)
            .field("reason", &self.reason)
            .finish()
    }
}

/// A store operation failed (e.g. a shared backend is unreachable). The token route then
/// answers `503`; the message never holds a token or a device id.
///
/// ```
/// use cometgate::store::StoreError;
///
/// let err = StoreError::new("redis: connection refused");
/// assert_eq!(err.to_string(), "the token store failed: redis: connection refused");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("the token store failed: {message}")]
pub struct StoreError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// An error described by `message` (which must not hold a token or a device id).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// An error described by `message`, caused by `source`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// Where the gate keeps the tokens it handed out. Implement it for a shared backend; the gate's
/// lifecycle (reuse, cap, expiry, refresh, revoke) needs nothing else.
///
/// Times are Unix seconds from the gate's [`Clock`](crate::clock::Clock). Each method is one
/// atomic step for its user.
///
/// ```
/// use cometgate::{DeviceId, Uid, client::TokenValue};
/// use cometgate::store::{MemoryStore, TokenStore, TrackedToken};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let (uid, device) = (Uid::parse("ada").unwrap(), DeviceId::parse("phone").unwrap().key());
/// let tracked = TrackedToken {
///     token: TokenValue::new("ada_1700000000d2eca40a65abba29e6860224018ad8"),
///     minted_at: 1_700_000_000,
///     expires_at: Some(1_700_604_800),
///     confirmed_at: 1_700_000_000,
/// };
/// let retired = store.track(&uid, device, tracked.clone(), 20).await?;
/// assert!(retired.is_empty());
/// assert_eq!(store.get(&uid, device, 1_700_000_100).await?, Some(tracked));
/// # Ok::<(), cometgate::store::StoreError>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait TokenStore: fmt::Debug + Send + Sync + 'static {
    /// The token tracked for (`uid`, `device`), if any, marking the device used at `now`.
    async fn get(
        &self,
        uid: &Uid,
        device: DeviceKey,
        now: u64,
    ) -> Result<Option<TrackedToken>, StoreError>;

    /// Records that `token` was confirmed at `at` (the gate records it *before* asking
    /// CometChat, so concurrent requests do not all ask), if it is still the one tracked for
    /// (`uid`, `device`). Returns whether it is.
    async fn confirm(
        &self,
        uid: &Uid,
        device: DeviceKey,
        token: &TokenValue,
        at: u64,
    ) -> Result<bool, StoreError>;

    /// Tracks a newly minted token for (`uid`, `device`) (used at `tracked.minted_at`),
    /// replacing the device's previous one, and keeps at most `per_user` devices for `uid`.
    /// Returns every token no longer tracked: the replaced one, the least recently used
    /// devices' over the cap, and any the store's own capacity forgot.
    async fn track(
        &self,
        uid: &Uid,
        device: DeviceKey,
        tracked: TrackedToken,
        per_user: usize,
    ) -> Result<Vec<Retired>, StoreError>;

    /// Stops tracking (`uid`, `device`) and returns its token, if any.
    async fn forget(&self, uid: &Uid, device: DeviceKey) -> Result<Option<TokenValue>, StoreError>;

    /// Stops tracking every device of `uid`; returns their tokens.
    async fn forget_user(&self, uid: &Uid) -> Result<Vec<TokenValue>, StoreError>;

    /// Takes up to `limit` tokens due for deletion: those expired at `now` first (they are no
    /// longer tracked), then those deferred by [`defer`](Self::defer), so deletes that keep
    /// failing never hold up expiry.
    async fn take_due(&self, now: u64, limit: usize) -> Result<Vec<Retired>, StoreError>;

    /// Keeps tokens whose upstream delete failed, for a later [`take_due`](Self::take_due).
    async fn defer(&self, retired: Vec<Retired>) -> Result<(), StoreError>;

    /// Takes the right to mint a token for (`uid`, `device`) for at most `ttl`: `Some` when
    /// taken, `None` while another holder has it (the gate then waits for that holder's token
    /// instead of minting a second one). Within one gate, concurrent requests for a device
    /// already share one mint; this lock is for gates sharing the store (replicas).
    ///
    /// The default takes it every time: right for a store only one gate uses. A store shared
    /// by several gates must override it (and [`unlock_mint`](Self::unlock_mint)), with an
    /// atomic set-if-absent that expires (Redis: `SET NX PX`).
    async fn lock_mint(
        &self,
        uid: &Uid,
        device: DeviceKey,
        ttl: std::time::Duration,
    ) -> Result<Option<MintLock>, StoreError> {
        let _ = (uid, device, ttl);
        Ok(Some(MintLock::generate()))
    }

    /// Releases `lock` if it is still the one held for (`uid`, `device`) (compare and delete,
    /// so a holder whose lock expired never releases the next holder's).
    async fn unlock_mint(
        &self,
        uid: &Uid,
        device: DeviceKey,
        lock: &MintLock,
    ) -> Result<(), StoreError> {
        let _ = (uid, device, lock);
        Ok(())
    }

    /// Which kind of store this is, for metrics ([`StoreBackend::Custom`] unless overridden).
    fn backend(&self) -> StoreBackend {
        StoreBackend::Custom
    }
}

/// What [`SharedStore::token_unless_deleted`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceReading {
    /// The account is deleted (tombstoned): no token may be handed out, whatever is tracked.
    Deleted,
    /// The account lives; the device's tracked token, if any.
    Live(Option<TrackedToken>),
}

/// One store keeping the tokens, the account records and the limits, as `cometgate-redis`'s
/// `RedisStore` does. Given to [`GateBuilder::store`](crate::vend::GateBuilder::store), it is
/// the gate's token, account and limit store at once, and a known device's request reads the
/// tombstone and the device's token in one step
/// ([`token_unless_deleted`](Self::token_unless_deleted)) instead of two: on a shared backend,
/// one round trip on the hot path instead of two.
///
/// ```
/// use cometgate::{DeviceId, Uid};
/// use cometgate::store::{DeviceReading, SharedStore};
///
/// /// Whatever the store is, a deleted account's device gets nothing.
/// async fn may_reuse(store: &impl SharedStore, uid: &Uid, device: &DeviceId) -> bool {
///     let read = store.token_unless_deleted(uid, device.key(), 1_700_000_000).await;
///     matches!(read, Ok(DeviceReading::Live(Some(_))))
/// }
/// ```
#[async_trait]
pub trait SharedStore: TokenStore + AccountStore + LimitStore {
    /// The token tracked for (`uid`, `device`) as [`TokenStore::get`] gives it (marking the
    /// device used at `now`), unless `uid`'s account is deleted
    /// ([`AccountStore::is_deleted`]).
    ///
    /// The default asks one, then the other; a shared backend should answer both in one step
    /// (Redis: one script). A store that answers [`DeviceReading::Deleted`] need not mark the
    /// device used.
    async fn token_unless_deleted(
        &self,
        uid: &Uid,
        device: DeviceKey,
        now: u64,
    ) -> Result<DeviceReading, StoreError> {
        if AccountStore::is_deleted(self, uid).await? {
            return Ok(DeviceReading::Deleted);
        }
        Ok(DeviceReading::Live(
            TokenStore::get(self, uid, device, now).await?,
        ))
    }
}

#[async_trait]
impl<S: SharedStore> SharedStore for std::sync::Arc<S> {
    async fn token_unless_deleted(
        &self,
        uid: &Uid,
        device: DeviceKey,
        now: u64,
    ) -> Result<DeviceReading, StoreError> {
        (**self).token_unless_deleted(uid, device, now).await
    }
}

/// A shared store is a store: keep an `Arc` to inspect the store the gate uses.
#[async_trait]
impl<S: TokenStore> TokenStore for std::sync::Arc<S> {
    async fn get(
        &self,
        uid: &Uid,
        device: DeviceKey,
        now: u64,
    ) -> Result<Option<TrackedToken>, StoreError> {
        (**self).get(uid, device, now).await
    }

    async fn confirm(
        &self,
        uid: &Uid,
        device: DeviceKey,
        token: &TokenValue,
        at: u64,
    ) -> Result<bool, StoreError> {
        (**self).confirm(uid, device, token, at).await
    }

    async fn track(
        &self,
        uid: &Uid,
        device: DeviceKey,
        tracked: TrackedToken,
        per_user: usize,
    ) -> Result<Vec<Retired>, StoreError> {
        (**self).track(uid, device, tracked, per_user).await
    }

    async fn forget(&self, uid: &Uid, device: DeviceKey) -> Result<Option<TokenValue>, StoreError> {
        (**self).forget(uid, device).await
    }

    async fn forget_user(&self, uid: &Uid) -> Result<Vec<TokenValue>, StoreError> {
        (**self).forget_user(uid).await
    }

    async fn take_due(&self, now: u64, limit: usize) -> Result<Vec<Retired>, StoreError> {
        (**self).take_due(now, limit).await
    }

    async fn defer(&self, retired: Vec<Retired>) -> Result<(), StoreError> {
        (**self).defer(retired).await
    }

    async fn lock_mint(
        &self,
        uid: &Uid,
        device: DeviceKey,
        ttl: std::time::Duration,
    ) -> Result<Option<MintLock>, StoreError> {
        (**self).lock_mint(uid, device, ttl).await
    }

    async fn unlock_mint(
        &self,
        uid: &Uid,
        device: DeviceKey,
        lock: &MintLock,
    ) -> Result<(), StoreError> {
        (**self).unlock_mint(uid, device, lock).await
    }

    fn backend(&self) -> StoreBackend {
        (**self).backend()
    }
}
