//! `rest-api-key` and `auth-key`: a 40-lowercase-hex value with a cue near it that says which
//! key it is. Only the text around cues is read for values, so a file with no cue costs one
//! pass of the cue search.

use super::bytes::{is_lower_hex, line_start, printable, stands_alone};
use super::cues::{Cue, CueKind};
use super::{CONTEXT_WINDOW, Hit};
use crate::{Rule, mask};

/// A CometChat key: 40 lowercase hex digits.
pub(crate) const KEY_LEN: usize = 40;

/// SHA-1 of the empty string: a constant found in many libraries, never a key.
const EMPTY_SHA1: &[u8] = b"da39a3ee5e6b4b0d3255bfef95601890afd80709";

/// Finds keys in `hay`. `mentions_cometchat` says whether CometChat is named in this content
/// (or its path): only then does a bare `apiKey` count as a cue.
pub(crate) fn find(hay: &[u8], cues: &[Cue], mentions_cometchat: bool, hits: &mut Vec<Hit>) {
    let key_cues: Vec<Cue> = cues
        .iter()
        .copied()
        .filter(|c| c.kind.names_a_key())
        .filter(|c| c.kind != CueKind::ApiKeyHeader || mentions_cometchat)
        .collect();
    let mut cursor = 0;
    for (from, to) in windows(&key_cues, hay.len()) {
        let mut i = if from > cursor {
            run_start(hay, from)
        } else {
            cursor
        };
        while i < to {
            if !is_lower_hex(hay[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < hay.len() && is_lower_hex(hay[i]) {
                i += 1;
            }
            if i - start == KEY_LEN
                && looks_like_a_key(hay, start, i)
                && let Some(cue) = identifying_cue(hay, &key_cues, start, i)
            {
                hits.push(key_hit(hay, start, i, cue));
            }
        }
        cursor = i;
    }
}

/// Where the hex run holding `at` starts, looking back no further than a key's length (a
/// longer run is no key, and starting inside it still reads more than 40 digits).
fn run_start(hay: &[u8], at: usize) -> usize {
    let mut i = at;
    while i > 0 && at - i <= KEY_LEN && is_lower_hex(hay[i - 1]) {
        i -= 1;
    }
    i
}

/// The merged byte ranges within [`CONTEXT_WINDOW`] of some key cue.
fn windows(key_cues: &[Cue], len: usize) -> Vec<(usize, usize)> {
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for cue in key_cues {
        let from = cue.start.saturating_sub(CONTEXT_WINDOW);
        let to = (cue.end + CONTEXT_WINDOW).min(len);
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}

/// A 40-hex run that is a whole value (not the tail of an auth token, a path, a hash
/// reference) and mixes letters and digits as a random key does.
fn looks_like_a_key(hay: &[u8], start: usize, end: usize) -> bool {
    let value = &hay[start..end];
    stands_alone(hay, start, end)
        && value.iter().any(u8::is_ascii_digit)
        && value.iter().any(u8::is_ascii_lowercase)
        && value != EMPTY_SHA1
}

/// The cue that says what the value at `start..end` is: the closest one before it on its own
/// line (`AUTH_KEY=…`, `apiKey: "…"`), or else the closest within the window either side.
fn identifying_cue(hay: &[u8], key_cues: &[Cue], start: usize, end: usize) -> Option<Cue> {
    let after_index = key_cues.partition_point(|c| c.end <= start);
    let before = after_index
        .checked_sub(1)
        .map(|i| key_cues[i])
        .filter(|c| start - c.end <= CONTEXT_WINDOW);
    let after = key_cues
        .get(after_index)
        .copied()
        .filter(|c| c.start >= end && c.start - end <= CONTEXT_WINDOW);
    if let Some(b) = before
        && b.start >= line_start(hay, start)
    {
        return Some(b);
    }
    match (before, after) {
        (Some(b), Some(a)) if a.start - end < start - b.end => Some(a),
        (Some(b), _) => Some(b),
        (None, a) => a,
    }
}

fn key_hit(hay: &[u8], start: usize, end: usize, cue: Cue) -> Hit {
    let value = printable(&hay[start..end]);
    let rule = if cue.kind == CueKind::AuthName {
        Rule::AuthKey
    } else {
        Rule::RestApiKey
    };
    let how = match cue.kind {
        CueKind::RestHost => {
            "a CometChat REST API host (*.api-<region>.cometchat.io) nearby".into()
        }
        _ => format!("`{}` nearby", printable(&hay[cue.start..cue.end])),
    };
    Hit {
        rule,
        start,
        excerpt: mask(&value),
        message: format!("{}, identified by {how}", rule.summary()),
        secret: Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::super::cues::CueFinder;
    use super::*;

    const KEY: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";

    fn rules(text: &str) -> Vec<(Rule, String)> {
        let cues = CueFinder::new().find(text.as_bytes());
        let mentions = text.to_ascii_lowercase().contains("cometchat");
        let mut hits = Vec::new();
        find(text.as_bytes(), &cues, mentions, &mut hits);
        hits.into_iter()
            .map(|h| (h.rule, h.secret.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn the_name_on_the_line_decides() {
        let other = "fedcba9876543210fedcba9876543210fedcba98";
        let env = format!("COMETCHAT_AUTH_KEY={KEY}\nCOMETCHAT_REST_API_KEY={other}\n");
        assert_eq!(
            rules(&env),
            vec![
                (Rule::AuthKey, KEY.into()),
                (Rule::RestApiKey, other.into())
            ]
        );
    }

    #[test]
    fn a_bare_api_key_header_needs_cometchat_named() {
        assert!(rules(&format!("headers: {{ apiKey: \"{KEY}\" }}")).is_empty());
        assert_eq!(
            rules(&format!("// CometChat\nheaders: {{ apiKey: \"{KEY}\" }}")),
            vec![(Rule::RestApiKey, KEY.into())]
        );
    }

    #[test]
    fn context_reaches_two_thousand_bytes_on_one_line() {
        let near = format!("var k=\"{KEY}\";{}x.setAuthKey(k)", ";".repeat(1_990));
        assert_eq!(rules(&near), vec![(Rule::AuthKey, KEY.into())]);
        let far = format!("var k=\"{KEY}\";{}x.setAuthKey(k)", ";".repeat(2_010));
        assert!(rules(&far).is_empty());
    }

    #[test]
    fn only_whole_random_looking_values() {
        for text in [
            format!("authKey: \"{KEY}0\""),
            format!("authKey: \"x{KEY}\""),
            format!("authKey: \"uid_{KEY}\""),
            format!("authKey: \"{KEY}.js\""),
            format!("authKey: \"#{KEY}\""),
            format!("authKey: \"{}\"", "1".repeat(40)),
            format!("authKey: \"{}\"", String::from_utf8_lossy(EMPTY_SHA1)),
            format!("authKey: \"{}\"", KEY.to_ascii_uppercase()),
        ] {
            assert!(rules(&text).is_empty(), "{text}");
        }
    }

    #[test]
    fn a_run_straddling_two_windows_is_read_once() {
        let text = format!(
            "authKey {} \"{KEY}\" {} authKey",
            "x".repeat(1_990),
            "y".repeat(1_990)
        );
        assert_eq!(rules(&text), vec![(Rule::AuthKey, KEY.into())]);
    }
}
