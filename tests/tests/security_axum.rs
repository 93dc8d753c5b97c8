//! The shared suite (security properties and the endpoint's HTTP contract) against the axum
//! adapter, in front of an axum `Router`.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Request;
use axum::routing::get;
use cometgate::Identity;
use cometgate::endpoint::Endpoint;
use cometgate_axum::TokenLayer;
use cometgate_conformance::{Adapter, echo, security_suite};

struct Axum;

async fn echo_handler(request: Request) -> Vec<u8> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let target = parts.uri.path_and_query().map_or("", |p| p.as_str());
    let x_echo = parts.headers.get("x-echo").map(|v| v.as_bytes());
    echo(parts.method.as_str(), target, x_echo, &body)
}

impl Adapter for Axum {
    const NAME: &'static str = "axum";

    async fn serve<I: Identity>(endpoint: Endpoint<I>) -> SocketAddr {
        let app = Router::new()
            .route("/todos", get(|| async { "[]" }))
            .fallback(echo_handler)
            .layer(TokenLayer::from_endpoint(endpoint));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }
}

security_suite!(Axum);
