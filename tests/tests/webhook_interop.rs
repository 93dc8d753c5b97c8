//! Cross-implementation: webhook signatures made by the official npm packages
//! (`standardwebhooks`, and `svix`, which Clerk's deliveries come from) verify with cometgate's
//! own verifier, and signatures made by cometgate's signer verify with theirs.
//!
//! One Node process (`tests/webhook-interop/interop.mjs`) answers a line per case; the cases
//! are proptest's (256 per direction): random keys of 24 to 64 bytes in a rotation, random ids
//! and Unicode bodies, timestamps anywhere in the tolerance window.
//!
//! Needs Node.js and npm, like the SDK end-to-end tests: without them these tests fail (they
//! never skip); `.ci/run` installs them. The pinned packages are installed with `npm ci` into
//! `tests/webhook-interop/node_modules` on first use.

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use cometgate::webhook::{HeaderNames, SigningSecret, SigningSecrets};
use data_encoding::BASE64;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("webhook-interop")
}

/// Node and the pinned packages, or a panic that says what to install.
fn ensure_installed() {
    for tool in ["node", "npm"] {
        let found = Command::new(tool).arg("--version").output();
        assert!(
            matches!(found, Ok(ref o) if o.status.success()),
            "`{tool}` is needed for the webhook interop tests (they never skip, in CI or not): \
             install Node.js 20+ and npm (e.g. `apt-get install -y nodejs npm`)"
        );
    }
    let dir = interop_dir();
    let installed = ["standardwebhooks", "svix"].iter().all(|package| {
        dir.join("node_modules")
            .join(package)
            .join("package.json")
            .exists()
    });
    if !installed {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .expect("npm runs");
        assert!(
            status.success(),
            "npm ci failed in {} ({status})",
            dir.display()
        );
    }
}

/// The Node process, asked one JSON line at a time.
struct Node {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Node {
    fn start() -> Self {
        ensure_installed();
        let mut child = Command::new("node")
            .arg("interop.mjs")
            .current_dir(interop_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Node {
            child,
            stdin,
            stdout,
        }
    }

    fn ask(&mut self, request: &Value) -> Value {
        writeln!(self.stdin, "{request}").expect("write to node");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read from node");
        let reply: Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("interop.mjs answered no JSON line: {line:?}"));
        assert!(reply.get("error").is_none(), "interop.mjs failed: {reply}");
        reply
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn whsec(key: &[u8]) -> String {
    format!("whsec_{}", BASE64.encode(key))
}

/// One delivery to sign: the signing key among others (a rotation), an id, a body, and how far
/// the receiver's clock is from the timestamp.
#[derive(Debug, Clone)]
struct Case {
    key: Vec<u8>,
    others: Vec<Vec<u8>>,
    id: String,
    body: String,
    skew: i64,
}

impl Case {
    /// The receiver's secrets: every key, the signing one at a random place, in either
    /// spelling (`whsec_`, Supabase's `v1,whsec_`).
    fn rotation(&self, at: usize, supabase: bool) -> SigningSecrets {
        let mut keys: Vec<String> = self.others.iter().map(|k| whsec(k)).collect();
        let prefix = if supabase { "v1," } else { "" };
        keys.insert(
            at % (keys.len() + 1),
            format!("{prefix}{}", whsec(&self.key)),
        );
        keys.join(" ").parse().expect("generated secrets parse")
    }

    /// The body with one character changed.
    fn tampered(&self) -> String {
        let mut body: Vec<char> = self.body.chars().collect();
        match body.first_mut() {
            Some(c) => *c = if *c == 'x' { 'y' } else { 'x' },
            None => body.push('x'),
        }
        body.into_iter().collect()
    }
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 24..=64)
}

fn case() -> impl Strategy<Value = Case> {
    (
        key(),
        proptest::collection::vec(key(), 0..3),
        "[!-~]{1,256}",
        prop_oneof![
            "\\PC{0,600}",
            "[ -~]{0,2048}",
            Just(
                r#"{"type":"user.created","data":{"subject":"ada","name":"Ada Lovelace 🧮"}}"#
                    .to_owned()
            ),
        ],
        -299i64..=299,
    )
        .prop_map(|(key, others, id, body, skew)| Case {
            key,
            others,
            id,
            body,
            skew,
        })
}

fn runner() -> TestRunner {
    TestRunner::new(Config::with_cases(256))
}

/// Signatures made by `standardwebhooks` and `svix` verify with ours, under each header set
/// the sender uses, and under any rotation holding the key; the body with one character
/// changed does not.
#[test]
fn signatures_made_by_the_npm_packages_verify_with_ours() {
    let node = RefCell::new(Node::start());
    let strategy = (
        case(),
        1_000_000_000u64..=9_999_999_000,
        any::<usize>(),
        any::<bool>(),
    );
    runner()
        .run(&strategy, |(case, timestamp, at, supabase)| {
            let signed = node.borrow_mut().ask(&json!({
                "op": "sign",
                "secret": whsec(&case.key),
                "id": case.id,
                "timestamp": timestamp,
                "body": case.body,
            }));
            let receiver_now = timestamp.saturating_add_signed(case.skew);
            let secrets = case.rotation(at, supabase);
            for (package, prefix, names) in [
                ("standardwebhooks", "webhook", HeaderNames::Webhook),
                ("standardwebhooks", "webhook", HeaderNames::WebhookOrSvix),
                ("svix", "svix", HeaderNames::Svix),
                ("svix", "svix", HeaderNames::WebhookOrSvix),
            ] {
                let signature = signed[package].as_str().expect("a signature");
                let ts = timestamp.to_string();
                let header = |name: &str| -> Option<&[u8]> {
                    let value = match name.strip_prefix(prefix)? {
                        "-id" => case.id.as_str(),
                        "-timestamp" => ts.as_str(),
                        "-signature" => signature,
                        _ => return None,
                    };
                    Some(value.as_bytes())
                };
                let verified = secrets.verify(names, header, case.body.as_bytes(), receiver_now);
                let verified = verified
                    .map_err(|e| TestCaseError::fail(format!("{package} via {names:?}: {e}")))?;
                prop_assert_eq!(verified.id(), case.id.as_str());
                prop_assert_eq!(verified.timestamp(), timestamp);
                let tampered = case.tampered();
                let refused = secrets.verify(names, header, tampered.as_bytes(), receiver_now);
                prop_assert!(refused.is_err(), "{} tampered body verified", package);
            }
            // And ours signs byte for byte alike.
            let ours = SigningSecret::parse(&whsec(&case.key))
                .expect("generated secret parses")
                .sign(&case.id, timestamp, case.body.as_bytes());
            prop_assert_eq!(signed["standardwebhooks"].as_str(), Some(ours.as_str()));
            prop_assert_eq!(signed["svix"].as_str(), Some(ours.as_str()));
            Ok(())
        })
        .unwrap();
}

/// Signatures made by ours verify with the npm `standardwebhooks` verifier (and `svix`'s),
/// at Node's own clock, alone or among other entries; the tampered body does not.
#[test]
fn signatures_made_by_ours_verify_with_the_npm_packages() {
    let node = RefCell::new(Node::start());
    let strategy = (case(), proptest::collection::vec(key(), 0..3));
    runner()
        .run(&strategy, |(case, decoys)| {
            // A timestamp a receiver's clock now sees within the window.
            let timestamp = now().saturating_add_signed(case.skew.clamp(-240, 240));
            let secret = SigningSecret::parse(&whsec(&case.key)).expect("generated secret");
            let own = secret.sign(&case.id, timestamp, case.body.as_bytes());
            // During a rotation the sender signs with every key it holds.
            let mut entries: Vec<String> = decoys
                .iter()
                .map(|k| {
                    SigningSecret::parse(&whsec(k))
                        .expect("generated secret")
                        .sign(&case.id, timestamp, case.body.as_bytes())
                })
                .collect();
            entries.insert(entries.len() / 2, own);
            let verdict = node.borrow_mut().ask(&json!({
                "op": "verify",
                "secret": whsec(&case.key),
                "id": case.id,
                "timestamp": timestamp,
                "body": case.body,
                "signature": entries.join(" "),
                "tampered": case.tampered(),
            }));
            prop_assert_eq!(
                &verdict,
                &json!({
                    "standardwebhooks": true,
                    "svix": true,
                    "standardwebhooksTampered": false,
                    "svixTampered": false,
                }),
                "{:?}",
                case
            );
            Ok(())
        })
        .unwrap();
}
