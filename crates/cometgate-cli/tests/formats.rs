//! The JSON and SARIF contracts: fields, types, locations for text and binary content, problems,
//! and no secret in full anywhere.

mod common;

use common::{Tree, audit, hermes, random_key, random_token, zip};
use serde_json::Value;

struct Fixture {
    tree: Tree,
    secrets: Vec<String>,
}

fn fixture() -> Fixture {
    let (auth_key, rest_key, hermes_key) = (random_key(), random_key(), random_key());
    let token = random_token("alice");
    let (hbc, _) = hermes::bundle(99, &[&hermes_key], &["CometChatUIKit", "setAuthKey"]);
    let tree = Tree::new();
    tree.file(
        "src/my app/config.ts",
        format!("export const REST_API_KEY = \"{rest_key}\";\n"),
    )
    .file(
        ".env",
        format!("COMETCHAT_AUTH_KEY={auth_key}\nDEMO_TOKEN={token}\n"),
    )
    .file("app.apk", zip(&[("assets/index.android.bundle", &hbc)]))
    .file("broken.ipa", b"PK\x03\x04 truncated");
    Fixture {
        tree,
        secrets: vec![auth_key, rest_key, hermes_key, token],
    }
}

#[test]
fn json_is_an_array_of_findings_with_the_documented_fields() {
    let f = fixture();
    let run = audit(&f.tree, &["--format", "json", "."]);
    assert_eq!(run.code, 1);
    let findings = run.json();
    let findings = findings.as_array().unwrap();
    assert_eq!(findings.len(), 4, "{}", run.stdout);
    for finding in findings {
        let obj = finding.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort();
        let text = [
            "column", "excerpt", "line", "message", "path", "rule", "severity",
        ];
        let binary = ["excerpt", "message", "offset", "path", "rule", "severity"];
        assert!(keys == text || keys == binary, "{keys:?}");
        assert!(
            obj.values().all(|v| v.is_string() || v.is_u64()),
            "{finding}"
        );
    }
    let paths: Vec<&str> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            ".env",
            ".env",
            "app.apk!/assets/index.android.bundle",
            "src/my app/config.ts"
        ]
    );
    assert!(findings[2]["offset"].is_u64() && findings[2]["line"].is_null());
    assert_eq!(findings[0]["line"], 1);
    assert_eq!(findings[1]["line"], 2);
    assert!(
        run.stderr
            .contains("error: broken.ipa: not a readable zip archive")
    );
    for secret in &f.secrets {
        assert!(!run.all_output().contains(secret.as_str()));
    }
}

#[test]
fn sarif_has_what_github_code_scanning_reads() {
    let f = fixture();
    let run = audit(&f.tree, &["--format", "sarif", "."]);
    assert_eq!(run.code, 1);
    let sarif = run.json();
    assert_eq!(
        sarif["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "cometgate-audit");
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "rest-api-key",
            "auth-key",
            "uid-login",
            "public-env-secret",
            "hardcoded-auth-token",
            "insecure-token-endpoint",
            "known-key"
        ]
    );
    for rule in rules {
        assert!(
            !rule["shortDescription"]["text"]
                .as_str()
                .unwrap()
                .is_empty()
        );
        let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(["error", "warning", "note"].contains(&level), "{rule}");
        let score: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.1..=10.0).contains(&score));
    }
    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for result in results {
        let id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], id);
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()));
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let location = &result["locations"][0]["physicalLocation"];
        assert!(location["artifactLocation"]["uri"].is_string());
        let region = &location["region"];
        assert!(
            (region["startLine"].as_u64() >= Some(1) && region["startColumn"].as_u64() >= Some(1))
                || region["byteOffset"].is_u64(),
            "{region}"
        );
    }
    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        uris,
        [
            ".env",
            ".env",
            "app.apk!/assets/index.android.bundle",
            "src/my%20app/config.ts"
        ]
    );
    assert_eq!(runs[0]["columnKind"], "unicodeCodePoints");
    let invocation = &runs[0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes: Vec<&Value> = invocation["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("broken.ipa: not a readable zip")
    );
    for secret in &f.secrets {
        assert!(!run.stdout.contains(secret.as_str()), "{secret} in SARIF");
    }
    // The messages say what was found, masked.
    let auth = results.iter().find(|r| r["ruleId"] == "auth-key").unwrap();
    let masked = format!(
        "{}{}{}",
        &f.secrets[0][..5],
        "*".repeat(30),
        &f.secrets[0][35..]
    );
    assert!(
        auth["message"]["text"].as_str().unwrap().contains(&masked),
        "{auth}"
    );
}

#[test]
fn a_clean_run_prints_empty_documents() {
    let tree = Tree::new();
    tree.file("src/app.ts", "CometChatUIKit.login({ authToken });\n");
    let json = audit(&tree, &["--format", "json", "."]);
    assert_eq!((json.code, json.json()), (0, serde_json::json!([])));
    let sarif = audit(&tree, &["--format", "sarif", "."]);
    assert_eq!(sarif.code, 0);
    assert_eq!(sarif.json()["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(
        sarif.json()["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    assert!(json.stderr.is_empty() && sarif.stderr.is_empty());
}
