//! The core client against the stateful fake: the example the fake's README shows.

use cometchat_fake::{FakeCometChat, Fault};
use cometgate::client::{Client, DeleteMode, NewUser, PageRequest};
use cometgate::retry::ManualTimer;
use cometgate::{Config, Region, Uid};

fn client_for(cc: &FakeCometChat) -> Client {
    client_with_timer(cc, ManualTimer::new())
}

fn client_with_timer(cc: &FakeCometChat, timer: ManualTimer) -> Client {
    let config = Config::builder()
        .app_id(cc.app_id())
        .region(Region::Us)
        .rest_api_key(cc.api_key())
        .api_base(cc.base_url())
        .build()
        .unwrap();
    Client::builder(config).timer(timer).build().unwrap()
}

#[tokio::test]
async fn provision_mint_and_delete_a_user() {
    let cc = FakeCometChat::start().await;
    let client = client_for(&cc);
    let alice = Uid::parse("alice").unwrap();

    let err = client.create_auth_token(&alice).await.unwrap_err();
    assert!(err.is_uid_not_found());

    client
        .create_user(&NewUser::new(alice.clone(), "Alice"))
        .await
        .unwrap();
    let token = client.create_auth_token(&alice).await.unwrap();
    assert_eq!(
        cc.tokens("alice"),
        vec![token.auth_token.expose().to_owned()]
    );
    let listed = client
        .list_auth_tokens(&alice, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 1);

    client
        .delete_user(&alice, DeleteMode::Permanent)
        .await
        .unwrap();
    assert!(cc.user("alice").is_none());
    cc.assert_secret_never_sent(cc.api_key());
}

#[tokio::test]
async fn a_deactivated_user_is_reactivated() {
    let cc = FakeCometChat::start().await;
    let client = client_for(&cc);
    let neo = Uid::parse("neo").unwrap();
    client
        .create_user(&NewUser::new(neo.clone(), "Neo"))
        .await
        .unwrap();
    client
        .delete_user(&neo, DeleteMode::Deactivate)
        .await
        .unwrap();
    assert!(client.get_user(&neo).await.unwrap_err().is_uid_not_found());
    assert!(client.reactivate_user(&neo).await.unwrap());
    assert_eq!(client.get_user(&neo).await.unwrap().name, "Neo");
    client.create_auth_token(&neo).await.unwrap();
    // An active user is not reactivated again; nor is an unknown one.
    assert!(!client.reactivate_user(&neo).await.unwrap());
    assert!(
        !client
            .reactivate_user(&Uid::parse("ghost").unwrap())
            .await
            .unwrap()
    );
    assert_eq!(cc.count("PUT /users"), 3);
}

#[tokio::test]
async fn a_retried_create_that_finds_the_user_counts_as_success() {
    let cc = FakeCometChat::start().await;
    let client = client_for(&cc);
    let neo = Uid::parse("neo").unwrap();
    // As if an earlier attempt created the user but its answer was lost in a 503.
    cc.seed_user(cometchat_fake::FakeUser::new("neo", "Neo"));
    cc.push_faults("POST /users", [Fault::status(503)]);
    let user = client
        .create_user(&NewUser::new(neo.clone(), "Neo"))
        .await
        .unwrap();
    assert_eq!(user.uid, neo);
    assert_eq!(cc.count("POST /users"), 2);
    assert_eq!(cc.count("GET /users/{uid}"), 1);

    // Without a failed attempt before it, "already exists" is an error.
    let err = client
        .create_user(&NewUser::new(neo, "Neo"))
        .await
        .unwrap_err();
    assert!(err.is_uid_already_exists());
}

#[tokio::test]
async fn four_hundreds_reach_the_fake_once_five_hundreds_four_times() {
    let cc = FakeCometChat::start().await;
    let client = client_for(&cc);
    let bob = Uid::parse("bob").unwrap();
    client.create_auth_token(&bob).await.unwrap_err();
    assert_eq!(cc.count("POST /users/{uid}/auth_tokens"), 1);

    cc.push_faults(
        "POST /users/{uid}/auth_tokens",
        std::iter::repeat_n(Fault::status(503), 4),
    );
    let err = client.create_auth_token(&bob).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(cc.count("POST /users/{uid}/auth_tokens"), 1 + 4);
}

/// The fake's README example, verbatim (keep the two in step).
#[tokio::test]
async fn mints_after_creating_the_user() {
    let cc = FakeCometChat::start().await; // 127.0.0.1:0, its own state, ~25 µs
    let config = Config::builder()
        .app_id(cc.app_id())
        .region(Region::Us)
        .rest_api_key(cc.api_key())
        .api_base(cc.base_url()) // http://127.0.0.1:PORT/v3
        .build()
        .unwrap();
    let client = Client::new(config).unwrap();
    let alice = Uid::parse("alice").unwrap();

    client
        .create_user(&NewUser::new(alice.clone(), "Alice"))
        .await
        .unwrap();
    cc.push_faults("POST /users/{uid}/auth_tokens", [Fault::status(503)]);
    let token = client.create_auth_token(&alice).await.unwrap(); // retried after the 503

    assert_eq!(
        cc.tokens("alice"),
        vec![token.auth_token.expose().to_owned()]
    );
    assert_eq!(cc.count("POST /users/{uid}/auth_tokens"), 2);
    cc.assert_secret_never_sent(cc.api_key());
}

/// End to end through the gate (the vend layer maps a client `429` to `503` +
/// `Retry-After`): after CometChat's 429, another user's mint answers 503 with the rest of the
/// window and CometChat is not called; once the window is over, mints go through.
#[tokio::test]
async fn the_gate_answers_503_with_the_remaining_window_without_calling_cometchat() {
    use cometgate::Gate;
    use cometgate::retry::Timer;

    const MINT: &str = "POST /users/{uid}/auth_tokens";
    let cc = FakeCometChat::start().await;
    let timer = ManualTimer::new();
    let gate = Gate::builder()
        .client(client_with_timer(&cc, timer.clone()))
        .build()
        .unwrap();
    let retry_after = |answer: &cometgate::Answer| -> u64 {
        answer
            .header("retry-after")
            .and_then(|value| value.parse().ok())
            .expect("a whole-second Retry-After")
    };
    let endpoint = cometgate::Endpoint::new(gate);
    let mint = |sub: &'static str| mint_as(&endpoint, sub);

    cc.push_faults(MINT, [Fault::too_many_requests(7)]);
    let first = mint("ann").await;
    assert_eq!((first.status(), retry_after(&first)), (503, 7));
    assert_eq!(cc.count(MINT), 1);

    timer.sleep(std::time::Duration::from_secs(3)).await;
    let second = mint("bob").await;
    assert_eq!(second.status(), 503, "{second:?}");
    assert!((1..=4).contains(&retry_after(&second)), "{second:?}");
    assert_eq!(
        cc.count(MINT),
        1,
        "CometChat was called inside its 429 window"
    );

    timer.sleep(std::time::Duration::from_secs(4)).await;
    let third = mint("bob").await;
    assert_eq!(third.status(), 200, "{third:?}");
}

/// A mint that fails fast inside CometChat's 429 window sends nothing, so it takes no cell of
/// the upstream budget: once the window is over the budget still has room.
#[tokio::test]
async fn fast_fails_inside_the_429_window_cost_no_budget() {
    use cometgate::Gate;
    use cometgate::retry::Timer;
    use cometgate::vend::RateLimit;

    const MINT: &str = "POST /users/{uid}/auth_tokens";
    let cc = FakeCometChat::start().await;
    let timer = ManualTimer::new();
    // Four calls an hour: the 429 takes one; the first sign-in after the window needs the other
    // three (mint, create the user, mint).
    let gate = Gate::builder()
        .client(client_with_timer(&cc, timer.clone()))
        .upstream_budget(RateLimit::new(1, std::time::Duration::from_secs(3600)).with_burst(4))
        .build()
        .unwrap();
    let endpoint = cometgate::Endpoint::new(gate);
    let mint = |sub: &'static str| mint_as(&endpoint, sub);

    cc.push_faults(MINT, [Fault::too_many_requests(5)]);
    assert_eq!(mint("ann").await.status(), 503);
    for sub in ["bob", "cid", "dan"] {
        let answer = mint(sub).await;
        assert_eq!(
            answer.problem().map(|p| p.problem_type()),
            Some(cometgate::ProblemType::UpstreamRateLimited),
            "{answer:?}"
        );
    }
    assert_eq!(cc.count(MINT), 1, "fast fails send nothing");
    timer.sleep(std::time::Duration::from_secs(6)).await;
    let after = mint("bob").await;
    assert_eq!(
        after.status(),
        200,
        "the fast fails spent the budget: {after:?}"
    );
}

/// A token request for `sub`, identified as an app's own extractor would identify it.
fn mint_as(
    endpoint: &cometgate::Endpoint,
    sub: &str,
) -> impl std::future::Future<Output = cometgate::Answer> + use<> {
    let request = cometgate::identity::SimpleRequest::post("/cometchat-token");
    let mut call = endpoint.route(&request).expect("the token route");
    call.identified(Ok(cometgate::Principal::new("https://idp.example", sub)));
    call.answer(cometgate::endpoint::BodyRead::Skipped)
}
