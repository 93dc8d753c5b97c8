//! `insecure-token-endpoint`: the token endpoint configured with `http://` to a host that is
//! not loopback. A URL is the token endpoint when its path says `token`
//! (`/cometchat-token`) or the name it is assigned to does (`COMETCHAT_TOKEN_ENDPOINT=`,
//! `tokenUrl:`, `setTokenEndpoint(`).

use std::net::Ipv4Addr;

use url::{Host, Url};

use super::Hit;
use super::bytes::printable;
use super::cues::{Cue, CueKind};
use crate::Rule;
use crate::mask::mask_long_runs;

/// The longest URL read.
const URL_MAX: usize = 500;
/// How far before a URL its name may start.
const NAME_LOOKBACK: usize = 120;
/// The Android emulator's address for the host machine's loopback: `http://10.0.2.2:…` is a
/// development setup, not a network path.
const ANDROID_EMULATOR_HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);

pub(crate) fn find(hay: &[u8], cues: &[Cue], hits: &mut Vec<Hit>) {
    for cue in cues.iter().filter(|c| c.kind == CueKind::PlainHttp) {
        let mut end = cue.end;
        while end < hay.len() && end - cue.start < URL_MAX && !ends_url(hay[end]) {
            end += 1;
        }
        let text = printable(&hay[cue.start..end]);
        if text.contains("${") || text.contains("{{") {
            continue; // a template: the host is not known here
        }
        let Ok(url) = Url::parse(&text) else { continue };
        if reaches_only_this_machine(&url) {
            continue;
        }
        let path = url.path().to_ascii_lowercase();
        let query = url.query().unwrap_or("").to_ascii_lowercase();
        let named = assigned_name(hay, cue.start);
        let is_token_endpoint = path.contains("token")
            || query.contains("token")
            || named.to_ascii_lowercase().contains("token");
        if !is_token_endpoint {
            continue;
        }
        let host = url.host_str().unwrap_or_default().to_owned();
        hits.push(Hit {
            rule: Rule::InsecureTokenEndpoint,
            start: cue.start,
            excerpt: mask_long_runs(&text),
            message: format!(
                "{}: tokens would cross the network to `{host}` unencrypted",
                Rule::InsecureTokenEndpoint.summary()
            ),
            secret: None,
        });
    }
}

fn ends_url(b: u8) -> bool {
    b.is_ascii_whitespace() || b"\"'`()[]<>,;\\".contains(&b)
}

/// Loopback (as cometgate decides it for its own `http://` rule), or the Android emulator's
/// alias for the host machine.
fn reaches_only_this_machine(url: &Url) -> bool {
    cometgate::config::is_loopback(url)
        || matches!(url.host(), Some(Host::Ipv4(ip)) if ip == ANDROID_EMULATOR_HOST || ip.is_unspecified())
        || matches!(url.host(), Some(Host::Domain(d)) if d.to_ascii_lowercase().ends_with(".localhost"))
}

/// The name a URL at `url_start` is assigned or passed to on its line: `NAME=`, `name: "`,
/// `name("`; empty when there is none.
fn assigned_name(hay: &[u8], url_start: usize) -> String {
    let floor = url_start.saturating_sub(NAME_LOOKBACK);
    let mut i = url_start;
    while i > floor && b"\"'` \t".contains(&hay[i - 1]) {
        i -= 1;
    }
    if i == floor || !b"=:(".contains(&hay[i - 1]) {
        return String::new();
    }
    i -= 1;
    while i > floor && b"\"' \t".contains(&hay[i - 1]) {
        i -= 1;
    }
    let end = i;
    while i > floor && (hay[i - 1].is_ascii_alphanumeric() || b"_.$-".contains(&hay[i - 1])) {
        i -= 1;
    }
    printable(&hay[i..end])
}

#[cfg(test)]
mod tests {
    use super::super::cues::CueFinder;
    use super::*;

    fn found(text: &str) -> Vec<String> {
        let cues = CueFinder::new().find(text.as_bytes());
        let mut hits = Vec::new();
        find(text.as_bytes(), &cues, &mut hits);
        hits.into_iter().map(|h| h.excerpt).collect()
    }

    #[test]
    fn plain_http_token_endpoints_are_found() {
        assert_eq!(
            found(r#"fetch("http://api.myapp.example/cometchat-token", opts)"#),
            vec!["http://api.myapp.example/cometchat-token"]
        );
        assert_eq!(
            found("COMETCHAT_TOKEN_ENDPOINT=http://192.168.1.20:3000/chat/auth\n"),
            vec!["http://192.168.1.20:3000/chat/auth"]
        );
        assert_eq!(
            found(r#"{ tokenUrl: 'http://chat.example.com' }"#),
            vec!["http://chat.example.com"]
        );
    }

    #[test]
    fn loopback_https_and_other_urls_are_not() {
        for text in [
            r#"fetch("https://api.myapp.example/cometchat-token")"#,
            r#"fetch("http://127.0.0.1:3000/cometchat-token")"#,
            r#"fetch("http://localhost:3000/cometchat-token")"#,
            r#"fetch("http://app.localhost/cometchat-token")"#,
            r#"fetch("http://10.0.2.2:3000/cometchat-token")"#,
            r#"fetch("http://[::1]:3000/cometchat-token")"#,
            r#"xmlns="http://www.w3.org/2000/svg""#,
            r#"fetch(`http://${HOST}/cometchat-token`)"#,
            "API_BASE=http://api.example.com/v1",
        ] {
            assert!(found(text).is_empty(), "{text}");
        }
    }
}
