//! Bodies in and out: reading a request body under the core's limits, and [`ResponseBody`],
//! which carries either the endpoint's answer or the wrapped service's body.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use cometgate::endpoint::{Answer, BodyLimits, BodyRead};
use http::StatusCode;
use http::header::{HeaderName, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};

use crate::layer::BoxError;

pin_project_lite::pin_project! {
    /// The response body of [`TokenService`](crate::TokenService): the endpoint's own answer,
    /// or the wrapped service's body `B`, passed through untouched (no boxing, no copy).
    pub struct ResponseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Answer { body: Full<Bytes> },
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    pub(crate) fn answer(bytes: Bytes) -> Self {
        Self {
            kind: Kind::Answer {
                body: Full::new(bytes),
            },
        }
    }
}

impl<B> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.kind {
            Kind::Inner { .. } => "ResponseBody::Inner",
            Kind::Answer { .. } => "ResponseBody::Answer",
        })
    }
}

impl<B: Body<Data = Bytes>> Body for ResponseBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Answer { body } => Pin::new(body)
                .poll_frame(cx)
                .map(|frame| frame.map(|f| f.map_err(|never| match never {}))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Answer { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Answer { body } => body.size_hint(),
        }
    }
}

/// Reads `body` under `limits` (`None`: the core does not want it, so it is not waited for).
pub(crate) async fn read<B>(body: B, limits: Option<BodyLimits>) -> BodyRead
where
    B: Body<Data = Bytes> + Send,
    B::Error: Into<BoxError>,
{
    let Some(limits) = limits else {
        return BodyRead::Skipped;
    };
    if body.is_end_stream() {
        return BodyRead::Complete(Bytes::new());
    }
    let reading = Limited::new(body, limits.max_bytes).collect();
    match tokio::time::timeout(limits.timeout, reading).await {
        Err(_) => BodyRead::TimedOut,
        Ok(Ok(collected)) => BodyRead::Complete(collected.to_bytes()),
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => BodyRead::TooLarge,
        Ok(Err(_)) => BodyRead::Broken,
    }
}

/// The `http` response for the core's answer: its status, headers and body, nothing added.
pub(crate) fn into_response(answer: Answer) -> http::Response<Bytes> {
    let (status, headers, body) = answer.into_parts();
    let mut response = http::Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in headers {
        // The core only produces lower-case names and visible-ASCII values; anything else is
        // dropped with a log line rather than failing the whole answer.
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::try_from(value),
        ) {
            (Ok(name), Ok(value)) => {
                response.headers_mut().append(name, value);
            }
            _ => tracing::warn!(
                header = name,
                "dropping a response header that is not valid HTTP"
            ),
        }
    }
    response
}
