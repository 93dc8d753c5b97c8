//! The journal: the requests the fake received, with the answers it gave, in a bounded ring.
//!
//! The ring keeps the newest `capacity` entries ([`DEFAULT_JOURNAL_CAPACITY`] unless set; 0
//! keeps none), so a fake under load does not grow without end. What must stay true about
//! *every* request is kept beside the ring, whatever it has dropped: the count per route, the
//! count of unexpected requests, and, for each watched secret (the fake's own keys), whether any
//! answer carried it. A question only the dropped entries could answer is refused, not answered
//! from the part that is left (see [`Leaks::Unknown`]).

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use serde::Serialize;

/// How many entries a fake's journal holds unless told otherwise (see
/// [`FakeBuilder::journal_capacity`](crate::FakeBuilder::journal_capacity)).
pub const DEFAULT_JOURNAL_CAPACITY: usize = 10_000;

/// How many leaking answers are named per watched secret (all of them are counted).
const LEAKS_NAMED: usize = 16;

/// The key [`Journal::route_counts`] files requests under when no route matched.
const UNMATCHED: &str = "<unmatched>";

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

    fn route_key(&self) -> &str {
        self.route.as_deref().unwrap_or(UNMATCHED)
    }

    /// `METHOD path`, how a failed assertion names a request.
    pub(crate) fn request_line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A secret checked against every answer as it is recorded. `Debug` leaves the secret out.
struct Watched {
    secret: String,
    leaks: u64,
    named: Vec<String>,
}

impl std::fmt::Debug for Watched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watched")
            .field("secret", &"<redacted>")
            .field("leaks", &self.leaks)
            .finish_non_exhaustive()
    }
}

/// What the journal can say about a secret in the fake's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Leaks {
    /// No answer carried it (every answer since the start or the last reset was checked).
    None,
    /// This many answers carried it; the first few are named.
    Found { count: u64, named: Vec<String> },
    /// The secret is not watched and the ring dropped this many entries: they cannot be checked.
    Unknown { dropped: u64 },
}

/// The journal of one fake.
#[derive(Debug)]
pub(crate) struct Journal {
    capacity: usize,
    entries: VecDeque<JournalEntry>,
    dropped: u64,
    counts: BTreeMap<String, usize>,
    unexpected: u64,
    watched: Vec<Watched>,
}

impl Journal {
    /// An empty journal holding at most `capacity` entries, checking every answer for each
    /// non-empty `watched` secret.
    pub fn new<'a>(capacity: usize, watched: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            capacity,
            entries: VecDeque::with_capacity(capacity.min(1024)),
            dropped: 0,
            counts: BTreeMap::new(),
            unexpected: 0,
            watched: watched
                .into_iter()
                .filter(|s| !s.is_empty())
                .map(|secret| Watched {
                    secret: secret.to_owned(),
                    leaks: 0,
                    named: Vec::new(),
                })
                .collect(),
        }
    }

    pub fn record(&mut self, entry: JournalEntry) {
        *self.counts.entry(entry.route_key().to_owned()).or_insert(0) += 1;
        self.unexpected += u64::from(entry.unexpected);
        for watched in &mut self.watched {
            if entry.response_contains(&watched.secret) {
                watched.leaks += 1;
                if watched.named.len() < LEAKS_NAMED {
                    watched.named.push(entry.request_line());
                }
            }
        }
        if self.capacity == 0 {
            self.dropped += 1;
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(entry);
    }

    /// The entries held, oldest first.
    pub fn entries(&self) -> &VecDeque<JournalEntry> {
        &self.entries
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many entries were dropped (or, with capacity 0, never kept).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Requests per route template (`"<unmatched>"` for the rest), dropped ones included.
    pub fn route_counts(&self) -> &BTreeMap<String, usize> {
        &self.counts
    }

    /// Requests to one route template, dropped ones included.
    pub fn count(&self, route: &str) -> usize {
        self.counts.get(route).copied().unwrap_or(0)
    }

    /// How many requests to `route` the ring no longer holds.
    pub fn dropped_to(&self, route: &str) -> usize {
        let held = self
            .entries
            .iter()
            .filter(|e| e.route.as_deref() == Some(route))
            .count();
        self.count(route).saturating_sub(held)
    }

    /// Requests no route matched, dropped ones included.
    pub fn unexpected(&self) -> u64 {
        self.unexpected
    }

    /// Whether any answer carried `secret`.
    pub fn leaks(&self, secret: &str) -> Leaks {
        if secret.is_empty() {
            return Leaks::None;
        }
        if let Some(watched) = self.watched.iter().find(|w| w.secret == secret) {
            return match watched.leaks {
                0 => Leaks::None,
                count => Leaks::Found {
                    count,
                    named: watched.named.clone(),
                },
            };
        }
        let named: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.response_contains(secret))
            .map(JournalEntry::request_line)
            .collect();
        match (named.len(), self.dropped) {
            (0, 0) => Leaks::None,
            (0, dropped) => Leaks::Unknown { dropped },
            (count, _) => Leaks::Found {
                count: count as u64,
                named: named.into_iter().take(LEAKS_NAMED).collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn entry(route: Option<&str>, response_body: &str) -> JournalEntry {
        JournalEntry {
            method: "GET".into(),
            path: "/v3/users".into(),
            query: String::new(),
            route: route.map(str::to_owned),
            headers: vec![("apikey".into(), "SECRET-IN-REQUEST".into())],
            body: String::new(),
            status: Some(200),
            response_headers: vec![("x-debug".into(), "leaked SECRET-H".into())],
            response_body: response_body.into(),
            at: Duration::ZERO,
            unexpected: route.is_none(),
        }
    }

    #[test]
    fn response_contains_looks_at_the_body_and_the_headers_only() {
        let e = entry(Some("GET /users"), r#"{"data": "SECRET-B"}"#);
        assert!(e.response_contains("SECRET-B"));
        assert!(e.response_contains("SECRET-H"));
        assert!(
            !e.response_contains("SECRET-IN-REQUEST"),
            "requests carry the key by design"
        );
        assert!(!e.response_contains(""));
    }

    #[test]
    fn the_ring_keeps_the_newest_and_counts_the_rest() {
        let mut j = Journal::new(2, ["KEY"]);
        for body in ["b1", "KEY", "c1"] {
            j.record(entry(Some("GET /users"), body));
        }
        j.record(entry(None, "d1"));
        let held: Vec<&str> = j
            .entries()
            .iter()
            .map(|e| e.response_body.as_str())
            .collect();
        assert_eq!(held, ["c1", "d1"]);
        assert_eq!(j.dropped(), 2);
        assert_eq!(j.count("GET /users"), 3);
        assert_eq!(j.dropped_to("GET /users"), 2);
        assert_eq!(j.route_counts()[UNMATCHED], 1);
        assert_eq!(j.unexpected(), 1);
        assert_eq!(
            j.leaks("KEY"),
            Leaks::Found {
                count: 1,
                named: vec!["GET /v3/users".into()]
            },
            "a watched secret is found after its entry was dropped"
        );
        assert_eq!(j.leaks("b1"), Leaks::Unknown { dropped: 2 });
        assert!(matches!(j.leaks("d1"), Leaks::Found { count: 1, .. }));
        assert_eq!(j.leaks(""), Leaks::None);
    }

    #[test]
    fn capacity_zero_records_nothing_but_still_counts_and_watches() {
        let mut j = Journal::new(0, ["KEY", ""]);
        j.record(entry(Some("POST /users"), "has KEY"));
        assert!(j.entries().is_empty());
        assert_eq!((j.dropped(), j.count("POST /users")), (1, 1));
        assert!(matches!(j.leaks("KEY"), Leaks::Found { count: 1, .. }));
        assert_eq!(j.leaks("other"), Leaks::Unknown { dropped: 1 });
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever the capacity and the traffic: the ring holds exactly the newest entries, the
        /// counts cover every request, and a watched secret is reported exactly when some answer
        /// carried it — dropped or not. An unwatched one is never reported clean unless every
        /// answer could be checked.
        #[test]
        fn counts_and_leaks_cover_every_request(
            capacity in 0usize..6,
            traffic in prop::collection::vec((any::<bool>(), any::<bool>(), any::<bool>()), 0..24),
        ) {
            let mut j = Journal::new(capacity, ["K3Y"]);
            for (i, (matched, leaks_key, leaks_other)) in traffic.iter().enumerate() {
                let body = format!(
                    "{i}:{}{}",
                    if *leaks_key { "K3Y" } else { "" },
                    if *leaks_other { "0THER" } else { "" },
                );
                j.record(entry(matched.then_some("GET /users"), &body));
            }
            let total = traffic.len();
            let kept = total.min(capacity);
            let expected: Vec<String> = j.entries().iter().map(|e| e.response_body.clone()).collect();
            prop_assert_eq!(expected.len(), kept);
            for (offset, body) in expected.iter().enumerate() {
                let index = total - kept + offset;
                prop_assert!(body.starts_with(&format!("{index}:")), "{} is not entry {}", body, index);
            }
            prop_assert_eq!(j.dropped(), (total - kept) as u64);
            let matched = traffic.iter().filter(|t| t.0).count();
            prop_assert_eq!(j.count("GET /users"), matched);
            prop_assert_eq!(j.unexpected(), (total - matched) as u64);

            let key_leaks = traffic.iter().filter(|t| t.1).count() as u64;
            match j.leaks("K3Y") {
                Leaks::None => prop_assert_eq!(key_leaks, 0),
                Leaks::Found { count, .. } => prop_assert_eq!(count, key_leaks),
                Leaks::Unknown { .. } => prop_assert!(false, "a watched secret is always known"),
            }
            let other_ever = traffic.iter().any(|t| t.2);
            match j.leaks("0THER") {
                Leaks::None => prop_assert!(!other_ever && j.dropped() == 0),
                Leaks::Found { .. } => prop_assert!(other_ever),
                Leaks::Unknown { dropped } => prop_assert!(dropped > 0),
            }
        }
    }
}
