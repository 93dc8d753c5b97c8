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

/// How far the context of a value reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    /// Text and raw bytes: the cue within [`CONTEXT_WINDOW`] that is closest.
    Nearby,
    /// A Hermes string table: sorted (literals, then identifiers, each alphabetically), so
    /// position says nothing; a cue anywhere in the table counts.
    AnywhereInTable,
}

/// Finds keys in `hay`. `mentions_cometchat` says whether CometChat is named in this content
/// (or its path): only then does a bare `apiKey` count as a cue.
pub(crate) fn find(
    hay: &[u8],
    cues: &[Cue],
    mentions_cometchat: bool,
    context: Context,
    hits: &mut Vec<Hit>,
) {
    let key_cues: Vec<Cue> = cues
        .iter()
        .copied()
        .filter(|c| c.kind.names_a_key())
        .filter(|c| c.kind != CueKind::ApiKeyHeader || mentions_cometchat)
        .collect();
    match context {
        Context::Nearby => {
            let mut cursor = 0;
            for (from, to) in windows(&key_cues, hay.len()) {
                let from = if from > cursor {
                    run_start(hay, from)
                } else {
                    cursor
                };
                cursor = for_each_key(hay, from, to, |start, end| {
                    if let Some(cue) = identifying_cue(hay, &key_cues, start, end) {
                        hits.push(key_hit(hay, start, end, cue, context));
                    }
                });
            }
        }
        Context::AnywhereInTable => {
            let Some(cue) = table_cue(hay, &key_cues).filter(|_| mentions_cometchat) else {
                return;
            };
            for_each_key(hay, 0, hay.len(), |start, end| {
                hits.push(key_hit(hay, start, end, cue, context));
            });
        }
    }
}

/// Calls `found` with each key-shaped value starting in `from..to` (a run may end past `to`);
/// returns where reading stopped.
fn for_each_key(hay: &[u8], from: usize, to: usize, mut found: impl FnMut(usize, usize)) -> usize {
    let mut i = from;
    while i < to {
        if !is_lower_hex(hay[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < hay.len() && is_lower_hex(hay[i]) {
            i += 1;
        }
        if i - start == KEY_LEN && looks_like_a_key(hay, start, i) {
            found(start, i);
        }
    }
    i
}

/// In a string table: a REST API key when the app's own strings say REST (a `REST_API_KEY`
/// name, or the REST host of a concrete app, which the SDK's host template is not); otherwise
/// an Auth Key, the key a client build normally carries.
fn table_cue(hay: &[u8], key_cues: &[Cue]) -> Option<Cue> {
    let rest = key_cues.iter().find(|c| {
        c.kind == CueKind::RestName || (c.kind == CueKind::RestHost && names_an_app(hay, c.start))
    });
    rest.or_else(|| key_cues.iter().find(|c| c.kind == CueKind::AuthName))
        .or_else(|| key_cues.first())
        .copied()
}

/// Whether the `.cometchat.io` at `suffix_start` ends `<app id>.api-<region>`, not a template
/// (`%s.api-%s`, `${app}.api-${region}`).
fn names_an_app(hay: &[u8], suffix_start: usize) -> bool {
    let Some(label_start) = suffix_start.checked_sub(6) else {
        return false;
    };
    let label = hay[label_start..suffix_start].to_ascii_lowercase();
    let region_ok = [b"api-us", b"api-eu", b"api-in"]
        .iter()
        .any(|r| label == *r);
    region_ok
        && label_start >= 2
        && hay[label_start - 1] == b'.'
        && hay[label_start - 2].is_ascii_alphanumeric()
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

/// How close before a value a cue on its line names it outright (`AUTH_KEY=…`,
/// `"authKey": "…"`, `const REST_API_KEY = "…"`). Further away, and in minified bundles where
/// everything is one line, the closest cue on either side decides.
const NAMED_BY_REACH: usize = 100;

/// The cue that says what the value at `start..end` is: one just before it on its line
/// (`AUTH_KEY=…`, `apiKey: "…"`), or else the closest within the window either side.
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
        && start - b.end <= NAMED_BY_REACH
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

fn key_hit(hay: &[u8], start: usize, end: usize, cue: Cue, context: Context) -> Hit {
    let value = printable(&hay[start..end]);
    let rule = if cue.kind == CueKind::AuthName {
        Rule::AuthKey
    } else {
        Rule::RestApiKey
    };
    let cue_text = match cue.kind {
        CueKind::RestHost => "a CometChat REST API host (*.api-<region>.cometchat.io)".into(),
        _ => format!("`{}`", printable(&hay[cue.start..cue.end])),
    };
    let how = match context {
        Context::Nearby => format!("identified by {cue_text} nearby"),
        Context::AnywhereInTable => format!(
            "in a Hermes bundle that names {cue_text} (its string table is sorted, so position \
             cannot tell an Auth Key from a REST API key: --verify can)"
        ),
    };
    Hit {
        rule,
        start,
        excerpt: mask(&value),
        message: format!("{}, {how}", rule.summary()),
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
        find(text.as_bytes(), &cues, mentions, Context::Nearby, &mut hits);
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
    fn on_one_long_line_the_closest_cue_decides() {
        let text = format!(
            "x.setAuthKey(k);{}var rk=\"{KEY}\",h=\"https://app1.api-us.cometchat.io/v3\"",
            ";".repeat(500)
        );
        assert_eq!(rules(&text), vec![(Rule::RestApiKey, KEY.into())]);
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
    fn a_string_table_is_read_whole() {
        let table = |strings: &[&str]| {
            let text = strings.join("\n");
            let cues = CueFinder::new().find(text.as_bytes());
            let mut hits = Vec::new();
            find(
                text.as_bytes(),
                &cues,
                true,
                Context::AnywhereInTable,
                &mut hits,
            );
            hits.into_iter().map(|h| h.rule).collect::<Vec<_>>()
        };
        let filler = "x".repeat(3_000);
        let sdk = "https://%s.api-%s.cometchat.io/";
        assert_eq!(
            table(&[
                KEY,
                sdk,
                &filler,
                "CometChat",
                "apiKey",
                "authKey",
                "setAuthKey"
            ]),
            vec![Rule::AuthKey]
        );
        assert_eq!(
            table(&[
                KEY,
                "https://app1.api-us.cometchat.io/v3/users",
                &filler,
                "authKey"
            ]),
            vec![Rule::RestApiKey]
        );
        assert_eq!(
            table(&[KEY, &filler, "cometchat", "restApiKey"]),
            vec![Rule::RestApiKey]
        );
        assert!(table(&[KEY, &filler, "cometchat"]).is_empty());
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
