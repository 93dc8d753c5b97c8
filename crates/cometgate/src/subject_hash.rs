//! The subject in the request's log event, as a keyed hash: the same (issuer, subject) gives the
//! same value for the life of the process, so an audit can follow one user's requests, but the
//! log holds no user id, and without the key no one can test a guessed id against it.
//!
//! The key is random per process (logs correlate within a run, not across restarts); an
//! application that needs correlation across restarts or instances can set its own with
//! [`set_key`] before the first request.

use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How many bytes of the HMAC the log shows (as hex): 128 bits, no collision in practice.
const SHOWN_BYTES: usize = 16;

static KEY: OnceLock<[u8; 32]> = OnceLock::new();

fn key() -> &'static [u8; 32] {
    KEY.get_or_init(rand::random)
}

/// Sets the process's subject-hash key (e.g. from a secret shared by every instance), so
/// hashes correlate across restarts and instances. Only the first key counts: returns `false`
/// when one was already set or generated (after the first request).
///
/// ```
/// // The key is a secret: load it from where the app keeps secrets.
/// let first = cometgate::subject_hash::set_key([7; 32]);
/// assert!(!cometgate::subject_hash::set_key([8; 32]), "only the first key counts");
/// # let _ = first;
/// ```
pub fn set_key(key: [u8; 32]) -> bool {
    KEY.set(key).is_ok()
}

/// The log's hash of `subject` as issued by `issuer`: `HMAC-SHA256(key, issuer NUL subject)`,
/// its first 16 bytes in hex.
///
/// ```
/// use cometgate::subject_hash::hash;
/// assert_eq!(hash("https://id.example", "ada"), hash("https://id.example", "ada"));
/// assert_ne!(hash("https://id.example", "ada"), hash("https://other.example", "ada"));
/// assert_eq!(hash("https://id.example", "ada").len(), 32);
/// ```
pub fn hash(issuer: &str, subject: &str) -> String {
    // A key of any length is valid for HMAC: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key()).expect("HMAC takes any key");
    mac.update(issuer.as_bytes());
    mac.update(&[0]);
    mac.update(subject.as_bytes());
    let digest = mac.finalize().into_bytes();
    data_encoding::HEXLOWER.encode(&digest[..SHOWN_BYTES])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The hash never shows the subject, and distinct (issuer, subject) pairs (also those
        /// that would concatenate alike) hash apart.
        #[test]
        fn hashes_hide_the_subject_and_tell_subjects_apart(
            issuer in "[a-z:/.]{1,20}",
            subject in "[A-Za-z0-9|_.:-]{6,40}",
            other in "[A-Za-z0-9|_.:-]{6,40}",
        ) {
            let h = hash(&issuer, &subject);
            prop_assert_eq!(h.len(), 2 * SHOWN_BYTES);
            prop_assert!(!h.contains(&subject));
            prop_assert_eq!(&h, &hash(&issuer, &subject));
            if other != subject {
                prop_assert_ne!(&h, &hash(&issuer, &other));
            }
            let shifted = format!("{issuer}{}", &subject[..1]);
            prop_assert_ne!(h, hash(&shifted, &subject[1..]));
        }
    }
}
