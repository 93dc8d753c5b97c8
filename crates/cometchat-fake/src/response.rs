//! Building answers: JSON bodies, CometChat's error answers, and the headers every answer of
//! the real server carries.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use serde_json::Value;

use crate::errors::ApiError;

/// An answer the fake built: kept apart from `http::Response` until it is sent, so the journal
/// can read the body.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The header list the real server allows in CORS requests (recorded).
const CORS_ALLOW_HEADERS: &str = "Content-Type,Accept,Cache-Control,Authorization,X-Requested-With,appId,apiKey,authToken,onBehalfOf,resource,Accept-Encoding,group,region,sdk,guid,uid,clientEnvironment,extensionId,username,password,callToken,onBehalfOfUser";

/// What to do with the connection.
pub(crate) enum Outcome {
    Respond(Reply),
    /// Close the connection without a response.
    Close,
    /// Never answer.
    Hang,
}

impl Reply {
    /// An answer with this status and body, typed `application/json` (whether or not it is).
    pub fn raw_json(status: u16, body: impl Into<Bytes>) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            headers,
            body: body.into(),
        }
    }

    pub fn json(status: u16, body: &Value) -> Self {
        Self::raw_json(status, body.to_string())
    }

    /// CometChat's error answer, with `Retry-After` when the error carries one.
    pub fn error(e: &ApiError) -> Self {
        let mut reply = Self::json(e.status, &e.body());
        if let Some(seconds) = e.retry_after {
            reply
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        reply
    }

    /// `204 No Content`, for a CORS preflight.
    pub fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    pub fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.body));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

/// The cache and CORS headers the real server sends on every answer.
pub(crate) fn add_common_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("must-revalidate, no-cache, private"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("OPTIONS,HEAD,GET,POST,PUT,PATCH,DELETE"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(CORS_ALLOW_HEADERS),
    );
}

/// Header names (lower case) and values (lossy UTF-8), in order, for the journal.
pub(crate) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}
