//! The audit: which files, read how, in parallel, into a [`Report`].
//!
//! ```
//! use cometgate_cli::scan::{AuditOptions, audit};
//! use cometgate_cli::Rule;
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(
//!     dir.path().join(".env"),
//!     "EXPO_PUBLIC_COMETCHAT_AUTH_KEY=0a1b2c3d4e5f60718293a4b5c6d7e8f901234567\n",
//! )?;
//! let report = audit(&AuditOptions::new([dir.path()]))?;
//! let rules: Vec<Rule> = report.findings.iter().map(|f| f.rule).collect();
//! // The variable at column 1, the Auth Key in it at column 32.
//! assert_eq!(rules, [Rule::PublicEnvSecret, Rule::AuthKey]);
//! assert_eq!(report.findings[1].excerpt, "0a1b2******************************34567");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod archive;
mod content;
mod hermes;
mod lines;
mod paths;
mod walk;

use std::fs::File;
use std::io::Read;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use secrecy::{ExposeSecret, SecretString};
use thiserror::Error;

pub use hermes::MAGIC as HERMES_MAGIC;
pub use paths::is_test_or_dev_path;

use crate::detect::Detector;
use crate::finding::{Finding, Problem, ProblemLevel};
use crate::report::Report;

const MIB: u64 = 1024 * 1024;

/// Bounds on what the audit reads, so that no input (a zip bomb, a huge file, an archive of
/// archives) can exhaust memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A plain file larger than this is skipped with a warning (default 512 MiB).
    pub max_file_bytes: u64,
    /// An archive member that expands past this is an error and is not scanned (default
    /// 128 MiB: a large React Native bundle is a few tens of MiB).
    pub max_member_bytes: u64,
    /// One archive on disk, all its members and nested archives together, expands to at most
    /// this; past it the rest of that archive is an error (default 1 GiB).
    pub max_archive_bytes: u64,
    /// Entries read from one archive (default 200,000).
    pub max_archive_entries: usize,
    /// Archive nesting: an archive inside an archive inside an archive on disk is the deepest
    /// read (default 3).
    pub max_nesting: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 512 * MIB,
            max_member_bytes: 128 * MIB,
            max_archive_bytes: 1024 * MIB,
            max_archive_entries: 200_000,
            max_nesting: 3,
        }
    }
}

/// What to audit and how.
#[derive(Debug)]
pub struct AuditOptions {
    /// Files and directories to scan.
    pub paths: Vec<PathBuf>,
    /// Keys to look for (`known-key`), as they are and base64-encoded.
    pub keys: Vec<SecretString>,
    /// Also scan `node_modules` and `.git`.
    pub include_deps: bool,
    /// Record the app id and region found near each key (for `--verify`).
    pub app_hints: bool,
    /// Bounds on what is read.
    pub limits: Limits,
    /// Scanning threads (default: the machine's parallelism).
    pub threads: Option<NonZeroUsize>,
}

impl AuditOptions {
    /// Options for scanning `paths` with the defaults.
    pub fn new<P: Into<PathBuf>>(paths: impl IntoIterator<Item = P>) -> Self {
        Self {
            paths: paths.into_iter().map(Into::into).collect(),
            keys: Vec::new(),
            include_deps: false,
            app_hints: false,
            limits: Limits::default(),
            threads: None,
        }
    }
}

/// Why an audit could not run at all (problems with single files are in the [`Report`]).
#[derive(Debug, Error)]
pub enum AuditError {
    /// A path given does not exist or cannot be read.
    #[error("{path}: {source}")]
    Path {
        /// The path as given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A path given is neither a regular file nor a directory (a device, a socket, a FIFO).
    #[error("{path}: neither a regular file nor a directory")]
    NotFileOrDirectory {
        /// The path as given.
        path: String,
    },
    /// A key given with `--key` or `--key-file` cannot be searched for.
    #[error("key #{index} {problem}")]
    BadKey {
        /// Which key, from 1, in the order given.
        index: usize,
        /// What is wrong with it (the key itself is never shown).
        problem: &'static str,
    },
}

/// The shortest key `--key` accepts: shorter ones would match by chance.
pub const SHORTEST_KEY: usize = 8;

/// Checks the keys to search for: at least 8 printable ASCII characters, no spaces, no `*` (the
/// mask character, so that a masked key can never read as the key).
pub fn check_keys(keys: &[SecretString]) -> Result<(), AuditError> {
    for (i, key) in keys.iter().enumerate() {
        let key = key.expose_secret();
        let bad = |problem| AuditError::BadKey {
            index: i + 1,
            problem,
        };
        if key.len() < SHORTEST_KEY {
            return Err(bad("is shorter than 8 characters"));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad("holds spaces, control or non-ASCII characters"));
        }
        if key.contains('*') {
            return Err(bad("holds '*', the character masks are made of"));
        }
    }
    Ok(())
}

/// Scans every path and returns what was found.
pub fn audit(options: &AuditOptions) -> Result<Report, AuditError> {
    check_keys(&options.keys)?;
    let keys: Vec<&str> = options.keys.iter().map(|k| k.expose_secret()).collect();
    let detector = Detector::new(&keys, options.app_hints);
    let mut problems = Vec::new();
    let items = walk::items(&options.paths, options.include_deps, &mut problems)?;
    let threads = options
        .threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get)
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut sink = Sink::new(&detector, &options.limits);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        scan_file(item, &mut sink);
                    }
                    sink.into_outcome()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut report = Report::new(options.keys.clone(), Detector::encoded_forms(&keys));
    report.problems = problems;
    report.files = items.len() as u64;
    for outcome in outcomes {
        report.findings.extend(outcome.findings);
        report.problems.extend(outcome.problems);
        report.bytes += outcome.bytes;
    }
    report.sort();
    Ok(report)
}

/// Where a piece of content came from.
pub(crate) struct Origin<'a> {
    pub shown: &'a str,
    pub dev_only: bool,
    pub mentions_cometchat: bool,
}

/// What one scanning thread found.
struct Outcome {
    findings: Vec<Finding>,
    problems: Vec<Problem>,
    bytes: u64,
}

/// A scanning thread's rules, limits and results.
pub(crate) struct Sink<'a> {
    pub detector: &'a Detector,
    pub limits: &'a Limits,
    pub bytes: u64,
    findings: Vec<Finding>,
    problems: Vec<Problem>,
}

impl<'a> Sink<'a> {
    fn new(detector: &'a Detector, limits: &'a Limits) -> Self {
        Self {
            detector,
            limits,
            bytes: 0,
            findings: Vec::new(),
            problems: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    pub(crate) fn problem(&mut self, level: ProblemLevel, path: &str, message: String) {
        self.problems.push(Problem {
            level,
            path: path.to_owned(),
            message,
        });
    }

    fn into_outcome(self) -> Outcome {
        Outcome {
            findings: self.findings,
            problems: self.problems,
            bytes: self.bytes,
        }
    }
}

fn scan_file(item: &walk::Item, sink: &mut Sink<'_>) {
    let origin = Origin {
        shown: &item.shown,
        dev_only: item.dev_only,
        mentions_cometchat: item.shown.to_ascii_lowercase().contains("cometchat"),
    };
    let fail = |sink: &mut Sink<'_>, e: std::io::Error| {
        sink.problem(
            ProblemLevel::Error,
            &item.shown,
            format!("cannot be read: {e}"),
        );
    };
    let mut file = match File::open(&item.path) {
        Ok(f) => f,
        Err(e) => return fail(sink, e),
    };
    let mut head = [0u8; 4];
    let head_len = match file.read(&mut head) {
        Ok(n) => n,
        Err(e) => return fail(sink, e),
    };
    if archive::is_zip(&head[..head_len]) {
        if let Err(e) = std::io::Seek::rewind(&mut file) {
            return fail(sink, e);
        }
        let mut budget = archive::Budget::new(sink.limits.max_archive_bytes);
        archive::scan(file, &origin, 0, &mut budget, sink);
        return;
    }
    let len = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => return fail(sink, e),
    };
    if len > sink.limits.max_file_bytes {
        sink.problem(
            ProblemLevel::Warning,
            &item.shown,
            format!(
                "larger than {} MiB: skipped",
                sink.limits.max_file_bytes / MIB
            ),
        );
        return;
    }
    let mut bytes = head[..head_len].to_vec();
    // Read through the bound too: the file may have grown since it was measured.
    let read = (&mut file)
        .take(sink.limits.max_file_bytes - head_len as u64)
        .read_to_end(&mut bytes);
    if let Err(e) = read {
        return fail(sink, e);
    }
    content::scan(&bytes, &origin, sink);
}
