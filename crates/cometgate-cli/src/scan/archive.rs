//! Zip archives (`.apk`, `.aab`, `.ipa`, `.zip`, nested): every member is read through a bound,
//! never trusting the sizes the archive declares, so a zip bomb is an error within bounded
//! time and memory and the rest of the scan goes on.

use std::io::{self, Cursor, Read, Seek};

use zip::ZipArchive;

use super::paths::{is_media, is_test_or_dev_path};
use super::{Origin, Sink, content};
use crate::detect::bytes::printable as bytes_printable;
use crate::finding::ProblemLevel;

/// The first bytes of a zip archive (a local file header, or an empty archive's end record).
pub(crate) fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// How much one top-level archive may still expand to, all members and nesting levels together.
pub(crate) struct Budget {
    remaining: u64,
}

impl Budget {
    pub(crate) fn new(total: u64) -> Self {
        Self { remaining: total }
    }
}

const MIB: u64 = 1024 * 1024;

/// Reads at most `cap` bytes, never holding more than `cap` bytes of buffer (a growing `Vec`
/// would double past it). `declared` (what the archive says the size is) only sizes the first
/// allocation, capped too, since a zip bomb declares whatever it likes.
fn read_capped(reader: &mut impl Read, cap: u64, declared: u64) -> (Vec<u8>, io::Result<()>) {
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let first = usize::try_from(declared.saturating_add(1)).map_or(cap, |d| d.min(cap));
    let mut data = Vec::with_capacity(first.min(64 * MIB as usize));
    let mut chunk = vec![0u8; 256 * 1024];
    while data.len() < cap {
        let want = chunk.len().min(cap - data.len());
        let n = match reader.read(&mut chunk[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return (data, Err(e)),
        };
        if data.capacity() - data.len() < n {
            let grown = data
                .capacity()
                .saturating_mul(2)
                .max(data.len() + n)
                .min(cap);
            data.reserve_exact(grown - data.len());
        }
        data.extend_from_slice(&chunk[..n]);
    }
    (data, Ok(()))
}

/// Scans the archive read by `reader`, shown as `origin.shown`, at nesting `depth` (0 for a
/// file on disk).
pub(crate) fn scan<R: Read + Seek>(
    reader: R,
    origin: &Origin<'_>,
    depth: usize,
    budget: &mut Budget,
    sink: &mut Sink<'_>,
) {
    let limits = sink.limits;
    let mut archive = match ZipArchive::new(reader) {
        Ok(a) => a,
        Err(e) => {
            sink.problem(
                ProblemLevel::Error,
                origin.shown,
                format!("not a readable zip archive: {e}"),
            );
            return;
        }
    };
    if archive.len() > limits.max_archive_entries {
        sink.problem(
            ProblemLevel::Error,
            origin.shown,
            format!(
                "holds {} entries, more than the {} scanned: the rest was not scanned",
                archive.len(),
                limits.max_archive_entries
            ),
        );
    }
    for index in 0..archive.len().min(limits.max_archive_entries) {
        let member_name = archive
            .name_for_index(index)
            .and_then(Result::ok)
            .map(|n| bytes_printable(n.as_bytes()))
            .unwrap_or_else(|| format!("#{index}"));
        let shown = format!("{}!/{member_name}", origin.shown);
        if member_name.ends_with('/') || is_media(&member_name) {
            continue;
        }
        let mut member = match archive.by_index(index) {
            Ok(m) => m,
            Err(e) => {
                sink.problem(ProblemLevel::Error, &shown, format!("cannot be read: {e}"));
                continue;
            }
        };
        if !member.is_file() {
            continue;
        }
        let limit = limits.max_member_bytes.min(budget.remaining);
        let declared = member.size();
        let (data, read) = read_capped(&mut member, limit + 1, declared);
        budget.remaining -= (data.len() as u64).min(budget.remaining);
        if let Err(e) = read {
            sink.problem(ProblemLevel::Error, &shown, format!("cannot be read: {e}"));
            continue;
        }
        if data.len() as u64 > limit {
            if limit == limits.max_member_bytes {
                sink.problem(
                    ProblemLevel::Error,
                    &shown,
                    format!(
                        "expands past {} MiB (a zip bomb?): not scanned",
                        limits.max_member_bytes / MIB
                    ),
                );
                continue;
            }
            sink.problem(
                ProblemLevel::Error,
                origin.shown,
                format!(
                    "expands past {} MiB in all (a zip bomb?): the rest of it was not scanned",
                    limits.max_archive_bytes / MIB
                ),
            );
            return;
        }
        drop(member);
        let member_origin = Origin {
            shown: &shown,
            dev_only: origin.dev_only || is_test_or_dev_path(&member_name),
            mentions_cometchat: origin.mentions_cometchat
                || member_name.to_ascii_lowercase().contains("cometchat"),
        };
        if is_zip(&data) {
            if depth + 1 >= limits.max_nesting {
                sink.problem(
                    ProblemLevel::Error,
                    &shown,
                    format!("an archive nested {} deep: not scanned", limits.max_nesting),
                );
            } else {
                scan(Cursor::new(data), &member_origin, depth + 1, budget, sink);
            }
        } else {
            content::scan(&data, &member_origin, sink);
        }
    }
}
