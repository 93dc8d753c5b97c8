//! OIDC discovery: `{issuer}/.well-known/openid-configuration` names the JWKS URL.
//!
//! The document is fetched on first use and read again when it is old (its `max-age`, clamped
//! like a JWKS's) or when a token's key cannot be found, so an issuer that moves its
//! `jwks_uri` is followed. Reads are at least one cooldown apart, whatever triggers them, and
//! concurrent callers share one; while the document cannot be read, the JWKS it last named
//! keeps serving.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use crate::error::BuildError;
use crate::fetch::{FetchPolicy, Refresh, Shared, fetch_json};
use crate::jwks::{JwksCache, KeyError, TrustedKey};
use crate::keys::https_or_loopback;

/// An issuer's discovery document and the JWKS it last named.
pub(crate) struct Discovery {
    issuer: String,
    url: Url,
    policy: FetchPolicy,
    state: Shared<State>,
    reading: Mutex<()>,
}

#[derive(Default)]
struct State {
    /// The JWKS the last good document named.
    jwks: Option<Arc<JwksCache>>,
    refresh: Refresh,
}

impl Discovery {
    /// Discovery for `issuer` (already checked to be https or loopback). No I/O.
    pub(crate) fn new(issuer: &str, policy: FetchPolicy) -> Result<Self, BuildError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        Ok(Self {
            issuer: issuer.to_owned(),
            url: https_or_loopback("the OIDC discovery URL", &url)?,
            policy,
            state: Shared::default(),
            reading: Mutex::new(()),
        })
    }

    /// The trusted key named `kid`, from the JWKS the issuer currently names.
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<TrustedKey>, KeyError> {
        let (current, fresh) = {
            let state = self.state.read();
            (state.jwks.clone(), state.refresh.is_fresh(Instant::now()))
        };
        let jwks = match current {
            Some(jwks) if fresh => jwks,
            current => self.reread(current).await?,
        };
        let miss = match jwks.key(kid).await {
            Ok(key) => return Ok(key),
            Err(miss) => miss,
        };
        // The issuer may have moved its keys (the old URL gone, or serving an old set): read
        // the document again and, if it names another JWKS, look there.
        match self.reread(Some(Arc::clone(&jwks))).await {
            Ok(moved) if !Arc::ptr_eq(&moved, &jwks) => moved.key(kid).await,
            _ => Err(miss),
        }
    }

    /// Reads the document again if the cooldown allows, and gives the JWKS to use: the one it
    /// names (the same cache, keys and all, when the URL has not changed), or the one already
    /// known when it cannot be read. A caller that has one never waits for another's read.
    async fn reread(&self, current: Option<Arc<JwksCache>>) -> Result<Arc<JwksCache>, KeyError> {
        let _reading = match (&current, self.reading.try_lock()) {
            (_, Ok(guard)) => guard,
            (Some(current), Err(_)) => return Ok(Arc::clone(current)),
            (None, Err(_)) => self.reading.lock().await,
        };
        let now = Instant::now();
        let may_read = self
            .state
            .read()
            .refresh
            .may_fetch(now, self.policy.cooldown);
        if !may_read {
            return self.known();
        }
        self.state.write().refresh.attempt(now);
        let read = self.read_document().await;
        let mut state = self.state.write();
        if let Err(error) = &read {
            tracing::warn!(target: "cometgate_jwt", url = %self.url, %error, "OIDC discovery failed; keeping the JWKS it named before, if any");
        }
        if let Some(url) = state.refresh.record(read, Instant::now()) {
            let known = state.jwks.as_ref().map(|jwks| jwks.url().clone());
            // Same place: keep the cache, keys and all.
            if known.as_ref() != Some(&url) {
                if let Some(known) = known {
                    tracing::info!(target: "cometgate_jwt", url = %self.url, from = %known, to = %url, "the issuer moved its jwks_uri; following it");
                }
                state.jwks = Some(Arc::new(JwksCache::new(url, self.policy.clone())));
            }
        }
        drop(state);
        self.known()
    }

    /// The JWKS the last good document named, or why there is none.
    fn known(&self) -> Result<Arc<JwksCache>, KeyError> {
        let state = self.state.read();
        state.jwks.clone().ok_or_else(|| {
            KeyError::Unavailable(
                state
                    .refresh
                    .last_error()
                    .unwrap_or("OIDC discovery has not been read yet")
                    .to_owned(),
            )
        })
    }

    /// The JWKS URL the document names now, and how long the document is fresh.
    async fn read_document(&self) -> Result<(Url, Duration), String> {
        let fetched = fetch_json(&self.policy.http, &self.url).await?;
        let jwks_url = jwks_url_of(&self.url, &self.issuer, &fetched.json)?;
        Ok((jwks_url, self.policy.freshness(fetched.max_age)))
    }
}

/// The JWKS URL a discovery document fetched from `url` names, if the document is for `issuer`.
///
/// It must be `https://`. The loopback `http://` exemption only holds when the document itself
/// came from a loopback host (a local test issuer): a remote document cannot point key fetches
/// at plain HTTP, not even on this machine.
fn jwks_url_of(url: &Url, issuer: &str, document: &Value) -> Result<Url, String> {
    // OpenID Connect Discovery §4.3: the document must be for the issuer we trust.
    let named = document.get("issuer").and_then(Value::as_str);
    if named != Some(issuer) {
        return Err(format!("{url} names issuer {named:?}, expected {issuer:?}"));
    }
    let jwks_uri = document
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{url} has no jwks_uri"))?;
    let jwks_url = https_or_loopback("jwks_uri", jwks_uri).map_err(|e| e.to_string())?;
    if jwks_url.scheme() != "https" && !cometgate::config::is_loopback(url) {
        return Err(format!(
            "{url} names a jwks_uri that is not https:// ({jwks_url}); plain http:// is only \
             allowed when the issuer itself is on loopback"
        ));
    }
    Ok(jwks_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_discovery_document_must_name_an_https_jwks_uri() {
        let jwks_url = |discovery: &str, issuer: &str, jwks_uri: &str| {
            let url = Url::parse(discovery).unwrap();
            let document = serde_json::json!({"issuer": issuer, "jwks_uri": jwks_uri});
            jwks_url_of(&url, issuer, &document).map(String::from)
        };
        let remote = "https://id.example/.well-known/openid-configuration";
        assert_eq!(
            jwks_url(remote, "https://id.example", "https://keys.example/jwks"),
            Ok("https://keys.example/jwks".to_owned())
        );
        // The loopback exemption is for local test servers: a remote issuer's document cannot
        // point key fetches at plain HTTP on this machine (or anywhere else).
        for plain in [
            "http://127.0.0.1:8080/jwks",
            "http://localhost/jwks",
            "http://[::1]/jwks",
            "http://keys.example/jwks",
        ] {
            let refused = jwks_url(remote, "https://id.example", plain).unwrap_err();
            assert!(refused.contains("https"), "{plain}: {refused}");
        }
        // A discovery document fetched from a loopback issuer may name a loopback JWKS.
        for local in [
            "http://127.0.0.1:8080/.well-known/openid-configuration",
            "https://localhost/.well-known/openid-configuration",
        ] {
            let issuer = local.trim_end_matches("/.well-known/openid-configuration");
            assert_eq!(
                jwks_url(local, issuer, "http://127.0.0.1:9/jwks"),
                Ok("http://127.0.0.1:9/jwks".to_owned())
            );
            assert!(jwks_url(local, issuer, "http://keys.example/jwks").is_err());
        }
        let for_another_issuer = serde_json::json!({"issuer": "https://evil.example", "jwks_uri": "https://keys.example/jwks"});
        let url = Url::parse(remote).unwrap();
        assert!(jwks_url_of(&url, "https://id.example", &for_another_issuer).is_err());
    }
}
