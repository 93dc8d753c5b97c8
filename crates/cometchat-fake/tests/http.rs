//! The fake over a real loopback socket: every error code, faults, journal, control API, client API.

mod common;

use std::time::Duration;

use cometchat_fake::{FakeCometChat, FakeUser, Fault};
use common::{Harness, code};
use reqwest::{Client, Method};
use serde_json::{Value, json};

#[tokio::test]
async fn every_error_code_and_status() {
    let h = Harness::new().await;
    h.create("user_000").await;
    let cases: Vec<(Method, &str, Option<Value>, u16, &str)> = vec![
        (
            Method::POST,
            "/users",
            Some(json!({"uid": "user_000", "name": "x"})),
            400,
            "ERR_UID_ALREADY_EXISTS",
        ),
        (Method::GET, "/users/nobody", None, 404, "ERR_UID_NOT_FOUND"),
        (
            Method::PUT,
            "/users/nobody",
            Some(json!({"name": "x"})),
            404,
            "ERR_UID_NOT_FOUND",
        ),
        (
            Method::DELETE,
            "/users/nobody",
            None,
            404,
            "ERR_UID_NOT_FOUND",
        ),
        (
            Method::POST,
            "/users/nobody/auth_tokens",
            None,
            404,
            "ERR_UID_NOT_FOUND",
        ),
        (
            Method::GET,
            "/users/user_000/auth_tokens/user_000_1",
            None,
            404,
            "ERR_AUTH_TOKEN_NOT_FOUND",
        ),
        (
            Method::DELETE,
            "/users/user_000/auth_tokens/user_000_1",
            None,
            404,
            "ERR_AUTH_TOKEN_NOT_FOUND",
        ),
        (
            Method::POST,
            "/users",
            Some(json!({"uid": "", "name": ""})),
            400,
            "ERR_BAD_REQUEST",
        ),
        (
            Method::POST,
            "/users",
            Some(json!({"uid": "a b", "name": "x"})),
            400,
            "ERR_BAD_REQUEST",
        ),
        (
            Method::POST,
            "/users",
            Some(json!({"uid": "a".repeat(101), "name": "x"})),
            400,
            "ERR_BAD_REQUEST",
        ),
        (
            Method::POST,
            "/users",
            Some(json!({"uid": 7, "name": ["x"]})),
            400,
            "ERR_BAD_REQUEST",
        ),
        (
            Method::POST,
            "/users",
            Some(json!("just a string")),
            400,
            "ERR_BAD_REQUEST",
        ),
        (Method::GET, "/groups", None, 404, "ERR_API_NOT_FOUND"),
        (Method::PATCH, "/users", None, 404, "ERR_API_NOT_FOUND"),
    ];
    for (method, path, body, status, expected) in cases {
        let (got, answer) = h.call(method.clone(), path, body).await;
        assert_eq!(got.as_u16(), status, "{method} {path}: {answer}");
        assert_eq!(code(&answer), expected, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["source"], "chat-api");
    }
}

#[tokio::test]
async fn bad_json_and_oversized_bodies_get_cometchat_errors() {
    let h = Harness::new().await;
    for body in ["{", "nul", "\u{0}\u{1}", "[1,"] {
        let res = h
            .http
            .post(h.url("/v3/users"))
            .header("apikey", h.cc.api_key())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let v: Value = res.json().await.unwrap();
        assert_eq!(code(&v), "ERR_BAD_REQUEST");
    }
    let huge = json!({"uid": "big", "name": "x", "metadata": {"blob": "x".repeat(20_000)}});
    let (status, body) = h.call(Method::POST, "/users", Some(huge)).await;
    assert_eq!(status, 413);
    assert_eq!(code(&body), "ERR_BAD_REQUEST");
    assert!(h.cc.user("big").is_none());
}

#[tokio::test]
async fn wrong_or_missing_key_is_401_with_the_key_masked() {
    let h = Harness::new().await;
    let wrong = "22222zzzzzzzzzzzzzzzzzzzzzz22222";
    for key in [Some(wrong), None] {
        let mut req = h.http.get(h.url("/v3/users"));
        if let Some(key) = key {
            // Header names are case-insensitive: the real clients send apiKey or apikey.
            req = req.header("ApiKey", key);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401);
        let v: Value = res.json().await.unwrap();
        assert_eq!(code(&v), "AUTH_ERR_APIKEY_NOT_FOUND");
        if key.is_some() {
            assert_eq!(
                v["error"]["message"],
                "The key 22222**********************22222 does not exist. Please use correct apiKey."
            );
        }
    }
    h.cc.assert_secret_never_sent(wrong);
    h.cc.assert_secret_never_sent(h.cc.api_key());
    let ok = h
        .http
        .get(h.url("/v3/users"))
        .header("APIKEY", h.cc.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn both_version_prefixes_and_headers_on_every_answer() {
    let h = Harness::new().await;
    h.create("alice").await;
    for prefix in ["/v3", "/v3.0"] {
        let res = h
            .http
            .get(h.url(&format!("{prefix}/users/ALICE")))
            .header("apikey", h.cc.api_key())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let headers = res.headers().clone();
        assert_eq!(headers["x-ratelimit-limit"], "20000");
        assert!(headers.contains_key("x-ratelimit-remaining"));
        assert_eq!(headers["x-ratelimit-limit-for-app"], "100000");
        assert_eq!(headers["access-control-allow-origin"], "*");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["data"]["uid"], "alice");
    }
    let res = h.http.post(h.url("/v3/users")).send().await.unwrap();
    assert_eq!(
        res.headers()["x-ratelimit-limit"],
        "10000",
        "core operation"
    );
    let res = h.http.get(h.url("/v4/users")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn users_lifecycle_and_tokens() {
    let h = Harness::new().await;
    let created = h
        .call(
            Method::POST,
            "/users",
            Some(json!({"uid": "User_1", "name": "One", "avatar": "https://x.test/a.png", "withAuthToken": true})),
        )
        .await
        .1;
    let token = created["data"]["authToken"].as_str().unwrap().to_owned();
    assert!(token.starts_with("user_1_"));
    let (_, minted) = h
        .call(
            Method::POST,
            "/users/user_1/auth_tokens",
            Some(json!({"force": true})),
        )
        .await;
    let second = minted["data"]["authToken"].as_str().unwrap().to_owned();
    assert_eq!(h.cc.tokens("user_1"), vec![second.clone(), token.clone()]);
    let (_, page) = h
        .call(
            Method::GET,
            "/users/user_1/auth_tokens?perPage=1&page=2",
            None,
        )
        .await;
    assert_eq!(page["data"][0]["authToken"], token.as_str());
    assert_eq!(page["meta"]["pagination"]["total_pages"], 2);
    let (s, _) = h
        .call(
            Method::PUT,
            &format!("/users/user_1/auth_tokens/{token}"),
            Some(json!({"platform": "WEB"})),
        )
        .await;
    assert_eq!(s, 200);
    let (_, updated) = h
        .call(
            Method::PUT,
            "/users/user_1",
            Some(json!({"name": "Uno", "unset": ["avatar"]})),
        )
        .await;
    assert_eq!(updated["data"]["name"], "Uno");
    assert!(updated["data"].get("avatar").is_none());
    assert!(updated["data"]["updatedAt"].is_i64());
    let (s, _) = h
        .call(
            Method::DELETE,
            &format!("/users/user_1/auth_tokens/{token}"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let (s, again) = h
        .call(
            Method::DELETE,
            &format!("/users/user_1/auth_tokens/{token}"),
            None,
        )
        .await;
    assert_eq!(
        (s.as_u16(), code(&again)),
        (404, "ERR_AUTH_TOKEN_NOT_FOUND")
    );
    let (_, flushed) = h
        .call(Method::DELETE, "/users/user_1/auth_tokens", None)
        .await;
    assert_eq!(
        flushed["data"]["message"],
        "Cleared Auth Tokens successfully for uid user_1."
    );
    assert!(h.cc.tokens("user_1").is_empty());
    let (_, gone) = h
        .call(
            Method::DELETE,
            "/users/user_1",
            Some(json!({"permanent": true})),
        )
        .await;
    assert_eq!(
        gone["data"]["message"],
        "User with UID user_1 has been deleted successfully."
    );
    assert!(h.cc.user("user_1").is_none());
}

#[tokio::test]
async fn faults_are_consumed_in_order_then_service_resumes() {
    let h = Harness::new().await;
    h.create("alice").await;
    h.cc.push_faults(
        "POST /users/{uid}/auth_tokens",
        [
            Fault::status(503),
            Fault::too_many_requests(7),
            Fault::Malformed,
            Fault::Close,
            Fault::Delay { ms: 150 },
        ],
    );
    let mint = || {
        h.http
            .post(h.url("/v3/users/alice/auth_tokens"))
            .header("apikey", h.cc.api_key())
            .send()
    };
    let r = mint().await.unwrap();
    assert_eq!(r.status(), 503);
    let r = mint().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(code(&r.json().await.unwrap()), "ERR_TOO_MANY_REQUESTS");
    let r = mint().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err());
    let closed = mint().await;
    assert!(closed.is_err(), "connection closed without a response");
    let started = std::time::Instant::now();
    let r = mint().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(r.status(), 200);
    assert_eq!(mint().await.unwrap().status(), 200);
    let statuses: Vec<Option<u16>> =
        h.cc.requests_to("POST /users/{uid}/auth_tokens")
            .iter()
            .map(|e| e.status)
            .collect();
    assert_eq!(
        statuses,
        vec![Some(503), Some(429), Some(200), None, Some(200), Some(200)]
    );
}

#[tokio::test]
async fn hang_never_answers() {
    let h = Harness::new().await;
    h.cc.push_faults("GET /users", [Fault::Hang]);
    let res = h
        .http
        .get(h.url("/v3/users"))
        .header("apikey", h.cc.api_key())
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(res.unwrap_err().is_timeout());
}

#[tokio::test]
async fn journal_records_requests_and_answers() {
    let h = Harness::new().await;
    h.create("alice").await;
    h.call(Method::GET, "/users?perPage=5", None).await;
    let journal = h.cc.journal();
    assert_eq!(journal.len(), 2);
    let first = &journal[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/v3/users");
    assert_eq!(first.route.as_deref(), Some("POST /users"));
    assert_eq!(first.header("APIKEY"), Some(h.cc.api_key()));
    assert!(first.body.contains("\"alice\""));
    assert_eq!(first.status, Some(200));
    assert!(first.response_body.contains("\"alice\""));
    assert_eq!(journal[1].query, "perPage=5");
    assert!(journal[1].at >= first.at);
    assert_eq!(h.cc.route_counts()["GET /users"], 1);
    assert_eq!(h.cc.requests_where(|e| e.method == "GET").len(), 1);
}

#[tokio::test]
async fn strict_mode_reports_unexpected_requests() {
    let h = Harness::with(FakeCometChat::builder().strict(true)).await;
    h.http.get(h.url("/v3/groups")).send().await.unwrap();
    assert_eq!(h.cc.unexpected().len(), 1);
    let panicked =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h.cc.assert_no_unexpected()));
    assert!(panicked.is_err());
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let h = Harness::with(FakeCometChat::builder().rate_limit_per_minute(2)).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = h
            .http
            .get(h.url("/v3/users"))
            .header("apikey", h.cc.api_key())
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            let after: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&after));
        }
    }
    assert_eq!(statuses, vec![200, 200, 429]);
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let cc = FakeCometChat::start().await;
    let addr = cc.addr();
    let http = Client::new();
    assert!(
        http.get(format!("http://{addr}/v3/users"))
            .send()
            .await
            .is_ok()
    );
    cc.shutdown().await;
    let refused = tokio::net::TcpStream::connect(addr).await;
    assert!(refused.is_err(), "the port must be closed after shutdown");
}

#[tokio::test]
async fn dropping_closes_the_port() {
    let cc = FakeCometChat::start().await;
    let addr = cc.addr();
    assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
    drop(cc);
    // Drop aborts the server task; the runtime releases the socket on its next turn.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let refused = tokio::net::TcpStream::connect(addr).await;
    assert!(refused.is_err(), "the port must be closed after drop");
}

#[tokio::test]
async fn parallel_fakes_do_not_share_state() {
    let a = Harness::new().await;
    let b = Harness::new().await;
    a.create("only_in_a").await;
    assert!(b.cc.user("only_in_a").is_none());
    assert_ne!(a.cc.addr(), b.cc.addr());
}

#[tokio::test]
async fn control_api_over_http() {
    let h = Harness::new().await;
    let seeded: Value = h
        .http
        .post(h.url("/__admin/users"))
        .json(&json!([{"uid": "Seeded", "name": "Seed"}]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seeded["seeded"], 1);
    let users: Value = h
        .http
        .get(h.url("/__admin/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users[0]["uid"], "seeded");
    let queued = h
        .http
        .post(h.url("/__admin/faults"))
        .json(&json!({"route": "POST /users/{uid}/auth_tokens", "faults": [{"status": 503}, {"status": 429, "retry_after": 7}, {"delay_ms": 10}, {"close": true}, {"malformed": true}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), 200);
    let r = h
        .http
        .post(h.url("/v3/users/seeded/auth_tokens"))
        .header("apikey", h.cc.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let bad = h
        .http
        .post(h.url("/__admin/faults"))
        .json(&json!({"route": "POST", "faults": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let bad = h
        .http
        .post(h.url("/__admin/faults"))
        .json(&json!({"route": "GET /users", "faults": [{"status": 503, "hang": true}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    // A misspelt route is refused (it would never fire), and the answer lists the real ones.
    let typo = h
        .http
        .post(h.url("/__admin/faults"))
        .json(&json!({"route": "POST /users/{id}/auth_tokens", "faults": [{"status": 503}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(typo.status(), 400);
    let text = typo.text().await.unwrap();
    assert!(text.contains("POST /users/{uid}/auth_tokens"), "{text}");
    let journal: Value = h
        .http
        .get(h.url("/__admin/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entry = &journal.as_array().unwrap()[0];
    assert_eq!(entry["method"], "POST");
    assert_eq!(entry["path"], "/v3/users/seeded/auth_tokens");
    assert_eq!(entry["status"], 503);
    let reset = h.http.post(h.url("/__admin/reset")).send().await.unwrap();
    assert_eq!(reset.status(), 200);
    assert!(h.cc.users().is_empty() && h.cc.journal().is_empty());
    let r = h
        .http
        .post(h.url("/v3/users"))
        .header("apikey", h.cc.api_key())
        .json(&json!({"uid": "x", "name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "reset also dropped the remaining faults");
    let unknown = h.http.get(h.url("/__admin/nope")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn client_api_logs_in_with_a_minted_token() {
    let h =
        Harness::with(FakeCometChat::builder().seed_user(FakeUser::new("alice", "Alice"))).await;
    let (_, minted) = h.call(Method::POST, "/users/alice/auth_tokens", None).await;
    let token = minted["data"]["authToken"].as_str().unwrap().to_owned();
    let me: Value = h
        .http
        .put(h.url("/v3/me"))
        .header("authToken", &token)
        .json(&json!({"platform": "WEB"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["uid"], "alice");
    assert_eq!(me["data"]["name"], "Alice");
    assert_eq!(me["data"]["authToken"], token.as_str());
    assert_eq!(me["data"]["settings"]["CHAT_API_VERSION"], "v3");
    assert_eq!(
        me["data"]["settings"]["CLIENT_API_HOST"],
        h.cc.addr().to_string()
    );
    let unknown: Value = h
        .http
        .put(h.url("/v3/me"))
        .header("authToken", "bad_token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(code(&unknown), "AUTH_ERR_AUTH_TOKEN_NOT_FOUND");
    let session: Value = h
        .http
        .post(h.url("/v3/user_sessions"))
        .json(&json!({"sessionId": "s1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["data"]["sessionId"], "s1");
    let settings: Value = h
        .http
        .get(h.url("/v3/settings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings["data"]["ADMIN_API_HOST"], h.cc.addr().to_string());
    let preflight = h
        .http
        .request(Method::OPTIONS, h.url("/v3/me"))
        .header("access-control-request-method", "PUT")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert!(
        preflight.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authToken")
    );
    let out = h
        .http
        .delete(h.url("/v3/me"))
        .header("authToken", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert!(h.cc.tokens("alice").is_empty(), "logout revokes the token");
}

#[tokio::test]
async fn in_process_service_shares_the_journal() {
    use tower::ServiceExt;
    let cc = FakeCometChat::builder().api_key("k").start().await.unwrap();
    let request = http::Request::post("/v3/users")
        .header("apikey", "k")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            r#"{"uid":"svc","name":"S"}"#,
        )))
        .unwrap();
    let response = cc.service().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(cc.user("svc").is_some());
    assert_eq!(cc.count("POST /users"), 1);
}
