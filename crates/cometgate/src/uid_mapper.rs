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
//! # Issuers
//!
//! Subject `42` at one identity provider and subject `42` at another are two people, so the
//! issuer is part of the mapping unless the app says otherwise:
//!
//! | constructor | the UID | a principal of another issuer |
//! |---|---|---|
//! | [`UidMapper::default`] | `iss_sha256_` + the hex SHA-256 of the length-prefixed (issuer, subject) | its own UID: never equal |
//! | [`UidMapper::single_issuer`] | the mapped subject (readable with [`UidMapping::Readable`]) | refused ([`UidMapError::UnknownIssuer`]) |
//! | [`UidMapper::per_issuer`] | `<prefix>-<mapped subject>`, one prefix per issuer | refused unless it has a rule |
//! | [`UidMapper::shared_namespace`] | the mapped subject | **the same UID for the same subject** |
//!
//! The default is what a gate uses when neither the app nor the identity chose; it is safe for
//! any identity but its UIDs are not readable. Apps with one identity provider pick
//! [`single_issuer`](UidMapper::single_issuer) (the `cometgate-jwt` providers suggest it for their
//! own issuer, so their UIDs are the readable or encoded subject). Apps with several providers
//! give each a prefix with [`per_issuer`](UidMapper::per_issuer): a prefix holds no `-`, so UIDs
//! from different issuers can never be equal. [`shared_namespace`](UidMapper::shared_namespace)
//! is only for issuers that really share one user directory.
//!
//! ```
//! use cometgate::{Principal, UidMapper, UidMapping};
//!
//! // One provider (Firebase): encode, and refuse any other issuer.
//! let firebase = "https://securetoken.google.com/demo";
//! let mapper = UidMapper::single_issuer(firebase, UidMapping::Encoded);
//! let a = mapper.map(&Principal::new(firebase, "AbC")).unwrap();
//! let b = mapper.map(&Principal::new(firebase, "abc")).unwrap();
//! assert_ne!(a, b); // case-only differences stay different users
//! assert!(mapper.map(&Principal::new("https://evil.example", "AbC")).is_err());
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
//!
//! // Nothing chosen: the issuer is hashed in, so two issuers' "42" stay two users.
//! let mapper = UidMapper::default();
//! let a = mapper.map(&Principal::new("https://a.example", "42")).unwrap();
//! let b = mapper.map(&Principal::new("https://b.example", "42")).unwrap();
//! assert_ne!(a, b);
//! assert!(a.as_str().starts_with("iss_sha256_"));
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
    /// The mapper has no rule for the principal's issuer.
    #[error(
        "no UID mapping rule for issuer {issuer:?}: this mapper maps only the issuers it was \
         built with (UidMapper::single_issuer, UidMapper::per_issuer)"
    )]
    UnknownIssuer {
        /// The issuer that has no rule.
        issuer: String,
    },
}

/// Why a [`UidMapper`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UidMapperConfigError {
    /// A prefix is empty, longer than [`MAX_PREFIX_LEN`], or holds characters outside `[a-z0-9]`.
    #[error(
        "UID prefix {prefix:?} must be 1 to {MAX_PREFIX_LEN} characters of a-z and 0-9 \
         ({MAX_PREFIX_LEN} leaves room for the '-' and the {HASHED_LEN}-character hashed form \
         of a long subject within CometChat's {MAX_UID_LEN})"
    )]
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

/// Marks an [`UidMapping::Encoded`] subject too long to encode exactly (base32 has no `_`).
const HASH_MARK: &str = "sha256_";
/// Marks the default mapper's UIDs, hashed over the (issuer, subject) pair.
const PAIR_MARK: &str = "iss_sha256_";
/// The length of a hashed subject: the mark and 64 hex digits.
const HASHED_LEN: usize = HASH_MARK.len() + 2 * 32;

/// The longest prefix [`UidMapper::per_issuer`] accepts: with the `-` and the longest mapped
/// subject (a hashed one, 71 characters) the UID stays within CometChat's 100.
pub const MAX_PREFIX_LEN: usize = MAX_UID_LEN - 1 - HASHED_LEN;

#[derive(Debug, Clone)]
struct Rule {
    issuer: String,
    prefix: String,
    mapping: UidMapping,
}

#[derive(Debug, Clone)]
enum Rules {
    /// The default: a hash of the length-prefixed (issuer, subject).
    IssuerScoped,
    /// One issuer, whose subjects are mapped alone; other issuers are refused.
    SingleIssuer { issuer: String, mapping: UidMapping },
    /// Every issuer in one namespace: the issuer is ignored.
    SharedNamespace(UidMapping),
    /// One prefixed rule per issuer; other issuers are refused.
    PerIssuer(Vec<Rule>),
}

/// Maps a [`Principal`] to a [`Uid`], deterministically and injectively.
///
/// See the [module documentation](self) for the constructors, the guarantees and an example.
#[derive(Debug, Clone)]
pub struct UidMapper {
    rules: Rules,
}

impl Default for UidMapper {
    /// Safe for any identity, whatever issuers it yields: the UID is `iss_sha256_` followed by
    /// the hex SHA-256 of the issuer's length (8 bytes, big-endian), the issuer and the subject,
    /// so two principals that differ in issuer or subject never share a UID (short of a SHA-256
    /// collision). The UIDs are not readable: apps that want readable UIDs pick
    /// [`single_issuer`](Self::single_issuer) or [`per_issuer`](Self::per_issuer).
    ///
    /// ```
    /// use cometgate::{Principal, UidMapper};
    ///
    /// let uid = UidMapper::default().map(&Principal::new("https://a.example", "42")).unwrap();
    /// assert_eq!(uid.as_str().len(), 11 + 64);
    /// ```
    fn default() -> Self {
        Self {
            rules: Rules::IssuerScoped,
        }
    }
}

impl UidMapper {
    /// A mapper for an app with one identity provider: principals of `issuer` (compared exactly)
    /// map to their subject under `mapping`, with no trace of the issuer, so a readable subject
    /// is the UID itself; a principal of any other issuer is refused with
    /// [`UidMapError::UnknownIssuer`].
    ///
    /// ```
    /// use cometgate::{Principal, UidMapper, UidMapping};
    ///
    /// let mapper = UidMapper::single_issuer("https://api.myapp.example", UidMapping::Readable);
    /// let uid = mapper.map(&Principal::new("https://api.myapp.example", "alice")).unwrap();
    /// assert_eq!(uid.as_str(), "alice");
    /// assert!(mapper.map(&Principal::new("https://other.example", "alice")).is_err());
    /// ```
    pub fn single_issuer(issuer: impl Into<String>, mapping: UidMapping) -> Self {
        Self {
            rules: Rules::SingleIssuer {
                issuer: issuer.into(),
                mapping,
            },
        }
    }

    /// Every issuer shares one namespace: the issuer is ignored, so subject `42` of one issuer
    /// and subject `42` of another are **the same chat user** (the same account, the same
    /// tokens). Only for issuers that really share one user directory (say, two front doors of
    /// one auth service); otherwise use [`single_issuer`](Self::single_issuer) or
    /// [`per_issuer`](Self::per_issuer).
    ///
    /// ```
    /// use cometgate::{Principal, UidMapper, UidMapping};
    ///
    /// let mapper = UidMapper::shared_namespace(UidMapping::Readable);
    /// let a = mapper.map(&Principal::new("https://eu.auth.example", "u42")).unwrap();
    /// let b = mapper.map(&Principal::new("https://us.auth.example", "u42")).unwrap();
    /// assert_eq!(a, b); // one directory behind two issuers: one user
    /// ```
    pub fn shared_namespace(mapping: UidMapping) -> Self {
        Self {
            rules: Rules::SharedNamespace(mapping),
        }
    }

    /// Starts a mapper with one rule (prefix and mapping) per trusted issuer.
    ///
    /// ```
    /// use cometgate::{Principal, UidMapper, UidMapping};
    ///
    /// let mapper = UidMapper::per_issuer()
    ///     .issuer("https://securetoken.google.com/demo", "fb", UidMapping::Encoded)
    ///     .build()
    ///     .unwrap();
    /// let uid = mapper.map(&Principal::new("https://securetoken.google.com/demo", "x")).unwrap();
    /// assert_eq!(uid.as_str(), "fb-pa");
    /// ```
    pub fn per_issuer() -> PerIssuerBuilder {
        PerIssuerBuilder { rules: Vec::new() }
    }

    /// Maps the principal's (issuer, subject) to a UID.
    ///
    /// # Errors
    /// [`UidMapError::EmptySubject`]; [`UidMapError::UnknownIssuer`] when the mapper has no rule
    /// for the issuer; [`UidMapError::NotReadable`] when a readable mapping meets a subject that
    /// is not a valid UID (or, under a prefix, too long for one).
    pub fn map(&self, principal: &Principal) -> Result<Uid, UidMapError> {
        let subject = principal.subject();
        if subject.is_empty() {
            return Err(UidMapError::EmptySubject);
        }
        let unknown = || UidMapError::UnknownIssuer {
            issuer: principal.issuer().to_owned(),
        };
        match &self.rules {
            Rules::IssuerScoped => map_pair(principal.issuer(), subject),
            Rules::SingleIssuer { issuer, mapping } if issuer == principal.issuer() => {
                map_subject("", *mapping, subject)
            }
            Rules::SingleIssuer { .. } => Err(unknown()),
            Rules::SharedNamespace(mapping) => map_subject("", *mapping, subject),
            Rules::PerIssuer(rules) => {
                let rule = rules
                    .iter()
                    .find(|r| r.issuer == principal.issuer())
                    .ok_or_else(unknown)?;
                map_subject(&format!("{}-", rule.prefix), rule.mapping, subject)
            }
        }
    }
}

/// The default mapper's UID: the length prefix makes the encoding of the pair unambiguous
/// (`("ab", "c")` and `("a", "bc")` hash different bytes), and the mark keeps these UIDs apart
/// from the subject-only forms.
fn map_pair(issuer: &str, subject: &str) -> Result<Uid, UidMapError> {
    let digest = Sha256::new()
        .chain_update((issuer.len() as u64).to_be_bytes())
        .chain_update(issuer.as_bytes())
        .chain_update(subject.as_bytes())
        .finalize();
    // 75 characters of [a-z0-9_]: always a valid UID (checked all the same, never a panic).
    Uid::try_from(format!("{PAIR_MARK}{}", HEXLOWER.encode(&digest))).map_err(not_readable)
}

fn not_readable(reason: impl fmt::Display) -> UidMapError {
    UidMapError::NotReadable {
        reason: reason.to_string(),
    }
}

/// Maps `subject` to `<prefix><mapped subject>`; `prefix` is empty or a valid prefix and its
/// `-`, at most [`MAX_PREFIX_LEN`] + 1 characters.
fn map_subject(prefix: &str, mapping: UidMapping, subject: &str) -> Result<Uid, UidMapError> {
    let readable = |subject: &str| Uid::parse(subject).map_err(not_readable);
    let uid = match mapping {
        // The common single-issuer case: the subject is the UID, checked once.
        UidMapping::Readable if prefix.is_empty() => return readable(subject),
        UidMapping::Readable => {
            readable(subject)?;
            if prefix.len() + subject.len() > MAX_UID_LEN {
                return Err(not_readable(format_args!(
                    "{} characters, too long for CometChat's {MAX_UID_LEN} after the prefix {prefix:?}",
                    subject.len()
                )));
            }
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
                // Fits: the prefix is capped at MAX_PREFIX_LEN so that this form always does.
                let digest = Sha256::digest(subject.as_bytes());
                format!("{prefix}{HASH_MARK}{}", HEXLOWER.encode(&digest))
            }
        }
    };
    // Every branch above builds from the UID alphabet within the length budget; a failure here
    // would be a bug in this module, reported as an error rather than a panic.
    Uid::try_from(uid).map_err(not_readable)
}

/// Builds a [`UidMapper`] with one rule per issuer. See [`UidMapper::per_issuer`].
#[derive(Debug, Clone)]
pub struct PerIssuerBuilder {
    rules: Vec<Rule>,
}

impl PerIssuerBuilder {
    /// Adds a rule: principals from `issuer` (compared exactly) map to `<prefix>-<subject mapped
    /// with mapping>`. A prefix is 1 to [`MAX_PREFIX_LEN`] characters of `[a-z0-9]`.
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
    ///
    /// # Errors
    /// [`UidMapperConfigError`], naming the rule that is wrong.
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

    /// A single-issuer mapper for the issuer `"i"`, the one most tests use.
    fn one(mapping: UidMapping) -> UidMapper {
        UidMapper::single_issuer("i", mapping)
    }

    #[test]
    fn realistic_provider_subjects() {
        let encoded = UidMapper::single_issuer(FIREBASE, UidMapping::Encoded);
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
        let readable = one(UidMapping::Readable);
        let uuid = "3f2b8c1e-0d4a-4b7e-9a51-6f0e2c9d8b7a";
        assert_eq!(readable.map(&p("i", uuid)).unwrap().as_str(), uuid);
        assert!(matches!(
            readable.map(&p("i", "auth0|65f")),
            Err(UidMapError::NotReadable { .. })
        ));
        assert!(readable.map(&p("i", "AbC")).is_err());
    }

    #[test]
    fn single_issuer_uids_are_the_subject_forms_of_before() {
        // Known answers computed outside this crate (Python's base64.b32encode): the UIDs
        // single-provider apps already have must not change.
        let encoded = UidMapper::single_issuer(FIREBASE, UidMapping::Encoded);
        assert_eq!(
            encoded
                .map(&p(FIREBASE, "ada@example.com"))
                .unwrap()
                .as_str(),
            "mfsgcqdfpbqw24dmmuxgg33n"
        );
        let readable = UidMapper::single_issuer("https://api.example", UidMapping::Readable);
        assert_eq!(
            readable
                .map(&p("https://api.example", "alice"))
                .unwrap()
                .as_str(),
            "alice"
        );
        for mapping in [UidMapping::Encoded, UidMapping::Readable] {
            let shared = UidMapper::shared_namespace(mapping);
            let single = UidMapper::single_issuer(FIREBASE, mapping);
            for sub in ["alice", "x", &"y".repeat(200)] {
                assert_eq!(single.map(&p(FIREBASE, sub)), shared.map(&p(FIREBASE, sub)));
            }
        }
    }

    #[test]
    fn single_issuer_refuses_every_other_issuer() {
        let mapper = UidMapper::single_issuer(FIREBASE, UidMapping::Encoded);
        for other in [
            "",
            "https://securetoken.google.com/demo/",
            "https://evil.example",
        ] {
            assert_eq!(
                mapper.map(&p(other, "alice")),
                Err(UidMapError::UnknownIssuer {
                    issuer: other.into()
                })
            );
        }
    }

    #[test]
    fn shared_namespace_merges_issuers_as_documented() {
        let mapper = UidMapper::shared_namespace(UidMapping::Encoded);
        assert_eq!(
            mapper.map(&p("https://a.example", "42")),
            mapper.map(&p("https://b.example", "42"))
        );
    }

    #[test]
    fn long_subjects_are_hashed_and_marked() {
        let mapper = one(UidMapping::Encoded);
        let long = "x".repeat(300);
        let uid = mapper.map(&p("i", &long)).unwrap();
        assert!(uid.as_str().starts_with("sha256_"));
        assert_eq!(uid.as_str().len(), 7 + 64);
        // 62 bytes still fit exactly; 63 do not.
        let short = mapper.map(&p("i", &"y".repeat(62))).unwrap();
        assert!(!short.as_str().contains('_'));
        let hashed = mapper.map(&p("i", &"y".repeat(63))).unwrap();
        assert!(hashed.as_str().contains('_'));
    }

    #[test]
    fn empty_subject_is_refused() {
        let mappers = [
            one(UidMapping::Encoded),
            one(UidMapping::Readable),
            UidMapper::shared_namespace(UidMapping::Encoded),
            UidMapper::default(),
        ];
        for mapper in mappers {
            assert_eq!(mapper.map(&p("i", "")), Err(UidMapError::EmptySubject));
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

    #[test]
    fn default_mapper_keeps_issuers_apart() {
        let mapper = UidMapper::default();
        let a = mapper.map(&p("https://a.example", "42")).unwrap();
        let b = mapper.map(&p("https://b.example", "42")).unwrap();
        assert_ne!(a, b, "two issuers' subject 42 are two people");
        // Known answer computed outside this crate (Python's hashlib over the 8-byte
        // big-endian issuer length, the issuer, the subject): the default's UIDs are stable.
        assert_eq!(
            a.as_str(),
            "iss_sha256_1f7a376d02d01e1e304a8daad54e80d08cdc0460daf5ef651071acb02a0b6b7b"
        );
    }

    #[test]
    fn default_mapper_is_not_fooled_by_moving_the_issuer_subject_boundary() {
        // Plain concatenation would hash "abc" twice.
        let mapper = UidMapper::default();
        assert_ne!(mapper.map(&p("ab", "c")), mapper.map(&p("a", "bc")));
    }

    #[test]
    fn every_accepted_prefix_leaves_room_for_a_hashed_subject() {
        let long = "x".repeat(300);
        for len in 1..=40 {
            let prefix = "p".repeat(len);
            let Ok(mapper) = UidMapper::per_issuer()
                .issuer("i", prefix.as_str(), UidMapping::Encoded)
                .build()
            else {
                continue;
            };
            let uid = mapper.map(&p("i", &long));
            assert!(uid.is_ok(), "prefix of {len}: {uid:?}");
        }
    }

    #[test]
    fn a_prefix_one_over_the_cap_is_refused_with_the_cap_named() {
        let ok = "p".repeat(MAX_PREFIX_LEN);
        assert!(
            UidMapper::per_issuer()
                .issuer("i", ok, UidMapping::Encoded)
                .build()
                .is_ok()
        );
        let over = "p".repeat(MAX_PREFIX_LEN + 1);
        let err = UidMapper::per_issuer()
            .issuer("i", over.as_str(), UidMapping::Encoded)
            .build()
            .unwrap_err();
        assert_eq!(err, UidMapperConfigError::BadPrefix { prefix: over });
        assert!(err.to_string().contains("1 to 28 characters"), "{err}");
    }

    #[test]
    fn a_readable_subject_too_long_under_its_prefix_is_refused_clearly() {
        let mapper = UidMapper::per_issuer()
            .issuer("i", "sb", UidMapping::Readable)
            .build()
            .unwrap();
        assert_eq!(
            mapper.map(&p("i", &"a".repeat(97))).unwrap().as_str().len(),
            100
        );
        let err = mapper.map(&p("i", &"a".repeat(98))).unwrap_err();
        assert!(matches!(err, UidMapError::NotReadable { .. }));
        assert!(
            err.to_string().contains("after the prefix \"sb-\""),
            "{err}"
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

    // Issuers: real-looking URLs, near-identical ones, the empty string and anything.
    fn issuer() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            prop::sample::select(ISSUERS.to_vec()).prop_map(str::to_owned),
            "https://[a-z]{1,8}\\.example/?",
            "\\PC{0,120}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn encoded_output_is_always_a_valid_uid(s in subject()) {
            let uid = one(UidMapping::Encoded).map(&p("i", &s)).unwrap();
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
            let m = one(UidMapping::Encoded);
            prop_assert_ne!(m.map(&p("i", &a)).unwrap(), m.map(&p("i", &b)).unwrap());
        }

        #[test]
        fn case_only_differences_stay_distinct(s in "[a-z]{1,80}", flip in any::<prop::sample::Index>()) {
            let mut upper: Vec<char> = s.chars().collect();
            let at = flip.index(upper.len());
            upper[at] = upper[at].to_ascii_uppercase();
            let upper: String = upper.into_iter().collect();
            let m = one(UidMapping::Encoded);
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
        fn per_issuer_never_gives_two_issuers_one_uid(
            ia in issuer(), ib in issuer(),
            pa in "[a-z0-9]{1,28}", pb in "[a-z0-9]{1,28}",
            a in subject(), b in subject(),
            readable in any::<bool>(),
        ) {
            prop_assume!(ia != ib && pa != pb);
            let mapping = if readable { UidMapping::Readable } else { UidMapping::Encoded };
            let m = UidMapper::per_issuer()
                .issuer(ia.as_str(), pa, mapping)
                .issuer(ib.as_str(), pb, UidMapping::Encoded)
                .build()
                .unwrap();
            let y = m.map(&p(&ib, &b)).unwrap();
            if let Ok(x) = m.map(&p(&ia, &a)) {
                prop_assert_ne!(x, y);
            }
        }

        #[test]
        fn default_never_gives_two_issuers_one_uid(
            ia in issuer(), ib in issuer(), a in subject(), b in subject(), same_subject in any::<bool>(),
        ) {
            prop_assume!(ia != ib);
            let b = if same_subject { a.clone() } else { b };
            let m = UidMapper::default();
            let x = m.map(&p(&ia, &a)).unwrap();
            let y = m.map(&p(&ib, &b)).unwrap();
            prop_assert_ne!(x, y);
        }

        #[test]
        fn default_is_deterministic_valid_and_injective_over_pairs(
            ia in issuer(), ib in issuer(), a in subject(), b in subject(),
        ) {
            let m = UidMapper::default();
            let x = m.map(&p(&ia, &a)).unwrap();
            prop_assert!(valid(&x), "{:?}", x);
            prop_assert_eq!(&x, &m.map(&p(&ia, &a)).unwrap());
            if (&ia, &a) != (&ib, &b) {
                prop_assert_ne!(x, m.map(&p(&ib, &b)).unwrap());
            }
        }

        #[test]
        fn every_valid_prefix_maps_every_subject_encoded(
            prefix in "[a-z0-9]{1,28}", s in subject(), iss in issuer(),
        ) {
            let m = UidMapper::per_issuer()
                .issuer(iss.as_str(), prefix.as_str(), UidMapping::Encoded)
                .build()
                .unwrap();
            let uid = m.map(&p(&iss, &s)).unwrap();
            prop_assert!(valid(&uid), "{:?}", uid);
            let expected_start = format!("{prefix}-");
            prop_assert!(uid.as_str().starts_with(&expected_start), "{:?}", uid);
        }

        #[test]
        fn a_prefix_outside_the_rules_is_refused_at_build(
            prefix in prop_oneof!["[a-z0-9]{29,60}", "[a-z0-9]{0,10}[^a-z0-9][a-z0-9]{0,10}", Just(String::new())],
        ) {
            let built = UidMapper::per_issuer().issuer("i", prefix.as_str(), UidMapping::Encoded).build();
            prop_assert_eq!(built.unwrap_err(), UidMapperConfigError::BadPrefix { prefix });
        }

        #[test]
        fn readable_is_identity_on_valid_uids(s in "[a-z0-9_-]{1,100}") {
            let uid = one(UidMapping::Readable).map(&p("i", &s)).unwrap();
            prop_assert_eq!(uid.as_str(), s.as_str());
        }

        #[test]
        fn readable_refuses_everything_else(s in "\\PC{1,120}") {
            prop_assume!(Uid::parse(&s).is_err());
            prop_assert!(one(UidMapping::Readable).map(&p("i", &s)).is_err());
        }
    }
}
