//! One piece of content (a file or an archive member) through the rules: Hermes bundles by
//! their string table, binary content by byte offset, text by line and column.

use super::hermes;
use super::lines::Lines;
use super::{Origin, Sink};
use crate::detect::{Context, Detected};
use crate::finding::{Finding, Location, ProblemLevel};
use crate::{Rule, Severity};

/// How much of the start of a file decides whether it is binary (as git and ripgrep do).
const SNIFF_LEN: usize = 8 * 1024;

/// Scans `bytes`, reporting findings and problems into `sink`.
pub(crate) fn scan(bytes: &[u8], origin: &Origin<'_>, sink: &mut Sink<'_>) {
    sink.bytes += bytes.len() as u64;
    if hermes::is_hermes(bytes) {
        match hermes::string_view(bytes) {
            Ok(view) => {
                let detected = sink.detector.scan(
                    &view.text,
                    origin.mentions_cometchat,
                    Context::AnywhereInTable,
                );
                for d in detected {
                    let offset = view.file_offset(d.hit.start) as u64;
                    sink.push(finding(d, origin, Location::Binary { offset }));
                }
                return;
            }
            Err(e) => sink.problem(
                ProblemLevel::Warning,
                origin.shown,
                format!(
                    "Hermes bytecode whose string table cannot be read ({e}); scanned as raw bytes"
                ),
            ),
        }
    }
    let detected = sink
        .detector
        .scan(bytes, origin.mentions_cometchat, Context::Nearby);
    if detected.is_empty() {
        return;
    }
    let binary = memchr::memchr(0, &bytes[..bytes.len().min(SNIFF_LEN)]).is_some();
    let locations: Vec<Location> = if binary {
        detected
            .iter()
            .map(|d| Location::Binary {
                offset: d.hit.start as u64,
            })
            .collect()
    } else {
        let offsets: Vec<usize> = detected.iter().map(|d| d.hit.start).collect();
        Lines::new(bytes).locate_all(&offsets)
    };
    for (d, location) in detected.into_iter().zip(locations) {
        sink.push(finding(d, origin, location));
    }
}

fn finding(detected: Detected, origin: &Origin<'_>, location: Location) -> Finding {
    let Detected { hit, hint } = detected;
    let mut severity = hit.rule.severity();
    let mut message = hit.message;
    if hit.rule == Rule::AuthKey && origin.dev_only {
        severity = Severity::Low;
        message.push_str(" (in a test, mock or dev-only path)");
    }
    Finding {
        rule: hit.rule,
        severity,
        path: origin.shown.to_owned(),
        location,
        excerpt: hit.excerpt,
        message,
        verified: None,
        secret: hit.secret.map(Into::into),
        hint,
    }
}
