//! Shared state for many cometgate replicas on Redis.
//!
//! [`RedisStore`] implements the core's [`TokenStore`](cometgate::store::TokenStore) (the
//! tokens each user's devices hold, the per-user cap with least-recently-used eviction, the
//! max-age sweep, deferred deletes) and [`AccountStore`](cometgate::store::AccountStore)
//! (tombstones of deleted accounts, the ordering of user events, completed webhook
//! deliveries), so every replica behind a load balancer sees the same state.
//!
//! - **Tokens are credentials**: every token and account record is sealed with
//!   XChaCha20-Poly1305 under [`COMETGATE_STORE_KEY`] (a random nonce per value; the Redis key,
//!   the UID and the field as associated data, so a value moved elsewhere does not open).
//!   [`COMETGATE_STORE_KEY_PREVIOUS`] keeps values written before a rotation readable; they are
//!   sealed again under the new key when next written, so a rotation never forces a re-mint.
//!   Devices appear only as the hex of their [`DeviceKey`](cometgate::device::DeviceKey) (a
//!   hash); the REST key never reaches the store.
//! - **Keys** live under a prefix ([`COMETGATE_REDIS_PREFIX`], default `cometgate:`), one user's
//!   under the hash tag of its UID (`cometgate:{ada}:devices`), and every script touches one
//!   user's keys only, so a Redis Cluster can hold them. The expiry index
//!   (`cometgate:expiry`, a sorted set, so the sweep never scans) and the deferred deletes
//!   (`cometgate:deferred`, a list) are one key each: in a Cluster they live on one node.
//! - **Redis unavailable** (refusing connections, or accepting them and not answering): every
//!   call fails with a [`StoreError`](cometgate::store::StoreError) within the response
//!   timeout, which the gate answers `503 store-unavailable` with `Retry-After`. Nothing falls
//!   back to a local copy: limits that hold across replicas beat silently multiplying them. The
//!   connection manager reconnects by itself once Redis is back.
//!
//! ```
//! use cometgate_redis::{RedisStore, StoreKey};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let key = StoreKey::generate();
//! let env = |name: &str| match name {
//!     "REDIS_URL" => Some("redis://127.0.0.1:6379".to_owned()),
//!     "COMETGATE_STORE_KEY" => Some(secrecy::ExposeSecret::expose_secret(&key.to_base64()).to_owned()),
//!     _ => None,
//! };
//! // What `RedisStore::from_env()` does with the process environment.
//! let store = RedisStore::from_lookup(env)?;
//! assert_eq!(store.prefix(), "cometgate:");
//! // Then: Gate::builder().token_store(store.clone()).account_store(store) ...
//! # Ok::<(), cometgate_redis::ConfigError>(())
//! # }).unwrap();
//! ```
#![forbid(unsafe_code)]

mod accounts;
mod config;
mod key;
mod layout;
mod names;
mod scripts;
mod seal;
mod tokens;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cometgate::store::StoreError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::ExposeSecret;

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
        let call = async {
            let mut connection = self.inner.connection.clone();
            match pipe.query_async::<T>(&mut connection).await {
                Err(e)
                    if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
                {
                    scripts::load_all(&mut connection).await?;
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

/// A value that did not open: the store cannot use it.
fn open_error(what: &'static str) -> StoreError {
    StoreError::with_source(format!("redis: {what}"), OpenError)
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
                timeout,
            }),
        })
    }
}
