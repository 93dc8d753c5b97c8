//! End to end: the official CometChat JS SDK (`@cometchat/chat-sdk-javascript`, from npm) logs in
//! against `cometchat-fake` with a token minted through the admin REST API.
//!
//! Needs Node.js and npm (installed by `.ci/run` when missing). The SDK is installed into
//! `tests/sdk-e2e/node_modules` with `npm ci` on first use.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use cometchat_fake::FakeCometChat;
use serde_json::{Value, json};

fn harness_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk-e2e")
}

/// Installs the SDK once per test binary; fails loudly rather than skipping.
fn ensure_sdk_installed() {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let result = INSTALLED.get_or_init(|| {
        let dir = harness_dir();
        for tool in ["node", "npm"] {
            let found = Command::new(tool).arg("--version").output();
            if !matches!(found, Ok(ref o) if o.status.success()) {
                return Err(format!(
                    "`{tool}` is needed for the SDK end-to-end test: install Node.js 20+ and npm \
                     (e.g. `apt-get install -y nodejs npm`)"
                ));
            }
        }
        if dir
            .join("node_modules/@cometchat/chat-sdk-javascript/package.json")
            .exists()
        {
            return Ok(());
        }
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .map_err(|e| format!("could not run npm ci in {}: {e}", dir.display()))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("npm ci failed in {} ({status})", dir.display()))
        }
    });
    if let Err(message) = result {
        panic!("{message}");
    }
}

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

/// Runs the Node harness and returns its exit code and the JSON line it printed.
async fn sdk_login(cc: &FakeCometChat, token: &str) -> (i32, Value) {
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new("node")
            .arg("login.mjs")
            .current_dir(harness_dir())
            .env("CC_APP_ID", cc.app_id())
            .env("CC_REGION", cc.region())
            .env("CC_HOST", cc.sdk_host())
            .env("CC_AUTH_TOKEN", token)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the harness bounds itself to 15 s")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let result = serde_json::from_str(line).unwrap_or_else(|_| {
        panic!(
            "harness printed no JSON line.\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), result)
}

#[tokio::test]
async fn official_sdk_logs_in_with_a_minted_token() {
    ensure_sdk_installed();
    let cc = FakeCometChat::start().await;
    let token = mint_token(&cc, "ada_lovelace", "Ada Lovelace").await;

    let (code, result) = sdk_login(&cc, &token).await;
    assert_eq!(code, 0, "{result}");
    assert_eq!(
        result,
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
    ensure_sdk_installed();
    let cc = FakeCometChat::start().await;
    mint_token(&cc, "bob", "Bob").await;

    let (code, result) = sdk_login(&cc, "bob_1700000000deadbeefdeadbeefdeadbeefdeadbe").await;
    assert_eq!(code, 1, "{result}");
    assert_eq!(result["ok"], false);
    assert_eq!(result["code"], "AUTH_ERR_AUTH_TOKEN_NOT_FOUND");
}
