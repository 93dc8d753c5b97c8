//! Clerk session tokens.

use cometgate::UidMapping;
use jsonwebtoken::Algorithm;

use super::{Common, Fetching, Rules, Spec, build, common_options, fetch_options};
use crate::keys::https_or_loopback;
use crate::{BuildError, JwtIdentity};

/// Clerk session tokens (`await getToken()` on the client).
///
/// `iss` is the instance's Frontend API URL, keys come from `<frontend-api>/.well-known/jwks.json`
/// (RS256). Only **session** tokens pass: `sid` is required, and a token that carries an `aud`
/// (a JWT template made for a third party, signed by the same keys) is refused unless
/// [`audience`](Self::audience) names it. `azp`, when present, must be one of the
/// `authorized_parties` (the origins of your web app): a token minted for another site is
/// refused. Native apps send no origin, so their tokens carry no `azp`; an empty list accepts
/// only those. Clerk user ids are mixed-case
/// (`user_2NxT…`), so the default UID mapping is [`UidMapping::Encoded`].
///
/// ```
/// let identity = cometgate_jwt::Clerk::new("https://clerk.myapp.example", ["https://myapp.example"]).build()?;
/// assert_eq!(identity.issuer(), "https://clerk.myapp.example");
/// # Ok::<(), cometgate_jwt::BuildError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Clerk {
    frontend_api: String,
    authorized_parties: Vec<String>,
    audience: Option<String>,
    common: Common,
    fetching: Fetching,
}

impl Clerk {
    /// Session tokens of the instance whose Frontend API is at `frontend_api`
    /// (`https://clerk.<your-domain>`, or `https://<slug>.clerk.accounts.dev` in development),
    /// used from the given origins.
    pub fn new<I, S>(frontend_api: impl Into<String>, authorized_parties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            frontend_api: frontend_api.into(),
            authorized_parties: authorized_parties
                .into_iter()
                .map(|p| p.into().trim_end_matches('/').to_owned())
                .collect(),
            audience: None,
            common: Common::default(),
            fetching: Fetching::default(),
        }
    }

    /// Also requires `aud` to contain `audience` (for instances that set one in the session
    /// token's claims).
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    common_options!();
    fetch_options!();

    /// Builds the identity. No network I/O: keys are fetched on first use.
    ///
    /// # Errors
    /// [`BuildError`] when the Frontend API URL is not an `https://` URL.
    pub fn build(self) -> Result<JwtIdentity, BuildError> {
        let url = https_or_loopback("the Clerk Frontend API URL", &self.frontend_api)?;
        let issuer = url.as_str().trim_end_matches('/').to_owned();
        let audiences = match &self.audience {
            Some(a) => Some(vec![super::required("the Clerk audience", a)?]),
            None => None,
        };
        let spec = Spec {
            provider: "Clerk",
            keys: self
                .fetching
                .jwks(&format!("{issuer}/.well-known/jwks.json"))?,
            issuer,
            audiences,
            algorithms: vec![Algorithm::RS256],
            rules: Rules::Clerk {
                authorized_parties: self.authorized_parties,
            },
            default_mapping: UidMapping::Encoded,
        };
        build(spec, &self.common)
    }
}
