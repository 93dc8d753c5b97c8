//! Building the endpoint's HTTP answers: the token body and RFC 9457 problems.

use axum_core::body::Body;
use axum_core::response::Response;
use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};

/// `Content-Type` of every error answer (RFC 9457).
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// A JSON response with `Cache-Control: no-store`: token answers must never be cached, and
/// error answers must not be cached in place of a later token.
pub(crate) fn json(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A problem answer the adapter itself produces (405, 413, 500 misconfiguration): the endpoint
/// rejected the request before the core saw it.
pub(crate) struct LocalProblem {
    pub(crate) status: StatusCode,
    /// The `type` URI; see [`crate::problem_types`].
    pub(crate) kind: &'static str,
    pub(crate) title: &'static str,
    pub(crate) detail: String,
}

impl LocalProblem {
    pub(crate) fn into_response(self, request_id: &str) -> Response {
        let body = serde_json::json!({
            "type": self.kind,
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
            "requestId": request_id,
        });
        // Serialising a `Value` built from strings and integers cannot fail.
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        json(self.status, PROBLEM_JSON, bytes)
    }
}
