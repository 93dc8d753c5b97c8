//! One `cometgate::vend` tracing event per token request, whatever the outcome (including the
//! adapter's own 405 and 413), carrying the request id the client sees; none for the app's
//! other routes; and an identity that reads an extension set by the app's middleware.

mod common;

use std::sync::{Arc, Mutex};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage, web};
use cometgate::vend::Gate;
use cometgate::{Identity, Principal, Rejection, RequestView, UidMapper, UidMapping};
use cometgate_actix::TokenEndpoint;
use common::{config, token_post};

/// Every event's formatted line, from every thread (actix workers included).
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    fn vend_events_with(&self, request_id: &str) -> usize {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        text.lines()
            .filter(|l| {
                l.contains("cometgate::vend") && l.contains(&format!("request_id=\"{request_id}\""))
            })
            .count()
    }
}

/// The app's verified claims, inserted by its auth middleware.
#[derive(Clone)]
struct Claims(String);

/// A core identity that reads the claims extension.
struct FromClaims;

impl Identity for FromClaims {
    type Credentials = Claims;

    fn extract<R: RequestView + ?Sized>(&self, request: &R) -> Result<Claims, Rejection> {
        request.extension::<Claims>().ok_or(Rejection::Missing)
    }

    async fn verify(&self, claims: Claims) -> Result<Principal, Rejection> {
        Ok(Principal::new("https://app.test", claims.0))
    }
}

async fn auth(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let user = request
        .headers()
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(user) = user {
        request.extensions_mut().insert(Claims(user));
    }
    next.call(request).await
}

#[tokio::test]
async fn one_event_per_token_request_and_extensions_reach_the_identity() {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let fake = cometchat_fake::FakeCometChat::start().await;
    let gate = Gate::builder()
        .config(config(&fake))
        .identity(FromClaims)
        .uid_mapper(UidMapper::shared_namespace(UidMapping::Readable))
        .build()
        .unwrap();
    let endpoint = TokenEndpoint::new(gate).with_body_limit(16);
    let base = serve!(move || App::new()
        .route("/todos", web::get().to(|| async { "[]" }))
        .wrap(endpoint.clone())
        .wrap(from_fn(auth)));
    let client = reqwest::Client::new();

    let ok = token_post(&base, None)
        .header("x-user", "dora")
        .header("x-request-id", "ev-ok")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(body["uid"], "dora");

    let missing = token_post(&base, None)
        .header("x-request-id", "ev-401")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);

    let get = client
        .get(format!("{base}/cometchat-token"))
        .header("x-request-id", "ev-405")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);

    let big = token_post(&base, None)
        .header("x-user", "dora")
        .header("x-request-id", "ev-413")
        .body(vec![b'x'; 17])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);

    let todos = client
        .get(format!("{base}/todos"))
        .header("x-request-id", "ev-todos")
        .send()
        .await
        .unwrap();
    assert_eq!(todos.status(), 200);

    for id in ["ev-ok", "ev-401", "ev-405", "ev-413"] {
        assert_eq!(lines.vend_events_with(id), 1, "{id}");
    }
    assert_eq!(lines.vend_events_with("ev-todos"), 0);
}
