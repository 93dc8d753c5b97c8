//! Helpers for the integration tests: fixtures are generated here, at run time (no binary
//! fixture is checked in): project trees, zip archives, Hermes bundles, random keys.
// Each test binary uses its own part of these helpers.
#![allow(dead_code)]

pub mod hermes;

use std::ffi::OsStr;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use rand::Rng;
use serde_json::Value;
use zip::write::SimpleFileOptions;

/// A random CometChat-shaped key: 40 lowercase hex digits with letters and digits in it.
pub fn random_key() -> String {
    let mut rng = rand::rng();
    loop {
        let key: String = (0..40)
            .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap())
            .collect();
        if key.bytes().any(|b| b.is_ascii_digit()) && key.bytes().any(|b| b.is_ascii_lowercase()) {
            return key;
        }
    }
}

/// A random CometChat-shaped app id.
pub fn random_app_id() -> String {
    let mut rng = rand::rng();
    (0..16)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap())
        .collect()
}

/// An auth token as CometChat mints them: `<uid>_<created at><30 hex>`.
pub fn random_token(uid: &str) -> String {
    let created = 1_700_000_000 + rand::rng().random_range(0..100_000_000u64);
    format!("{uid}_{created}{}", &random_key()[..30])
}

/// A directory tree in a temporary directory.
pub struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes `contents` at `relative`, creating directories.
    pub fn file(&self, relative: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }
}

/// What a run of the `cometgate` binary printed and returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }

    /// The findings of a `--format json` run as `(rule, severity, path)`.
    pub fn findings(&self) -> Vec<(String, String, String)> {
        self.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (text(&f["rule"]), text(&f["severity"]), text(&f["path"])))
            .collect()
    }

    /// Both streams, for checking that a secret appears in neither.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Runs `cometgate` with `args` in `cwd`.
pub fn cometgate_in<S: AsRef<OsStr>>(cwd: &Path, args: &[S]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_cometgate"))
        .args(args)
        .current_dir(cwd)
        .env_remove("COMETGATE_LOG")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `cometgate audit` with `args` in `tree`.
pub fn audit<S: AsRef<OsStr>>(tree: &Tree, args: &[S]) -> Run {
    let mut all: Vec<&OsStr> = vec![OsStr::new("audit")];
    all.extend(args.iter().map(AsRef::as_ref));
    cometgate_in(tree.path(), &all)
}

/// A zip archive being written in memory.
pub type ZipInMemory = zip::ZipWriter<Cursor<Vec<u8>>>;

/// Adds `entries`, deflated, to `writer` and returns the finished archive.
pub fn finish_zip(mut writer: ZipInMemory, entries: &[(&str, &[u8])]) -> Vec<u8> {
    for (name, data) in entries {
        writer
            .start_file(*name, SimpleFileOptions::default())
            .unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A deflated zip archive of `entries`.
pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    finish_zip(zip::ZipWriter::new(Cursor::new(Vec::new())), entries)
}

/// The 1-based line of the first line of `text` holding `needle`.
pub fn line_of(text: &str, needle: &str) -> u64 {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} is not in the fixture")) as u64
        + 1
}

/// A one-line minified bundle: `parts` joined with `;`, padded with filler code of `gap` bytes
/// between consecutive parts.
pub fn minified(parts: &[&str], gap: usize) -> String {
    let filler: String = "var a=b+c,d=e(f);".chars().cycle().take(gap).collect();
    parts.join(&format!(";{filler}"))
}
