//! The token lifecycle's HTTP contract, run against every adapter by
//! [`security_suite!`](crate::security_suite): device reuse, refresh and the revoke route; bad
//! device ids are 400 with no upstream call; an unauthenticated revoke is 401 with none.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::suite::{check, run};
use crate::{Adapter, Env, Tuning, runtime};

const MINT: &str = "POST /users/{uid}/auth_tokens";

async fn post(env: &Env, path: &str, bearer: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = env.http.post(format!("{}{path}", env.base)).json(body);
    if let Some(bearer) = bearer {
        req = req.bearer_auth(bearer);
    }
    let res = req.send().await.expect("send");
    let status = res.status().as_u16();
    let bytes = res.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// A device gets its token back without a mint, a refresh replaces it, and the revoke route
/// logs it out (204, idempotent; 401 without credentials, with no upstream call).
pub fn devices_reuse_refresh_and_revoke<A: Adapter>() {
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::relaxed()));
    rt.block_on(async {
        let bearer = env.token_for("lifecycle");
        let uid = env.uid_for("lifecycle");
        let name = A::NAME;
        let phone = json!({"deviceId": "phone-1"});
        let (status, first) = post(&env, "/cometchat-token", Some(&bearer), &phone).await;
        assert_eq!(status, 200, "[{name}] {first}");
        assert_eq!(first["deviceId"], "phone-1", "[{name}]");
        assert!(first["expiresAt"].is_u64(), "[{name}] {first}");
        let mints = env.fake.count(MINT);
        let (_, again) = post(&env, "/cometchat-token", Some(&bearer), &phone).await;
        assert_eq!(again["authToken"], first["authToken"], "[{name}] reused");
        assert_eq!(env.fake.count(MINT), mints, "[{name}] reuse mints nothing");

        let refresh = json!({"deviceId": "phone-1", "refresh": true});
        let (_, new) = post(&env, "/cometchat-token", Some(&bearer), &refresh).await;
        assert_ne!(new["authToken"], first["authToken"], "[{name}] refreshed");
        assert_eq!(
            env.fake.tokens(&uid),
            [new["authToken"].as_str().unwrap()],
            "[{name}]"
        );

        let calls = env.fake.journal().len();
        let (status, _) = post(&env, "/cometchat-token/revoke", None, &phone).await;
        assert_eq!(status, 401, "[{name}] unauthenticated revoke");
        assert_eq!(
            env.fake.journal().len(),
            calls,
            "[{name}] no call without credentials"
        );

        let (status, body) = post(&env, "/cometchat-token/revoke", Some(&bearer), &phone).await;
        assert_eq!(status, 204, "[{name}] {body}");
        assert!(
            env.fake.tokens(&uid).is_empty(),
            "[{name}] revoked at CometChat"
        );
        let (status, _) = post(&env, "/cometchat-token/revoke", Some(&bearer), &phone).await;
        assert_eq!(status, 204, "[{name}] idempotent");
        let (status, _) = post(
            &env,
            "/cometchat-token/revoke",
            Some(&bearer),
            &json!({"all": true}),
        )
        .await;
        assert_eq!(status, 204, "[{name}] revoke all");
        let (status, _) = post(&env, "/cometchat-token/revoke", Some(&bearer), &json!({})).await;
        assert_eq!(status, 400, "[{name}] a revoke must say what");
        let get = env
            .http
            .get(format!("{}/cometchat-token/revoke", env.base))
            .send()
            .await
            .expect("send");
        assert_eq!(get.status(), 405, "[{name}] revoke is POST only");
    });
}

/// Any device id outside the rule is a 400 problem on both routes, and CometChat hears of
/// nothing.
pub fn bad_device_ids_are_400_without_an_upstream_call<A: Adapter>() {
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::relaxed()));
    let bad = prop_oneof![
        "[ -~]{0,140}",
        "[A-Za-z0-9]{129,160}",
        "[A-Za-z0-9]{1,10}[ /#?\u{e9}\u{0}][A-Za-z0-9]{0,10}",
    ]
    .prop_filter("invalid", |id| cometgate::DeviceId::parse(id).is_err());
    run(
        A::NAME,
        "bad device ids are 400",
        (bad, any::<bool>()),
        |(id, on_revoke)| {
            rt.block_on(async {
                env.fake.reset();
                let path = if on_revoke {
                    "/cometchat-token/revoke"
                } else {
                    "/cometchat-token"
                };
                let bearer = env.token_for("baddevice");
                let (status, body) =
                    post(&env, path, Some(&bearer), &json!({"deviceId": id})).await;
                check(status == 400, || {
                    format!("{id:?} on {path}: {status} {body}")
                })?;
                check(
                    body["type"] == "https://cometgate.dev/problems/bad-request",
                    || body.to_string(),
                )?;
                // The fixed explanation, never the input.
                let rule = cometgate::device::InvalidDeviceId.to_string();
                check(body["detail"] == rule.as_str(), || body.to_string())?;
                check(env.fake.journal().is_empty(), || {
                    format!("{id:?}: {:?}", env.fake.route_counts())
                })
            })
        },
    );
}
