//! [`RedisStoreBuilder`] and [`RedisStore::from_env`](crate::RedisStore::from_env): where Redis
//! is, the key prefix, the encryption keys and the timeouts.

use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::key::{KeyError, StoreKey};

/// `REDIS_URL`: `redis://`, `rediss://` (TLS) or `unix://`.
pub const REDIS_URL: &str = "REDIS_URL";
/// `COMETGATE_REDIS_PREFIX`: the prefix of every key (default [`DEFAULT_PREFIX`]).
pub const COMETGATE_REDIS_PREFIX: &str = "COMETGATE_REDIS_PREFIX";
/// `COMETGATE_STORE_KEY`: 32 random bytes in standard base64, the key values are sealed with.
pub const COMETGATE_STORE_KEY: &str = "COMETGATE_STORE_KEY";
/// `COMETGATE_STORE_KEY_PREVIOUS`: optional, the key before a rotation, to open older values.
pub const COMETGATE_STORE_KEY_PREVIOUS: &str = "COMETGATE_STORE_KEY_PREVIOUS";

/// The prefix of every key unless configured otherwise.
pub const DEFAULT_PREFIX: &str = "cometgate:";
/// How long a connection attempt may take unless configured otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a store call may take, all its round trips included, unless configured otherwise.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a [`RedisStore`](crate::RedisStore) could not be built. Messages name the setting,
/// never its value (a URL may hold a password, a key is a secret).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable or setting is missing.
    #[error("{0} is not set")]
    Missing(&'static str),
    /// An encryption key is malformed.
    #[error("{variable} is not a valid key: {reason}")]
    InvalidKey {
        /// `COMETGATE_STORE_KEY` or `COMETGATE_STORE_KEY_PREVIOUS`.
        variable: &'static str,
        /// What is wrong with it.
        reason: KeyError,
    },
    /// The URL is not one the client accepts.
    #[error("{REDIS_URL} is not a valid redis://, rediss:// or unix:// URL ({reason})")]
    InvalidUrl {
        /// The client's reason (without the URL).
        reason: String,
    },
    /// The prefix holds `{` or `}`, which would break the per-user hash tags.
    #[error(
        "{COMETGATE_REDIS_PREFIX} must not contain '{{' or '}}' (they are the per-user hash tags)"
    )]
    InvalidPrefix,
    /// A timeout of zero would fail every call.
    #[error("the {0} timeout must be more than zero")]
    ZeroTimeout(&'static str),
    /// Built outside a Tokio runtime (the connection manager runs on it).
    #[error("a RedisStore must be built inside a Tokio runtime")]
    NoRuntime,
}

/// Builds a [`RedisStore`](crate::RedisStore). A URL and a key are required.
///
/// Building does not connect: the store connects on first use and reconnects by itself, so an
/// app starts while Redis is down and answers `503` until it is back.
///
/// ```
/// use std::time::Duration;
/// use cometgate_redis::{RedisStore, StoreKey};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = RedisStore::builder()
///     .url("redis://127.0.0.1:6379")
///     .prefix("myapp:cometgate:")
///     .key(StoreKey::generate())
///     .response_timeout(Duration::from_millis(500))
///     .build()?;
/// assert_eq!(store.prefix(), "myapp:cometgate:");
///
/// // Without a key it refuses, naming the variable.
/// let err = RedisStore::builder().url("redis://127.0.0.1:6379").build().unwrap_err();
/// assert_eq!(err.to_string(), "COMETGATE_STORE_KEY is not set");
/// # Ok::<(), cometgate_redis::ConfigError>(())
/// # }).unwrap();
/// ```
#[derive(Default, Clone)]
pub struct RedisStoreBuilder {
    pub(crate) url: Option<SecretString>,
    pub(crate) prefix: Option<String>,
    pub(crate) key: Option<StoreKey>,
    pub(crate) previous_key: Option<StoreKey>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) response_timeout: Option<Duration>,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("url", &self.url.as_ref().map(|_| "redacted"))
            .field("prefix", &self.prefix)
            .field("key", &self.key)
            .field("previous_key", &self.previous_key)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish()
    }
}

impl RedisStoreBuilder {
    /// Where Redis is: `redis://[user:password@]host[:port][/db]`, `rediss://...` (TLS) or
    /// `unix:///path/to/redis.sock`.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(SecretString::from(url.into()));
        self
    }

    /// The prefix of every key (default [`DEFAULT_PREFIX`]), so several apps can share a Redis.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// The key values are sealed with (required).
    pub fn key(mut self, key: StoreKey) -> Self {
        self.key = Some(key);
        self
    }

    /// The key before a rotation: values sealed under it stay readable and are sealed again
    /// under [`key`](Self::key) when next written.
    pub fn previous_key(mut self, key: StoreKey) -> Self {
        self.previous_key = Some(key);
        self
    }

    /// How long one connection attempt may take (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long one store call may take, every round trip and any reconnection included
    /// (default [`DEFAULT_RESPONSE_TIMEOUT`]); past it the call fails with a
    /// [`StoreError`](cometgate::store::StoreError).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = Some(timeout);
        self
    }

    /// The settings from the environment: [`REDIS_URL`], [`COMETGATE_REDIS_PREFIX`],
    /// [`COMETGATE_STORE_KEY`], [`COMETGATE_STORE_KEY_PREVIOUS`], read through `lookup`.
    ///
    /// ```
    /// use cometgate_redis::RedisStoreBuilder;
    ///
    /// let env = |name: &str| match name {
    ///     "REDIS_URL" => Some("redis://127.0.0.1:6379".to_owned()),
    ///     "COMETGATE_STORE_KEY" => Some("too short".to_owned()),
    ///     _ => None,
    /// };
    /// let err = RedisStoreBuilder::default().env_with(env).unwrap_err();
    /// assert!(err.to_string().starts_with("COMETGATE_STORE_KEY is not a valid key"));
    /// assert!(!err.to_string().contains("too short"));
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when `REDIS_URL` or `COMETGATE_STORE_KEY` is missing or a key is
    /// malformed (naming the variable, never its value).
    pub fn env_with(
        mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let key = |variable: &'static str| {
            set(variable)
                .map(|text| {
                    let text = SecretString::from(text);
                    StoreKey::from_base64(text.expose_secret())
                        .map_err(|reason| ConfigError::InvalidKey { variable, reason })
                })
                .transpose()
        };
        self.url = Some(SecretString::from(
            set(REDIS_URL).ok_or(ConfigError::Missing(REDIS_URL))?,
        ));
        if let Some(prefix) = lookup(COMETGATE_REDIS_PREFIX).filter(|p| !p.is_empty()) {
            self.prefix = Some(prefix);
        }
        self.key =
            Some(key(COMETGATE_STORE_KEY)?.ok_or(ConfigError::Missing(COMETGATE_STORE_KEY))?);
        self.previous_key = key(COMETGATE_STORE_KEY_PREVIOUS)?;
        Ok(self)
    }
}
