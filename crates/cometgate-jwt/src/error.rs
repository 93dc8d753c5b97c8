//! Why a provider could not be built.

use std::time::Duration;

/// Why an identity provider could not be built. Building never does network I/O, so these are
/// all configuration mistakes; each names the setting at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A required setting is empty.
    #[error("{setting} must not be empty")]
    Empty {
        /// The setting, e.g. "Firebase project id".
        setting: &'static str,
    },
    /// A setting has a value that cannot be right.
    #[error("{setting} {problem} (got {got:?})")]
    Invalid {
        /// The setting.
        setting: &'static str,
        /// What is wrong with it.
        problem: &'static str,
        /// The value, cut to 200 characters (never a secret).
        got: String,
    },
    /// A JWKS or discovery URL is not `https://` and not loopback.
    #[error(
        "{setting} must be an https:// URL (http:// is only allowed for loopback hosts), got {url:?}"
    )]
    InsecureUrl {
        /// The setting.
        setting: &'static str,
        /// The URL.
        url: String,
    },
    /// The leeway is over [`MAX_LEEWAY`](crate::MAX_LEEWAY).
    #[error("the clock-skew leeway must be at most 60 s, got {0:?}")]
    LeewayTooLarge(Duration),
    /// A shared secret is shorter than HS256 needs (RFC 7518 §3.2: at least 256 bits).
    #[error("the HS256 secret must be at least 32 bytes, got {0} bytes")]
    SecretTooShort(usize),
    /// An algorithm list is empty or names an algorithm the provider cannot use.
    #[error("algorithm {0} is not allowed here: JWKS providers accept only asymmetric algorithms")]
    Algorithm(String),
    /// The HTTP client for JWKS fetches could not be built.
    #[error("could not build the HTTP client for JWKS fetches: {0}")]
    HttpClient(#[source] reqwest::Error),
}

impl BuildError {
    pub(crate) fn invalid(setting: &'static str, problem: &'static str, got: &str) -> Self {
        Self::Invalid {
            setting,
            problem,
            got: got.chars().take(200).collect(),
        }
    }
}
