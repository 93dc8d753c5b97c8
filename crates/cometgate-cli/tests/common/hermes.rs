//! Hermes bytecode bundles built the way `hermesc` lays them out (checked against the output of
//! `hermesc` 0.13 / bytecode version 99): a 128-byte header, function headers (16 bytes up to
//! version 96, 12 after), string kinds, identifier hashes, the small string table, the overflow
//! table and the string storage, each aligned to 4 bytes. The string table is sorted as hermesc
//! sorts it: string literals first, then identifiers. ASCII strings are stored as bytes, others
//! as UTF-16; a string of 255 characters or more goes through the overflow table.

const MAGIC: u64 = 0x1F19_03C1_03BC_1FC6;

/// A bundle of bytecode `version` with these string literals and identifiers; returns the file
/// and the byte offset of each literal's storage (in the order given).
pub fn bundle(version: u32, literals: &[&str], identifiers: &[&str]) -> (Vec<u8>, Vec<usize>) {
    let mut sorted_literals: Vec<(usize, &str)> = literals.iter().copied().enumerate().collect();
    sorted_literals.sort_by_key(|(_, s)| *s);
    let mut sorted_identifiers = identifiers.to_vec();
    sorted_identifiers.sort();
    let all: Vec<&str> = sorted_literals
        .iter()
        .map(|(_, s)| *s)
        .chain(sorted_identifiers.iter().copied())
        .collect();

    let mut storage = Vec::new();
    let mut small = Vec::new();
    let mut overflow: Vec<(u32, u32)> = Vec::new();
    let mut offsets = Vec::new();
    for s in &all {
        let offset = storage.len() as u32;
        offsets.push(offset as usize);
        let ascii = s.is_ascii();
        let chars = if ascii {
            storage.extend_from_slice(s.as_bytes());
            s.len()
        } else {
            for unit in s.encode_utf16() {
                storage.extend_from_slice(&unit.to_le_bytes());
            }
            s.encode_utf16().count()
        } as u32;
        let utf16 = u32::from(!ascii);
        if chars >= 255 {
            small.push(utf16 | ((overflow.len() as u32) << 1) | (255 << 24));
            overflow.push((offset, chars));
        } else {
            small.push(utf16 | (offset << 1) | (chars << 24));
        }
    }

    let functions = 3usize;
    let function_header_len = if version <= 96 { 16 } else { 12 };
    let mut file = vec![0u8; 128];
    file[..8].copy_from_slice(&MAGIC.to_le_bytes());
    let mut put = |at: usize, v: u32| file[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put(8, version);
    put(32, 0); // file length, patched below
    put(40, functions as u32);
    put(44, 2); // string kinds: one run of literals, one of identifiers
    put(48, identifiers.len() as u32);
    put(52, all.len() as u32);
    put(56, overflow.len() as u32);
    put(60, storage.len() as u32);
    file.extend(std::iter::repeat_n(0x5A, functions * function_header_len));
    file.extend_from_slice(&(literals.len() as u32).to_le_bytes());
    file.extend_from_slice(&((identifiers.len() as u32) | (1 << 31)).to_le_bytes());
    for i in 0..identifiers.len() {
        file.extend_from_slice(&(0x9E37_79B9u32.wrapping_mul(i as u32 + 1)).to_le_bytes());
    }
    for entry in &small {
        file.extend_from_slice(&entry.to_le_bytes());
    }
    for (offset, length) in &overflow {
        file.extend_from_slice(&offset.to_le_bytes());
        file.extend_from_slice(&length.to_le_bytes());
    }
    let storage_start = file.len();
    file.extend_from_slice(&storage);
    while !file.len().is_multiple_of(4) {
        file.push(0);
    }
    file.extend_from_slice(&[0x11; 64]); // bytecode, literal buffers (not read)
    file.extend_from_slice(&[0; 20]); // footer: SHA-1 of the file
    let len = file.len() as u32;
    file[32..36].copy_from_slice(&len.to_le_bytes());

    let mut literal_offsets = vec![0; literals.len()];
    for (sorted_index, (given_index, _)) in sorted_literals.iter().enumerate() {
        literal_offsets[*given_index] = storage_start + offsets[sorted_index];
    }
    (file, literal_offsets)
}
