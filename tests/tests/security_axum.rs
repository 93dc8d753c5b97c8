//! The security property suite against the axum adapter.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use cometgate::vend::Gate;
use cometgate_axum::TokenLayer;
use cometgate_conformance::{Adapter, security_suite};
use cometgate_jwt::JwtIdentity;

struct Axum;

impl Adapter for Axum {
    const NAME: &'static str = "axum";

    async fn serve(gate: Gate<JwtIdentity>) -> SocketAddr {
        let app = Router::new()
            .route("/todos", get(|| async { "[]" }))
            .layer(TokenLayer::new(gate));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }
}

security_suite!(Axum);
