//! Byte offsets to 1-based lines and character columns.

use crate::finding::Location;

/// The newlines of one text, to locate several offsets in it.
pub(crate) struct Lines<'a> {
    text: &'a [u8],
    newlines: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a [u8]) -> Self {
        Self {
            text,
            newlines: memchr::memchr_iter(b'\n', text).collect(),
        }
    }

    /// The line (from 1) and column (from 1, in characters) of byte `offset`.
    pub(crate) fn locate(&self, offset: usize) -> Location {
        let before = self.newlines.partition_point(|&n| n < offset);
        let line_start = before.checked_sub(1).map_or(0, |i| self.newlines[i] + 1);
        let offset = offset.min(self.text.len());
        let column = char_count(&self.text[line_start..offset]) + 1;
        Location::Text {
            line: before as u64 + 1,
            column: column as u64,
        }
    }
}

/// How many characters `bytes` holds as UTF-8 (bytes that do not continue a character).
pub(crate) fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_character_columns() {
        let text = "ab\ncé d\n\nx".as_bytes();
        let lines = Lines::new(text);
        let at = |o| lines.locate(o);
        assert_eq!(at(0), Location::Text { line: 1, column: 1 });
        assert_eq!(at(3), Location::Text { line: 2, column: 1 });
        // "é" is two bytes: "d" is the fourth character of line 2.
        assert_eq!(at(7), Location::Text { line: 2, column: 4 });
        assert_eq!(at(10), Location::Text { line: 4, column: 1 });
    }
}
