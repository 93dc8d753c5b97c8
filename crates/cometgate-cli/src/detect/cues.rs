//! Cues: the words that say what a nearby value is (`apiKey`, `AUTH_KEY`, a CometChat host,
//! `login`, `EXPO_PUBLIC_`, `http://`), found in one pass of a multi-pattern searcher.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// What a cue says about the text around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CueKind {
    /// A name that only a CometChat REST API key goes by: `REST_API_KEY`, `restApiKey`.
    RestName,
    /// The `apikey`/`apiKey` header (or an `API_KEY` name): CometChat's, but other services use
    /// the word too, so it counts only where CometChat is mentioned.
    ApiKeyHeader,
    /// `authKey`, `AUTH_KEY`, `setAuthKey(`: an Auth Key.
    AuthName,
    /// A CometChat REST API host, `<app>.api-<region>.cometchat.io` (also built from a template).
    RestHost,
    /// Any other mention of CometChat (`cometchat`, `CometChatUIKit`, a client-API host).
    Marker,
    /// The word `login` (a call is checked by the login rule).
    Login,
    /// A client-exposed variable prefix: `EXPO_PUBLIC_`, `NEXT_PUBLIC_`, `VITE_`, `REACT_APP_`.
    PublicEnv,
    /// `http://`.
    PlainHttp,
}

impl CueKind {
    /// Whether a 40-hex value near this cue is a key.
    pub(crate) fn names_a_key(self) -> bool {
        matches!(
            self,
            Self::RestName | Self::ApiKeyHeader | Self::AuthName | Self::RestHost
        )
    }
}

/// One cue found in a text: its kind and byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cue {
    pub kind: CueKind,
    pub start: usize,
    pub end: usize,
}

const HOST_SUFFIX: &str = ".cometchat.io";

/// The patterns, in the spellings code uses (matched as written: a case-sensitive search of a
/// few dozen literals runs on SIMD, a case-insensitive one byte by byte), leftmost-longest (so
/// `REST_API_KEY` is one `RestName` cue, not an `API_KEY` one inside it).
const PATTERNS: &[(&str, CueKind)] = &[
    ("rest_api_key", CueKind::RestName),
    ("REST_API_KEY", CueKind::RestName),
    ("restApiKey", CueKind::RestName),
    ("RestApiKey", CueKind::RestName),
    ("restapikey", CueKind::RestName),
    ("RESTAPIKEY", CueKind::RestName),
    ("apikey", CueKind::ApiKeyHeader),
    ("apiKey", CueKind::ApiKeyHeader),
    ("ApiKey", CueKind::ApiKeyHeader),
    ("APIKey", CueKind::ApiKeyHeader),
    ("APIKEY", CueKind::ApiKeyHeader),
    ("api_key", CueKind::ApiKeyHeader),
    ("API_KEY", CueKind::ApiKeyHeader),
    ("authkey", CueKind::AuthName),
    ("authKey", CueKind::AuthName),
    ("AuthKey", CueKind::AuthName),
    ("AUTHKEY", CueKind::AuthName),
    ("auth_key", CueKind::AuthName),
    ("AUTH_KEY", CueKind::AuthName),
    (HOST_SUFFIX, CueKind::Marker),
    ("cometchat", CueKind::Marker),
    ("CometChat", CueKind::Marker),
    ("Cometchat", CueKind::Marker),
    ("COMETCHAT", CueKind::Marker),
    ("login", CueKind::Login),
    ("EXPO_PUBLIC_", CueKind::PublicEnv),
    ("NEXT_PUBLIC_", CueKind::PublicEnv),
    ("VITE_", CueKind::PublicEnv),
    ("REACT_APP_", CueKind::PublicEnv),
    ("http://", CueKind::PlainHttp),
    ("HTTP://", CueKind::PlainHttp),
];

/// The words the rules key on, as searched (case-sensitive): key names and headers, CometChat
/// hosts and names, `login`, the client-exposed variable prefixes, `http://`.
///
/// ```
/// let words = cometgate_cli::cue_words();
/// assert!(words.contains(&"REST_API_KEY") && words.contains(&"AuthKey"));
/// ```
pub fn cue_words() -> Vec<&'static str> {
    PATTERNS.iter().map(|(word, _)| *word).collect()
}

/// How far back from `.cometchat.io` the `api-` of a REST host may start: room for a region,
/// or a template (`api-${region}`) or a concatenation (`api-" + region + "`).
const HOST_LOOKBACK: usize = 40;

/// Finds every cue in a text.
pub(crate) struct CueFinder {
    searcher: AhoCorasick,
}

impl CueFinder {
    pub(crate) fn new() -> Self {
        let searcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(PATTERNS.iter().map(|(p, _)| p))
            .unwrap_or_else(|e| unreachable!("the cue patterns are fixed and valid: {e}"));
        Self { searcher }
    }

    /// Every cue in `hay`, in order, not overlapping.
    pub(crate) fn find(&self, hay: &[u8]) -> Vec<Cue> {
        self.searcher
            .find_iter(hay)
            .map(|m| {
                let (pattern, mut kind) = PATTERNS[m.pattern().as_usize()];
                if pattern == HOST_SUFFIX && is_rest_host(hay, m.start()) {
                    kind = CueKind::RestHost;
                }
                Cue {
                    kind,
                    start: m.start(),
                    end: m.end(),
                }
            })
            .collect()
    }
}

/// Whether the `.cometchat.io` at `suffix_start` ends a REST API host: `api-` shortly before
/// it (`apiclient-`, the client API the SDK logs in with, does not count).
fn is_rest_host(hay: &[u8], suffix_start: usize) -> bool {
    let from = suffix_start.saturating_sub(HOST_LOOKBACK);
    hay[from..suffix_start]
        .windows(4)
        .any(|w| w.eq_ignore_ascii_case(b"api-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(CueKind, &str)> {
        CueFinder::new()
            .find(text.as_bytes())
            .into_iter()
            .map(|c| (c.kind, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn longest_names_win() {
        assert_eq!(
            kinds("COMETCHAT_REST_API_KEY=x"),
            vec![
                (CueKind::Marker, "COMETCHAT"),
                (CueKind::RestName, "REST_API_KEY")
            ]
        );
        assert_eq!(
            kinds("restApiKey apiKey setAuthKey("),
            vec![
                (CueKind::RestName, "restApiKey"),
                (CueKind::ApiKeyHeader, "apiKey"),
                (CueKind::AuthName, "AuthKey"),
            ]
        );
    }

    #[test]
    fn rest_hosts_are_told_from_client_hosts() {
        let rest = kinds("https://app1.api-us.cometchat.io/v3");
        assert_eq!(rest, vec![(CueKind::RestHost, ".cometchat.io")]);
        let template = kinds("`https://${APP_ID}.api-${REGION}.cometchat.io/v3/users`");
        assert_eq!(template[0].0, CueKind::RestHost);
        let concatenated = kinds(r#""https://"+e+".api-"+t+".cometchat.io/"#);
        assert_eq!(concatenated[0].0, CueKind::RestHost);
        let client = kinds("https://app1.apiclient-us.cometchat.io/v3.0/me");
        assert_eq!(client, vec![(CueKind::Marker, ".cometchat.io")]);
    }
}
