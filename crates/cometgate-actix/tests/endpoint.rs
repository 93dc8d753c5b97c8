//! What only the actix side can show: the `configure` form (in a scope, on a custom path, 405),
//! the peer address. The endpoint's HTTP contract is the shared suite in `tests/` (`security_actix.rs`).

mod common;

use actix_web::{App, web};
use cometgate::ProblemType;
use cometgate_actix::TokenEndpoint;
use common::{fake_and_gate, json, token_post, upstream_calls};

#[tokio::test]
async fn configure_form_answers_in_a_scope_on_a_custom_path() {
    let (fake, gate) = fake_and_gate().await;
    let endpoint = TokenEndpoint::new(gate).with_path("/chat/token").unwrap();
    let base = serve!(move || App::new()
        .route("/todos", web::get().to(|| async { "[]" }))
        .service(web::scope("/api").configure(endpoint.configure())));

    let response = reqwest::Client::new()
        .post(format!("{base}/api/chat/token"))
        .bearer_auth("bob")
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["uid"], "bob");
    assert_eq!(fake.tokens("bob").len(), 1);

    let todos = reqwest::get(format!("{base}/todos")).await.unwrap();
    assert_eq!(todos.text().await.unwrap(), "[]");
    // The default path is no longer special.
    let old = token_post(&base, Some("bob")).send().await.unwrap();
    assert_eq!(old.status(), 404);

    // actix routes on the percent-decoded path, the core on the raw one: an encoded spelling
    // of the token path is not the token route (middleware keyed on the path sees the same).
    for encoded in [
        "/api/chat%2Ftoken",
        "/api/chat/%74oken",
        "/api/%63hat/token",
    ] {
        let response = reqwest::Client::new()
            .post(format!("{base}{encoded}"))
            .bearer_auth("bob")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{encoded}");
    }
    assert_eq!(fake.tokens("bob").len(), 1, "no mint for an encoded path");
    // The revoke route is registered beside it, under the same scope and path.
    let revoke = reqwest::Client::new()
        .post(format!("{base}/api/chat/token/revoke"))
        .bearer_auth("bob")
        .body(r#"{"all": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    assert!(fake.tokens("bob").is_empty());
}

#[tokio::test]
async fn only_post_is_allowed_in_both_forms() {
    let (fake, gate) = fake_and_gate().await;
    let endpoint = TokenEndpoint::new(gate);
    let wrapped = {
        let endpoint = endpoint.clone();
        serve!(move || App::new().wrap(endpoint.clone()))
    };
    let configured = serve!(move || App::new().configure(endpoint.configure()));
    let client = reqwest::Client::new();
    for base in [wrapped, configured] {
        for method in [
            reqwest::Method::GET,
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
            reqwest::Method::PATCH,
            reqwest::Method::OPTIONS,
        ] {
            let response = client
                .request(method.clone(), format!("{base}/cometchat-token"))
                .bearer_auth("alice")
                .send()
                .await
                .unwrap();
            assert_eq!(response.headers()["allow"], "POST", "{method}");
            assert_eq!(response.headers()["cache-control"], "no-store");
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json"
            );
            let (status, body) = json(response).await;
            assert_eq!(status, 405, "{method}");
            assert_eq!(body["type"], ProblemType::MethodNotAllowed.uri());
        }
    }
    assert_eq!(upstream_calls(&fake), 0);
}

#[tokio::test]
async fn the_view_exposes_the_peer_address() {
    let (fake, gate) = fake_and_gate().await;
    let endpoint = TokenEndpoint::new(gate);
    let base = serve!(move || App::new().wrap(endpoint.clone()));
    let (status, body) = json(token_post(&base, Some("peer")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["uid"], "peer-127-0-0-1");
    assert_eq!(fake.tokens("peer-127-0-0-1").len(), 1);
}
