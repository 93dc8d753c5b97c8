//! The quickstarts' shared-state contract as tests, run by every framework's quickstart:
//! `quickstart_common::replica_tests!(axum_quickstart);` in its `tests/replicas.rs`.
//!
//! Two quickstart processes' worth of app (two `start` calls) on one `cometchat-fake` and one
//! real `redis-server` (started by the test through `cometgate_redis::test_server`, a
//! dev-dependency of the quickstart with the `test-server` feature) are two replicas: with
//! `REDIS_URL` set they share tokens, revocations and limits; without it each keeps its own.
//! A missing `redis-server` fails these tests, it never skips them.

/// A store key for the tests (32 bytes of standard base64); any key works, all replicas of a
/// test use the same one.
pub const TEST_STORE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A demo secret the replicas of a test share, so a demo token verifies on each.
pub const TEST_DEMO_SECRET: &str = "a demo secret shared by the replicas, 32+ bytes";

/// Expands to the shared-state tests for the quickstart crate `$krate` (which exports `start`,
/// `Running`, `Settings` and `demo_auth`, and has `cometgate-redis` with `test-server`,
/// `cometchat-fake`, `reqwest`, `serde_json` and `tokio` available to its tests).
#[macro_export]
macro_rules! replica_tests {
    ($krate:ident) => {
        use cometchat_fake::FakeCometChat;
        use cometgate_redis::test_server::RedisServer;
        use serde_json::{Value, json};
        use $krate::{Running, Settings, start};

        const MINT: &str = "POST /users/{uid}/auth_tokens";

        /// A replica on `fake`, with `extra` variables (`REDIS_URL` and friends, limits).
        async fn replica(fake: &FakeCometChat, extra: &[(&str, String)]) -> Running {
            let base = fake.base_url();
            let mut vars: Vec<(&str, String)> = vec![
                ("PORT", "0".into()),
                ("DEMO_JWT_SECRET", $crate::replicas::TEST_DEMO_SECRET.into()),
                ("COMETCHAT_APP_ID", fake.app_id().into()),
                ("COMETCHAT_REGION", fake.region().into()),
                ("COMETCHAT_REST_API_KEY", fake.api_key().into()),
                ("COMETCHAT_API_BASE", base),
            ];
            vars.extend(extra.iter().cloned());
            let settings = Settings::from_lookup(|name| {
                vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
            })
            .unwrap();
            start(settings).await.unwrap()
        }

        fn redis_vars(server: &RedisServer, prefix: &str) -> Vec<(&'static str, String)> {
            vec![
                ("REDIS_URL", server.url()),
                ("COMETGATE_STORE_KEY", $crate::replicas::TEST_STORE_KEY.into()),
                ("COMETGATE_REDIS_PREFIX", prefix.into()),
            ]
        }

        fn bearer(user: &str) -> String {
            $krate::demo_auth::sign_demo_token(
                &$crate::replicas::TEST_DEMO_SECRET.to_owned().into(),
                user,
                None,
                std::time::Duration::from_secs(600),
            )
        }

        /// `POST {path}` on `running` as `user` for `device`: `(status, body)`.
        async fn call(running: &Running, path: &str, user: &str, device: &str) -> (u16, Value) {
            let response = reqwest::Client::new()
                .post(format!("http://{}{path}", running.addr()))
                .bearer_auth(bearer(user))
                .json(&json!({ "deviceId": device }))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.json().await.unwrap_or(Value::Null);
            (status, body)
        }

        async fn token(running: &Running, user: &str, device: &str) -> String {
            let (status, body) = call(running, "/cometchat-token", user, device).await;
            assert_eq!(status, 200, "{body}");
            body["authToken"].as_str().unwrap().to_owned()
        }

        #[tokio::test]
        async fn with_redis_url_replicas_share_tokens_and_revocations() {
            let redis = RedisServer::require();
            let fake = FakeCometChat::start().await;
            let vars = redis_vars(&redis, "qs-share:");
            let (a, b) = (replica(&fake, &vars).await, replica(&fake, &vars).await);
            for running in [&a, &b] {
                let banner = running.banner();
                assert!(
                    banner.contains(&format!("State: Redis at {}", redis.url())),
                    "{banner}"
                );
                assert!(!banner.contains("does not answer"), "{banner}");
            }

            let minted = token(&a, "alice", "phone").await;
            assert_eq!(token(&b, "alice", "phone").await, minted, "one token per device");
            assert_eq!(fake.count(MINT), 1, "the second replica reused it");

            // Logged out on B: A does not hand out the old token, it mints a new one.
            let (status, _) = call(&b, "/cometchat-token/revoke", "alice", "phone").await;
            assert_eq!(status, 204);
            let fresh = token(&a, "alice", "phone").await;
            assert_ne!(fresh, minted);
            assert_eq!(fake.tokens("alice"), [fresh]);

            a.shutdown().await.unwrap();
            b.shutdown().await.unwrap();
        }

        #[tokio::test]
        async fn without_redis_url_each_replica_keeps_its_own_state() {
            let fake = FakeCometChat::start().await;
            let (a, b) = (replica(&fake, &[]).await, replica(&fake, &[]).await);
            assert!(a.banner().contains("State: in this process's memory"), "{}", a.banner());
            let from_a = token(&a, "alice", "phone").await;
            let from_b = token(&b, "alice", "phone").await;
            assert_ne!(from_a, from_b, "two processes, two stores, two mints");
            assert_eq!(fake.count(MINT), 2);
            a.shutdown().await.unwrap();
            b.shutdown().await.unwrap();
        }

        #[tokio::test]
        async fn with_redis_url_a_per_user_limit_holds_in_total() {
            let redis = RedisServer::require();
            let fake = FakeCometChat::start().await;
            let mut vars = redis_vars(&redis, "qs-limit:");
            vars.push(("COMETGATE_PER_USER_LIMIT", "1/min,burst=1".into()));
            let (a, b) = (replica(&fake, &vars).await, replica(&fake, &vars).await);
            token(&a, "bob", "phone").await;
            // A new device on the other replica: the user's one mint a minute is spent.
            let (status, body) = call(&b, "/cometchat-token", "bob", "laptop").await;
            assert_eq!(status, 429, "{body}");
            assert_eq!(fake.count(MINT), 1);
            a.shutdown().await.unwrap();
            b.shutdown().await.unwrap();
        }

        #[tokio::test]
        async fn with_redis_down_the_token_route_answers_503_and_calls_no_one() {
            // A port nothing listens on: Redis refusing connections.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let fake = FakeCometChat::start().await;
            let vars = [
                ("REDIS_URL", format!("redis://127.0.0.1:{port}")),
                ("COMETGATE_STORE_KEY", $crate::replicas::TEST_STORE_KEY.into()),
            ];
            let running = replica(&fake, &vars).await;
            assert!(running.banner().contains("Redis does not answer yet"), "{}", running.banner());
            let started = std::time::Instant::now();
            let (status, body) = call(&running, "/cometchat-token", "carol", "phone").await;
            assert_eq!(status, 503, "{body}");
            assert_eq!(body["type"], "https://cometgate.dev/problems/store-unavailable");
            assert!(started.elapsed() < std::time::Duration::from_secs(10));
            assert_eq!(fake.count(MINT), 0);
            running.shutdown().await.unwrap();
        }

        #[tokio::test]
        async fn bad_redis_settings_fail_startup_naming_the_variable() {
            let only_url = Settings::from_lookup(|n| {
                (n == "REDIS_URL").then(|| "redis://127.0.0.1:6379".into())
            });
            let error = only_url.unwrap_err().to_string();
            assert!(error.starts_with("COMETGATE_STORE_KEY is not set"), "{error}");

            let short_key = Settings::from_lookup(|n| match n {
                "REDIS_URL" => Some("redis://127.0.0.1:6379".into()),
                "COMETGATE_STORE_KEY" => Some("c2hvcnQ=".into()),
                _ => None,
            });
            let error = short_key.unwrap_err().to_string();
            assert!(error.starts_with("COMETGATE_STORE_KEY is not a valid key"), "{error}");
            assert!(!error.contains("c2hvcnQ"), "{error}");

            let not_redis = Settings::from_lookup(|n| match n {
                "PORT" => Some("0".into()),
                "REDIS_URL" => Some("http://:secret@127.0.0.1:6379".into()),
                "COMETGATE_STORE_KEY" => Some($crate::replicas::TEST_STORE_KEY.into()),
                _ => None,
            })
            .unwrap();
            let error = start(not_redis).await.unwrap_err().to_string();
            assert!(error.starts_with("REDIS_URL is not a valid"), "{error}");
            assert!(!error.contains("secret"), "{error}");
        }
    };
}
