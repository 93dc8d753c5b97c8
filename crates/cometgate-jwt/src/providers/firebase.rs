//! Firebase Auth ID tokens.

use cometgate::UidMapping;
use jsonwebtoken::Algorithm;

use super::{Common, Fetching, Rules, Spec, build, common_options, fetch_options};
use crate::{BuildError, JwtIdentity};

/// Google's published Firebase Auth signing keys, in JWK form.
pub const FIREBASE_JWKS_URL: &str =
    "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com";

/// Firebase Auth ID tokens (what `getIdToken()` returns on the client).
///
/// RS256 only, keys from [`FIREBASE_JWKS_URL`], `iss = https://securetoken.google.com/<project>`,
/// `aud = <project>`, a non-empty `sub` (the Firebase UID), `auth_time` in the past.
/// Anonymous sign-ins (`signInAnonymously()`: `firebase.sign_in_provider` is `anonymous`) are
/// refused unless [`allow_anonymous`](Self::allow_anonymous) says otherwise: on a project with
/// anonymous auth enabled, anyone could otherwise get a chat account. Firebase UIDs are
/// mixed-case, so the default UID mapping is [`UidMapping::Encoded`].
///
/// ```
/// let identity = cometgate_jwt::Firebase::new("my-project").build()?;
/// assert_eq!(identity.issuer(), "https://securetoken.google.com/my-project");
///
/// // Guests who signed in anonymously may chat too.
/// let with_guests = cometgate_jwt::Firebase::new("my-project").allow_anonymous(true).build()?;
/// # Ok::<(), cometgate_jwt::BuildError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Firebase {
    project_id: String,
    allow_anonymous: bool,
    common: Common,
    fetching: Fetching,
}

impl Firebase {
    /// Tokens of the Firebase project `project_id` (as in the Firebase console's settings).
    pub fn new(project_id: impl Into<String>) -> Self {
        Self {
            project_id: project_id.into(),
            allow_anonymous: false,
            common: Common::default(),
            fetching: Fetching::default(),
        }
    }

    /// Whether anonymous sign-ins (`firebase.sign_in_provider: "anonymous"`) may chat (default
    /// no). Refused, they get `401` with `error="invalid_token"`, as any other token this
    /// provider does not accept.
    #[must_use]
    pub fn allow_anonymous(mut self, allow: bool) -> Self {
        self.allow_anonymous = allow;
        self
    }

    common_options!();
    fetch_options!();

    /// Builds the identity. No network I/O: keys are fetched on first use.
    ///
    /// # Errors
    /// [`BuildError`] when the project id is empty or not a Firebase project id, or an option
    /// is out of range.
    pub fn build(self) -> Result<JwtIdentity, BuildError> {
        let project = super::required("the Firebase project id", &self.project_id)?;
        if !project
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(BuildError::invalid(
                "the Firebase project id",
                "may only hold lower-case letters, digits and '-'",
                &project,
            ));
        }
        let spec = Spec {
            provider: "Firebase",
            issuer: format!("https://securetoken.google.com/{project}"),
            audiences: Some(vec![project]),
            algorithms: vec![Algorithm::RS256],
            keys: self.fetching.jwks(FIREBASE_JWKS_URL)?,
            rules: Rules::Firebase {
                allow_anonymous: self.allow_anonymous,
            },
            default_mapping: UidMapping::Encoded,
        };
        build(spec, &self.common)
    }
}
