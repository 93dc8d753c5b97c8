//! What only the axum side can show: the router form (`merge`, `nest`), layer order with an
//! outer middleware, serving without `ConnectInfo`. The endpoint's HTTP contract (pass-through,
//! 405, 408, 413, request ids, challenges, cross-site refusal, custom paths) is the shared suite
//! in `tests/` (`security_axum.rs`, and `security_hyper.rs` for the bare tower layer).

mod common;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::routing::get;
use cometgate_axum::TokenLayer;
use common::{fake_and_gate, send_token_request, serve};
use serde_json::Value;

#[tokio::test]
async fn router_form_merges_and_nests() {
    let (fake, gate) = fake_and_gate().await;
    let token_routes: Router = TokenLayer::new(gate).into_router();
    let app = Router::new()
        .route("/todos", get(|| async { "[]" }))
        .merge(token_routes.clone())
        .nest("/api", token_routes);
    let base = serve(app).await;
    let client = reqwest::Client::new();
    for path in ["/cometchat-token", "/api/cometchat-token"] {
        let response = client
            .post(format!("{base}{path}"))
            .bearer_auth("carol")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 405, "{path}");
        assert_eq!(response.headers()["allow"], "POST");
    }
    let response = client.get(format!("{base}/todos")).send().await.unwrap();
    assert_eq!(response.text().await.unwrap(), "[]");
    assert_eq!(fake.tokens("carol").len(), 2);
}

#[tokio::test]
async fn layer_sees_what_outer_middleware_inserted() {
    // An auth middleware added after the layer runs first; the identity sees its output.
    async fn auth(mut request: Request, next: Next) -> axum::response::Response {
        request
            .headers_mut()
            .insert("authorization", "Bearer from-middleware".parse().unwrap());
        next.run(request).await
    }
    let (_fake, gate) = fake_and_gate().await;
    let app = Router::new()
        .layer(TokenLayer::new(gate))
        .layer(middleware::from_fn(auth));
    let base = serve(app).await;
    let body: Value = send_token_request(&base, None).await.json().await.unwrap();
    assert_eq!(body["uid"], "from-middleware");
}

#[tokio::test]
async fn works_without_connect_info() {
    // Served without `into_make_service_with_connect_info`: no peer, still answers.
    let (_fake, gate) = fake_and_gate().await;
    let app = Router::new().layer(TokenLayer::new(gate));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/cometchat-token"))
        .bearer_auth("peer")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["uid"], "no-peer");
}
