//! `--verify` against the fake CometChat: a full-access REST API key, an Auth Key (the fake answers
//! it 403 `AUTH_ERR_NO_ACCESS`, as CometChat does), a refused key, a 5xx and a closed port. The
//! key goes only in the `apikey` header, each key is asked once, and no output holds it.

mod common;

use cometchat_fake::{FakeCometChat, Fault, JournalEntry};
use common::{Run, Tree, audit, random_app_id, random_key};
use serde_json::{Value, json};

/// Runs the audit off the runtime's threads, so that the in-process server keeps answering.
async fn audit_async(tree: &Tree, args: Vec<String>) -> Run {
    let dir = tree.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let tree_args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::cometgate_in(&dir, &[&["audit"][..], &tree_args].concat())
    })
    .await
    .unwrap()
}

fn verify_args(base: &str) -> Vec<String> {
    ["--format", "json", "--verify", "--api-base", base, "."]
        .map(str::to_owned)
        .to_vec()
}

fn verdicts(run: &Run) -> Vec<(String, Value)> {
    run.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["verified"].clone(),
            )
        })
        .collect()
}

/// A request the fake saw carries `key` in no header but `apikey`, and never in its URL.
fn assert_key_only_in_apikey(entry: &JournalEntry, key: &str) {
    let elsewhere: Vec<&str> = entry
        .headers
        .iter()
        .filter(|(name, value)| name != "apikey" && value.contains(key))
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(
        elsewhere.is_empty(),
        "the key was also sent in {elsewhere:?}"
    );
    assert!(!entry.path.contains(key) && !entry.query.contains(key));
}

fn project_with_rest_key(key: &str) -> Tree {
    let tree = Tree::new();
    tree.file(
        "src/cometchat.ts",
        format!(
            "export const REST_API_KEY = \"{key}\";\nexport const APP_ID = \"{}\";\n",
            random_app_id()
        ),
    )
    // The same key again: it is asked about once.
    .file(
        "dist/main.js",
        format!("var CometChat;fetch(u,{{headers:{{apiKey:\"{key}\"}}}})"),
    );
    tree
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_access_key_is_verified_with_the_fake() {
    let key = random_key();
    let cc = FakeCometChat::builder()
        .api_key(&key)
        .start()
        .await
        .unwrap();
    let tree = project_with_rest_key(&key);
    let run = audit_async(&tree, verify_args(&cc.base_url())).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        verdicts(&run),
        vec![
            ("rest-api-key".to_owned(), json!("full-access")),
            ("rest-api-key".to_owned(), json!("full-access")),
        ]
    );
    let asked = cc.requests_to("GET /users");
    assert_eq!(asked.len(), 1, "each key is asked once");
    assert_eq!(asked[0].query, "perPage=1");
    assert_eq!(asked[0].header("apikey"), Some(key.as_str()));
    assert_key_only_in_apikey(&asked[0], &key);
    assert_eq!(cc.journal().len(), 1, "nothing else is asked");
    assert!(!run.all_output().contains(&key));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_key_is_invalid_and_a_failing_server_unreachable() {
    let cc = FakeCometChat::builder()
        .api_key(random_key())
        .start()
        .await
        .unwrap();
    let key = random_key();
    let tree = project_with_rest_key(&key);
    let run = audit_async(&tree, verify_args(&cc.base_url())).await;
    assert_eq!(verdicts(&run)[0].1, json!("invalid"), "{}", run.stdout);
    assert_eq!(cc.requests_to("GET /users")[0].status, Some(401));

    cc.push_faults("GET /users", [Fault::status(503)]);
    let run = audit_async(&tree, verify_args(&cc.base_url())).await;
    assert_eq!(verdicts(&run)[0].1, json!("unreachable"));
    assert!(!run.all_output().contains(&key));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_auth_only_key_is_told_apart_from_a_full_access_one() {
    let (rest_key, auth_key) = (random_key(), random_key());
    let cc = FakeCometChat::builder()
        .api_key(&rest_key)
        .auth_key(&auth_key)
        .start()
        .await
        .unwrap();
    let tree = project_with_rest_key(&rest_key);
    tree.file(
        ".env",
        format!(
            "EXPO_PUBLIC_COMETCHAT_APP_ID={}\nCOMETCHAT_AUTH_KEY={auth_key}\n",
            random_app_id()
        ),
    );
    let run = audit_async(&tree, verify_args(&cc.base_url())).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        verdicts(&run),
        vec![
            ("auth-key".to_owned(), json!("auth-only")),
            ("rest-api-key".to_owned(), json!("full-access")),
            ("rest-api-key".to_owned(), json!("full-access")),
        ]
    );
    // The fake, not the audit, decides the scope: it answered the Auth Key as CometChat does.
    let asked = cc.requests_to("GET /users");
    assert_eq!(asked.len(), 2, "each key is asked once");
    let by_auth_key = asked
        .iter()
        .find(|e| e.header("apikey") == Some(auth_key.as_str()))
        .expect("the Auth Key was asked about");
    assert_eq!(by_auth_key.status, Some(403));
    assert!(by_auth_key.response_contains("\"AUTH_ERR_NO_ACCESS\""));
    let mut sent: Vec<&str> = asked.iter().filter_map(|e| e.header("apikey")).collect();
    sent.sort_unstable();
    let mut keys = [rest_key.as_str(), auth_key.as_str()];
    keys.sort_unstable();
    assert_eq!(sent, keys);
    for entry in &asked {
        assert_eq!(entry.query, "perPage=1");
        for key in keys {
            assert_key_only_in_apikey(entry, key);
        }
    }
    assert_eq!(cc.journal().len(), 2, "nothing else is asked");
    assert!(!run.all_output().contains(&rest_key));
    assert!(!run.all_output().contains(&auth_key));

    let human = audit_async(
        &tree,
        ["--verify", "--api-base", &cc.base_url(), "."]
            .map(str::to_owned)
            .to_vec(),
    )
    .await;
    assert!(
        human.stdout.contains("(verified: auth-only)")
            && human.stdout.contains("(verified: full-access)"),
        "{}",
        human.stdout
    );
    assert!(!human.all_output().contains(&auth_key));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_port_is_unreachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let key = random_key();
    let tree = project_with_rest_key(&key);
    let run = audit_async(&tree, verify_args(&format!("http://127.0.0.1:{port}/v3"))).await;
    assert_eq!(verdicts(&run)[0].1, json!("unreachable"));
}

#[test]
fn without_an_app_id_or_api_base_a_key_is_not_verified_and_nothing_is_sent() {
    let key = random_key();
    let tree = Tree::new();
    tree.file(
        "src/cometchat.ts",
        format!("const REST_API_KEY = \"{key}\";\n"),
    );
    let run = audit(&tree, &["--format", "json", "--verify", "."]);
    assert_eq!(run.code, 1);
    assert!(run.json()[0].get("verified").is_none(), "{}", run.stdout);
    assert!(
        run.stderr.contains("warning: src/cometchat.ts:1:23: not verified: no CometChat app id and region found near the key"),
        "{}",
        run.stderr
    );
}

#[test]
fn verify_options_are_checked_before_anything_is_read() {
    let tree = Tree::new();
    tree.file("a.ts", "ok\n");
    for (args, says) in [
        (
            vec!["--verify", "--api-base", "http://example.com/v3", "."],
            "--api-base must be https://",
        ),
        (
            vec![
                "--verify",
                "--api-base",
                "https://user:pw@example.com/v3",
                ".",
            ],
            "user info",
        ),
        (vec!["--verify", "--app-id", "my.app", "."], "--app-id"),
        (vec!["--verify", "--region", "mars", "."], "--region"),
    ] {
        let run = audit(&tree, &args);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
}
