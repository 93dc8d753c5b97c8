//! The Firebase relay (`examples/firebase-relay/relay.js`) under Node, signing with the official
//! `standardwebhooks` npm package, against the axum quickstart with `COMETGATE_WEBHOOK_SECRET`:
//! a signature made by the official library is verified by ours, a creation makes the user at
//! the fake, a deletion removes it for good, a redelivery changes nothing, and a relay with
//! another secret is refused with no effect.
//!
//! Needs Node.js 18+ and npm (installed by `.ci/run` when missing); `standardwebhooks` is
//! installed into `tests/firebase-relay/node_modules` with `npm ci` (the committed lock file) on
//! first use. Without Node the test fails, saying what to install: it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use quickstart_common::demo_auth::sign_demo_token;
use serde_json::{Value, json};

const DEMO_SECRET: &str = "the firebase relay test's demo secret, 32+ bytes";
const WEBHOOK_SECRET: &str = "whsec_C2FeUR9qPoTsEZvR4B4ULVlcZsjlWcaygUQn0QXG6Fo=";

/// `tests/firebase-relay`.
fn relay_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("firebase-relay")
}

/// Installs `standardwebhooks` once per test binary; panics with what to install.
fn ensure_installed() {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let result = INSTALLED.get_or_init(|| {
        let dir = relay_dir();
        for tool in ["node", "npm"] {
            let found = Command::new(tool).arg("--version").output();
            if !matches!(found, Ok(ref o) if o.status.success()) {
                return Err(format!(
                    "`{tool}` is needed for the Firebase relay test: install Node.js 18+ and npm \
                     (e.g. `apt-get install -y nodejs npm`)"
                ));
            }
        }
        if dir
            .join("node_modules/standardwebhooks/package.json")
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

/// The quickstart serving `standard` with [`WEBHOOK_SECRET`], on its embedded fake.
async fn quickstart() -> axum_quickstart::Running {
    let vars = |name: &str| match name {
        "PORT" => Some("0".to_owned()),
        "DEMO_JWT_SECRET" => Some(DEMO_SECRET.to_owned()),
        "COMETGATE_WEBHOOK_SECRET" => Some(WEBHOOK_SECRET.to_owned()),
        _ => None,
    };
    axum_quickstart::start(axum_quickstart::Settings::from_lookup(vars).unwrap())
        .await
        .unwrap()
}

/// Runs the relay once (`node run.js <type>`) for `user`; its exit code and JSON line.
async fn relay(
    app: &axum_quickstart::Running,
    kind: &str,
    user: &Value,
    secret: &str,
    delivery_id: &str,
) -> (i32, Value) {
    ensure_installed();
    let url = format!("http://{}/cometchat-webhooks/standard", app.addr());
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new("node")
            .arg("run.js")
            .arg(kind)
            .current_dir(relay_dir())
            // relay.js lives in examples/firebase-relay, whose own node_modules (with
            // firebase-functions) is not installed here: it finds standardwebhooks through this.
            .env("NODE_PATH", relay_dir().join("node_modules"))
            .env("USER_RECORD", user.to_string())
            .env("COMETGATE_WEBHOOK_URL", url)
            .env("COMETGATE_WEBHOOK_SECRET", secret)
            .env("DELIVERY_ID", delivery_id)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the relay answers within 30 s")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stdout.lines().last().unwrap_or_default();
    let result = serde_json::from_str(line).unwrap_or_else(|_| {
        panic!("run.js printed no JSON line.\nstdout: {stdout}\nstderr: {stderr}")
    });
    (output.status.code().unwrap_or(-1), result)
}

async fn mint(app: &axum_quickstart::Running, subject: &str) -> (u16, Value) {
    let bearer = sign_demo_token(
        &DEMO_SECRET.to_owned().into(),
        subject,
        None,
        Duration::from_secs(600),
    );
    let response = reqwest::Client::new()
        .post(format!("http://{}/cometchat-token", app.addr()))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_relay_creates_then_deletes_the_user_at_cometchat() {
    let app = quickstart().await;
    let fake = app.fake().unwrap();
    // A Firebase Auth UserRecord, as the onCreate trigger gets it.
    let user = json!({
        "uid": "fb-user-1",
        "displayName": "Fi Base",
        "photoURL": "https://img.example/fi.png",
        "metadata": {"creationTime": "Tue, 01 Dec 2026 10:00:00 GMT"}
    });

    let (code, result) = relay(&app, "user.created", &user, WEBHOOK_SECRET, "firebase_e1").await;
    assert_eq!((code, &result["status"]), (0, &json!(204)), "{result}");
    assert_eq!(result["event"]["data"]["subject"], "fb-user-1");
    let created = fake.user("fb-user-1").expect("created at CometChat");
    assert_eq!(created.name, "Fi Base");
    assert_eq!(
        created.avatar.as_deref(),
        Some("https://img.example/fi.png")
    );

    // Firebase retries a trigger with the same event id: acknowledged, no second effect.
    let calls = fake.journal().len();
    let (code, result) = relay(&app, "user.created", &user, WEBHOOK_SECRET, "firebase_e1").await;
    assert_eq!((code, &result["status"]), (0, &json!(204)), "{result}");
    assert_eq!(fake.journal().len(), calls);

    // The webhook's subject is the UID the token route uses for the same user.
    let (status, body) = mint(&app, "fb-user-1").await;
    assert_eq!((status, &body["uid"]), (200, &json!("fb-user-1")), "{body}");
    assert_eq!(fake.users().len(), 1);

    let (code, result) = relay(&app, "user.deleted", &user, WEBHOOK_SECRET, "firebase_e2").await;
    assert_eq!((code, &result["status"]), (0, &json!(204)), "{result}");
    assert!(fake.user("fb-user-1").is_none(), "deleted at CometChat");
    assert!(fake.tokens("fb-user-1").is_empty());

    // The creation retried late (dated by the account's creation time) does not bring it back,
    // and the token route refuses the deleted account without re-creating it.
    let (code, _) = relay(&app, "user.created", &user, WEBHOOK_SECRET, "firebase_e3").await;
    assert_eq!(code, 0);
    assert!(fake.user("fb-user-1").is_none());
    let (status, body) = mint(&app, "fb-user-1").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["type"],
        "https://cometgate.dev/problems/account-deleted"
    );
    assert!(fake.user("fb-user-1").is_none());
    fake.assert_no_unexpected();
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_relay_with_another_secret_is_refused_and_changes_nothing() {
    let app = quickstart().await;
    let fake = app.fake().unwrap();
    let user = json!({"uid": "fb-mallory", "displayName": "Mallory"});
    let other = "whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXkgb2YgMzIgYnl0ZXM=";
    let (code, result) = relay(&app, "user.created", &user, other, "firebase_m1").await;
    assert_eq!((code, &result["status"]), (1, &json!(401)), "{result}");
    assert!(fake.user("fb-mallory").is_none());
    assert!(fake.journal().is_empty(), "{:?}", fake.journal());
    app.shutdown().await.unwrap();
}
