//! The app's own JWTs, signed with an HS256 shared secret.

use cometgate::UidMapping;
use jsonwebtoken::Algorithm;
use secrecy::{ExposeSecret, SecretString};

use super::{Common, Rules, Spec, build, common_options};
use crate::keys::KeySource;
use crate::{BuildError, JwtIdentity};

/// The least HS256 secret length (RFC 7518 §3.2: a key of at least the hash size, 256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

/// JWTs the app issues itself, signed with HS256 and a secret it shares with cometgate.
///
/// `iss` and `aud` must be the configured values, `sub` the user's id, `exp` present; `name`
/// and `picture` fill the CometChat profile. The default UID mapping is
/// [`UidMapping::Encoded`]; set [`uid_mapping`](Self::uid_mapping) to
/// [`UidMapping::Readable`] when the app's ids are already lower-case CometChat UIDs.
///
/// ```
/// use cometgate_jwt::SharedSecret;
///
/// let identity = SharedSecret::new("0123456789abcdef0123456789abcdef", "https://api.myapp.example", "myapp")
///     .uid_mapping(cometgate::UidMapping::Readable)
///     .build()?;
/// assert_eq!(identity.issuer(), "https://api.myapp.example");
///
/// assert!(SharedSecret::new("short", "https://api.myapp.example", "myapp").build().is_err());
/// # Ok::<(), cometgate_jwt::BuildError>(())
/// ```
pub struct SharedSecret {
    secret: SecretString,
    issuer: String,
    audience: String,
    common: Common,
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSecret")
            .field("secret", &"[REDACTED]")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("common", &self.common)
            .finish()
    }
}

impl SharedSecret {
    /// Tokens signed with `secret` (at least [`MIN_SECRET_BYTES`]), issued by `issuer` for
    /// `audience`.
    pub fn new(
        secret: impl Into<SecretString>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            secret: secret.into(),
            issuer: issuer.into(),
            audience: audience.into(),
            common: Common::default(),
        }
    }

    common_options!();

    /// Builds the identity.
    ///
    /// # Errors
    /// [`BuildError`] when the secret is too short or the issuer or audience is empty.
    pub fn build(self) -> Result<JwtIdentity, BuildError> {
        let spec = Spec {
            provider: "shared-secret JWT",
            issuer: super::required("the issuer", &self.issuer)?,
            audiences: Some(vec![super::required("the audience", &self.audience)?]),
            algorithms: vec![Algorithm::HS256],
            keys: hs256_key(&self.secret)?,
            rules: Rules::None,
            default_mapping: UidMapping::Encoded,
        };
        build(spec, &self.common)
    }
}

/// An HS256 key source, refusing secrets shorter than [`MIN_SECRET_BYTES`].
pub(super) fn hs256_key(secret: &SecretString) -> Result<KeySource, BuildError> {
    let bytes = secret.expose_secret().as_bytes();
    if bytes.len() < MIN_SECRET_BYTES {
        return Err(BuildError::SecretTooShort(bytes.len()));
    }
    Ok(KeySource::secret(bytes))
}
