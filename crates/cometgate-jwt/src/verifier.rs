//! [`JwtIdentity`]: the verifier every provider builds.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cometgate::identity::bearer_token;
use cometgate::{Identity, Principal, Rejection, RequestView, UidMapper, UidMapping};
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};

use crate::claims::{self, Claims};
use crate::keys::{KeySource, key_fits};
use crate::providers::Rules;

/// The clock-skew leeway applied to `exp`, `nbf`, `iat` (and Firebase's `auth_time`) unless a
/// provider is told otherwise.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The largest leeway a provider accepts.
pub const MAX_LEEWAY: Duration = Duration::from_secs(60);

/// An [`Identity`] that verifies `Authorization: Bearer` JWTs for one issuer.
///
/// Built by the providers ([`Firebase`](crate::Firebase), [`Supabase`](crate::Supabase),
/// [`Clerk`](crate::Clerk), [`Auth0`](crate::Auth0), [`Oidc`](crate::Oidc),
/// [`SharedSecret`](crate::SharedSecret)); see the [crate documentation](crate) for the rules.
/// Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct JwtIdentity {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) provider: &'static str,
    pub(crate) issuer: String,
    pub(crate) audiences: Option<Vec<String>>,
    /// One prebuilt validation per accepted algorithm (built once, not per token).
    pub(crate) validations: Vec<Validation>,
    pub(crate) keys: KeySource,
    pub(crate) leeway: Duration,
    pub(crate) rules: Rules,
    pub(crate) mapping: UidMapping,
}

impl JwtIdentity {
    pub(crate) fn new(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The issuer whose tokens are accepted (the `iss` they must carry).
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The UID mapping a gate uses with this identity unless told otherwise.
    pub fn uid_mapping(&self) -> UidMapping {
        self.inner.mapping
    }

    /// Verifies a compact JWT and returns the principal it proves.
    ///
    /// This is [`Identity::verify`]; it is also handy where the token does not come from an
    /// `Authorization` header (e.g. a WebSocket handshake message).
    ///
    /// # Errors
    /// [`Rejection::Invalid`], with the reason for the server log.
    pub async fn verify_token(&self, token: &str) -> Result<Principal, Rejection> {
        let claims = self.verified_claims(token).await.map_err(log_safe)?;
        self.inner
            .rules
            .check(&claims, self.inner.leeway)
            .map_err(log_safe)?;
        Ok(self.principal(&claims))
    }

    async fn verified_claims(&self, token: &str) -> Result<Claims, String> {
        let inner = &*self.inner;
        let header = decode_header(token).map_err(|e| format!("malformed token: {e}"))?;
        let Some(validation) = inner
            .validations
            .iter()
            .find(|v| v.algorithms == [header.alg])
        else {
            return Err(format!(
                "algorithm {:?} is not accepted from {} (allowed: {:?})",
                header.alg,
                inner.provider,
                self.algorithms()
            ));
        };
        // Only the trusted key source is consulted: `jku`, `x5u`, `x5c` and `jwk` headers are
        // attacker-controlled and never read.
        let key = inner
            .keys
            .key_for(&header)
            .await
            .map_err(|e| e.to_string())?;
        if !key_fits(&key, header.alg) {
            return Err(format!(
                "the key named by kid does not sign {:?}",
                header.alg
            ));
        }
        let data = decode::<Claims>(token, &key.key, validation)
            .map_err(|e| format!("rejected by {}: {e}", inner.provider))?;
        let claims = data.claims;
        let leeway = inner.leeway.as_secs();
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(iat) = claims::numeric_date(&claims, "iat")?
            && iat > now.saturating_add(leeway)
        {
            return Err("the token was issued in the future (iat)".into());
        }
        match claims.get("sub").and_then(|s| s.as_str()) {
            Some(sub) if !sub.trim().is_empty() => Ok(claims),
            _ => Err("the subject (sub) is empty or not a string".into()),
        }
    }

    /// The accepted algorithms, in the provider's order.
    fn algorithms(&self) -> Vec<Algorithm> {
        self.inner
            .validations
            .iter()
            .flat_map(|v| v.algorithms.iter().copied())
            .collect()
    }

    fn principal(&self, claims: &Claims) -> Principal {
        let subject = claims
            .get("sub")
            .and_then(|s| s.as_str())
            .unwrap_or_default();
        let mut principal = Principal::new(&self.inner.issuer, subject);
        if let Some(name) = claims::display_name(claims) {
            principal = principal.with_name(name);
        }
        if let Some(avatar) = claims::avatar(claims) {
            principal = principal.with_avatar(avatar);
        }
        if let Some(session) = claims::session_id(claims) {
            principal = principal.with_session_id(session);
        }
        principal
    }
}

/// The validation of one algorithm: issuer, audience (or none accepted), required claims,
/// `exp` and `nbf` with the leeway. Built once per provider and algorithm.
pub(crate) fn validation(
    algorithm: Algorithm,
    issuer: &str,
    audiences: Option<&[String]>,
    leeway: Duration,
) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = leeway.as_secs();
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.set_issuer(&[issuer]);
    match audiences {
        Some(audiences) => {
            validation.set_audience(audiences);
            validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        }
        None => {
            // No audience expected: a token that names one was made for someone else (a
            // Clerk JWT template for a third party, say) and is refused.
            validation.aud = None;
            validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        }
    }
    validation
}

/// The longest rejection reason kept for the log, in bytes.
const MAX_REASON_BYTES: usize = 300;

/// A rejection whose reason is safe to log: parts of it (an `alg`, a `kid`, an `azp`) come
/// from the token, so control characters are escaped (no forged log lines) and it is cut short.
fn log_safe(reason: String) -> Rejection {
    let mut safe = String::with_capacity(reason.len().min(MAX_REASON_BYTES));
    for c in reason.chars() {
        if safe.len() >= MAX_REASON_BYTES {
            safe.push('…');
            break;
        }
        if c.is_control() {
            safe.extend(c.escape_debug());
        } else {
            safe.push(c);
        }
    }
    Rejection::invalid(safe)
}

impl fmt::Debug for JwtIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No keys or secrets: only what identifies the configuration.
        f.debug_struct("JwtIdentity")
            .field("provider", &self.inner.provider)
            .field("issuer", &self.inner.issuer)
            .field("audiences", &self.inner.audiences)
            .field("algorithms", &self.algorithms())
            .field("leeway", &self.inner.leeway)
            .field("uid_mapping", &self.inner.mapping)
            .finish_non_exhaustive()
    }
}

impl Identity for JwtIdentity {
    type Credentials = String;

    fn extract<R: RequestView + ?Sized>(&self, request: &R) -> Result<String, Rejection> {
        bearer_token(request).map(str::to_owned)
    }

    async fn verify(&self, token: String) -> Result<Principal, Rejection> {
        self.verify_token(&token).await
    }

    /// Bearer tokens only: a browser never attaches them by itself.
    fn credentials_are_ambient(&self) -> bool {
        false
    }

    fn uid_mapper(&self) -> Option<UidMapper> {
        Some(UidMapper::single_issuer(
            &self.inner.issuer,
            self.inner.mapping,
        ))
    }
}
