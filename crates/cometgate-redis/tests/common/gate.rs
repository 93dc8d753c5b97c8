//! A gate on a Redis store against `cometchat-fake`, asked through the core's HTTP-neutral
//! endpoint.

use std::time::Duration;

use bytes::Bytes;
use cometchat_fake::FakeCometChat;
use cometgate::endpoint::{Answer, Endpoint};
use cometgate::identity::SimpleRequest;
use cometgate::retry::RetryPolicy;
use cometgate::vend::{Gate, GateBuilder};
use cometgate::{Config, Identity, Principal, Rejection, RequestView, UidMapper, UidMapping};
use cometgate_redis::RedisStore;

/// `Authorization: Bearer <subject>`: the subject is the user (readable UIDs).
pub struct BearerIsSubject;

impl Identity for BearerIsSubject {
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
        Ok(Principal::new("test", token))
    }
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

/// A gate on `store` (its token, account and limit store, as a replica is wired), with fast
/// retries.
pub fn builder(cc: &FakeCometChat, store: &RedisStore) -> GateBuilder<BearerIsSubject> {
    Gate::builder()
        .config(fake_config(cc))
        .identity(BearerIsSubject)
        .uid_mapper(UidMapper::shared_namespace(UidMapping::Readable))
        .store(store.clone())
        .retry_policy(
            RetryPolicy::builder()
                .initial_delay(Duration::from_millis(10))
                .jitter(0.0)
                .deadline(Duration::from_secs(5))
                .build(),
        )
}

/// `POST path` as `user` with `body`.
pub async fn ask(
    endpoint: &Endpoint<BearerIsSubject>,
    path: &str,
    user: &str,
    body: &str,
) -> Answer {
    let request = SimpleRequest::post(path).with_header("Authorization", format!("Bearer {user}"));
    endpoint
        .serve(&request, Bytes::from(body.to_owned()))
        .expect("a route of the endpoint")
        .await
}

/// A token request from `user`'s device `device`.
pub async fn token_for(endpoint: &Endpoint<BearerIsSubject>, user: &str, device: &str) -> Answer {
    ask(
        endpoint,
        "/cometchat-token",
        user,
        &format!(r#"{{"deviceId": "{device}"}}"#),
    )
    .await
}

/// The token of a `200` answer (fails on any other).
pub fn token(answer: &Answer) -> String {
    assert_eq!(answer.status(), 200, "{answer:?}");
    let json: serde_json::Value = serde_json::from_slice(answer.body()).unwrap();
    json["authToken"].as_str().unwrap().to_owned()
}
