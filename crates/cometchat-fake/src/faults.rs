//! Scripted faults: per route, consumed in order, then normal service resumes.

use std::collections::{HashMap, VecDeque};

use serde::Deserialize;

/// One scripted misbehaviour for one request.
///
/// Over HTTP (`POST /__admin/faults`) each is one JSON object: `{"status": 503}`,
/// `{"status": 429, "retry_after": 7}`, `{"delay_ms": 1500}`, `{"hang": true}`,
/// `{"close": true}`, `{"malformed": true}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and a CometChat-shaped error (`ERR_TOO_MANY_REQUESTS` for 429,
    /// `ERR_EXCEPTION` otherwise), with `Retry-After` when given.
    Status {
        /// The HTTP status.
        status: u16,
        /// Seconds for a `Retry-After` header.
        retry_after: Option<u64>,
    },
    /// Wait this many milliseconds, then answer normally.
    Delay {
        /// The wait in milliseconds.
        ms: u64,
    },
    /// Never answer (until the client gives up or the fake shuts down).
    Hang,
    /// Close the connection without any response.
    Close,
    /// Answer 200 with a body that is not valid JSON.
    Malformed,
}

impl Fault {
    /// A status fault without `Retry-After`.
    pub fn status(status: u16) -> Self {
        Self::Status {
            status,
            retry_after: None,
        }
    }

    /// A 429 with `Retry-After: seconds`.
    pub fn too_many_requests(retry_after: u64) -> Self {
        Self::Status {
            status: 429,
            retry_after: Some(retry_after),
        }
    }
}

/// The JSON form of a [`Fault`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultSpec {
    status: Option<u16>,
    retry_after: Option<u64>,
    delay_ms: Option<u64>,
    #[serde(default)]
    hang: bool,
    #[serde(default)]
    close: bool,
    #[serde(default)]
    malformed: bool,
}

impl TryFrom<FaultSpec> for Fault {
    type Error = String;

    fn try_from(s: FaultSpec) -> Result<Self, String> {
        let chosen = [
            s.status.is_some(),
            s.delay_ms.is_some(),
            s.hang,
            s.close,
            s.malformed,
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if chosen != 1 {
            return Err(
                "each fault needs exactly one of status, delay_ms, hang, close, malformed"
                    .to_owned(),
            );
        }
        if s.retry_after.is_some() && s.status.is_none() {
            return Err("retry_after goes with status".to_owned());
        }
        Ok(match (s.status, s.delay_ms) {
            (Some(status), _) if (100..=599).contains(&status) => Fault::Status {
                status,
                retry_after: s.retry_after,
            },
            (Some(status), _) => return Err(format!("status {status} is not an HTTP status")),
            (_, Some(ms)) => Fault::Delay { ms },
            _ if s.hang => Fault::Hang,
            _ if s.close => Fault::Close,
            _ => Fault::Malformed,
        })
    }
}

/// The scripts, keyed by route template (`"POST /users/{uid}/auth_tokens"`, one of
/// [`ROUTES`](crate::ROUTES)).
#[derive(Debug, Default)]
pub(crate) struct FaultScripts(HashMap<&'static str, VecDeque<Fault>>);

impl FaultScripts {
    pub fn push(&mut self, route: &'static str, faults: impl IntoIterator<Item = Fault>) {
        self.0.entry(route).or_default().extend(faults);
    }

    pub fn next(&mut self, route: &str) -> Option<Fault> {
        self.0.get_mut(route).and_then(VecDeque::pop_front)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Fault, String> {
        let spec: FaultSpec = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Fault::try_from(spec)
    }

    #[test]
    fn parses_the_documented_shapes() {
        assert_eq!(parse(r#"{"status": 503}"#), Ok(Fault::status(503)));
        assert_eq!(
            parse(r#"{"status": 429, "retry_after": 7}"#),
            Ok(Fault::too_many_requests(7))
        );
        assert_eq!(
            parse(r#"{"delay_ms": 1500}"#),
            Ok(Fault::Delay { ms: 1500 })
        );
        assert_eq!(parse(r#"{"hang": true}"#), Ok(Fault::Hang));
        assert_eq!(parse(r#"{"close": true}"#), Ok(Fault::Close));
        assert_eq!(parse(r#"{"malformed": true}"#), Ok(Fault::Malformed));
        assert!(parse(r#"{}"#).is_err());
        assert!(parse(r#"{"status": 503, "close": true}"#).is_err());
        assert!(parse(r#"{"status": 9999}"#).is_err());
        assert!(parse(r#"{"stauts": 503}"#).is_err());
    }

    #[test]
    fn consumed_in_order_then_empty() {
        let mut s = FaultScripts::default();
        s.push("GET /users", [Fault::status(503), Fault::Close]);
        assert_eq!(s.next("GET /users"), Some(Fault::status(503)));
        assert_eq!(s.next("GET /users"), Some(Fault::Close));
        assert_eq!(s.next("GET /users"), None);
    }
}
