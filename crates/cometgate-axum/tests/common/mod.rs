//! Shared helpers for the adapter's integration tests: a loopback server and a [`Backend`]
//! double that stands in for the core where a test is about the adapter's own HTTP behaviour.
#![allow(dead_code, missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use cometgate::{Principal, Rejection, RequestView};
use cometgate_axum::{Backend, PartsView};
use http::StatusCode;

/// Serves `app` on 127.0.0.1:0 (with `ConnectInfo`) and returns its base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{addr}")
}

/// A `POST` to the default token path with a bearer token.
pub fn token_post(base: &str, bearer: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{base}/cometchat-token"))
        .bearer_auth(bearer)
}

/// Sends a `POST` to the default token path, with a bearer token if given.
pub async fn send_token_request(base: &str, bearer: Option<&str>) -> reqwest::Response {
    let request = reqwest::Client::new().post(format!("{base}/cometchat-token"));
    let request = match bearer {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.unwrap()
}

/// A backend double: `Authorization: Bearer <sub>` identifies `<sub>`; the token is
/// `tok-<sub>`. Counts every call so tests can prove pass-through requests never reach it.
#[derive(Clone, Default)]
pub struct StubBackend {
    pub calls: Arc<AtomicUsize>,
}

impl StubBackend {
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn token(&self, uid: &str, peer: Option<SocketAddr>) -> Response {
        let body = serde_json::json!({ "authToken": format!("tok-{uid}"), "uid": uid });
        let mut response = Response::new(Body::from(body.to_string()));
        set(&mut response, "content-type", "application/json");
        set(&mut response, "cache-control", "no-store");
        if let Some(peer) = peer {
            set(&mut response, "x-stub-peer", &peer.ip().to_string());
        }
        response
    }

    fn problem(status: StatusCode, challenge: Option<&str>) -> Response {
        let mut response = Response::new(Body::from(
            serde_json::json!({ "status": status.as_u16() }).to_string(),
        ));
        *response.status_mut() = status;
        set(&mut response, "content-type", "application/problem+json");
        if let Some(challenge) = challenge {
            set(&mut response, "www-authenticate", challenge);
        }
        response
    }
}

impl Backend for StubBackend {
    async fn answer_request(&self, request: &PartsView<'_>, request_id: &str) -> Response {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut response = match request.header_str("authorization") {
            None => self.answer_rejection(Rejection::Missing, request_id),
            Some(value) => match value.strip_prefix("Bearer ") {
                Some(sub) if !sub.is_empty() => self.token(sub, request.peer_addr()),
                _ => self.answer_rejection(Rejection::invalid("not bearer"), request_id),
            },
        };
        set(&mut response, "x-stub-request-id", request_id);
        response
    }

    async fn answer_principal(&self, principal: Principal, _request_id: &str) -> Response {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.token(principal.subject(), None)
    }

    fn answer_rejection(&self, rejection: Rejection, _request_id: &str) -> Response {
        match rejection {
            Rejection::Missing => {
                Self::problem(StatusCode::UNAUTHORIZED, Some("Bearer realm=\"stub\""))
            }
            Rejection::Invalid { .. } => Self::problem(
                StatusCode::UNAUTHORIZED,
                Some("Bearer realm=\"stub\", error=\"invalid_token\""),
            ),
            Rejection::Refused { .. } => Self::problem(StatusCode::FORBIDDEN, None),
        }
    }
}

fn set(response: &mut Response, name: &'static str, value: &str) {
    response.headers_mut().insert(name, value.parse().unwrap());
}
