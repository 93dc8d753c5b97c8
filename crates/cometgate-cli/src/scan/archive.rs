//! Zip archives (`.apk`, `.aab`, `.ipa`, `.zip`, nested): every member is read through a bound,
//! never trusting the sizes the archive declares, so a zip bomb is an error within bounded
//! time and memory and the rest of the scan goes on.

use std::io::{Cursor, Read, Seek};

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
        let mut data = Vec::with_capacity(member.size().min(limit).min(64 * MIB) as usize);
        let read = (&mut member).take(limit + 1).read_to_end(&mut data);
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
