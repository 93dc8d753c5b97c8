//! The webhook routes end to end through the endpoint, against the fake: each source's
//! authentication, the sync it triggers, deduplication, refusals with zero side effects.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use cometchat_fake::{FakeCometChat, Fault};
use cometgate::endpoint::{Answer, Endpoint};
use cometgate::identity::SimpleRequest;
use cometgate::vend::ProblemType;
use cometgate::webhook::{SharedSecret, SigningSecret, SupabaseTable, Webhooks};
use common::{Ask, builder, fake_config, problem_type, request, token};
use proptest::prelude::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SUPABASE: &str = "a-supabase-webhook-secret-of-32-bytes-or-more";
const AUTH0: &str = "an-auth0-event-stream-token-of-32-bytes";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn webhooks() -> Webhooks {
    Webhooks::new()
        .standard(SECRET.parse().unwrap(), "test")
        .clerk(SECRET.parse().unwrap(), "test")
        .supabase(
            SharedSecret::bearer(SUPABASE, 32).unwrap(),
            "test",
            SupabaseTable::default(),
        )
        .auth0(SharedSecret::bearer(AUTH0, 32).unwrap(), "test")
}

fn endpoint(cc: &FakeCometChat) -> Endpoint<common::TestAuth> {
    Endpoint::new(builder(fake_config(cc)).build().unwrap()).with_webhooks(webhooks())
}

/// A delivery signed as `prefix-*` headers (`webhook` or `svix`) with id `id` at `ts`.
fn signed(source: &str, prefix: &str, id: &str, ts: u64, body: &str) -> SimpleRequest {
    let signature = SigningSecret::parse(SECRET)
        .unwrap()
        .sign(id, ts, body.as_bytes());
    SimpleRequest::post(format!("/cometchat-webhooks/{source}"))
        .with_header(format!("{prefix}-id"), id)
        .with_header(format!("{prefix}-timestamp"), ts.to_string())
        .with_header(format!("{prefix}-signature"), signature)
}

async fn send(
    endpoint: &Endpoint<common::TestAuth>,
    request: &SimpleRequest,
    body: &str,
) -> Answer {
    endpoint
        .serve(request, Bytes::from(body.to_owned()))
        .expect("a webhook route")
        .await
}

fn standard(kind: &str, subject: &str, name: &str, updated_at: u64) -> String {
    format!(
        r#"{{"type":"user.{kind}","data":{{"subject":"{subject}","name":"{name}","avatar":"https://img.example/{name}.png","updatedAt":{updated_at}}}}}"#
    )
}

#[tokio::test]
async fn standard_deliveries_create_update_and_delete_users_once_each() {
    let cc = FakeCometChat::start().await;
    let endpoint = endpoint(&cc);
    let body = standard("created", "ada", "Ada", 1_000);
    let answer = send(
        &endpoint,
        &signed("standard", "webhook", "msg_1", now(), &body),
        &body,
    )
    .await;
    assert_eq!(answer.status(), 204, "{answer:?}");
    assert_eq!(cc.user("ada").unwrap().name, "Ada");

    // Svix-style headers are accepted too; a redelivery (same id, fresh timestamp and
    // signature) changes nothing.
    let calls = cc.journal().len();
    let answer = send(
        &endpoint,
        &signed("standard", "svix", "msg_1", now() + 1, &body),
        &body,
    )
    .await;
    assert_eq!(answer.status(), 204);
    assert_eq!(cc.journal().len(), calls, "no second side effect");

    let body = standard("updated", "ada", "Ada L", 2_000);
    assert_eq!(
        send(
            &endpoint,
            &signed("standard", "webhook", "msg_2", now(), &body),
            &body
        )
        .await
        .status(),
        204
    );
    assert_eq!(cc.user("ada").unwrap().name, "Ada L");

    let gate = endpoint.gate();
    token(&gate.answer_on(&request("good:ada"), "phone").await);
    let body = r#"{"type":"user.deleted","data":{"subject":"ada"}}"#;
    assert_eq!(
        send(
            &endpoint,
            &signed("standard", "webhook", "msg_3", now(), body),
            body
        )
        .await
        .status(),
        204
    );
    assert!(cc.user("ada").is_none());
    assert!(cc.tokens("ada").is_empty());
    let answer = gate.answer_on(&request("good:ada"), "phone").await;
    assert_eq!(problem_type(&answer), Some(ProblemType::AccountDeleted));

    // A late update (older than the deletion, which is dated by its signed timestamp).
    let body = standard("updated", "ada", "Zombie", 3_000);
    assert_eq!(
        send(
            &endpoint,
            &signed("standard", "webhook", "msg_4", now(), &body),
            &body
        )
        .await
        .status(),
        204
    );
    assert!(
        cc.user("ada").is_none(),
        "a late update does not resurrect a deleted account"
    );
    cc.assert_no_unexpected();
}

#[tokio::test]
async fn refused_deliveries_change_nothing() {
    let cc = FakeCometChat::start().await;
    let endpoint = endpoint(&cc);
    let body = standard("created", "eve", "Eve", 1_000);
    let cases: Vec<(SimpleRequest, String, u16)> = vec![
        (signed("standard", "webhook", "msg_e", now(), &body), body.replace("Eve", "Evf"), 401),
        (signed("standard", "webhook", "msg_e", now() - 600, &body), body.clone(), 401),
        (
            SimpleRequest::post("/cometchat-webhooks/standard")
                .with_header("webhook-id", "msg_e")
                .with_header("webhook-timestamp", now().to_string()),
            body.clone(),
            401,
        ),
        (
            SimpleRequest::post("/cometchat-webhooks/standard")
                .with_header("webhook-id", "msg_e")
                .with_header("webhook-timestamp", "-9223372036854775808")
                .with_header("webhook-signature", "v1,AAAA"),
            body.clone(),
            400,
        ),
        (
            SimpleRequest::post("/cometchat-webhooks/supabase").with_header("authorization", "Bearer wrong"),
            r#"{"type":"INSERT","schema":"auth","table":"users","record":{"id":"eve"},"old_record":null}"#.to_owned(),
            401,
        ),
        (SimpleRequest::post("/cometchat-webhooks/auth0"), "{}".to_owned(), 401),
    ];
    for (request, body, status) in cases {
        let answer = send(&endpoint, &request, &body).await;
        assert_eq!(answer.status(), status, "{request:?}");
    }
    let big = "x".repeat(1024 * 1024 + 1);
    assert_eq!(
        send(
            &endpoint,
            &signed("standard", "webhook", "big", now(), &big),
            &big
        )
        .await
        .status(),
        413
    );
    // Valid signature, malformed payload: 400; unknown type: 204; both without a call.
    let bad = r#"{"type":"user.created","data":{"subject":7}}"#;
    assert_eq!(
        send(
            &endpoint,
            &signed("standard", "webhook", "m1", now(), bad),
            bad
        )
        .await
        .status(),
        400
    );
    let other = r#"{"type":"organization.created","data":{}}"#;
    assert_eq!(
        send(
            &endpoint,
            &signed("standard", "webhook", "m2", now(), other),
            other
        )
        .await
        .status(),
        204
    );
    assert!(cc.journal().is_empty(), "{:?}", cc.journal());
    // An unconfigured path is not a route.
    assert!(
        endpoint
            .serve(
                &SimpleRequest::post("/cometchat-webhooks/other"),
                Bytes::new()
            )
            .is_none()
    );
}

#[tokio::test]
async fn a_delivery_that_failed_upstream_is_a_503_and_applied_when_delivered_again() {
    let cc = FakeCometChat::start().await;
    let endpoint = endpoint(&cc);
    cc.push_faults(
        "POST /users",
        std::iter::repeat_n(
            Fault::Status {
                status: 503,
                retry_after: None,
            },
            4,
        ),
    );
    let body = standard("created", "fay", "Fay", 1_000);
    let answer = send(
        &endpoint,
        &signed("standard", "webhook", "msg_f", now(), &body),
        &body,
    )
    .await;
    assert_eq!(answer.status(), 503);
    assert_eq!(
        problem_type(&answer),
        Some(ProblemType::UpstreamUnavailable)
    );
    assert!(answer.header("retry-after").is_some());
    assert!(cc.user("fay").is_none());
    let answer = send(
        &endpoint,
        &signed("standard", "webhook", "msg_f", now(), &body),
        &body,
    )
    .await;
    assert_eq!(
        answer.status(),
        204,
        "the failed delivery was not remembered as done"
    );
    assert_eq!(cc.user("fay").unwrap().name, "Fay");
}

#[tokio::test]
async fn clerk_supabase_and_auth0_deliveries_are_applied() {
    let cc = FakeCometChat::start().await;
    let endpoint = endpoint(&cc);
    let clerk = r#"{"type":"user.created","object":"event","data":{"id":"user_2abc","first_name":"Grace","last_name":"Hopper","image_url":"https://img.clerk.com/g.png","updated_at":1700000000000}}"#;
    assert_eq!(
        send(
            &endpoint,
            &signed("clerk", "svix", "msg_c", now(), clerk),
            clerk
        )
        .await
        .status(),
        204
    );
    assert_eq!(cc.user("user_2abc").unwrap().name, "Grace Hopper");

    let supabase = r#"{"type":"INSERT","schema":"auth","table":"users","record":{"id":"8d0f7e2a-1b2c-4d5e-8f90-123456789abc","raw_user_meta_data":{"full_name":"Linus"},"updated_at":"2024-01-01T12:00:00.123456+00:00"},"old_record":null}"#;
    let request = SimpleRequest::post("/cometchat-webhooks/supabase")
        .with_header("authorization", format!("Bearer {SUPABASE}"));
    assert_eq!(send(&endpoint, &request, supabase).await.status(), 204);
    assert_eq!(
        cc.user("8d0f7e2a-1b2c-4d5e-8f90-123456789abc")
            .unwrap()
            .name,
        "Linus"
    );

    let auth0 = r#"{"specversion":"1.0","type":"user.created","source":"urn:auth0:t.auth0.com","id":"evt_1","time":"2024-01-01T12:00:00Z","data":{"object":{"user_id":"abc123","name":"Barbara"}}}"#;
    let request = SimpleRequest::post("/cometchat-webhooks/auth0")
        .with_header("authorization", format!("Bearer {AUTH0}"));
    assert_eq!(send(&endpoint, &request, auth0).await.status(), 204);
    assert_eq!(cc.user("abc123").unwrap().name, "Barbara");
    let calls = cc.journal().len();
    assert_eq!(send(&endpoint, &request, auth0).await.status(), 204);
    assert_eq!(cc.journal().len(), calls, "the CloudEvents id deduplicates");
}

#[tokio::test]
async fn a_clerk_session_end_revokes_that_session_s_token() {
    let cc = FakeCometChat::start().await;
    let endpoint = endpoint(&cc);
    let gate = endpoint.gate();
    let phone = token(&gate.answer_on(&request("good:user_9"), "sess_1").await);
    let laptop = token(&gate.answer_on(&request("good:user_9"), "sess_2").await);
    let body = r#"{"type":"session.ended","object":"event","data":{"id":"sess_1","user_id":"user_9","status":"ended"}}"#;
    assert_eq!(
        send(
            &endpoint,
            &signed("clerk", "svix", "msg_s", now(), body),
            body
        )
        .await
        .status(),
        204
    );
    let live = cc.tokens("user_9");
    assert!(
        !live.contains(&phone),
        "the ended session's token is revoked"
    );
    assert!(live.contains(&laptop), "the other session keeps its token");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary headers and bodies never panic and never cause a CometChat call unless signed.
    #[test]
    fn unsigned_deliveries_never_have_an_effect(
        source in prop::sample::select(vec!["standard", "clerk", "supabase", "auth0"]),
        headers in prop::collection::vec(
            (prop::sample::select(vec!["webhook-id", "webhook-timestamp", "webhook-signature", "svix-id",
                "svix-timestamp", "svix-signature", "authorization"]), prop::collection::vec(any::<u8>(), 0..80)),
            0..6,
        ),
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let cc = FakeCometChat::start().await;
            let endpoint = endpoint(&cc);
            let mut request = SimpleRequest::post(format!("/cometchat-webhooks/{source}"));
            for (name, value) in &headers {
                request = request.with_header(*name, value.clone());
            }
            let answer = endpoint.serve(&request, Bytes::from(body.clone())).unwrap().await;
            prop_assert!(matches!(answer.status(), 400 | 401), "{}", answer.status());
            prop_assert!(cc.journal().is_empty());
            Ok(())
        })?;
    }
}
