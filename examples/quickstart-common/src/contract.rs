//! The quickstart contract as tests, written once and run by every framework's quickstart:
//! `quickstart_common::contract_tests!(axum_quickstart);` in its `tests/quickstart.rs`.
//!
//! Each quickstart crate exports the same names (`start`, `Running` with `addr`, `banner`,
//! `fake` and `shutdown`, `Settings`, `Upstream`, `DEMO_USER`, `demo_auth`), and has `reqwest`,
//! `serde_json` and `tokio` available to its tests.

use std::time::{SystemTime, UNIX_EPOCH};

use cometgate::webhook::SigningSecret;

/// Expands to the quickstart contract tests for the quickstart crate `$krate`: the printed
/// `curl` flow works on the embedded fake (200 with `Cache-Control: no-store`, just-in-time
/// provisioning, pass-through route, 401 problems without upstream calls), a separately
/// started fake with a fixed secret works, bad settings say what is wrong, and the limits from
/// `COMETGATE_PER_USER_LIMIT` and `COMETGATE_UPSTREAM_BUDGET` are in force.
#[macro_export]
macro_rules! contract_tests {
    ($krate:ident) => {
        use cometchat_fake::FakeCometChat;
        use serde_json::Value;
        use $krate::{DEMO_USER, Running, Settings, Upstream, start};

        /// `(url, bearer token)` of the printed token command.
        fn printed_token_command(banner: &str) -> (String, String) {
            let line = banner
                .lines()
                .find(|l| l.starts_with("curl -i -X POST") && l.contains("Authorization"))
                .unwrap_or_else(|| panic!("no token command in:\n{banner}"));
            let url = line.split_whitespace().nth(4).unwrap().to_owned();
            let token = line
                .split("Bearer ")
                .nth(1)
                .and_then(|rest| rest.split('\'').next())
                .unwrap()
                .to_owned();
            (url, token)
        }

        async fn start_with(vars: &[(&str, &str)]) -> Running {
            let settings = Settings::from_lookup(|name| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            })
            .unwrap();
            start(settings).await.unwrap()
        }

        #[tokio::test]
        async fn printed_flow_works_on_the_embedded_fake() {
            let running = start_with(&[("PORT", "0")]).await;
            let banner = running.banner().to_owned();
            assert!(banner.contains("embedded cometchat-fake"), "{banner}");
            assert!(banner.contains("DEMO_JWT_SECRET is not set"), "{banner}");
            let (url, token) = printed_token_command(&banner);
            assert_eq!(url, format!("http://{}/cometchat-token", running.addr()));

            let client = reqwest::Client::new();
            let response = client.post(&url).bearer_auth(&token).send().await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["cache-control"], "no-store");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["uid"], DEMO_USER);
            let auth_token = body["authToken"].as_str().unwrap();
            let fake = running.fake().unwrap();
            assert_eq!(fake.tokens(DEMO_USER), [auth_token]);
            // Provisioned just in time, with the name from the demo token.
            assert_eq!(fake.user(DEMO_USER).unwrap().name, "Alice (demo)");

            // The ordinary route is the app's own.
            let response = client
                .get(format!("http://{}/todos", running.addr()))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let todos: Value = response.json().await.unwrap();
            assert_eq!(todos.as_array().unwrap().len(), 2);

            // No token: 401 problem with a bare challenge, and no call to CometChat.
            let calls = fake.journal().len();
            let response = client.post(&url).send().await.unwrap();
            assert_eq!(response.status(), 401);
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json"
            );
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer realm=\"cometgate\""
            );
            // A token signed with another secret: 401 invalid_token.
            let forged = $krate::demo_auth::sign_demo_token(
                &"another secret".to_owned().into(),
                DEMO_USER,
                None,
                std::time::Duration::from_secs(60),
            );
            let response = client.post(&url).bearer_auth(forged).send().await.unwrap();
            assert_eq!(response.status(), 401);
            assert!(
                response.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .contains("error=\"invalid_token\"")
            );
            assert_eq!(
                fake.journal().len(),
                calls,
                "rejected callers cost no upstream call"
            );

            running.shutdown().await.unwrap();
        }

        #[tokio::test]
        async fn uses_a_separately_started_fake_and_a_fixed_secret() {
            let external = FakeCometChat::start().await;
            let base = external.base_url();
            let running = start_with(&[
                ("PORT", "0"),
                (
                    "DEMO_JWT_SECRET",
                    "a fixed demo secret, at least 32 bytes long",
                ),
                ("COMETCHAT_APP_ID", external.app_id()),
                ("COMETCHAT_REGION", external.region()),
                ("COMETCHAT_REST_API_KEY", external.api_key()),
                ("COMETCHAT_API_BASE", &base),
            ])
            .await;
            assert!(running.fake().is_none());
            let banner = running.banner().to_owned();
            assert!(!banner.contains("DEMO_JWT_SECRET is not set"), "{banner}");
            assert!(banner.contains(&base), "{banner}");

            let (url, token) = printed_token_command(&banner);
            let response = reqwest::Client::new()
                .post(&url)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                external.tokens(DEMO_USER),
                [body["authToken"].as_str().unwrap()]
            );
            running.shutdown().await.unwrap();
        }

        /// Posts the printed token command once; `(status, problem type, Retry-After)`.
        async fn mint(url: &str, token: &str) -> (u16, Option<String>, Option<u64>) {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            let body: Value = response.json().await.unwrap();
            let problem_type = body["type"].as_str().map(str::to_owned);
            (status, problem_type, retry_after)
        }

        #[tokio::test]
        async fn a_tight_per_user_limit_refuses_the_second_mint() {
            let running =
                start_with(&[("PORT", "0"), ("COMETGATE_PER_USER_LIMIT", "1/min,burst=1")]).await;
            let (url, token) = printed_token_command(running.banner());
            let fake = running.fake().unwrap();

            assert_eq!(mint(&url, &token).await.0, 200);
            let calls = fake.journal().len();
            let (status, problem_type, retry_after) = mint(&url, &token).await;
            assert_eq!(status, 429);
            assert_eq!(
                problem_type.as_deref(),
                Some("https://cometgate.dev/problems/rate-limited")
            );
            // One cell per minute: the next one is most of a minute away.
            let retry_after = retry_after.expect("a 429 says when to retry");
            assert!(
                (30..=60).contains(&retry_after),
                "Retry-After: {retry_after}"
            );
            assert_eq!(fake.journal().len(), calls, "a refused mint calls no one");
            running.shutdown().await.unwrap();
        }

        #[tokio::test]
        async fn a_tight_upstream_budget_refuses_the_second_call() {
            let running = start_with(&[
                ("PORT", "0"),
                ("COMETGATE_UPSTREAM_BUDGET", "1/min,burst=1"),
            ])
            .await;
            let (url, token) = printed_token_command(running.banner());
            let fake = running.fake().unwrap();
            // Known to CometChat already, so the first mint is one call.
            fake.seed_user(cometchat_fake::FakeUser::new(DEMO_USER, "Alice"));

            assert_eq!(mint(&url, &token).await.0, 200);
            let (status, problem_type, retry_after) = mint(&url, &token).await;
            assert_eq!(status, 503);
            assert_eq!(
                problem_type.as_deref(),
                Some("https://cometgate.dev/problems/upstream-budget-exhausted")
            );
            assert!(retry_after.is_some_and(|s| s >= 1));
            assert_eq!(fake.count("POST /users/{uid}/auth_tokens"), 1);
            running.shutdown().await.unwrap();
        }

        #[tokio::test]
        async fn the_token_policy_comes_from_the_environment() {
            let running = start_with(&[("PORT", "0"), ("COMETGATE_TOKENS_PER_USER", "1")]).await;
            let (url, token) = printed_token_command(running.banner());
            let fake = running.fake().unwrap();
            let on = |device: &'static str| {
                let (url, token) = (url.clone(), token.clone());
                async move {
                    let response = reqwest::Client::new()
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&serde_json::json!({ "deviceId": device }))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 200);
                    let body: Value = response.json().await.unwrap();
                    body["authToken"].as_str().unwrap().to_owned()
                }
            };
            let phone = on("phone").await;
            assert_eq!(on("phone").await, phone, "the same device gets its token back");
            let laptop = on("laptop").await;
            assert_eq!(
                fake.tokens(DEMO_USER),
                vec![laptop],
                "a cap of 1: the phone was logged out"
            );
            running.shutdown().await.unwrap();
        }

        #[test]
        fn a_bad_token_policy_fails_startup_naming_the_variable() {
            for (var, value) in [
                ("COMETGATE_TOKENS_PER_USER", "0"),
                ("COMETGATE_TOKENS_PER_USER", "91"),
                ("COMETGATE_TOKEN_MAX_AGE", "7w"),
                ("COMETGATE_TOKEN_MAX_AGE", "0s"),
                ("COMETGATE_TOKEN_RECHECK", "soon"),
            ] {
                let error = Settings::from_lookup(|n| (n == var).then(|| value.into()))
                    .expect_err(value)
                    .to_string();
                assert!(error.starts_with(&format!("{var}: ")), "{error}");
            }
        }

        #[test]
        fn a_bad_limit_fails_startup_naming_the_variable() {
            for var in ["COMETGATE_PER_USER_LIMIT", "COMETGATE_UPSTREAM_BUDGET"] {
                for value in ["10/week", "0/min", "5/min,burst=-1", "fast"] {
                    let error = Settings::from_lookup(|n| (n == var).then(|| value.into()))
                        .expect_err(value)
                        .to_string();
                    assert!(error.starts_with(&format!("{var}: ")), "{error}");
                }
            }
            // Empty is unset: the defaults.
            let empty = Settings::from_lookup(|n| n.starts_with("COMETGATE_").then(String::new));
            assert_eq!(empty.unwrap().limits, Default::default());
        }

        #[test]
        fn settings_say_what_is_wrong() {
            let only_app_id =
                Settings::from_lookup(|n| (n == "COMETCHAT_APP_ID").then(|| "abc".into()));
            let error = only_app_id.unwrap_err().to_string();
            assert!(error.contains("COMETCHAT_"), "{error}");
            assert!(error.contains("embedded fake"), "{error}");

            let bad_port = Settings::from_lookup(|n| (n == "PORT").then(|| "70000".into()));
            assert!(bad_port.unwrap_err().to_string().contains("PORT"));

            let defaults = Settings::from_lookup(|_| None).unwrap();
            assert_eq!(defaults.port, 3000);
            assert!(matches!(defaults.upstream, Upstream::EmbeddedFake));
        }
    };
}

/// The headers of a Standard Webhooks delivery of `body` (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`), signed with `secret` at the current time. The timestamp is read once,
/// for the header and the signature alike: read twice, a second boundary between the reads
/// would turn a valid delivery into a `401`.
///
/// ```
/// use cometgate::webhook::SigningSecret;
/// use quickstart_common::contract::standard_webhook_headers;
///
/// let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
/// let [id, timestamp, signature] = standard_webhook_headers(&secret, "msg_1", "{}");
/// assert_eq!(id, ("webhook-id", "msg_1".to_owned()));
/// let at: u64 = timestamp.1.parse().unwrap();
/// assert_eq!(signature, ("webhook-signature", secret.sign("msg_1", at, b"{}")));
/// ```
pub fn standard_webhook_headers(
    secret: &SigningSecret,
    id: &str,
    body: &str,
) -> [(&'static str, String); 3] {
    // Before 1970 is no time a test runs at; 0 would be refused as stale, never a panic.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    [
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", now.to_string()),
        ("webhook-signature", secret.sign(id, now, body.as_bytes())),
    ]
}

/// The `COMETGATE_WEBHOOK_SECRET` the contract tests start the quickstarts with (a test value).
pub const TEST_WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// [`standard_webhook_headers`] for `body`, signed with [`TEST_WEBHOOK_SECRET`].
///
/// ```
/// use quickstart_common::contract::test_webhook_headers;
///
/// let [_, _, (name, signature)] = test_webhook_headers("msg_1", "{}");
/// assert_eq!(name, "webhook-signature");
/// assert!(signature.starts_with("v1,"));
/// ```
pub fn test_webhook_headers(id: &str, body: &str) -> [(&'static str, String); 3] {
    let secret = SigningSecret::parse(TEST_WEBHOOK_SECRET).expect("the test secret is valid");
    standard_webhook_headers(&secret, id, body)
}

/// Expands to the metrics contract test for the quickstart crate `$krate`, for a test binary of
/// its own (the Prometheus recorder is per process, so nothing else may record meanwhile): a
/// scripted run over real HTTP against the embedded fake (mint, reuse, refresh, revoke, 401,
/// 429, upstream 503, a signed `standard` webhook delivery applied, its redelivery, a bad
/// signature) moves each counter of the `/metrics` scrape by exactly the right amount,
/// the headroom gauges equal the fake's last headers, the app's port has no `/metrics`, and
/// every metric the Grafana dashboard queries is in the scrape, and (a property test) arbitrary
/// subjects, device ids and bodies never appear in the scrape. The
/// crate's tests need `proptest` besides the contract tests' crates.
#[macro_export]
macro_rules! metrics_tests {
    ($krate:ident) => {
        use std::collections::BTreeMap;
        use std::time::Duration;

        use proptest::prelude::*;
        use serde_json::{Value, json};
        use $crate::contract::test_webhook_headers as signed;
        use $krate::{DEMO_USER, Running, Settings, demo_auth, start};

        const SECRET: &str = "the metrics test's demo secret, 32+ bytes";
        const WEBHOOK_SECRET: &str = $crate::contract::TEST_WEBHOOK_SECRET;
        const MINT: &str = "POST /users/{uid}/auth_tokens";

        /// A scrape: each series (`name{k="v",…}`, labels sorted) and its value.
        fn parse(scrape: &str) -> BTreeMap<String, f64> {
            let mut series = BTreeMap::new();
            for line in scrape.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
                let (key, value) = line.rsplit_once(' ').unwrap();
                let key = match key.split_once('{') {
                    None => format!("{key}{{}}"),
                    Some((name, labels)) => {
                        let mut labels: Vec<&str> =
                            labels.trim_end_matches('}').split(',').collect();
                        labels.sort_unstable();
                        format!("{name}{{{}}}", labels.join(","))
                    }
                };
                series.insert(key, value.parse::<f64>().unwrap());
            }
            series
        }

        async fn scrape(client: &reqwest::Client, running: &Running) -> String {
            let addr = running.metrics_addr().expect("METRICS_ADDR was set");
            let url = format!("http://{addr}/metrics");
            let response = client.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.text().await.unwrap()
        }

        /// The counters (`*_total`) that moved between two scrapes, by how much.
        fn moved(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
            after
                .iter()
                .filter(|(k, _)| k.contains("_total{"))
                .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
                .filter(|(_, d)| *d != 0.0)
                .collect()
        }

        /// Every metric name the Grafana dashboard (`examples/grafana/cometgate.json`) queries.
        fn dashboard_metrics() -> Vec<String> {
            fn exprs(value: &Value, out: &mut Vec<String>) {
                match value {
                    Value::Object(map) => {
                        for (key, value) in map {
                            match (key.as_str(), value.as_str()) {
                                ("expr", Some(expr)) => out.push(expr.to_owned()),
                                _ => exprs(value, out),
                            }
                        }
                    }
                    Value::Array(values) => values.iter().for_each(|v| exprs(v, out)),
                    _ => {}
                }
            }
            let text = include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../grafana/cometgate.json"
            ));
            let mut found = Vec::new();
            exprs(&serde_json::from_str(text).unwrap(), &mut found);
            let mut names: Vec<String> = found
                .iter()
                .flat_map(|expr| expr.match_indices("cometgate_").map(move |(at, _)| &expr[at..]))
                .map(|rest| {
                    rest.chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect()
                })
                .collect();
            names.sort();
            names.dedup();
            names
        }

        /// The `Authorization` header of a demo token for `subject`.
        fn bearer(subject: &str) -> [(&'static str, String); 1] {
            let token = demo_auth::sign_demo_token(
                &SECRET.to_owned().into(),
                subject,
                None,
                Duration::from_secs(600),
            );
            [("authorization", format!("Bearer {token}"))]
        }

        /// Posts `body` to `url` with `headers`, through the run's one client (a new client
        /// per request would spend most of the run on its TLS setup).
        async fn post(
            client: &reqwest::Client,
            url: &str,
            headers: &[(&str, String)],
            body: String,
        ) -> (u16, Value) {
            let mut request = client
                .post(url)
                .header("content-type", "application/json")
                .body(body);
            for (name, value) in headers {
                request = request.header(*name, value);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap();
            (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
        }

        #[test]
        fn the_metrics_listener_counts_a_scripted_run_exactly_and_names_no_caller() {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let running = runtime.block_on(async {
                let settings = Settings::from_lookup(|name| {
                    match name {
                        "PORT" => Some("0"),
                        "METRICS_ADDR" => Some("127.0.0.1:0"),
                        "DEMO_JWT_SECRET" => Some(SECRET),
                        "COMETGATE_PER_USER_LIMIT" => Some("2/min,burst=2"),
                        "COMETGATE_WEBHOOK_SECRET" => Some(WEBHOOK_SECRET),
                        _ => None,
                    }
                    .map(str::to_owned)
                })
                .unwrap();
                start(settings).await.unwrap()
            });
            let metrics_addr = running.metrics_addr().unwrap();
            assert_ne!(metrics_addr.port(), running.addr().port());
            assert!(running.banner().contains(&format!("http://{metrics_addr}/metrics")));
            let token_url = format!("http://{}/cometchat-token", running.addr());
            let revoke_url = format!("{token_url}/revoke");
            let webhook_url = format!("http://{}/cometchat-webhooks/standard", running.addr());
            let fake = running.fake().unwrap();
            let client = reqwest::Client::new();

            runtime.block_on(async {
                let before = parse(&scrape(&client, &running).await);
                let alice = bearer(DEMO_USER);
                let phone = json!({ "deviceId": "phone" }).to_string();
                let (status, minted) = post(&client, &token_url, &alice, phone.clone()).await;
                assert_eq!(status, 200);
                let (status, reused) = post(&client, &token_url, &alice, phone.clone()).await;
                assert_eq!((status, &reused["authToken"]), (200, &minted["authToken"]));
                let refresh = json!({ "deviceId": "phone", "refresh": true }).to_string();
                let (status, refreshed) = post(&client, &token_url, &alice, refresh).await;
                assert_eq!(status, 200);
                assert_ne!(refreshed["authToken"], minted["authToken"]);
                assert_eq!(post(&client, &revoke_url, &alice, phone).await.0, 204);
                assert_eq!(post(&client, &token_url, &[], String::new()).await.0, 401);
                // The per-user limit (2 a minute) was spent by the mint and the refresh.
                let tablet = json!({ "deviceId": "tablet" }).to_string();
                assert_eq!(post(&client, &token_url, &alice, tablet).await.0, 429);
                // CometChat fails every attempt (the client retries a 503 three times).
                fake.push_faults(MINT, vec![cometchat_fake::Fault::status(503); 4]);
                let bob = bearer("bob");
                assert_eq!(post(&client, &token_url, &bob, String::new()).await.0, 502);
                // A signed delivery creates carol, its redelivery (a fresh signature, the same
                // id) changes nothing, and one signed over another body is refused.
                let created = json!({"type": "user.created", "data": {"subject": "carol"}});
                let created = created.to_string();
                for _ in 0..2 {
                    let headers = signed("msg_metrics", &created);
                    let (status, _) = post(&client, &webhook_url, &headers, created.clone()).await;
                    assert_eq!(status, 204);
                }
                assert!(fake.user("carol").is_some());
                let forged = signed("msg_forged", &created.replace("carol", "carl"));
                assert_eq!(post(&client, &webhook_url, &forged, created).await.0, 401);

                let after = parse(&scrape(&client, &running).await);
                let expected: BTreeMap<String, f64> = [
                    (r#"cometgate_rate_limited_total{scope="user"}"#, 1.0),
                    (r#"cometgate_requests_total{outcome="minted",route="token"}"#, 1.0),
                    (r#"cometgate_requests_total{outcome="missing-credentials",route="token"}"#, 1.0),
                    (r#"cometgate_requests_total{outcome="rate-limited",route="token"}"#, 1.0),
                    (r#"cometgate_requests_total{outcome="refreshed",route="token"}"#, 1.0),
                    (r#"cometgate_requests_total{outcome="reused",route="token"}"#, 1.0),
                    (r#"cometgate_requests_total{outcome="revoked",route="revoke"}"#, 1.0),
                    (r#"cometgate_requests_total{outcome="upstream-failure",route="token"}"#, 1.0),
                    (r#"cometgate_tokens_total{event="minted"}"#, 2.0),
                    (r#"cometgate_tokens_total{event="reused"}"#, 1.0),
                    (r#"cometgate_tokens_total{event="revoked"}"#, 2.0),
                    // Alice's just-in-time provisioning and carol's delivery.
                    (r#"cometgate_upstream_requests_total{operation="create_user",status="200"}"#, 2.0),
                    (r#"cometgate_upstream_requests_total{operation="delete_token",status="200"}"#, 2.0),
                    (r#"cometgate_upstream_requests_total{operation="mint_token",status="200"}"#, 1.0),
                    (r#"cometgate_upstream_requests_total{operation="mint_token",status="404"}"#, 1.0),
                    (r#"cometgate_upstream_requests_total{operation="mint_token",status="503"}"#, 1.0),
                    // The webhook route counts as a request too: `ok` for the applied and the
                    // duplicate delivery, its problem slug for the refused one.
                    (r#"cometgate_requests_total{outcome="ok",route="webhook"}"#, 2.0),
                    (r#"cometgate_requests_total{outcome="invalid-signature",route="webhook"}"#, 1.0),
                    (r#"cometgate_webhooks_total{outcome="applied",source="standard"}"#, 1.0),
                    (r#"cometgate_webhooks_total{outcome="duplicate",source="standard"}"#, 1.0),
                    (r#"cometgate_webhooks_total{outcome="invalid-signature",source="standard"}"#, 1.0),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
                assert_eq!(moved(&before, &after), expected);

                // The headroom gauges: what the last answer that carried the headers said.
                let journal = fake.journal();
                let last = |name: &str| -> f64 {
                    journal
                        .iter()
                        .rev()
                        .find_map(|e| e.response_headers.iter().find(|(n, _)| n == name))
                        .map(|(_, v)| v.parse().unwrap())
                        .unwrap_or_else(|| panic!("the fake never sent {name}"))
                };
                assert_eq!(
                    after[r#"cometgate_cometchat_rate_limit_remaining{scope="user"}"#],
                    last("x-ratelimit-remaining")
                );
                assert_eq!(
                    after[r#"cometgate_cometchat_rate_limit_remaining{scope="app"}"#],
                    last("x-ratelimit-remaining-for-app")
                );

                // Every metric the dashboard queries is one the exporter emits.
                let queried = dashboard_metrics();
                assert!(queried.len() >= 6, "{queried:?}");
                for name in &queried {
                    assert!(
                        after.keys().any(|k| k.starts_with(&format!("{name}{{"))),
                        "the dashboard queries {name}, which the scrape does not have"
                    );
                }

                // The app's own port has no metrics.
                let app = client
                    .get(format!("http://{}/metrics", running.addr()))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(app.status(), 404);
                assert!(!app.text().await.unwrap().contains("cometgate_"));
            });

            // Whatever the caller sends, the scrape never repeats it.
            let mut runner = proptest::test_runner::TestRunner::new(
                proptest::test_runner::Config::with_cases(256),
            );
            let identifier = "[A-Za-z][A-Za-z0-9_.:-]{11,40}";
            let result = runner.run(
                &(identifier, identifier, "[a-z]{12,30}", any::<bool>()),
                |(subject, device, junk, refresh)| {
                    let scraped = runtime.block_on(async {
                        let bearer = bearer(&subject);
                        let body = json!({ "deviceId": device, "refresh": refresh, "note": junk });
                        post(&client, &token_url, &bearer, body.to_string()).await;
                        post(&client, &revoke_url, &bearer, body.to_string()).await;
                        scrape(&client, &running).await
                    });
                    for secret in [&subject, &device, &junk] {
                        prop_assert!(!scraped.contains(secret.as_str()), "{secret:?} in the scrape");
                    }
                    Ok(())
                },
            );
            result.unwrap();
            runtime.block_on(running.shutdown()).unwrap();
        }
    };
}

/// Expands to the webhook contract tests for the quickstart crate `$krate` (in its
/// `tests/webhooks.rs`): with `COMETGATE_WEBHOOK_SECRET` set, a signed `standard` delivery
/// creates the user at the fake under the UID its token maps to, a signed deletion removes it
/// and makes the token route answer `403 account-deleted` without re-creating it, a bad
/// signature is `401` with no call, an unconfigured source is no route, the banner names the
/// enabled sources but never a secret, and a bad webhook variable fails startup naming it;
/// property tests (256 cases each, over real HTTP) that a webhook's subject is the UID its
/// token gets: in demo mode the token route then mints for the user the delivery made, and
/// under `AUTH_ISSUER` the delivery makes the user of the UID the quickstart's gate maps that
/// issuer's tokens of the subject to. The crate's tests need `proptest` besides the contract
/// tests' crates.
#[macro_export]
macro_rules! webhook_tests {
    ($krate:ident) => {
        use std::sync::atomic::{AtomicU32, Ordering};
        use std::time::Duration;

        use proptest::prelude::*;
        use serde_json::{Value, json};
        use $crate::__private::cometgate::webhook::SigningSecret;
        use $crate::__private::cometgate::{Config, Principal};
        use $crate::contract::test_webhook_headers as signed;
        use $krate::{Running, Settings, demo_auth, start};

        const DEMO_SECRET: &str = "the webhook test's demo secret, 32+ bytes";
        const WEBHOOK_SECRET: &str = $crate::contract::TEST_WEBHOOK_SECRET;
        /// Issuers of the shapes providers use (a trailing slash, a path), for the OIDC run.
        const ISSUERS: [&str; 5] = [
            "https://id.example",
            "https://tenant.auth0.com/",
            "https://ref.supabase.co/auth/v1",
            "https://clerk.app.example",
            "https://securetoken.google.com/project-1",
        ];

        /// The settings of a quickstart serving the `standard` source: `vars`, then demo
        /// auth with a fixed secret.
        fn settings_with(vars: &[(&str, &str)]) -> Settings {
            Settings::from_lookup(|name| {
                let default = match name {
                    "PORT" => Some("0"),
                    "DEMO_JWT_SECRET" => Some(DEMO_SECRET),
                    "COMETGATE_WEBHOOK_SECRET" => Some(WEBHOOK_SECRET),
                    _ => None,
                };
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| *v)
                    .or(default)
                    .map(str::to_owned)
            })
            .unwrap()
        }

        async fn start_with_webhooks() -> Running {
            start(settings_with(&[])).await.unwrap()
        }

        /// Posts `body` to the `source` route with `headers`.
        async fn deliver(
            client: &reqwest::Client,
            running: &Running,
            source: &str,
            headers: &[(&str, String)],
            body: &str,
        ) -> u16 {
            let url = format!("http://{}/cometchat-webhooks/{source}", running.addr());
            let mut request = client
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_owned());
            for (name, value) in headers {
                request = request.header(*name, value);
            }
            request.send().await.unwrap().status().as_u16()
        }

        /// Delivers a signed `user.updated` for `subject` (under a fresh delivery id), checks
        /// that it creates or updates exactly the CometChat user `uid` and no other.
        fn update_makes_exactly(
            (runtime, client): (&tokio::runtime::Runtime, &reqwest::Client),
            running: &Running,
            subject: &str,
            uid: &str,
        ) -> Result<(), TestCaseError> {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let id = format!("msg_p{}", NEXT.fetch_add(1, Ordering::Relaxed));
            let fake = running.fake().unwrap();
            let before = fake.users().len();
            let known = fake.user(uid).is_some();
            let body = json!({"type": "user.updated", "data": {"subject": subject, "name": "P"}})
                .to_string();
            let headers = signed(&id, &body);
            let status = runtime.block_on(deliver(client, running, "standard", &headers, &body));
            prop_assert_eq!(status, 204);
            prop_assert!(fake.user(uid).is_some(), "the webhook made no user {}", uid);
            prop_assert_eq!(fake.users().len(), before + usize::from(!known));
            Ok(())
        }

        /// 256 cases: the UID mapping is a security promise (one user, one UID).
        fn runner() -> proptest::test_runner::TestRunner {
            proptest::test_runner::TestRunner::new(proptest::test_runner::Config::with_cases(256))
        }

        fn runtime() -> tokio::runtime::Runtime {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
        }

        async fn mint(client: &reqwest::Client, running: &Running, subject: &str) -> (u16, Value) {
            let bearer = demo_auth::sign_demo_token(
                &DEMO_SECRET.to_owned().into(),
                subject,
                None,
                Duration::from_secs(600),
            );
            let response = client
                .post(format!("http://{}/cometchat-token", running.addr()))
                .bearer_auth(bearer)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }

        #[tokio::test]
        async fn signed_standard_deliveries_create_then_delete_the_user() {
            let running = start_with_webhooks().await;
            let client = reqwest::Client::new();
            let fake = running.fake().unwrap();
            let created = json!({
                "type": "user.created",
                "data": {"subject": "bob", "name": "Bob", "avatar": "https://img.example/bob.png"}
            })
            .to_string();
            let headers = signed("msg_1", &created);
            let status = deliver(&client, &running, "standard", &headers, &created).await;
            assert_eq!(status, 204);
            let user = fake.user("bob").expect("created at CometChat");
            assert_eq!(user.name, "Bob");

            // The webhook's subject is the UID the token route mints for the same user: the
            // mint finds the user, creates no other.
            let (status, body) = mint(&client, &running, "bob").await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["uid"], "bob");
            assert_eq!(fake.users().len(), 1);

            let deleted = json!({"type": "user.deleted", "data": {"subject": "bob"}}).to_string();
            let headers = signed("msg_2", &deleted);
            let status = deliver(&client, &running, "standard", &headers, &deleted).await;
            assert_eq!(status, 204);
            assert!(fake.user("bob").is_none(), "deleted at CometChat");
            assert!(fake.tokens("bob").is_empty());

            let creates = fake.count("POST /users");
            let (status, body) = mint(&client, &running, "bob").await;
            assert_eq!(status, 403, "{body}");
            assert_eq!(body["type"], "https://cometgate.dev/problems/account-deleted");
            assert_eq!(fake.count("POST /users"), creates, "never re-created just in time");
            assert!(fake.user("bob").is_none());
            running.shutdown().await.unwrap();
        }

        #[tokio::test]
        async fn a_bad_signature_is_401_and_changes_nothing() {
            let running = start_with_webhooks().await;
            let client = reqwest::Client::new();
            let fake = running.fake().unwrap();
            let body = json!({"type": "user.created", "data": {"subject": "mallory"}}).to_string();
            let calls = fake.journal().len();
            // Signed over another body, signed with another secret, not signed at all.
            let other = signed("msg_x", &body.replace("mallory", "mallorz"));
            assert_eq!(deliver(&client, &running, "standard", &other, &body).await, 401);
            let foreign = "whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXkh";
            let foreign = SigningSecret::parse(foreign).unwrap();
            let foreign = $crate::contract::standard_webhook_headers(&foreign, "msg_x", &body);
            assert_eq!(deliver(&client, &running, "standard", &foreign, &body).await, 401);
            let mut unsigned = signed("msg_x", &body);
            unsigned[2].1.clear();
            assert_eq!(deliver(&client, &running, "standard", &unsigned, &body).await, 401);
            assert_eq!(fake.journal().len(), calls, "no call to CometChat");
            assert!(fake.user("mallory").is_none());
            // A source without its variable is not served at all.
            let clerk = deliver(&client, &running, "clerk", &signed("msg_x", &body), &body).await;
            assert_eq!(clerk, 404);
            running.shutdown().await.unwrap();
        }

        #[tokio::test]
        async fn the_banner_names_the_enabled_sources_and_no_secret() {
            let running = start_with_webhooks().await;
            let banner = running.banner();
            let route = format!("POST http://{}/cometchat-webhooks/standard", running.addr());
            assert!(banner.contains(&route), "{banner}");
            assert!(banner.contains("COMETGATE_WEBHOOK_SECRET"), "{banner}");
            assert!(!banner.contains("cometchat-webhooks/clerk"), "{banner}");
            assert!(!banner.contains(&WEBHOOK_SECRET[6..]), "{banner}");
            running.shutdown().await.unwrap();
        }

        /// The webhook UID is the token UID, whatever the subject, in demo mode over real
        /// HTTP: a delivery makes the user of the subject's UID, and the token route then
        /// mints for that very user (no second one). The budget is off: 256 cases make some
        /// 600 calls to the fake, more than the default allows in a minute.
        #[test]
        fn a_webhook_subject_is_the_uid_its_token_gets() {
            let runtime = runtime();
            // One client: a new one per request would spend most of the run on its TLS setup.
            let client = reqwest::Client::new();
            let running =
                runtime.block_on(start(settings_with(&[("COMETGATE_UPSTREAM_BUDGET", "off")])));
            let running = running.unwrap();
            let result = runner().run(&"[a-z0-9][a-z0-9_-]{0,40}", |subject| {
                update_makes_exactly((&runtime, &client), &running, &subject, &subject)?;
                let fake = running.fake().unwrap();
                let users = fake.users().len();
                let (minted, token) = runtime.block_on(mint(&client, &running, &subject));
                prop_assert_eq!(minted, 200, "{}", token);
                prop_assert_eq!(token["uid"].as_str(), Some(subject.as_str()));
                prop_assert_eq!(fake.users().len(), users, "the mint created another user");
                Ok(())
            });
            result.unwrap();
            runtime.block_on(running.shutdown()).unwrap();
        }

        /// In OIDC mode (`AUTH_ISSUER`) a delivery over real HTTP makes the user of the UID the
        /// quickstart's gate maps a token of the same subject to (a token's principal is
        /// the identity's issuer and the token's `sub`), whatever the issuer's shape and the
        /// subject. Tokens are not minted here: the JWKS is never fetched (`quickstart_oidc`
        /// in the tests crate mints with real keys).
        #[test]
        fn oidc_webhook_subjects_map_as_token_subjects() {
            let runtime = runtime();
            let client = reqwest::Client::new();
            let vars = |issuer| {
                [
                    ("AUTH_ISSUER", issuer),
                    ("AUTH_AUDIENCE", "chat"),
                    ("AUTH_JWKS_URL", "http://127.0.0.1:9/jwks.json"),
                    ("COMETGATE_UPSTREAM_BUDGET", "off"),
                ]
            };
            let apps: Vec<_> = ISSUERS
                .into_iter()
                .map(|issuer| {
                    let running = runtime.block_on(start(settings_with(&vars(issuer))));
                    let config = Config::builder()
                        .app_id("app")
                        .region("us".parse().unwrap())
                        .rest_api_key("key")
                        .build()
                        .unwrap();
                    let gate = $crate::gate(config, &settings_with(&vars(issuer)), None).unwrap();
                    (running.unwrap(), gate)
                })
                .collect();
            let result = runner().run(&(0..ISSUERS.len(), "[ -~]{1,60}"), |(at, subject)| {
                let (running, gate) = &apps[at];
                let token = Principal::new(gate.identity().issuer(), &subject);
                let uid = gate.uid_mapper().map(&token);
                prop_assert!(uid.is_ok(), "{:?}", uid);
                update_makes_exactly((&runtime, &client), running, &subject, uid.unwrap().as_str())
            });
            result.unwrap();
            for (running, _) in apps {
                runtime.block_on(running.shutdown()).unwrap();
            }
        }

        #[test]
        fn a_bad_webhook_variable_fails_startup_naming_it() {
            for (var, value) in [
                ("CLERK_WEBHOOK_SIGNING_SECRET", "not-a-whsec-secret"),
                ("CLERK_WEBHOOK_SIGNING_SECRET", "whsec_c2hvcnQ="),
                ("COMETGATE_WEBHOOK_SECRET", "whsec_%%%"),
                ("SUPABASE_WEBHOOK_SECRET", "only-31-bytes-long-secret-value"),
                ("AUTH0_EVENT_STREAM_TOKEN", "31-bytes-event-stream-token-shr"),
            ] {
                let error = Settings::from_lookup(|n| (n == var).then(|| value.into()))
                    .expect_err(value)
                    .to_string();
                assert!(error.starts_with(&format!("{var}: ")), "{error}");
                assert!(!error.contains(value), "the value is never quoted: {error}");
            }
            let none = Settings::from_lookup(|_| None).unwrap();
            assert_eq!(none.webhooks.configured().count(), 0);
        }
    };
}
