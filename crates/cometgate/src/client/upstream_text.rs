//! Text CometChat sent (error codes and messages), made safe for a log line and an error's
//! `Display` before it is stored anywhere.
//!
//! Three things are done, in this order:
//! 1. **the key is scrubbed**: every word (a run between white space or control characters)
//!    holding the REST API key, its first five characters or its last five characters (ASCII
//!    case ignored) becomes `[REDACTED]`. That catches a full echo and CometChat's masked one
//!    (`f1915******************************33fbf`, cometchat-api.md §2), whatever the mask;
//! 2. **control characters are escaped** (`\r`, `\n`, `\t`, `\u{1b}`, …), and so are the
//!    invisible formatting characters that reorder or hide text (bidi overrides, zero-width
//!    ones), so upstream text can neither start a forged log line nor colour a terminal;
//! 3. **the length is bounded**: at most `max_chars` characters, `…` marking a cut.

use std::ops::Range;

/// What replaces a word that holds (part of) the key.
const REDACTED: &str = "[REDACTED]";

/// How many characters of each end of the key CometChat's masked echo shows.
const ECHOED_END: usize = 5;

/// The longest error message kept, in characters (after escaping).
pub(crate) const MAX_MESSAGE_CHARS: usize = 300;

/// The longest error code kept, in characters (CometChat's are under 40).
pub(crate) const MAX_CODE_CHARS: usize = 64;

/// `raw` scrubbed of `key`, escaped, and cut to `max_chars` characters.
pub(crate) fn sanitize(raw: &str, key: &str, max_chars: usize) -> String {
    // Only the start can be kept: do not scan megabytes for it. A cut through an echo leaves
    // a word that still holds one of its ends, or at most four characters of the key.
    let raw = match raw.char_indices().nth(max_chars.saturating_mul(4)) {
        Some((end, _)) => &raw[..end],
        None => raw,
    };
    let scrubbed = scrub(raw, key);
    escape_and_cut(&scrubbed, max_chars)
}

/// Replaces every word holding the key or one of its echoed ends with [`REDACTED`].
fn scrub(text: &str, key: &str) -> String {
    let mut words: Vec<Range<usize>> = fragments(key)
        .flat_map(|fragment| find_ignoring_ascii_case(text, fragment))
        .map(|found| word_around(text, found))
        .collect();
    if words.is_empty() {
        return text.to_owned();
    }
    words.sort_by_key(|w| w.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for word in words {
        if word.start >= at {
            out.push_str(&text[at..word.start]);
            out.push_str(REDACTED);
        }
        at = at.max(word.end);
    }
    out.push_str(&text[at..]);
    out
}

/// The key and its first and last [`ECHOED_END`] characters (the whole key when shorter).
/// The key is ASCII (the config checks it), so byte slicing is character slicing.
fn fragments(key: &str) -> impl Iterator<Item = &str> {
    let n = key.len().min(ECHOED_END);
    [key, &key[..n], &key[key.len() - n..]]
        .into_iter()
        .filter(|f| !f.is_empty())
}

/// Byte ranges of `needle` in `haystack`, ASCII case ignored. `to_ascii_lowercase` changes
/// only ASCII bytes, so offsets in the lowered text are offsets in the original.
fn find_ignoring_ascii_case(haystack: &str, needle: &str) -> Vec<Range<usize>> {
    let hay = haystack.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    hay.match_indices(&needle)
        .map(|(start, m)| start..start + m.len())
        .collect()
}

fn separates_words(c: char) -> bool {
    c.is_whitespace() || c.is_control() || is_invisible_format(c)
}

/// `found` widened to the word it stands in.
fn word_around(text: &str, found: Range<usize>) -> Range<usize> {
    let start = text[..found.start].rfind(separates_words).map_or(0, |i| {
        i + text[i..].chars().next().map_or(1, char::len_utf8)
    });
    let end = text[found.end..]
        .find(separates_words)
        .map_or(text.len(), |i| found.end + i);
    start..end
}

/// Characters that reorder or hide text without being control characters: bidi embeddings,
/// overrides and isolates, zero-width ones, the line and paragraph separators, the BOM.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// Escapes control and invisible formatting characters and keeps at most `max_chars`
/// characters, never cutting through an escape.
fn escape_and_cut(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars));
    let mut count = 0;
    // Where to cut if the rest does not fit: the end of the last piece that leaves room for
    // the `…`.
    let mut room_for_ellipsis = 0;
    for c in text.chars() {
        let piece: String = match c {
            '\n' => "\\n".into(),
            '\r' => "\\r".into(),
            '\t' => "\\t".into(),
            c if c.is_control() || is_invisible_format(c) => c.escape_unicode().collect(),
            c => c.into(),
        };
        let len = piece.chars().count();
        if count + len > max_chars {
            out.truncate(room_for_ellipsis);
            out.push('…');
            return out;
        }
        out.push_str(&piece);
        count += len;
        if count < max_chars {
            room_for_ellipsis = out.len();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "f1915e328e249ffaaafd97fb46a57ba55d233fbf";

    #[test]
    fn the_masked_echo_cometchat_sends_is_redacted() {
        let message = "The key f1915******************************33fbf does not exist. \
                       Please use correct apiKey.";
        assert_eq!(
            sanitize(message, KEY, 300),
            "The key [REDACTED] does not exist. Please use correct apiKey."
        );
    }

    #[test]
    fn full_echoes_in_any_case_and_split_ends_are_redacted() {
        let upper = KEY.to_ascii_uppercase();
        let text = format!("a {KEY}. b ({upper}) c F1915\r\n**33FBF d");
        assert_eq!(
            sanitize(&text, KEY, 300),
            r"a [REDACTED] b [REDACTED] c [REDACTED]\r\n[REDACTED] d"
        );
    }

    #[test]
    fn a_short_key_is_its_own_fragment() {
        assert_eq!(
            sanitize("the k3y was k3y!", "k3y", 300),
            "the [REDACTED] was [REDACTED]"
        );
        assert_eq!(sanitize("nothing here", "k3y", 300), "nothing here");
    }

    #[test]
    fn control_and_invisible_characters_are_escaped() {
        assert_eq!(
            sanitize("a\r\nb\t\u{1b}[31mc\u{202e}d\u{0}", KEY, 300),
            r"a\r\nb\t\u{1b}[31mc\u{202e}d\u{0}"
        );
        // Ordinary text, quotes and non-ASCII letters are left alone.
        assert_eq!(sanitize("Zoë said \"hi\"", KEY, 300), "Zoë said \"hi\"");
    }

    #[test]
    fn the_length_is_bounded_without_cutting_an_escape() {
        assert_eq!(
            sanitize(&"x".repeat(1000), KEY, 10),
            format!("{}…", "x".repeat(9))
        );
        // "\u{1b}" is 6 characters: it does not fit after 5 x's in 10.
        assert_eq!(sanitize("xxxxx\u{1b}yyyy", KEY, 10), "xxxxx…");
        assert_eq!(sanitize("short", KEY, 10), "short");
        assert_eq!(sanitize("exactly10!", KEY, 10), "exactly10!");
        assert_eq!(sanitize("", KEY, 10), "");
    }
}
