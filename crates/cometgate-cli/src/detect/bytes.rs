//! Byte classes shared by the rules: what may stand around a secret for it to be a whole value.

/// Lowercase hex digits: the alphabet of CometChat keys and of the tail of auth tokens.
pub(crate) fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// Whether `hay[start..end]` stands alone as a value: not glued to more word characters, a
/// path, a hash reference or a template on either side (`"…"`, `=…`, `: …`, `>…<` and the
/// like are fine; `x_…`, `…/`, `#…`, `@…`, `….js` are not).
pub(crate) fn stands_alone(hay: &[u8], start: usize, end: usize) -> bool {
    let before_ok = start == 0 || {
        let b = hay[start - 1];
        !(b.is_ascii_alphanumeric() || b"_-./#@+%$".contains(&b))
    };
    let after_ok = end >= hay.len() || {
        let b = hay[end];
        let glued_dot = b == b'.' && hay.get(end + 1).is_some_and(u8::is_ascii_alphanumeric);
        !(b.is_ascii_alphanumeric() || b"_-/@$".contains(&b) || glued_dot)
    };
    before_ok && after_ok
}

/// The start of the line holding `at`.
pub(crate) fn line_start(hay: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &hay[..at]).map_or(0, |i| i + 1)
}

/// `bytes` as text for a message or an excerpt: invalid UTF-8 replaced, control characters
/// (which could rewrite a terminal) shown as `?`.
pub(crate) fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_must_stand_alone() {
        let ok = |s: &str| stands_alone(s.as_bytes(), 1, s.len() - 1);
        assert!(ok("\"abc\""));
        assert!(ok("=abc\n"));
        assert!(ok(">abc<"));
        assert!(ok(" abc."));
        assert!(!ok("_abc\""));
        assert!(!ok("#abc\""));
        assert!(!ok("\"abc.js"));
        assert!(!ok("\"abc/"));
        assert!(!ok("xabcx"));
        assert!(stands_alone(b"abc", 0, 3));
    }

    #[test]
    fn printable_hides_control_characters() {
        assert_eq!(printable(b"a\x1b[31mb\n"), "a?[31mb?");
        assert_eq!(printable(b"\xffok"), "\u{fffd}ok");
    }
}
