//! Shared state for many cometgate replicas on Redis.
//!
//! [`RedisStore`] implements the core's three store traits, so every replica behind a load
//! balancer sees one state: [`TokenStore`](cometgate::store::TokenStore) (the token each
//! device holds, one mint per device across replicas, the per-user cap with least-recently-used
//! eviction, the max-age sweep, deferred deletes), [`AccountStore`](cometgate::store::AccountStore)
//! (account records and their tombstones, ordered by the core's own rule, and completed webhook
//! deliveries) and [`LimitStore`](cometgate::store::LimitStore) (the per-user limits and the
//! upstream budget, in total over all replicas). One value serves as all three: pass it (or
//! clones, which share one connection; an `Arc<RedisStore>` works too) to
//! [`GateBuilder::token_store`](cometgate::GateBuilder::token_store),
//! [`account_store`](cometgate::GateBuilder::account_store) and
//! [`limit_store`](cometgate::GateBuilder::limit_store). Without the last, each replica keeps
//! its own limits and N replicas allow N times the budget.
//!
//! ```
//! use cometgate_redis::{RedisStore, StoreKey};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let key = StoreKey::generate(); // in production: `openssl rand -base64 32`, kept secret
//! let env = |name: &str| match name {
//!     "REDIS_URL" => Some("redis://127.0.0.1:6379".to_owned()),
//!     "COMETGATE_STORE_KEY" => Some(secrecy::ExposeSecret::expose_secret(&key.to_base64()).to_owned()),
//!     _ => None,
//! };
//! // What `RedisStore::from_env()` does with the process environment. It does not connect:
//! // the first call does (and fails, promptly, while Redis is down).
//! let store = RedisStore::from_lookup(env)?;
//! assert_eq!(store.prefix(), "cometgate:");
//! // One store, three roles (tokens, account records, limits); a known device's token
//! // request then costs one round trip.
//! let builder = cometgate::Gate::builder().store(store);
//! // ... .config(..).identity(..).build()
//! # drop(builder);
//! # Ok::<(), cometgate_redis::ConfigError>(())
//! # }).unwrap();
//! ```
//!
//! # What Redis holds
//!
//! Under the prefix `P` ([`COMETGATE_REDIS_PREFIX`], default `cometgate:`):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `P tok:{uid}` | hash | device name → sealed token |
//! | `P meta:{uid}` | hash | device name → `generation minted expires confirmed` |
//! | `P lru:{uid}` | sorted set | device names by last use |
//! | `P account:{uid}` | string | the sealed account record |
//! | `P expiry` | sorted set | `generation uid` by max age, so the sweep never scans |
//! | `P deferred` | list | `uid` and a sealed token whose delete failed |
//! | `P delivery:<hash>` | string | a completed webhook delivery, until its time |
//! | `P limit:upstream` | string | the upstream budget's GCRA time (µs), until all cells are free |
//! | `P limit:mint:{uid}`, `P limit:revoke:{uid}` | string | a user's GCRA time, likewise |
//! | `P flight:{uid}:<device name>` | string | a random mint-lock holder value, for its time to live |
//!
//! **Tokens are credentials.** Tokens and account records (profiles) are sealed with
//! XChaCha20-Poly1305 under a subkey of [`COMETGATE_STORE_KEY`]: a random 192-bit nonce per
//! value, the value's kind, Redis key and UID as associated data (a value copied to another
//! key or user does not open), the device's key inside the sealed token (nor to another
//! device). A device is named by `HMAC-SHA256` of its key under another subkey, so neither its
//! id nor the core's unkeyed [`DeviceKey`](cometgate::device::DeviceKey) is in Redis. The REST
//! key never reaches the store. In clear are UIDs, times, counts and delivery-id hashes.
//! Without a key the store refuses to start.
//!
//! **Rotating the key** without a re-mint: (1) give every replica the new key as
//! [`COMETGATE_STORE_KEY_PREVIOUS`], (2) once all run so, swap the two (new key current, old
//! previous). Every replica reads every value at each step; a value is sealed again under the
//! current key when next written, and a device moves to its new name when next used. Keep the
//! previous key as long as values sealed under it may remain (a device idle since the
//! rotation): a value no key opens is an error (`503`), never a silent re-mint.
//!
//! # Across replicas
//!
//! The limits are GCRA on Redis's clock (`TIME` inside the script), so replicas' clocks never
//! enter into them (see `limits`' docs); the mint lock is `SET NX PX` with a random holder
//! value and a compare-and-delete release (see `flight`'s docs). Each costs one round trip.
//!
//! Each token-store method is one Lua script on one user's keys (atomic: two replicas never
//! interleave inside it), sent in one round trip: a reused token costs one (the tombstone
//! and the device's token read by one script, given the store with
//! [`GateBuilder::store`](cometgate::vend::GateBuilder::store); two when it is passed as
//! token and account store separately), a mint of a new device six (the tombstone check, the
//! mint lock's take, a look for a token another replica minted meanwhile, `track`, the
//! tombstone check again and the lock's release) plus one per limit taken (the per-user
//! limit, the upstream budget) unless it is unlimited, a recheck two more (`confirm`).
//! An account change reads the record, applies
//! [`AccountRecord::apply`](cometgate::store::AccountRecord::apply) and writes the result with
//! a compare-and-set script, again on a lost race (see `accounts`' docs for why not `WATCH`).
//! Scripts are loaded once (`EVALSHA`; loaded again after Redis restarts). Every key of one
//! user carries its UID as a hash tag, and no script touches two users, so the layout fits a
//! Redis Cluster; this version connects to one Redis (a primary) through the `redis` crate's
//! connection manager.
//!
//! Redis must not evict these keys: set `maxmemory-policy` to `noeviction` (or a `volatile-*`
//! policy: tokens and tombstones have no time to live). An evicted tombstone would let a
//! deleted account be created again; an evicted token stays valid at CometChat untracked.
//! Redis 6.2 or newer.
//!
//! # Redis unavailable
//!
//! Refusing connections or accepting them and not answering: every call fails with a
//! [`StoreError`] within the response timeout (default
//! [`DEFAULT_RESPONSE_TIMEOUT`]), which the gate answers `503 store-unavailable` problem+json
//! with `Retry-After`. Nothing falls back to a local copy: limits that hold across replicas beat
//! limits silently multiplied by the number of replicas. The connection manager reconnects by
//! itself once Redis is back. A call that failed by its timeout may still be carried out when
//! Redis answers again, as with any remote store.
#![forbid(unsafe_code)]

mod accounts;
mod config;
mod flight;
mod key;
mod layout;
mod limits;
mod names;
mod scripts;
mod seal;
mod tokens;

#[cfg(feature = "test-server")]
pub mod test_server;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cometgate::store::StoreError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::ExposeSecret;

pub use accounts::{DELIVERY_MIN_TTL, LIVE_RECORD_TTL};
pub use config::{
    COMETGATE_REDIS_PREFIX, COMETGATE_STORE_KEY, COMETGATE_STORE_KEY_PREVIOUS, ConfigError,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_PREFIX, DEFAULT_RESPONSE_TIMEOUT, REDIS_URL,
    RedisStoreBuilder,
};
pub use key::{KeyError, StoreKey};
pub use seal::OpenError;

use layout::Layout;
use names::Names;
use seal::Sealer;

/// The token store and account store on Redis. Cheap to clone: clones share one connection
/// manager, so one value can be both the gate's token store and its account store.
///
/// Build it with [`builder`](Self::builder) or [`from_env`](Self::from_env) (inside a Tokio
/// runtime); see the [crate docs](crate) for what it keeps where.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    connection: ConnectionManager,
    layout: Layout,
    sealer: Sealer,
    names: Names,
    timeout: Duration,
    /// Pipelines sent (each one round trip), for [`RedisStore::round_trips`].
    round_trips: AtomicU64,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No URL (it may hold a password), no key.
        f.debug_struct("RedisStore")
            .field("prefix", &self.inner.layout.prefix())
            .field("timeout", &self.inner.timeout)
            .field("sealer", &self.inner.sealer)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A builder; a URL and a key are required.
    pub fn builder() -> RedisStoreBuilder {
        RedisStoreBuilder::default()
    }

    /// The store from [`REDIS_URL`], [`COMETGATE_REDIS_PREFIX`], [`COMETGATE_STORE_KEY`] and
    /// [`COMETGATE_STORE_KEY_PREVIOUS`] in the process environment, with the default timeouts.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the variable that is missing or malformed (never its value), or
    /// [`ConfigError::NoRuntime`] outside a Tokio runtime.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) reading variables through `lookup`.
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::builder().env_with(lookup)?.build()
    }

    /// The prefix of every key the store writes.
    pub fn prefix(&self) -> &str {
        self.inner.layout.prefix()
    }

    /// How many round trips to Redis this store (and its clones) made so far: each call is one
    /// (a pipeline), [`confirm`](cometgate::store::TokenStore::confirm) two, a sweep batch
    /// three; a script Redis had to load again adds two. For capacity planning and benchmarks.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let store = cometgate_redis::RedisStore::builder()
    ///     .url("redis://127.0.0.1:6379")
    ///     .key(cometgate_redis::StoreKey::generate())
    ///     .build()?;
    /// assert_eq!(store.round_trips(), 0, "building does not connect");
    /// # Ok::<(), cometgate_redis::ConfigError>(())
    /// # }).unwrap();
    /// ```
    pub fn round_trips(&self) -> u64 {
        self.inner.round_trips.load(Ordering::Relaxed)
    }

    /// Asks Redis for a `PONG`, within the response timeout: a readiness check.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when Redis does not answer in time.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("PING");
        self.query::<(String,)>("ping", &pipe).await.map(|_| ())
    }

    /// Sends `pipe` (one round trip) within the response timeout. A script Redis lacks (first
    /// use, or a restart emptied its cache) loads every script and sends `pipe` again: each
    /// pipeline is safe to repeat (the script failed, so nothing it does happened; the plain
    /// commands beside it are idempotent). A Redis error or the timeout becomes a
    /// [`StoreError`] naming `what`, never a token or device id (none is on the wire in clear).
    async fn query<T: redis::FromRedisValue>(
        &self,
        what: &'static str,
        pipe: &redis::Pipeline,
    ) -> Result<T, StoreError> {
        let timeout = self.inner.timeout;
        let count = || self.inner.round_trips.fetch_add(1, Ordering::Relaxed);
        let call = async {
            let mut connection = self.inner.connection.clone();
            count();
            match pipe.query_async::<T>(&mut connection).await {
                Err(e)
                    if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
                {
                    count();
                    scripts::load_all(&mut connection).await?;
                    count();
                    pipe.query_async::<T>(&mut connection).await
                }
                other => other,
            }
        };
        match tokio::time::timeout(timeout, call).await {
            Ok(answer) => answer.map_err(|e| redis_error(what, e)),
            Err(_) => Err(StoreError::new(format!(
                "redis: {what} got no answer within {} ms",
                timeout.as_millis()
            ))),
        }
    }
}

fn redis_error(what: &'static str, error: redis::RedisError) -> StoreError {
    let why = if error.is_connection_refusal() {
        "connection refused"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_connection_dropped() || error.is_io_error() {
        "connection lost"
    } else {
        "Redis answered an error"
    };
    StoreError::with_source(format!("redis: {what} failed: {why}"), error)
}

/// A value that did not open: the store cannot use it (and says which keys it tried).
fn open_error(what: &'static str) -> StoreError {
    StoreError::with_source(
        format!(
            "redis: {what} does not decrypt under {COMETGATE_STORE_KEY} (nor \
             {COMETGATE_STORE_KEY_PREVIOUS}): a wrong or dropped key, or an altered value"
        ),
        OpenError,
    )
}

impl RedisStoreBuilder {
    /// Builds the store. It does not connect yet (see [`RedisStoreBuilder`]).
    ///
    /// # Errors
    ///
    /// [`ConfigError`]: no URL or key, a malformed URL or prefix, a zero timeout, or no Tokio
    /// runtime.
    pub fn build(self) -> Result<RedisStore, ConfigError> {
        let url = self.url.ok_or(ConfigError::Missing(REDIS_URL))?;
        let key = self.key.ok_or(ConfigError::Missing(COMETGATE_STORE_KEY))?;
        let prefix = self.prefix.unwrap_or_else(|| DEFAULT_PREFIX.to_owned());
        if prefix.contains(['{', '}']) {
            return Err(ConfigError::InvalidPrefix);
        }
        let connect = self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let timeout = self.response_timeout.unwrap_or(DEFAULT_RESPONSE_TIMEOUT);
        if connect.is_zero() {
            return Err(ConfigError::ZeroTimeout("connect"));
        }
        if timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout("response"));
        }
        let client =
            redis::Client::open(url.expose_secret()).map_err(|e| ConfigError::InvalidUrl {
                reason: format!("{:?}", e.kind()),
            })?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ConfigError::NoRuntime);
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connect))
            .set_response_timeout(Some(timeout))
            // Few, quick retries: each call is bounded by `timeout` anyway, and a failed
            // reconnection is started again by the next call.
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client, config).map_err(|e| {
            ConfigError::InvalidUrl {
                reason: format!("{:?}", e.kind()),
            }
        })?;
        Ok(RedisStore {
            inner: Arc::new(Inner {
                connection,
                layout: Layout::new(prefix),
                sealer: Sealer::new(&key, self.previous_key.as_ref()),
                names: Names::new(&key, self.previous_key.as_ref()),
                round_trips: AtomicU64::new(0),
                timeout,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn debug_and_errors_show_no_key_and_no_password() {
        let (key, previous) = (StoreKey::generate(), StoreKey::generate());
        let secrets = [
            key.to_base64().expose_secret().to_owned(),
            previous.to_base64().expose_secret().to_owned(),
            "hunter2".to_owned(),
        ];
        let builder = RedisStore::builder()
            .url("redis://user:hunter2@127.0.0.1:1/0")
            .key(key.clone())
            .previous_key(previous);
        let shown = [
            format!("{builder:?}"),
            format!("{:?}", builder.build().unwrap()),
        ];
        let bad_url = RedisStore::builder()
            .url("nope://user:hunter2@127.0.0.1")
            .key(key)
            .build()
            .unwrap_err();
        let errors = [bad_url.to_string(), format!("{bad_url:?}")];
        for text in shown.iter().chain(&errors) {
            for secret in &secrets {
                assert!(!text.contains(secret.trim_end_matches('=')), "{text}");
            }
        }
        assert!(
            errors[0].starts_with("REDIS_URL is not a valid"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn building_outside_a_runtime_or_without_a_key_or_with_a_braced_prefix_is_refused() {
        let no_runtime = RedisStore::builder()
            .url("redis://127.0.0.1")
            .key(StoreKey::generate())
            .build();
        assert!(matches!(no_runtime, Err(ConfigError::NoRuntime)));
        let env = |name: &str| (name == REDIS_URL).then(|| "redis://127.0.0.1".to_owned());
        let no_key = RedisStore::from_lookup(env).unwrap_err();
        assert_eq!(no_key.to_string(), "COMETGATE_STORE_KEY is not set");
        let braced = RedisStore::builder()
            .url("redis://127.0.0.1")
            .key(StoreKey::generate())
            .prefix("app:{x}:")
            .build();
        assert!(matches!(braced, Err(ConfigError::InvalidPrefix)));
    }
}
