//! End to end: the client helper (`clients/js/cometgate-client.mjs`) with the official CometChat
//! JS SDK, against the axum quickstart and its embedded `cometchat-fake`.
//!
//! Each run of `tests/sdk-e2e/client_flow.mjs` is one start of the app; a state file is the
//! device (the helper's storage and the SDK's `localStorage`). The flow: sign in, log in, a cold
//! start reuses the same token, a flush at CometChat makes the helper refresh once, logout
//! revokes before the SDK logs out, and the revoked token is refused.
//!
//! Needs Node.js and npm, like `sdk_login.rs`.

use std::path::PathBuf;
use std::time::Duration;

use cometchat_fake::{FakeCometChat, JournalEntry};
use cometgate_conformance::sdk_harness::{Run, run_script, sdk_login};
use quickstart_common::demo_auth::sign_demo_token;
use serde_json::{Value, json};

const SECRET: &str = "the client flow test's demo secret, 32+ bytes";
const DEVICE_ID_KEY: &str = "cometgate.deviceId";
const MINTS: [&str; 2] = ["POST /users/{uid}/auth_tokens", "POST /users"];

/// The quickstart with demo auth under [`SECRET`] and its embedded fake.
async fn quickstart() -> axum_quickstart::Running {
    let vars = |name: &str| match name {
        "PORT" => Some("0".to_owned()),
        "DEMO_JWT_SECRET" => Some(SECRET.to_owned()),
        _ => None,
    };
    axum_quickstart::start(axum_quickstart::Settings::from_lookup(vars).unwrap())
        .await
        .unwrap()
}

/// One device of a signed-in user: the app's session and the state file.
struct Device<'a> {
    app: &'a axum_quickstart::Running,
    session: String,
    state: PathBuf,
}

impl<'a> Device<'a> {
    fn new(
        app: &'a axum_quickstart::Running,
        dir: &tempfile::TempDir,
        name: &str,
        user: &str,
    ) -> Self {
        // Signing in to the app itself: what the app already has before chat.
        let session = sign_demo_token(
            &SECRET.to_owned().into(),
            user,
            Some("Alice"),
            Duration::from_secs(600),
        );
        Device {
            app,
            session,
            state: dir.path().join(format!("{name}.json")),
        }
    }

    fn fake(&self) -> &FakeCometChat {
        self.app.fake().expect("the quickstart's embedded fake")
    }

    /// Starts the app once and runs `step` (`login` / `logout`) with `env` on top.
    async fn run(&self, step: &str, env: &[(&str, &str)]) -> Run {
        let token_url = format!("http://{}/cometchat-token", self.app.addr());
        let mut all = vec![
            ("TOKEN_URL", token_url.as_str()),
            ("APP_JWT", self.session.as_str()),
            ("STATE_FILE", self.state.to_str().unwrap()),
        ];
        all.extend_from_slice(env);
        let run = run_script(self.fake(), "client_flow.mjs", &[step], &all).await;
        for token in minted(self.fake()) {
            assert!(
                !run.output.contains(&token),
                "{step}: a token in the script's output:\n{}",
                run.output
            );
        }
        run
    }

    /// The device id in the device's storage.
    fn stored_device_id(&self) -> Value {
        let state: Value = serde_json::from_slice(&std::fs::read(&self.state).unwrap()).unwrap();
        state["device"][DEVICE_ID_KEY].clone()
    }
}

/// Every token the fake has handed out (mints and user creations with `withAuthToken`).
fn minted(cc: &FakeCometChat) -> Vec<String> {
    cc.requests_where(|e| {
        MINTS.contains(&e.route.as_deref().unwrap_or_default()) && e.status == Some(200)
    })
    .iter()
    .filter_map(|e| {
        let body: Value = serde_json::from_str(&e.response_body).ok()?;
        body["data"]["authToken"].as_str().map(str::to_owned)
    })
    .collect()
}

/// The tokens the SDK logged in with (`PUT /me`), oldest first, with whether CometChat took them.
fn sdk_logins(cc: &FakeCometChat) -> Vec<(String, bool)> {
    cc.requests_to("PUT /me")
        .iter()
        .map(|e| {
            (
                e.header("authtoken").unwrap_or_default().to_owned(),
                !e.response_contains("AUTH_ERR_AUTH_TOKEN_NOT_FOUND"),
            )
        })
        .collect()
}

fn position(journal: &[JournalEntry], what: impl Fn(&JournalEntry) -> bool) -> usize {
    journal.iter().position(what).expect("in the journal")
}

fn ok(run: &Run) -> &Value {
    assert_eq!(run.code, 0, "{}\n{}", run.result, run.output);
    &run.result
}

#[tokio::test]
async fn sign_in_log_in_cold_start_reuse_refresh_after_flush_and_logout_revokes() {
    let app = quickstart().await;
    let cc = app.fake().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let phone = Device::new(&app, &dir, "phone", "alice");

    // 1. Log in: the server makes the device id, the helper stores it, the SDK logs in.
    let first = phone.run("login", &[]).await;
    let result = ok(&first);
    assert_eq!(
        result["before"],
        Value::Null,
        "a fresh install: nobody logged in"
    );
    assert_eq!(result["uid"], "alice");
    assert_eq!(result["sdkUid"], "alice");
    assert_eq!(result["after"], "alice");
    assert_eq!(result["refreshed"], false);
    let device_id = result["deviceId"].as_str().expect("a device id").to_owned();
    assert_eq!(phone.stored_device_id(), device_id.as_str());
    let tokens = minted(cc);
    assert_eq!(tokens.len(), 1, "one mint");
    let t1 = tokens[0].clone();
    assert_eq!(cc.tokens("alice"), vec![t1.clone()]);
    assert_eq!(sdk_logins(cc), vec![(t1.clone(), true)]);

    // 2. Cold start, the SDK still logged in: the same token comes back, no mint. The SDK checks
    //    its stored session at init (`PUT /me` with the token it has) and logs in with the same
    //    token: every `PUT /me` carries the one token, and CometChat takes it.
    let cold = phone.run("login", &[]).await;
    let result = ok(&cold);
    assert_eq!(
        result["before"], "alice",
        "the SDK kept its session across the restart"
    );
    assert_eq!(result["deviceId"], device_id.as_str());
    assert_eq!(result["refreshed"], false);
    assert_eq!(minted(cc), vec![t1.clone()], "no second mint");
    let logins = sdk_logins(cc);
    assert!(
        logins.iter().all(|l| l == &(t1.clone(), true)),
        "{logins:?}"
    );
    assert_eq!(cc.tokens("alice"), vec![t1.clone()]);
    let seen = logins.len();

    // 3. CometChat forgets every token of the user (a flush with the REST key). At the next start
    //    the SDK finds its session dead and logs itself out; the helper's login refreshes once and
    //    logs in with the new token, for the same device.
    let flushed = reqwest::Client::new()
        .delete(format!("{}/users/alice/auth_tokens", cc.base_url()))
        .header("apikey", cc.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(flushed.status(), 200);
    assert!(cc.tokens("alice").is_empty());
    let after_flush = phone.run("login", &[]).await;
    let result = ok(&after_flush);
    assert_eq!(result["after"], "alice");
    assert_eq!(result["deviceId"], device_id.as_str(), "the same device");
    let tokens = minted(cc);
    assert_eq!(tokens.len(), 2, "one new mint: {tokens:?}");
    let t2 = tokens[1].clone();
    assert_ne!(t2, t1);
    assert_eq!(cc.tokens("alice"), vec![t2.clone()]);
    assert_eq!(
        result["refreshed"], true,
        "within the recheck window (60 s by default) the server hands out the token it has"
    );
    assert_eq!(
        &sdk_logins(cc)[seen..],
        &[(t1.clone(), false), (t1.clone(), false), (t2.clone(), true)],
        "the SDK's own check at init, the helper's login, the login after one refresh"
    );

    // 4. Logout: the server revokes the token upstream, then the SDK logs out.
    let logout = phone.run("logout", &[]).await;
    let result = ok(&logout);
    assert_eq!(result["before"], "alice");
    assert_eq!(result["after"], Value::Null);
    assert_eq!(
        result["deviceId"],
        device_id.as_str(),
        "the device keeps its id"
    );
    let journal = cc.journal();
    let revoked = position(&journal, |e| {
        e.route.as_deref() == Some("DELETE /users/{uid}/auth_tokens/{authToken}")
            && e.path.ends_with(&t2)
            && e.status == Some(200)
    });
    let sdk_logout = position(&journal, |e| e.route.as_deref() == Some("DELETE /me"));
    assert!(revoked < sdk_logout, "revoked before the SDK logout");
    assert!(
        journal[sdk_logout].response_contains("AUTH_ERR_AUTH_TOKEN_NOT_FOUND"),
        "the token was already dead when the SDK logged out"
    );
    assert!(cc.tokens("alice").is_empty());

    // 5. The revoked token is refused.
    let refused = sdk_login(cc, &t2).await;
    assert_eq!(refused.code, 1, "{}", refused.result);
    assert_eq!(refused.result["code"], "AUTH_ERR_AUTH_TOKEN_NOT_FOUND");
    cc.assert_secret_never_sent(cc.api_key());
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn logout_all_revokes_the_other_devices_too() {
    let app = quickstart().await;
    let cc = app.fake().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let phone = Device::new(&app, &dir, "phone", "alice");
    let laptop = Device::new(&app, &dir, "laptop", "alice");

    let on_phone = ok(&phone.run("login", &[]).await).clone();
    let on_laptop = ok(&laptop.run("login", &[]).await).clone();
    assert_ne!(
        on_phone["deviceId"], on_laptop["deviceId"],
        "two devices, two ids"
    );
    let tokens = minted(cc);
    assert_eq!(tokens.len(), 2, "one token per device");
    let laptop_token = tokens[1].clone();

    let result = ok(&phone.run("logout", &[("LOGOUT_ALL", "1")]).await).clone();
    assert_eq!(result["all"], true);
    assert_eq!(result["after"], Value::Null);
    assert!(
        cc.tokens("alice").is_empty(),
        "every token of the user is gone"
    );
    let journal = cc.journal();
    let flush = position(&journal, |e| {
        e.route.as_deref() == Some("DELETE /users/{uid}/auth_tokens") && e.status == Some(200)
    });
    let sdk_logout = position(&journal, |e| e.route.as_deref() == Some("DELETE /me"));
    assert!(flush < sdk_logout, "revoked before the SDK logout");
    let refused = sdk_login(cc, &laptop_token).await;
    assert_eq!(
        refused.result["code"], "AUTH_ERR_AUTH_TOKEN_NOT_FOUND",
        "{}",
        refused.result
    );

    // The laptop's next start gets a new token for the same device id and logs in with it.
    let again = ok(&laptop.run("login", &[]).await).clone();
    assert_eq!(again["deviceId"], on_laptop["deviceId"]);
    assert_eq!(again["after"], "alice");
    assert_eq!(
        again["refreshed"], false,
        "the server forgot the laptop's token: a new one at once"
    );
    let tokens = minted(cc);
    assert_eq!(tokens.len(), 3);
    assert_eq!(cc.tokens("alice"), vec![tokens[2].clone()]);
    assert_eq!(
        json!(sdk_logins(cc).last().map(|(t, ok)| (t == &tokens[2], *ok))),
        json!([true, true])
    );
    app.shutdown().await.unwrap();
}
