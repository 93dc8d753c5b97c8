//! The shared suite (security properties and the endpoint's HTTP contract) against the tower
//! layer served by a bare `hyper` 1 server around a `service_fn`: no axum `Router` anywhere,
//! so the layer is proven generic over any `Service<http::Request<B>>` with an `http_body` body.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use cometgate::Identity;
use cometgate::endpoint::Endpoint;
use cometgate_axum::TokenLayer;
use cometgate_conformance::{Adapter, echo, security_suite};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::{Layer, service_fn};

struct Hyper;

/// The app: a plain function from `Request<Incoming>` to `Response<Full<Bytes>>`.
async fn app(request: http::Request<Incoming>) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let answer = if parts.method == http::Method::GET && parts.uri.path() == "/todos" {
        b"[]".to_vec()
    } else {
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let target = parts.uri.path_and_query().map_or("", |p| p.as_str());
        let x_echo = parts.headers.get("x-echo").map(|v| v.as_bytes());
        echo(parts.method.as_str(), target, x_echo, &body)
    };
    Ok(http::Response::new(Full::new(Bytes::from(answer))))
}

impl Adapter for Hyper {
    const NAME: &'static str = "hyper";

    async fn serve<I: Identity>(endpoint: Endpoint<I>) -> SocketAddr {
        let service = TokenLayer::from_endpoint(endpoint).layer(service_fn(app));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let service = TowerToHyperService::new(service.clone());
                tokio::spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        addr
    }
}

security_suite!(Hyper);
