//! Turning the core's framework-neutral [`Answer`] into an actix-web response.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use cometgate::vend::{Answer, Problem};

/// The response for `answer`: its status, every header pair, its body.
pub(crate) fn from_answer(answer: &Answer) -> HttpResponse {
    build(answer.status(), answer.headers(), answer.body())
}

/// The response for `problem`, with `detail` replaced (used only for debug-build diagnostics
/// that are safe to show the developer).
pub(crate) fn from_problem_with_detail(problem: &Problem, detail: &str) -> HttpResponse {
    let mut body = problem.to_json();
    if let Some(map) = body.as_object_mut() {
        map.insert("detail".to_owned(), detail.into());
    }
    // A `Value` of strings and integers always serializes.
    let body = serde_json::to_vec(&body).unwrap_or_default();
    build(problem.status(), problem.headers(), body)
}

fn build(status: u16, headers: Vec<(&'static str, String)>, body: Vec<u8>) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::with_body(status, body).map_into_boxed_body();
    for (name, value) in headers {
        // The core only produces lower-case names and visible-ASCII values; anything else is
        // dropped with a log line rather than failing the whole answer.
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(name), Ok(value)) => response.headers_mut().append(name, value),
            _ => tracing::warn!(
                header = name,
                "dropping a response header that is not valid HTTP"
            ),
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

    #[test]
    fn problems_keep_status_headers_and_body() {
        let answer = Answer::Problem(Problem::method_not_allowed().with_request_id("r1"));
        let response = from_answer(&answer);
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers().get("allow").unwrap(), "POST");
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/problem+json"
        );
        assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
        let body = response.into_body().try_into_bytes().unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["status"], 405);
    }

    #[test]
    fn detail_can_be_replaced() {
        let response = from_problem_with_detail(&Problem::misconfigured(), "add the middleware");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = response.into_body().try_into_bytes().unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["detail"], "add the middleware");
        assert_eq!(body["type"], "https://cometgate.dev/problems/misconfigured");
    }
}
