//! Subjects of realistic shape for the rows that need many users.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// User `i`'s subject in the form of a Firebase UID: 28 mixed-case letters and digits, the
/// same for the same `i` in every run.
pub fn firebase_like(i: usize) -> String {
    let mut rng = StdRng::seed_from_u64(i as u64);
    (0..28)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}
