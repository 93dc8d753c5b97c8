//! Single-flight across replicas: the mint lock of one (UID, device) is a Redis string
//! `SET NX PX` with the holder's random value, released by a compare-and-delete script
//! ([`scripts::COMPARE_AND_DELETE`]) so a holder whose lock ran out never releases the next
//! holder's. The key names the device by its keyed name ([`crate::names`]), as the token keys
//! do; the value is random and carries nothing.
//!
//! A key rotation renames devices: while its second step (the swap) rolls out, replicas with
//! different current keys take different locks for one device and may each mint once. That
//! costs an extra mint at worst (the later one replaces the earlier, which is deleted), never
//! a lost token; at every other time all replicas name a device alike.

use std::time::Duration;

use cometgate::Uid;
use cometgate::device::DeviceKey;
use cometgate::store::{MintLock, StoreError};

use crate::{RedisStore, scripts};

impl RedisStore {
    fn flight_key(&self, uid: &Uid, device: DeviceKey) -> String {
        let name = self.inner.names.device(device).current;
        self.inner.layout.flight(uid, &name)
    }

    /// [`TokenStore::lock_mint`](cometgate::store::TokenStore::lock_mint): one `SET NX PX`.
    pub(crate) async fn take_mint_lock(
        &self,
        uid: &Uid,
        device: DeviceKey,
        ttl: Duration,
    ) -> Result<Option<MintLock>, StoreError> {
        let lock = MintLock::generate();
        // At least 1 ms: `PX 0` is an error, and a zero time to live would not hold anyway.
        let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(self.flight_key(uid, device))
            .arg(lock.as_str())
            .arg("NX")
            .arg("PX")
            .arg(ttl);
        let (set,): (Option<String>,) = self.query("lock_mint", &pipe).await?;
        Ok(set.map(|_| lock))
    }

    /// [`TokenStore::unlock_mint`](cometgate::store::TokenStore::unlock_mint).
    pub(crate) async fn release_mint_lock(
        &self,
        uid: &Uid,
        device: DeviceKey,
        lock: &MintLock,
    ) -> Result<(), StoreError> {
        let mut invocation = scripts::COMPARE_AND_DELETE.prepare_invoke();
        invocation
            .key(self.flight_key(uid, device))
            .arg(lock.as_str());
        let mut pipe = redis::pipe();
        pipe.invoke_script(&invocation);
        self.query::<(i64,)>("unlock_mint", &pipe).await.map(drop)
    }
}
