//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning reads it. Each rule is in
//! `tool.driver.rules` (id, descriptions, help, default level, `security-severity`); each
//! finding is a result with `ruleId`, `level`, `message` and one physical location: `region`
//! with `startLine`/`startColumn` (columns in Unicode code points, `columnKind`) for text, or
//! `byteOffset` for binary content. An archive member's URI is `app.apk!/member`. Problems
//! (unreadable files, zip bombs) are tool execution notifications.

use std::io::{self, Write};

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Value, json};

use super::Report;
use crate::Rule;
use crate::finding::{Location, ProblemLevel};
use crate::mask::Redactor;

/// The schema GitHub and SARIF tools validate against.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// What a relative URI reference may not hold as it is.
const URI_ESCAPED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Writes `report` as a SARIF 2.1.0 log with one run.
pub fn render(report: &Report, redactor: &Redactor, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &log(report, redactor))?;
    writeln!(out)
}

fn log(report: &Report, redactor: &Redactor) -> Value {
    let rules: Vec<Value> = Rule::ALL.iter().map(|&r| rule(r)).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let region = match f.location {
                Location::Text { line, column } => {
                    json!({"startLine": line, "startColumn": column})
                }
                Location::Binary { offset } => json!({"byteOffset": offset}),
            };
            let message = format!(
                "{} ({})",
                redactor.redact(&f.message),
                redactor.redact(&f.excerpt)
            );
            let mut result = json!({
                "ruleId": f.rule.id(),
                "ruleIndex": Rule::ALL.iter().position(|&r| r == f.rule),
                "level": f.severity.sarif_level(),
                "message": {"text": message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&redactor.redact(&f.path))},
                        "region": region,
                    }
                }],
                "properties": {"severity": f.severity.as_str()},
            });
            if let Some(v) = f.verified {
                result["properties"]["verified"] = json!(v.as_str());
            }
            result
        })
        .collect();
    let notifications: Vec<Value> = report
        .problems
        .iter()
        .map(|p| {
            json!({
                "level": match p.level {
                    ProblemLevel::Error => "error",
                    ProblemLevel::Warning => "warning",
                },
                "message": {"text": redactor.redact(&format!("{}: {}", p.path, p.message))},
            })
        })
        .collect();
    let successful = !report
        .problems
        .iter()
        .any(|p| p.level == ProblemLevel::Error);
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cometgate-audit",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/cometgate",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "invocations": [{
                "executionSuccessful": successful,
                "toolExecutionNotifications": notifications,
            }],
        }],
    })
}

fn rule(r: Rule) -> Value {
    let severity = r.severity();
    json!({
        "id": r.id(),
        "name": r.id(),
        "shortDescription": {"text": r.summary()},
        "fullDescription": {"text": r.help()},
        "help": {"text": r.help()},
        "defaultConfiguration": {"level": severity.sarif_level()},
        "properties": {
            "security-severity": severity.security_score(),
            "tags": ["security", "secrets", "cometchat"],
        },
    })
}

/// A path as a SARIF URI: relative paths as relative references (what GitHub matches to the
/// repository), absolute ones as `file://` URIs.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let encoded = utf8_percent_encode(&path, URI_ESCAPED).to_string();
    if path.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_escaped_references() {
        assert_eq!(uri("src/app config.ts"), "src/app%20config.ts");
        assert_eq!(
            uri("app.apk!/assets/index.android.bundle"),
            "app.apk!/assets/index.android.bundle"
        );
        assert_eq!(uri("/tmp/x#1.js"), "file:///tmp/x%231.js");
    }
}
