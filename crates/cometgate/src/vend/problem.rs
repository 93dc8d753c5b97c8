//! Every error answer of the endpoint, as an RFC 9457 problem.
//!
//! A [`Problem`] is framework-neutral: a status (`u16`), header pairs and a JSON body with
//! `Content-Type: application/problem+json`. The endpoint renders it ([`crate::endpoint`]);
//! adapters only copy the rendered answer into their response type.
//!
//! # The problem types
//!
//! Every type is declared once, in one table (status, slug, title, default detail): see
//! [`ProblemType`], whose variants list them. The `type` URI is the endpoint's problem base
//! followed by the slug; the base defaults to [`DEFAULT_PROBLEM_BASE`]
//! (`https://cometgate.dev/problems/`), so `type` values are stable and clients may branch on
//! them. An app can point the base at its own documentation
//! ([`Endpoint::with_problem_base`](crate::endpoint::Endpoint::with_problem_base)).
//!
//! Extra headers: `WWW-Authenticate` on 401 (`Bearer realm="…"`, plus `error="invalid_token"`
//! for invalid credentials), `Allow` on 405, `Retry-After` on 429 and 503 (whole seconds,
//! rounded **up**, at least 1). The endpoint adds `Cache-Control: no-store` and `x-request-id`
//! to every answer.
//!
//! The body has the RFC 9457 members `type`, `title`, `status` and `detail`, plus `requestId`.
//! The `detail` text is fixed by cometgate for each type: it never holds the REST API key, an
//! upstream body, a token or a rejection reason; those go to the server log only (debug builds
//! put configuration diagnostics in `detail`, to show the developer what to fix).
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

/// The default base of problem `type` URIs: `type` is this followed by the slug.
pub const DEFAULT_PROBLEM_BASE: &str = "https://cometgate.dev/problems/";

/// Declares [`ProblemType`] and its table (status, slug, title, default detail) in one place.
macro_rules! problem_types {
    ($($(#[$meta:meta])* $name:ident => $status:literal, $slug:literal, $title:literal, $detail:literal;)*) => {
        /// The kind of a [`Problem`]: its status, stable slug and title. Each variant's doc
        /// says `status slug: when`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ProblemType {
            $(
                #[doc = concat!("`", stringify!($status), " ", $slug, "`: ")]
                $(#[$meta])*
                $name,
            )*
        }

        impl ProblemType {
            /// Every problem type, in the order of the table.
            pub const ALL: &'static [ProblemType] = &[$(Self::$name),*];

            /// The HTTP status.
            pub const fn status(self) -> u16 {
                match self { $(Self::$name => $status,)* }
            }

            /// The slug: the last segment of the `type` URI (`rate-limited`).
            pub const fn slug(self) -> &'static str {
                match self { $(Self::$name => $slug,)* }
            }

            /// The `title` member: short, fixed, human-readable.
            pub const fn title(self) -> &'static str {
                match self { $(Self::$name => $title,)* }
            }

            /// The `detail` member unless the problem sets its own.
            pub const fn default_detail(self) -> &'static str {
                match self { $(Self::$name => $detail,)* }
            }
        }
    };
}

problem_types! {
    /// the request could not be read (aborted or malformed body stream, a body that is not the
    /// expected JSON).
    BadRequest => 400, "bad-request", "Bad request", "The request could not be read.";
    /// the request carries no credentials ([`Rejection::Missing`](crate::Rejection::Missing)).
    MissingCredentials => 401, "missing-credentials", "Authentication required",
        "Sign in first, then request a chat token.";
    /// credentials were presented but did not verify
    /// ([`Rejection::Invalid`](crate::Rejection::Invalid)).
    InvalidCredentials => 401, "invalid-credentials", "Invalid credentials",
        "The credentials could not be verified; sign in again and retry.";
    /// the identity is valid but may not use chat
    /// ([`Rejection::Refused`](crate::Rejection::Refused)).
    IdentityRefused => 403, "identity-refused", "Chat access refused",
        "This account may not use chat.";
    /// the account was deleted (an account-deletion webhook or [`Gate::delete_user`](crate::Gate::delete_user)):
    /// its tokens are revoked and it is not re-created.
    AccountDeleted => 403, "account-deleted", "Account deleted",
        "This account was deleted; it can no longer use chat.";
    /// a webhook whose signature (or shared secret) is missing or does not verify: nothing
    /// happens.
    InvalidSignature => 401, "invalid-signature", "Webhook not authenticated",
        "The webhook's signature or secret did not verify.";
    /// credentials sent automatically by the browser (cookies) on a request from another site:
    /// refused as a cross-site request forgery.
    CrossSiteRequest => 403, "cross-site-request", "Cross-site request refused",
        "Chat tokens can only be requested from this site.";
    /// any method the route does not serve (`Allow` lists the ones it does).
    MethodNotAllowed => 405, "method-not-allowed", "Method not allowed",
        "Request a chat token with POST.";
    /// the body did not arrive within the read timeout.
    RequestTimeout => 408, "request-timeout", "Request timed out",
        "The request body did not arrive in time.";
    /// the body is over the endpoint's limit.
    BodyTooLarge => 413, "body-too-large", "Request body too large",
        "The request body is too large.";
    /// this user asked for tokens too often (per-user limit); `Retry-After` says when to retry.
    RateLimited => 429, "rate-limited", "Too many token requests",
        "Too many chat token requests; retry after the given delay.";
    /// the server's configuration cannot serve this request (e.g. no UID mapping rule fits the
    /// identity); the log says what to fix.
    Misconfigured => 500, "misconfigured", "Chat sign-in is misconfigured",
        "The server cannot issue chat tokens for this account; the server log says why.";
    /// CometChat failed after retries, or refused the request (`4xx`, e.g. a wrong REST API key).
    UpstreamFailure => 502, "upstream-failure", "Chat service failed",
        "The chat service could not issue a token.";
    /// CometChat answered `429` (or is still inside its `Retry-After` window); `Retry-After`.
    UpstreamRateLimited => 503, "upstream-rate-limited", "Chat service busy",
        "The chat service is busy; retry after the given delay.";
    /// this server's own budget of CometChat calls is spent for now; `Retry-After`.
    UpstreamBudgetExhausted => 503, "upstream-budget-exhausted", "Chat service busy",
        "The chat service is busy; retry after the given delay.";
    /// CometChat failed (`5xx`, no answer) while applying a webhook, which is idempotent:
    /// `Retry-After` asks the sender to deliver it again later.
    UpstreamUnavailable => 503, "upstream-unavailable", "Chat service unavailable",
        "The chat service failed; deliver again after the given delay.";
    /// the token store (e.g. a shared Redis) failed or did not answer; `Retry-After`.
    StoreUnavailable => 503, "store-unavailable", "Chat sign-in unavailable",
        "Chat sign-in is briefly unavailable; retry after the given delay.";
    /// another replica's mint for the same device (which this request waits for, rather than
    /// mint a second token) did not finish within the deadline; `Retry-After` says when its
    /// lock is gone at the latest.
    MintPending => 503, "mint-pending", "Chat sign-in busy",
        "A chat token for this device is still being issued; retry after the given delay.";
    /// CometChat did not answer within the deadline.
    UpstreamTimeout => 504, "upstream-timeout", "Chat service timed out",
        "The chat service did not answer in time.";
}

impl ProblemType {
    /// The `type` URI under the default base, [`DEFAULT_PROBLEM_BASE`].
    ///
    /// ```
    /// use cometgate::ProblemType;
    /// assert_eq!(ProblemType::RateLimited.uri(), "https://cometgate.dev/problems/rate-limited");
    /// ```
    pub fn uri(self) -> String {
        self.uri_in(DEFAULT_PROBLEM_BASE)
    }

    /// The `type` URI under `base` (which ends with `/`).
    pub fn uri_in(self, base: &str) -> String {
        format!("{base}{}", self.slug())
    }
}

impl fmt::Display for ProblemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// An RFC 9457 problem: what went wrong, for the client, without any secret or internal detail.
#[derive(Clone, PartialEq, Eq)]
pub struct Problem {
    kind: ProblemType,
    detail: String,
    realm: Option<String>,
    retry_after: Option<u64>,
    request_id: Option<String>,
    allow: Option<&'static str>,
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

/// `wait` as a `Retry-After` value: whole seconds, rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait
        .as_secs()
        .saturating_add(u64::from(wait.subsec_nanos() > 0));
    secs.max(1)
}

/// Keeps a realm inside the quoted-string of a challenge: visible ASCII without `"` and `\`,
/// at most 64 characters, never empty.
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
    /// A problem of `kind` with its default detail.
    pub fn of(kind: ProblemType) -> Self {
        Self {
            kind,
            detail: kind.default_detail().to_owned(),
            realm: None,
            retry_after: None,
            request_id: None,
            allow: None,
        }
    }

    fn with_retry(kind: ProblemType, wait: Duration) -> Self {
        Self {
            retry_after: Some(retry_after_secs(wait)),
            ..Self::of(kind)
        }
    }

    /// 400: the request could not be read.
    pub fn bad_request() -> Self {
        Self::of(ProblemType::BadRequest)
    }

    /// 400 with a client-safe `detail` saying what is wrong with the request (never echo
    /// secrets or raw input into it).
    pub fn bad_request_because(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            ..Self::of(ProblemType::BadRequest)
        }
    }

    /// 401 without credentials, with a `WWW-Authenticate` challenge for `realm`.
    pub fn missing_credentials(realm: &str) -> Self {
        Self {
            realm: Some(sanitize_realm(realm)),
            ..Self::of(ProblemType::MissingCredentials)
        }
    }

    /// 401 for credentials that did not verify, with an `error="invalid_token"` challenge.
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

    /// 403: browser-sent credentials on a cross-site request.
    pub fn cross_site_request() -> Self {
        Self::of(ProblemType::CrossSiteRequest)
    }

    /// The problem for an identity's rejection (401 or 403). The rejection's reason is for
    /// the log only and is not copied into the problem.
    pub fn from_rejection(rejection: &crate::Rejection, realm: &str) -> Self {
        match rejection {
            crate::Rejection::Missing => Self::missing_credentials(realm),
            crate::Rejection::Invalid { .. } => Self::invalid_credentials(realm),
            crate::Rejection::Refused { .. } => Self::identity_refused(),
        }
    }

    /// 405 with `Allow: POST`.
    pub fn method_not_allowed() -> Self {
        Self::method_not_allowed_but("POST")
    }

    /// 405 with `Allow: <allow>` (the methods the route serves).
    pub fn method_not_allowed_but(allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::of(ProblemType::MethodNotAllowed)
        }
    }

    /// 408: the body did not arrive within the read timeout.
    pub fn request_timeout() -> Self {
        Self::of(ProblemType::RequestTimeout)
    }

    /// 413 for a body over `limit` bytes.
    pub fn body_too_large(limit: u64) -> Self {
        Self {
            detail: format!("The request body is over the limit of {limit} bytes."),
            ..Self::of(ProblemType::BodyTooLarge)
        }
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(wait: Duration) -> Self {
        Self::with_retry(ProblemType::RateLimited, wait)
    }

    /// 500: the configuration cannot serve this request.
    pub fn misconfigured() -> Self {
        Self::of(ProblemType::Misconfigured)
    }

    /// 502: CometChat failed or refused.
    pub fn upstream_failure() -> Self {
        Self::of(ProblemType::UpstreamFailure)
    }

    /// 503 after CometChat's `429`, with `Retry-After`.
    pub fn upstream_rate_limited(wait: Duration) -> Self {
        Self::with_retry(ProblemType::UpstreamRateLimited, wait)
    }

    /// 503 when the token store failed, with `Retry-After`.
    pub fn store_unavailable(wait: Duration) -> Self {
        Self::with_retry(ProblemType::StoreUnavailable, wait)
    }

    /// 503 when the upstream budget is spent, with `Retry-After`.
    pub fn upstream_budget_exhausted(wait: Duration) -> Self {
        Self::with_retry(ProblemType::UpstreamBudgetExhausted, wait)
    }

    /// 403: the account was deleted.
    pub fn account_deleted() -> Self {
        Self::of(ProblemType::AccountDeleted)
    }

    /// 401: a webhook that did not authenticate.
    pub fn invalid_signature() -> Self {
        Self::of(ProblemType::InvalidSignature)
    }

    /// 503: CometChat failed while applying a webhook; deliver again after `wait`.
    pub fn upstream_unavailable(wait: Duration) -> Self {
        Self::with_retry(ProblemType::UpstreamUnavailable, wait)
    }

    /// 503: another replica's mint for the device is still under way; retry after `wait`.
    pub fn mint_pending(wait: Duration) -> Self {
        Self::with_retry(ProblemType::MintPending, wait)
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

    /// Replaces the `detail` member. Only for client-safe text.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
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

    /// The problem's own headers (lower-case names): `Content-Type`, and `WWW-Authenticate`,
    /// `Allow` or `Retry-After` where the type has one. The endpoint adds `Cache-Control` and
    /// `x-request-id`.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![("content-type", PROBLEM_JSON.to_owned())];
        match (self.kind, &self.realm) {
            (ProblemType::MissingCredentials, Some(realm)) => {
                headers.push(("www-authenticate", format!("Bearer realm=\"{realm}\"")));
            }
            (ProblemType::InvalidCredentials, Some(realm)) => headers.push((
                "www-authenticate",
                format!("Bearer realm=\"{realm}\", error=\"invalid_token\""),
            )),
            _ => {}
        }
        if let Some(allow) = self.allow {
            headers.push(("allow", allow.to_owned()));
        }
        if let Some(secs) = self.retry_after {
            headers.push(("retry-after", secs.to_string()));
        }
        headers
    }

    /// The JSON body under the default problem base.
    pub fn to_json(&self) -> serde_json::Value {
        self.to_json_in(DEFAULT_PROBLEM_BASE)
    }

    /// The JSON body, its `type` under `base`.
    pub fn to_json_in(&self, base: &str) -> serde_json::Value {
        let mut body = serde_json::json!({
            "type": self.kind.uri_in(base),
            "title": self.kind.title(),
            "status": self.kind.status(),
            "detail": self.detail,
        });
        if let (Some(id), Some(map)) = (&self.request_id, body.as_object_mut()) {
            map.insert("requestId".to_owned(), id.clone().into());
        }
        body
    }

    /// The serialized body under the default problem base.
    pub fn body(&self) -> Vec<u8> {
        self.body_in(DEFAULT_PROBLEM_BASE)
    }

    /// The serialized body, its `type` under `base`.
    pub fn body_in(&self, base: &str) -> Vec<u8> {
        // A `Value` of strings and integers always serializes.
        serde_json::to_vec(&self.to_json_in(base)).unwrap_or_default()
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
            ProblemType::AccountDeleted => Problem::account_deleted(),
            ProblemType::InvalidSignature => Problem::invalid_signature(),
            ProblemType::CrossSiteRequest => Problem::cross_site_request(),
            ProblemType::MethodNotAllowed => Problem::method_not_allowed(),
            ProblemType::RequestTimeout => Problem::request_timeout(),
            ProblemType::BodyTooLarge => Problem::body_too_large(16_384),
            ProblemType::RateLimited => Problem::rate_limited(wait),
            ProblemType::Misconfigured => Problem::misconfigured(),
            ProblemType::UpstreamFailure => Problem::upstream_failure(),
            ProblemType::UpstreamRateLimited => Problem::upstream_rate_limited(wait),
            ProblemType::UpstreamBudgetExhausted => Problem::upstream_budget_exhausted(wait),
            ProblemType::UpstreamUnavailable => Problem::upstream_unavailable(wait),
            ProblemType::StoreUnavailable => Problem::store_unavailable(wait),
            ProblemType::MintPending => Problem::mint_pending(wait),
            ProblemType::UpstreamTimeout => Problem::upstream_timeout(),
        }
    }

    #[test]
    fn every_type_renders_its_status_headers_and_body() {
        let expected: [(ProblemType, u16); 19] = [
            (ProblemType::BadRequest, 400),
            (ProblemType::MissingCredentials, 401),
            (ProblemType::InvalidCredentials, 401),
            (ProblemType::IdentityRefused, 403),
            (ProblemType::AccountDeleted, 403),
            (ProblemType::InvalidSignature, 401),
            (ProblemType::CrossSiteRequest, 403),
            (ProblemType::MethodNotAllowed, 405),
            (ProblemType::RequestTimeout, 408),
            (ProblemType::BodyTooLarge, 413),
            (ProblemType::RateLimited, 429),
            (ProblemType::Misconfigured, 500),
            (ProblemType::UpstreamFailure, 502),
            (ProblemType::UpstreamRateLimited, 503),
            (ProblemType::UpstreamBudgetExhausted, 503),
            (ProblemType::UpstreamUnavailable, 503),
            (ProblemType::StoreUnavailable, 503),
            (ProblemType::MintPending, 503),
            (ProblemType::UpstreamTimeout, 504),
        ];
        assert_eq!(&expected.map(|(k, _)| k)[..], ProblemType::ALL);
        for &(kind, status) in &expected {
            let p = sample(kind).with_request_id("rid-7");
            assert_eq!(p.problem_type(), kind);
            assert_eq!(p.status(), status, "{kind}");
            let headers = p.headers();
            assert_eq!(
                header(&headers, "content-type"),
                ["application/problem+json"]
            );

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
        assert!(ProblemType::ALL.iter().all(|k| {
            k.slug()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-')
        }));
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
