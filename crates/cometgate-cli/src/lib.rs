//! # cometgate-cli
//!
//! The `cometgate` command. `cometgate audit <PATH>...` finds what must not ship in a
//! CometChat client: REST API keys and Auth Keys in source, `.env`, `app.json`/`app.config.*`,
//! `eas.json`, JS bundles (minified) and Hermes bytecode bundles, inside `.apk`, `.aab`, `.ipa`
//! and `.zip` archives (nested too); client-exposed variables naming a CometChat key;
//! dev-mode `login({ uid })`; literal auth tokens (they never expire); a token endpoint over
//! plain `http://`; and any key given with `--key`, as it is or base64-encoded.
//!
//! ```text
//! cometgate audit .                                  # a human report; exit 1 on high or critical
//! cometgate audit --format sarif app.apk > audit.sarif
//! cometgate audit --key-file old-keys.txt --fail-on low build/
//! cometgate audit --verify src/                      # ask CometChat whether found keys work
//! ```
//!
//! Rules have stable ids ([`Rule::id`]): `rest-api-key`, `auth-key`, `uid-login`,
//! `public-env-secret`, `hardcoded-auth-token`, `insecure-token-endpoint`, `known-key`. No
//! output format ever holds a secret in full: secrets are masked as CometChat masks keys (first
//! and last five characters, see [`mask()`]), and every printed string passes through a
//! [`Redactor`](mask::Redactor) of every secret the audit knows.
//!
//! As a library:
//!
//! ```
//! use cometgate_cli::scan::{AuditOptions, audit};
//! use cometgate_cli::report::Format;
//! use cometgate_cli::Severity;
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(
//!     dir.path().join("cometchat.ts"),
//!     "const REST_API_KEY = \"0a1b2c3d4e5f60718293a4b5c6d7e8f901234567\";\n",
//! )?;
//! let report = audit(&AuditOptions::new([dir.path()]))?;
//! assert_eq!(report.exit_code(Severity::High), 1);
//! let mut json = Vec::new();
//! report.render(Format::Json, &mut json)?;
//! let json = String::from_utf8(json)?;
//! assert!(json.contains("\"rule\": \"rest-api-key\""));
//! assert!(!json.contains("0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
mod detect;
mod finding;
pub mod mask;
pub mod report;
mod rule;
pub mod scan;
mod severity;
pub mod verify;

pub use detect::{CONTEXT_WINDOW, cue_words};
pub use finding::{AppHint, Finding, Location, Problem, ProblemLevel, Verified};
pub use mask::mask;
pub use report::{Format, Report};
pub use rule::Rule;
pub use severity::Severity;
