//! The bounded journal over a real socket: what it keeps, what stays exact after it drops
//! entries, what refuses to answer from part of it, and what the control API says.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use cometchat_fake::{DEFAULT_JOURNAL_CAPACITY, FakeCometChat, MAX_CONTROL_BODY_BYTES};
use common::Harness;
use reqwest::Method;
use serde_json::{Value, json};

/// A lower-case key: CometChat echoes a path's UID lower-cased, so `GET /users/{key}` makes the
/// fake "leak" it in a 404 body.
const KEY: &str = "leakyrestkey0123456789";

async fn with_capacity(capacity: usize) -> Harness {
    Harness::with(
        FakeCometChat::builder()
            .api_key(KEY)
            .journal_capacity(capacity),
    )
    .await
}

/// The panic message of `f`, if it panicked.
fn panic_of(f: impl FnOnce()) -> Option<String> {
    let payload = catch_unwind(AssertUnwindSafe(f)).err()?;
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
}

#[tokio::test]
async fn the_default_capacity_is_documented_and_used() {
    let cc = FakeCometChat::start().await;
    assert_eq!(cc.journal_capacity(), DEFAULT_JOURNAL_CAPACITY);
    assert_eq!(DEFAULT_JOURNAL_CAPACITY, 10_000);
}

#[tokio::test]
async fn a_full_ring_keeps_the_newest_and_counts_every_request() {
    let h = with_capacity(3).await;
    for uid in ["a", "b", "c", "d", "e"] {
        h.call(Method::GET, &format!("/users/{uid}"), None).await;
    }
    h.call(Method::GET, "/users", None).await;
    let held: Vec<String> = h.cc.journal().into_iter().map(|e| e.path).collect();
    assert_eq!(held, ["/v3/users/d", "/v3/users/e", "/v3/users"]);
    assert_eq!(h.cc.journal_dropped(), 3);
    assert_eq!(
        h.cc.count("GET /users/{uid}"),
        5,
        "counts cover dropped entries"
    );
    assert_eq!(h.cc.route_counts()["GET /users/{uid}"], 5);
    assert_eq!(
        h.cc.requests_to("GET /users").len(),
        1,
        "none of those were dropped"
    );

    let refused = panic_of(|| {
        h.cc.requests_to("GET /users/{uid}");
    })
    .expect("requests_to must not answer from part of the journal");
    assert!(
        refused.contains("3 requests") && refused.contains("journal_capacity"),
        "{refused}"
    );
    assert!(
        panic_of(|| {
            h.cc.requests_where(|_| true);
        })
        .is_some()
    );

    h.cc.reset();
    assert_eq!(
        (h.cc.journal_dropped(), h.cc.count("GET /users/{uid}")),
        (0, 0)
    );
    assert_eq!(h.cc.journal_capacity(), 3, "reset keeps the capacity");
}

#[tokio::test]
async fn a_leak_of_the_fake_s_key_is_found_after_its_entry_was_dropped() {
    for capacity in [0, 1] {
        let h = with_capacity(capacity).await;
        let (status, body) = h.call(Method::GET, &format!("/users/{KEY}"), None).await;
        assert_eq!(status, 404);
        assert!(
            body.to_string().contains(KEY),
            "the probe must leak: {body}"
        );
        for _ in 0..3 {
            h.call(Method::GET, "/users", None).await;
        }
        assert!(h.cc.journal().iter().all(|e| !e.response_contains(KEY)));
        let found = panic_of(|| h.cc.assert_secret_never_sent(KEY))
            .expect("the leak must be found whatever the ring dropped");
        assert!(found.contains(&format!("GET /v3/users/{KEY}")), "{found}");
    }
}

#[tokio::test]
async fn an_auth_key_leak_is_watched_too() {
    let auth_key = "leakyauthkey9876543210";
    let h = Harness::with(
        FakeCometChat::builder()
            .api_key(KEY)
            .auth_key(auth_key)
            .journal_capacity(0),
    )
    .await;
    h.call(Method::GET, &format!("/users/{auth_key}"), None)
        .await;
    assert!(panic_of(|| h.cc.assert_secret_never_sent(auth_key)).is_some());
}

#[tokio::test]
async fn another_secret_is_checked_only_while_nothing_was_dropped() {
    let other = "someothersecret42";
    let h = with_capacity(2).await;
    h.call(Method::GET, "/users", None).await;
    h.cc.assert_secret_never_sent(other);
    h.call(Method::GET, &format!("/users/{other}"), None).await;
    assert!(panic_of(|| h.cc.assert_secret_never_sent(other)).is_some());
    h.call(Method::GET, "/users", None).await;
    h.call(Method::GET, "/users", None).await;
    let refused = panic_of(|| h.cc.assert_secret_never_sent(other))
        .expect("a dropped entry cannot be vouched for");
    assert!(refused.contains("cannot tell"), "{refused}");
    h.cc.assert_secret_never_sent(KEY);
}

#[tokio::test]
async fn unexpected_requests_are_reported_after_they_were_dropped() {
    let h = Harness::with(
        FakeCometChat::builder()
            .api_key(KEY)
            .strict(true)
            .journal_capacity(1),
    )
    .await;
    h.call(Method::GET, "/groups", None).await;
    h.call(Method::GET, "/users", None).await;
    assert!(h.cc.journal().iter().all(|e| !e.unexpected));
    let reported = panic_of(|| h.cc.assert_no_unexpected()).expect("strict mode must still fail");
    assert!(
        reported.contains("1 unexpected") && reported.contains("1 more"),
        "{reported}"
    );
    assert!(
        panic_of(|| {
            h.cc.unexpected();
        })
        .is_some()
    );
}

#[tokio::test]
async fn the_control_api_says_what_the_journal_dropped() {
    let h = with_capacity(2).await;
    for _ in 0..5 {
        h.call(Method::GET, "/users", None).await;
    }
    let res = h.http.get(h.url("/__admin/requests")).send().await.unwrap();
    assert_eq!(res.headers()["x-journal-capacity"], "2");
    assert_eq!(res.headers()["x-journal-dropped"], "3");
    let entries: Value = res.json().await.unwrap();
    assert_eq!(entries.as_array().map(Vec::len), Some(2));
    h.http.post(h.url("/__admin/reset")).send().await.unwrap();
    let res = h.http.get(h.url("/__admin/requests")).send().await.unwrap();
    assert_eq!(res.headers()["x-journal-dropped"], "0");
}

#[tokio::test]
async fn the_control_api_takes_bodies_up_to_its_limit() {
    let h = Harness::new().await;
    // Far over the REST API's 10 KB: 2,000 users.
    let users: Vec<Value> = (0..2000)
        .map(|i| json!({"uid": format!("seeded_{i:04}"), "name": format!("Seeded user {i}")}))
        .collect();
    let body = serde_json::to_vec(&users).unwrap();
    assert!(body.len() > 10 * 1024 && body.len() < MAX_CONTROL_BODY_BYTES);
    let seeded = h
        .http
        .post(h.url("/__admin/users"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.status(), 200);
    assert_eq!(h.cc.users().len(), 2000);

    let too_big = vec![b' '; MAX_CONTROL_BODY_BYTES + 1];
    let refused = h
        .http
        .post(h.url("/__admin/users"))
        .body(too_big)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 413);
    let answer: Value = refused.json().await.unwrap();
    let message = answer["error"].as_str().unwrap_or_default();
    assert!(
        message.contains(&MAX_CONTROL_BODY_BYTES.to_string()),
        "{message}"
    );
    assert_eq!(h.cc.users().len(), 2000, "a refused body changes nothing");
}
