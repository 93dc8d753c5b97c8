//! `known-key`: every occurrence of a key given with `--key`/`--key-file`, as it is or
//! base64-encoded (standard or URL-safe alphabet, at any alignment inside a longer base64 text).

use aho_corasick::{AhoCorasick, MatchKind};
use data_encoding::{BASE64, BASE64URL, Encoding};

use super::Hit;
use super::bytes::printable;
use crate::{Rule, mask};

/// Base64 forms shorter than this would match by chance.
const SHORTEST_ENCODED: usize = 8;

/// Searches for the given keys and their base64 forms.
pub(crate) struct KnownKeys {
    searcher: AhoCorasick,
    /// For each pattern: whether it is the key as given (else a base64 form).
    as_given: Vec<bool>,
}

impl KnownKeys {
    /// A searcher for `keys` (none: `None`).
    pub(crate) fn new(keys: &[&str]) -> Option<Self> {
        let mut patterns: Vec<(String, bool)> = Vec::new();
        for key in keys {
            patterns.push(((*key).to_owned(), true));
            for encoded in base64_forms(key.as_bytes()) {
                patterns.push((encoded, false));
            }
        }
        patterns.sort();
        patterns.dedup_by(|a, b| a.0 == b.0);
        if patterns.is_empty() {
            return None;
        }
        let searcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns.iter().map(|(p, _)| p))
            .ok()?;
        Some(Self {
            searcher,
            as_given: patterns.iter().map(|(_, given)| *given).collect(),
        })
    }

    /// Every base64 string a known key may show up as, for masking it wherever it is printed.
    pub(crate) fn all_forms(keys: &[&str]) -> Vec<String> {
        keys.iter()
            .flat_map(|k| base64_forms(k.as_bytes()))
            .collect()
    }

    pub(crate) fn find(&self, hay: &[u8], hits: &mut Vec<Hit>) {
        for m in self.searcher.find_iter(hay) {
            let found = printable(&hay[m.start()..m.end()]);
            let how = if self.as_given[m.pattern().as_usize()] {
                "as given"
            } else {
                "base64-encoded"
            };
            hits.push(Hit {
                rule: Rule::KnownKey,
                start: m.start(),
                excerpt: mask(&found),
                message: format!("{} ({how})", Rule::KnownKey.summary()),
                secret: Some(found),
            });
        }
    }
}

/// The base64 text that `key` turns into wherever it sits in encoded data: for each of the
/// three alignments of its first byte in a 3-byte group, the run of encoded characters that
/// depend on the key's bytes alone.
fn base64_forms(key: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    for encoding in [&BASE64, &BASE64URL] {
        for lead in 0..3 {
            if let Some(form) = aligned_form(encoding, key, lead) {
                forms.push(form);
            }
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

fn aligned_form(encoding: &Encoding, key: &[u8], lead: usize) -> Option<String> {
    let mut data = vec![0u8; lead];
    data.extend_from_slice(key);
    data.resize(data.len().div_ceil(3) * 3, 0);
    let encoded = encoding.encode(&data);
    let key_bytes = lead..lead + key.len();
    // Character j of a 4-character group g is made of bits from these bytes of the group.
    let depends_on_key = |c: usize| {
        let (g, j) = (c / 4, c % 4);
        let bytes: &[usize] = match j {
            0 => &[0],
            1 => &[0, 1],
            2 => &[1, 2],
            _ => &[2],
        };
        bytes.iter().all(|b| key_bytes.contains(&(3 * g + b)))
    };
    let first = (0..encoded.len()).find(|&c| depends_on_key(c))?;
    let last = (0..encoded.len()).rev().find(|&c| depends_on_key(c))?;
    let form = &encoded[first..=last];
    (form.len() >= SHORTEST_ENCODED).then(|| form.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base64_form_is_inside_any_encoding_that_holds_the_key() {
        let key = b"0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
        let forms = base64_forms(key);
        for before in 0..6 {
            for after in 0..4 {
                let mut data = vec![b'~'; before];
                data.extend_from_slice(key);
                data.extend(std::iter::repeat_n(b'!', after));
                for encoding in [&BASE64, &BASE64URL] {
                    let text = encoding.encode(&data);
                    assert!(
                        forms.iter().any(|f| text.contains(f.as_str())),
                        "{before} {after} {text}"
                    );
                }
            }
        }
    }

    #[test]
    fn finds_the_key_and_says_how() {
        let key = "my-known-secret-key-123";
        let finder = KnownKeys::new(&[key]).unwrap();
        let text = format!("a={key}\nb={}\n", BASE64.encode(key.as_bytes()));
        let mut hits = Vec::new();
        finder.find(text.as_bytes(), &mut hits);
        let messages: Vec<&str> = hits.iter().map(|h| h.message.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "a key given with --key (as given)",
                "a key given with --key (base64-encoded)"
            ]
        );
    }
}
