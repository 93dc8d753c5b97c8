//! The files to scan under the paths given: directories walked without following any symlink
//! (a link's target inside the tree is scanned where it lives; outside the tree, never), `.git`
//! and `node_modules` skipped unless asked, only regular files read.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::AuditError;
use super::paths::{is_media, is_test_or_dev_path, shown};
use crate::finding::{Problem, ProblemLevel};

/// Directories skipped unless `--include-deps`.
const SKIPPED_DIRS: [&str; 2] = [".git", "node_modules"];

/// A file to scan.
pub(crate) struct Item {
    pub path: PathBuf,
    pub shown: String,
    /// Below the scan root, for telling test and dev-only files.
    pub dev_only: bool,
}

/// The files under `roots`, and the problems met listing them. A root that does not exist or
/// is neither a file nor a directory is an error of the whole run.
pub(crate) fn items(
    roots: &[PathBuf],
    include_deps: bool,
    problems: &mut Vec<Problem>,
) -> Result<Vec<Item>, AuditError> {
    let mut items = Vec::new();
    for root in roots {
        let meta = std::fs::metadata(root).map_err(|source| AuditError::Path {
            path: shown(root),
            source,
        })?;
        if meta.is_file() {
            let name = root.file_name().map(|n| n.to_string_lossy().into_owned());
            items.push(Item {
                path: root.clone(),
                shown: shown(root),
                dev_only: name.as_deref().is_some_and(is_test_or_dev_path),
            });
        } else if meta.is_dir() {
            walk(root, include_deps, &mut items, problems);
        } else {
            return Err(AuditError::NotFileOrDirectory { path: shown(root) });
        }
    }
    Ok(items)
}

fn walk(root: &Path, include_deps: bool, items: &mut Vec<Item>, problems: &mut Vec<Problem>) {
    let skipped = |entry: &walkdir::DirEntry| {
        !include_deps
            && entry.depth() > 0
            && entry.file_type().is_dir()
            && SKIPPED_DIRS.iter().any(|d| entry.file_name() == *d)
    };
    let walker = WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| !skipped(e));
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().map_or_else(|| shown(root), shown);
                problems.push(Problem {
                    level: ProblemLevel::Error,
                    path,
                    message: format!("cannot be listed: {}", io_reason(&e)),
                });
                continue;
            }
        };
        if entry.file_type().is_symlink() {
            tracing::debug!(path = %shown(entry.path()), "symlink not followed");
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if !entry.file_type().is_file() || is_media(&name) {
            continue;
        }
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        items.push(Item {
            path: entry.path().to_path_buf(),
            shown: shown(entry.path()),
            dev_only: is_test_or_dev_path(&relative.to_string_lossy()),
        });
    }
}

fn io_reason(e: &walkdir::Error) -> String {
    e.io_error()
        .map_or_else(|| e.to_string(), |io| io.to_string())
}
