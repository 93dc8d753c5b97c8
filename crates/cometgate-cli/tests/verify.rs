//! `--verify` against the fake CometChat (full access, a refused key, a 5xx) and, for the
//! Auth-Key answer the fake does not give, a scripted server: the key goes only in the `apikey`
//! header, each key is asked once, and no output holds it.

mod common;

use cometchat_fake::{FakeCometChat, Fault};
use common::{Run, Tree, audit, random_app_id, random_key};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

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
    let sent_in: Vec<&str> = asked[0]
        .headers
        .iter()
        .filter(|(_, v)| v.contains(&key))
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(sent_in, ["apikey"]);
    assert!(!asked[0].path.contains(&key) && !asked[0].query.contains(&key));
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
async fn an_auth_only_key_is_told_apart() {
    // The fake has one full-access key; a scripted server answers as CometChat does for an Auth
    // Key listing users (403 AUTH_ERR_NO_ACCESS, its message naming the key as given).
    let key = random_key();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/users"))
        .and(query_param("perPage", "1"))
        .and(header("apikey", key.as_str()))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
            "message": format!("The key {key} cannot be used to perform this operation. Please use API key with a correct scope to perform the operation."),
            "devMessage": format!("The {key} key does not have enough clearance."),
            "source": "chat-api",
            "code": "AUTH_ERR_NO_ACCESS"
        }})))
        .expect(2) // one per run below
        .mount(&server)
        .await;
    let tree = Tree::new();
    tree.file(
        ".env",
        format!(
            "EXPO_PUBLIC_COMETCHAT_APP_ID={}\nCOMETCHAT_AUTH_KEY={key}\n",
            random_app_id()
        ),
    );
    let run = audit_async(&tree, verify_args(&format!("{}/v3", server.uri()))).await;
    assert_eq!(
        verdicts(&run),
        vec![("auth-key".to_owned(), json!("auth-only"))]
    );
    assert!(!run.all_output().contains(&key), "{}", run.all_output());
    let human = audit_async(
        &tree,
        [
            "--verify",
            "--api-base",
            &format!("{}/v3", server.uri()),
            ".",
        ]
        .map(str::to_owned)
        .to_vec(),
    )
    .await;
    assert!(
        human.stdout.contains("(verified: auth-only)"),
        "{}",
        human.stdout
    );
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
