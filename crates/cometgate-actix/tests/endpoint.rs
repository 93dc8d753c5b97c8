//! The endpoint over real HTTP (loopback), in both forms (middleware and `configure`), with
//! `cometchat-fake` as CometChat.

mod common;

use actix_web::{App, HttpMessage, HttpRequest, HttpResponse, web};
use cometgate::ProblemType;
use cometgate::vend::{Gate, RateLimit};
use cometgate::{UidMapper, UidMapping};
use cometgate_actix::TokenEndpoint;
use common::{BearerUser, config, fake_and_gate, json, token_post, upstream_calls};

/// An ordinary route that shows what reached it: method, body, a header and an extension.
async fn echo(request: HttpRequest, body: web::Bytes) -> HttpResponse {
    let marker = request.extensions().get::<Marker>().map(|m| m.0);
    HttpResponse::Ok().json(serde_json::json!({
        "method": request.method().as_str(),
        "body": String::from_utf8_lossy(&body),
        "header": request.headers().get("x-app").and_then(|v| v.to_str().ok()),
        "marker": marker,
    }))
}

#[derive(Clone)]
struct Marker(&'static str);

#[tokio::test]
async fn middleware_mints_for_the_identity_and_passes_everything_else_through() {
    let (fake, gate) = fake_and_gate().await;
    let endpoint = TokenEndpoint::new(gate);
    let base = serve!(move || {
        App::new()
        .route("/todos", web::post().to(echo))
        .wrap(endpoint.clone())
        .wrap(actix_web::middleware::from_fn(
            |request: actix_web::dev::ServiceRequest,
             next: actix_web::middleware::Next<_>| async move {
                request.extensions_mut().insert(Marker("from-upstream"));
                next.call(request).await
            }
        ))
    });

    let response = token_post(&base, Some("alice")).send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["x-request-id"].len(), 32);
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["uid"], "alice");
    assert_eq!(fake.tokens("alice"), [body["authToken"].as_str().unwrap()]);

    // Pass-through: method, body, headers and extensions reach the app's route intact, and the
    // app's own 404 stays the app's.
    let calls = upstream_calls(&fake);
    let response = reqwest::Client::new()
        .post(format!("{base}/todos"))
        .header("x-app", "kept")
        .body("uid=mallory")
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("x-request-id").is_none());
    let (status, body) = json(response).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        serde_json::json!({"method": "POST", "body": "uid=mallory", "header": "kept", "marker": "from-upstream"})
    );
    let missing = reqwest::get(format!("{base}/nope")).await.unwrap();
    assert_eq!(missing.status(), 404);
    // Only the exact path is the token endpoint.
    let near = reqwest::Client::new()
        .post(format!("{base}/cometchat-token/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(near.status(), 404);
    assert_eq!(upstream_calls(&fake), calls);
}

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
async fn oversized_bodies_get_413_whether_declared_or_streamed() {
    let (fake, gate) = fake_and_gate().await;
    let endpoint = TokenEndpoint::new(gate).with_body_limit(64);
    let base = serve!(move || App::new().wrap(endpoint.clone()));

    let declared = token_post(&base, Some("alice"))
        .body(vec![b'x'; 65])
        .send()
        .await
        .unwrap();
    let (status, body) = json(declared).await;
    assert_eq!(status, 413);
    assert_eq!(body["type"], ProblemType::BodyTooLarge.uri());

    // A chunked body (no Content-Length) over the limit, written by hand on the socket.
    let head = streamed_request(&base, &[&[b'x'; 40], &[b'y'; 40]]).await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert_eq!(upstream_calls(&fake), 0);

    // At the limit is fine (and the body is ignored for identity).
    let at_limit = token_post(&base, Some("alice"))
        .body(format!("{{\"uid\":\"mallory\"{}}}", " ".repeat(64 - 17)))
        .send()
        .await
        .unwrap();
    let (status, body) = json(at_limit).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["uid"], "alice");
}

#[tokio::test]
async fn missing_and_invalid_credentials_get_different_challenges() {
    let (fake, gate) = fake_and_gate().await;
    let endpoint = TokenEndpoint::new(gate);
    let base = serve!(move || App::new().wrap(endpoint.clone()));

    let missing = token_post(&base, None).send().await.unwrap();
    assert_eq!(
        missing.headers()["www-authenticate"],
        "Bearer realm=\"cometgate\""
    );
    let (status, body) = json(missing).await;
    assert_eq!(status, 401);
    assert_eq!(body["type"], ProblemType::MissingCredentials.uri());

    for authorization in ["Basic abc", "Bearer invalid", "Bearer "] {
        let response = reqwest::Client::new()
            .post(format!("{base}/cometchat-token"))
            .header("authorization", authorization)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"cometgate\", error=\"invalid_token\"",
            "{authorization}"
        );
        let (status, body) = json(response).await;
        assert_eq!(status, 401, "{authorization}");
        assert_eq!(body["type"], ProblemType::InvalidCredentials.uri());
    }
    assert_eq!(upstream_calls(&fake), 0);
}

#[tokio::test]
async fn request_ids_are_echoed_when_safe_and_replaced_otherwise() {
    let (_fake, gate) = fake_and_gate().await;
    let endpoint = TokenEndpoint::new(gate);
    let base = serve!(move || App::new().wrap(endpoint.clone()));

    let kept = token_post(&base, None)
        .header("x-request-id", "trace-42.a:b")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "trace-42.a:b");
    let (_, body) = json(kept).await;
    assert_eq!(body["requestId"], "trace-42.a:b");

    let replaced = token_post(&base, None)
        .header("x-request-id", "has space\"quote")
        .send()
        .await
        .unwrap();
    let id = replaced.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
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

#[tokio::test]
async fn core_problems_keep_their_headers() {
    let fake = cometchat_fake::FakeCometChat::start().await;
    let gate = Gate::builder()
        .config(config(&fake))
        .identity(BearerUser)
        .uid_mapper(UidMapper::shared_namespace(UidMapping::Readable))
        .per_user_limit(RateLimit::per_minute(1).with_burst(1))
        .build()
        .unwrap();
    let endpoint = TokenEndpoint::new(gate);
    let base = serve!(move || App::new().wrap(endpoint.clone()));

    // CometChat says 429: 503 with Retry-After. (`Retry-After: 0` opens no cooldown window,
    // so bob's mint below still reaches CometChat.)
    fake.push_faults(
        "POST /users/{uid}/auth_tokens",
        [cometchat_fake::Fault::too_many_requests(0)],
    );
    let response = token_post(&base, Some("alice")).send().await.unwrap();
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is an integer");
    assert!(retry_after >= 1);
    let (status, body) = json(response).await;
    assert_eq!(status, 503);
    assert_eq!(body["type"], ProblemType::UpstreamRateLimited.uri());

    // The per-user limit (burst 1, spent above): 429 with Retry-After; another user is fine.
    let response = token_post(&base, Some("alice")).send().await.unwrap();
    assert!(
        response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let (status, body) = json(response).await;
    assert_eq!(status, 429);
    assert_eq!(body["type"], ProblemType::RateLimited.uri());
    let (status, _) = json(token_post(&base, Some("bob")).send().await.unwrap()).await;
    assert_eq!(status, 200);

    // A CometChat 4xx: 502, generic, no-store.
    fake.push_faults(
        "POST /users/{uid}/auth_tokens",
        [cometchat_fake::Fault::status(401)],
    );
    let response = token_post(&base, Some("carol")).send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, body) = json(response).await;
    assert_eq!(status, 502);
    assert_eq!(body["type"], ProblemType::UpstreamFailure.uri());
    assert!(!body.to_string().contains(fake.api_key()));
}

#[tokio::test]
async fn parallel_first_requests_share_one_mint_and_one_creation() {
    let (fake, gate) = fake_and_gate().await;
    let endpoint = TokenEndpoint::new(gate);
    let base = serve!(move || App::new().wrap(endpoint.clone()));
    let requests = (0..20).map(|_| token_post(&base, Some("newbie")).send());
    let responses = futures_util::future::join_all(requests).await;
    for response in responses {
        assert_eq!(response.unwrap().status(), 200);
    }
    assert_eq!(fake.count("POST /users"), 1);
    assert_eq!(fake.users().len(), 1);
}

/// Sends a chunked `POST /cometchat-token` with the given chunks and returns the response head.
async fn streamed_request(base: &str, chunks: &[&[u8]]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "POST /cometchat-token HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer alice\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in chunks {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    socket.write_all(&request).await.unwrap();
    let mut response = Vec::new();
    // The server may close while we still write; whatever was answered is in the buffer.
    let _ = socket.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).into_owned()
}
