//! The quickstart contract as tests, written once and run by every framework's quickstart:
//! `quickstart_common::contract_tests!(axum_quickstart);` in its `tests/quickstart.rs`.
//!
//! Each quickstart crate exports the same names (`start`, `Running` with `addr`, `banner`,
//! `fake` and `shutdown`, `Settings`, `Upstream`, `DEMO_USER`, `demo_auth`), and has `reqwest`,
//! `serde_json` and `tokio` available to its tests.

/// Expands to the quickstart contract tests for the quickstart crate `$krate`: the printed
/// `curl` flow works on the embedded fake (200 with `Cache-Control: no-store`, just-in-time
/// provisioning, pass-through route, 401 problems without upstream calls), a separately
/// started fake with a fixed secret works, and bad settings say what is wrong.
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
                .unwrap()
                .trim_end_matches('\'')
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
