//! Device ids: which of a user's installs a token belongs to.
//!
//! A [`DeviceId`] is what the client sends (`{"deviceId": "..."}`): an install id the app keeps
//! in secure storage, or the session id an identity offers
//! ([`Principal::with_session_id`](crate::Principal::with_session_id)), or one the server
//! generates when neither is there. It is always looked up together with the verified UID, so
//! a client can only choose among its own user's tokens.
//!
//! Stores never hold the id itself, only its [`DeviceKey`] (a hash), and logs show only the
//! key's short form.

use std::fmt;

use sha2::{Digest, Sha256};

/// The longest accepted device id, in bytes.
pub const DEVICE_ID_MAX_LEN: usize = 128;

/// A client's device id: 1 to 128 of `A-Z a-z 0-9 . _ : -`.
///
/// Its `Debug` shows only the [`DeviceKey`]'s short hash, so an id never reaches a log in clear.
///
/// ```
/// use cometgate::DeviceId;
///
/// let id = DeviceId::parse("ios-4f1c9a2e.install:1").unwrap();
/// assert_eq!(id.as_str(), "ios-4f1c9a2e.install:1");
/// assert!(DeviceId::parse("").is_err());
/// assert!(DeviceId::parse("has space").is_err());
/// assert!(DeviceId::parse(&"a".repeat(129)).is_err());
/// assert!(!format!("{id:?}").contains("4f1c9a2e"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DeviceId(Box<str>);

/// Why a string is not a [`DeviceId`]; the message is safe to show a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("deviceId must be 1 to 128 characters of A-Z a-z 0-9 . _ : -")]
pub struct InvalidDeviceId;

impl DeviceId {
    /// Checks `id` against the device id rule.
    ///
    /// # Errors
    ///
    /// [`InvalidDeviceId`] when it is empty, longer than [`DEVICE_ID_MAX_LEN`] or has any other
    /// character.
    pub fn parse(id: &str) -> Result<Self, InvalidDeviceId> {
        let valid = (1..=DEVICE_ID_MAX_LEN).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if valid {
            Ok(Self(id.into()))
        } else {
            Err(InvalidDeviceId)
        }
    }

    /// A new random id (`d-` and 32 hex digits) for a client that sent none.
    pub fn generate() -> Self {
        Self(format!("d-{:032x}", rand::random::<u128>()).into())
    }

    /// The id as sent to and from the client.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key stores use for this id.
    pub fn key(&self) -> DeviceKey {
        DeviceKey::of(self)
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({})", self.key().short())
    }
}

/// What stores hold instead of a [`DeviceId`]: the first 16 bytes of its SHA-256 (with a
/// domain prefix). Looked up only together with a UID, so a collision would have to happen
/// among one user's own devices (odds about 2⁻¹²⁸ per pair).
///
/// ```
/// use cometgate::DeviceId;
///
/// let key = DeviceId::parse("install-1").unwrap().key();
/// assert_eq!(key, DeviceId::parse("install-1").unwrap().key());
/// assert_ne!(key, DeviceId::parse("install-2").unwrap().key());
/// assert_eq!(key.short().len(), 8);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceKey([u8; 16]);

impl DeviceKey {
    fn of(id: &DeviceId) -> Self {
        let digest = Sha256::new()
            .chain_update(b"cometgate device v1\0")
            .chain_update(id.as_str().as_bytes())
            .finalize();
        let mut key = [0; 16];
        key.copy_from_slice(&digest[..16]);
        Self(key)
    }

    /// The key from its 16 bytes, as a store reads it back.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The key's 16 bytes, as a store writes them.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// 8 hex digits of the key: enough to tell a user's devices apart in a log, not enough to
    /// find the id.
    pub fn short(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.0[..4])
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceKey({})", self.short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn parse_accepts_exactly_the_rule(id in "[ -~\u{80}-\u{10ffff}]{0,140}") {
            let rule = (1..=128).contains(&id.len())
                && id.chars().all(|c| c.is_ascii_alphanumeric() || ".-_:".contains(c));
            prop_assert_eq!(DeviceId::parse(&id).is_ok(), rule);
        }

        #[test]
        fn debug_never_shows_the_id(id in "[A-Za-z0-9]{12,128}") {
            let id = DeviceId::parse(&id).unwrap();
            let (shown, key) = (format!("{id:?}"), format!("{:?}", id.key()));
            prop_assert!(!shown.contains(id.as_str()));
            prop_assert!(!key.contains(id.as_str()));
        }
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let a = DeviceId::generate();
        assert!(DeviceId::parse(a.as_str()).is_ok());
        assert_ne!(a, DeviceId::generate());
    }
}
