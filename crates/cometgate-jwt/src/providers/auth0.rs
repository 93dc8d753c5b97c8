//! Auth0 access tokens.

use cometgate::UidMapping;
use jsonwebtoken::Algorithm;

use super::{Common, Fetching, Rules, Spec, asymmetric, build, common_options, fetch_options};
use crate::{BuildError, JwtIdentity};

/// Auth0 access tokens for your API (`getAccessTokenSilently({ audience })` on the client).
///
/// `iss = https://<domain>/` (with its trailing slash), `aud` must contain the API identifier,
/// keys from `https://<domain>/.well-known/jwks.json`, RS256 unless [`algorithms`](Self::algorithms)
/// says otherwise. Auth0 subjects look like `auth0|65f…` or `google-oauth2|1093…`, so the
/// default UID mapping is [`UidMapping::Encoded`].
///
/// ```
/// let identity = cometgate_jwt::Auth0::new("my-tenant.eu.auth0.com", "https://api.myapp.example").build()?;
/// assert_eq!(identity.issuer(), "https://my-tenant.eu.auth0.com/");
/// # Ok::<(), cometgate_jwt::BuildError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Auth0 {
    domain: String,
    audience: String,
    algorithms: Vec<Algorithm>,
    common: Common,
    fetching: Fetching,
}

impl Auth0 {
    /// Access tokens issued by the tenant at `domain` (`my-tenant.eu.auth0.com` or a custom
    /// domain, with or without `https://`) for the API whose identifier is `audience`.
    pub fn new(domain: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            domain: domain.into(),
            audience: audience.into(),
            algorithms: vec![Algorithm::RS256],
            common: Common::default(),
            fetching: Fetching::default(),
        }
    }

    /// The signing algorithms accepted (default RS256; asymmetric ones only, e.g. PS256 or
    /// ES256 for custom signing keys).
    #[must_use]
    pub fn algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = algorithms.to_vec();
        self
    }

    common_options!();
    fetch_options!();

    /// Builds the identity. No network I/O: keys are fetched on first use.
    ///
    /// # Errors
    /// [`BuildError`] when the domain or audience is empty or the domain is not a host name.
    pub fn build(self) -> Result<JwtIdentity, BuildError> {
        let raw = super::required("the Auth0 domain", &self.domain)?;
        let lower = raw.to_ascii_lowercase();
        let host = lower
            .strip_prefix("https://")
            .unwrap_or(&lower)
            .trim_end_matches('/');
        // The host must survive URL parsing unchanged (`\` reads as `/`, `%2e` as `.`, ...).
        let parses_as_itself = url::Url::parse(&format!("https://{host}/"))
            .is_ok_and(|u| u.host_str() == Some(host) && u.path() == "/" && u.port().is_none());
        if host.is_empty() || !parses_as_itself || host.contains(['@', '\\']) {
            return Err(BuildError::invalid(
                "the Auth0 domain",
                "must be a host name such as my-tenant.eu.auth0.com",
                &raw,
            ));
        }
        let issuer = format!("https://{host}/");
        let spec = Spec {
            provider: "Auth0",
            keys: self
                .fetching
                .jwks(&format!("{issuer}.well-known/jwks.json"))?,
            issuer,
            audiences: Some(vec![super::required(
                "the Auth0 API audience",
                &self.audience,
            )?]),
            algorithms: asymmetric(&self.algorithms)?,
            rules: Rules::None,
            default_mapping: UidMapping::Encoded,
        };
        build(spec, &self.common)
    }
}
