//! Serving: the socket loop, reading a request under its body limit, and the in-process tower
//! `Service`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::handler::{Incoming, body_limit, handle};
use crate::response::Outcome;
use crate::state::Shared;

/// The error a scripted [`Fault::Close`](crate::Fault::Close) raises to drop the connection
/// without a response.
#[derive(Debug, thiserror::Error)]
#[error("connection closed without a response (scripted fault)")]
pub struct ConnectionClosed;

/// Serves connections until `stopped` fires, then closes the port and every connection.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { answer(&shared, req).await }
                    });
                    // A connection error (e.g. a scripted close) ends only this connection.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

async fn answer<B>(
    shared: &Shared,
    req: Request<B>,
) -> Result<Response<Full<Bytes>>, ConnectionClosed>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let body = Limited::new(body, body_limit(&path))
        .collect()
        .await
        .ok()
        .map(|c| c.to_bytes());
    let incoming = Incoming {
        method: parts.method,
        path,
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts.headers,
        body,
    };
    match handle(shared, incoming).await {
        Outcome::Respond(reply) => Ok(reply.into_response()),
        Outcome::Close => Err(ConnectionClosed),
        Outcome::Hang => std::future::pending().await,
    }
}

/// The fake as a tower `Service`, without a socket.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use cometchat_fake::FakeCometChat;
/// use tower::ServiceExt;
///
/// let service = FakeCometChat::builder().api_key("k").service();
/// let request = http::Request::get("/v3/users/nobody")
///     .header("apikey", "k")
///     .body(http_body_util::Full::new(bytes::Bytes::new()))
///     .unwrap();
/// let response = service.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), 404);
/// # }
/// ```
#[derive(Clone)]
pub struct FakeService {
    shared: Arc<Shared>,
}

impl FakeService {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

impl std::fmt::Debug for FakeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeService").finish_non_exhaustive()
    }
}

impl<B> tower_service::Service<Request<B>> for FakeService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = ConnectionClosed;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let shared = self.shared.clone();
        Box::pin(async move { answer(&shared, req).await })
    }
}
