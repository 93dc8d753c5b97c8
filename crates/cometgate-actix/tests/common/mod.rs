//! Shared helpers for the adapter's integration tests: an actix server on a loopback socket, a
//! real cometgate `Gate` in front of `cometchat-fake`, and a tiny bearer identity.
#![allow(dead_code, missing_docs)]

use cometchat_fake::FakeCometChat;
use cometgate::vend::{Gate, RateLimit};
use cometgate::{Config, Identity, Principal, Rejection, RequestView, UidMapper, UidMapping};

/// Serves the app made by the factory (`move || App::new()...`) on 127.0.0.1:0 with one actix
/// worker thread, and evaluates to its base URL. The server future runs on the test's tokio
/// runtime; the worker has its own runtime thread (actix-web's `!Send` requests).
#[macro_export]
macro_rules! serve {
    ($factory:expr) => {{
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = actix_web::HttpServer::new($factory)
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run();
        tokio::spawn(server);
        format!("http://{addr}")
    }};
}

/// A `POST` to the default token path, with a bearer token if given.
pub fn token_post(base: &str, bearer: Option<&str>) -> reqwest::RequestBuilder {
    let request = reqwest::Client::new().post(format!("{base}/cometchat-token"));
    match bearer {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

/// Status and parsed JSON body.
pub async fn json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// `Authorization: Bearer <user>` is `<user>`; `Bearer peer` names the caller's IP address
/// (`peer-127-0-0-1`), to show the view exposes the peer; `Bearer invalid` is invalid.
pub struct BearerUser;

impl Identity for BearerUser {
    type Credentials = (String, Option<std::net::SocketAddr>);

    fn extract<R: RequestView + ?Sized>(
        &self,
        request: &R,
    ) -> Result<Self::Credentials, Rejection> {
        let value = request.header("authorization").ok_or(Rejection::Missing)?;
        let user = std::str::from_utf8(value)
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Rejection::invalid("not a bearer token"))?;
        Ok((user.to_owned(), request.peer_addr()))
    }

    async fn verify(&self, (user, peer): Self::Credentials) -> Result<Principal, Rejection> {
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

/// A fake and a gate with readable UIDs and relaxed limits in front of it.
pub async fn fake_and_gate() -> (FakeCometChat, Gate<BearerUser>) {
    let fake = FakeCometChat::start().await;
    let gate = Gate::builder()
        .config(config(&fake))
        .identity(BearerUser)
        .uid_mapper(UidMapper::shared_namespace(UidMapping::Readable))
        .per_user_limit(RateLimit::per_minute(10_000).with_burst(10_000))
        .build()
        .unwrap();
    (fake, gate)
}

/// A gate without identity (for extractor-based endpoints) in front of `fake`.
pub fn extractor_gate(fake: &FakeCometChat) -> Gate {
    Gate::builder()
        .config(config(fake))
        .uid_mapper(UidMapper::shared_namespace(UidMapping::Readable))
        .build()
        .unwrap()
}

/// How many calls CometChat got.
pub fn upstream_calls(fake: &FakeCometChat) -> usize {
    fake.journal().len()
}
