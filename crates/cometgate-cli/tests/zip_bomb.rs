//! Zip bombs: an archive that expands past its bounds is an error, reached in bounded time and
//! memory, and the rest of the scan goes on. Alone in its test binary so that the process's
//! peak memory measures this scan only.

mod common;

use std::io::{Cursor, Write};
use std::time::{Duration, Instant};

use cometgate_cli::scan::{AuditOptions, Limits, audit};
use cometgate_cli::{ProblemLevel, Rule};
use common::{Tree, random_key};
use zip::ZipArchive;
use zip::write::SimpleFileOptions;

const MIB: usize = 1024 * 1024;

/// `len` zero bytes written under `name` into a new archive, with `method`.
fn zeros(name: &str, len: usize, method: zip::CompressionMethod) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(method)
        .large_file(len >= u32::MAX as usize);
    writer.start_file(name, options).unwrap();
    let chunk = vec![0u8; MIB];
    for _ in 0..len / MIB {
        writer.write_all(&chunk).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// An archive holding `copies` copies of the one member of `archive` (compressed once, copied
/// raw: cheap to build, `copies` times its size to expand).
fn copies_of(archive: &[u8], copies: usize, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut source = ZipArchive::new(Cursor::new(archive)).unwrap();
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..copies {
        let member = source.by_index(0).unwrap();
        let name = format!("{i:02}-{}", member.name().unwrap());
        writer.raw_copy_file_rename(member, name).unwrap();
    }
    common::finish_zip(writer, extra)
}

fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

#[test]
fn zip_bombs_are_errors_in_bounded_time_and_memory() {
    let limits = Limits::default();
    let key = random_key();
    let config = format!("{{\"authKey\": \"{key}\"}}");

    // One member that inflates to 200 MiB (past the 128 MiB member bound), next to a member
    // with a key that must still be found.
    let one_member = zeros(
        "assets/index.android.bundle",
        200 * MIB,
        zip::CompressionMethod::Deflated,
    );
    let member_bomb = copies_of(&one_member, 1, &[("assets/config.json", config.as_bytes())]);

    // 40 nested archives of 100 MiB each, every one under the member bound: 4 GiB in all,
    // four times the per-archive bound. (Their own member is an image, which is skipped.)
    let inner = zeros("zeros.png", 100 * MIB, zip::CompressionMethod::Stored);
    let wrapped = common::zip(&[("inner.zip", &inner)]);
    drop(inner);
    let total_bomb = copies_of(&wrapped, 40, &[]);
    assert!(member_bomb.len() < MIB && total_bomb.len() < 8 * MIB);

    let tree = Tree::new();
    tree.file("app-release.apk", &member_bomb)
        .file("bundle.zip", &total_bomb)
        .file(".env", format!("COMETCHAT_AUTH_KEY={key}\n"));

    // Measure the scan only: reset the peak the fixtures' building reached.
    std::fs::write("/proc/self/clear_refs", "5").expect("Linux lets a process reset its peak");
    let started = Instant::now();
    let report = audit(&AuditOptions::new([tree.path()])).unwrap();
    let took = started.elapsed();

    let errors: Vec<(String, String)> = report
        .problems
        .iter()
        .filter(|p| p.level == ProblemLevel::Error)
        .map(|p| {
            let path = p
                .path
                .strip_prefix(&*tree.path().to_string_lossy())
                .unwrap_or(&p.path);
            (path.to_owned(), p.message.clone())
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (
                "/app-release.apk!/00-assets/index.android.bundle".to_owned(),
                "expands past 128 MiB (a zip bomb?): not scanned".to_owned()
            ),
            (
                "/bundle.zip".to_owned(),
                "expands past 1024 MiB in all (a zip bomb?): the rest of it was not scanned"
                    .to_owned()
            ),
        ]
    );
    let found: Vec<(Rule, &str)> = report
        .findings
        .iter()
        .map(|f| (f.rule, f.path.rsplit('/').next().unwrap()))
        .collect();
    assert_eq!(
        found,
        vec![(Rule::AuthKey, ".env"), (Rule::AuthKey, "config.json")]
    );
    assert_eq!(report.exit_code(cometgate_cli::Severity::High), 1);
    assert_eq!(report.exit_code(cometgate_cli::Severity::Critical), 2);

    // Time: about the per-archive bound inflated once, not 4 GiB. Memory: one member at a time.
    assert!(took < Duration::from_secs(90), "{took:?}");
    let peak = peak_memory_mib().expect("Linux reports peak memory in /proc/self/status");
    eprintln!("zip bombs: {took:?}, peak memory {peak} MiB");
    // Two scanning threads, each holding at most one member of at most 128 MiB.
    let bound = (limits.max_member_bytes as usize / MIB) as u64;
    assert!(peak < 2 * bound + 64, "peak memory {peak} MiB");
}
