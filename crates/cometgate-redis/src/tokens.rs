//! [`TokenStore`] on Redis: each method is one atomic script on one user's keys (see
//! [`crate::scripts`]), sent in one round trip; [`confirm`](TokenStore::confirm) takes two
//! (read, then compare-and-set), the sweep three per batch.
//!
//! What Redis holds of a token is sealed ([`crate::seal`]): the token and the device's
//! [`DeviceKey`] inside (so a value moved to another device of the user does not open as
//! that device's), the kind, key and UID as associated data.

use async_trait::async_trait;
use cometgate::Uid;
use cometgate::client::TokenValue;
use cometgate::device::DeviceKey;
use cometgate::store::{
    DeviceReading, MintLock, RetireReason, Retired, SharedStore, StoreBackend, StoreError,
    TokenStore, TrackedToken,
};
use redis::Pipeline;

use crate::layout::UserKeys;
use crate::names::DeviceName;
use crate::scripts;
use crate::seal::Opened;
use crate::{RedisStore, open_error};

/// How many failed deletes [`TokenStore::defer`] keeps for a retry (as the in-memory store);
/// past that the oldest are dropped (and logged).
pub(crate) const MAX_DEFERRED: usize = 10_000;

const REASONS: [RetireReason; 5] = [
    RetireReason::Replaced,
    RetireReason::Evicted,
    RetireReason::Forgotten,
    RetireReason::Expired,
    RetireReason::Revoked,
];

/// A device's times as the scripts read them.
struct Meta {
    generation: String,
    minted: u64,
    expires: Option<u64>,
    confirmed: u64,
}

impl Meta {
    fn new(tracked: &TrackedToken) -> Self {
        Self {
            generation: format!("{:016x}", rand::random::<u64>()),
            minted: tracked.minted_at,
            expires: tracked.expires_at,
            confirmed: tracked.confirmed_at,
        }
    }

    fn encode(&self) -> String {
        let expires = self
            .expires
            .map_or_else(|| "-".to_owned(), |e| e.to_string());
        format!(
            "{} {} {expires} {}",
            self.generation, self.minted, self.confirmed
        )
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split(' ');
        let generation = parts.next()?.to_owned();
        let minted = parts.next()?.parse().ok()?;
        let expires = match parts.next()? {
            "-" => None,
            e => Some(e.parse().ok()?),
        };
        let confirmed = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Self {
            generation,
            minted,
            expires,
            confirmed,
        })
    }
}

/// A script invocation on one user's token keys.
fn on_user<'a>(script: &'a redis::Script, keys: &UserKeys) -> redis::ScriptInvocation<'a> {
    let mut invocation = script.prepare_invoke();
    for key in keys.token_keys() {
        invocation.key(key);
    }
    invocation
}

fn with_name<'a>(
    mut invocation: redis::ScriptInvocation<'a>,
    name: &DeviceName,
) -> redis::ScriptInvocation<'a> {
    invocation.arg(&name.current).arg(&name.previous);
    invocation
}

fn one(invocation: &redis::ScriptInvocation<'_>) -> Pipeline {
    let mut pipe = redis::pipe();
    pipe.invoke_script(invocation);
    pipe
}

impl RedisStore {
    /// A device's sealed token and meta, as the scripts return them, opened.
    fn open_tracked(
        &self,
        keys: &UserKeys,
        uid: &Uid,
        device: DeviceKey,
        sealed: &[u8],
        meta: &str,
    ) -> Result<TrackedToken, StoreError> {
        let (token, _) = self.open_device_token(keys, uid, device, sealed)?;
        let meta = Meta::decode(meta)
            .ok_or_else(|| StoreError::new("redis: a device's times are malformed"))?;
        Ok(TrackedToken {
            token,
            minted_at: meta.minted,
            expires_at: meta.expires,
            confirmed_at: meta.confirmed,
        })
    }

    fn seal_token(
        &self,
        keys: &UserKeys,
        uid: &Uid,
        device: DeviceKey,
        token: &TokenValue,
    ) -> Vec<u8> {
        let mut plain = Vec::with_capacity(16 + token.expose().len());
        plain.extend_from_slice(&device.to_bytes());
        plain.extend_from_slice(token.expose().as_bytes());
        let context: [&[u8]; 3] = [b"token", keys.tokens.as_bytes(), uid.as_str().as_bytes()];
        self.inner.sealer.seal(&context, &plain)
    }

    /// Opens a sealed token of `uid`: its device key and the token, and which key opened it.
    fn open_token(
        &self,
        keys: &UserKeys,
        uid: &Uid,
        sealed: &[u8],
    ) -> Option<(DeviceKey, TokenValue, Opened)> {
        let context: [&[u8]; 3] = [b"token", keys.tokens.as_bytes(), uid.as_str().as_bytes()];
        let (plain, opened) = self.inner.sealer.open(&context, sealed).ok()?;
        let (device, token) = plain.split_at_checked(16)?;
        let device = DeviceKey::from_bytes(device.try_into().ok()?);
        let token = String::from_utf8(token.to_vec()).ok()?;
        Some((device, TokenValue::new(token), opened))
    }

    /// Opens `device`'s sealed token; a value that does not open (or is another device's) is
    /// an error: the store cannot tell which token the device holds.
    fn open_device_token(
        &self,
        keys: &UserKeys,
        uid: &Uid,
        device: DeviceKey,
        sealed: &[u8],
    ) -> Result<(TokenValue, Opened), StoreError> {
        match self.open_token(keys, uid, sealed) {
            Some((owner, token, opened)) if owner == device => Ok((token, opened)),
            _ => Err(open_error("a tracked token")),
        }
    }

    /// Opens tokens the store no longer tracks; one that does not open cannot be deleted at
    /// CometChat, which is logged (it stays valid there until the user's tokens are flushed
    /// or CometChat's own limit of 100 drops it).
    fn open_retired(&self, keys: &UserKeys, uid: &Uid, sealed: Vec<Vec<u8>>) -> Vec<TokenValue> {
        sealed
            .iter()
            .filter_map(|s| {
                let opened = self.open_token(keys, uid, s).map(|(_, token, _)| token);
                if opened.is_none() {
                    undeletable("a retired token");
                }
                opened
            })
            .collect()
    }

    fn seal_deferred(&self, retired: &Retired) -> Vec<u8> {
        let deferred = self.inner.layout.deferred();
        let uid = retired.uid.as_str();
        let context: [&[u8]; 3] = [b"deferred", deferred.as_bytes(), uid.as_bytes()];
        let plain = format!("{}\n{}", retired.reason.as_str(), retired.token.expose());
        let mut entry = Vec::with_capacity(uid.len() + 64 + plain.len());
        entry.extend_from_slice(uid.as_bytes());
        entry.push(b'\n');
        entry.extend_from_slice(&self.inner.sealer.seal(&context, plain.as_bytes()));
        entry
    }

    fn open_deferred(&self, entry: &[u8]) -> Option<Retired> {
        let split = entry.iter().position(|&b| b == b'\n')?;
        let (uid, sealed) = (&entry[..split], &entry[split + 1..]);
        let uid = Uid::parse(std::str::from_utf8(uid).ok()?).ok()?;
        let deferred = self.inner.layout.deferred();
        let context: [&[u8]; 3] = [b"deferred", deferred.as_bytes(), uid.as_str().as_bytes()];
        let (plain, _) = self.inner.sealer.open(&context, sealed).ok()?;
        let plain = String::from_utf8(plain).ok()?;
        let (reason, token) = plain.split_once('\n')?;
        let reason = *REASONS.iter().find(|r| r.as_str() == reason)?;
        Some(Retired {
            uid,
            token: TokenValue::new(token),
            reason,
        })
    }

    /// Expired tokens, up to `limit`: the index names them by generation; each is taken by a
    /// script that checks it is still that generation and expired, so two replicas' sweeps
    /// never take one twice, and index entries of tokens since replaced or forgotten are
    /// dropped as they come due.
    async fn take_expired(&self, now: u64, limit: usize) -> Result<Vec<Retired>, StoreError> {
        let expiry = self.inner.layout.expiry();
        let mut due = Vec::new();
        while due.len() < limit {
            let want = limit - due.len();
            let mut pipe = redis::pipe();
            pipe.cmd("ZRANGEBYSCORE")
                .arg(&expiry)
                .arg("-inf")
                .arg(now)
                .arg("LIMIT")
                .arg(0)
                .arg(want);
            let (members,): (Vec<String>,) = self.query("sweep", &pipe).await?;
            if members.is_empty() {
                break;
            }
            let entries: Vec<(&String, Option<(Uid, UserKeys)>)> = members
                .iter()
                .map(|m| {
                    let parsed = m.split_once(' ').and_then(|(generation, uid)| {
                        let uid = Uid::parse(uid).ok()?;
                        let keys = self.inner.layout.user(&uid);
                        Some((generation, uid, keys))
                    });
                    (m, parsed.map(|(_, uid, keys)| (uid, keys)))
                })
                .collect();
            let mut pipe = redis::pipe();
            let invocations: Vec<_> = entries
                .iter()
                .filter_map(|(member, parsed)| {
                    let (_, keys) = parsed.as_ref()?;
                    let generation = member.split_once(' ')?.0;
                    let mut invocation = on_user(&scripts::EXPIRE, keys);
                    invocation.arg(generation).arg(now);
                    Some(invocation)
                })
                .collect();
            for invocation in &invocations {
                pipe.invoke_script(invocation);
            }
            let taken: Vec<Option<Vec<u8>>> = if invocations.is_empty() {
                Vec::new()
            } else {
                self.query("sweep", &pipe).await?
            };
            let mut taken = taken.into_iter();
            for (_, parsed) in &entries {
                let Some((uid, keys)) = parsed else { continue };
                if let Some(Some(sealed)) = taken.next() {
                    for token in self.open_retired(keys, uid, vec![sealed]) {
                        due.push(Retired {
                            uid: uid.clone(),
                            token,
                            reason: RetireReason::Expired,
                        });
                    }
                }
            }
            let mut pipe = redis::pipe();
            pipe.cmd("ZREM").arg(&expiry).arg(&members).ignore();
            self.query::<()>("sweep", &pipe).await?;
            if members.len() < want {
                break;
            }
        }
        Ok(due)
    }
}

/// Logs a token that will stay valid at CometChat because it did not open.
fn undeletable(what: &str) {
    tracing::error!(
        target: "cometgate::store",
        "{what} in Redis does not decrypt under COMETGATE_STORE_KEY (nor COMETGATE_STORE_KEY_PREVIOUS); \
         it was dropped and stays valid at CometChat until the user's tokens are flushed"
    );
}

#[async_trait]
impl TokenStore for RedisStore {
    fn backend(&self) -> StoreBackend {
        StoreBackend::Redis
    }

    async fn lock_mint(
        &self,
        uid: &Uid,
        device: DeviceKey,
        ttl: std::time::Duration,
    ) -> Result<Option<MintLock>, StoreError> {
        self.take_mint_lock(uid, device, ttl).await
    }

    async fn unlock_mint(
        &self,
        uid: &Uid,
        device: DeviceKey,
        lock: &MintLock,
    ) -> Result<(), StoreError> {
        self.release_mint_lock(uid, device, lock).await
    }

    async fn get(
        &self,
        uid: &Uid,
        device: DeviceKey,
        _now: u64,
    ) -> Result<Option<TrackedToken>, StoreError> {
        let keys = self.inner.layout.user(uid);
        let name = self.inner.names.device(device);
        let invocation = with_name(on_user(&scripts::GET, &keys), &name);
        let (found,): (Option<(Vec<u8>, String)>,) = self.query("get", &one(&invocation)).await?;
        found
            .map(|(sealed, meta)| self.open_tracked(&keys, uid, device, &sealed, &meta))
            .transpose()
    }

    async fn confirm(
        &self,
        uid: &Uid,
        device: DeviceKey,
        token: &TokenValue,
        at: u64,
    ) -> Result<bool, StoreError> {
        let keys = self.inner.layout.user(uid);
        let name = self.inner.names.device(device);
        let invocation = with_name(on_user(&scripts::PEEK, &keys), &name);
        let (found,): (Option<Vec<u8>>,) = self.query("confirm", &one(&invocation)).await?;
        let Some(sealed) = found else {
            return Ok(false);
        };
        let (tracked, opened) = self.open_device_token(&keys, uid, device, &sealed)?;
        if tracked != *token {
            return Ok(false);
        }
        // A write: a token sealed under the previous key is sealed again under the current one.
        let resealed = match opened {
            Opened::Previous => self.seal_token(&keys, uid, device, token),
            Opened::Current => Vec::new(),
        };
        let mut invocation = on_user(&scripts::CONFIRM, &keys);
        invocation
            .arg(&name.current)
            .arg(&sealed)
            .arg(at)
            .arg(resealed);
        let (confirmed,): (i64,) = self.query("confirm", &one(&invocation)).await?;
        Ok(confirmed == 1)
    }

    async fn track(
        &self,
        uid: &Uid,
        device: DeviceKey,
        tracked: TrackedToken,
        per_user: usize,
    ) -> Result<Vec<Retired>, StoreError> {
        let keys = self.inner.layout.user(uid);
        let name = self.inner.names.device(device);
        let meta = Meta::new(&tracked);
        let sealed = self.seal_token(&keys, uid, device, &tracked.token);
        let mut pipe = redis::pipe();
        // The index entry first: if the script never runs, the sweep finds no token of that
        // generation and drops the entry; the other order could leave a token no sweep finds.
        if let Some(expires) = tracked.expires_at {
            pipe.cmd("ZADD")
                .arg(self.inner.layout.expiry())
                .arg(expires)
                .arg(format!("{} {}", meta.generation, uid.as_str()))
                .ignore();
        }
        let mut invocation = with_name(on_user(&scripts::TRACK, &keys), &name);
        invocation
            .arg(sealed)
            .arg(meta.encode())
            .arg(per_user.max(1));
        pipe.invoke_script(&invocation);
        let ((replaced, evicted),): ((Vec<Vec<u8>>, Vec<Vec<u8>>),) =
            self.query("track", &pipe).await?;
        let retired = |tokens: Vec<TokenValue>, reason| {
            tokens.into_iter().map(move |token| Retired {
                uid: uid.clone(),
                token,
                reason,
            })
        };
        let replaced: Vec<TokenValue> = self
            .open_retired(&keys, uid, replaced)
            .into_iter()
            .filter(|old| *old != tracked.token)
            .collect();
        Ok(retired(replaced, RetireReason::Replaced)
            .chain(retired(
                self.open_retired(&keys, uid, evicted),
                RetireReason::Evicted,
            ))
            .collect())
    }

    async fn forget(&self, uid: &Uid, device: DeviceKey) -> Result<Option<TokenValue>, StoreError> {
        let keys = self.inner.layout.user(uid);
        let name = self.inner.names.device(device);
        let invocation = with_name(on_user(&scripts::FORGET, &keys), &name);
        let (gone,): (Vec<Vec<u8>>,) = self.query("forget", &one(&invocation)).await?;
        let mut tokens = Vec::with_capacity(gone.len());
        for sealed in &gone {
            tokens.push(self.open_device_token(&keys, uid, device, sealed)?.0);
        }
        let mut tokens = tokens.into_iter();
        let first = tokens.next();
        // Held under both names (replicas with and without the rotated key tracked it at
        // once): the other token is deleted by the sweep.
        let extra: Vec<Retired> = tokens
            .map(|token| Retired {
                uid: uid.clone(),
                token,
                reason: RetireReason::Revoked,
            })
            .collect();
        if !extra.is_empty() {
            self.defer(extra).await?;
        }
        Ok(first)
    }

    async fn forget_user(&self, uid: &Uid) -> Result<Vec<TokenValue>, StoreError> {
        let keys = self.inner.layout.user(uid);
        let invocation = on_user(&scripts::FORGET_USER, &keys);
        let (gone,): (Vec<Vec<u8>>,) = self.query("forget_user", &one(&invocation)).await?;
        Ok(self.open_retired(&keys, uid, gone))
    }

    async fn take_due(&self, now: u64, limit: usize) -> Result<Vec<Retired>, StoreError> {
        let mut due = self.take_expired(now, limit).await?;
        let want = limit - due.len().min(limit);
        if let Some(count) = std::num::NonZeroUsize::new(want) {
            let mut pipe = redis::pipe();
            pipe.cmd("LPOP")
                .arg(self.inner.layout.deferred())
                .arg(count.get());
            let (entries,): (Option<Vec<Vec<u8>>>,) = self.query("take_due", &pipe).await?;
            for entry in entries.unwrap_or_default() {
                match self.open_deferred(&entry) {
                    Some(retired) => due.push(retired),
                    None => undeletable("a deferred token"),
                }
            }
        }
        Ok(due)
    }

    async fn defer(&self, retired: Vec<Retired>) -> Result<(), StoreError> {
        if retired.is_empty() {
            return Ok(());
        }
        let deferred = self.inner.layout.deferred();
        let entries: Vec<Vec<u8>> = retired.iter().map(|r| self.seal_deferred(r)).collect();
        let mut pipe = redis::pipe();
        pipe.cmd("RPUSH").arg(&deferred).arg(entries);
        pipe.cmd("LTRIM")
            .arg(&deferred)
            .arg(-isize::try_from(MAX_DEFERRED).unwrap_or(isize::MAX))
            .arg(-1)
            .ignore();
        let (length,): (usize,) = self.query("defer", &pipe).await?;
        if length > MAX_DEFERRED {
            tracing::error!(
                target: "cometgate::store",
                dropped = length - MAX_DEFERRED,
                "too many failed token deletes are waiting for a retry; the oldest were dropped \
                 and stay valid at CometChat until flushed"
            );
        }
        Ok(())
    }
}

/// The reuse path's one round trip: the account record and the device's token in one script.
#[async_trait]
impl SharedStore for RedisStore {
    async fn token_unless_deleted(
        &self,
        uid: &Uid,
        device: DeviceKey,
        _now: u64,
    ) -> Result<DeviceReading, StoreError> {
        let keys = self.inner.layout.user(uid);
        let name = self.inner.names.device(device);
        let mut invocation = on_user(&scripts::GET_WITH_ACCOUNT, &keys);
        invocation.key(&keys.account);
        let invocation = with_name(invocation, &name);
        let ((account, sealed, meta),): ((Option<Vec<u8>>, Option<Vec<u8>>, String),) =
            self.query("get_with_account", &one(&invocation)).await?;
        if self
            .open_record(&keys, uid, account.as_deref())?
            .is_deleted()
        {
            return Ok(DeviceReading::Deleted);
        }
        let found = sealed
            .map(|sealed| self.open_tracked(&keys, uid, device, &sealed, &meta))
            .transpose()?;
        Ok(DeviceReading::Live(found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trips_and_refuses_junk() {
        for expires in [None, Some(1_700_604_800)] {
            let tracked = TrackedToken {
                token: TokenValue::new("t"),
                minted_at: 1_700_000_000,
                expires_at: expires,
                confirmed_at: 1_700_000_001,
            };
            let meta = Meta::new(&tracked);
            let back = Meta::decode(&meta.encode()).unwrap();
            assert_eq!(
                (back.minted, back.expires, back.confirmed),
                (1_700_000_000, expires, 1_700_000_001)
            );
            assert_eq!(back.generation, meta.generation);
        }
        for junk in ["", "a b c", "g 1 - 2 3", "g x - 2", "g 1 y 2"] {
            assert!(Meta::decode(junk).is_none(), "{junk}");
        }
    }
}
