//! `--format json`: an array of findings.
//!
//! ```json
//! [{"rule": "rest-api-key", "severity": "critical", "path": "src/api.ts", "line": 4, "column": 18,
//!   "excerpt": "0a1b2******************************34567", "message": "…", "verified": "full-access"},
//!  {"rule": "auth-key", "severity": "high", "path": "app.apk!/assets/index.android.bundle",
//!   "offset": 10234, "excerpt": "…", "message": "…"}]
//! ```
//! `line` and `column` (from 1, columns in characters) are for text, `offset` (bytes, from 0)
//! for binary content; `verified` only with `--verify`.

use std::io::{self, Write};

use serde::Serialize;

use super::Report;
use crate::finding::{Location, Verified};
use crate::mask::Redactor;
use crate::{Rule, Severity};

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: Rule,
    severity: Severity,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    excerpt: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified: Option<Verified>,
}

/// Writes the findings of `report` as a JSON array.
pub fn render(report: &Report, redactor: &Redactor, out: &mut dyn Write) -> io::Result<()> {
    let texts: Vec<[String; 3]> = report
        .findings
        .iter()
        .map(|f| [&f.path, &f.excerpt, &f.message].map(|t| redactor.redact(t).into_owned()))
        .collect();
    let findings: Vec<JsonFinding<'_>> = report
        .findings
        .iter()
        .zip(&texts)
        .map(|(f, [path, excerpt, message])| {
            let (line, column, offset) = match f.location {
                Location::Text { line, column } => (Some(line), Some(column), None),
                Location::Binary { offset } => (None, None, Some(offset)),
            };
            JsonFinding {
                rule: f.rule,
                severity: f.severity,
                path,
                line,
                column,
                offset,
                excerpt,
                message,
                verified: f.verified,
            }
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &findings)?;
    writeln!(out)
}
