//! Where the quickstart's gate keeps its state: in this process's memory (the default), or in
//! Redis when `REDIS_URL` is set, so that several replicas behind a load balancer share one
//! state: the token each device holds, one mint per device, the per-user cap, tombstones,
//! webhook deliveries and the rate limits, in total over all replicas (see `cometgate-redis`).

use cometgate_redis::{
    COMETGATE_REDIS_PREFIX, COMETGATE_STORE_KEY, REDIS_URL, RedisStore, RedisStoreBuilder,
};

use crate::StartError;

/// The state settings: [`Memory`](Self::Memory) without `REDIS_URL`, [`Redis`](Self::Redis)
/// with it.
#[derive(Debug, Clone)]
pub enum StateSettings {
    /// The core's in-memory stores: one process only.
    Memory,
    /// `REDIS_URL` (`redis://`, `rediss://` or `unix://`), `COMETGATE_STORE_KEY` (required),
    /// `COMETGATE_STORE_KEY_PREVIOUS` and `COMETGATE_REDIS_PREFIX`.
    Redis {
        /// Where Redis is, without credentials (for the banner).
        location: String,
        /// The store as those variables configure it.
        store: RedisStoreBuilder,
    },
}

impl StateSettings {
    /// Reads the variables through `lookup` (empty counts as unset).
    ///
    /// ```
    /// use quickstart_common::state::StateSettings;
    ///
    /// assert!(matches!(StateSettings::from_lookup(|_| None).unwrap(), StateSettings::Memory));
    ///
    /// let env = |name: &str| match name {
    ///     "REDIS_URL" => Some("redis://:hunter2@redis.internal:6379/0".to_owned()),
    ///     "COMETGATE_STORE_KEY" => Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned()),
    ///     _ => None,
    /// };
    /// let StateSettings::Redis { location, .. } = StateSettings::from_lookup(env).unwrap() else {
    ///     panic!("REDIS_URL is set")
    /// };
    /// assert_eq!(location, "redis://redis.internal:6379/0"); // no password
    ///
    /// // Redis without a key refuses to start, naming the variable.
    /// let no_key = StateSettings::from_lookup(|n| (n == "REDIS_URL").then(|| "redis://127.0.0.1".into()));
    /// assert!(no_key.unwrap_err().to_string().starts_with("COMETGATE_STORE_KEY is not set"));
    /// ```
    ///
    /// # Errors
    /// [`StartError::Redis`] naming the variable that is missing or malformed (never its value).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, StartError> {
        let Some(url) = lookup(REDIS_URL).filter(|url| !url.trim().is_empty()) else {
            return Ok(Self::Memory);
        };
        let store = RedisStoreBuilder::default()
            .env_with(&lookup)
            .map_err(StartError::Redis)?;
        Ok(Self::Redis {
            location: without_credentials(url.trim()),
            store,
        })
    }
}

/// `url` without its user, password and query (where a `unix://` URL may carry a password).
fn without_credentials(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".to_owned();
    };
    // Whatever precedes the last `@` is user information, even with a `/` in a password.
    let host_and_path = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
    format!("{scheme}://{host_and_path}")
}

/// The store the settings ask for (`None`: the gate's in-memory default) and the banner's line
/// saying where the state is. A Redis that does not answer yet is not an error: the gate
/// answers `503` until it does, and the line says so.
///
/// # Errors
/// [`StartError::Redis`] when the URL is malformed.
pub async fn connect(settings: &StateSettings) -> Result<(Option<RedisStore>, String), StartError> {
    match settings {
        StateSettings::Memory => Ok((
            None,
            format!(
                "State: in this process's memory (set {REDIS_URL} and {COMETGATE_STORE_KEY} to \
                 share it among replicas)"
            ),
        )),
        StateSettings::Redis { location, store } => {
            let store = store.clone().build().map_err(StartError::Redis)?;
            let mut line = format!(
                "State: Redis at {location}, keys under {:?} ({COMETGATE_REDIS_PREFIX}): tokens \
                 (encrypted), accounts and limits shared by every replica",
                store.prefix()
            );
            if let Err(error) = store.ping().await {
                line.push_str(&format!(
                    "\n  Redis does not answer yet ({error}): the token route answers 503 until it does"
                ));
            }
            Ok((Some(store), line))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_credentials;

    #[test]
    fn credentials_never_reach_the_banner() {
        for (url, shown) in [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("redis://:secret@host:6379/2", "redis://host:6379/2"),
            ("rediss://user:p%40ss@host", "rediss://host"),
            ("redis://user:pa@ss@host/1", "redis://host/1"),
            ("redis://:pa/secret@host", "redis://host"),
            (
                "unix:///run/redis.sock?pass=secret",
                "unix:///run/redis.sock",
            ),
            ("redis://host/0#secret", "redis://host/0"),
            ("secret", "(not a URL)"),
        ] {
            assert_eq!(without_credentials(url), shown);
            assert!(!without_credentials(url).contains("secret"));
        }
    }
}
