//! [`StoreKey`]: the 32-byte key that encrypts what the store writes to Redis.

use std::fmt;

use secrecy::{ExposeSecret, SecretBox};

/// A 32-byte encryption key (`COMETGATE_STORE_KEY`), held in a [`SecretBox`]: its `Debug` is
/// redacted and the bytes are zeroed when it drops.
///
/// Generate one with `openssl rand -base64 32`.
///
/// ```
/// use cometgate_redis::StoreKey;
///
/// let key = StoreKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
/// assert_eq!(format!("{key:?}"), "StoreKey(redacted)");
/// // Padding is optional; anything but 32 bytes of standard base64 is refused.
/// assert!(StoreKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").is_ok());
/// assert!(StoreKey::from_base64("c2hvcnQ=").is_err());
/// assert!(StoreKey::from_base64("not base64!").is_err());
/// ```
pub struct StoreKey(SecretBox<[u8; 32]>);

/// Why a string is not a [`StoreKey`]. The message never holds the string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not standard base64.
    #[error("it is not standard base64 (A-Z a-z 0-9 + /, padding optional)")]
    NotBase64,
    /// Base64 of another length than 32 bytes.
    #[error("it decodes to {0} bytes, 32 are needed (e.g. `openssl rand -base64 32`)")]
    WrongLength(usize),
}

impl StoreKey {
    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretBox::new(Box::new(bytes)))
    }

    /// A new random key (from the operating system's generator through `rand`).
    pub fn generate() -> Self {
        Self::from_bytes(rand::random())
    }

    /// Parses 32 bytes of standard base64, padding optional (surrounding whitespace is
    /// ignored, as environment files often leave some).
    ///
    /// # Errors
    ///
    /// [`KeyError`] when it is not base64 or not 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let unpadded = text.trim().trim_end_matches('=');
        let bytes = data_encoding::BASE64_NOPAD
            .decode(unpadded.as_bytes())
            .map_err(|_| KeyError::NotBase64)?;
        let len = bytes.len();
        let secret = SecretBox::new(Box::new(bytes));
        let array: [u8; 32] = secret
            .expose_secret()
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::WrongLength(len))?;
        Ok(Self::from_bytes(array))
    }

    /// The key in standard base64, to put in `COMETGATE_STORE_KEY`.
    pub fn to_base64(&self) -> secrecy::SecretString {
        data_encoding::BASE64.encode(self.0.expose_secret()).into()
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    /// A subkey for one purpose, `HMAC-SHA256(key, label)`: the cipher and the keyed names
    /// never share a key (the store key is 32 uniformly random bytes, so one HMAC block is a
    /// sound derivation).
    pub(crate) fn derive(&self, label: &str) -> SecretBox<[u8; 32]> {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(self.bytes())
            .expect("HMAC takes a key of any length");
        mac.update(label.as_bytes());
        SecretBox::new(Box::new(mac.finalize().into_bytes().into()))
    }
}

impl Clone for StoreKey {
    fn clone(&self) -> Self {
        Self::from_bytes(*self.bytes())
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn base64_round_trips_and_errors_hold_no_input() {
        let key = StoreKey::generate();
        let text = key.to_base64();
        let back = StoreKey::from_base64(text.expose_secret()).unwrap();
        assert_eq!(back.bytes(), key.bytes());
        let secretish = "c2VjcmV0LXZhbHVlLXRoYXQtaXMtdG9vLXNob3J0";
        let err = StoreKey::from_base64(secretish).unwrap_err();
        assert_eq!(err, KeyError::WrongLength(30));
        assert!(!err.to_string().contains(secretish));
        assert_eq!(
            StoreKey::from_base64("%%%%").unwrap_err(),
            KeyError::NotBase64
        );
        assert!(StoreKey::from_base64("").is_err());
    }
}
