//! `hardcoded-auth-token`: a literal CometChat auth token, `<uid>_<createdAt: 10 digits><30
//! hex>` (e.g. `user_000_169466768147ce45a79418c20c57234ba9694e2f`).

use regex::bytes::Regex;

use super::Hit;
use super::bytes::{printable, stands_alone};
use crate::{Rule, mask};

/// The longest CometChat UID.
const UID_MAX: usize = 100;

/// Tokens embed their creation time; these bound a plausible one (2010-01-01 to 2050-01-01), so
/// that an arbitrary `_` and 40 digits and letters is not taken for a token.
const EARLIEST: u64 = 1_262_304_000;
const LATEST: u64 = 2_524_608_000;

/// Finds auth tokens.
pub(crate) struct TokenFinder {
    tail: Regex,
}

impl TokenFinder {
    pub(crate) fn new() -> Self {
        // The literal `_1`/`_2` prefix lets the regex engine skip ahead with a fast
        // substring search; the UID before it is checked by hand.
        let tail = Regex::new(r"(?-u)_[12][0-9]{9}[0-9a-f]{30}")
            .unwrap_or_else(|e| unreachable!("the token pattern is fixed and valid: {e}"));
        Self { tail }
    }

    pub(crate) fn find(&self, hay: &[u8], hits: &mut Vec<Hit>) {
        for m in self.tail.find_iter(hay) {
            let Some(start) = uid_start(hay, m.start()) else {
                continue;
            };
            if !stands_alone(hay, start, m.end()) || !plausible_time(&hay[m.start() + 1..][..10]) {
                continue;
            }
            let token = printable(&hay[start..m.end()]);
            hits.push(Hit {
                rule: Rule::HardcodedAuthToken,
                start,
                excerpt: mask(&token),
                message: format!(
                    "{} for UID `{}`",
                    Rule::HardcodedAuthToken.summary(),
                    printable(&hay[start..m.start()])
                ),
                secret: Some(token),
            });
        }
    }
}

fn is_uid_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
}

/// Where the UID before the `_` at `underscore` starts: 1 to 100 UID characters.
fn uid_start(hay: &[u8], underscore: usize) -> Option<usize> {
    let mut i = underscore;
    while i > 0 && is_uid_byte(hay[i - 1]) {
        i -= 1;
        if underscore - i > UID_MAX {
            return None;
        }
    }
    (i < underscore).then_some(i)
}

fn plausible_time(digits: &[u8]) -> bool {
    let seconds = digits
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    (EARLIEST..=LATEST).contains(&seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut hits = Vec::new();
        TokenFinder::new().find(text.as_bytes(), &mut hits);
        hits.into_iter().filter_map(|h| h.secret).collect()
    }

    #[test]
    fn finds_recorded_token_shapes() {
        for token in [
            "user_000_169466768147ce45a79418c20c57234ba9694e2f",
            "superhero1_1630306819c3027ce530b2367f3c97b4106f0cb8",
            "cometchat-uid-6_16383540156641d37a023c75d26f4c22a21ff126",
        ] {
            assert_eq!(
                tokens(&format!("login(\"{token}\")")),
                vec![token.to_owned()]
            );
        }
    }

    #[test]
    fn refuses_what_is_not_a_token() {
        let tail = "169466768147ce45a79418c20c57234ba9694e2f";
        for text in [
            format!("\"_{tail}\""),                                      // no UID
            format!("\"User_{tail}\""),                                  // upper case UID
            format!("\"u_{tail}0\""),                                    // longer tail
            "\"u_1000000000c3027ce530b2367f3c97b4106f0cb8\"".to_owned(), // Sept 2001: too early
            format!("\"{}_{tail}\"", "u".repeat(101)),                   // UID too long
        ] {
            assert!(tokens(&text).is_empty(), "{text}");
        }
    }
}
