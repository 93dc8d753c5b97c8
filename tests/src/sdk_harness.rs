//! Running the Node scripts in `tests/sdk-e2e` that drive the official CometChat JS SDK
//! (`@cometchat/chat-sdk-javascript`, from npm) against `cometchat-fake`.
//!
//! Needs Node.js and npm (installed by `.ci/run` when missing). The SDK is installed into
//! `tests/sdk-e2e/node_modules` with `npm ci` on first use.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use cometchat_fake::FakeCometChat;
use serde_json::Value;

/// `tests/sdk-e2e`.
pub fn harness_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk-e2e")
}

/// Installs the SDK once per test binary; panics with what to install rather than skipping.
pub fn ensure_sdk_installed() {
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

/// What one run of a harness script did.
#[derive(Debug)]
pub struct Run {
    /// Its exit code (0 done, 1 refused, 2 harness error).
    pub code: i32,
    /// The JSON line it printed last.
    pub result: Value,
    /// Everything it wrote, stdout then stderr (to check that no secret is in it).
    pub output: String,
}

/// Runs `node <script> <args>` in [`harness_dir`] with the SDK pointed at `cc` (`CC_APP_ID`,
/// `CC_REGION`, `CC_HOST`) and `env` on top.
pub async fn run_script(
    cc: &FakeCometChat,
    script: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Run {
    ensure_sdk_installed();
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new("node")
            .arg(script)
            .args(args)
            .current_dir(harness_dir())
            .env("CC_APP_ID", cc.app_id())
            .env("CC_REGION", cc.region())
            .env("CC_HOST", cc.sdk_host())
            .envs(env.iter().copied())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the harness bounds itself to 20 s")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stdout.lines().last().unwrap_or_default();
    let result = serde_json::from_str(line).unwrap_or_else(|_| {
        panic!("{script} printed no JSON line.\nstdout: {stdout}\nstderr: {stderr}")
    });
    Run {
        code: output.status.code().unwrap_or(-1),
        result,
        output: format!("{stdout}{stderr}"),
    }
}

/// Logs in with `token` through `login.mjs` (plain SDK login, then logout).
pub async fn sdk_login(cc: &FakeCometChat, token: &str) -> Run {
    run_script(cc, "login.mjs", &[], &[("CC_AUTH_TOKEN", token)]).await
}
