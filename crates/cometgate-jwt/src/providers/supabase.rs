//! Supabase Auth access tokens.

use cometgate::UidMapping;
use jsonwebtoken::Algorithm;
use secrecy::SecretString;

use super::shared_secret::hs256_key;
use super::{Common, Fetching, Rules, Spec, build, common_options, fetch_options};
use crate::keys::https_or_loopback;
use crate::{BuildError, JwtIdentity};

/// Supabase Auth access tokens (`session.access_token` on the client).
///
/// `iss = https://<ref>.supabase.co/auth/v1`, `aud = authenticated`, `sub` the user's UUID.
/// Keys: the project's JWKS (`/auth/v1/.well-known/jwks.json`, ES256 or RS256), or, for
/// projects still on the legacy JWT secret, [`legacy_jwt_secret`](Self::legacy_jwt_secret)
/// (HS256). Tokens with `role` `anon` or anonymous sign-ins (`is_anonymous: true`), and
/// `service_role` tokens, are refused unless [`allow_anon`](Self::allow_anon) /
/// [`allow_service_role`](Self::allow_service_role) say otherwise. Supabase user ids are
/// lower-case UUIDs, so the default UID mapping is [`UidMapping::Readable`].
///
/// ```
/// let identity = cometgate_jwt::Supabase::project("abcdefghijklmnopqrst").build()?;
/// assert_eq!(identity.issuer(), "https://abcdefghijklmnopqrst.supabase.co/auth/v1");
///
/// let custom = cometgate_jwt::Supabase::url("https://auth.myapp.example").build()?;
/// assert_eq!(custom.issuer(), "https://auth.myapp.example/auth/v1");
/// # Ok::<(), cometgate_jwt::BuildError>(())
/// ```
#[derive(Debug)]
pub struct Supabase {
    project: Project,
    secret: Option<SecretString>,
    allow_anon: bool,
    allow_service_role: bool,
    common: Common,
    fetching: Fetching,
}

#[derive(Debug)]
enum Project {
    Ref(String),
    Url(String),
}

impl Supabase {
    /// Tokens of the project with this reference id (the `<ref>` in `https://<ref>.supabase.co`).
    pub fn project(project_ref: impl Into<String>) -> Self {
        Self::with(Project::Ref(project_ref.into()))
    }

    /// Tokens of the project served at `url` (`https://<ref>.supabase.co`, a custom domain, or a
    /// local `http://127.0.0.1:54321` from `supabase start`).
    pub fn url(url: impl Into<String>) -> Self {
        Self::with(Project::Url(url.into()))
    }

    fn with(project: Project) -> Self {
        Self {
            project,
            secret: None,
            allow_anon: false,
            allow_service_role: false,
            common: Common::default(),
            fetching: Fetching::default(),
        }
    }

    /// Verifies with the project's legacy JWT secret (HS256) instead of its JWKS.
    #[must_use]
    pub fn legacy_jwt_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Whether anonymous users (`role: anon`, or `is_anonymous: true`) may chat (default no).
    #[must_use]
    pub fn allow_anon(mut self, allow: bool) -> Self {
        self.allow_anon = allow;
        self
    }

    /// Whether `service_role` tokens may chat (default no: they are server credentials, not
    /// users).
    #[must_use]
    pub fn allow_service_role(mut self, allow: bool) -> Self {
        self.allow_service_role = allow;
        self
    }

    common_options!();
    fetch_options!();

    /// Builds the identity. No network I/O: keys are fetched on first use.
    ///
    /// # Errors
    /// [`BuildError`] when the project reference or URL is not valid, or the legacy secret is
    /// shorter than 32 bytes.
    pub fn build(self) -> Result<JwtIdentity, BuildError> {
        let base = match &self.project {
            Project::Ref(raw) => {
                let r = super::required("the Supabase project ref", raw)?;
                if !r
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                {
                    return Err(BuildError::invalid(
                        "the Supabase project ref",
                        "may only hold lower-case letters and digits",
                        &r,
                    ));
                }
                format!("https://{r}.supabase.co")
            }
            Project::Url(raw) => {
                let url = https_or_loopback("the Supabase URL", raw)?;
                url.as_str().trim_end_matches('/').to_owned()
            }
        };
        let issuer = format!("{base}/auth/v1");
        let (algorithms, keys) = match &self.secret {
            Some(secret) => (vec![Algorithm::HS256], hs256_key(secret)?),
            None => (
                vec![Algorithm::ES256, Algorithm::RS256],
                self.fetching
                    .jwks(&format!("{issuer}/.well-known/jwks.json"))?,
            ),
        };
        let spec = Spec {
            provider: "Supabase",
            issuer,
            audiences: Some(vec!["authenticated".to_owned()]),
            algorithms,
            keys,
            rules: Rules::Supabase {
                allow_anon: self.allow_anon,
                allow_service_role: self.allow_service_role,
            },
            default_mapping: UidMapping::Readable,
        };
        build(spec, &self.common)
    }
}
