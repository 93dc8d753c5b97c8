//! The JWKS cache: trusted signing keys by `kid`, fetched lazily and refreshed with care.
//!
//! - nothing is fetched until the first token needs a key;
//! - a fetched set is fresh for its `Cache-Control: max-age` (clamped to
//!   [`cooldown`, 24 h]; [`DEFAULT_TTL`] when absent);
//! - a `kid` that is not in the set triggers a refetch (key rotation), but fetch attempts are at
//!   least one cooldown apart, whatever the reason: a flood of made-up `kid`s costs at most one
//!   fetch per cooldown, and concurrent callers share one fetch;
//! - when a refresh fails (an outage, an error status, or a set with no usable keys), the keys
//!   already cached keep working (stale, with a warning), but only for the policy's
//!   `stale_if_error` past their freshness: then they are refused until a fetch succeeds, so a
//!   key withdrawn after a compromise cannot be kept alive by keeping the JWKS unreachable;
//! - fetches have a timeout, follow no redirects, and read at most [`MAX_JWKS_BYTES`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

/// How long a fetched set is fresh when the response has no `max-age`.
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(5 * 60);
/// The longest a fetched set is considered fresh, whatever `max-age` says.
pub(crate) const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The largest JWKS document read (real ones are a few KiB).
pub(crate) const MAX_JWKS_BYTES: usize = 256 * 1024;

/// How a provider fetches its documents and how long it trusts what it fetched.
#[derive(Clone)]
pub(crate) struct FetchPolicy {
    /// Timeouts set, redirects off.
    pub(crate) http: reqwest::Client,
    /// The least time between two fetches of one document.
    pub(crate) cooldown: Duration,
    /// How long past their freshness keys are still served while refreshes fail.
    pub(crate) stale_if_error: Duration,
}

impl FetchPolicy {
    /// How long a fetched document is fresh: its `max-age` clamped to [cooldown, 24 h], or
    /// [`DEFAULT_TTL`] when it has none.
    pub(crate) fn freshness(&self, max_age: Option<Duration>) -> Duration {
        max_age
            .unwrap_or(DEFAULT_TTL)
            .clamp(self.cooldown.min(MAX_TTL), MAX_TTL)
    }
}

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
    fresh_until: Option<Instant>,
    /// Past this the keys are not served at all, stale or not: `fresh_until` plus the policy's
    /// `stale_if_error`.
    usable_until: Option<Instant>,
    last_attempt: Option<Instant>,
    last_error: Option<String>,
}

impl State {
    fn is_fresh(&self, now: Instant) -> bool {
        self.fresh_until.is_some_and(|until| now < until)
    }

    fn is_usable(&self, now: Instant) -> bool {
        self.usable_until.is_some_and(|until| now < until)
    }

    /// The key named `kid`, unless the set is past its stale limit.
    fn usable(&self, kid: &str, now: Instant) -> Option<Arc<TrustedKey>> {
        self.keys.get(kid).filter(|_| self.is_usable(now)).cloned()
    }

    fn may_fetch(&self, now: Instant, cooldown: Duration) -> bool {
        self.last_attempt
            .is_none_or(|at| now.saturating_duration_since(at) >= cooldown)
    }

    /// Records what a fetch finished at `now` gave: a usable set replaces the cached one, fresh
    /// for `ttl`; a failure keeps the cached keys, which stay usable until their own limit.
    fn record(
        &mut self,
        fetched: Result<(Keys, Duration), String>,
        now: Instant,
        stale_if_error: Duration,
    ) {
        match fetched {
            Ok((keys, ttl)) => {
                self.keys = keys;
                self.fresh_until = Some(now + ttl);
                // Both at most 24 h: no overflow.
                self.usable_until = Some(now + ttl + stale_if_error);
                self.last_error = None;
            }
            Err(error) => self.last_error = Some(error),
        }
    }
}

/// A JWKS endpoint and the keys last fetched from it.
pub(crate) struct JwksCache {
    url: Url,
    policy: FetchPolicy,
    state: RwLock<State>,
    fetching: Mutex<()>,
}

impl JwksCache {
    /// A cache for `url` (already checked to be https or loopback). No I/O.
    pub(crate) fn new(url: Url, policy: FetchPolicy) -> Self {
        Self {
            url,
            policy,
            state: RwLock::new(State::default()),
            fetching: Mutex::new(()),
        }
    }

    /// The trusted key named `kid`.
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<TrustedKey>, KeyError> {
        let stale = {
            let state = self.read();
            let now = Instant::now();
            match state.usable(kid, now) {
                Some(key) if state.is_fresh(now) => return Ok(key),
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
            let state = self.read();
            match state.usable(kid, now) {
                Some(key) if state.is_fresh(now) => return Ok(key),
                known if !state.may_fetch(now, self.policy.cooldown) => {
                    return known.ok_or_else(|| self.missing(&state, kid, now));
                }
                _ => {}
            }
        }
        self.write().last_attempt = Some(now);
        let fetched = self.fetch().await;
        let mut state = self.write();
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
        match &state.last_error {
            Some(error) if !state.is_usable(now) && state.keys.is_empty() => {
                KeyError::Unavailable(error.clone())
            }
            Some(error) if !state.is_usable(now) => KeyError::Unavailable(format!(
                "the cached keys are past their max-age + stale_if_error ({:?}), and {error}",
                self.policy.stale_if_error
            )),
            _ => KeyError::UnknownKid(kid.chars().take(100).collect()),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // A panic while holding the lock cannot leave the map half-written (assignments only):
        // the data is still good.
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn fetch(&self) -> Result<(Keys, Duration), String> {
        let body = fetch_json(&self.policy.http, &self.url).await?;
        let keys = usable_keys(&body.json).map_err(|e| format!("{}: {e}", self.url))?;
        Ok((keys, self.policy.freshness(body.max_age)))
    }
}

/// A fetched JSON document and its `Cache-Control: max-age`.
pub(crate) struct Fetched {
    pub(crate) json: Value,
    pub(crate) max_age: Option<Duration>,
}

/// GETs a small JSON document (JWKS or OIDC discovery).
pub(crate) async fn fetch_json(http: &reqwest::Client, url: &Url) -> Result<Fetched, String> {
    let mut response = http
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| describe_reqwest(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{url} answered HTTP {status}"));
    }
    let max_age = response
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(max_age);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe_reqwest(&e))? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(format!("{url} sent more than {MAX_JWKS_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    let json =
        serde_json::from_slice(&body).map_err(|e| format!("{url} sent invalid JSON: {e}"))?;
    Ok(Fetched { json, max_age })
}

fn describe_reqwest(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("timed out fetching {}", error.url().map_or("", Url::as_str))
    } else {
        // reqwest's messages name the URL; JWKS URLs carry no secrets.
        error.to_string()
    }
}

/// `max-age` of a `Cache-Control` value; `no-store`/`no-cache` count as zero.
pub(crate) fn max_age(cache_control: &str) -> Option<Duration> {
    let mut result = None;
    for directive in cache_control.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(value) = lower.strip_prefix("max-age=") {
            result = value
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    result
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

    #[test]
    fn max_age_is_read_and_no_store_means_zero() {
        assert_eq!(
            max_age("public, max-age=19800, must-revalidate"),
            Some(Duration::from_secs(19800))
        );
        assert_eq!(max_age("Max-Age=60"), Some(Duration::from_secs(60)));
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=-5"), None);
        assert_eq!(max_age("max-age=99999999999999999999999"), None);
    }

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
