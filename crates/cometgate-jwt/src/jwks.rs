//! The JWKS cache: trusted signing keys by `kid`, fetched lazily and refreshed with care.
//!
//! - nothing is fetched until the first token needs a key;
//! - a fetched set is fresh for its `Cache-Control: max-age` (clamped to
//!   [`cooldown`, 24 h]; [`DEFAULT_TTL`] when absent);
//! - a `kid` that is not in the set triggers a refetch (key rotation), but fetch attempts are at
//!   least one cooldown apart, whatever the reason: a flood of made-up `kid`s costs at most one
//!   fetch per cooldown, and concurrent callers share one fetch;
//! - when a refresh fails, the keys already cached keep working (stale, with a warning);
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

/// One trusted key: the decoding key and the algorithm the JWKS pins it to, if any.
pub(crate) struct TrustedKey {
    pub(crate) key: DecodingKey,
    pub(crate) algorithm: Option<Algorithm>,
}

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
    keys: HashMap<String, Arc<TrustedKey>>,
    fresh_until: Option<Instant>,
    last_attempt: Option<Instant>,
    last_error: Option<String>,
}

impl State {
    fn is_fresh(&self, now: Instant) -> bool {
        self.fresh_until.is_some_and(|until| now < until)
    }

    fn may_fetch(&self, now: Instant, cooldown: Duration) -> bool {
        self.last_attempt
            .is_none_or(|at| now.saturating_duration_since(at) >= cooldown)
    }
}

/// A JWKS endpoint and the keys last fetched from it.
pub(crate) struct JwksCache {
    url: Url,
    http: reqwest::Client,
    cooldown: Duration,
    state: RwLock<State>,
    fetching: Mutex<()>,
}

impl JwksCache {
    /// A cache for `url` (already checked to be https or loopback). No I/O.
    pub(crate) fn new(url: Url, http: reqwest::Client, cooldown: Duration) -> Self {
        Self {
            url,
            http,
            cooldown,
            state: RwLock::new(State::default()),
            fetching: Mutex::new(()),
        }
    }

    /// The trusted key named `kid`.
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<TrustedKey>, KeyError> {
        let known = {
            let state = self.read();
            let known = state.keys.get(kid).cloned();
            match known {
                Some(key) if state.is_fresh(Instant::now()) => return Ok(key),
                other => other,
            }
        };
        // Stale or unknown. A stale key that is still listed is used at once if another caller
        // is already refreshing: only one request waits for the network.
        let _fetching = match (known, self.fetching.try_lock()) {
            (_, Ok(guard)) => guard,
            (Some(stale), Err(_)) => return Ok(stale),
            (None, Err(_)) => self.fetching.lock().await,
        };
        let now = Instant::now();
        {
            let state = self.read();
            let known = state.keys.get(kid).cloned();
            match known {
                Some(key) if state.is_fresh(now) => return Ok(key),
                known if !state.may_fetch(now, self.cooldown) => {
                    return known.ok_or_else(|| self.missing(&state, kid));
                }
                _ => {}
            }
        }
        self.write().last_attempt = Some(now);
        let fetched = self.fetch().await;
        let mut state = self.write();
        match fetched {
            Ok((keys, ttl)) => {
                tracing::debug!(target: "cometgate_jwt", url = %self.url, keys = keys.len(), ttl_s = ttl.as_secs(), "fetched JWKS");
                state.keys = keys;
                state.fresh_until = Some(Instant::now() + ttl);
                state.last_error = None;
            }
            Err(error) => {
                tracing::warn!(target: "cometgate_jwt", url = %self.url, %error, cached_keys = state.keys.len(), "JWKS fetch failed; serving cached keys");
                state.last_error = Some(error);
            }
        }
        state
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| self.missing(&state, kid))
    }

    fn missing(&self, state: &State, kid: &str) -> KeyError {
        match (&state.last_error, state.keys.is_empty()) {
            (Some(error), true) => KeyError::Unavailable(error.clone()),
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

    async fn fetch(&self) -> Result<(HashMap<String, Arc<TrustedKey>>, Duration), String> {
        let body = fetch_json(&self.http, &self.url).await?;
        let ttl = body
            .max_age
            .unwrap_or(DEFAULT_TTL)
            .clamp(self.cooldown.min(MAX_TTL), MAX_TTL);
        let keys = parse_jwks(&body.json)?;
        Ok((keys, ttl))
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

/// The usable signing keys of a JWKS document, by `kid`.
///
/// Entries that cannot serve here are skipped, not fatal (a set may hold encryption keys or
/// key types this build does not support): keys without a `kid`, `use` other than `sig`,
/// symmetric (`oct`) keys, which would let anyone who knows the "public" set forge tokens, and
/// entries that do not parse.
pub(crate) fn parse_jwks(json: &Value) -> Result<HashMap<String, Arc<TrustedKey>>, String> {
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

    #[test]
    fn symmetric_unnamed_and_encryption_keys_are_never_trusted() {
        let rsa = json!({"kty": "RSA", "kid": "r1", "alg": "RS256", "use": "sig",
            "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw",
            "e": "AQAB"});
        let set = json!({"keys": [
            rsa,
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
}
