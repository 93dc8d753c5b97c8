//! [`MemoryStore`]: the embedded token store, for one process.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use lru::LruCache;

use crate::client::TokenValue;
use crate::device::DeviceKey;
use crate::store::compact::CompactToken;
use crate::store::{
    MintLock, RetireReason, Retired, StoreBackend, StoreError, TokenStore, TrackedToken,
};
use crate::uid::Uid;

/// How many tokens [`MemoryStore::defer`] keeps for a later retry; past that the oldest are
/// dropped (and logged), so a long CometChat outage cannot grow memory without bound.
const MAX_DEFERRED: usize = 10_000;

/// Stores this large split into shards, so requests for different users rarely wait on one
/// another and a sweep locks only a slice at a time.
const SHARDS: usize = 16;
const MIN_SHARD_CAPACITY: usize = 1_024;

/// The embedded token store: one process's memory, bounded.
///
/// It tracks at most [`capacity`](Self::with_capacity) devices (default
/// [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY)); past that, the least recently used device of
/// the least recently used user is forgotten, and its token is deleted at CometChat like an
/// evicted one (a token nobody tracks would never expire). Large stores are split into 16
/// shards by UID, each with its share of the capacity, so the order is least recently used
/// within a shard.
///
/// **Cost:** 56 bytes per device (a token in CometChat's own form is held in 24 bytes, the
/// rest is the device key and three timestamps) plus, per user, its UID (75 bytes from
/// [`UidMapper::default`](crate::UidMapper::default)), a 56-byte LRU entry and its hash table
/// slots (17 bytes each, tables between half and seven eighths full): at a million devices
/// about 110 bytes per device at 3 devices per user and 225 at 1, as `cargo xtask bench`
/// measures it (allocated bytes, before the allocator's own overhead).
///
/// Several replicas need a shared store instead (`cometgate-redis`): with this one, each
/// process tracks only the tokens it minted. **A restart forgets every tracked token**: tokens
/// minted before it stay valid at CometChat (no max age, outside the cap) until CometChat's own
/// limit of 100 per user drops them or the user's tokens are flushed (`Revoke::All`). Use a
/// shared store when processes restart often.
///
/// ```
/// use cometgate::store::MemoryStore;
///
/// let store = MemoryStore::with_capacity(50_000);
/// assert_eq!(store.capacity(), 50_000);
/// assert_eq!(store.len(), 0);
/// ```
pub struct MemoryStore {
    shards: Box<[Mutex<Shard>]>,
    capacity: usize,
    deferred: Mutex<Vec<Retired>>,
    /// Mint locks, for gates of one process sharing the store: holder and expiry.
    mint_locks: Mutex<HashMap<(Box<str>, DeviceKey), HeldLock>>,
}

/// A mint lock's holder and when it runs out.
type HeldLock = (MintLock, Instant);

struct Shard {
    users: LruCache<Box<str>, Vec<Device>>,
    devices: usize,
    capacity: usize,
}

/// One tracked device: 56 bytes, no heap for a token in CometChat's form. A user's devices
/// are kept in the order of their last use, least recent first.
struct Device {
    key: DeviceKey,
    token: CompactToken,
    minted: u32,
    /// `u32::MAX`: no max age.
    expires: u32,
    confirmed: u32,
}

const NEVER: u32 = u32::MAX;

/// Seconds as the store keeps them (u32 lasts until 2106; later times saturate below
/// [`NEVER`], which only "no max age" may mean).
fn secs(t: u64) -> u32 {
    u32::try_from(t)
        .ok()
        .filter(|&s| s != NEVER)
        .unwrap_or(NEVER - 1)
}

impl Device {
    fn tracked(&self, uid: &str) -> TrackedToken {
        TrackedToken {
            token: self.token.token(uid),
            minted_at: self.minted.into(),
            expires_at: (self.expires != NEVER).then_some(self.expires.into()),
            confirmed_at: self.confirmed.into(),
        }
    }

    fn retired(&self, uid: &Uid, reason: RetireReason) -> Retired {
        Retired {
            uid: uid.clone(),
            token: self.token.token(uid.as_str()),
            reason,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every method leaves the shard consistent between statements that can panic (none
    // should), so a poisoned lock still guards valid data.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MemoryStore {
    /// The default capacity: 100,000 devices (about 10–20 MB).
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store with the [default capacity](Self::DEFAULT_CAPACITY).
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// A store tracking at most `capacity` devices (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        let shards = if capacity >= SHARDS * MIN_SHARD_CAPACITY {
            SHARDS
        } else {
            1
        };
        let per_shard = capacity.div_ceil(shards);
        Self {
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(Shard {
                        users: LruCache::unbounded(),
                        devices: 0,
                        capacity: per_shard,
                    })
                })
                .collect(),
            capacity,
            deferred: Mutex::new(Vec::new()),
            mint_locks: Mutex::new(HashMap::new()),
        }
    }

    /// The most devices it tracks.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many devices it tracks now.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).devices).sum()
    }

    /// Whether it tracks no device.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, uid: &Uid) -> MutexGuard<'_, Shard> {
        let index = if self.shards.len() == 1 {
            0
        } else {
            let mut hasher = DefaultHasher::new();
            uid.as_str().hash(&mut hasher);
            // The modulo keeps the value below the shard count, which is a usize.
            usize::try_from(hasher.finish() % self.shards.len() as u64).unwrap_or(0)
        };
        lock(&self.shards[index])
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("capacity", &self.capacity)
            .field("devices", &self.len())
            .finish_non_exhaustive()
    }
}

impl Shard {
    /// Removes the least recently used device of `devices` other than `keep`.
    fn pop_lru_device(devices: &mut Vec<Device>, keep: Option<DeviceKey>) -> Option<Device> {
        let index = devices.iter().position(|d| Some(d.key) != keep)?;
        let device = devices.remove(index);
        devices.shrink_to_fit();
        Some(device)
    }

    /// Moves the device at `index` to the most recently used end.
    fn mark_used(devices: &mut [Device], index: usize) {
        devices[index..].rotate_left(1);
    }

    /// Forgets least recently used devices until the shard is within its capacity, never the
    /// device just tracked (`keep`).
    fn enforce_capacity(&mut self, keep: (&str, DeviceKey), retired: &mut Vec<Retired>) {
        while self.devices > self.capacity {
            let Some((lru_uid, devices)) = self.users.peek_lru() else {
                return;
            };
            let spare = if **lru_uid == *keep.0 {
                devices.len() > 1
            } else {
                !devices.is_empty()
            };
            if !spare {
                // The user just tracked is the only one left with devices: nothing to forget.
                return;
            }
            let lru_uid = lru_uid.clone();
            let Some(devices) = self.users.peek_mut(&lru_uid) else {
                return;
            };
            let keep_key = (*lru_uid == *keep.0).then_some(keep.1);
            if let Some(device) = Self::pop_lru_device(devices, keep_key) {
                self.devices -= 1;
                if let Ok(uid) = Uid::parse(&lru_uid) {
                    retired.push(device.retired(&uid, RetireReason::Forgotten));
                }
            }
            if devices.is_empty() {
                self.users.pop(&lru_uid);
            }
        }
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    fn backend(&self) -> StoreBackend {
        StoreBackend::Memory
    }

    async fn lock_mint(
        &self,
        uid: &Uid,
        device: DeviceKey,
        ttl: Duration,
    ) -> Result<Option<MintLock>, StoreError> {
        let now = Instant::now();
        let mut locks = lock(&self.mint_locks);
        // Expired locks go on the way, so the map holds only mints under way.
        locks.retain(|_, (_, until)| *until > now);
        let key = (Box::from(uid.as_str()), device);
        if locks.contains_key(&key) {
            return Ok(None);
        }
        let held = MintLock::generate();
        locks.insert(key, (held.clone(), now + ttl));
        Ok(Some(held))
    }

    async fn unlock_mint(
        &self,
        uid: &Uid,
        device: DeviceKey,
        held: &MintLock,
    ) -> Result<(), StoreError> {
        let mut locks = lock(&self.mint_locks);
        let key = (Box::from(uid.as_str()), device);
        if locks.get(&key).is_some_and(|(holder, _)| holder == held) {
            locks.remove(&key);
        }
        Ok(())
    }

    async fn get(
        &self,
        uid: &Uid,
        device: DeviceKey,
        now: u64,
    ) -> Result<Option<TrackedToken>, StoreError> {
        let mut shard = self.shard(uid);
        let _ = now; // recency is the order of the devices, not a timestamp
        let Some(devices) = shard.users.get_mut(uid.as_str()) else {
            return Ok(None);
        };
        let Some(index) = devices.iter().position(|d| d.key == device) else {
            return Ok(None);
        };
        Shard::mark_used(devices, index);
        Ok(devices.last().map(|d| d.tracked(uid.as_str())))
    }

    async fn confirm(
        &self,
        uid: &Uid,
        device: DeviceKey,
        token: &TokenValue,
        at: u64,
    ) -> Result<bool, StoreError> {
        let mut shard = self.shard(uid);
        let tracked = shard
            .users
            .peek_mut(uid.as_str())
            .and_then(|devices| devices.iter_mut().find(|d| d.key == device))
            .filter(|d| d.token.is(uid.as_str(), token));
        Ok(tracked.is_some_and(|d| {
            d.confirmed = d.confirmed.max(secs(at));
            true
        }))
    }

    async fn track(
        &self,
        uid: &Uid,
        device: DeviceKey,
        tracked: TrackedToken,
        per_user: usize,
    ) -> Result<Vec<Retired>, StoreError> {
        let mut retired = Vec::new();
        let new = Device {
            key: device,
            token: CompactToken::new(uid.as_str(), &tracked.token),
            minted: secs(tracked.minted_at),
            expires: tracked.expires_at.map_or(NEVER, secs),
            confirmed: secs(tracked.confirmed_at),
        };
        let mut shard = self.shard(uid);
        let devices = shard.users.get_or_insert_mut(uid.as_str().into(), Vec::new);
        let mut added = 0;
        match devices.iter().position(|d| d.key == device) {
            Some(index) => {
                let old = std::mem::replace(&mut devices[index], new);
                Shard::mark_used(devices, index);
                if !old.token.is(uid.as_str(), &tracked.token) {
                    retired.push(old.retired(uid, RetireReason::Replaced));
                }
            }
            None => {
                devices.push(new);
                devices.shrink_to_fit();
                added += 1;
            }
        }
        let mut evicted = 0;
        while devices.len() > per_user.max(1) {
            let Some(old) = Shard::pop_lru_device(devices, Some(device)) else {
                break;
            };
            retired.push(old.retired(uid, RetireReason::Evicted));
            evicted += 1;
        }
        shard.devices = shard.devices + added - evicted;
        shard.enforce_capacity((uid.as_str(), device), &mut retired);
        Ok(retired)
    }

    async fn forget(&self, uid: &Uid, device: DeviceKey) -> Result<Option<TokenValue>, StoreError> {
        let mut shard = self.shard(uid);
        let Some(devices) = shard.users.peek_mut(uid.as_str()) else {
            return Ok(None);
        };
        let Some(index) = devices.iter().position(|d| d.key == device) else {
            return Ok(None);
        };
        let gone = devices.remove(index);
        devices.shrink_to_fit();
        if devices.is_empty() {
            shard.users.pop(uid.as_str());
        }
        shard.devices -= 1;
        Ok(Some(gone.token.token(uid.as_str())))
    }

    async fn forget_user(&self, uid: &Uid) -> Result<Vec<TokenValue>, StoreError> {
        let mut shard = self.shard(uid);
        let gone = shard.users.pop(uid.as_str()).unwrap_or_default();
        shard.devices -= gone.len();
        Ok(gone.iter().map(|d| d.token.token(uid.as_str())).collect())
    }

    async fn take_due(&self, now: u64, limit: usize) -> Result<Vec<Retired>, StoreError> {
        let mut due = Vec::new();
        let now = secs(now);
        for shard in &self.shards {
            if due.len() >= limit {
                break;
            }
            let mut shard = lock(shard);
            let mut emptied = Vec::new();
            let mut taken = 0;
            for (uid, devices) in shard.users.iter_mut() {
                if due.len() >= limit {
                    break;
                }
                let Ok(parsed) = Uid::parse(uid) else {
                    continue;
                };
                let mut i = 0;
                while i < devices.len() && due.len() < limit {
                    if devices[i].expires <= now {
                        let device = devices.remove(i);
                        due.push(device.retired(&parsed, RetireReason::Expired));
                        taken += 1;
                    } else {
                        i += 1;
                    }
                }
                devices.shrink_to_fit();
                if devices.is_empty() {
                    emptied.push(uid.clone());
                }
            }
            for uid in emptied {
                shard.users.pop(&uid);
            }
            shard.devices -= taken;
        }
        let mut deferred = lock(&self.deferred);
        let take = deferred.len().min(limit - due.len().min(limit));
        due.extend(deferred.drain(..take));
        Ok(due)
    }

    async fn defer(&self, retired: Vec<Retired>) -> Result<(), StoreError> {
        let mut deferred = lock(&self.deferred);
        deferred.extend(retired);
        if deferred.len() > MAX_DEFERRED {
            let dropped = deferred.len() - MAX_DEFERRED;
            deferred.drain(..dropped);
            tracing::error!(
                target: "cometgate::store",
                dropped,
                "too many failed token deletes are waiting for a retry; the oldest were dropped \
                 and stay valid at CometChat until flushed"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::DeviceId;

    // The cases every token store passes; below, what is this store's own.
    crate::token_store_suite!(suite, MemoryStore::new);

    fn uid(s: &str) -> Uid {
        Uid::parse(s).unwrap()
    }

    fn key(s: &str) -> DeviceKey {
        DeviceId::parse(s).unwrap().key()
    }

    fn tracked(uid: &str, n: u64, at: u64, expires: Option<u64>) -> TrackedToken {
        TrackedToken {
            token: TokenValue::new(format!("{uid}_{at:010}{n:030x}")),
            minted_at: at,
            expires_at: expires,
            confirmed_at: at,
        }
    }

    fn block<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_device_is_small() {
        assert!(
            std::mem::size_of::<Device>() <= 64,
            "{}",
            std::mem::size_of::<Device>()
        );
    }

    #[test]
    fn capacity_forgets_the_least_recently_used_user_first() {
        block(async {
            let store = MemoryStore::with_capacity(2);
            let (ada, bob, cy) = (uid("ada"), uid("bob"), uid("cy"));
            store
                .track(&ada, key("a"), tracked("ada", 1, 100, None), 5)
                .await
                .unwrap();
            store
                .track(&bob, key("b"), tracked("bob", 2, 101, None), 5)
                .await
                .unwrap();
            store.get(&ada, key("a"), 102).await.unwrap();
            let retired = store
                .track(&cy, key("c"), tracked("cy", 3, 103, None), 5)
                .await
                .unwrap();
            assert_eq!(retired.len(), 1);
            assert_eq!(
                (&retired[0].uid, retired[0].reason),
                (&bob, RetireReason::Forgotten)
            );
            assert_eq!(store.len(), 2);
            // One user alone over the capacity keeps its newest device.
            let store = MemoryStore::with_capacity(1);
            store
                .track(&ada, key("a"), tracked("ada", 1, 100, None), 5)
                .await
                .unwrap();
            let retired = store
                .track(&ada, key("b"), tracked("ada", 2, 101, None), 5)
                .await
                .unwrap();
            assert_eq!(retired.len(), 1);
            assert!(store.get(&ada, key("b"), 102).await.unwrap().is_some());
        });
    }
}
