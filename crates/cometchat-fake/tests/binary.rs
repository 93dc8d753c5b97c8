//! The `cometchat-fake` binary: flags (`--seed`, `--auth-key`, `--journal-capacity`), the
//! printed base URL, a clean exit on Ctrl-C (SIGINT), and a clear error for a bad seed file.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_cometchat-fake");

/// The running binary; killed (and reaped) if a test fails before it exits on its own.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts the binary and reads its banner up to the API base it prints.
fn start(args: &[&str]) -> (Running, BufReader<std::process::ChildStdout>, String) {
    let mut child = Running(
        Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the cometchat-fake binary"),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().expect("stdout"));
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap_or(0) > 0,
            "the binary printed no COMETCHAT_API_BASE line"
        );
        if let Some(base) = line.trim().strip_prefix("COMETCHAT_API_BASE=") {
            return (child, stdout, base.to_owned());
        }
    }
}

#[tokio::test]
async fn the_binary_serves_seeded_users_and_exits_cleanly_on_ctrl_c() {
    let seed =
        std::env::temp_dir().join(format!("cometchat-fake-seed-{}.json", std::process::id()));
    std::fs::write(
        &seed,
        r#"[{"uid": "alice", "name": "Alice"}, {"uid": "bob", "name": "Bob"}]"#,
    )
    .unwrap();
    let (mut child, mut stdout, base) = start(&[
        "--listen",
        "127.0.0.1:0",
        "--app-id",
        "binapp",
        "--region",
        "eu",
        "--api-key",
        "bin-key",
        "--auth-key",
        "bin-auth-key",
        "--journal-capacity",
        "1",
        "--seed",
        seed.to_str().unwrap(),
    ]);
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/v3"),
        "{base}"
    );

    let http = reqwest::Client::new();
    let alice = http
        .get(format!("{base}/users/alice"))
        .header("apikey", "bin-key")
        .send()
        .await
        .unwrap();
    assert_eq!(alice.status(), 200);
    let body: serde_json::Value = alice.json().await.unwrap();
    assert_eq!(body["data"]["name"], "Alice");
    let wrong_key = http
        .get(format!("{base}/users/alice"))
        .header("apikey", "other")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_key.status(), 401);
    let auth_only = http
        .get(format!("{base}/users/alice"))
        .header("apikey", "bin-auth-key")
        .send()
        .await
        .unwrap();
    assert_eq!(auth_only.status(), 403, "--auth-key may not read users");
    let admin = base.trim_end_matches("/v3");
    let users: serde_json::Value = http
        .get(format!("{admin}/__admin/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users.as_array().map(Vec::len), Some(2), "{users}");
    let journal = http
        .get(format!("{admin}/__admin/requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(journal.headers()["x-journal-capacity"], "1");
    assert_eq!(
        journal.headers()["x-journal-dropped"],
        "2",
        "3 requests, 1 kept"
    );

    // Ctrl-C: a clean exit that says so.
    let interrupted = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(rest.contains("cometchat-fake stopped"), "{rest}");
    let _ = std::fs::remove_file(seed);
}

#[test]
fn a_bad_seed_file_is_a_clear_error() {
    let seed = std::env::temp_dir().join(format!(
        "cometchat-fake-bad-seed-{}.json",
        std::process::id()
    ));
    std::fs::write(&seed, r#"{"uid": "not an array"}"#).unwrap();
    let output = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--seed", seed.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--seed") && stderr.contains("JSON array"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(seed);
}
