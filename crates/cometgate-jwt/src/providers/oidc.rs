//! Any OpenID Connect issuer.

use cometgate::UidMapping;
use jsonwebtoken::Algorithm;

use super::{Common, Fetching, Rules, Spec, asymmetric, build, common_options, fetch_options};
use crate::discovery::Discovery;
use crate::keys::https_or_loopback;
use crate::{BuildError, JwtIdentity};

/// Tokens from any OpenID Connect issuer (Keycloak, Okta, Cognito, Google, Zitadel, …).
///
/// `iss` must equal `issuer` exactly, `aud` must contain `audience`. Keys come from
/// [`jwks_url`](Self::jwks_url) when given, otherwise from the `jwks_uri` of the issuer's
/// discovery document (`<issuer>/.well-known/openid-configuration`, fetched on first use; its
/// `issuer` must match, and its `jwks_uri` must be `https://` unless the issuer is on
/// loopback). The document is read again once its `max-age` has passed, or when a token's
/// `kid` is not found, at most once per [`refetch_cooldown`](Self::refetch_cooldown): an
/// issuer that moves its `jwks_uri` is followed, and while the document cannot be read the
/// JWKS it named before keeps serving. RS256 and ES256 are accepted unless
/// [`algorithms`](Self::algorithms) says otherwise. The default UID mapping is
/// [`UidMapping::Encoded`].
///
/// ```
/// let identity = cometgate_jwt::Oidc::new("https://id.myapp.example/realms/main", "chat-backend").build()?;
/// assert_eq!(identity.issuer(), "https://id.myapp.example/realms/main");
///
/// // Discovery and JWKS URLs must be https:// unless loopback.
/// assert!(cometgate_jwt::Oidc::new("http://id.myapp.example", "chat").build().is_err());
/// # Ok::<(), cometgate_jwt::BuildError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Oidc {
    issuer: String,
    audience: String,
    algorithms: Vec<Algorithm>,
    common: Common,
    fetching: Fetching,
}

impl Oidc {
    /// Tokens issued by `issuer` for `audience`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            algorithms: vec![Algorithm::RS256, Algorithm::ES256],
            common: Common::default(),
            fetching: Fetching::default(),
        }
    }

    /// The signing algorithms accepted (default RS256 and ES256; asymmetric ones only).
    #[must_use]
    pub fn algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = algorithms.to_vec();
        self
    }

    common_options!();
    fetch_options!();

    /// Builds the identity. No network I/O: discovery and keys are fetched on first use.
    ///
    /// # Errors
    /// [`BuildError`] when the issuer or audience is empty, a URL is not `https://` (or
    /// loopback), or an algorithm is symmetric.
    pub fn build(self) -> Result<JwtIdentity, BuildError> {
        let issuer = super::required("the OIDC issuer", &self.issuer)?;
        let keys = match &self.fetching.jwks_url {
            Some(url) => self.fetching.jwks(url)?,
            None => {
                let policy = self.fetching.policy()?;
                https_or_loopback("the OIDC issuer", &issuer)?;
                crate::keys::KeySource::Discovery(Discovery::new(&issuer, policy)?)
            }
        };
        let spec = Spec {
            provider: "OIDC",
            issuer,
            audiences: Some(vec![super::required("the OIDC audience", &self.audience)?]),
            algorithms: asymmetric(&self.algorithms)?,
            keys,
            rules: Rules::None,
            default_mapping: UidMapping::Encoded,
        };
        build(spec, &self.common)
    }
}
