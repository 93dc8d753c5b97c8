//! Built apps: an APK, an AAB and an IPA (zips around their bundles), Hermes bytecode, a
//! minified bundle with the key far from its context, nesting, and a symlink loop.

mod common;

use common::{Tree, audit, hermes, minified, random_app_id, random_key, random_token, zip};
use serde_json::Value;

/// A minified dev-mode bundle, as Metro emits it: the Auth Key in a settings object far from
/// `setAuthKey(`, the REST key next to the REST host it is used with.
fn js_bundle(auth_key: &str, rest_key: &str) -> String {
    let app_id = random_app_id();
    minified(
        &[
            "var __BUNDLE_START_TIME__=this.nativePerformanceNow?nativePerformanceNow():Date.now()",
            &format!("var cfg={{appId:\"{app_id}\",region:\"us\",k:\"{auth_key}\"}}"),
            "new r.UIKitSettingsBuilder().setAppId(cfg.appId).setRegion(cfg.region).setAuthKey(cfg.k).build()",
            &format!("var rk=\"{rest_key}\",h=\"https://{app_id}.api-us.cometchat.io/v3/users\""),
            "fetch(h,{method:\"POST\",headers:{apiKey:rk}})",
            "r.CometChatUIKit.login({uid:\"superhero1\"})",
        ],
        1_500,
    )
}

fn rules_at(run: &common::Run) -> Vec<(String, String, Value)> {
    run.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let place = if f["offset"].is_null() {
                serde_json::json!([f["line"], f["column"]])
            } else {
                f["offset"].clone()
            };
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
                place,
            )
        })
        .collect()
}

#[test]
fn key_and_context_far_apart_on_one_long_line() {
    let (auth_key, rest_key) = (random_key(), random_key());
    let bundle = js_bundle(&auth_key, &rest_key);
    assert_eq!(bundle.lines().count(), 1);
    let tree = Tree::new();
    tree.file("dist/index.android.bundle", &bundle);
    let run = audit(&tree, &["--format", "json", "dist"]);
    let column = |needle: &str| bundle.find(needle).unwrap() as u64 + 1;
    assert_eq!(
        rules_at(&run),
        vec![
            (
                "auth-key".into(),
                "dist/index.android.bundle".into(),
                serde_json::json!([1, column(&auth_key)])
            ),
            (
                "rest-api-key".into(),
                "dist/index.android.bundle".into(),
                serde_json::json!([1, column(&rest_key)])
            ),
            (
                "uid-login".into(),
                "dist/index.android.bundle".into(),
                serde_json::json!([1, column("CometChatUIKit.login")])
            ),
        ],
        "{}",
        run.stdout
    );
    // 1,500 bytes of filler between them: the distance is real.
    let gap = bundle.find("setAuthKey").unwrap() - bundle.find(&auth_key).unwrap();
    assert!(gap > 1_500, "{gap}");
}

#[test]
fn context_further_than_the_window_does_not_count() {
    let key = random_key();
    let tree = Tree::new();
    tree.file(
        "dist/main.js",
        minified(&[&format!("var k=\"{key}\""), "x.setAuthKey(k)"], 2_100),
    );
    let run = audit(&tree, &["--format", "json", "--fail-on", "low", "dist"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json(), serde_json::json!([]));
}

#[test]
fn apk_aab_and_ipa_members_are_named_inside_the_archive() {
    let (auth_key, rest_key) = (random_key(), random_key());
    let bundle = js_bundle(&auth_key, &rest_key);
    let column = bundle.find(&auth_key).unwrap() as u64 + 1;
    let tree = Tree::new();
    tree.file(
        "app.apk",
        zip(&[
            ("AndroidManifest.xml", b"\x03\x00\x08\x00binary xml"),
            ("res/drawable/icon.png", b"\x89PNG not read"),
            ("assets/index.android.bundle", bundle.as_bytes()),
        ]),
    )
    .file(
        "app.aab",
        zip(&[("base/assets/index.android.bundle", bundle.as_bytes())]),
    )
    .file(
        "App.ipa",
        zip(&[
            ("Payload/Chat.app/Info.plist", b"<plist/>"),
            ("Payload/Chat.app/main.jsbundle", bundle.as_bytes()),
        ]),
    );
    let run = audit(&tree, &["--format", "json", "."]);
    assert_eq!(run.code, 1);
    let auth: Vec<(String, Value)> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "auth-key")
        .map(|f| (f["path"].as_str().unwrap().to_owned(), f["column"].clone()))
        .collect();
    assert_eq!(
        auth,
        vec![
            (
                "App.ipa!/Payload/Chat.app/main.jsbundle".into(),
                column.into()
            ),
            (
                "app.aab!/base/assets/index.android.bundle".into(),
                column.into()
            ),
            ("app.apk!/assets/index.android.bundle".into(), column.into()),
        ]
    );
    assert!(!run.all_output().contains(&auth_key));
}

#[test]
fn hermes_bundles_are_read_by_their_string_table() {
    for version in [96, 99] {
        let (auth_key, token) = (random_key(), random_token("cometchat-uid-1"));
        // A non-ASCII literal is stored as UTF-16; a long one goes through the overflow table.
        let long = format!("{}{}", "x".repeat(300), "é");
        let with_unicode = format!("clé={auth_key} ünï");
        let literals = [
            auth_key.as_str(),
            &token,
            "superhero1",
            &long,
            &with_unicode,
            "us",
        ];
        let identifiers = [
            "CometChatUIKit",
            "UIKitSettingsBuilder",
            "setAuthKey",
            "login",
            "uid",
        ];
        let (file, offsets) = hermes::bundle(version, &literals, &identifiers);
        let tree = Tree::new();
        tree.file("index.android.bundle", &file)
            .file("app.apk", zip(&[("assets/index.android.bundle", &file)]));
        let run = audit(&tree, &["--format", "json", "."]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert_eq!(
            run.stderr,
            format!("cometgate audit: 6 finding(s) at or above high\n")
        );
        // The key inside the UTF-16 string: 4 characters ("clé=") of 2 bytes after its start.
        let expected = |path: &str| {
            vec![
                (
                    "auth-key".to_owned(),
                    path.to_owned(),
                    Value::from(offsets[0]),
                ),
                (
                    "hardcoded-auth-token".to_owned(),
                    path.to_owned(),
                    Value::from(offsets[1]),
                ),
                (
                    "auth-key".to_owned(),
                    path.to_owned(),
                    Value::from(offsets[4] + 8),
                ),
            ]
        };
        let by_place = |a: &(String, String, Value), b: &(String, String, Value)| {
            (&a.1, a.2.as_u64()).cmp(&(&b.1, b.2.as_u64()))
        };
        let mut want = expected("app.apk!/assets/index.android.bundle");
        want.extend(expected("index.android.bundle"));
        want.sort_by(by_place);
        let mut got = rules_at(&run);
        got.sort_by(by_place);
        assert_eq!(got, want, "version {version}");
        assert_eq!(&file[offsets[0]..offsets[0] + 40], auth_key.as_bytes());
        assert!(!run.all_output().contains(&auth_key));
        assert!(!run.all_output().contains(&token));
    }
}

#[test]
fn a_hermes_table_that_says_rest_makes_its_keys_rest_keys() {
    let key = random_key();
    let app_id = random_app_id();
    let host = format!("https://{app_id}.api-eu.cometchat.io/v3/users");
    let (file, _) = hermes::bundle(99, &[&key, &host], &["apiKey", "authKey", "CometChat"]);
    let tree = Tree::new();
    tree.file("main.jsbundle", &file);
    let run = audit(&tree, &["--format", "json", "."]);
    let rules: Vec<String> = run.findings().into_iter().map(|(r, _, _)| r).collect();
    assert_eq!(rules, vec!["rest-api-key"]);
}

#[test]
fn a_broken_hermes_table_is_scanned_as_raw_bytes_with_a_warning() {
    let key = random_key();
    let (mut file, offsets) = hermes::bundle(96, &[&format!("authKey=\"{key}\"")], &["CometChat"]);
    file[52..56].copy_from_slice(&9u32.to_le_bytes()); // the string count no longer adds up
    let tree = Tree::new();
    tree.file("index.android.bundle", &file);
    let run = audit(&tree, &["--format", "json", "."]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(
            "warning: index.android.bundle: Hermes bytecode whose string table cannot be read"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        rules_at(&run),
        vec![(
            "auth-key".into(),
            "index.android.bundle".into(),
            Value::from(offsets[0] + 9)
        )]
    );
}

#[test]
fn nested_archives_are_read_and_bounded_in_depth() {
    let key = random_key();
    let inner = zip(&[(
        "config.json",
        format!("{{\"authKey\": \"{key}\"}}").as_bytes(),
    )]);
    let middle = zip(&[("inner.zip", &inner)]);
    let outer = zip(&[("middle.zip", &middle)]);
    let too_deep = zip(&[("outer.zip", &outer)]);
    let tree = Tree::new();
    tree.file("release.zip", &outer).file("deep.zip", &too_deep);
    let run = audit(&tree, &["--format", "json", "."]);
    assert_eq!(
        run.findings(),
        vec![(
            "auth-key".into(),
            "high".into(),
            "release.zip!/middle.zip!/inner.zip!/config.json".into()
        )]
    );
    assert!(
        run.stderr
            .contains("error: deep.zip!/outer.zip!/middle.zip!/inner.zip: an archive nested 3 deep: not scanned"),
        "{}",
        run.stderr
    );
    assert_eq!(run.code, 1);
}

#[test]
fn a_corrupt_archive_is_an_error_and_the_rest_is_scanned() {
    let key = random_key();
    let tree = Tree::new();
    tree.file("broken.apk", b"PK\x03\x04 this is no zip at all")
        .file(
            "src/config.ts",
            format!("// CometChat\nconst AUTH_KEY = \"{key}\";\n"),
        );
    let run = audit(&tree, &["--format", "json", "--fail-on", "critical", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: broken.apk: not a readable zip archive"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.findings(),
        vec![("auth-key".into(), "high".into(), "src/config.ts".into())]
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_never_followed_and_loops_end() {
    use std::os::unix::fs::symlink;
    let outside_key = random_key();
    let inside_key = random_key();
    let outside = Tree::new();
    outside.file("secrets.env", format!("COMETCHAT_AUTH_KEY={outside_key}\n"));
    let tree = Tree::new();
    tree.file("app/.env", format!("COMETCHAT_AUTH_KEY={inside_key}\n"));
    symlink(tree.path(), tree.join("app/loop")).unwrap();
    symlink("..", tree.join("app/up")).unwrap();
    symlink(outside.path(), tree.join("app/outside")).unwrap();
    symlink(outside.join("secrets.env"), tree.join("app/linked.env")).unwrap();
    symlink(tree.join("app/.env"), tree.join("app/inside.env")).unwrap();
    let run = audit(&tree, &["--format", "json", "."]);
    assert_eq!(
        run.findings(),
        vec![("auth-key".into(), "high".into(), "app/.env".into())],
        "{}",
        run.stderr
    );
    assert!(!run.all_output().contains(&outside_key));
}
