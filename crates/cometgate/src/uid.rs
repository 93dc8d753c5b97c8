//! [`Uid`]: a validated CometChat user id.
//!
//! CometChat accepts UIDs of 1 to 100 characters from `[a-z0-9_-]` and lower-cases whatever it
//! is given on create and on lookup. Two app users whose ids differ only in case would therefore
//! become the *same* CometChat user. [`Uid::parse`] is strict and rejects upper case, so nothing
//! merges silently; [`Uid::parse_lowercasing`] is there for input that is known to be
//! case-insensitive already. To turn an arbitrary identity-provider subject into a UID, use
//! [`UidMapper`](crate::UidMapper).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// The longest UID CometChat accepts.
pub const MAX_UID_LEN: usize = 100;

/// A CometChat UID: 1 to 100 characters of `[a-z0-9_-]`.
///
/// ```
/// use cometgate::Uid;
///
/// let uid: Uid = "user_000".parse().unwrap();
/// assert_eq!(uid.as_str(), "user_000");
///
/// let err = Uid::parse("Alice").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid CometChat UID: character 'A' at position 0 is not allowed \
///      (only a-z, 0-9, '_' and '-'; upper case would be merged by CometChat's lower-casing)"
/// );
/// assert_eq!(Uid::parse_lowercasing("Alice").unwrap().as_str(), "alice");
/// ```
// `Arc<str>`: a UID is cloned several times per token request (rate-limit key, single-flight
// key, the answer), so clones share one allocation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uid(Arc<str>);

/// Why a string is not a valid [`Uid`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UidError {
    /// The string is empty.
    #[error("invalid CometChat UID: it is empty (1 to 100 characters of a-z, 0-9, '_' and '-')")]
    Empty,
    /// The string is longer than [`MAX_UID_LEN`] characters.
    #[error("invalid CometChat UID: it is {len} characters long, the maximum is 100")]
    TooLong {
        /// The length that was given, in characters.
        len: usize,
    },
    /// The string holds a character CometChat does not allow.
    #[error(
        "invalid CometChat UID: character {ch:?} at position {position} is not allowed \
         (only a-z, 0-9, '_' and '-'{hint})",
        hint = if ch.is_ascii_uppercase() {
            "; upper case would be merged by CometChat's lower-casing"
        } else {
            ""
        }
    )]
    InvalidChar {
        /// The first character that is not allowed.
        ch: char,
        /// Its position, in characters from 0.
        position: usize,
    },
}

fn is_uid_char(c: char) -> bool {
    matches!(c, 'a'..='z' | '0'..='9' | '_' | '-')
}

impl Uid {
    /// Parses a UID strictly: upper case is an error.
    pub fn parse(s: &str) -> Result<Self, UidError> {
        Self::validate(s)?;
        Ok(Self(Arc::from(s)))
    }

    /// Lower-cases ASCII letters first, as CometChat itself does on create and lookup, then
    /// parses. Only use this where two ids differing in case really are the same user.
    pub fn parse_lowercasing(s: &str) -> Result<Self, UidError> {
        Self::parse(&s.to_ascii_lowercase())
    }

    fn validate(s: &str) -> Result<(), UidError> {
        if s.is_empty() {
            return Err(UidError::Empty);
        }
        if let Some((position, ch)) = s.chars().enumerate().find(|&(_, c)| !is_uid_char(c)) {
            return Err(UidError::InvalidChar { ch, position });
        }
        // Every allowed character is one byte, so the byte length is the character length.
        if s.len() > MAX_UID_LEN {
            return Err(UidError::TooLong { len: s.len() });
        }
        Ok(())
    }

    /// The UID as a string slice; it is always safe in a URL path segment.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The UID as an owned string.
    pub fn into_string(self) -> String {
        self.0.to_string()
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uid({:?})", self.0)
    }
}

impl AsRef<str> for Uid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Uid {
    type Err = UidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for Uid {
    type Error = UidError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Uid {
    type Error = UidError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::validate(&s)?;
        Ok(Self(Arc::from(s)))
    }
}

impl From<Uid> for String {
    fn from(uid: Uid) -> Self {
        uid.0.to_string()
    }
}

impl serde::Serialize for Uid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Uid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Uid::try_from(s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_real_uids() {
        for s in [
            "user_000",
            "superhero1",
            "cometchat-uid-6",
            "a",
            "3f2b8c1e-0d4a-4b7e-9a51-6f0e2c9d8b7a",
        ] {
            assert_eq!(Uid::parse(s).unwrap().as_str(), s);
        }
        assert!(Uid::parse(&"a".repeat(100)).is_ok());
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(Uid::parse(""), Err(UidError::Empty));
        assert_eq!(
            Uid::parse(&"a".repeat(101)),
            Err(UidError::TooLong { len: 101 })
        );
        assert_eq!(
            Uid::parse("auth0|65f"),
            Err(UidError::InvalidChar {
                ch: '|',
                position: 5
            })
        );
        assert_eq!(
            Uid::parse("é"),
            Err(UidError::InvalidChar {
                ch: 'é',
                position: 0
            })
        );
        assert!(Uid::parse("a b").unwrap_err().to_string().contains("' '"));
        assert!(Uid::parse("a/../b").is_err());
    }

    #[test]
    fn serde_validates() {
        let uid: Uid = serde_json::from_str("\"alice\"").unwrap();
        assert_eq!(serde_json::to_string(&uid).unwrap(), "\"alice\"");
        assert!(serde_json::from_str::<Uid>("\"Alice\"").is_err());
        assert!(serde_json::from_str::<Uid>("\"\"").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn parse_accepts_exactly_the_cometchat_alphabet(s in "\\PC{0,120}") {
            let valid = !s.is_empty()
                && s.chars().count() <= 100
                && s.chars().all(is_uid_char);
            prop_assert_eq!(Uid::parse(&s).is_ok(), valid);
        }

        #[test]
        fn valid_uids_round_trip(s in "[a-z0-9_-]{1,100}") {
            let uid = Uid::parse(&s).unwrap();
            prop_assert_eq!(uid.as_str(), s.as_str());
        }

        #[test]
        fn lowercasing_never_yields_upper_case(s in "[A-Za-z0-9_-]{1,100}") {
            let uid = Uid::parse_lowercasing(&s).unwrap();
            prop_assert_eq!(uid.as_str(), s.to_ascii_lowercase());
        }
    }
}
