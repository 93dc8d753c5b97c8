//! Helpers shared by the gate's integration tests: a test identity, configs for the fake and
//! wiremock, and a one-call way to ask the endpoint.
#![allow(dead_code)] // each test binary uses its own subset

pub mod logs;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use cometchat_fake::FakeCometChat;
use cometgate::endpoint::{Answer, Endpoint};
use cometgate::identity::SimpleRequest;
use cometgate::retry::RetryPolicy;
use cometgate::vend::{Gate, GateBuilder, ProblemType};
use cometgate::{Config, Identity, Principal, Rejection, RequestView, UidMapper, UidMapping};
use wiremock::MockServer;

pub const MINT: &str = "POST /users/{uid}/auth_tokens";
pub const CREATE: &str = "POST /users";

/// `Authorization: Bearer good:<sub>[:<name>]` is `<sub>`; `Bearer banned:<sub>` is refused;
/// any other bearer value is invalid; no header is missing credentials.
pub struct TestAuth;

impl Identity for TestAuth {
    type Credentials = String;

    fn extract<R: RequestView + ?Sized>(&self, request: &R) -> Result<String, Rejection> {
        let value = request
            .header_str("authorization")
            .ok_or(Rejection::Missing)?;
        value
            .strip_prefix("Bearer ")
            .map(str::to_owned)
            .ok_or_else(|| Rejection::invalid("not a bearer token"))
    }

    async fn verify(&self, token: String) -> Result<Principal, Rejection> {
        let mut parts = token.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("good"), Some(sub), None) => Ok(Principal::new("test", sub)),
            (Some("good"), Some(sub), Some(name)) => {
                Ok(Principal::new("test", sub).with_name(name))
            }
            (Some("banned"), Some(_), _) => Err(Rejection::refused("banned in tests")),
            _ => Err(Rejection::invalid("unknown test token")),
        }
    }
}

pub fn request(bearer: &str) -> SimpleRequest {
    SimpleRequest::post("/cometchat-token").with_header("Authorization", format!("Bearer {bearer}"))
}

/// The fake with one user, `uid` (named after it).
pub async fn fake_with_user(uid: &str) -> FakeCometChat {
    FakeCometChat::builder()
        .seed_user(cometchat_fake::FakeUser::new(uid, uid))
        .start()
        .await
        .unwrap()
}

pub fn fake_config(cc: &FakeCometChat) -> Config {
    Config::builder()
        .app_id(cc.app_id())
        .region(cc.region().parse().unwrap())
        .rest_api_key(cc.api_key())
        .api_base(cc.base_url())
        .build()
        .unwrap()
}

pub fn mock_config(server: &MockServer, key: &str) -> Config {
    Config::builder()
        .app_id("testapp")
        .region("us".parse().unwrap())
        .rest_api_key(key)
        .api_base(format!("{}/v3", server.uri()))
        .build()
        .unwrap()
}

/// Readable UIDs (subject = UID) and fast retries, so tests neither wait nor decode.
pub fn builder(config: Config) -> GateBuilder<TestAuth> {
    Gate::builder()
        .config(config)
        .identity(TestAuth)
        .uid_mapper(UidMapper::shared_namespace(UidMapping::Readable))
        .retry_policy(
            RetryPolicy::builder()
                .initial_delay(Duration::from_millis(10))
                .jitter(0.0)
                .deadline(Duration::from_secs(10))
                .build(),
        )
}

/// The endpoint around a gate, answering one in-memory request on the token route.
pub trait Ask {
    /// A request without a body: a new device each time.
    fn answer(&self, request: &SimpleRequest) -> impl Future<Output = Answer> + Send + 'static {
        self.answer_with(request, String::new())
    }

    fn answer_with(
        &self,
        request: &SimpleRequest,
        body: String,
    ) -> impl Future<Output = Answer> + Send + 'static;

    /// A request from the device `device`.
    fn answer_on(
        &self,
        request: &SimpleRequest,
        device: &str,
    ) -> impl Future<Output = Answer> + Send + 'static {
        self.answer_with(request, format!(r#"{{"deviceId": "{device}"}}"#))
    }
}

impl<I: Identity> Ask for Gate<I> {
    fn answer_with(
        &self,
        request: &SimpleRequest,
        body: String,
    ) -> impl Future<Output = Answer> + Send + 'static {
        Endpoint::new(self.clone())
            .serve(request, Bytes::from(body))
            .expect("a request on the token route")
    }
}

pub fn problem_type(answer: &Answer) -> Option<ProblemType> {
    answer.problem().map(|p| p.problem_type())
}

pub fn header(answer: &Answer, name: &str) -> Option<String> {
    answer.header(name).map(str::to_owned)
}

pub fn body(answer: &Answer) -> serde_json::Value {
    serde_json::from_slice(answer.body()).unwrap()
}

/// The token of a `200` answer (and fails on any other).
pub fn token(answer: &Answer) -> String {
    assert_eq!(answer.status(), 200, "{answer:?}");
    body(answer)["authToken"].as_str().unwrap().to_owned()
}

/// The revoke route as `bearer`, with `body`.
pub async fn revoke<I: Identity>(gate: &Gate<I>, bearer: &str, body: &str) -> Answer {
    Endpoint::new(gate.clone())
        .serve(
            &SimpleRequest::post("/cometchat-token/revoke")
                .with_header("Authorization", format!("Bearer {bearer}")),
            body.to_owned().into(),
        )
        .expect("the revoke route")
        .await
}
