//! Identity from the app's own axum extractors, over real loopback HTTP: the happy path, how
//! extractor rejections map to 401 missing / 401 invalid / 403, and the missing-layer error.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use cometgate::ProblemType;
use cometgate::{Principal, Rejection};
use cometgate_axum::{IntoPrincipal, TokenLayer};
use common::{fake_and_plain_gate, send_token_request as post, serve, upstream_calls};
use http::StatusCode;
use http::request::Parts;
use serde_json::Value;

/// The app's own "current user" extractor, with RFC 6750-style rejections.
struct CurrentUser {
    id: String,
    banned: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        let Some(value) = parts.headers.get("authorization") else {
            return Err((
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", "Bearer realm=\"app\"")],
            )
                .into_response());
        };
        match value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer user:"))
        {
            Some(id) => Ok(Self {
                id: id.trim_start_matches("banned:").to_owned(),
                banned: id.starts_with("banned:"),
            }),
            None => Err((
                StatusCode::UNAUTHORIZED,
                [(
                    "www-authenticate",
                    "Bearer realm=\"app\", error=\"invalid_token\"",
                )],
            )
                .into_response()),
        }
    }
}

impl IntoPrincipal for CurrentUser {
    fn into_principal(self) -> Result<Principal, Rejection> {
        if self.banned {
            return Err(Rejection::refused("banned"));
        }
        Ok(Principal::new("app", self.id))
    }
}

/// Verified claims an auth middleware stores in the extensions.
#[derive(Clone)]
struct Claims {
    sub: String,
}

impl IntoPrincipal for Claims {
    fn into_principal(self) -> Result<Principal, Rejection> {
        Ok(Principal::new("app", self.sub))
    }
}

async fn claims_middleware(mut request: Request, next: Next) -> Response {
    let sub = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    match sub {
        Some(sub) => {
            request.extensions_mut().insert(Claims { sub });
            next.run(request).await
        }
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

#[tokio::test]
async fn extractor_identity_and_its_rejections() {
    let (fake, gate) = fake_and_plain_gate().await;
    let app = Router::new()
        .route("/todos", get(|| async { "[]" }))
        .layer(TokenLayer::from_extractor::<CurrentUser>(gate));
    let base = serve(app).await;

    let response = post(&base, Some("user:alice")).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["uid"], "alice");

    // No credentials: the core's "missing" answer (no `error=`).
    let response = post(&base, None).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"cometgate\""
    );
    assert_eq!(response.headers()["cache-control"], "no-store");

    // The extractor said the token is invalid: the core's "invalid" answer.
    let response = post(&base, Some("garbage")).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"cometgate\", error=\"invalid_token\""
    );

    // Extracted, but `IntoPrincipal` refuses.
    let response = post(&base, Some("user:banned:eve")).await;
    assert_eq!(response.status(), 403);

    assert_eq!(fake.tokens("alice").len(), 1);
    assert!(fake.user("eve").is_none());
    assert_eq!(
        upstream_calls(&fake),
        2,
        "only alice's request reached CometChat (mint, create with its token)"
    );
}

#[derive(Clone)]
struct Directory {
    known: &'static [&'static str],
}

/// An extractor that needs the app's state.
struct KnownUser(String);

impl FromRequestParts<Directory> for KnownUser {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &Directory) -> Result<Self, StatusCode> {
        let user = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(StatusCode::UNAUTHORIZED)?;
        if state.known.contains(&user) {
            Ok(Self(user.to_owned()))
        } else {
            Err(StatusCode::FORBIDDEN)
        }
    }
}

impl IntoPrincipal for KnownUser {
    fn into_principal(self) -> Result<Principal, Rejection> {
        Ok(Principal::new("directory", self.0))
    }
}

#[tokio::test]
async fn extractor_with_state() {
    let (_fake, gate) = fake_and_plain_gate().await;
    let directory = Directory { known: &["ann"] };
    let layer = TokenLayer::from_extractor_with_state::<KnownUser, _>(gate, directory);
    let base = serve(Router::new().layer(layer)).await;
    let response = post(&base, Some("ann")).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["uid"], "ann");
    assert_eq!(post(&base, Some("zed")).await.status(), 403);
    assert_eq!(post(&base, None).await.status(), 401);
}

#[tokio::test]
async fn extension_from_an_auth_middleware() {
    let (_fake, gate) = fake_and_plain_gate().await;
    let app = Router::new()
        .route("/todos", get(|| async { "[]" }))
        .layer(TokenLayer::from_extractor::<Extension<Claims>>(gate))
        .layer(middleware::from_fn(claims_middleware));
    let base = serve(app).await;
    let response = post(&base, Some("zoe")).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["uid"], "zoe");
    // The middleware itself rejects anonymous callers, before the layer.
    assert_eq!(post(&base, None).await.status(), 401);
}

/// A `tracing` writer that keeps what was logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn missing_auth_layer_is_named_with_where_it_goes() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // tracing caches a callsite's interest process-wide, from the first thread to reach it
    // while one dispatcher is registered: a second one, kept for the run, stops a sibling
    // test's thread (no subscriber) from caching `never` for this test's events.
    static ANCHOR: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    ANCHOR.get_or_init(|| tracing::Dispatch::new(tracing_subscriber::registry()));
    // The test runtime is single-threaded, so the server task logs under this default.
    let _guard = tracing::subscriber::set_default(subscriber);

    let (fake, gate) = fake_and_plain_gate().await;
    // The claims middleware was forgotten.
    let app = Router::new().layer(TokenLayer::from_extractor::<Extension<Claims>>(gate));
    let base = serve(app).await;
    let response = post(&base, Some("zoe")).await;
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], ProblemType::Misconfigured.uri());
    let detail = body["detail"].as_str().unwrap();
    // Tests build with debug assertions, so the explanation is in the answer.
    assert!(detail.contains("Claims"), "{detail}");
    assert!(
        detail.contains(".layer(TokenLayer::...).layer(your_auth_layer)"),
        "{detail}"
    );
    assert_eq!(upstream_calls(&fake), 0);

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("ERROR"), "{logged}");
    assert!(logged.contains("misconfigured"), "{logged}");
    assert!(logged.contains("Extension<extractor::Claims>"), "{logged}");
    assert!(logged.contains("Missing request extension"), "{logged}");
}

/// Like axum-login's `AuthSession`: always present when its layer runs, with an optional user.
#[derive(Clone)]
struct Session {
    user: Option<String>,
}

async fn session_middleware(mut request: Request, next: Next) -> Response {
    let user = request
        .headers()
        .get("cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("session="))
        .map(str::to_owned);
    request.extensions_mut().insert(Session { user });
    next.run(request).await
}

#[tokio::test]
async fn extractor_with_a_conversion_closure() {
    let (fake, gate) = fake_and_plain_gate().await;
    let layer = TokenLayer::from_extractor_fn(gate, |Extension(session): Extension<Session>| {
        let user = session.user.ok_or(Rejection::Missing)?;
        Ok(Principal::new("sessions", user))
    });
    let app = Router::new()
        .layer(layer)
        .layer(middleware::from_fn(session_middleware));
    let base = serve(app).await;
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{base}/cometchat-token"))
        .header("cookie", "session=sam")
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["uid"], "sam");

    // Session layer present, nobody signed in: 401 missing, not a misconfiguration.
    let response = post(&base, None).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"cometgate\""
    );
    assert_eq!(fake.tokens("sam").len(), 1);
}
