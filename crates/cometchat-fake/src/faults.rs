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

/// The scripts, keyed by normalised route (`"POST /users/{uid}/auth_tokens"`).
#[derive(Debug, Default)]
pub(crate) struct FaultScripts(HashMap<String, VecDeque<Fault>>);

/// Normalises a route given by a user: upper-case method, one space, path without a version
/// prefix or trailing slash.
/// Every route the fake serves, as `METHOD /template` without the version prefix.
pub const ROUTES: &[&str] = &[
    "GET /users",
    "POST /users",
    "GET /users/{uid}",
    "PUT /users/{uid}",
    "DELETE /users/{uid}",
    "GET /users/{uid}/auth_tokens",
    "POST /users/{uid}/auth_tokens",
    "DELETE /users/{uid}/auth_tokens",
    "GET /users/{uid}/auth_tokens/{authToken}",
    "PUT /users/{uid}/auth_tokens/{authToken}",
    "DELETE /users/{uid}/auth_tokens/{authToken}",
    "GET /me",
    "PUT /me",
    "DELETE /me",
    "POST /user_sessions",
    "GET /settings",
];

/// `route` in the fake's own spelling (method upper case, no version prefix or trailing `/`),
/// if it is one of [`ROUTES`]: a fault scripted for a misspelt route would never fire.
pub(crate) fn normalise_route(route: &str) -> Result<String, String> {
    let normalised = normalise_spelling(route)?;
    if ROUTES.contains(&normalised.as_str()) {
        Ok(normalised)
    } else {
        Err(format!(
            "route {route:?} is not served by the fake (known routes: {})",
            ROUTES.join(", ")
        ))
    }
}

fn normalise_spelling(route: &str) -> Result<String, String> {
    let mut parts = route.split_whitespace();
    let (Some(method), Some(path), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "route {route:?} must be a method and a path template, e.g. \"POST /users/{{uid}}/auth_tokens\""
        ));
    };
    let path = path
        .strip_prefix("/v3.0")
        .or_else(|| path.strip_prefix("/v3"))
        .unwrap_or(path);
    let path = path.trim_end_matches('/');
    if !path.starts_with('/') {
        return Err(format!("route {route:?}: the path must start with /"));
    }
    Ok(format!("{} {}", method.to_ascii_uppercase(), path))
}

impl FaultScripts {
    pub fn push(&mut self, route: String, faults: impl IntoIterator<Item = Fault>) {
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
    fn routes_are_normalised() {
        assert_eq!(
            normalise_route("post /v3/users/{uid}/auth_tokens/").unwrap(),
            "POST /users/{uid}/auth_tokens"
        );
        assert_eq!(normalise_route("GET /v3.0/users").unwrap(), "GET /users");
        assert!(normalise_route("POST").is_err());
        assert!(normalise_route("POST users").is_err());
        // Misspelt templates are refused instead of never firing.
        for typo in [
            "POST /users/{id}/auth_tokens",
            "POST /user/{uid}/auth_tokens",
            "PATCH /users",
        ] {
            let error = normalise_route(typo).unwrap_err();
            assert!(error.contains("not served"), "{error}");
        }
        for route in ROUTES {
            assert_eq!(normalise_route(route).as_deref(), Ok(*route));
        }
    }

    #[test]
    fn consumed_in_order_then_empty() {
        let mut s = FaultScripts::default();
        s.push("GET /users".into(), [Fault::status(503), Fault::Close]);
        assert_eq!(s.next("GET /users"), Some(Fault::status(503)));
        assert_eq!(s.next("GET /users"), Some(Fault::Close));
        assert_eq!(s.next("GET /users"), None);
    }
}
