//! Shared-secret authentication for the sources that do not sign: Supabase Database Webhooks
//! (`Authorization: Bearer <SUPABASE_WEBHOOK_SECRET>`) and Auth0 Event Streams
//! (`Authorization: Bearer <AUTH0_EVENT_STREAM_TOKEN>`, or Basic credentials set through the
//! Rust API).
//!
//! The presented credential and the configured one are each hashed with SHA-256 and the
//! digests compared in constant time, so neither the comparison's time nor an early exit on
//! length tells an attacker how close a guess came. Only the digest of the configured secret is
//! kept, in a [`secrecy`] box.
//!
//! ```
//! use cometgate::webhook::shared_secret::{AuthorizationError, SharedSecret, SUPABASE_MIN_LEN};
//!
//! let secret = "a-supabase-webhook-secret-of-32+-bytes";
//! let expected = SharedSecret::bearer(secret, SUPABASE_MIN_LEN)?;
//!
//! let presented = format!("Bearer {secret}");
//! assert_eq!(expected.verify(Some(presented.as_bytes())), Ok(()));
//! assert_eq!(expected.verify(Some(b"Bearer guess")), Err(AuthorizationError::Mismatch));
//! assert_eq!(expected.verify(None).unwrap_err().status(), 401);
//! assert_eq!(expected.verify(Some(b"Bearer")).unwrap_err().status(), 400);
//! # Ok::<(), cometgate::webhook::shared_secret::SharedSecretError>(())
//! ```

use std::fmt;

use data_encoding::BASE64;
use secrecy::{ExposeSecret, SecretBox};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The shortest Supabase webhook secret accepted: 32 bytes.
pub const SUPABASE_MIN_LEN: usize = 32;

/// The shortest Auth0 Event Stream token (or Basic password) accepted: 32 bytes (checklist item 27: a shared secret of an unsigned source is at least 32 bytes).
pub const AUTH0_MIN_LEN: usize = 32;

/// The longest `Authorization` header read (4 KiB); a longer one is refused unread.
pub const MAX_AUTHORIZATION_LEN: usize = 4 * 1024;

/// The longest secret accepted: one whose header still fits [`MAX_AUTHORIZATION_LEN`].
const MAX_SECRET_LEN: usize = 3 * 1024;

/// The `Authorization` scheme a [`SharedSecret`] expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Bearer,
    Basic,
}

/// A configured shared secret could not be used. The message never quotes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SharedSecretError {
    /// The secret (or the Basic password) is empty.
    #[error("the webhook shared secret is empty")]
    Empty,
    /// The secret is shorter than the caller's minimum.
    #[error("the webhook shared secret is {len} bytes; at least {min} are required")]
    TooShort {
        /// Its length in bytes.
        len: usize,
        /// The minimum asked for.
        min: usize,
    },
    /// The secret is longer than 3 KiB.
    #[error("the webhook shared secret is {len} bytes; at most 3072 are allowed")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The secret or user name has a character the header cannot carry: anything but visible
    /// ASCII in a bearer token or a user name, a control character in a Basic password.
    #[error("the webhook {what} has a character an Authorization header cannot carry")]
    UnsendableCharacter {
        /// `bearer token`, `user name` or `password`.
        what: &'static str,
    },
    /// A Basic user name is empty or contains `:` (RFC 7617 §2).
    #[error("the webhook Basic user name is empty or contains ':'")]
    BadUserName,
}

/// Why a request's `Authorization` was refused. No variant carries the header's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationError {
    /// No `Authorization` header (401).
    #[error("the Authorization header is missing")]
    Missing,
    /// The header is readable but is not the configured credential, or not of its scheme (401).
    #[error("the Authorization header does not carry the configured credential")]
    Mismatch,
    /// The header cannot be read as `<scheme> <credentials>` (400).
    #[error("the Authorization header is malformed: {0}")]
    Malformed(&'static str),
}

impl AuthorizationError {
    /// The HTTP status this refusal is answered with: 400 when malformed, else 401.
    ///
    /// ```
    /// use cometgate::webhook::shared_secret::AuthorizationError;
    /// assert_eq!(AuthorizationError::Mismatch.status(), 401);
    /// assert_eq!(AuthorizationError::Malformed("empty credentials").status(), 400);
    /// ```
    pub fn status(&self) -> u16 {
        match self {
            AuthorizationError::Malformed(_) => 400,
            AuthorizationError::Missing | AuthorizationError::Mismatch => 401,
        }
    }
}

/// The credential an unsigned source must present in `Authorization`, kept only as a SHA-256
/// digest. `Debug` shows the scheme, never the secret.
///
/// ```
/// use cometgate::webhook::shared_secret::{SharedSecret, AUTH0_MIN_LEN};
///
/// // Auth0 Event Streams with Basic credentials.
/// let expected = SharedSecret::basic("auth0", "an event stream password of 32+ bytes", AUTH0_MIN_LEN)?;
/// let header = "Basic YXV0aDA6YW4gZXZlbnQgc3RyZWFtIHBhc3N3b3JkIG9mIDMyKyBieXRlcw==";
/// assert_eq!(expected.verify(Some(header.as_bytes())), Ok(()));
/// assert_eq!(format!("{expected:?}"), "SharedSecret { scheme: Basic, digest: [REDACTED] }");
/// # Ok::<(), cometgate::webhook::shared_secret::SharedSecretError>(())
/// ```
pub struct SharedSecret {
    scheme: Scheme,
    digest: SecretBox<[u8; 32]>,
}

impl SharedSecret {
    /// Expects `Authorization: Bearer <token>`, `token` at least `min_len` bytes (e.g.
    /// [`SUPABASE_MIN_LEN`], [`AUTH0_MIN_LEN`]) of visible ASCII. Surrounding white space is
    /// ignored.
    pub fn bearer(token: &str, min_len: usize) -> Result<Self, SharedSecretError> {
        let token = token.trim();
        check_length(token, min_len)?;
        if !is_visible_ascii(token.as_bytes()) {
            return Err(SharedSecretError::UnsendableCharacter {
                what: "bearer token",
            });
        }
        Ok(Self::expecting(Scheme::Bearer, token.as_bytes()))
    }

    /// Expects `Authorization: Basic base64(user:password)` (RFC 7617, UTF-8), `password` at
    /// least `min_len` bytes without control characters, `user` non-empty visible ASCII
    /// without `:`.
    pub fn basic(user: &str, password: &str, min_len: usize) -> Result<Self, SharedSecretError> {
        if user.is_empty() || user.contains(':') {
            return Err(SharedSecretError::BadUserName);
        }
        if !is_visible_ascii(user.as_bytes()) {
            return Err(SharedSecretError::UnsendableCharacter { what: "user name" });
        }
        check_length(password, min_len)?;
        if password.chars().any(char::is_control) {
            return Err(SharedSecretError::UnsendableCharacter { what: "password" });
        }
        let mut hasher = Sha256::new();
        hasher.update(user);
        hasher.update(":");
        hasher.update(password);
        Ok(Self {
            scheme: Scheme::Basic,
            digest: SecretBox::new(Box::new(hasher.finalize().into())),
        })
    }

    fn expecting(scheme: Scheme, credential: &[u8]) -> Self {
        Self {
            scheme,
            digest: SecretBox::new(Box::new(Sha256::digest(credential).into())),
        }
    }

    /// Checks a request's `Authorization` header value (its first value, as bytes: e.g.
    /// `request.header("authorization")` on a [`RequestView`](crate::RequestView)). The scheme
    /// name is matched case-insensitively.
    pub fn verify(&self, authorization: Option<&[u8]>) -> Result<(), AuthorizationError> {
        let value = authorization.ok_or(AuthorizationError::Missing)?;
        if value.len() > MAX_AUTHORIZATION_LEN {
            return Err(AuthorizationError::Malformed("longer than 4 KiB"));
        }
        if !value
            .iter()
            .all(|b| b.is_ascii_graphic() || *b == b' ' || *b == b'\t')
        {
            return Err(AuthorizationError::Malformed("not visible ASCII"));
        }
        // Visible ASCII, spaces and tabs are UTF-8.
        let value = std::str::from_utf8(value)
            .map_err(|_| AuthorizationError::Malformed("not visible ASCII"))?
            .trim();
        let (scheme, credentials) =
            value
                .split_once([' ', '\t'])
                .ok_or(AuthorizationError::Malformed(
                    "not of the form <scheme> <credentials>",
                ))?;
        let credentials = credentials.trim();
        if credentials.is_empty() {
            return Err(AuthorizationError::Malformed("empty credentials"));
        }
        let presented = match self.scheme {
            Scheme::Bearer if scheme.eq_ignore_ascii_case("bearer") => {
                Sha256::digest(credentials.as_bytes())
            }
            Scheme::Basic if scheme.eq_ignore_ascii_case("basic") => {
                let decoded = BASE64.decode(credentials.as_bytes()).map_err(|_| {
                    AuthorizationError::Malformed("Basic credentials are not base64")
                })?;
                if !decoded.contains(&b':') {
                    return Err(AuthorizationError::Malformed(
                        "Basic credentials are not user:password",
                    ));
                }
                Sha256::digest(&decoded)
            }
            // Another scheme cannot carry this credential.
            _ => return Err(AuthorizationError::Mismatch),
        };
        if bool::from(presented.as_slice().ct_eq(self.digest.expose_secret())) {
            Ok(())
        } else {
            Err(AuthorizationError::Mismatch)
        }
    }
}

impl Clone for SharedSecret {
    fn clone(&self) -> Self {
        Self {
            scheme: self.scheme,
            digest: SecretBox::new(Box::new(*self.digest.expose_secret())),
        }
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SharedSecret {{ scheme: {:?}, digest: [REDACTED] }}",
            self.scheme
        )
    }
}

fn is_visible_ascii(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_graphic)
}

fn check_length(secret: &str, min_len: usize) -> Result<(), SharedSecretError> {
    let len = secret.len();
    if len == 0 {
        Err(SharedSecretError::Empty)
    } else if len < min_len {
        Err(SharedSecretError::TooShort { len, min: min_len })
    } else if len > MAX_SECRET_LEN {
        Err(SharedSecretError::TooLong { len })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
