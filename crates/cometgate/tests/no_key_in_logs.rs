//! A sentinel REST key never appears in captured `tracing` output of failing calls, nor in the
//! `Debug`/`Display` of the config, the client or their errors.

mod common;

use cometgate::client::{Client, NewUser, TokenValue};
use cometgate::retry::ManualTimer;
use cometgate::{Config, Region, Uid};
use common::logs::capture_logs;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SENTINEL: &str = "SENTINELKEY0123456789abcdefSENTINEL";

fn config_for(server: &MockServer, key: &str) -> Config {
    Config::builder()
        .app_id("app")
        .region(Region::Eu)
        .rest_api_key(key)
        .api_base(format!("{}/v3", server.uri()))
        .build()
        .unwrap()
}

/// A mint, a read and an update, each of which the scripted upstream fails.
async fn post_get_put(client: &Client, uid: &Uid) -> Vec<cometgate::client::Error> {
    vec![
        client.create_auth_token(uid).await.unwrap_err(),
        client.get_user(uid).await.unwrap_err(),
        client
            .update_user(uid, &cometgate::client::UserUpdate::new().name("x"))
            .await
            .unwrap_err(),
    ]
}

#[tokio::test]
async fn the_key_stays_out_of_logs_and_debug_output() {
    let (logs, _guard) = capture_logs();

    let server = MockServer::start().await;
    // Every kind of failure: 5xx with retries, a 401 that echoes the key, a malformed body.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("oops {SENTINEL}")))
        .up_to_n_times(4)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_string(format!(
            r#"{{"error":{{"message":"The key {SENTINEL} does not exist","code":"AUTH_ERR_APIKEY_NOT_FOUND"}}}}"#
        )))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(format!("{{\"data\": \"{SENTINEL}\"}}")),
        )
        .mount(&server)
        .await;

    let config = config_for(&server, SENTINEL);
    let client = Client::builder(config.clone())
        .timer(ManualTimer::new())
        .build()
        .unwrap();
    let uid = Uid::parse("alice").unwrap();
    let mut shown = vec![format!("{config:?}"), format!("{client:?}")];
    let errors = post_get_put(&client, &uid).await;
    for e in &errors {
        shown.push(format!("{e} | {e:?}"));
    }
    let unreachable = Client::builder(
        Config::builder()
            .app_id("app")
            .region(Region::Eu)
            .rest_api_key(SENTINEL)
            .api_base("http://127.0.0.1:9/v3")
            .build()
            .unwrap(),
    )
    .timer(ManualTimer::new())
    .build()
    .unwrap();
    let e = unreachable
        .create_user(&NewUser::new(uid, "A"))
        .await
        .unwrap_err();
    shown.push(format!("{e} | {e:?}"));

    let logs = logs.text();
    assert!(
        logs.contains("retrying CometChat call"),
        "the failing calls were logged: {logs}"
    );
    assert!(!logs.contains(SENTINEL), "{logs}");
    for s in shown {
        assert!(!s.contains(SENTINEL), "{s}");
    }
}

/// What CometChat's `AUTH_ERR_APIKEY_NOT_FOUND` says for `key`: its first and last five
/// characters, the rest replaced by `*`, length preserved (cometchat-api.md §2).
fn masked(key: &str) -> String {
    format!(
        "{}{}{}",
        &key[..5],
        "*".repeat(key.len() - 10),
        &key[key.len() - 5..]
    )
}

#[tokio::test]
async fn upstream_text_can_neither_forge_log_lines_nor_leak_the_masked_key() {
    const KEY: &str = "f1915e328e249ffaaafd97fb46a57ba55d233fbf";
    let (head, tail) = (&KEY[..5], &KEY[KEY.len() - 5..]);
    let (logs, _guard) = capture_logs();

    let server = MockServer::start().await;
    let forged = "boom\r\nINJECTED level=ERROR user=admin \u{1b}[31mred\u{1b}[0m \u{202e}desrever";
    let cc_error = |status: u16, code: &str, message: &str| {
        ResponseTemplate::new(status).set_body_json(serde_json::json!({"error": {
            "message": message, "devMessage": message, "source": "chat-api", "code": code}}))
    };
    // A 5xx (logged at each retry and at the end) with CR/LF, ANSI and bidi controls.
    Mock::given(method("POST"))
        .respond_with(cc_error(503, "ERR_EXCEPTION\nINJECTED code", forged))
        .mount(&server)
        .await;
    // The real masked echo of the key, and a full echo for good measure.
    let echo = format!(
        "The key {} does not exist. Please use correct apiKey. ({KEY})",
        masked(KEY)
    );
    Mock::given(method("GET"))
        .respond_with(cc_error(401, "AUTH_ERR_APIKEY_NOT_FOUND", &echo))
        .mount(&server)
        .await;
    // A message far longer than anything worth a log line.
    Mock::given(method("PUT"))
        .respond_with(cc_error(400, "ERR_BAD_REQUEST", &"x".repeat(20_000)))
        .mount(&server)
        .await;

    let client = Client::builder(config_for(&server, KEY))
        .timer(ManualTimer::new())
        .build()
        .unwrap();
    // The token routes put a credential in the path: the retry log lines must not show it.
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let token = "alice_1694668129d2eca40a65abba29e6860224018ad8";
    let uid = Uid::parse("alice").unwrap();
    let mut errors = post_get_put(&client, &uid).await;
    errors.push(
        client
            .delete_auth_token(&uid, &TokenValue::new(token))
            .await
            .unwrap_err(),
    );
    let logs = logs.text();
    assert!(logs.contains("auth_tokens/alice_16946"), "{logs}");
    assert!(!logs.contains(token), "the auth token was logged: {logs}");
    assert!(
        logs.contains("retrying CometChat call") && logs.contains("boom"),
        "the failures are still logged, escaped: {logs}"
    );
    for line in logs.lines() {
        assert!(
            !line.trim_start().starts_with("INJECTED"),
            "forged line: {logs}"
        );
    }
    let mut shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    shown.extend(
        errors
            .iter()
            .filter_map(|e| e.upstream_message().map(str::to_owned)),
    );
    shown.extend(errors.iter().filter_map(|e| e.code().map(str::to_owned)));
    for text in &shown {
        assert!(
            !text.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "raw control characters: {text:?}"
        );
        assert!(
            text.chars().count() <= 400,
            "unbounded: {} chars",
            text.len()
        );
    }
    for text in shown.iter().chain([&logs]) {
        assert!(!text.contains('\r') && !text.contains('\u{1b}'), "{text:?}");
        for fragment in [head, tail, KEY] {
            assert!(!text.contains(fragment), "{fragment} in {text:?}");
        }
    }
    assert!(
        errors[0].to_string().contains(r"boom\r\nINJECTED"),
        "escaped, not dropped: {}",
        errors[0]
    );
}
