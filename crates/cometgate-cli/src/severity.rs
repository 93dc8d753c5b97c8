//! How bad a finding is, and the order `--fail-on` compares in.

use std::fmt;

use serde::Serialize;

/// The severity of a finding, from `low` to `critical`; `--fail-on` fails the run on a finding
/// at or above a chosen one.
///
/// ```
/// use cometgate_cli::Severity;
///
/// assert!(Severity::Critical > Severity::High);
/// assert_eq!(Severity::Medium.as_str(), "medium");
/// assert_eq!(Severity::High.sarif_level(), "error");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look: e.g. an Auth Key in a test, mock or dev-only file.
    Low,
    /// A weakness, not a leak: e.g. the token endpoint over plain `http://`.
    Medium,
    /// Lets anyone who unpacks the app act as any user: an Auth Key, dev-mode login, a token.
    High,
    /// Hands over the whole CometChat app: the REST API key, or a key in a public variable.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 4] = [Self::Low, Self::Medium, Self::High, Self::Critical];

    /// The name used on the command line and in JSON: `low`, `medium`, `high`, `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// The SARIF `level` GitHub code scanning shows: `error` for high and critical, `warning`
    /// for medium, `note` for low.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Self::Critical | Self::High => "error",
            Self::Medium => "warning",
            Self::Low => "note",
        }
    }

    /// The SARIF `security-severity` score (0.1 to 10) GitHub maps back to this severity:
    /// critical is 9.0 and above, high 7.0 to 8.9, medium 4.0 to 6.9, low below 4.0.
    pub fn security_score(self) -> &'static str {
        match self {
            Self::Critical => "9.5",
            Self::High => "8.0",
            Self::Medium => "5.5",
            Self::Low => "2.0",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
