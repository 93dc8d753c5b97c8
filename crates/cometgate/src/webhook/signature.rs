//! Standard Webhooks (and Svix, its origin) HMAC-SHA256 signatures: the secrets, the signer and
//! the verifier for the `clerk` and `standard` sources.
//!
//! A delivery carries three headers, `webhook-id`, `webhook-timestamp` and `webhook-signature`
//! (Svix, and so Clerk, names them `svix-id`, `svix-timestamp`, `svix-signature`). The signature
//! header is a space-separated list of `v1,<base64>` entries, each an HMAC-SHA256 under one
//! secret of the signed content `{id}.{timestamp}.{body}`, over the raw body bytes.
//!
//! [`SigningSecrets::verify`] accepts a delivery when
//! - the three headers are there (else [`SignatureError::MissingHeader`], 401) and well formed
//!   (else [`SignatureError::MalformedHeader`], 400): the id at most [`MAX_ID_LEN`] bytes of
//!   visible ASCII, the timestamp digits only and at most [`MAX_TIMESTAMP_DIGITS`] of them;
//! - the timestamp is within [`TOLERANCE_SECS`] of `now`, either way (else
//!   [`SignatureError::OutsideWindow`], 401);
//! - some `v1` entry equals, in constant time, the signature under some configured secret
//!   (else [`SignatureError::NoMatch`], 401). Other versions (`v1a`, `v2`) never match.
//!
//! ```
//! use cometgate::webhook::signature::{HeaderNames, SigningSecret, SigningSecrets};
//!
//! // The sender's side: one secret signs.
//! let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
//! let body = br#"{"type":"user.deleted","data":{"subject":"ada"}}"#;
//! let signature = SigningSecret::parse(secret)?.sign("msg_1", 1_700_000_000, body);
//!
//! // The receiver's side: every secret of a rotation verifies.
//! let secrets: SigningSecrets = format!("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw {secret}").parse()?;
//! let headers = [
//!     ("webhook-id", "msg_1"),
//!     ("webhook-timestamp", "1700000000"),
//!     ("webhook-signature", signature.as_str()),
//! ];
//! let header = |name: &str| {
//!     headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_bytes())
//! };
//! let verified = secrets.verify(HeaderNames::WebhookOrSvix, header, body, 1_700_000_030)?;
//! assert_eq!(verified.id(), "msg_1");
//! assert_eq!(verified.timestamp(), 1_700_000_000);
//!
//! // A byte changed anywhere, or a delivery older than five minutes: refused.
//! assert!(secrets.verify(HeaderNames::WebhookOrSvix, header, b"{}", 1_700_000_030).is_err());
//! let late = secrets.verify(HeaderNames::WebhookOrSvix, header, body, 1_700_000_301);
//! assert_eq!(late.unwrap_err().status(), 401);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use data_encoding::{BASE64, Encoding, Specification};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, ExposeSecretMut, SecretSlice};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far a delivery's timestamp may be from `now`, either way: five minutes, as every
/// Standard Webhooks and Svix library.
pub const TOLERANCE_SECS: u64 = 5 * 60;

/// The shortest key a secret may hold: 24 bytes (the Standard Webhooks spec's minimum).
pub const MIN_KEY_LEN: usize = 24;

/// The longest key a secret may hold: 64 bytes (the spec's maximum).
pub const MAX_KEY_LEN: usize = 64;

/// How many secrets one value may list: rotation needs two or three; each costs one HMAC of
/// the body per refused delivery.
pub const MAX_SECRETS: usize = 8;

/// The longest delivery id accepted: it becomes a deduplication key in the store.
pub const MAX_ID_LEN: usize = 256;

/// The most digits a timestamp may have: ten (Unix seconds until the year 2286). Also bounds
/// the parse, so no value overflows.
pub const MAX_TIMESTAMP_DIGITS: usize = 10;

/// The longest signature header accepted (8 KiB: over a hundred signatures).
pub const MAX_SIGNATURE_HEADER_LEN: usize = 8 * 1024;

const SECRET_PREFIX: &str = "whsec_";
const VERSION_PREFIX: &str = "v1,";
/// The base64 length of an HMAC-SHA256 (32 bytes).
const SIGNATURE_B64_LEN: usize = 44;

/// Which headers carry the id, the timestamp and the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderNames {
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature` (Standard Webhooks).
    Webhook,
    /// `svix-id`, `svix-timestamp`, `svix-signature` (Svix, and so Clerk).
    Svix,
    /// The `webhook-*` headers when the request has any of them, else the `svix-*` ones
    /// (the `standard` source: relays send either). The two sets are never mixed.
    WebhookOrSvix,
}

/// One set of the three header names.
#[derive(Debug, Clone, Copy)]
struct Names {
    id: &'static str,
    timestamp: &'static str,
    signature: &'static str,
}

const WEBHOOK: Names = Names {
    id: "webhook-id",
    timestamp: "webhook-timestamp",
    signature: "webhook-signature",
};

const SVIX: Names = Names {
    id: "svix-id",
    timestamp: "svix-timestamp",
    signature: "svix-signature",
};

impl Names {
    fn any_present<'h>(&self, header: &impl Fn(&str) -> Option<&'h [u8]>) -> bool {
        [self.id, self.timestamp, self.signature]
            .into_iter()
            .any(|name| header(name).is_some())
    }
}

impl HeaderNames {
    /// The set this request is read with.
    fn resolve<'h>(self, header: &impl Fn(&str) -> Option<&'h [u8]>) -> Names {
        match self {
            HeaderNames::Webhook => WEBHOOK,
            HeaderNames::Svix => SVIX,
            HeaderNames::WebhookOrSvix
                if !WEBHOOK.any_present(header) && SVIX.any_present(header) =>
            {
                SVIX
            }
            HeaderNames::WebhookOrSvix => WEBHOOK,
        }
    }
}

/// A configured signing secret could not be used. The message says which secret of the list
/// and why, never any of its characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The value is empty (or only white space).
    #[error("the webhook signing secret is empty")]
    Empty,
    /// More than [`MAX_SECRETS`] secrets.
    #[error("the webhook signing secret lists {count} secrets; at most {MAX_SECRETS} are allowed")]
    TooMany {
        /// How many the value lists.
        count: usize,
    },
    /// A secret is not `whsec_<base64>` or `v1,whsec_<base64>`.
    #[error(
        "webhook signing secret #{position} is not of the form whsec_<base64> or v1,whsec_<base64>"
    )]
    UnknownFormat {
        /// Which secret of the list (1 for the first).
        position: usize,
    },
    /// The part after `whsec_` is not standard base64.
    #[error("webhook signing secret #{position} is not valid base64 after whsec_")]
    BadBase64 {
        /// Which secret of the list (1 for the first).
        position: usize,
    },
    /// The key is shorter than [`MIN_KEY_LEN`] or longer than [`MAX_KEY_LEN`] bytes.
    #[error(
        "webhook signing secret #{position} holds a {len}-byte key; keys must be {MIN_KEY_LEN} to {MAX_KEY_LEN} bytes"
    )]
    BadKeyLength {
        /// Which secret of the list (1 for the first).
        position: usize,
        /// The decoded key's length.
        len: usize,
    },
}

/// One HMAC-SHA256 signing secret (`whsec_<base64>`, as Svix, Clerk and Standard Webhooks
/// show it; Supabase shows `v1,whsec_<base64>`). Its key is held in a [`secrecy`] box, wiped
/// when dropped, and never shown by `Debug`.
///
/// It also signs, for apps that send cometgate's own event from their backend (the `standard`
/// source), and for tests.
///
/// ```
/// use cometgate::webhook::signature::SigningSecret;
///
/// // The vector of the Standard Webhooks reference tests.
/// let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
/// let signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
/// assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
/// assert_eq!(format!("{secret:?}"), "SigningSecret([REDACTED])");
/// # Ok::<(), cometgate::webhook::signature::SecretError>(())
/// ```
pub struct SigningSecret {
    key: SecretSlice<u8>,
}

impl SigningSecret {
    /// Parses `whsec_<base64>` or `v1,whsec_<base64>` (padding optional), whose key must be
    /// [`MIN_KEY_LEN`] to [`MAX_KEY_LEN`] bytes. Surrounding white space is ignored.
    pub fn parse(value: &str) -> Result<Self, SecretError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(SecretError::Empty);
        }
        Self::parse_one(value, 1)
    }

    fn parse_one(value: &str, position: usize) -> Result<Self, SecretError> {
        let encoded = value
            .strip_prefix(VERSION_PREFIX)
            .unwrap_or(value)
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretError::UnknownFormat { position })?;
        let key = decode_key(encoded.as_bytes()).ok_or(SecretError::BadBase64 { position })?;
        let len = key.expose_secret().len();
        if !(MIN_KEY_LEN..=MAX_KEY_LEN).contains(&len) {
            return Err(SecretError::BadKeyLength { position, len });
        }
        Ok(Self { key })
    }

    /// The signature of a delivery, `v1,<base64>`: HMAC-SHA256 of `{id}.{timestamp}.{body}`
    /// under this secret. Send it in `webhook-signature` with `webhook-id: {id}` and
    /// `webhook-timestamp: {timestamp}` (the current Unix time in seconds; verifiers read at
    /// most [`MAX_TIMESTAMP_DIGITS`] digits).
    ///
    /// `body` is signed byte for byte: send exactly these bytes. Verifiers refuse an `id` that
    /// is empty, longer than [`MAX_ID_LEN`] bytes or not visible ASCII.
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let mut encoded = [0u8; SIGNATURE_B64_LEN];
        self.signature_b64(
            id.as_bytes(),
            timestamp.to_string().as_bytes(),
            body,
            &mut encoded,
        );
        let mut out = String::with_capacity(VERSION_PREFIX.len() + SIGNATURE_B64_LEN);
        out.push_str(VERSION_PREFIX);
        // Base64 output is ASCII.
        out.extend(encoded.iter().map(|&b| char::from(b)));
        out
    }

    /// The base64 HMAC of the signed content, written into `out`.
    fn signature_b64(
        &self,
        id: &[u8],
        timestamp: &[u8],
        body: &[u8],
        out: &mut [u8; SIGNATURE_B64_LEN],
    ) {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.expose_secret())
            .expect("HMAC takes a key of any length");
        mac.update(id);
        mac.update(b".");
        mac.update(timestamp);
        mac.update(b".");
        mac.update(body);
        BASE64.encode_mut(&mac.finalize().into_bytes(), out);
    }
}

impl Clone for SigningSecret {
    fn clone(&self) -> Self {
        Self {
            key: SecretSlice::from(self.key.expose_secret().to_vec()),
        }
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret([REDACTED])")
    }
}

impl FromStr for SigningSecret {
    type Err = SecretError;

    fn from_str(value: &str) -> Result<Self, SecretError> {
        Self::parse(value)
    }
}

/// Decodes standard base64, padded or not, with unused trailing bits allowed: the reference
/// libraries read `whsec_` secrets as leniently (their tests use such a secret). This leniency
/// is for configured secrets only; signatures are compared as the exact base64 text.
fn decode_key(encoded: &[u8]) -> Option<SecretSlice<u8>> {
    let mut spec = Specification::new();
    spec.symbols
        .push_str(BASE64.specification().symbols.as_str());
    spec.check_trailing_bits = false;
    if encoded.contains(&b'=') {
        spec.padding = Some('=');
    }
    let encoding: Encoding = spec.encoding().ok()?;
    let len = encoding.decode_len(encoded.len()).ok()?;
    // Decode straight into the box, so that no copy of the key is left behind.
    let mut key = SecretSlice::from(vec![0u8; len]);
    let written = encoding.decode_mut(encoded, key.expose_secret_mut()).ok()?;
    if written == len {
        Some(key)
    } else {
        // Padding made the length estimate longer than the key: copy into a box of the
        // right size (the first box is wiped when dropped).
        Some(SecretSlice::from(key.expose_secret()[..written].to_vec()))
    }
}

/// One or more signing secrets, from a `CLERK_WEBHOOK_SIGNING_SECRET` or
/// `COMETGATE_WEBHOOK_SECRET` value: each `whsec_<base64>` or `v1,whsec_<base64>`, several
/// separated by white space while a secret is rotated. A delivery verifies when any of its
/// signatures matches any of the secrets.
///
/// ```
/// use cometgate::webhook::signature::{SecretError, SigningSecrets};
///
/// let rotating: SigningSecrets =
///     "v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".parse()?;
/// assert_eq!(rotating.len(), 2);
/// assert_eq!(format!("{rotating:?}"), "SigningSecrets { count: 2, keys: [REDACTED] }");
///
/// assert_eq!("".parse::<SigningSecrets>().unwrap_err(), SecretError::Empty);
/// // A 16-byte key is too short; the error says so without quoting the secret.
/// let short = "whsec_MfKQ9r8GKYqrTwjUPD8ILA==".parse::<SigningSecrets>().unwrap_err();
/// assert_eq!(short, SecretError::BadKeyLength { position: 1, len: 16 });
/// assert!(!short.to_string().contains("MfKQ"));
/// # Ok::<(), SecretError>(())
/// ```
#[derive(Clone)]
pub struct SigningSecrets {
    // Never empty.
    secrets: Vec<SigningSecret>,
}

impl SigningSecrets {
    /// Parses a white-space-separated list of one to [`MAX_SECRETS`] secrets (see
    /// [`SigningSecret::parse`]).
    pub fn parse(value: &str) -> Result<Self, SecretError> {
        let count = value.split_ascii_whitespace().count();
        if count == 0 {
            return Err(SecretError::Empty);
        }
        if count > MAX_SECRETS {
            return Err(SecretError::TooMany { count });
        }
        let secrets = value
            .split_ascii_whitespace()
            .enumerate()
            .map(|(i, secret)| SigningSecret::parse_one(secret, i + 1))
            .collect::<Result<_, _>>()?;
        Ok(Self { secrets })
    }

    /// How many secrets there are (at least one).
    #[allow(clippy::len_without_is_empty)] // never empty
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Verifies a delivery: its headers, read with `header` (a header's first value by
    /// lower-case name, e.g. `|name| request.header(name)` over a
    /// [`RequestView`](crate::RequestView)) under the names `names` says, and its raw `body`,
    /// at `now` (Unix seconds, from the gate's [`Clock`](crate::clock::Clock)).
    ///
    /// Returns the verified delivery id and timestamp; see the [module docs](self) for the
    /// rules and the errors.
    ///
    /// ```
    /// use cometgate::clock::{Clock, ManualClock};
    /// use cometgate::identity::{RequestView, SimpleRequest};
    /// use cometgate::webhook::signature::{HeaderNames, SignatureError, SigningSecret, SigningSecrets};
    ///
    /// let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    /// let clock = ManualClock::at(1_700_000_000);
    /// let body = br#"{"type":"user.created","data":{"id":"user_29w83sxmDNGwOuEthce5gg56FcC"}}"#;
    /// let signature = SigningSecret::parse(secret)?.sign("msg_2", clock.unix_seconds(), body);
    /// // What Clerk sends.
    /// let request = SimpleRequest::post("/cometchat-webhooks/clerk")
    ///     .with_header("svix-id", "msg_2")
    ///     .with_header("svix-timestamp", "1700000000")
    ///     .with_header("svix-signature", signature);
    ///
    /// let secrets = SigningSecrets::parse(secret)?;
    /// let verify = |request: &SimpleRequest| {
    ///     secrets.verify(HeaderNames::Svix, |name| request.header(name), body, clock.unix_seconds())
    /// };
    /// assert_eq!(verify(&request)?.id(), "msg_2");
    /// assert_eq!(
    ///     verify(&SimpleRequest::post("/cometchat-webhooks/clerk")),
    ///     Err(SignatureError::MissingHeader("svix-id"))
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify<'h>(
        &self,
        names: HeaderNames,
        header: impl Fn(&str) -> Option<&'h [u8]>,
        body: &[u8],
        now: u64,
    ) -> Result<Verified, SignatureError> {
        let names = names.resolve(&header);
        let present = |name: &'static str| header(name).ok_or(SignatureError::MissingHeader(name));
        let (id, timestamp, signatures) = (
            present(names.id)?,
            present(names.timestamp)?,
            present(names.signature)?,
        );
        let id = check_id(id, names.id)?;
        let seconds = parse_timestamp(timestamp, names.timestamp)?;
        let signatures = check_signature_header(signatures, names.signature)?;
        if seconds.abs_diff(now) > TOLERANCE_SECS {
            return Err(SignatureError::OutsideWindow);
        }
        let matched = self.secrets.iter().any(|secret| {
            let mut expected = [0u8; SIGNATURE_B64_LEN];
            secret.signature_b64(id.as_bytes(), timestamp, body, &mut expected);
            v1_signatures(signatures).any(|candidate| bool::from(candidate.ct_eq(&expected[..])))
        });
        if matched {
            Ok(Verified {
                id: id.to_owned(),
                timestamp: seconds,
            })
        } else {
            Err(SignatureError::NoMatch)
        }
    }
}

impl fmt::Debug for SigningSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SigningSecrets {{ count: {}, keys: [REDACTED] }}",
            self.secrets.len()
        )
    }
}

impl FromStr for SigningSecrets {
    type Err = SecretError;

    fn from_str(value: &str) -> Result<Self, SecretError> {
        Self::parse(value)
    }
}

impl From<SigningSecret> for SigningSecrets {
    fn from(secret: SigningSecret) -> Self {
        Self {
            secrets: vec![secret],
        }
    }
}

/// A delivery whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    id: String,
    timestamp: u64,
}

impl Verified {
    /// The delivery id (`webhook-id` / `svix-id`): the same on every retry of one delivery, so
    /// the key to deduplicate by. At most [`MAX_ID_LEN`] bytes of visible ASCII.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The signed timestamp, Unix seconds (within [`TOLERANCE_SECS`] of the `now` it was
    /// verified at).
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }
}

/// Why a delivery was refused. No variant carries a signature, a secret or a header's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A required header is absent (401).
    #[error("the webhook header {0} is missing")]
    MissingHeader(&'static str),
    /// A header is there but not of the scheme's form (400).
    #[error("the webhook header {header} is malformed: {reason}")]
    MalformedHeader {
        /// The header's name.
        header: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The timestamp is more than [`TOLERANCE_SECS`] from now (401): a replay, a stale
    /// retry, or a clock far off.
    #[error("the webhook timestamp is outside the tolerance window")]
    OutsideWindow,
    /// No `v1` signature matches any configured secret (401).
    #[error("no webhook signature matches")]
    NoMatch,
}

impl SignatureError {
    /// The HTTP status this refusal is answered with: 400 for a malformed header, else 401.
    ///
    /// ```
    /// use cometgate::webhook::signature::SignatureError;
    /// assert_eq!(SignatureError::MissingHeader("svix-id").status(), 401);
    /// assert_eq!(SignatureError::NoMatch.status(), 401);
    /// ```
    pub fn status(&self) -> u16 {
        match self {
            SignatureError::MalformedHeader { .. } => 400,
            SignatureError::MissingHeader(_)
            | SignatureError::OutsideWindow
            | SignatureError::NoMatch => 401,
        }
    }
}

fn malformed(header: &'static str, reason: &'static str) -> SignatureError {
    SignatureError::MalformedHeader { header, reason }
}

/// The id: 1 to [`MAX_ID_LEN`] bytes of visible ASCII.
fn check_id<'h>(id: &'h [u8], name: &'static str) -> Result<&'h str, SignatureError> {
    if id.is_empty() {
        return Err(malformed(name, "empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(malformed(name, "longer than 256 bytes"));
    }
    if !id.iter().all(u8::is_ascii_graphic) {
        return Err(malformed(name, "not visible ASCII"));
    }
    // Visible ASCII is UTF-8.
    std::str::from_utf8(id).map_err(|_| malformed(name, "not visible ASCII"))
}

/// The timestamp: 1 to [`MAX_TIMESTAMP_DIGITS`] ASCII digits, nothing else (no sign, no space).
fn parse_timestamp(timestamp: &[u8], name: &'static str) -> Result<u64, SignatureError> {
    if timestamp.is_empty() || !timestamp.iter().all(u8::is_ascii_digit) {
        return Err(malformed(name, "not a whole number of seconds"));
    }
    if timestamp.len() > MAX_TIMESTAMP_DIGITS {
        return Err(malformed(name, "more than 10 digits"));
    }
    // At most ten digits: fits a u64 with room to spare.
    Ok(timestamp
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

/// The signature header: at most [`MAX_SIGNATURE_HEADER_LEN`] bytes of visible ASCII and spaces.
fn check_signature_header<'h>(
    value: &'h [u8],
    name: &'static str,
) -> Result<&'h [u8], SignatureError> {
    if value.len() > MAX_SIGNATURE_HEADER_LEN {
        return Err(malformed(name, "longer than 8 KiB"));
    }
    if !value.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return Err(malformed(name, "not visible ASCII"));
    }
    Ok(value)
}

/// The base64 part of each `v1,` entry of a signature header; other versions are skipped.
fn v1_signatures(header: &[u8]) -> impl Iterator<Item = &[u8]> {
    header
        .split(|&b| b == b' ')
        .filter_map(|entry| entry.strip_prefix(VERSION_PREFIX.as_bytes()))
}

#[cfg(test)]
mod tests;
