//! Bodies in and out: reading the payload under the core's limits, and the core's answer as an
//! actix-web response.

use actix_web::HttpResponse;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::{Bytes, BytesMut};
use cometgate::endpoint::{Answer, BodyLimits, BodyRead};
use futures_util::StreamExt;

/// Reads `payload` under `limits`.
pub(crate) async fn read(mut payload: Payload, limits: BodyLimits) -> BodyRead {
    // A request without a body (the common case) needs no reading, and no timer.
    if matches!(payload, Payload::None) {
        return BodyRead::Complete(Bytes::new());
    }
    let reading = async {
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let Ok(chunk) = chunk else {
                return BodyRead::Broken;
            };
            if body.len().saturating_add(chunk.len()) > limits.max_bytes {
                return BodyRead::TooLarge;
            }
            body.extend_from_slice(&chunk);
        }
        BodyRead::Complete(Bytes::from(body))
    };
    actix_web::rt::time::timeout(limits.timeout, reading)
        .await
        .unwrap_or(BodyRead::TimedOut)
}

/// The actix-web response for the core's answer: its status, headers and body, nothing added.
pub(crate) fn into_response(answer: Answer) -> HttpResponse {
    let (status, headers, body) = answer.into_parts();
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
