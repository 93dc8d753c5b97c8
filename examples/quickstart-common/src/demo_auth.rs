//! The demo app's own authentication: HS256 JWT bearer tokens signed with `DEMO_JWT_SECRET`,
//! verified by [`cometgate_jwt::SharedSecret`]. Or, when `AUTH_ISSUER` and `AUTH_AUDIENCE` are
//! set, tokens from that OpenID Connect issuer ([`cometgate_jwt::Oidc`]).
//!
//! A real app already has this (Firebase, Supabase, Auth0, its own sessions...): cometgate only
//! needs to be told how to read it, which is one `cometgate_jwt` constructor.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cometgate::UidMapping;
use cometgate_jwt::{BuildError, JwtIdentity, Oidc, SharedSecret};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The issuer (`iss`) of demo tokens.
pub const ISSUER: &str = "https://quickstart.cometgate.example";

/// The audience (`aud`) of demo tokens.
pub const AUDIENCE: &str = "cometgate-quickstart";

/// The claims of a demo token: `sub` and `exp` are required, `name` is optional.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Always [`ISSUER`].
    pub iss: String,
    /// Always [`AUDIENCE`].
    pub aud: String,
    /// The user id; it becomes the CometChat UID.
    pub sub: String,
    /// Display name for the CometChat profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Expiry, unix seconds.
    pub exp: u64,
}

/// How the quickstart knows who is signed in.
#[derive(Debug)]
pub enum AuthSettings {
    /// Demo HS256 tokens (`DEMO_JWT_SECRET`).
    Demo {
        /// The HS256 secret.
        secret: SecretString,
        /// True when `DEMO_JWT_SECRET` was unset and a random secret was made for this run.
        generated: bool,
    },
    /// Tokens from an OpenID Connect issuer (`AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_JWKS_URL`).
    Oidc {
        /// `AUTH_ISSUER`.
        issuer: String,
        /// `AUTH_AUDIENCE`.
        audience: String,
        /// `AUTH_JWKS_URL`, or discovery when unset.
        jwks_url: Option<String>,
    },
}

impl AuthSettings {
    /// The issuer whose users sign in: [`ISSUER`] for demo tokens, `AUTH_ISSUER` otherwise.
    /// The webhook sources are configured with it, so their subjects map to UIDs exactly as
    /// the identity maps token subjects.
    ///
    /// ```
    /// use quickstart_common::demo_auth::{AuthSettings, ISSUER, random_secret};
    ///
    /// let demo = AuthSettings::Demo { secret: random_secret(), generated: true };
    /// assert_eq!(demo.issuer(), ISSUER);
    /// assert_eq!(demo.issuer(), demo.identity().unwrap().issuer());
    /// ```
    pub fn issuer(&self) -> &str {
        match self {
            Self::Demo { .. } => ISSUER,
            Self::Oidc { issuer, .. } => issuer,
        }
    }

    /// The identity these settings describe.
    ///
    /// Demo subjects are lower-case ids (`alice`), so they are used as UIDs as they are; OIDC
    /// subjects keep the provider default (encoded), whatever their shape.
    ///
    /// # Errors
    /// [`BuildError`] naming the setting at fault (e.g. a `DEMO_JWT_SECRET` under 32 bytes).
    pub fn identity(&self) -> Result<JwtIdentity, BuildError> {
        match self {
            Self::Demo { secret, .. } => SharedSecret::new(secret.clone(), ISSUER, AUDIENCE)
                .uid_mapping(UidMapping::Readable)
                .build(),
            Self::Oidc {
                issuer,
                audience,
                jwks_url,
            } => {
                let oidc = Oidc::new(issuer, audience);
                match jwks_url {
                    Some(url) => oidc.jwks_url(url).build(),
                    None => oidc.build(),
                }
            }
        }
    }
}

/// Signs a demo token for `sub` (with an optional display name), valid for `ttl`.
///
/// ```
/// use quickstart_common::demo_auth::{sign_demo_token, AuthSettings};
/// use cometgate::{Identity, identity::SimpleRequest};
/// use secrecy::SecretString;
/// use std::time::Duration;
///
/// let secret = SecretString::from("correct horse battery staple, 32+ bytes");
/// let token = sign_demo_token(&secret, "alice", Some("Alice"), Duration::from_secs(60));
/// let request = SimpleRequest::post("/cometchat-token")
///     .with_header("Authorization", format!("Bearer {token}"));
/// let identity = AuthSettings::Demo { secret, generated: false }.identity().unwrap();
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let principal = identity.resolve(&request).await.unwrap();
/// assert_eq!(principal.subject(), "alice");
/// assert_eq!(principal.name(), Some("Alice"));
/// # });
/// ```
pub fn sign_demo_token(
    secret: &SecretString,
    sub: &str,
    name: Option<&str>,
    ttl: Duration,
) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let claims = Claims {
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
        sub: sub.to_owned(),
        name: name.map(str::to_owned),
        exp: (now + ttl).as_secs(),
    };
    let key = EncodingKey::from_secret(secret.expose_secret().as_bytes());
    // HS256 over serializable claims cannot fail; an empty string would only make the printed
    // curl command answer 401, never crash the demo.
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap_or_default()
}

/// A fresh random secret (256 bits, hex) for runs without `DEMO_JWT_SECRET`.
pub fn random_secret() -> SecretString {
    let bytes: [u8; 32] = rand::random();
    SecretString::from(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}
