//! Security promises as properties (256 cases or more each): a key given with --key is found
//! whatever surrounds it, as it is and base64-encoded; no output format ever holds it in full
//! (not even when it is in a file's name); a CometChat key with its context is found; no input
//! makes the audit panic.

mod common;

use std::num::NonZeroUsize;

use cometgate_cli::mask::Redactor;
use cometgate_cli::scan::{AuditOptions, audit};
use cometgate_cli::{Format, Location, Report, Rule, mask};
use data_encoding::BASE64;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn options(dir: &std::path::Path, key: &str) -> AuditOptions {
    let mut options = AuditOptions::new([dir]);
    options.keys = vec![key.to_owned().into()];
    options.threads = NonZeroUsize::new(1);
    options
}

fn rendered(report: &Report) -> String {
    let mut all = Vec::new();
    for format in [Format::Human, Format::Json, Format::Sarif] {
        report.render(format, &mut all).unwrap();
    }
    report.render_problems(&mut all).unwrap();
    String::from_utf8(all).unwrap()
}

/// Where `key` occurs in `hay`, left to right, not overlapping (as a search reports them).
fn occurrences(hay: &[u8], key: &[u8]) -> Vec<usize> {
    let mut found = Vec::new();
    let mut i = 0;
    while i + key.len() <= hay.len() {
        if &hay[i..i + key.len()] == key {
            found.push(i);
            i += key.len();
        } else {
            i += 1;
        }
    }
    found
}

fn line_column(text: &[u8], offset: usize) -> Location {
    let before = &text[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    Location::Text {
        line,
        column: (offset - start) as u64 + 1,
    }
}

fn as_given(report: &Report) -> Vec<Location> {
    report
        .findings
        .iter()
        .filter(|f| f.rule == Rule::KnownKey && f.message.ends_with("(as given)"))
        .map(|f| f.location)
        .collect()
}

/// Up to `max` random bytes drawn from `alphabet` (all bytes when empty). Generated from a seed
/// (cheap, and still shrinking toward shorter input) rather than byte by byte.
fn noise(max: usize, alphabet: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    (any::<u64>(), 0..=max).prop_map(move |(seed, len)| {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..len)
            .map(|_| {
                let b: u8 = rng.random();
                if alphabet.is_empty() {
                    b
                } else {
                    alphabet[usize::from(b) % alphabet.len()]
                }
            })
            .collect()
    })
}

/// Printable ASCII, tabs and newlines: text, whatever it says.
const TEXT: &[u8] = b" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\n\t";

fn text(max: usize) -> impl Strategy<Value = String> {
    noise(max, TEXT).prop_map(|b| String::from_utf8(b).unwrap())
}

/// Keys as people have them: 8 to 64 printable characters of a token alphabet.
fn key() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_+=.-]{8,64}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_known_key_in_text_is_found_and_never_printed(
        key in key(),
        before in text(3_000),
        after in text(3_000),
        in_name in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{before}{key}{after}");
        let name = if in_name { format!("leak-{key}.txt") } else { "leak.txt".to_owned() };
        std::fs::write(dir.path().join(&name), &text).unwrap();
        let report = audit(&options(dir.path(), &key)).unwrap();
        let expected: Vec<Location> = occurrences(text.as_bytes(), key.as_bytes())
            .into_iter()
            .map(|o| line_column(text.as_bytes(), o))
            .collect();
        prop_assert!(!expected.is_empty());
        prop_assert_eq!(as_given(&report), expected);
        let output = rendered(&report);
        prop_assert!(!output.contains(&key), "the key is printed:\n{}", output);
    }

    #[test]
    fn a_known_key_in_binary_is_found_by_offset(
        key in key(),
        before in noise(4_096, b""),
        after in noise(4_096, b""),
    ) {
        let dir = tempfile::tempdir().unwrap();
        // A NUL first: binary content, whatever the random bytes are.
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(&before);
        bytes.extend_from_slice(key.as_bytes());
        bytes.extend_from_slice(&after);
        std::fs::write(dir.path().join("libapp.so"), &bytes).unwrap();
        let report = audit(&options(dir.path(), &key)).unwrap();
        let expected: Vec<Location> = occurrences(&bytes, key.as_bytes())
            .into_iter()
            .map(|o| Location::Binary { offset: o as u64 })
            .collect();
        prop_assert_eq!(as_given(&report), expected);
        prop_assert!(!rendered(&report).contains(&key));
    }

    #[test]
    fn a_known_key_is_found_base64_encoded_at_any_alignment(
        key in key(),
        before in noise(64, b""),
        after in noise(64, b""),
        url_safe in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut payload = before.clone();
        payload.extend_from_slice(key.as_bytes());
        payload.extend_from_slice(&after);
        let encoded = if url_safe {
            data_encoding::BASE64URL.encode(&payload)
        } else {
            BASE64.encode(&payload)
        };
        std::fs::write(dir.path().join("config.json"), format!("{{\"blob\": \"{encoded}\"}}\n")).unwrap();
        let report = audit(&options(dir.path(), &key)).unwrap();
        prop_assert!(
            report.findings.iter().any(|f| f.rule == Rule::KnownKey),
            "not found in {}", encoded
        );
        prop_assert!(!rendered(&report).contains(&key));
    }

    #[test]
    fn a_cometchat_key_with_its_context_is_found(
        key in "[0-9a-f]{40}".prop_filter("a random key mixes letters and digits", |k| {
            k.bytes().any(|b| b.is_ascii_digit()) && k.bytes().any(|b| b.is_ascii_lowercase())
        }),
        cue in prop::sample::select(vec![
            ("AUTH_KEY=", "", Rule::AuthKey),
            ("\"authKey\": \"", "\"", Rule::AuthKey),
            (".setAuthKey(\"", "\")", Rule::AuthKey),
            ("COMETCHAT_REST_API_KEY=", "", Rule::RestApiKey),
            ("const restApiKey = '", "';", Rule::RestApiKey),
            ("// CometChat\nheaders: { apiKey: \"", "\" }", Rule::RestApiKey),
        ]),
        before in text(1_500),
        after in text(1_500),
    ) {
        let (open, close, rule) = cue;
        let dir = tempfile::tempdir().unwrap();
        // Lines of their own, so that the random text cannot glue itself to the value.
        let text = format!("{before}\n{open}{key}{close}\n{after}");
        std::fs::write(dir.path().join("config.ts"), &text).unwrap();
        let mut options = AuditOptions::new([dir.path()]);
        options.threads = NonZeroUsize::new(1);
        let report = audit(&options).unwrap();
        let found: Vec<Rule> = report
            .findings
            .iter()
            .filter(|f| f.secret().is_some_and(|s| secrecy::ExposeSecret::expose_secret(s) == key))
            .map(|f| f.rule)
            .collect();
        prop_assert!(found.contains(&rule), "{:?} in\n{}", found, text);
        prop_assert!(!rendered(&report).contains(&key));
    }

    #[test]
    fn masking_and_redaction_never_leave_a_secret_whole(
        secret in "[!-)+-~]{1,80}",
        before in "[ -~]{0,200}",
        after in "[ -~]{0,200}",
    ) {
        let masked = mask(&secret);
        prop_assert_eq!(masked.chars().count(), secret.chars().count());
        prop_assert!(!masked.contains(&secret));
        let text = format!("{before}{secret}{after}");
        let redacted = Redactor::new([secret.as_str()]).redact(&text).into_owned();
        prop_assert!(!redacted.contains(&secret), "{}", redacted);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_input_makes_the_audit_panic(
        magic in prop::sample::select(vec![
            b"".to_vec(),
            b"PK\x03\x04".to_vec(),
            b"PK\x05\x06".to_vec(),
            0x1F19_03C1_03BC_1FC6u64.to_le_bytes().to_vec(),
        ]),
        body in noise(4_096, b""),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = magic;
        bytes.extend_from_slice(&body);
        std::fs::write(dir.path().join("input.bin"), &bytes).unwrap();
        let mut options = AuditOptions::new([dir.path()]);
        options.keys = vec!["0123456789".to_owned().into()];
        options.threads = NonZeroUsize::new(1);
        let report = audit(&options).unwrap();
        rendered(&report);
    }
}
