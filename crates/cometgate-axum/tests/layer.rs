//! The layer's own HTTP behaviour over real loopback HTTP: routing, pass-through, 405, 413,
//! request ids, custom paths and the router form, with a real `Gate` in front of
//! `cometchat-fake`.

mod common;

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::routing::{get, post};
use axum::{Extension, Router};
use cometgate::ProblemType;
use cometgate::vend::Gate;
use cometgate_axum::{DEFAULT_BODY_LIMIT, TokenLayer};
use common::{
    BearerUser, fake_and_gate, offline_gate, send_token_request, serve, token_post, upstream_calls,
};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

#[derive(Clone)]
struct Marker(&'static str);

/// Echoes everything the handler can see, to prove the layer changed none of it.
async fn echo(
    State(state): State<AppState>,
    Extension(marker): Extension<Marker>,
    request: Request,
) -> String {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    format!(
        "{}|{}|{}|{}|{}|{}",
        state.greeting,
        marker.0,
        parts.method,
        parts.uri,
        parts
            .headers
            .get("x-custom")
            .map_or("", |v| v.to_str().unwrap()),
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

fn app(gate: Gate<BearerUser>) -> Router {
    Router::new()
        .route("/echo", post(echo).put(echo))
        .route("/todos", get(|| async { "[]" }))
        .with_state(AppState { greeting: "hi" })
        .layer(TokenLayer::new(gate))
        // Added after the token layer, so it runs first: its extension must reach both the
        // token endpoint and the app's handlers.
        .layer(Extension(Marker("marked")))
}

async fn problem(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "status {status}"
    );
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn other_requests_pass_through_untouched() {
    let (fake, gate) = fake_and_gate().await;
    let base = serve(app(gate)).await;
    let client = reqwest::Client::new();

    let big = "x".repeat(DEFAULT_BODY_LIMIT * 4);
    let response = client
        .post(format!("{base}/echo?uid=mallory&n=1"))
        .header("x-custom", "kept")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        format!("hi|marked|POST|/echo?uid=mallory&n=1|kept|{big}")
    );

    let response = client
        .put(format!("{base}/echo"))
        .body("b")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "hi|marked|PUT|/echo||b");

    let response = client.get(format!("{base}/todos")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "[]");

    // Unknown paths still reach the app's fallback.
    let response = client.get(format!("{base}/nope")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    // A path that only starts like the token path is not the token path.
    let response = client
        .post(format!("{base}/cometchat-token/extra"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    assert_eq!(
        upstream_calls(&fake),
        0,
        "pass-through requests never reach CometChat"
    );
}

#[tokio::test]
async fn token_path_mints_with_the_gate_and_no_store() {
    let (fake, gate) = fake_and_gate().await;
    let base = serve(app(gate)).await;
    let response = token_post(&base, "alice")
        .header("x-request-id", "req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["x-request-id"], "req-42");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    assert_eq!(body["uid"], "alice");
    // The token is the one CometChat (the fake) holds for alice, provisioned just in time.
    assert_eq!(fake.tokens("alice"), [body["authToken"].as_str().unwrap()]);
    assert!(fake.user("alice").is_some());

    // The request id reaches the core: it is in the problem body.
    let response = send_token_request(&base, None).await;
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, body) = problem(response).await;
    assert_eq!(status, 401);
    assert_eq!(body["requestId"], request_id.as_str());

    // The identity sees the peer address from `ConnectInfo`.
    let body: Value = token_post(&base, "peer")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["uid"], "peer-127-0-0-1");
}

#[tokio::test]
async fn unsafe_request_ids_are_replaced() {
    let (_fake, gate) = fake_and_gate().await;
    let base = serve(app(gate)).await;
    let response = reqwest::Client::new()
        .post(format!("{base}/cometchat-token"))
        .header("x-request-id", "forged\" level=error")
        .send()
        .await
        .unwrap();
    let echoed = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let (_, body) = problem(response).await;
    assert_eq!(body["requestId"], echoed.as_str());
    assert_eq!(echoed.len(), 32);
    assert!(echoed.bytes().all(|b| b.is_ascii_hexdigit()), "{echoed}");
}

#[tokio::test]
async fn body_query_and_other_headers_never_choose_the_uid() {
    let (fake, gate) = fake_and_gate().await;
    let base = serve(app(gate)).await;
    let response = reqwest::Client::new()
        .post(format!("{base}/cometchat-token?uid=mallory&sub=mallory"))
        .bearer_auth("alice")
        .header("x-uid", "mallory")
        .json(&serde_json::json!({ "uid": "mallory", "user": { "sub": "mallory" } }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["uid"], "alice");
    assert!(fake.user("mallory").is_none());
    assert!(
        fake.journal()
            .iter()
            .all(|entry| !entry.path.contains("mallory") && !entry.body.contains("mallory")),
        "no upstream call names another user"
    );
}

#[tokio::test]
async fn other_methods_get_405_with_allow_post() {
    let (fake, gate) = fake_and_gate().await;
    let base = serve(app(gate)).await;
    let client = reqwest::Client::new();
    for method in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = client
            .request(method.clone(), format!("{base}/cometchat-token"))
            .bearer_auth("alice")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(response.headers()["allow"], "POST", "{method}");
        assert_eq!(response.headers()["cache-control"], "no-store");
        if method != reqwest::Method::HEAD {
            let (_, body) = problem(response).await;
            assert_eq!(body["type"], ProblemType::MethodNotAllowed.uri());
            assert_eq!(body["status"], 405);
        }
    }
    assert_eq!(
        upstream_calls(&fake),
        0,
        "a wrong method never reaches CometChat"
    );
}

#[tokio::test]
async fn oversized_bodies_get_413_whether_declared_or_streamed() {
    let (fake, gate) = fake_and_gate().await;
    let base = serve(app(gate)).await;

    // Declared with Content-Length.
    let response = token_post(&base, "alice")
        .body(vec![b'{'; DEFAULT_BODY_LIMIT + 1])
        .send()
        .await
        .unwrap();
    let (status, body) = problem(response).await;
    assert_eq!(status, 413);
    assert_eq!(body["type"], ProblemType::BodyTooLarge.uri());

    // Chunked, so the size is only known by reading.
    let addr: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let chunk = "a".repeat(1024);
    let mut request = String::from(
        "POST /cometchat-token HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    );
    for _ in 0..(DEFAULT_BODY_LIMIT / 1024 + 2) {
        request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    request.push_str("0\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(&ProblemType::BodyTooLarge.uri()), "{answer}");

    // A body within the limit is fine (and ignored).
    let response = token_post(&base, "alice")
        .body(vec![b' '; DEFAULT_BODY_LIMIT])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        fake.tokens("alice").len(),
        1,
        "oversized requests never mint"
    );
}

#[tokio::test]
async fn body_limit_is_configurable() {
    let (_fake, gate) = fake_and_gate().await;
    let app = Router::new().layer(TokenLayer::new(gate).with_body_limit(0));
    let base = serve(app).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/cometchat-token");
    let response = client
        .post(&url)
        .bearer_auth("a")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let response = client.post(&url).bearer_auth("a").send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn custom_path_moves_the_endpoint() {
    let (fake, gate) = fake_and_gate().await;
    let layer = TokenLayer::new(gate).with_path("/api/chat/token").unwrap();
    assert_eq!(layer.path(), "/api/chat/token");
    let base = serve(
        Router::new()
            .route("/todos", get(|| async { "[]" }))
            .layer(layer),
    )
    .await;
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{base}/api/chat/token"))
        .bearer_auth("bob")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = client
        .post(format!("{base}/cometchat-token"))
        .bearer_auth("bob")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        404,
        "the default path is no longer special"
    );
    assert_eq!(fake.tokens("bob").len(), 1);
}

#[test]
fn invalid_paths_are_refused_at_construction() {
    for bad in [
        "", "token", "/a//b", "/a/", "/{uid}", "/*rest", "/a b", "/a?b", "/ä",
    ] {
        let error = TokenLayer::new(offline_gate()).with_path(bad).unwrap_err();
        assert!(error.to_string().contains("invalid token path"), "{error}");
    }
}

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

#[tokio::test]
async fn missing_and_invalid_credentials_get_distinct_challenges() {
    let (fake, gate) = fake_and_gate().await;
    let base = serve(app(gate)).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/cometchat-token");

    let (status, body) = problem(client.post(&url).send().await.unwrap()).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (401, Some(ProblemType::MissingCredentials.uri().as_str()))
    );
    let response = client.post(&url).send().await.unwrap();
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"cometgate\""
    );

    for authorization in ["Basic YWxpY2U6cHc=", "Bearer ", "Bearer invalid"] {
        let response = client
            .post(&url)
            .header("authorization", authorization)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"cometgate\", error=\"invalid_token\"",
            "{authorization}"
        );
        let (status, body) = problem(response).await;
        assert_eq!(status, 401, "{authorization}");
        assert_eq!(body["type"], ProblemType::InvalidCredentials.uri());
    }
    assert_eq!(
        upstream_calls(&fake),
        0,
        "unauthenticated requests never reach CometChat"
    );
}

#[tokio::test]
async fn core_problems_keep_their_headers() {
    let (fake, gate) = fake_and_gate().await;
    fake.push_faults(
        "POST /users/{uid}/auth_tokens",
        [cometchat_fake::Fault::too_many_requests(7)],
    );
    let base = serve(app(gate)).await;
    let response = token_post(&base, "alice").send().await.unwrap();
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is an integer");
    assert!(retry_after >= 1);
    let (status, body) = problem(response).await;
    assert_eq!(status, 503);
    assert_eq!(body["type"], ProblemType::UpstreamRateLimited.uri());
}
