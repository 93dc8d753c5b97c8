//! The report for people.
//!
//! ```text
//! critical  rest-api-key  src/api.ts:4:18
//!           CometChat REST API key in client code or a build, identified by `apiKey` nearby
//!           0a1b2******************************34567  (verified: full-access)
//!
//! high      auth-key  app.apk!/assets/index.android.bundle @ offset 10234
//!           CometChat Auth Key in a client configuration or build, in a Hermes bundle that names …
//!           c8f4b******************************1d5e4
//!
//! 2 findings (1 critical, 1 high) in 12 files, 88.1 MiB
//! ```

use std::io::{self, Write};

use super::Report;
use crate::Severity;
use crate::mask::Redactor;

/// Writes `report` for people.
pub fn render(report: &Report, redactor: &Redactor, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        writeln!(
            out,
            "{:<9} {}  {}",
            f.severity.as_str(),
            f.rule.id(),
            redactor.redact(&f.place())
        )?;
        writeln!(out, "          {}", redactor.redact(&f.message))?;
        match f.verified {
            Some(v) => writeln!(
                out,
                "          {}  (verified: {v})",
                redactor.redact(&f.excerpt)
            )?,
            None => writeln!(out, "          {}", redactor.redact(&f.excerpt))?,
        }
        writeln!(out)?;
    }
    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|&s| {
            let n = report.findings.iter().filter(|f| f.severity == s).count();
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    let noun = if report.findings.len() == 1 {
        "finding"
    } else {
        "findings"
    };
    let breakdown = if counts.is_empty() {
        String::new()
    } else {
        format!(" ({})", counts.join(", "))
    };
    writeln!(
        out,
        "{} {noun}{breakdown} in {} files, {}",
        report.findings.len(),
        report.files,
        size(report.bytes)
    )
}

fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
