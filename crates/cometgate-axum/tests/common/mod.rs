//! Shared helpers for the adapter's integration tests: a loopback server, a real cometgate
//! `Gate` in front of `cometchat-fake`, and a tiny bearer identity.
#![allow(dead_code, missing_docs)]

use std::net::SocketAddr;

use axum::Router;
use cometchat_fake::FakeCometChat;
use cometgate::vend::Gate;
use cometgate::{Config, Identity, Principal, Rejection, RequestView, UidMapper, UidMapping};

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

/// `Authorization: Bearer <user>` is `<user>`; `Bearer peer` is the caller's IP address
/// (`peer-127-0-0-1`), to show the view exposes `ConnectInfo`; anything else is invalid.
pub struct BearerUser;

/// What [`BearerUser::extract`] copies out: the user, or the peer address for `Bearer peer`.
pub type BearerCredentials = (String, Option<SocketAddr>);

impl Identity for BearerUser {
    type Credentials = BearerCredentials;

    fn extract<R: RequestView + ?Sized>(
        &self,
        request: &R,
    ) -> Result<BearerCredentials, Rejection> {
        let value = request.header("authorization").ok_or(Rejection::Missing)?;
        let user = std::str::from_utf8(value)
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Rejection::invalid("not a bearer token"))?;
        Ok((user.to_owned(), request.peer_addr()))
    }

    async fn verify(&self, (user, peer): BearerCredentials) -> Result<Principal, Rejection> {
        match (user.as_str(), peer) {
            ("invalid", _) => Err(Rejection::invalid("test says invalid")),
            ("peer", Some(peer)) => Ok(Principal::new(
                "test",
                format!("peer-{}", peer.ip()).replace('.', "-"),
            )),
            ("peer", None) => Ok(Principal::new("test", "no-peer")),
            _ => Ok(Principal::new("test", user)),
        }
    }
}

/// The connection settings of `fake`.
pub fn config(fake: &FakeCometChat) -> Config {
    Config::builder()
        .app_id(fake.app_id())
        .region(fake.region().parse().unwrap())
        .rest_api_key(fake.api_key())
        .api_base(fake.base_url())
        .build()
        .unwrap()
}

/// A fake and a gate in front of it that identifies callers with [`BearerUser`] and keeps
/// subjects as UIDs.
pub async fn fake_and_gate() -> (FakeCometChat, Gate<BearerUser>) {
    let fake = FakeCometChat::start().await;
    let gate = Gate::builder()
        .config(config(&fake))
        .identity(BearerUser)
        .uid_mapper(UidMapper::shared_namespace(UidMapping::Readable))
        .build()
        .unwrap();
    (fake, gate)
}

/// A fake and a gate without an identity of its own (for extractor-based layers).
pub async fn fake_and_plain_gate() -> (FakeCometChat, Gate) {
    let fake = FakeCometChat::start().await;
    let gate = Gate::builder()
        .config(config(&fake))
        .uid_mapper(UidMapper::shared_namespace(UidMapping::Readable))
        .build()
        .unwrap();
    (fake, gate)
}

/// A gate whose CometChat is never called (for construction-only tests).
pub fn offline_gate() -> Gate<BearerUser> {
    let config = Config::builder()
        .app_id("offline")
        .region(cometgate::Region::Us)
        .rest_api_key("0123456789abcdef")
        .build()
        .unwrap();
    Gate::builder()
        .config(config)
        .identity(BearerUser)
        .build()
        .unwrap()
}

/// How many requests reached CometChat (the fake).
pub fn upstream_calls(fake: &FakeCometChat) -> usize {
    fake.journal().len()
}
