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

    /// The locations of `offsets`, in their order. Columns are counted from the previous
    /// offset on the same line, so many findings on one long line (a minified bundle) cost
    /// one pass over it, not one each.
    pub(crate) fn locate_all(&self, offsets: &[usize]) -> Vec<Location> {
        let mut order: Vec<usize> = (0..offsets.len()).collect();
        order.sort_by_key(|&i| offsets[i]);
        let mut located = vec![Location::Text { line: 0, column: 0 }; offsets.len()];
        let mut previous: Option<(usize, u64, u64)> = None; // (offset, line, column)
        for i in order {
            let offset = offsets[i].min(self.text.len());
            let line = self.newlines.partition_point(|&n| n < offset) as u64 + 1;
            let column = match previous {
                Some((from, prev_line, prev_column)) if prev_line == line => {
                    prev_column + char_count(&self.text[from..offset]) as u64
                }
                _ => match self.locate(offset) {
                    Location::Text { column, .. } => column,
                    Location::Binary { .. } => unreachable!("text is located by line"),
                },
            };
            previous = Some((offset, line, column));
            located[i] = Location::Text { line, column };
        }
        located
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
        let offsets = [10, 7, 0, 3, 5, 7];
        let all = lines.locate_all(&offsets);
        let one_by_one: Vec<Location> = offsets.iter().map(|&o| at(o)).collect();
        assert_eq!(all, one_by_one);
    }
}
