//! What a path says about a file: test, mock or dev-only (an Auth Key there is `low`), media
//! that holds no text worth reading, and how paths are shown.

use std::path::Path;

/// Path components (or dot-separated parts of a file name) that mark test, mock and dev-only
/// files: `__tests__/`, `e2e/`, `App.test.tsx`, `config.dev.ts`, `.env.development`.
const DEV_ONLY_PARTS: &[&str] = &[
    "test",
    "tests",
    "__tests__",
    "__test__",
    "spec",
    "specs",
    "e2e",
    "mock",
    "mocks",
    "__mocks__",
    "fixture",
    "fixtures",
    "__fixtures__",
    "stories",
    "storybook",
    "dev",
    "development",
];

/// Whether `relative` (a path below the scan root, or an archive member name) is a test,
/// mock or dev-only file.
///
/// ```
/// # use cometgate_cli::scan::is_test_or_dev_path;
/// assert!(is_test_or_dev_path("src/__tests__/login.tsx"));
/// assert!(is_test_or_dev_path(".env.development"));
/// assert!(is_test_or_dev_path("app/config.dev.ts"));
/// assert!(!is_test_or_dev_path("src/devices/list.tsx"));
/// assert!(!is_test_or_dev_path(".env"));
/// ```
pub fn is_test_or_dev_path(relative: &str) -> bool {
    relative
        .split(['/', '\\', '!'])
        .flat_map(|component| std::iter::once(component).chain(component.split('.')))
        .any(|part| {
            DEV_ONLY_PARTS
                .iter()
                .any(|marker| part.eq_ignore_ascii_case(marker))
        })
}

/// File types that hold no text a key could be written in: images, audio, video, fonts.
const MEDIA: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "webp", "bmp", "ico", "heic", "avif", "tif", "tiff", "psd", "mp3",
    "m4a", "aac", "wav", "ogg", "flac", "mp4", "m4v", "mov", "avi", "webm", "mkv", "ttf", "otf",
    "woff", "woff2", "eot",
];

/// Whether a file name is an image, audio, video or font file, which the audit skips.
pub(crate) fn is_media(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| MEDIA.iter().any(|m| ext.eq_ignore_ascii_case(m)))
}

/// How a path is shown: as given, without a leading `./`, control characters as `?`.
pub(crate) fn shown(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut rest: &str = &text;
    while let Some(stripped) = rest.strip_prefix("./") {
        rest = stripped;
    }
    rest.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_by_extension() {
        assert!(is_media("assets/logo.PNG"));
        assert!(is_media("fonts/Inter.woff2"));
        assert!(!is_media("index.android.bundle"));
        assert!(!is_media("README"));
    }

    #[test]
    fn shown_paths() {
        assert_eq!(shown(Path::new("./src/a.ts")), "src/a.ts");
        assert_eq!(shown(Path::new("src/\x1b[2Ja.ts")), "src/?[2Ja.ts");
    }
}
