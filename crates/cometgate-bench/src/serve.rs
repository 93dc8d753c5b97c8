//! What the bench's servers share, in process (every row) and in a process of their own (the
//! metrics row's `src/bin/token-server.rs`): CometChat's settings for the fake, the axum app a
//! gate is served on, and serving it on loopback.

use axum::Router;
use cometchat_fake::FakeCometChat;
use cometgate::vend::Gate;
use cometgate::{Config, Identity, Region};
use cometgate_axum::TokenLayer;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// CometChat's settings for the fake.
pub fn fake_config(fake: &FakeCometChat) -> Config {
    Config::builder()
        .app_id(fake.app_id())
        .region(Region::Us)
        .rest_api_key(fake.api_key())
        .api_base(fake.base_url())
        .build()
        .expect("config for the fake")
}

/// (b), (d) The cometgate layer on an axum router with one ordinary route.
pub fn axum_app<I: Identity>(gate: Gate<I>) -> Router {
    Router::new()
        .route("/todos", axum::routing::get(|| async { "[]" }))
        .layer(TokenLayer::new(gate))
}

/// Serves `app` on a loopback port; returns the token URL and the server task (abort it to
/// stop the server).
pub async fn serve(app: Router) -> (String, JoinHandle<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/cometchat-token"), server)
}
