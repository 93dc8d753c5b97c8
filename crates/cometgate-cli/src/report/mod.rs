//! The outcome of an audit, its exit code, and the three ways to print it: [`human`], [`json`]
//! and [`sarif`]. Every printed string goes through one [`Redactor`] built from every secret
//! the audit knows, so no format can print a secret in full.

pub mod human;
pub mod json;
pub mod sarif;

use std::io::{self, Write};
use std::sync::OnceLock;

use secrecy::{ExposeSecret, SecretString};

use crate::Severity;
use crate::finding::{Finding, Problem, ProblemLevel};
use crate::mask::Redactor;

/// How a report is printed (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A report for people: one block per finding, then a summary.
    Human,
    /// A JSON array of findings.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
}

/// Exit code: no finding at or above `--fail-on`, and every file read.
pub const EXIT_CLEAN: u8 = 0;
/// Exit code: a finding at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: a usage error, or an input that could not be read (so the run cannot say clean).
pub const EXIT_ERROR: u8 = 2;

/// Everything an audit found.
pub struct Report {
    /// The findings, sorted by path, location and rule.
    pub findings: Vec<Finding>,
    /// Files and members that could not be read or were skipped.
    pub problems: Vec<Problem>,
    /// Files scanned (archives count once).
    pub files: u64,
    /// Bytes scanned, archive members expanded.
    pub bytes: u64,
    known_keys: Vec<SecretString>,
    encoded_keys: Vec<String>,
    redactor: OnceLock<Redactor>,
}

impl Report {
    /// An empty report that will mask `known_keys` and their `encoded` forms wherever printed.
    pub(crate) fn new(known_keys: Vec<SecretString>, encoded: Vec<String>) -> Self {
        Self {
            findings: Vec::new(),
            problems: Vec::new(),
            files: 0,
            bytes: 0,
            known_keys,
            encoded_keys: encoded,
            redactor: OnceLock::new(),
        }
    }

    /// Sorts findings and problems and drops repeated findings (same rule, place and secret).
    pub(crate) fn sort(&mut self) {
        self.findings
            .sort_by(|a, b| (&a.path, a.location, a.rule).cmp(&(&b.path, b.location, b.rule)));
        self.findings
            .dedup_by(|a, b| a.rule == b.rule && a.path == b.path && a.location == b.location);
        self.problems
            .sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    }

    /// How many findings are at or above `fail_on`.
    pub fn failing(&self, fail_on: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity >= fail_on)
            .count()
    }

    /// The exit code: 1 with a finding at or above `fail_on`, else 2 when part of the input
    /// could not be read, else 0.
    pub fn exit_code(&self, fail_on: Severity) -> u8 {
        if self.failing(fail_on) > 0 {
            EXIT_FINDINGS
        } else if self.problems.iter().any(|p| p.level == ProblemLevel::Error) {
            EXIT_ERROR
        } else {
            EXIT_CLEAN
        }
    }

    /// A redactor for every secret found and every key searched for (built on first use;
    /// findings are final by then).
    pub fn redactor(&self) -> &Redactor {
        self.redactor.get_or_init(|| {
            let found = self.findings.iter().filter_map(Finding::secret_str);
            let known = self.known_keys.iter().map(|k| k.expose_secret());
            let encoded = self.encoded_keys.iter().map(String::as_str);
            Redactor::new(found.chain(known).chain(encoded))
        })
    }

    /// Prints the report in `format` to `out`.
    pub fn render(&self, format: Format, out: &mut dyn Write) -> io::Result<()> {
        let redactor = self.redactor();
        match format {
            Format::Human => human::render(self, redactor, out),
            Format::Json => json::render(self, redactor, out),
            Format::Sarif => sarif::render(self, redactor, out),
        }
    }

    /// Prints the problems, one line each, for stderr.
    pub fn render_problems(&self, out: &mut dyn Write) -> io::Result<()> {
        let redactor = self.redactor();
        for problem in &self.problems {
            writeln!(out, "{}", redactor.redact(&problem.to_string()))?;
        }
        Ok(())
    }
}
