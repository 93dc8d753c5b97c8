//! Where a provider's verification keys come from: a shared secret, a JWKS URL, or OIDC
//! discovery (which finds the JWKS URL, and follows it when it moves).

use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, Header};
use url::Url;

use crate::discovery::Discovery;
use crate::error::BuildError;
use crate::jwks::{JwksCache, KeyError, TrustedKey};

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
            Self::Discovery(discovery) => discovery.key(kid()?).await,
        }
    }
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
}
