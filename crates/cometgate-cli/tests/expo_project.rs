//! An Expo project that leaks what each rule looks for, and the same project cleaned for
//! production, which must give no finding at all (a false positive is a bug).

mod common;

use common::{Tree, audit, line_of, random_app_id, random_key, random_token};
use data_encoding::BASE64;
use serde_json::Value;

struct Leaky {
    tree: Tree,
    auth_key: String,
    extra_auth_key: String,
    rest_key: String,
    test_auth_key: String,
    token: String,
    known_key: String,
    dep_key: String,
    env: String,
    config: String,
    provider: String,
    app_json: String,
}

fn leaky_project() -> Leaky {
    let app_id = random_app_id();
    let auth_key = random_key();
    let extra_auth_key = random_key();
    let rest_key = random_key();
    let test_auth_key = random_key();
    let dep_key = random_key();
    let known_key = format!("sk_live_{}", &random_key()[..24]);
    let token = random_token("superhero1");
    let env = format!(
        "EXPO_PUBLIC_COMETCHAT_APP_ID={app_id}\nEXPO_PUBLIC_COMETCHAT_REGION=us\n\
         EXPO_PUBLIC_COMETCHAT_AUTH_KEY={auth_key}\n"
    );
    let app_json = format!(
        r#"{{
  "expo": {{
    "name": "chat",
    "slug": "chat",
    "extra": {{
      "cometchatAppId": "{app_id}",
      "cometchatAuthKey": "{extra_auth_key}",
      "tokenEndpoint": "http://api.chat-app.example/cometchat-token"
    }}
  }}
}}
"#
    );
    let eas = r#"{
  "build": {
    "production": { "env": { "EXPO_PUBLIC_COMETCHAT_REST_API_KEY": "@cometchat-rest-key" } }
  }
}
"#;
    let config = format!(
        "export const APP_ID = \"{app_id}\";\nexport const REGION = \"us\";\n\
         // used by src/api/users.ts to create users from the app\n\
         export const REST_API_KEY = \"{rest_key}\";\n"
    );
    let users = "import { APP_ID, REGION, REST_API_KEY } from \"../cometchat/config\";\n\
         export const createUser = (uid: string) =>\n  \
           fetch(`https://${APP_ID}.api-${REGION}.cometchat.io/v3/users`, {\n    \
             method: \"POST\",\n    headers: { appId: APP_ID, apiKey: REST_API_KEY },\n    \
             body: JSON.stringify({ uid, name: uid }),\n  });\n";
    let provider = "import { CometChatUIKit, UIKitSettingsBuilder } from \"@cometchat/chat-uikit-react-native\";\n\
         import { APP_ID, REGION } from \"../cometchat/config\";\n\n\
         export async function startChat() {\n  \
           const settings = new UIKitSettingsBuilder()\n    .setAppId(APP_ID)\n    .setRegion(REGION)\n    \
             .setAuthKey(process.env.EXPO_PUBLIC_COMETCHAT_AUTH_KEY!)\n    .build();\n  \
           await CometChatUIKit.init(settings);\n  \
           await CometChatUIKit.login({ uid: \"superhero1\" });\n}\n"
        .to_owned();
    let seed = format!("export const DEMO_TOKEN = \"{token}\";\n");
    let login_test = format!(
        "const authKey = \"{test_auth_key}\"; // the sandbox app\ntest(\"logs in\", () => {{}});\n"
    );
    let strings_xml = format!(
        "<resources>\n  <string name=\"chat_config\">{}</string>\n</resources>\n",
        BASE64.encode(format!("{{\"key\":\"{known_key}\"}}").as_bytes())
    );
    let tree = Tree::new();
    tree.file(".env", &env)
        .file("app.json", &app_json)
        .file("eas.json", eas)
        .file("src/cometchat/config.ts", &config)
        .file("src/api/users.ts", users)
        .file("src/providers/ChatProvider.tsx", &provider)
        .file("src/dev/seed.ts", &seed)
        .file("src/__tests__/login.test.ts", &login_test)
        .file("android/app/src/main/res/values/strings.xml", &strings_xml)
        .file(
            "node_modules/some-chat-lib/index.js",
            format!("// CometChat\nvar authKey = \"{dep_key}\";\n"),
        )
        .file(
            ".git/config",
            format!("[cometchat]\n  authKey = {dep_key}\n"),
        );
    Leaky {
        tree,
        auth_key,
        extra_auth_key,
        rest_key,
        test_auth_key,
        token,
        known_key,
        dep_key,
        env,
        config,
        provider,
        app_json,
    }
}

fn row(f: &Value) -> (String, String, String, u64) {
    (
        f["rule"].as_str().unwrap().to_owned(),
        f["severity"].as_str().unwrap().to_owned(),
        f["path"].as_str().unwrap().to_owned(),
        f["line"].as_u64().unwrap_or(0),
    )
}

#[test]
fn each_rule_is_found_where_it_leaks() {
    let p = leaky_project();
    let run = audit(&p.tree, &["--format", "json", "--key", &p.known_key, "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found: Vec<_> = run.json().as_array().unwrap().iter().map(row).collect();
    let app_json = |needle| line_of(&p.app_json, needle);
    let provider = |needle| line_of(&p.provider, needle);
    let strings_xml = "android/app/src/main/res/values/strings.xml";
    let expected: Vec<_> = [
        ("public-env-secret", "critical", ".env", 3),
        ("auth-key", "high", ".env", 3),
        ("known-key", "critical", strings_xml, 2),
        ("auth-key", "high", "app.json", app_json("cometchatAuthKey")),
        (
            "insecure-token-endpoint",
            "medium",
            "app.json",
            app_json("tokenEndpoint"),
        ),
        ("public-env-secret", "critical", "eas.json", 3),
        ("auth-key", "low", "src/__tests__/login.test.ts", 1),
        (
            "rest-api-key",
            "critical",
            "src/cometchat/config.ts",
            line_of(&p.config, "REST_API_KEY ="),
        ),
        ("hardcoded-auth-token", "high", "src/dev/seed.ts", 1),
        (
            "public-env-secret",
            "critical",
            "src/providers/ChatProvider.tsx",
            provider("setAuthKey"),
        ),
        (
            "uid-login",
            "high",
            "src/providers/ChatProvider.tsx",
            provider("login({ uid"),
        ),
    ]
    .into_iter()
    .map(|(rule, severity, path, line)| (rule.into(), severity.into(), path.into(), line))
    .collect();
    assert_eq!(found, expected, "{}", run.stdout);
    // Columns are 1-based characters: the Auth Key starts after `EXPO_PUBLIC_COMETCHAT_AUTH_KEY=`.
    let auth = &run.json()[1];
    assert_eq!(auth["column"], 32);
    assert_eq!(
        auth["excerpt"],
        format!(
            "{}{}{}",
            &p.auth_key[..5],
            "*".repeat(30),
            &p.auth_key[35..]
        )
    );
    for secret in [
        &p.auth_key,
        &p.extra_auth_key,
        &p.rest_key,
        &p.test_auth_key,
        &p.token,
        &p.known_key,
    ] {
        assert!(
            !run.all_output().contains(secret.as_str()),
            "{secret} printed"
        );
    }
    assert!(p.env.contains(&p.auth_key));
}

#[test]
fn dependencies_and_git_are_skipped_unless_asked() {
    let p = leaky_project();
    let default = audit(&p.tree, &["--format", "json", "."]);
    assert!(
        default
            .findings()
            .iter()
            .all(|(_, _, path)| !path.starts_with("node_modules") && !path.starts_with(".git")),
        "{}",
        default.stdout
    );
    let with_deps = audit(&p.tree, &["--format", "json", "--include-deps", "."]);
    let paths: Vec<String> = with_deps
        .findings()
        .into_iter()
        .map(|(_, _, p)| p)
        .collect();
    assert!(
        paths.contains(&"node_modules/some-chat-lib/index.js".to_owned()),
        "{paths:?}"
    );
    assert!(paths.contains(&".git/config".to_owned()), "{paths:?}");
    assert!(!with_deps.all_output().contains(&p.dep_key));
}

#[test]
fn the_human_report_names_file_line_rule_severity_and_masks() {
    let p = leaky_project();
    let run = audit(&p.tree, &["."]);
    assert_eq!(run.code, 1);
    let masked = format!(
        "{}{}{}",
        &p.rest_key[..5],
        "*".repeat(30),
        &p.rest_key[35..]
    );
    let line = line_of(&p.config, "REST_API_KEY =");
    let column = p
        .config
        .lines()
        .nth(line as usize - 1)
        .unwrap()
        .find(&p.rest_key)
        .unwrap()
        + 1;
    let block = format!("critical  rest-api-key  src/cometchat/config.ts:{line}:{column}\n");
    assert!(run.stdout.contains(&block), "{}", run.stdout);
    assert!(run.stdout.contains(&masked));
    assert!(
        run.stdout
            .contains("10 findings (4 critical, 4 high, 1 medium, 1 low) in 9 files"),
        "{}",
        run.stdout
    );
    assert!(!run.all_output().contains(&p.rest_key));
}

#[test]
fn fail_on_sets_the_bar() {
    let tree = Tree::new();
    tree.file(
        "src/api.ts",
        "export const TOKEN_URL = \"http://chat.example.com/token\";\n",
    );
    let medium_only = audit(&tree, &["."]);
    assert_eq!(medium_only.code, 0, "{}", medium_only.stdout);
    assert!(medium_only.stdout.contains("insecure-token-endpoint"));
    assert_eq!(audit(&tree, &["--fail-on", "medium", "."]).code, 1);
    assert_eq!(audit(&tree, &["--fail-on", "low", "."]).code, 1);
    assert_eq!(audit(&tree, &["--fail-on", "critical", "."]).code, 0);
}

#[test]
fn usage_and_io_errors_exit_2() {
    let tree = Tree::new();
    tree.file("a.ts", "ok\n");
    for args in [
        vec!["--fail-on", "severe", "."],
        vec!["--format", "xml", "."],
        vec![],
        vec!["no-such-dir"],
        vec!["--key", "short", "."],
        vec!["--key-file", "missing.txt", "."],
        vec!["--api-base", "http://127.0.0.1:1/v3", "."],
        vec!["--verify", "--api-base", "http://cometchat.example/v3", "."],
    ] {
        let run = audit(&tree, &args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(!run.stderr.is_empty(), "{args:?}");
    }
    let help = common::cometgate_in(tree.path(), &["audit", "--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("--fail-on"));
}

#[test]
fn a_bad_key_is_refused_without_being_shown() {
    let tree = Tree::new();
    tree.file("a.ts", "ok\n");
    let secret_with_space = "almost a real secret value";
    let run = audit(&tree, &["--key", secret_with_space, "."]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("key #1"), "{}", run.stderr);
    assert!(!run.all_output().contains(secret_with_space));
}

#[test]
fn keys_come_from_a_key_file_too() {
    let key = format!("rk_{}", random_key());
    let tree = Tree::new();
    tree.file("keys.txt", format!("# rotated last week\n\n{key}\n"))
        .file("dist/main.js", format!("var x=\"{key}\";"));
    let run = audit(
        &tree,
        &["--format", "json", "--key-file", "keys.txt", "dist"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        run.findings(),
        vec![("known-key".into(), "critical".into(), "dist/main.js".into())]
    );
    assert!(!run.all_output().contains(&key));
}

#[test]
fn the_project_cleaned_for_production_has_no_finding() {
    let app_id = random_app_id();
    let other_service_key = random_key();
    let tree = Tree::new();
    tree.file(
        ".env",
        format!(
            "EXPO_PUBLIC_COMETCHAT_APP_ID={app_id}\nEXPO_PUBLIC_COMETCHAT_REGION=us\n\
             EXPO_PUBLIC_COMETCHAT_TOKEN_URL=https://api.chat-app.example/cometchat-token\n"
        ),
    )
    .file(
        "app.json",
        format!(
            r#"{{"expo": {{"name": "chat", "extra": {{"cometchatAppId": "{app_id}", "cometchatRegion": "us",
  "tokenEndpoint": "https://api.chat-app.example/cometchat-token"}},
  "android": {{"intentFilters": [{{"data": [{{"scheme": "http", "host": "chat-app.example"}}]}}]}}}}}}
"#
        ),
    )
    .file(
        "eas.json",
        r#"{"build": {"production": {"env": {"EXPO_PUBLIC_COMETCHAT_REGION": "us"}}}}"#,
    )
    .file(
        "src/providers/ChatProvider.tsx",
        "import { CometChatUIKit, UIKitSettingsBuilder } from \"@cometchat/chat-uikit-react-native\";\n\
         export async function startChat(authToken: string) {\n  \
           const settings = new UIKitSettingsBuilder()\n    \
             .setAppId(process.env.EXPO_PUBLIC_COMETCHAT_APP_ID!)\n    \
             .setRegion(process.env.EXPO_PUBLIC_COMETCHAT_REGION!)\n    .build();\n  \
           await CometChatUIKit.init(settings);\n  \
           await CometChatUIKit.login({ authToken });\n}\n",
    )
    .file(
        "src/api/token.ts",
        "export async function fetchCometChatToken(jwt: string) {\n  \
           const r = await fetch(process.env.EXPO_PUBLIC_COMETCHAT_TOKEN_URL!, {\n    \
             method: \"POST\", headers: { Authorization: `Bearer ${jwt}` },\n  });\n  \
           const { authToken } = await r.json();\n  return authToken;\n}\n\
         export const login = (uid: string) => fetchCometChatToken(uid);\n",
    )
    // Another service's 40-hex key under `apiKey`, in a file that is not about CometChat.
    .file(
        "src/analytics.ts",
        format!("export const analytics = init({{ apiKey: \"{other_service_key}\" }});\n"),
    )
    .file(
        "yarn.lock",
        format!(
            "react@18.2.0:\n  resolved \"https://registry.yarnpkg.com/react/-/react-18.2.0.tgz#{}\"\n",
            random_key()
        ),
    )
    .file(
        "ios/Podfile.lock",
        format!("SPEC CHECKSUMS:\n  React: {}\n\nPODFILE CHECKSUM: {}\n", random_key(), random_key()),
    )
    .file(
        "assets/icon.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\"/>\n",
    );
    let run = audit(&tree, &["--format", "json", "--fail-on", "low", "."]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json(), serde_json::json!([]));
    let human = audit(&tree, &["--fail-on", "low", "."]);
    assert_eq!(human.code, 0);
    assert!(
        human.stdout.starts_with("0 findings in 9 files"),
        "{}",
        human.stdout
    );
}
