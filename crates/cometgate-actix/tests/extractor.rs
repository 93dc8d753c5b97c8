//! Identity from the app's own actix extractor (`ReqData<T>` filled by its auth middleware),
//! and the diagnosis when that middleware is missing.

mod common;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::web::ReqData;
use actix_web::{App, HttpMessage, web};
use cometgate::{Principal, ProblemType, Rejection};
use cometgate_actix::{IntoPrincipal, TokenEndpoint};
use common::{extractor_gate, json, token_post, upstream_calls};

#[derive(Clone)]
struct SessionUser {
    id: String,
    banned: bool,
}

impl IntoPrincipal for SessionUser {
    fn into_principal(self) -> Result<Principal, Rejection> {
        if self.banned {
            return Err(Rejection::refused("banned"));
        }
        Ok(Principal::new("https://app.test", self.id).with_name("Session User"))
    }
}

/// The app's auth middleware: `x-session: <id>` signs `<id>` in; `x-session: banned` is a
/// banned user; no header leaves the extensions empty.
async fn sessions(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let session = request
        .headers()
        .get("x-session")
        .and_then(|v| v.to_str().ok())
        .map(|id| SessionUser {
            id: id.to_owned(),
            banned: id == "banned",
        });
    if let Some(session) = session {
        request.extensions_mut().insert(session);
    }
    next.call(request).await
}

#[tokio::test]
async fn the_apps_extractor_identifies_the_caller() {
    let fake = cometchat_fake::FakeCometChat::start().await;
    let endpoint =
        TokenEndpoint::from_extractor::<Option<ReqData<SessionUser>>>(extractor_gate(&fake));
    let base = serve!(move || App::new().wrap(endpoint.clone()).wrap(from_fn(sessions)));

    let response = token_post(&base, None)
        .header("x-session", "s-42")
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["uid"], "s-42");
    assert_eq!(fake.user("s-42").unwrap().name, "Session User");

    let (status, body) = json(token_post(&base, None).send().await.unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(body["type"], ProblemType::MissingCredentials.uri());

    let response = token_post(&base, None)
        .header("x-session", "banned")
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 403);
    assert_eq!(body["type"], ProblemType::IdentityRefused.uri());
}

#[tokio::test]
async fn a_missing_middleware_is_named_not_mistaken_for_a_401() {
    let fake = cometchat_fake::FakeCometChat::start().await;
    let endpoint = TokenEndpoint::from_extractor::<ReqData<SessionUser>>(extractor_gate(&fake));
    // The session middleware is wrapped *before* the endpoint, so it runs after it.
    let base = serve!(move || App::new().wrap(from_fn(sessions)).wrap(endpoint.clone()));
    let response = token_post(&base, None)
        .header("x-session", "s-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, body) = json(response).await;
    assert_eq!(status, 500);
    assert_eq!(body["type"], ProblemType::Misconfigured.uri());
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("SessionUser"), "{detail}");
    assert!(detail.contains(".wrap(your_auth_middleware)"), "{detail}");
    assert_eq!(upstream_calls(&fake), 0);
}

#[tokio::test]
async fn a_closure_converts_types_the_app_does_not_own() {
    let fake = cometchat_fake::FakeCometChat::start().await;
    // `web::Header`-style extractors work too: here the `Authorization` header as a string.
    let endpoint = TokenEndpoint::from_extractor_fn(
        extractor_gate(&fake),
        |auth: web::Header<actix_web::http::header::ContentType>| {
            Ok(Principal::new(
                "https://app.test",
                auth.0.essence_str().replace('/', "-"),
            ))
        },
    );
    let base = serve!(move || App::new().configure(endpoint.configure()));

    let response = token_post(&base, None)
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["uid"], "text-plain");

    // The extractor fails with a 400: invalid credentials, never a 500.
    let (status, body) = json(token_post(&base, None).send().await.unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(body["type"], ProblemType::InvalidCredentials.uri());
}
