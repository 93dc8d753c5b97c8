//! The REST client and the proxy the environment names (`HTTPS_PROXY` and friends, as reqwest
//! reads them): an `https` API is reached through it (tunnelled, TLS end to end); an `http`
//! API on loopback (a fake) never is, since the REST API key would cross the network in clear.
//!
//! The environment is the process's, so each case runs its client in a child process of this
//! test binary started with the proxy variables set (no test changes its own environment); the
//! parent runs a proxy that records the first line of every request it is sent and refuses it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cometgate::client::Client;
use cometgate::retry::RetryPolicy;
use cometgate::{Config, Region, Uid};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "f1915e328e249ffaaafd97fb46a57ba55d233fbf";
const TOKEN: &str = "user_000_1694668129d2eca40a65abba29e6860224018ad8";
/// Set in a child: the loopback port its API base names.
const API_PORT: &str = "COMETGATE_TEST_API_PORT";
const PROXY_VARIABLES: [&str; 6] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

fn client(api_base: &str) -> Client {
    let config = Config::builder()
        .app_id("testapp")
        .region(Region::Us)
        .rest_api_key(KEY)
        .api_base(api_base)
        .build()
        .unwrap();
    Client::builder(config)
        .retry_policy(RetryPolicy::no_retry(Duration::from_secs(5)))
        .build()
        .unwrap()
}

fn mint(client: &Client) -> Result<String, cometgate::client::Error> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(client.create_auth_token(&Uid::parse("user_000").unwrap()))
        .map(|t| t.auth_token.expose().to_owned())
}

/// A proxy on loopback that records each request's first line and answers 403.
fn recording_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut line = String::new();
            let _ = BufReader::new(&stream).read_line(&mut line);
            record.lock().unwrap().push(line.trim_end().to_owned());
            let _ = (&stream).write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
        }
    });
    (url, seen)
}

/// Runs `test` (this binary's test of that name) in a child with `API_PORT` = `api_port` and
/// every proxy variable set to `proxy`, and asserts that it passed.
fn in_a_child(test: &str, api_port: u16, proxy: &str) {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args(["--exact", test, "--nocapture"])
        .env(API_PORT, api_port.to_string())
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        // A CGI environment makes every proxy variable but HTTPS_PROXY be ignored.
        .env_remove("REQUEST_METHOD");
    for variable in PROXY_VARIABLES {
        child.env(variable, proxy);
    }
    let status = child.status().unwrap();
    assert!(status.success(), "the child failed: {status}");
}

/// A port on loopback that nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn an_https_api_is_reached_through_the_proxy_the_environment_names() {
    if let Ok(port) = std::env::var(API_PORT) {
        // The child: the proxy refuses the tunnel, so the mint fails.
        let outcome = mint(&client(&format!("https://127.0.0.1:{port}/v3")));
        assert!(outcome.is_err(), "{outcome:?}");
        return;
    }
    let (proxy, seen) = recording_proxy();
    let api_port = closed_port();
    in_a_child(
        "an_https_api_is_reached_through_the_proxy_the_environment_names",
        api_port,
        &proxy,
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [format!("CONNECT 127.0.0.1:{api_port} HTTP/1.1")],
        "one tunnel asked of the proxy, to the API"
    );
}

#[test]
fn an_http_api_on_loopback_is_never_proxied() {
    if let Ok(port) = std::env::var(API_PORT) {
        // The child: the fake answers, directly.
        let token = mint(&client(&format!("http://127.0.0.1:{port}/v3")));
        assert_eq!(token.expect("minted directly"), TOKEN);
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v3/users/user_000/auth_tokens"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
                "uid": "user_000", "authToken": TOKEN, "createdAt": 1694668129}})))
            .mount(&server)
            .await;
        server
    });
    let (proxy, seen) = recording_proxy();
    let api_port = api.address().port();
    in_a_child("an_http_api_on_loopback_is_never_proxied", api_port, &proxy);
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
    let calls = runtime
        .block_on(api.received_requests())
        .unwrap_or_default();
    assert_eq!(calls.len(), 1, "the API got the call itself");
}
