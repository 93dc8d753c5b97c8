//! Every error answer of the token endpoint, as an RFC 9457 problem.
//!
//! A [`Problem`] is framework-neutral: a status (`u16`), header pairs and a JSON body with
//! `Content-Type: application/problem+json`. Each adapter turns it into its own response type.
//!
//! # The problem types
//!
//! This table is the one place where the endpoint's error answers are documented. The `type`
//! URIs are stable: clients may branch on them.
//!
//! | status | `type` (after `https://cometgate.dev/problems/`) | when | extra headers |
//! |---|---|---|---|
//! | 400 | `bad-request` | the adapter could not read the request (aborted or malformed body stream) | |
//! | 401 | `missing-credentials` | the request carries no credentials ([`Rejection::Missing`](crate::Rejection::Missing)) | `WWW-Authenticate: Bearer realm="…"` |
//! | 401 | `invalid-credentials` | credentials were presented but did not verify ([`Rejection::Invalid`](crate::Rejection::Invalid)) | `WWW-Authenticate: Bearer realm="…", error="invalid_token"` |
//! | 403 | `identity-refused` | the identity is valid but may not use chat ([`Rejection::Refused`](crate::Rejection::Refused)) | |
//! | 405 | `method-not-allowed` | any method other than `POST` | `Allow: POST` |
//! | 413 | `body-too-large` | the body is over the adapter's limit | |
//! | 429 | `rate-limited` | this user asked for tokens too often (per-user limit) | `Retry-After: <seconds>` |
//! | 500 | `misconfigured` | the server's configuration cannot serve this request (e.g. no UID mapping rule fits the identity); the log says what to fix | |
//! | 502 | `upstream-failure` | CometChat failed after retries, or refused the request (`4xx`, e.g. a wrong REST API key) | |
//! | 503 | `upstream-rate-limited` | CometChat answered `429` | `Retry-After: <seconds>` |
//! | 503 | `upstream-budget-exhausted` | this server's own budget of CometChat calls is spent for now | `Retry-After: <seconds>` |
//! | 504 | `upstream-timeout` | CometChat did not answer within the deadline | |
//!
//! Every problem also carries `Cache-Control: no-store`. `Retry-After` is always a whole number
//! of seconds, rounded **up**, at least 1.
//!
//! The body has the RFC 9457 members `type`, `title`, `status` and `detail`, plus `requestId`
//! when the adapter supplied one. The `detail` text is fixed by cometgate for each type: it
//! never holds the REST API key, an upstream body, a token or a rejection reason; those go to the
//! server log only.
//!
//! ```
//! use std::time::Duration;
//! use cometgate::vend::{Problem, ProblemType};
//!
//! let p = Problem::rate_limited(Duration::from_millis(4_200)).with_request_id("req-1");
//! assert_eq!(p.status(), 429);
//! assert_eq!(p.problem_type(), ProblemType::RateLimited);
//! assert!(p.headers().contains(&("retry-after", "5".to_owned())));
//!
//! let body: serde_json::Value = serde_json::from_slice(&p.body()).unwrap();
//! assert_eq!(body["type"], "https://cometgate.dev/problems/rate-limited");
//! assert_eq!(body["status"], 429);
//! assert_eq!(body["requestId"], "req-1");
//! ```

use std::fmt;
use std::time::Duration;

/// `Content-Type` of every problem answer (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The realm in `WWW-Authenticate` challenges unless the gate is given another one.
pub const DEFAULT_REALM: &str = "cometgate";

/// The kind of a [`Problem`]: its status, stable `type` URI and title. See the
/// [module documentation](self) for the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemType {
    /// 400: the request could not be read.
    BadRequest,
    /// 401: no credentials.
    MissingCredentials,
    /// 401: credentials that do not verify.
    InvalidCredentials,
    /// 403: a valid identity that may not use chat.
    IdentityRefused,
    /// 405: not `POST`.
    MethodNotAllowed,
    /// 413: the body is over the limit.
    BodyTooLarge,
    /// 429: the per-user rate limit.
    RateLimited,
    /// 500: the server's configuration cannot serve the request.
    Misconfigured,
    /// 502: CometChat failed or refused.
    UpstreamFailure,
    /// 503: CometChat answered `429`.
    UpstreamRateLimited,
    /// 503: this server's budget of CometChat calls is spent.
    UpstreamBudgetExhausted,
    /// 504: CometChat did not answer in time.
    UpstreamTimeout,
}

impl ProblemType {
    /// Every problem type, in the order of the table.
    pub const ALL: [ProblemType; 12] = [
        Self::BadRequest,
        Self::MissingCredentials,
        Self::InvalidCredentials,
        Self::IdentityRefused,
        Self::MethodNotAllowed,
        Self::BodyTooLarge,
        Self::RateLimited,
        Self::Misconfigured,
        Self::UpstreamFailure,
        Self::UpstreamRateLimited,
        Self::UpstreamBudgetExhausted,
        Self::UpstreamTimeout,
    ];

    /// The HTTP status.
    pub const fn status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::MissingCredentials | Self::InvalidCredentials => 401,
            Self::IdentityRefused => 403,
            Self::MethodNotAllowed => 405,
            Self::BodyTooLarge => 413,
            Self::RateLimited => 429,
            Self::Misconfigured => 500,
            Self::UpstreamFailure => 502,
            Self::UpstreamRateLimited | Self::UpstreamBudgetExhausted => 503,
            Self::UpstreamTimeout => 504,
        }
    }

    /// The stable `type` URI.
    pub const fn uri(self) -> &'static str {
        match self {
            Self::BadRequest => "https://cometgate.dev/problems/bad-request",
            Self::MissingCredentials => "https://cometgate.dev/problems/missing-credentials",
            Self::InvalidCredentials => "https://cometgate.dev/problems/invalid-credentials",
            Self::IdentityRefused => "https://cometgate.dev/problems/identity-refused",
            Self::MethodNotAllowed => "https://cometgate.dev/problems/method-not-allowed",
            Self::BodyTooLarge => "https://cometgate.dev/problems/body-too-large",
            Self::RateLimited => "https://cometgate.dev/problems/rate-limited",
            Self::Misconfigured => "https://cometgate.dev/problems/misconfigured",
            Self::UpstreamFailure => "https://cometgate.dev/problems/upstream-failure",
            Self::UpstreamRateLimited => "https://cometgate.dev/problems/upstream-rate-limited",
            Self::UpstreamBudgetExhausted => {
                "https://cometgate.dev/problems/upstream-budget-exhausted"
            }
            Self::UpstreamTimeout => "https://cometgate.dev/problems/upstream-timeout",
        }
    }

    /// A short, stable, human-readable summary.
    pub const fn title(self) -> &'static str {
        match self {
            Self::BadRequest => "Bad request",
            Self::MissingCredentials => "Authentication required",
            Self::InvalidCredentials => "Invalid credentials",
            Self::IdentityRefused => "Chat access refused",
            Self::MethodNotAllowed => "Method not allowed",
            Self::BodyTooLarge => "Request body too large",
            Self::RateLimited => "Too many token requests",
            Self::Misconfigured => "Chat sign-in is misconfigured",
            Self::UpstreamFailure => "Chat service failed",
            Self::UpstreamRateLimited => "Chat service busy",
            Self::UpstreamBudgetExhausted => "Chat service busy",
            Self::UpstreamTimeout => "Chat service timed out",
        }
    }

    /// The short name used in logs (the last segment of the URI, e.g. `rate-limited`).
    pub fn slug(self) -> &'static str {
        let uri = self.uri();
        uri.rsplit('/').next().unwrap_or(uri)
    }

    /// The `detail` every problem of this type carries (without adapter-supplied numbers).
    const fn default_detail(self) -> &'static str {
        match self {
            Self::BadRequest => "The request could not be read.",
            Self::MissingCredentials => "Sign in first, then request a chat token.",
            Self::InvalidCredentials => {
                "The credentials could not be verified; sign in again and retry."
            }
            Self::IdentityRefused => "This account may not use chat.",
            Self::MethodNotAllowed => "Request a chat token with POST.",
            Self::BodyTooLarge => "The request body is too large.",
            Self::RateLimited => "Too many chat token requests; retry after the given delay.",
            Self::Misconfigured => {
                "The server cannot issue chat tokens for this account; the server log says why."
            }
            Self::UpstreamFailure => "The chat service could not issue a token.",
            Self::UpstreamRateLimited | Self::UpstreamBudgetExhausted => {
                "The chat service is busy; retry after the given delay."
            }
            Self::UpstreamTimeout => "The chat service did not answer in time.",
        }
    }
}

impl fmt::Display for ProblemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// An RFC 9457 problem answer. Build one with the constructors (one per [`ProblemType`]);
/// read it with [`status`](Self::status), [`headers`](Self::headers) and [`body`](Self::body).
#[derive(Clone, PartialEq, Eq)]
pub struct Problem {
    kind: ProblemType,
    detail: String,
    realm: Option<String>,
    retry_after: Option<u64>,
    request_id: Option<String>,
}

impl fmt::Debug for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Problem")
            .field("type", &self.kind.slug())
            .field("status", &self.kind.status())
            .field("retry_after", &self.retry_after)
            .field("request_id", &self.request_id)
            .finish()
    }
}

/// Whole seconds to wait, rounded up, at least 1 (a `Retry-After: 0` invites a retry storm).
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait
        .as_secs()
        .saturating_add(u64::from(wait.subsec_nanos() > 0));
    secs.max(1)
}

/// Keeps only characters allowed in an RFC 7230 quoted-string without escapes, so a realm can
/// never break the `WWW-Authenticate` header.
fn sanitize_realm(realm: &str) -> String {
    let clean: String = realm
        .chars()
        .filter(|c| matches!(c, ' ' | '!' | '#'..='[' | ']'..='~'))
        .take(64)
        .collect();
    if clean.is_empty() {
        DEFAULT_REALM.to_owned()
    } else {
        clean
    }
}

impl Problem {
    fn of(kind: ProblemType) -> Self {
        Self {
            kind,
            detail: kind.default_detail().to_owned(),
            realm: None,
            retry_after: None,
            request_id: None,
        }
    }

    fn with_retry(kind: ProblemType, wait: Duration) -> Self {
        Self {
            retry_after: Some(retry_after_secs(wait)),
            ..Self::of(kind)
        }
    }

    /// 400: the request (its body stream) could not be read.
    pub fn bad_request() -> Self {
        Self::of(ProblemType::BadRequest)
    }

    /// 401 with `WWW-Authenticate: Bearer realm="<realm>"` (no `error` parameter, RFC 6750 §3.1).
    pub fn missing_credentials(realm: &str) -> Self {
        Self {
            realm: Some(sanitize_realm(realm)),
            ..Self::of(ProblemType::MissingCredentials)
        }
    }

    /// 401 with `WWW-Authenticate: Bearer realm="<realm>", error="invalid_token"`.
    pub fn invalid_credentials(realm: &str) -> Self {
        Self {
            realm: Some(sanitize_realm(realm)),
            ..Self::of(ProblemType::InvalidCredentials)
        }
    }

    /// 403: the identity may not use chat.
    pub fn identity_refused() -> Self {
        Self::of(ProblemType::IdentityRefused)
    }

    /// The problem for an identity [`Rejection`](crate::Rejection): 401 (missing or invalid)
    /// or 403 (refused). The rejection's reason is **not** copied into the answer.
    pub fn from_rejection(rejection: &crate::Rejection, realm: &str) -> Self {
        match rejection {
            crate::Rejection::Missing => Self::missing_credentials(realm),
            crate::Rejection::Invalid { .. } => Self::invalid_credentials(realm),
            crate::Rejection::Refused { .. } => Self::identity_refused(),
        }
    }

    /// 405 with `Allow: POST`.
    pub fn method_not_allowed() -> Self {
        Self::of(ProblemType::MethodNotAllowed)
    }

    /// 413: the body is over `limit` bytes.
    pub fn body_too_large(limit: u64) -> Self {
        Self {
            detail: format!("The request body is over the limit of {limit} bytes."),
            ..Self::of(ProblemType::BodyTooLarge)
        }
    }

    /// 429 with `Retry-After` (whole seconds, rounded up): the per-user limit.
    pub fn rate_limited(wait: Duration) -> Self {
        Self::with_retry(ProblemType::RateLimited, wait)
    }

    /// 500: the configuration cannot serve this request. Log the reason separately.
    pub fn misconfigured() -> Self {
        Self::of(ProblemType::Misconfigured)
    }

    /// 502: CometChat failed or refused. The client gets a generic message; log the cause.
    pub fn upstream_failure() -> Self {
        Self::of(ProblemType::UpstreamFailure)
    }

    /// 503 with `Retry-After`: CometChat answered `429`.
    pub fn upstream_rate_limited(wait: Duration) -> Self {
        Self::with_retry(ProblemType::UpstreamRateLimited, wait)
    }

    /// 503 with `Retry-After`: this server's own budget of CometChat calls is spent.
    pub fn upstream_budget_exhausted(wait: Duration) -> Self {
        Self::with_retry(ProblemType::UpstreamBudgetExhausted, wait)
    }

    /// 504: CometChat did not answer within the deadline.
    pub fn upstream_timeout() -> Self {
        Self::of(ProblemType::UpstreamTimeout)
    }

    /// Adds the request id to the body (`requestId`), so a user's report can be matched with
    /// the server log.
    #[must_use]
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        let id = request_id.into();
        self.request_id = (!id.is_empty()).then_some(id);
        self
    }

    /// The kind of problem.
    pub fn problem_type(&self) -> ProblemType {
        self.kind
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The `detail` member: a fixed, client-safe sentence.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The `Retry-After` value in seconds, for 429 and 503.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// The request id, if one was attached.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// Every header of the answer (lower-case names), `Content-Type` and `Cache-Control`
    /// included.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("content-type", PROBLEM_JSON.to_owned()),
            ("cache-control", "no-store".to_owned()),
        ];
        match (self.kind, &self.realm) {
            (ProblemType::MissingCredentials, Some(realm)) => {
                headers.push(("www-authenticate", format!("Bearer realm=\"{realm}\"")));
            }
            (ProblemType::InvalidCredentials, Some(realm)) => headers.push((
                "www-authenticate",
                format!("Bearer realm=\"{realm}\", error=\"invalid_token\""),
            )),
            (ProblemType::MethodNotAllowed, _) => headers.push(("allow", "POST".to_owned())),
            _ => {}
        }
        if let Some(secs) = self.retry_after {
            headers.push(("retry-after", secs.to_string()));
        }
        headers
    }

    /// The JSON body.
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "type": self.kind.uri(),
            "title": self.kind.title(),
            "status": self.kind.status(),
            "detail": self.detail,
        });
        if let (Some(id), Some(map)) = (&self.request_id, body.as_object_mut()) {
            map.insert("requestId".to_owned(), id.clone().into());
        }
        body
    }

    /// The serialized body, for `Content-Type: application/problem+json`.
    pub fn body(&self) -> Vec<u8> {
        // A `Value` of strings and integers always serializes.
        serde_json::to_vec(&self.to_json()).unwrap_or_default()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.status(), self.kind.slug())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rejection;

    fn header<'a>(p: &'a [(&'static str, String)], name: &str) -> Vec<&'a str> {
        p.iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn sample(kind: ProblemType) -> Problem {
        let wait = Duration::from_millis(1_500);
        match kind {
            ProblemType::BadRequest => Problem::bad_request(),
            ProblemType::MissingCredentials => Problem::missing_credentials("app"),
            ProblemType::InvalidCredentials => Problem::invalid_credentials("app"),
            ProblemType::IdentityRefused => Problem::identity_refused(),
            ProblemType::MethodNotAllowed => Problem::method_not_allowed(),
            ProblemType::BodyTooLarge => Problem::body_too_large(16_384),
            ProblemType::RateLimited => Problem::rate_limited(wait),
            ProblemType::Misconfigured => Problem::misconfigured(),
            ProblemType::UpstreamFailure => Problem::upstream_failure(),
            ProblemType::UpstreamRateLimited => Problem::upstream_rate_limited(wait),
            ProblemType::UpstreamBudgetExhausted => Problem::upstream_budget_exhausted(wait),
            ProblemType::UpstreamTimeout => Problem::upstream_timeout(),
        }
    }

    #[test]
    fn every_type_renders_its_status_headers_and_body() {
        let expected: [(ProblemType, u16); 12] = [
            (ProblemType::BadRequest, 400),
            (ProblemType::MissingCredentials, 401),
            (ProblemType::InvalidCredentials, 401),
            (ProblemType::IdentityRefused, 403),
            (ProblemType::MethodNotAllowed, 405),
            (ProblemType::BodyTooLarge, 413),
            (ProblemType::RateLimited, 429),
            (ProblemType::Misconfigured, 500),
            (ProblemType::UpstreamFailure, 502),
            (ProblemType::UpstreamRateLimited, 503),
            (ProblemType::UpstreamBudgetExhausted, 503),
            (ProblemType::UpstreamTimeout, 504),
        ];
        assert_eq!(expected.map(|(k, _)| k), ProblemType::ALL);
        for (kind, status) in expected {
            let p = sample(kind).with_request_id("rid-7");
            assert_eq!(p.problem_type(), kind);
            assert_eq!(p.status(), status, "{kind}");
            let headers = p.headers();
            assert_eq!(
                header(&headers, "content-type"),
                ["application/problem+json"]
            );
            assert_eq!(header(&headers, "cache-control"), ["no-store"]);

            let body: serde_json::Value = serde_json::from_slice(&p.body()).unwrap();
            let keys: Vec<&str> = body
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.as_str())
                .collect();
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, ["detail", "requestId", "status", "title", "type"]);
            assert_eq!(body["status"], status);
            assert_eq!(body["type"], kind.uri());
            assert!(kind.uri().ends_with(kind.slug()));
            assert_eq!(body["title"], kind.title());
            assert_eq!(body["requestId"], "rid-7");

            let retry = header(&headers, "retry-after");
            if matches!(status, 429 | 503) {
                assert_eq!(retry, ["2"], "{kind}: 1.5 s rounds up to 2");
            } else {
                assert!(retry.is_empty(), "{kind}");
            }
            let challenge = header(&headers, "www-authenticate");
            match kind {
                ProblemType::MissingCredentials => {
                    assert_eq!(challenge, ["Bearer realm=\"app\""]);
                }
                ProblemType::InvalidCredentials => {
                    assert_eq!(challenge, ["Bearer realm=\"app\", error=\"invalid_token\""]);
                }
                _ => assert!(challenge.is_empty(), "{kind}"),
            }
            let allow = header(&headers, "allow");
            assert_eq!(allow.is_empty(), kind != ProblemType::MethodNotAllowed);
        }
    }

    #[test]
    fn type_uris_are_distinct() {
        let mut uris: Vec<_> = ProblemType::ALL.iter().map(|k| k.uri()).collect();
        uris.sort_unstable();
        uris.dedup();
        assert_eq!(uris.len(), ProblemType::ALL.len());
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_at_least_one() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_nanos(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1_001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(6)), 6);
        assert_eq!(retry_after_secs(Duration::MAX), u64::MAX);
    }

    #[test]
    fn rejections_map_without_their_reasons() {
        let invalid = Problem::from_rejection(&Rejection::invalid("sig mismatch for eyJhbGc"), "r");
        assert_eq!(invalid.problem_type(), ProblemType::InvalidCredentials);
        let refused = Problem::from_rejection(&Rejection::refused("banned user 42"), "r");
        assert_eq!(refused.status(), 403);
        for p in [invalid, refused] {
            let text = String::from_utf8(p.body()).unwrap();
            assert!(!text.contains("eyJ") && !text.contains("banned"), "{text}");
        }
        assert_eq!(
            Problem::from_rejection(&Rejection::Missing, "r").problem_type(),
            ProblemType::MissingCredentials
        );
    }

    #[test]
    fn realm_cannot_break_the_challenge_header() {
        let p = Problem::missing_credentials("my \"app\"\r\nSet-Cookie: x\\");
        let challenge = header(&p.headers(), "www-authenticate")[0].to_owned();
        assert_eq!(challenge, "Bearer realm=\"my appSet-Cookie: x\"");
        let empty = Problem::invalid_credentials("\"\"");
        assert!(header(&empty.headers(), "www-authenticate")[0].contains("realm=\"cometgate\""));
    }

    #[test]
    fn empty_request_id_is_left_out() {
        let p = Problem::upstream_timeout().with_request_id("");
        assert!(p.to_json().get("requestId").is_none());
    }
}
