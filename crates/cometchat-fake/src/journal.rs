//! The journal: every request the fake received, with the answer it gave.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// One request and its answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct JournalEntry {
    /// The request method, e.g. `POST`.
    pub method: String,
    /// The path as sent, version prefix included (e.g. `/v3/users/alice/auth_tokens`).
    pub path: String,
    /// The query string, without `?` (empty when there was none).
    pub query: String,
    /// The route template matched, without the version prefix, e.g.
    /// `POST /users/{uid}/auth_tokens`; `None` for requests no route matched.
    pub route: Option<String>,
    /// Request headers, names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    /// The request body (lossy UTF-8).
    pub body: String,
    /// The status answered; `None` when a fault closed the connection or the request hung.
    pub status: Option<u16>,
    /// The response headers answered, names lower-cased (empty when no answer was sent).
    pub response_headers: Vec<(String, String)>,
    /// The response body answered (lossy UTF-8).
    pub response_body: String,
    /// When the request arrived, measured from the fake's start (monotonic).
    #[serde(serialize_with = "as_millis")]
    pub at: Duration,
    /// True when no route matched (strict mode reports these as unexpected).
    pub unexpected: bool,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

impl JournalEntry {
    /// The first value of a request header (name matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether `text` appears anywhere in what the fake answered: body or header values.
    pub fn response_contains(&self, text: &str) -> bool {
        !text.is_empty()
            && (self.response_body.contains(text)
                || self.response_headers.iter().any(|(_, v)| v.contains(text)))
    }
}

/// Per-route request counts, keyed by route template (`"<unmatched>"` for the rest).
pub(crate) fn route_counts(entries: &[JournalEntry]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in entries {
        let key = e.route.clone().unwrap_or_else(|| "<unmatched>".to_owned());
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> JournalEntry {
        JournalEntry {
            method: "GET".into(),
            path: "/v3/users".into(),
            query: String::new(),
            route: Some("GET /users".into()),
            headers: vec![("apikey".into(), "SECRET-IN-REQUEST".into())],
            body: String::new(),
            status: Some(200),
            response_headers: vec![("x-debug".into(), "leaked SECRET-H".into())],
            response_body: r#"{"data": "SECRET-B"}"#.into(),
            at: Duration::ZERO,
            unexpected: false,
        }
    }

    #[test]
    fn response_contains_looks_at_the_body_and_the_headers_only() {
        let e = entry();
        assert!(e.response_contains("SECRET-B"));
        assert!(e.response_contains("SECRET-H"));
        assert!(
            !e.response_contains("SECRET-IN-REQUEST"),
            "requests carry the key by design"
        );
        assert!(!e.response_contains(""));
    }
}
