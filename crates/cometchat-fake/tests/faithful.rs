//! The behaviours cometgate's token lifecycle relies on, checked against
//! `shared/cometchat-api.md` over a real loopback socket.

mod common;

use cometchat_fake::{FakeCometChat, ROUTES, TOKENS_KEPT_PER_USER};
use common::{Harness, KEY, Reply, code};
use reqwest::Method;
use serde_json::json;

const AUTH_KEY: &str = "22222authonlyauthonlyauth22222";

#[tokio::test]
async fn create_with_auth_token_answers_the_user_and_a_valid_token_last() {
    let h = Harness::new().await;
    let (status, body) = h
        .call(
            Method::POST,
            "/users",
            Some(json!({"uid": "neo", "name": "Neo", "withAuthToken": true})),
        )
        .await;
    assert_eq!(status, 200);
    let data = body["data"].as_object().unwrap();
    let keys: Vec<&str> = data.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["uid", "name", "status", "role", "createdAt", "authToken"],
        "the recorded key order"
    );
    let token = data["authToken"].as_str().unwrap();
    assert_eq!(h.cc.tokens("neo"), vec![token.to_owned()]);
    let (status, got) = h
        .call(
            Method::GET,
            &format!("/users/neo/auth_tokens/{token}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got["data"],
        json!({"uid": "neo", "authToken": token, "createdAt": data["createdAt"]})
    );

    let (_, plain) = h
        .call(
            Method::POST,
            "/users",
            Some(json!({"uid": "trinity", "name": "T", "withAuthToken": false})),
        )
        .await;
    assert!(plain["data"].get("authToken").is_none(), "{plain}");
    assert!(h.cc.tokens("trinity").is_empty());
}

#[tokio::test]
async fn an_unknown_token_is_404_with_cometchat_s_exact_body() {
    let h = Harness::new().await;
    h.create("alice").await;
    let other = {
        h.create("bob").await;
        h.mint("bob").await
    };
    let exact = json!({"error": {
        "message": "Auth token does not exist.",
        "devMessage": "Auth token does not exist.",
        "source": "chat-api",
        "code": "ERR_AUTH_TOKEN_NOT_FOUND",
    }});
    for method in [Method::GET, Method::DELETE, Method::PUT] {
        for token in [
            "alice_1700000000abcdefabcdefabcdefabcdefabcdef",
            other.as_str(),
        ] {
            let (status, body) = h
                .call(
                    method.clone(),
                    &format!("/users/alice/auth_tokens/{token}"),
                    None,
                )
                .await;
            assert_eq!(status, 404, "{method} {token}");
            assert_eq!(body, exact, "{method} {token}");
        }
    }
    assert_eq!(h.cc.tokens("bob"), vec![other], "bob's token is untouched");
}

#[tokio::test]
async fn flushing_invalidates_every_token_of_that_user_only() {
    let h = Harness::new().await;
    h.create("alice").await;
    h.create("bob").await;
    let alice = [h.mint("alice").await, h.mint("alice").await];
    let bob = h.mint("bob").await;
    let (status, body) = h
        .call(Method::DELETE, "/users/alice/auth_tokens", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"data": {"success": true, "message": "Cleared Auth Tokens successfully for uid alice."}})
    );
    for token in &alice {
        assert_eq!(h.get_token("alice", token).await.0, 404);
        assert_eq!(
            login(&h, token).await.status,
            401,
            "a flushed token logs nobody in"
        );
    }
    assert_eq!(h.cc.tokens("bob"), vec![bob.clone()]);
    assert_eq!(login(&h, &bob).await.status, 200);
}

#[tokio::test]
async fn only_the_newest_hundred_tokens_stay_valid() {
    let h = Harness::new().await;
    h.create("alice").await;
    let mut minted = Vec::new();
    for _ in 0..TOKENS_KEPT_PER_USER + 2 {
        minted.push(h.mint("alice").await);
    }
    let (evicted, kept) = minted.split_at(2);
    let newest_first: Vec<String> = kept.iter().rev().cloned().collect();
    assert_eq!(h.cc.tokens("alice"), newest_first);
    for token in evicted {
        let answer = h.get_token("alice", token).await;
        assert_eq!(answer, (404, "ERR_AUTH_TOKEN_NOT_FOUND".to_owned()));
        assert_eq!(login(&h, token).await.status, 401);
    }
    let (_, listed) = h
        .call(Method::GET, "/users/alice/auth_tokens?perPage=1000", None)
        .await;
    assert_eq!(listed["meta"]["pagination"]["total"], 100);
    assert_eq!(listed["data"][0]["authToken"], newest_first[0].as_str());
}

#[tokio::test]
async fn permanent_delete_forgets_the_user_and_its_tokens() {
    let h = Harness::new().await;
    h.create("neo").await;
    let token = h.mint("neo").await;
    let (status, body) = h
        .call(
            Method::DELETE,
            "/users/neo",
            Some(json!({"permanent": true})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"data": {"success": true, "message": "User with UID neo has been deleted successfully."}})
    );
    assert!(h.cc.user("neo").is_none());
    assert_eq!(login(&h, &token).await.status, 401);
    let (status, body) = h.call(Method::GET, "/users/neo", None).await;
    assert_eq!((status.as_u16(), code(&body)), (404, "ERR_UID_NOT_FOUND"));
    // The UID is free again, and the new user does not inherit the old tokens.
    h.create("neo").await;
    assert!(h.cc.tokens("neo").is_empty());
    assert_eq!(login(&h, &token).await.status, 401);
}

#[tokio::test]
async fn a_deactivated_user_is_reactivated_by_put_users_with_its_tokens() {
    let h = Harness::new().await;
    h.create("neo").await;
    let token = h.mint("neo").await;
    let (status, body) = h.call(Method::DELETE, "/users/neo", None).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"data": {"deactivatedUids": ["neo"]}}));
    let (status, body) = h
        .call(
            Method::POST,
            "/users",
            Some(json!({"uid": "neo", "name": "N"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), code(&body)),
        (400, "ERR_UID_ALREADY_EXISTS")
    );

    let reactivate = json!({"uidsToActivate": ["neo", "InvalidUID"]});
    let (status, body) = h.call(Method::PUT, "/users", Some(reactivate)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"data": {"reactivatedUids": ["neo"], "notFound": ["InvalidUID"]}})
    );
    assert!(h.cc.user("neo").unwrap().deactivated_at.is_none());
    let (status, _) = h.call(Method::GET, "/users/neo", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        login(&h, &token).await.status,
        200,
        "its token logs in again"
    );
    // The journal names the route as the fault scripts do.
    assert_eq!(h.cc.count("PUT /users"), 1);
    assert_eq!(h.cc.requests_to("PUT /users")[0].path, "/v3/users");

    let (status, body) = h
        .call(Method::PUT, "/users", Some(json!({"uidsToActivate": []})))
        .await;
    assert_eq!((status.as_u16(), code(&body)), (400, "ERR_BAD_REQUEST"));
    assert_eq!(
        body["error"]["details"],
        json!({"uidsToActivate": ["The uids to activate field is required."]})
    );
}

#[tokio::test]
async fn update_changes_the_name_and_the_avatar() {
    let h = Harness::new().await;
    h.create("alice").await;
    let (status, body) = h
        .call(
            Method::PUT,
            "/users/alice",
            Some(json!({"name": "Alice Liddell", "avatar": "https://img.test/a.png"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, got) = h.call(Method::GET, "/users/alice", None).await;
    assert_eq!(got["data"]["name"], "Alice Liddell");
    assert_eq!(got["data"]["avatar"], "https://img.test/a.png");
    assert!(got["data"]["updatedAt"].is_i64());
    assert_eq!(
        h.cc.user("alice").unwrap().avatar.as_deref(),
        Some("https://img.test/a.png")
    );
    let (status, body) = h
        .call(
            Method::PUT,
            "/users/alice",
            Some(json!({"avatar": "not a url"})),
        )
        .await;
    assert_eq!((status.as_u16(), code(&body)), (400, "ERR_BAD_REQUEST"));
    assert_eq!(
        h.cc.user("alice").unwrap().name,
        "Alice Liddell",
        "a bad update changes nothing"
    );
}

fn remaining(reply: &Reply, name: &str) -> u64 {
    reply.headers[name]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} is not a number"))
}

#[tokio::test]
async fn every_answer_carries_the_remaining_counts() {
    let h = Harness::new().await;
    let wrong_key = h.call_as(Some("wrong"), Method::GET, "/users", None).await;
    let unknown_route = h.call_as(Some(KEY), Method::GET, "/groups", None).await;
    let invalid = h
        .call_as(Some(KEY), Method::POST, "/users", Some(json!({"uid": ""})))
        .await;
    let ok = h.call_as(Some(KEY), Method::GET, "/users", None).await;
    h.cc.push_faults("GET /users", [cometchat_fake::Fault::status(503)]);
    let fault = h.call_as(Some(KEY), Method::GET, "/users", None).await;
    let replies = [&wrong_key, &unknown_route, &invalid, &ok, &fault];
    for (i, reply) in replies.iter().enumerate() {
        let app = remaining(reply, "x-ratelimit-remaining-for-app");
        assert_eq!(app, 100_000 - 1 - i as u64, "answer {i} ({})", reply.status);
        assert!(remaining(reply, "x-ratelimit-remaining") < remaining(reply, "x-ratelimit-limit"));
    }
}

#[tokio::test]
async fn the_remaining_counts_follow_the_configured_per_minute_limit() {
    let h = Harness::with(
        FakeCometChat::builder()
            .api_key(KEY)
            .rate_limit_per_minute(3),
    )
    .await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        let reply = h.call_as(Some(KEY), Method::GET, "/users", None).await;
        seen.push((
            reply.status.as_u16(),
            remaining(&reply, "x-ratelimit-limit-for-app"),
            remaining(&reply, "x-ratelimit-remaining-for-app"),
            remaining(&reply, "x-ratelimit-limit"),
            remaining(&reply, "x-ratelimit-remaining"),
        ));
    }
    assert_eq!(
        seen,
        [
            (200, 3, 2, 3, 2),
            (200, 3, 1, 3, 1),
            (200, 3, 0, 3, 0),
            (429, 3, 0, 3, 0)
        ]
    );
}

async fn login(h: &Harness, token: &str) -> Reply {
    let res = h
        .http
        .put(h.url("/v3/me"))
        .header("authToken", token)
        .json(&json!({"platform": "WEB"}))
        .send()
        .await
        .unwrap();
    common::read(res).await
}

/// What an Auth Key (scope `authOnly`) may do: create users and auth tokens.
const AUTH_ONLY_ROUTES: [&str; 2] = ["POST /users", "POST /users/{uid}/auth_tokens"];

#[tokio::test]
async fn an_auth_key_may_only_create_users_and_tokens() {
    let h = Harness::with(FakeCometChat::builder().api_key(KEY).auth_key(AUTH_KEY)).await;
    assert_eq!(h.cc.auth_key(), Some(AUTH_KEY));
    h.create("alice").await;
    let token = h.mint("alice").await;
    let created = h
        .call_as(
            Some(AUTH_KEY),
            Method::POST,
            "/users",
            Some(json!({"uid": "bob", "name": "Bob", "withAuthToken": true})),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    for route in ROUTES
        .iter()
        .filter(|r| !r.contains("/me") && !r.contains("session") && !r.contains("settings"))
    {
        let (method, template) = route.split_once(' ').unwrap();
        let path = template
            .replace("{uid}", "alice")
            .replace("{authToken}", &token);
        let body = (*route == "POST /users").then(|| json!({"uid": "carol", "name": "Carol"}));
        let before = (h.cc.users(), h.cc.tokens("alice"));
        let reply = h
            .call_as(Some(AUTH_KEY), method.parse().unwrap(), &path, body)
            .await;
        if AUTH_ONLY_ROUTES.contains(route) {
            assert_eq!(reply.status, 200, "{route}: {}", reply.body);
            continue;
        }
        assert_eq!(reply.status, 403, "{route}: {}", reply.body);
        assert_eq!(
            reply.body,
            json!({"error": {
                "message": "The key 22222********************22222 cannot be used to perform this operation. Please use API key with a correct scope to perform the operation.",
                "devMessage": "The 22222********************22222 key does not have enough clearance. To perform the operation, please use the API key with the correct scope.",
                "source": "chat-api",
                "code": "AUTH_ERR_NO_ACCESS",
            }}),
            "{route}"
        );
        assert_eq!(
            (h.cc.users(), h.cc.tokens("alice")),
            before,
            "{route} changed state"
        );
    }
    h.cc.assert_secret_never_sent(AUTH_KEY);
    // A key that is neither is still 401, and the REST API key may do everything.
    let wrong = h
        .call_as(
            Some("33333nothingnothingnot33333"),
            Method::POST,
            "/users",
            None,
        )
        .await;
    assert_eq!(code(&wrong.body), "AUTH_ERR_APIKEY_NOT_FOUND");
    let (status, _) = h.call(Method::GET, "/users", None).await;
    assert_eq!(status, 200);
}
