//! The JWKS cache: trusted signing keys by `kid`, fetched lazily and refreshed with care.
//!
//! - nothing is fetched until the first token needs a key;
//! - a fetched set is fresh for its `Cache-Control: max-age` (clamped to
//!   [`cooldown`, 24 h]; [`DEFAULT_TTL`](crate::fetch::DEFAULT_TTL) when absent);
//! - a `kid` that is not in the set triggers a refetch (key rotation), but fetch attempts are at
//!   least one cooldown apart, whatever the reason: a flood of made-up `kid`s costs at most one
//!   fetch per cooldown, and concurrent callers share one fetch;
//! - when a refresh fails (an outage, an error status, or a set with no usable keys), the keys
//!   already cached keep working (stale, with a warning), but only for the policy's
//!   `stale_if_error` past their freshness: then they are refused until a fetch succeeds, so a
//!   key withdrawn after a compromise cannot be kept alive by keeping the JWKS unreachable;
//! - fetches are [`fetch_json`]'s: a timeout, no redirects, a size limit.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use crate::fetch::{FetchPolicy, Refresh, Shared, fetch_json};

/// One trusted key: the decoding key and the algorithm the JWKS pins it to, if any.
pub(crate) struct TrustedKey {
    pub(crate) key: DecodingKey,
    pub(crate) algorithm: Option<Algorithm>,
}

/// Trusted keys by `kid`.
type Keys = HashMap<String, Arc<TrustedKey>>;

/// Why no key could be had for a `kid`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyError {
    #[error("no trusted key has kid {0:?}")]
    UnknownKid(String),
    #[error("the signing keys are unavailable: {0}")]
    Unavailable(String),
}

#[derive(Default)]
struct State {
    keys: Keys,
    /// Past this the keys are not served at all, stale or not: the set's freshness plus the
    /// policy's `stale_if_error`.
    usable_until: Option<Instant>,
    refresh: Refresh,
}

impl State {
    fn is_usable(&self, now: Instant) -> bool {
        self.usable_until.is_some_and(|until| now < until)
    }

    /// The key named `kid`, unless the set is past its stale limit.
    fn usable(&self, kid: &str, now: Instant) -> Option<Arc<TrustedKey>> {
        self.keys.get(kid).filter(|_| self.is_usable(now)).cloned()
    }

    /// Records what a fetch finished at `now` gave: a usable set replaces the cached one, fresh
    /// for `ttl`; a failure keeps the cached keys, which stay usable until their own limit.
    fn record(
        &mut self,
        fetched: Result<(Keys, Duration), String>,
        now: Instant,
        stale_if_error: Duration,
    ) {
        if let Some(keys) = self.refresh.record(fetched, now) {
            self.keys = keys;
            // Both at most 24 h: no overflow.
            self.usable_until = self.refresh.fresh_until().map(|f| f + stale_if_error);
        }
    }
}

/// A JWKS endpoint and the keys last fetched from it.
pub(crate) struct JwksCache {
    url: Url,
    policy: FetchPolicy,
    state: Shared<State>,
    fetching: Mutex<()>,
}

impl JwksCache {
    /// A cache for `url` (already checked to be https or loopback). No I/O.
    pub(crate) fn new(url: Url, policy: FetchPolicy) -> Self {
        Self {
            url,
            policy,
            state: Shared::default(),
            fetching: Mutex::new(()),
        }
    }

    /// The JWKS URL.
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// The trusted key named `kid`.
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<TrustedKey>, KeyError> {
        let stale = {
            let state = self.state.read();
            let now = Instant::now();
            match state.usable(kid, now) {
                Some(key) if state.refresh.is_fresh(now) => return Ok(key),
                other => other,
            }
        };
        // Stale or unknown. A stale key that is still listed (and within its stale limit) is
        // used at once if another caller is already refreshing: only one request waits for
        // the network.
        let _fetching = match (stale, self.fetching.try_lock()) {
            (_, Ok(guard)) => guard,
            (Some(stale), Err(_)) => return Ok(stale),
            (None, Err(_)) => self.fetching.lock().await,
        };
        let now = Instant::now();
        {
            let state = self.state.read();
            match state.usable(kid, now) {
                Some(key) if state.refresh.is_fresh(now) => return Ok(key),
                known if !state.refresh.may_fetch(now, self.policy.cooldown) => {
                    return known.ok_or_else(|| self.missing(&state, kid, now));
                }
                _ => {}
            }
        }
        self.state.write().refresh.attempt(now);
        let fetched = self.fetch().await;
        let mut state = self.state.write();
        let now = Instant::now();
        match &fetched {
            Ok((keys, ttl)) => {
                tracing::debug!(target: "cometgate_jwt", url = %self.url, keys = keys.len(), ttl_s = ttl.as_secs(), "fetched JWKS");
            }
            Err(error) if state.is_usable(now) => {
                tracing::warn!(target: "cometgate_jwt", url = %self.url, %error, cached_keys = state.keys.len(), "JWKS fetch failed; serving cached keys");
            }
            Err(error) => {
                tracing::warn!(target: "cometgate_jwt", url = %self.url, %error, cached_keys = state.keys.len(), "JWKS fetch failed and no cached key may be served; tokens are refused until a fetch succeeds");
            }
        }
        state.record(fetched, now, self.policy.stale_if_error);
        state
            .usable(kid, now)
            .ok_or_else(|| self.missing(&state, kid, now))
    }

    fn missing(&self, state: &State, kid: &str, now: Instant) -> KeyError {
        match state.refresh.last_error() {
            Some(error) if !state.is_usable(now) && state.keys.is_empty() => {
                KeyError::Unavailable(error.to_owned())
            }
            Some(error) if !state.is_usable(now) => KeyError::Unavailable(format!(
                "the cached keys are past their max-age + stale_if_error ({:?}), and {error}",
                self.policy.stale_if_error
            )),
            _ => KeyError::UnknownKid(kid.chars().take(100).collect()),
        }
    }

    async fn fetch(&self) -> Result<(Keys, Duration), String> {
        let body = fetch_json(&self.policy.http, &self.url).await?;
        let keys = usable_keys(&body.json).map_err(|e| format!("{}: {e}", self.url))?;
        Ok((keys, self.policy.freshness(body.max_age)))
    }
}

/// The usable signing keys of a JWKS document; a set with none is an error, not an empty
/// cache: a broken deploy or a hostile answer must not wipe keys that still verify.
fn usable_keys(json: &Value) -> Result<Keys, String> {
    let keys = parse_jwks(json)?;
    if keys.is_empty() {
        return Err("the JWKS lists no usable signing keys".into());
    }
    Ok(keys)
}

/// The usable signing keys of a JWKS document, by `kid`.
///
/// Entries that cannot serve here are skipped, not fatal (a set may hold encryption keys or
/// key types this build does not support): keys without a `kid`, `use` other than `sig`,
/// symmetric (`oct`) keys, which would let anyone who knows the "public" set forge tokens, and
/// entries that do not parse.
pub(crate) fn parse_jwks(json: &Value) -> Result<Keys, String> {
    let entries = json
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("the JWKS document has no `keys` array")?;
    let mut keys = HashMap::new();
    for entry in entries {
        let Ok(jwk) = serde_json::from_value::<Jwk>(entry.clone()) else {
            continue;
        };
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature)
            || matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_))
        {
            continue;
        }
        let algorithm = match jwk.common.key_algorithm.map(algorithm_of) {
            None => None,
            Some(Some(alg)) => Some(alg),
            // Pinned to an algorithm that is not a JWS signature algorithm: not for us.
            Some(None) => continue,
        };
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        keys.insert(kid, Arc::new(TrustedKey { key, algorithm }));
    }
    Ok(keys)
}

fn algorithm_of(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// A public RSA signing key named `kid`.
    fn rsa(kid: &str) -> Value {
        json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw",
            "e": "AQAB"})
    }

    #[test]
    fn symmetric_unnamed_and_encryption_keys_are_never_trusted() {
        let set = json!({"keys": [
            rsa("r1"),
            {"kty": "oct", "kid": "h1", "k": "c2VjcmV0"},
            {"kty": "RSA", "alg": "RS256", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "weird", "kid": "w"},
        ]});
        let keys = parse_jwks(&set).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), vec!["r1"]);
        assert_eq!(keys["r1"].algorithm, Some(Algorithm::RS256));
        assert!(parse_jwks(&json!({"nokeys": []})).is_err());
    }

    const KIDS: [&str; 3] = ["a", "b", "c"];

    /// What happens to a cache, in order.
    #[derive(Debug, Clone)]
    enum Step {
        Wait(Duration),
        /// A fetch answered with a document listing the keys of `KIDS` whose bit is set in
        /// `listed`, and a key unusable here when `junk`, fresh for `ttl`.
        Answer {
            listed: u8,
            junk: bool,
            ttl: Duration,
        },
        /// A fetch failed (timeout, error status, bad JSON).
        Fail,
    }

    fn step() -> impl Strategy<Value = Step> {
        let millis = |max: u64| (0..max).prop_map(Duration::from_millis);
        prop_oneof![
            millis(4_000).prop_map(Step::Wait),
            (0..8u8, any::<bool>(), millis(3_000)).prop_map(|(listed, junk, ttl)| Step::Answer {
                listed,
                junk,
                ttl
            }),
            Just(Step::Fail),
        ]
    }

    fn document(listed: u8, junk: bool) -> Value {
        let mut keys: Vec<Value> = KIDS
            .iter()
            .enumerate()
            .filter(|(bit, _)| listed & (1 << bit) != 0)
            .map(|(_, kid)| rsa(kid))
            .collect();
        if junk {
            keys.push(json!({"kty": "oct", "kid": "a", "k": "c2VjcmV0"}));
        }
        json!({ "keys": keys })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever the JWKS answers and whenever: a key is served exactly while it is in the
        /// last set that had a usable key, and that set is within max-age + stale_if_error.
        /// Failures and empty sets never wipe it, and never extend it.
        #[test]
        fn keys_are_served_from_the_last_usable_set_within_its_stale_limit(
            stale_if_error in (0..3_000u64).prop_map(Duration::from_millis),
            steps in proptest::collection::vec(step(), 1..40),
        ) {
            let mut now = Instant::now();
            let mut state = State::default();
            // The model: the last usable set's kids and when it stops being served.
            let mut last_set: Option<(u8, Instant)> = None;
            for step in &steps {
                match *step {
                    Step::Wait(wait) => now += wait,
                    Step::Answer { listed, junk, ttl } => {
                        let fetched = usable_keys(&document(listed, junk)).map(|keys| (keys, ttl));
                        state.record(fetched, now, stale_if_error);
                        if listed != 0 {
                            last_set = Some((listed, now + ttl + stale_if_error));
                        }
                    }
                    Step::Fail => state.record(Err("down".into()), now, stale_if_error),
                }
                for (bit, kid) in KIDS.iter().enumerate() {
                    let expected = last_set
                        .is_some_and(|(listed, until)| listed & (1 << bit) != 0 && now < until);
                    prop_assert_eq!(state.usable(kid, now).is_some(), expected, "kid {} after {:?}", kid, step);
                }
            }
        }
    }
}
