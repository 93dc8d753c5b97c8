//! Where a provider's verification keys come from: a shared secret, a JWKS URL, or OIDC
//! discovery (which finds the JWKS URL on first use).

use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, Header};
use serde_json::Value;
use tokio::sync::OnceCell;
use tokio::time::Instant;
use url::Url;

use crate::error::BuildError;
use crate::jwks::{FetchPolicy, JwksCache, KeyError, TrustedKey, fetch_json};

/// The source of a provider's keys.
// One per identity, behind its `Arc`: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum KeySource {
    /// HMAC: one secret, no `kid` needed.
    Secret(Arc<TrustedKey>),
    /// A JWKS URL.
    Jwks(JwksCache),
    /// OIDC discovery: `{issuer}/.well-known/openid-configuration` names the JWKS URL.
    Discovery(Discovery),
}

impl KeySource {
    pub(crate) fn secret(secret: &[u8]) -> Self {
        Self::Secret(Arc::new(TrustedKey {
            key: DecodingKey::from_secret(secret),
            algorithm: None,
        }))
    }

    /// The key that must have signed a token with this header.
    pub(crate) async fn key_for(&self, header: &Header) -> Result<Arc<TrustedKey>, KeyError> {
        let kid = || {
            header
                .kid
                .as_deref()
                .filter(|k| !k.is_empty())
                .ok_or_else(|| KeyError::UnknownKid("(the token names no kid)".into()))
        };
        match self {
            Self::Secret(key) => Ok(Arc::clone(key)),
            Self::Jwks(cache) => cache.key(kid()?).await,
            Self::Discovery(discovery) => discovery.jwks().await?.key(kid()?).await,
        }
    }
}

/// OIDC discovery, resolved once on first use; failures are retried at most once per cooldown.
pub(crate) struct Discovery {
    issuer: String,
    url: Url,
    policy: FetchPolicy,
    jwks: OnceCell<JwksCache>,
    last_failure: std::sync::Mutex<Option<(Instant, String)>>,
}

impl Discovery {
    pub(crate) fn new(issuer: &str, policy: FetchPolicy) -> Result<Self, BuildError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        Ok(Self {
            issuer: issuer.to_owned(),
            url: https_or_loopback("the OIDC discovery URL", &url)?,
            policy,
            jwks: OnceCell::new(),
            last_failure: std::sync::Mutex::new(None),
        })
    }

    async fn jwks(&self) -> Result<&JwksCache, KeyError> {
        self.jwks
            .get_or_try_init(|| async {
                if let Some((at, error)) = self.last_failure().clone()
                    && at.elapsed() < self.policy.cooldown
                {
                    return Err(KeyError::Unavailable(error));
                }
                let result = self.discover().await;
                if let Err(error) = &result {
                    tracing::warn!(target: "cometgate_jwt", url = %self.url, %error, "OIDC discovery failed");
                    *self.last_failure() = Some((Instant::now(), error.clone()));
                }
                result.map_err(KeyError::Unavailable)
            })
            .await
    }

    async fn discover(&self) -> Result<JwksCache, String> {
        let document = fetch_json(&self.policy.http, &self.url).await?.json;
        let jwks_url = jwks_url_of(&self.url, &self.issuer, &document)?;
        Ok(JwksCache::new(jwks_url, self.policy.clone()))
    }

    fn last_failure(&self) -> std::sync::MutexGuard<'_, Option<(Instant, String)>> {
        self.last_failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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

/// Parses `raw` and requires `https://`, or `http://` to a loopback host (a local test server).
pub(crate) fn https_or_loopback(setting: &'static str, raw: &str) -> Result<Url, BuildError> {
    let url = Url::parse(raw.trim())
        .map_err(|_| BuildError::invalid(setting, "is not a valid absolute URL", raw))?;
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials in a key URL would end up in logs and error messages.
        return Err(BuildError::invalid(
            setting,
            "must not contain user info",
            "<URL with user info, not shown>",
        ));
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if cometgate::config::is_loopback(&url) => Ok(url),
        _ => Err(BuildError::InsecureUrl {
            setting,
            url: raw.chars().take(200).collect(),
        }),
    }
}

/// Whether `algorithm` may be verified with `key`: the key's family, and the algorithm the JWKS
/// pinned it to, if any.
pub(crate) fn key_fits(key: &TrustedKey, algorithm: Algorithm) -> bool {
    key.key.family() == algorithm.family() && key.algorithm.is_none_or(|pinned| pinned == algorithm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_urls_are_accepted() {
        for ok in [
            "https://example.com/.well-known/jwks.json",
            "http://127.0.0.1:8080/jwks",
            "http://localhost/jwks",
            "http://[::1]:9/jwks",
        ] {
            assert!(https_or_loopback("JWKS URL", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/jwks",
            "http://10.0.0.1/jwks",
            "ftp://example.com/jwks",
            "file:///etc/passwd",
            "not a url",
            "https://user:pass@keys.example/jwks",
            "http://localhost.evil.example/jwks",
            "http://0.0.0.0/jwks",
        ] {
            assert!(https_or_loopback("JWKS URL", bad).is_err(), "{bad}");
        }
    }

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
