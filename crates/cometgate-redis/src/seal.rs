//! [`Sealer`]: XChaCha20-Poly1305 over every secret value the store writes (tokens, account
//! records), with a random 192-bit nonce per value (random nonces of that size never repeat in
//! practice) and the value's kind, Redis key and UID as associated data, so a value copied to
//! another key or user does not open.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::ExposeSecret;

use crate::key::StoreKey;

/// The first byte of every sealed value: the format, so a later one can be told apart.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// A value that did not open under either key: the wrong key, or the value was changed or
/// moved. Carries nothing of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a value in Redis does not decrypt under COMETGATE_STORE_KEY (nor COMETGATE_STORE_KEY_PREVIOUS): \
     a wrong key, or the value was altered"
)]
pub struct OpenError;

/// Which key opened a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opened {
    Current,
    /// The previous key: the value is to be sealed again under the current one when next
    /// written.
    Previous,
}

/// Seals under the current key, opens under the current or the previous one.
#[derive(Clone)]
pub(crate) struct Sealer {
    current: XChaCha20Poly1305,
    previous: Option<XChaCha20Poly1305>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("key", &"redacted")
            .field("previous", &self.previous.as_ref().map(|_| "redacted"))
            .finish()
    }
}

/// The associated data: each part with its length, so parts cannot shift into one another.
fn associated(parts: &[&[u8]]) -> Vec<u8> {
    let mut ad = Vec::with_capacity(parts.iter().map(|p| p.len() + 4).sum());
    for part in parts {
        // A part is a key name, a UID or a field: far below 4 GiB.
        ad.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        ad.extend_from_slice(part);
    }
    ad
}

impl Sealer {
    pub(crate) fn new(current: &StoreKey, previous: Option<&StoreKey>) -> Self {
        let cipher = |k: &StoreKey| {
            XChaCha20Poly1305::new(k.derive("cometgate-redis seal v1").expose_secret().into())
        };
        Self {
            current: cipher(current),
            previous: previous.map(cipher),
        }
    }

    /// `plaintext` sealed for the place `context` names (key name, UID, field).
    pub(crate) fn seal(&self, context: &[&[u8]], plaintext: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let aad = associated(context);
        let sealed = self
            .current
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            // Encryption fails only for messages of about 256 GiB.
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value sealed for `context`, trying the current key, then the previous one.
    pub(crate) fn open(
        &self,
        context: &[&[u8]],
        value: &[u8],
    ) -> Result<(Vec<u8>, Opened), OpenError> {
        if value.len() < 1 + NONCE_LEN + TAG_LEN || value[0] != VERSION {
            return Err(OpenError);
        }
        let (nonce, sealed) = value[1..].split_at(NONCE_LEN);
        let aad = associated(context);
        let payload = || Payload {
            msg: sealed,
            aad: &aad,
        };
        let nonce = XNonce::from_slice(nonce);
        if let Ok(plain) = self.current.decrypt(nonce, payload()) {
            return Ok((plain, Opened::Current));
        }
        match &self.previous {
            Some(previous) => previous
                .decrypt(nonce, payload())
                .map(|plain| (plain, Opened::Previous))
                .map_err(|_| OpenError),
            None => Err(OpenError),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A sealed value opens only for its own place and under a key that sealed it; any
        /// change of one byte makes it fail; the plaintext never shows in it.
        #[test]
        fn sealed_values_open_only_where_they_were_sealed(
            plain in "[a-z0-9_]{8,60}",
            uid in "[a-z0-9]{1,10}",
            other in "[a-z0-9]{1,10}",
            flip in any::<prop::sample::Index>(),
        ) {
            let (old, new) = (StoreKey::generate(), StoreKey::generate());
            let before = Sealer::new(&old, None);
            let sealed = before.seal(&[b"k", uid.as_bytes()], plain.as_bytes());
            prop_assert!(!sealed.windows(plain.len()).any(|w| w == plain.as_bytes()));
            prop_assert_eq!(before.open(&[b"k", uid.as_bytes()], &sealed).unwrap(), (plain.clone().into_bytes(), Opened::Current));
            if other != uid {
                prop_assert!(before.open(&[b"k", other.as_bytes()], &sealed).is_err());
            }
            // Rotated: readable with the previous key, not without it.
            let rotated = Sealer::new(&new, Some(&old));
            prop_assert_eq!(rotated.open(&[b"k", uid.as_bytes()], &sealed).unwrap().1, Opened::Previous);
            prop_assert!(Sealer::new(&new, None).open(&[b"k", uid.as_bytes()], &sealed).is_err());
            let mut tampered = sealed.clone();
            let i = flip.index(tampered.len());
            tampered[i] ^= 1;
            prop_assert!(before.open(&[b"k", uid.as_bytes()], &tampered).is_err());
        }
    }

    #[test]
    fn parts_do_not_shift_into_one_another() {
        let s = Sealer::new(&StoreKey::generate(), None);
        let sealed = s.seal(&[b"ab", b"c"], b"x");
        assert!(s.open(&[b"a", b"bc"], &sealed).is_err());
        assert!(s.open(&[b"ab", b"c"], &[]).is_err());
    }
}
