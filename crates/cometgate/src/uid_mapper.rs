//! [`UidMapper`]: from an identity provider's (issuer, subject) to a CometChat [`Uid`].
//!
//! CometChat UIDs are `[a-z0-9_-]{1,100}` and CometChat lower-cases them. Identity providers'
//! subjects are not: Firebase UIDs and Clerk ids are mixed-case (lower-casing them can merge two
//! users), Auth0 subjects contain `|`, custom systems may use e-mail addresses, Unicode or long
//! strings. The mapper is **deterministic** (same input, same UID) and **injective** (two
//! different inputs never give the same UID), so one app user can never become another in chat.
//!
//! # Choosing a mapping
//!
//! | provider | subject looks like | mapping |
//! |---|---|---|
//! | Supabase | `3f2b8c1e-0d4a-4b7e-9a51-6f0e2c9d8b7a` (lower-case UUID) | [`UidMapping::Readable`] |
//! | Firebase Auth | `kTg2V9cXhQNoP1m3RcYbZ8W4aE12` (mixed case) | [`UidMapping::Encoded`] |
//! | Clerk | `user_2NxTq8bKq0ZbY3fP` (mixed case) | [`UidMapping::Encoded`] |
//! | Auth0 | `auth0|65f1c0…`, `google-oauth2|1093…` | [`UidMapping::Encoded`] |
//! | your own JWT / session | integers or lower-case ids: `Readable`; anything else: `Encoded` | |
//!
//! * [`UidMapping::Readable`] uses the subject as the UID when it already is a valid lower-case
//!   UID, and **fails** otherwise (it never alters a subject, because altering is where
//!   collisions come from).
//! * [`UidMapping::Encoded`] writes the subject's UTF-8 bytes in lower-case base32 (RFC 4648
//!   alphabet, no padding). This is exact: distinct subjects give distinct UIDs. When the
//!   encoding does not fit in 100 characters, the UID is `sha256_` followed by the hex SHA-256 of
//!   the subject instead. Base32 never contains `_`, so hashed and encoded UIDs can never be
//!   equal; two hashed UIDs are distinct unless SHA-256 collides (collision resistance, not
//!   exactness). Subjects up to `⌊5 × (100 − prefix) / 8⌋` bytes (62 bytes without a prefix)
//!   are encoded exactly.
//!
//! # Several issuers
//!
//! A mapper built with [`UidMapper::new`] ignores the issuer: use it when the app trusts a single
//! identity provider. An app that accepts several builds one rule per issuer with
//! [`UidMapper::per_issuer`]; each rule has its own prefix (`[a-z0-9]+`), the UID is
//! `<prefix>-<mapped subject>`, and since a prefix holds no `-`, UIDs from different issuers can
//! never be equal. A principal from an issuer without a rule is refused.
//!
//! ```
//! use cometgate::{Principal, UidMapper, UidMapping};
//!
//! // One provider (Firebase): encode.
//! let mapper = UidMapper::new(UidMapping::Encoded);
//! let a = mapper.map(&Principal::new("https://securetoken.google.com/demo", "AbC")).unwrap();
//! let b = mapper.map(&Principal::new("https://securetoken.google.com/demo", "abc")).unwrap();
//! assert_ne!(a, b); // case-only differences stay different users
//!
//! // Two providers: one rule each.
//! let mapper = UidMapper::per_issuer()
//!     .issuer("https://abcd.supabase.co/auth/v1", "sb", UidMapping::Readable)
//!     .issuer("https://tenant.eu.auth0.com/", "a0", UidMapping::Encoded)
//!     .build()
//!     .unwrap();
//! let uid = mapper
//!     .map(&Principal::new("https://abcd.supabase.co/auth/v1", "3f2b8c1e-0d4a-4b7e-9a51-6f0e2c9d8b7a"))
//!     .unwrap();
//! assert_eq!(uid.as_str(), "sb-3f2b8c1e-0d4a-4b7e-9a51-6f0e2c9d8b7a");
//! assert!(mapper.map(&Principal::new("https://evil.example", "x")).is_err());
//! ```

use std::fmt;

use data_encoding::{BASE32_NOPAD, HEXLOWER};
use sha2::{Digest, Sha256};

use crate::identity::Principal;
use crate::uid::{MAX_UID_LEN, Uid};

/// How a subject becomes (the body of) a UID. See the [module docs](self) for which to choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UidMapping {
    /// The subject is used as it is; subjects that are not valid lower-case UIDs are an error.
    Readable,
    /// The subject is encoded collision-free (lower-case base32, or a SHA-256 for long subjects).
    Encoded,
}

/// Why a principal could not be mapped to a UID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UidMapError {
    /// Readable mapping was configured but the subject is not a valid lower-case UID.
    #[error(
        "the subject is not a valid lower-case CometChat UID ({reason}); \
         use UidMapping::Encoded for this identity provider"
    )]
    NotReadable {
        /// What is wrong with the subject as a UID.
        reason: String,
    },
    /// The subject is empty.
    #[error("the principal's subject is empty")]
    EmptySubject,
    /// No rule covers the principal's issuer.
    #[error("no UID mapping rule for issuer {issuer:?}; add one with UidMapper::per_issuer()")]
    UnknownIssuer {
        /// The issuer that has no rule.
        issuer: String,
    },
}

/// Why a [`UidMapper`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UidMapperConfigError {
    /// A prefix is empty, too long (over 32 characters), or holds characters outside `[a-z0-9]`.
    #[error("UID prefix {prefix:?} must be 1 to 32 characters of a-z and 0-9")]
    BadPrefix {
        /// The prefix as given.
        prefix: String,
    },
    /// Two rules use the same prefix, so their UIDs could collide.
    #[error("UID prefix {prefix:?} is used by two issuers; each issuer needs its own prefix")]
    DuplicatePrefix {
        /// The prefix used twice.
        prefix: String,
    },
    /// Two rules name the same issuer.
    #[error("issuer {issuer:?} has two UID mapping rules")]
    DuplicateIssuer {
        /// The issuer named twice.
        issuer: String,
    },
    /// [`UidMapper::per_issuer`] was built without any rule.
    #[error("a per-issuer UID mapper needs at least one issuer rule")]
    NoRules,
}

const HASH_MARK: &str = "sha256_";
const MAX_PREFIX_LEN: usize = 32;

#[derive(Debug, Clone)]
struct Rule {
    issuer: String,
    prefix: String,
    mapping: UidMapping,
}

#[derive(Debug, Clone)]
enum Rules {
    AnyIssuer(UidMapping),
    PerIssuer(Vec<Rule>),
}

/// Maps a [`Principal`] to a [`Uid`], deterministically and injectively.
///
/// See the [module documentation](self) for the guarantees and an example.
#[derive(Debug, Clone)]
pub struct UidMapper {
    rules: Rules,
}

impl Default for UidMapper {
    /// [`UidMapping::Encoded`] for a single issuer: safe for every provider.
    fn default() -> Self {
        Self::new(UidMapping::Encoded)
    }
}

impl UidMapper {
    /// A mapper for an app with a single identity provider: the issuer is not part of the UID.
    pub fn new(mapping: UidMapping) -> Self {
        Self {
            rules: Rules::AnyIssuer(mapping),
        }
    }

    /// Starts a mapper with one rule (prefix and mapping) per trusted issuer.
    pub fn per_issuer() -> PerIssuerBuilder {
        PerIssuerBuilder { rules: Vec::new() }
    }

    /// Maps the principal's (issuer, subject) to a UID.
    pub fn map(&self, principal: &Principal) -> Result<Uid, UidMapError> {
        let subject = principal.subject();
        if subject.is_empty() {
            return Err(UidMapError::EmptySubject);
        }
        match &self.rules {
            Rules::AnyIssuer(mapping) => map_subject("", *mapping, subject),
            Rules::PerIssuer(rules) => {
                let rule = rules
                    .iter()
                    .find(|r| r.issuer == principal.issuer())
                    .ok_or_else(|| UidMapError::UnknownIssuer {
                        issuer: principal.issuer().to_owned(),
                    })?;
                map_subject(&format!("{}-", rule.prefix), rule.mapping, subject)
            }
        }
    }
}

fn map_subject(prefix: &str, mapping: UidMapping, subject: &str) -> Result<Uid, UidMapError> {
    if prefix.is_empty() && mapping == UidMapping::Readable {
        // The common single-issuer case: the subject is the UID, checked once.
        return Uid::parse(subject).map_err(|e| UidMapError::NotReadable {
            reason: e.to_string(),
        });
    }
    let uid = match mapping {
        UidMapping::Readable => {
            Uid::parse(subject).map_err(|e| UidMapError::NotReadable {
                reason: e.to_string(),
            })?;
            format!("{prefix}{subject}")
        }
        UidMapping::Encoded => {
            let budget = MAX_UID_LEN - prefix.len();
            let encoded_len = BASE32_NOPAD.encode_len(subject.len());
            if encoded_len <= budget {
                let mut encoded = BASE32_NOPAD.encode(subject.as_bytes());
                encoded.make_ascii_lowercase();
                format!("{prefix}{encoded}")
            } else {
                let digest = Sha256::digest(subject.as_bytes());
                format!("{prefix}{HASH_MARK}{}", HEXLOWER.encode(&digest))
            }
        }
    };
    // Every branch above builds from the UID alphabet within the length budget; a failure here
    // would be a bug in this module, reported as an error rather than a panic.
    Uid::try_from(uid).map_err(|e| UidMapError::NotReadable {
        reason: e.to_string(),
    })
}

/// Builds a [`UidMapper`] with one rule per issuer. See [`UidMapper::per_issuer`].
#[derive(Debug, Clone)]
pub struct PerIssuerBuilder {
    rules: Vec<Rule>,
}

impl PerIssuerBuilder {
    /// Adds a rule: principals from `issuer` (compared exactly) map to `<prefix>-<subject mapped
    /// with mapping>`.
    #[must_use]
    pub fn issuer(
        mut self,
        issuer: impl Into<String>,
        prefix: impl Into<String>,
        mapping: UidMapping,
    ) -> Self {
        self.rules.push(Rule {
            issuer: issuer.into(),
            prefix: prefix.into(),
            mapping,
        });
        self
    }

    /// Checks the rules (prefixes valid and distinct, issuers distinct) and builds the mapper.
    pub fn build(self) -> Result<UidMapper, UidMapperConfigError> {
        if self.rules.is_empty() {
            return Err(UidMapperConfigError::NoRules);
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let p = &rule.prefix;
            if p.is_empty()
                || p.len() > MAX_PREFIX_LEN
                || !p
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            {
                return Err(UidMapperConfigError::BadPrefix { prefix: p.clone() });
            }
            for earlier in &self.rules[..i] {
                if earlier.prefix == rule.prefix {
                    return Err(UidMapperConfigError::DuplicatePrefix { prefix: p.clone() });
                }
                if earlier.issuer == rule.issuer {
                    return Err(UidMapperConfigError::DuplicateIssuer {
                        issuer: rule.issuer.clone(),
                    });
                }
            }
        }
        Ok(UidMapper {
            rules: Rules::PerIssuer(self.rules),
        })
    }
}

impl fmt::Display for UidMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Readable => "readable",
            Self::Encoded => "encoded",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(iss: &str, sub: &str) -> Principal {
        Principal::new(iss, sub)
    }

    fn valid(uid: &Uid) -> bool {
        let s = uid.as_str();
        (1..=100).contains(&s.len())
            && s.bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
    }

    const FIREBASE: &str = "https://securetoken.google.com/demo";

    #[test]
    fn realistic_provider_subjects() {
        let encoded = UidMapper::new(UidMapping::Encoded);
        for sub in [
            "kTg2V9cXhQNoP1m3RcYbZ8W4aE12",
            "user_2NxTq8bKq0ZbY3fP",
            "auth0|65f1c0d2e3a4b5c6d7e8f901",
            "google-oauth2|109321847561234567890",
            "ada@example.com",
            "Zoë",
        ] {
            let uid = encoded.map(&p(FIREBASE, sub)).unwrap();
            assert!(valid(&uid), "{uid:?}");
            assert!(!uid.as_str().contains('_'), "short subjects are not hashed");
        }
        let readable = UidMapper::new(UidMapping::Readable);
        let uuid = "3f2b8c1e-0d4a-4b7e-9a51-6f0e2c9d8b7a";
        assert_eq!(readable.map(&p("sb", uuid)).unwrap().as_str(), uuid);
        assert!(matches!(
            readable.map(&p("a0", "auth0|65f")),
            Err(UidMapError::NotReadable { .. })
        ));
        assert!(readable.map(&p("fb", "AbC")).is_err());
    }

    #[test]
    fn long_subjects_are_hashed_and_marked() {
        let mapper = UidMapper::new(UidMapping::Encoded);
        let long = "x".repeat(300);
        let uid = mapper.map(&p(FIREBASE, &long)).unwrap();
        assert!(uid.as_str().starts_with("sha256_"));
        assert_eq!(uid.as_str().len(), 7 + 64);
        // 62 bytes still fit exactly; 63 do not.
        assert!(
            !mapper
                .map(&p(FIREBASE, &"y".repeat(62)))
                .unwrap()
                .as_str()
                .contains('_')
        );
        assert!(
            mapper
                .map(&p(FIREBASE, &"y".repeat(63)))
                .unwrap()
                .as_str()
                .contains('_')
        );
    }

    #[test]
    fn empty_subject_is_refused() {
        for mapping in [UidMapping::Encoded, UidMapping::Readable] {
            assert_eq!(
                UidMapper::new(mapping).map(&p("i", "")),
                Err(UidMapError::EmptySubject)
            );
        }
    }

    #[test]
    fn per_issuer_rules_are_checked() {
        let err = |b: PerIssuerBuilder| b.build().unwrap_err();
        assert_eq!(err(UidMapper::per_issuer()), UidMapperConfigError::NoRules);
        assert!(matches!(
            err(UidMapper::per_issuer().issuer("a", "A-", UidMapping::Encoded)),
            UidMapperConfigError::BadPrefix { .. }
        ));
        assert!(matches!(
            err(UidMapper::per_issuer()
                .issuer("a", "x", UidMapping::Encoded)
                .issuer("b", "x", UidMapping::Encoded)),
            UidMapperConfigError::DuplicatePrefix { .. }
        ));
        assert!(matches!(
            err(UidMapper::per_issuer()
                .issuer("a", "x", UidMapping::Encoded)
                .issuer("a", "y", UidMapping::Encoded)),
            UidMapperConfigError::DuplicateIssuer { .. }
        ));
        let mapper = UidMapper::per_issuer()
            .issuer("a", "x", UidMapping::Encoded)
            .build()
            .unwrap();
        assert_eq!(
            mapper.map(&p("b", "s")),
            Err(UidMapError::UnknownIssuer { issuer: "b".into() })
        );
    }

    fn two_issuers() -> UidMapper {
        UidMapper::per_issuer()
            .issuer(
                "https://securetoken.google.com/demo",
                "fb",
                UidMapping::Encoded,
            )
            .issuer(
                "https://abcd.supabase.co/auth/v1",
                "sb",
                UidMapping::Readable,
            )
            .issuer("https://tenant.auth0.com/", "a0", UidMapping::Encoded)
            .build()
            .unwrap()
    }

    const ISSUERS: [&str; 3] = [
        "https://securetoken.google.com/demo",
        "https://abcd.supabase.co/auth/v1",
        "https://tenant.auth0.com/",
    ];

    // Subjects mixing the cases that break naive mappings: case, forbidden characters,
    // Unicode, and lengths on both sides of the hashing threshold.
    fn subject() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9]{1,30}",
            "[a-z0-9_-]{1,100}",
            "(auth0|google-oauth2|github)\\|[0-9a-f]{4,30}",
            "\\PC{1,80}",
            "[a-zA-Z|:/.@]{50,300}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn encoded_output_is_always_a_valid_uid(s in subject()) {
            let uid = UidMapper::new(UidMapping::Encoded).map(&p("i", &s)).unwrap();
            prop_assert!(valid(&uid), "{:?}", uid);
        }

        #[test]
        fn mapping_is_deterministic(s in subject(), i in 0usize..3) {
            let m = two_issuers();
            let pr = p(ISSUERS[i], &s);
            prop_assert_eq!(m.map(&pr), m.map(&pr));
        }

        #[test]
        fn encoded_is_injective(a in subject(), b in subject()) {
            prop_assume!(a != b);
            let m = UidMapper::new(UidMapping::Encoded);
            prop_assert_ne!(m.map(&p("i", &a)).unwrap(), m.map(&p("i", &b)).unwrap());
        }

        #[test]
        fn case_only_differences_stay_distinct(s in "[a-z]{1,80}", flip in any::<prop::sample::Index>()) {
            let mut upper: Vec<char> = s.chars().collect();
            let at = flip.index(upper.len());
            upper[at] = upper[at].to_ascii_uppercase();
            let upper: String = upper.into_iter().collect();
            let m = UidMapper::new(UidMapping::Encoded);
            prop_assert_ne!(m.map(&p("i", &s)).unwrap(), m.map(&p("i", &upper)).unwrap());
        }

        #[test]
        fn per_issuer_is_injective_over_pairs(
            a in subject(), b in subject(), ia in 0usize..3, ib in 0usize..3,
        ) {
            prop_assume!((ia, &a) != (ib, &b));
            let m = two_issuers();
            if let (Ok(x), Ok(y)) = (m.map(&p(ISSUERS[ia], &a)), m.map(&p(ISSUERS[ib], &b))) {
                prop_assert_ne!(x, y);
            }
        }

        #[test]
        fn readable_is_identity_on_valid_uids(s in "[a-z0-9_-]{1,100}") {
            let uid = UidMapper::new(UidMapping::Readable).map(&p("i", &s)).unwrap();
            prop_assert_eq!(uid.as_str(), s.as_str());
        }

        #[test]
        fn readable_refuses_everything_else(s in "\\PC{1,120}") {
            prop_assume!(Uid::parse(&s).is_err());
            prop_assert!(UidMapper::new(UidMapping::Readable).map(&p("i", &s)).is_err());
        }
    }
}
