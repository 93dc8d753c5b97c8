//! End to end: the official CometChat JS SDK (`@cometchat/chat-sdk-javascript`, from npm) logs in
//! against `cometchat-fake` with a token minted through the admin REST API.
//!
//! Needs Node.js and npm (installed by `.ci/run` when missing). The SDK is installed into
//! `tests/sdk-e2e/node_modules` with `npm ci` on first use.

use cometchat_fake::FakeCometChat;
use cometgate_conformance::sdk_harness::sdk_login;
use serde_json::{Value, json};

async fn mint_token(cc: &FakeCometChat, uid: &str, name: &str) -> String {
    let created: Value = reqwest::Client::new()
        .post(format!("{}/users", cc.base_url()))
        .header("apikey", cc.api_key())
        .json(&json!({"uid": uid, "name": name, "withAuthToken": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["data"]["authToken"]
        .as_str()
        .expect("the fake returns a token")
        .to_owned()
}

#[tokio::test]
async fn official_sdk_logs_in_with_a_minted_token() {
    let cc = FakeCometChat::start().await;
    let token = mint_token(&cc, "ada_lovelace", "Ada Lovelace").await;

    let run = sdk_login(&cc, &token).await;
    assert_eq!(run.code, 0, "{}", run.result);
    assert_eq!(
        run.result,
        json!({"ok": true, "uid": "ada_lovelace", "name": "Ada Lovelace"})
    );

    let logins = cc.requests_to("PUT /me");
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].path, "/v3/me");
    assert_eq!(logins[0].header("authtoken"), Some(token.as_str()));
    assert_eq!(logins[0].header("appid"), Some(cc.app_id()));
    assert_eq!(cc.count("DELETE /me"), 1, "the harness logs out");
    cc.assert_secret_never_sent(cc.api_key());
}

#[tokio::test]
async fn official_sdk_rejects_an_unknown_token() {
    let cc = FakeCometChat::start().await;
    mint_token(&cc, "bob", "Bob").await;

    let run = sdk_login(&cc, "bob_1700000000deadbeefdeadbeefdeadbeefdeadbe").await;
    assert_eq!(run.code, 1, "{}", run.result);
    assert_eq!(run.result["ok"], false);
    assert_eq!(run.result["code"], "AUTH_ERR_AUTH_TOKEN_NOT_FOUND");
}
