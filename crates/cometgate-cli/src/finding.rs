//! What the audit reports: findings and the problems it met on the way.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::{Rule, Severity};

/// Where in a file (or archive member) a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Location {
    /// In text: 1-based line, and 1-based column counted in characters (Unicode scalar values).
    Text {
        /// The line, from 1.
        line: u64,
        /// The column, from 1, in characters.
        column: u64,
    },
    /// In binary content (a Hermes bytecode bundle, a native library): the byte offset from the
    /// start of the file or member.
    Binary {
        /// The byte offset, from 0.
        offset: u64,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text { line, column } => write!(f, "{line}:{column}"),
            Self::Binary { offset } => write!(f, "offset {offset}"),
        }
    }
}

/// What `--verify` learnt from CometChat about a found key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verified {
    /// The key works and has full access: it is a REST API key.
    FullAccess,
    /// The key works but only for users and auth tokens (`AUTH_ERR_NO_ACCESS` on listing
    /// users): it is an Auth Key.
    AuthOnly,
    /// CometChat refused the key (revoked, or not a key of this app).
    Invalid,
    /// No answer that tells: network error, timeout, `5xx` or `429`.
    Unreachable,
}

impl Verified {
    /// The JSON value: `full-access`, `auth-only`, `invalid` or `unreachable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FullAccess => "full-access",
            Self::AuthOnly => "auth-only",
            Self::Invalid => "invalid",
            Self::Unreachable => "unreachable",
        }
    }
}

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a found key could be checked: the app id and region found near it, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppHint {
    /// A CometChat app id found near the key.
    pub app_id: Option<String>,
    /// A CometChat region (`us`, `eu`, `in`) found near the key.
    pub region: Option<String>,
}

/// One finding. The secret it is about is kept (for `--verify` and for masking every output)
/// but never printed: [`excerpt`](Finding::excerpt) and [`message`](Finding::message) hold
/// it masked, and `Debug` leaves it out.
#[derive(Clone)]
pub struct Finding {
    /// The rule that matched.
    pub rule: Rule,
    /// The severity (the rule's, or lower for an Auth Key under a test or dev-only path).
    pub severity: Severity,
    /// The file, or an archive member as `app.apk!/assets/index.android.bundle`.
    pub path: String,
    /// Line and column in text, byte offset in binary content.
    pub location: Location,
    /// The matched text with any secret in it masked.
    pub excerpt: String,
    /// A sentence saying what was found and how it was recognised.
    pub message: String,
    /// What `--verify` learnt, for REST API keys and Auth Keys.
    pub verified: Option<Verified>,
    pub(crate) secret: Option<SecretString>,
    pub(crate) hint: AppHint,
}

impl Finding {
    /// The secret this finding is about, if it is about one (for checking it with CometChat).
    pub fn secret(&self) -> Option<&SecretString> {
        self.secret.as_ref()
    }

    /// The app id and region found near the secret.
    pub fn app_hint(&self) -> &AppHint {
        &self.hint
    }

    /// The path with the location, as a report shows it: `src/api.ts:4:18`, or
    /// `app.apk!/assets/index.android.bundle @ offset 10234` for binary content.
    pub fn place(&self) -> String {
        match self.location {
            Location::Text { .. } => format!("{}:{}", self.path, self.location),
            Location::Binary { .. } => format!("{} @ {}", self.path, self.location),
        }
    }

    pub(crate) fn secret_str(&self) -> Option<&str> {
        self.secret.as_ref().map(|s| s.expose_secret())
    }
}

impl fmt::Debug for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finding")
            .field("rule", &self.rule)
            .field("severity", &self.severity)
            .field("path", &self.path)
            .field("location", &self.location)
            .field("excerpt", &self.excerpt)
            .field("verified", &self.verified)
            .finish_non_exhaustive()
    }
}

/// Whether a problem stopped part of the scan ([`Error`](ProblemLevel::Error): the run cannot
/// say the input is clean) or is only worth knowing ([`Warning`](ProblemLevel::Warning)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProblemLevel {
    /// Something was not scanned that should have been: an unreadable file, a corrupt archive,
    /// an archive that expands past its bound (a zip bomb). The exit code is 2 unless a finding
    /// already fails the run.
    Error,
    /// Something was skipped on purpose or scanned another way (a huge plain file, a Hermes
    /// bundle whose string table could not be read and was scanned as raw bytes).
    Warning,
}

/// Something the audit met that is not a finding: reported on stderr (and in SARIF as a tool
/// notification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Error or warning.
    pub level: ProblemLevel,
    /// The file or archive member.
    pub path: String,
    /// What happened.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            ProblemLevel::Error => "error",
            ProblemLevel::Warning => "warning",
        };
        write!(f, "{level}: {}: {}", self.path, self.message)
    }
}
