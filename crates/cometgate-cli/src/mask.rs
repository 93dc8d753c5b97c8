//! Masking secrets the way CometChat masks keys, and a last line of defence that masks every
//! known secret in text before it is printed.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, MatchKind};

/// Below this length a secret is starred whole: keeping ten characters of a short secret would
/// show most of it.
const SHORTEST_PARTLY_SHOWN: usize = 20;

/// Masks `secret` as CometChat masks keys in its error messages: the first and last five
/// characters stay, every other character becomes `*` (the length is kept). A secret shorter
/// than 20 characters is starred whole.
///
/// ```
/// use cometgate_cli::mask;
///
/// assert_eq!(
///     mask("0123456789abcdef0123456789abcdef01234567"),
///     "01234******************************34567"
/// );
/// assert_eq!(mask("short-secret"), "************");
/// ```
pub fn mask(secret: &str) -> String {
    let n = secret.chars().count();
    if n < SHORTEST_PARTLY_SHOWN {
        return "*".repeat(n);
    }
    secret
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 5 || i >= n - 5 { c } else { '*' })
        .collect()
}

/// Masks, in any text, every run of 20 or more key-like characters (`[A-Za-z0-9_-]`): used
/// for excerpts of code (a login call, a URL) that might hold a secret of a shape no rule
/// knows.
///
/// ```
/// use cometgate_cli::mask::mask_long_runs;
///
/// assert_eq!(
///     mask_long_runs(r#"login("alice", "0123456789abcdef0123456789abcdef01234567")"#),
///     r#"login("alice", "01234******************************34567")"#
/// );
/// ```
pub fn mask_long_runs(text: &str) -> String {
    let keyish = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= SHORTEST_PARTLY_SHOWN {
            out.push_str(&mask(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if keyish(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Replaces every occurrence of any of a set of secrets with its [`mask`]: applied to every
/// piece of text a report prints (paths, excerpts, messages, warnings), so that no output
/// format can ever hold a secret in full, whatever the text around it.
///
/// ```
/// use cometgate_cli::mask::Redactor;
///
/// let redactor = Redactor::new(["a-very-secret-key-of-32-characters"]);
/// assert_eq!(
///     redactor.redact("leaked/a-very-secret-key-of-32-characters.txt"),
///     "leaked/a-ver************************cters.txt"
/// );
/// assert_eq!(redactor.redact("nothing here"), "nothing here");
/// ```
pub struct Redactor {
    searcher: Option<AhoCorasick>,
    masks: Vec<String>,
}

impl Redactor {
    /// A redactor for `secrets` (empty ones are ignored).
    pub fn new<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let mut needles: Vec<String> = secrets
            .into_iter()
            .map(|s| s.as_ref().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        needles.sort();
        needles.dedup();
        let masks = needles.iter().map(|s| mask(s)).collect();
        // Leftmost-longest: where one secret contains another, the longer one is masked whole.
        let searcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&needles)
            .ok()
            .filter(|_| !needles.is_empty());
        Self { searcher, masks }
    }

    /// `text` with every secret masked.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let Some(searcher) = &self.searcher else {
            return Cow::Borrowed(text);
        };
        if !searcher.is_match(text) {
            return Cow::Borrowed(text);
        }
        let masks: Vec<&str> = self.masks.iter().map(String::as_str).collect();
        Cow::Owned(searcher.replace_all(text, &masks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_five_and_five_and_the_length() {
        let key = format!("11111{}11111", "x".repeat(22));
        assert_eq!(mask(&key), format!("11111{}11111", "*".repeat(22)));
        assert_eq!(mask(""), "");
        assert_eq!(mask("abc"), "***");
        assert_eq!(mask(&"k".repeat(19)), "*".repeat(19));
        assert_eq!(
            mask(&"k".repeat(20)),
            format!("kkkkk{}kkkkk", "*".repeat(10))
        );
    }

    #[test]
    fn masks_multibyte_text_by_character() {
        let secret = "ééééé-0123456789-ààààà";
        let masked = mask(secret);
        assert_eq!(masked.chars().count(), secret.chars().count());
        assert!(masked.starts_with("ééééé") && masked.ends_with("ààààà"));
    }

    #[test]
    fn redacts_the_longer_of_overlapping_secrets() {
        let short = "0123456789abcdefghij";
        let long = "0123456789abcdefghij-and-more";
        let r = Redactor::new([short, long]);
        let out = r.redact(&format!("{long} {short}")).into_owned();
        assert!(!out.contains(short), "{out}");
        assert_eq!(out, format!("{} {}", mask(long), mask(short)));
    }

    #[test]
    fn an_empty_redactor_changes_nothing() {
        let r = Redactor::new(Vec::<String>::new());
        assert!(matches!(r.redact("abc"), Cow::Borrowed("abc")));
    }
}
