//! [`AccountStore`] on Redis: account records (tombstones among them) and completed webhook
//! deliveries.
//!
//! **Ordering across replicas.** The ordering rule is the core's pure
//! [`AccountRecord::apply`], not a copy in Lua: a change reads the sealed record (`GET`),
//! applies the rule in Rust, and writes the result with a compare-and-set script that stores
//! it only if the key still holds the exact bytes read. Every write is sealed with a fresh
//! random nonce, so equal bytes mean no write came in between (no ABA); a replica that lost
//! the race reads again and applies its change to the newer record (as often as it takes, within
//! the response timeout). Changes to one UID are thus applied one after another, each verdict
//! the one for its place in that order. `WATCH`
//! would need a connection of its own per change (the connection manager multiplexes one
//! connection, on which a `WATCH` would watch for every caller); the script needs none.
//!
//! Records that ever held a deletion never expire (dropping one would let a token request
//! re-create the account); other records order profile updates only and expire
//! [`LIVE_RECORD_TTL`] after their last change, far past any provider's retries.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use cometgate::Uid;
use cometgate::store::{
    AccountRecord, AccountStore, ChangeTime, StoreBackend, StoreError, Verdict,
};
use cometgate::webhook::{Profile, UserChange};
use serde::{Deserialize, Serialize};

use crate::layout::UserKeys;
use crate::{RedisStore, open_error, scripts};

/// How long a record with no deletion is kept after its last change.
pub const LIVE_RECORD_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// The least a completed delivery is remembered in Redis, whatever the caller's clock says
/// (the core asks for 48 hours).
pub const DELIVERY_MIN_TTL: Duration = Duration::from_secs(48 * 3600);

/// The record as sealed JSON.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    deleted_at: Option<u64>,
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    created_at: Option<u64>,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    newest: Option<(u64, Option<String>, Option<String>)>,
    #[serde(rename = "u", default, skip_serializing_if = "std::ops::Not::not")]
    unsettled: bool,
}

impl From<&AccountRecord> for Stored {
    fn from(r: &AccountRecord) -> Self {
        Self {
            deleted_at: r.deleted_at,
            created_at: r.created_at,
            newest: r
                .newest
                .as_ref()
                .map(|(at, p)| (*at, p.name.clone(), p.avatar.clone())),
            unsettled: r.unsettled,
        }
    }
}

impl From<Stored> for AccountRecord {
    fn from(s: Stored) -> Self {
        Self {
            deleted_at: s.deleted_at,
            created_at: s.created_at,
            newest: s
                .newest
                .map(|(at, name, avatar)| (at, Profile { name, avatar })),
            unsettled: s.unsettled,
        }
    }
}

impl RedisStore {
    fn account_context<'a>(keys: &'a UserKeys, uid: &'a Uid) -> [&'a [u8]; 3] {
        [b"account", keys.account.as_bytes(), uid.as_str().as_bytes()]
    }

    /// The record as sealed in Redis (`None`: no record).
    async fn read_record(
        &self,
        keys: &UserKeys,
        uid: &Uid,
    ) -> Result<(Option<Vec<u8>>, AccountRecord), StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(&keys.account);
        let (sealed,): (Option<Vec<u8>>,) = self.query("account", &pipe).await?;
        let record = self.open_record(keys, uid, sealed.as_deref())?;
        Ok((sealed, record))
    }

    /// A sealed record as read from Redis, opened (`None`: no record, the default one).
    pub(crate) fn open_record(
        &self,
        keys: &UserKeys,
        uid: &Uid,
        sealed: Option<&[u8]>,
    ) -> Result<AccountRecord, StoreError> {
        let Some(value) = sealed else {
            return Ok(AccountRecord::default());
        };
        let (plain, _) = self
            .inner
            .sealer
            .open(&Self::account_context(keys, uid), value)
            .map_err(|_| open_error("an account record"))?;
        Ok(serde_json::from_slice::<Stored>(&plain)
            .map_err(|_| StoreError::new("redis: an account record is malformed"))?
            .into())
    }
}

impl RedisStore {
    /// One read-update-write of the record; `None` if another writer changed it in between.
    /// `update` says whether it changed the record (nothing is written when not).
    async fn try_update<T>(
        &self,
        keys: &UserKeys,
        uid: &Uid,
        update: impl FnOnce(&mut AccountRecord) -> (T, bool),
    ) -> Result<Option<T>, StoreError> {
        let (read, mut record) = self.read_record(keys, uid).await?;
        let (verdict, changed) = update(&mut record);
        if !changed {
            return Ok(Some(verdict));
        }
        let plain = serde_json::to_vec(&Stored::from(&record))
            .map_err(|e| StoreError::with_source("redis: an account record", e))?;
        let sealed = self
            .inner
            .sealer
            .seal(&Self::account_context(keys, uid), &plain);
        let ttl = if record.deleted_at.is_some() {
            0
        } else {
            millis(LIVE_RECORD_TTL)
        };
        let mut invocation = scripts::COMPARE_AND_SET.key(&keys.account);
        match &read {
            Some(old) => invocation.arg("1").arg(old.as_slice()),
            None => invocation.arg("0").arg(""),
        };
        invocation.arg(sealed).arg(ttl);
        let mut pipe = redis::pipe();
        pipe.invoke_script(&invocation);
        let (stored,): (i64,) = self.query("record_change", &pipe).await?;
        Ok((stored == 1).then_some(verdict))
    }

    /// [`try_update`](Self::try_update) until it wins a quiet moment, within the response
    /// timeout.
    async fn update_record<T>(
        &self,
        uid: &Uid,
        what: &str,
        update: impl Fn(&mut AccountRecord) -> (T, bool),
    ) -> Result<T, StoreError> {
        let keys = self.inner.layout.user(uid);
        let attempts = async {
            let mut lost = 0u64;
            loop {
                if let Some(done) = self.try_update(&keys, uid, &update).await? {
                    return Ok(done);
                }
                // Lost a race: step aside a random moment (longer each time, up to 2 ms), so
                // contenders spread out.
                lost = (lost + 1).min(10);
                tokio::time::sleep(Duration::from_micros(rand::random_range(0..200 * lost))).await;
            }
        };
        tokio::time::timeout(self.inner.timeout, attempts)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::new(format!(
                    "redis: {what} found no quiet moment within {} ms",
                    self.inner.timeout.as_millis()
                )))
            })
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[async_trait]
impl AccountStore for RedisStore {
    fn backend(&self) -> StoreBackend {
        StoreBackend::Redis
    }

    async fn record_change(
        &self,
        uid: &Uid,
        change: UserChange,
        time: ChangeTime,
        profile: Profile,
    ) -> Result<Verdict, StoreError> {
        self.update_record(uid, "record_change", |record| {
            (record.apply(change, time, profile.clone()), true)
        })
        .await
    }

    async fn settle(&self, uid: &Uid, applied: &Verdict) -> Result<(), StoreError> {
        self.update_record(uid, "settle", |record| ((), record.settle(applied)))
            .await
    }

    async fn is_deleted(&self, uid: &Uid) -> Result<bool, StoreError> {
        let keys = self.inner.layout.user(uid);
        Ok(self.read_record(&keys, uid).await?.1.is_deleted())
    }

    async fn delivery_done(&self, key: &str, now: u64) -> Result<bool, StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(self.inner.layout.delivery(key));
        let (until,): (Option<u64>,) = self.query("delivery_done", &pipe).await?;
        Ok(until.is_some_and(|until| now < until))
    }

    async fn complete_delivery(&self, key: &str, until: u64) -> Result<(), StoreError> {
        // `until` is on the gate's clock, which a test may set anywhere: the value decides,
        // the time to live only bounds memory, and never below the minimum.
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, millis);
        let ttl = until.saturating_sub(wall).max(millis(DELIVERY_MIN_TTL));
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(self.inner.layout.delivery(key))
            .arg(until)
            .arg("PX")
            .arg(ttl)
            .ignore();
        self.query::<()>("complete_delivery", &pipe).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_json() {
        let record = AccountRecord {
            deleted_at: Some(20),
            created_at: None,
            newest: Some((
                40,
                Profile {
                    name: Some("Ada".into()),
                    avatar: None,
                },
            )),
            unsettled: true,
        };
        let json = serde_json::to_vec(&Stored::from(&record)).unwrap();
        let back: AccountRecord = serde_json::from_slice::<Stored>(&json).unwrap().into();
        assert_eq!(back, record);
        let empty: AccountRecord = serde_json::from_slice::<Stored>(b"{}").unwrap().into();
        assert_eq!(empty, AccountRecord::default());
    }
}
