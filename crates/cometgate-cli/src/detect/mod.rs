//! The rules, applied to one piece of content (a file, an archive member, the strings of a
//! Hermes bundle). Everything here works on bytes and byte offsets; where the content came
//! from and how offsets become lines is the scanner's business.

pub(crate) mod bytes;
mod cues;
mod endpoint;
mod env;
mod hints;
mod keys;
mod known;
mod login;
mod tokens;

use crate::Rule;
use crate::finding::AppHint;

/// How far apart a key and the words that identify it may be, in bytes: in a minified bundle
/// they can sit 2,000 characters apart on one line.
pub const CONTEXT_WINDOW: usize = 2_000;

/// A rule's match in one piece of content.
pub(crate) struct Hit {
    pub rule: Rule,
    /// Byte offset in the content scanned.
    pub start: usize,
    /// The secret matched, if the rule is about one (never printed as it is).
    pub secret: Option<String>,
    /// What to show: the match with any secret masked.
    pub excerpt: String,
    pub message: String,
}

pub use cues::cue_words;
pub(crate) use keys::Context;

/// A [`Hit`] with the app id and region near it (for `--verify`).
pub(crate) struct Detected {
    pub hit: Hit,
    pub hint: AppHint,
}

/// All rules, compiled once and shared by the scanning threads.
pub(crate) struct Detector {
    cues: cues::CueFinder,
    tokens: tokens::TokenFinder,
    known: Option<known::KnownKeys>,
    hints: Option<hints::HintFinder>,
}

impl Detector {
    /// The rules, with `known_keys` for `known-key`; with `with_hints`, key findings carry the
    /// app id and region found near them.
    pub(crate) fn new(known_keys: &[&str], with_hints: bool) -> Self {
        Self {
            cues: cues::CueFinder::new(),
            tokens: tokens::TokenFinder::new(),
            known: known::KnownKeys::new(known_keys),
            hints: with_hints.then(hints::HintFinder::new),
        }
    }

    /// Every base64 form of the known keys (masked in every output, like the keys).
    pub(crate) fn encoded_forms(known_keys: &[&str]) -> Vec<String> {
        known::KnownKeys::all_forms(known_keys)
    }

    /// Applies every rule to `hay`, reading key context as `context` says.
    /// `path_mentions_cometchat` counts as CometChat being named in the content (e.g.
    /// `src/cometchat/config.ts`).
    pub(crate) fn scan(
        &self,
        hay: &[u8],
        path_mentions_cometchat: bool,
        context: Context,
    ) -> Vec<Detected> {
        let cues = self.cues.find(hay);
        let mentions_cometchat = path_mentions_cometchat
            || cues
                .iter()
                .any(|c| matches!(c.kind, cues::CueKind::Marker | cues::CueKind::RestHost));
        let mut hits = Vec::new();
        keys::find(hay, &cues, mentions_cometchat, context, &mut hits);
        self.tokens.find(hay, &mut hits);
        login::find(hay, &cues, &mut hits);
        env::find(hay, &cues, &mut hits);
        endpoint::find(hay, &cues, &mut hits);
        if let Some(known) = &self.known {
            known.find(hay, &mut hits);
        }
        let wants_hint = |hit: &Hit| matches!(hit.rule, Rule::RestApiKey | Rule::AuthKey);
        let hints = match &self.hints {
            Some(finder) if hits.iter().any(wants_hint) => Some(finder.index(hay)),
            _ => None,
        };
        hits.into_iter()
            .map(|hit| {
                let hint = match &hints {
                    Some(h) if wants_hint(&hit) => h.near(hit.start),
                    _ => AppHint::default(),
                };
                Detected { hit, hint }
            })
            .collect()
    }
}
