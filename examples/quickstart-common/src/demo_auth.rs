//! The demo app's own authentication: HS256 JWT bearer tokens signed with `DEMO_JWT_SECRET`.
//!
//! A real app already has this (Firebase, Supabase, Auth0, its own sessions...). cometgate only
//! needs to be told how to read it: that is the [`Identity`] implementation below.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cometgate::{Identity, Principal, Rejection, RequestView};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The issuer the demo's principals carry.
pub const ISSUER: &str = "https://quickstart.cometgate.example";

/// The claims of a demo token: `sub` and `exp` are required, `name` is optional.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id; it becomes the CometChat UID.
    pub sub: String,
    /// Display name for the CometChat profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Expiry, unix seconds.
    pub exp: u64,
}

/// Verifies the demo's HS256 bearer tokens: the app's authentication, as cometgate sees it.
pub struct DemoAuth {
    key: DecodingKey,
    validation: Validation,
}

impl DemoAuth {
    /// Verifies tokens signed with `secret`.
    pub fn new(secret: &SecretString) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            key: DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            validation,
        }
    }
}

impl Identity for DemoAuth {
    type Credentials = String;

    fn extract<R: RequestView + ?Sized>(&self, request: &R) -> Result<String, Rejection> {
        // Only the Authorization header: never the body, the query or other headers.
        let value = request.header("authorization").ok_or(Rejection::Missing)?;
        let value = std::str::from_utf8(value).map_err(|_| Rejection::invalid("not UTF-8"))?;
        match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() => {
                Ok(token.to_owned())
            }
            _ => Err(Rejection::invalid("not a bearer token")),
        }
    }

    async fn verify(&self, token: String) -> Result<Principal, Rejection> {
        let data = jsonwebtoken::decode::<Claims>(&token, &self.key, &self.validation)
            .map_err(|e| Rejection::invalid(e.to_string()))?;
        let principal = Principal::new(ISSUER, data.claims.sub);
        Ok(match data.claims.name {
            Some(name) => principal.with_name(name),
            None => principal,
        })
    }
}

/// Signs a demo token for `sub` (with an optional display name), valid for `ttl`.
///
/// ```
/// use quickstart_common::demo_auth::{sign_demo_token, DemoAuth};
/// use cometgate::{Identity, identity::SimpleRequest};
/// use secrecy::SecretString;
/// use std::time::Duration;
///
/// let secret = SecretString::from("correct horse battery staple");
/// let token = sign_demo_token(&secret, "alice", Some("Alice"), Duration::from_secs(60));
/// let request = SimpleRequest::post("/cometchat-token")
///     .with_header("Authorization", format!("Bearer {token}"));
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let principal = DemoAuth::new(&secret).resolve(&request).await.unwrap();
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
