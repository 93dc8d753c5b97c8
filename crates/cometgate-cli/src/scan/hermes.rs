//! Hermes bytecode bundles (what React Native ships as `index.android.bundle` /
//! `main.jsbundle` when Hermes is on): the strings of the string table, in table order, one per
//! line, so the rules read the app's string literals whole instead of the packed storage
//! (where Hermes lets strings overlap).
//!
//! Layout (`BytecodeFileFormat.h`): a 128-byte header (magic `0x1F1903C103BC1FC6`
//! little-endian, version, counts), then function headers, string kinds, identifier hashes,
//! the small string table (4 bytes a string: `isUTF16:1 offset:23 length:8`), the overflow
//! table (offset and length, 4 bytes each) for strings that do not fit, and the string
//! storage; sections aligned to 4 bytes. Function headers are 16 bytes up to bytecode version
//! 96 and 12 bytes in newer ones; both are tried and the one whose string table is consistent
//! wins.

use thiserror::Error;

use super::lines::char_count;

/// The first 8 bytes of every Hermes bytecode file, little-endian.
pub const MAGIC: u64 = 0x1F19_03C1_03BC_1FC6;

const HEADER_LEN: usize = 128;
const FUNCTION_HEADER_LENS: [usize; 2] = [16, 12];
/// A small string table entry's length when the string is in the overflow table.
const OVERFLOWED: u32 = 255;

/// Whether `bytes` starts like a Hermes bytecode file.
pub(crate) fn is_hermes(bytes: &[u8]) -> bool {
    bytes
        .get(..8)
        .is_some_and(|m| m == MAGIC.to_le_bytes().as_slice())
}

/// Why a Hermes file's string table could not be read (it is then scanned as raw bytes).
#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum HermesError {
    /// Shorter than its header.
    #[error("shorter than a Hermes header")]
    Truncated,
    /// The header's counts do not describe a string table inside the file.
    #[error("bytecode version {version}: the string table does not fit the header's counts")]
    Inconsistent { version: u32 },
}

/// The strings of a Hermes file as text, one per line, and where each one is in the file.
pub(crate) struct StringView {
    pub text: Vec<u8>,
    segments: Vec<Segment>,
}

struct Segment {
    view_start: usize,
    file_start: usize,
    /// Bytes a character takes in the file: 1 (ASCII/Latin-1) or 2 (UTF-16).
    unit: usize,
}

impl StringView {
    /// The file offset of byte `view_offset` of [`text`](Self::text).
    pub(crate) fn file_offset(&self, view_offset: usize) -> usize {
        let i = self
            .segments
            .partition_point(|s| s.view_start <= view_offset)
            .saturating_sub(1);
        match self.segments.get(i) {
            Some(s) => {
                let chars = char_count(&self.text[s.view_start..view_offset.min(self.text.len())]);
                s.file_start + chars * s.unit
            }
            None => 0,
        }
    }
}

/// Reads the string table of a Hermes file.
pub(crate) fn string_view(bytes: &[u8]) -> Result<StringView, HermesError> {
    if bytes.len() < HEADER_LEN {
        return Err(HermesError::Truncated);
    }
    let header = Header::read(bytes);
    FUNCTION_HEADER_LENS
        .iter()
        .find_map(|&len| header.layout(bytes, len).and_then(|l| l.view(bytes)))
        .ok_or(HermesError::Inconsistent {
            version: header.version,
        })
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

struct Header {
    version: u32,
    function_count: usize,
    string_kind_count: usize,
    identifier_count: usize,
    string_count: usize,
    overflow_count: usize,
    storage_size: usize,
}

impl Header {
    fn read(bytes: &[u8]) -> Self {
        let field = |at| u32_at(bytes, at).unwrap_or(0);
        Self {
            version: field(8),
            function_count: field(40) as usize,
            string_kind_count: field(44) as usize,
            identifier_count: field(48) as usize,
            string_count: field(52) as usize,
            overflow_count: field(56) as usize,
            storage_size: field(60) as usize,
        }
    }

    /// Where the string sections are, for function headers of `function_header_len` bytes;
    /// `None` when they would not fit in the file.
    fn layout(&self, bytes: &[u8], function_header_len: usize) -> Option<Layout> {
        let align = |n: usize| n.checked_next_multiple_of(4);
        let kinds =
            align(HEADER_LEN.checked_add(self.function_count.checked_mul(function_header_len)?)?)?;
        let identifiers = align(kinds.checked_add(self.string_kind_count.checked_mul(4)?)?)?;
        let small = align(identifiers.checked_add(self.identifier_count.checked_mul(4)?)?)?;
        let overflow = align(small.checked_add(self.string_count.checked_mul(4)?)?)?;
        let storage = align(overflow.checked_add(self.overflow_count.checked_mul(8)?)?)?;
        let end = storage.checked_add(self.storage_size)?;
        (end <= bytes.len()).then_some(Layout {
            kinds,
            kind_count: self.string_kind_count,
            small,
            string_count: self.string_count,
            overflow,
            overflow_count: self.overflow_count,
            storage,
            storage_size: self.storage_size,
        })
    }
}

struct Layout {
    kinds: usize,
    kind_count: usize,
    small: usize,
    string_count: usize,
    overflow: usize,
    overflow_count: usize,
    storage: usize,
    storage_size: usize,
}

impl Layout {
    /// The strings, if the table is consistent: the string kinds (run lengths in the low 31
    /// bits) add up to the string count and every string lies inside the storage.
    fn view(&self, bytes: &[u8]) -> Option<StringView> {
        let kinds_total = (0..self.kind_count)
            .map(|i| u32_at(bytes, self.kinds + 4 * i).map(|e| (e & 0x7FFF_FFFF) as usize))
            .try_fold(0usize, |sum, n| sum.checked_add(n?))?;
        if kinds_total != self.string_count {
            return None;
        }
        let mut text = Vec::with_capacity(self.storage_size + self.string_count);
        let mut segments = Vec::with_capacity(self.string_count);
        for i in 0..self.string_count {
            let entry = u32_at(bytes, self.small + 4 * i)?;
            let utf16 = entry & 1 == 1;
            let (offset, chars) = match entry >> 24 {
                OVERFLOWED => {
                    let index = ((entry >> 1) & 0x7F_FFFF) as usize;
                    if index >= self.overflow_count {
                        return None;
                    }
                    let at = self.overflow + 8 * index;
                    (u32_at(bytes, at)? as usize, u32_at(bytes, at + 4)? as usize)
                }
                length => (((entry >> 1) & 0x7F_FFFF) as usize, length as usize),
            };
            let unit = if utf16 { 2 } else { 1 };
            let len = chars.checked_mul(unit)?;
            if offset.checked_add(len)? > self.storage_size {
                return None;
            }
            let raw = &bytes[self.storage + offset..][..len];
            segments.push(Segment {
                view_start: text.len(),
                file_start: self.storage + offset,
                unit,
            });
            if utf16 {
                let units = raw
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]));
                for c in char::decode_utf16(units) {
                    let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
                    text.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
            } else {
                // One byte a character (Latin-1): ASCII stays as it is.
                for &b in raw {
                    text.extend_from_slice(char::from(b).encode_utf8(&mut [0; 4]).as_bytes());
                }
            }
            text.push(b'\n');
        }
        Some(StringView { text, segments })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Whole bundles (both function header sizes, UTF-16 strings, the overflow table, offsets)
    // are read in tests/hermes.rs, built by tests/common/hermes.rs.

    #[test]
    fn short_or_foreign_files_are_refused() {
        let mut file = vec![0u8; 127];
        file[..8].copy_from_slice(&MAGIC.to_le_bytes());
        assert!(is_hermes(&file));
        assert_eq!(string_view(&file).err(), Some(HermesError::Truncated));
        assert!(!is_hermes(b"PK\x03\x04"));
        let mut huge_counts = vec![0u8; 256];
        huge_counts[..8].copy_from_slice(&MAGIC.to_le_bytes());
        huge_counts[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        huge_counts[52..56].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            string_view(&huge_counts),
            Err(HermesError::Inconsistent { .. })
        ));
    }
}
