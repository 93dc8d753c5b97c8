//! User sync through the gate's Rust API (`create_user`, `upsert_user`, `delete_user`,
//! `apply_user_change`) against the fake: tombstones, ordering, idempotence, failures.

mod common;

use cometchat_fake::{FakeCometChat, Fault};
use cometgate::store::ChangeTime;
use cometgate::vend::{ProblemType, Synced};
use cometgate::webhook::{Profile, UserChange};
use cometgate::{Principal, Uid};
use common::{Ask, CREATE, builder, fake_config, problem_type, request, token};

fn named(name: &str) -> Profile {
    Profile {
        name: Some(name.to_owned()),
        avatar: Some(format!("https://img.example/{name}.png")),
    }
}

#[tokio::test]
async fn a_deleted_account_loses_its_tokens_and_user_and_is_never_re_created() {
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc)).build().unwrap();
    let ada = token(&gate.answer_on(&request("good:ada"), "phone").await);
    assert!(cc.tokens("ada").contains(&ada));

    let principal = Principal::new("test", "ada");
    assert_eq!(gate.delete_user(&principal).await.unwrap(), Synced::Applied);
    assert!(cc.user("ada").is_none(), "the CometChat user is deleted");
    assert!(cc.tokens("ada").is_empty(), "every token is revoked");
    let delete = cc.requests_to("DELETE /users/{uid}");
    assert_eq!(delete.len(), 1);
    assert!(
        delete[0].body.contains(r#""permanent":true"#),
        "permanent by default"
    );

    let creates = cc.count(CREATE);
    for device in ["phone", "laptop"] {
        let answer = gate.answer_on(&request("good:ada"), device).await;
        assert_eq!(answer.status(), 403);
        assert_eq!(problem_type(&answer), Some(ProblemType::AccountDeleted));
    }
    assert_eq!(cc.count(CREATE), creates, "no just-in-time re-creation");
    assert!(cc.user("ada").is_none());

    // Deleting again is harmless (CometChat's 404 counts as done).
    assert_eq!(gate.delete_user(&principal).await.unwrap(), Synced::Applied);
    cc.assert_no_unexpected();
}

#[tokio::test]
async fn late_events_older_than_the_deletion_change_nothing_and_a_newer_creation_lifts_it() {
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc)).build().unwrap();
    let uid = Uid::parse("bob").unwrap();
    let change = |c, p: Profile, at| gate.apply_user_change(&uid, c, p, ChangeTime::Event(at));

    assert_eq!(
        change(UserChange::Created, named("b1"), 1_000)
            .await
            .unwrap(),
        Synced::Applied
    );
    assert_eq!(cc.user("bob").unwrap().name, "b1");
    assert_eq!(
        change(UserChange::Deleted, Profile::default(), 3_000)
            .await
            .unwrap(),
        Synced::Applied
    );
    assert!(cc.user("bob").is_none());

    for c in [UserChange::Created, UserChange::Updated] {
        assert_eq!(
            change(c, named("late"), 2_000).await.unwrap(),
            Synced::Ignored
        );
    }
    assert!(
        cc.user("bob").is_none(),
        "a late event does not resurrect the account"
    );
    assert!(gate.account_store().is_deleted(&uid).await.unwrap());

    assert_eq!(
        change(UserChange::Created, named("b2"), 4_000)
            .await
            .unwrap(),
        Synced::Applied
    );
    let user = cc
        .user("bob")
        .expect("a newer creation lifts the tombstone");
    assert_eq!(
        (user.name.as_str(), user.avatar.as_deref()),
        ("b2", Some("https://img.example/b2.png"))
    );
    token(&gate.answer_on(&request("good:bob"), "phone").await);
}

#[tokio::test]
async fn an_update_for_a_user_cometchat_lacks_creates_it_and_older_updates_are_ignored() {
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc)).build().unwrap();
    let uid = Uid::parse("cy").unwrap();
    assert_eq!(
        gate.apply_user_change(
            &uid,
            UserChange::Updated,
            named("new"),
            ChangeTime::Event(5_000)
        )
        .await
        .unwrap(),
        Synced::Applied
    );
    assert_eq!(cc.user("cy").unwrap().name, "new");
    assert_eq!(
        gate.apply_user_change(
            &uid,
            UserChange::Updated,
            named("old"),
            ChangeTime::Event(4_000)
        )
        .await
        .unwrap(),
        Synced::Ignored
    );
    assert_eq!(cc.user("cy").unwrap().name, "new", "the newest event wins");
    // A creation of an existing user updates it.
    assert_eq!(
        gate.apply_user_change(
            &uid,
            UserChange::Created,
            named("newest"),
            ChangeTime::Event(6_000)
        )
        .await
        .unwrap(),
        Synced::Applied
    );
    assert_eq!(cc.user("cy").unwrap().name, "newest");
    // The convenience calls use the gate's clock.
    assert_eq!(
        gate.upsert_user(&uid, named("now")).await.unwrap(),
        Synced::Applied
    );
    assert_eq!(cc.user("cy").unwrap().name, "now");
}

#[tokio::test]
async fn a_failed_deletion_keeps_its_tombstone_and_completes_when_run_again() {
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc)).build().unwrap();
    token(&gate.answer_on(&request("good:dee"), "phone").await);
    cc.push_faults(
        "DELETE /users/{uid}",
        std::iter::repeat_n(
            Fault::Status {
                status: 503,
                retry_after: None,
            },
            4,
        ),
    );
    let principal = Principal::new("test", "dee");
    let error = gate.delete_user(&principal).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(error.problem().status(), 503);
    assert_eq!(
        error.problem().problem_type(),
        ProblemType::UpstreamUnavailable
    );
    assert!(cc.tokens("dee").is_empty(), "the tokens went first");
    assert!(cc.user("dee").is_some(), "the user is still there");
    let answer = gate.answer_on(&request("good:dee"), "phone").await;
    assert_eq!(
        problem_type(&answer),
        Some(ProblemType::AccountDeleted),
        "the tombstone holds"
    );

    assert_eq!(gate.delete_user(&principal).await.unwrap(), Synced::Applied);
    assert!(cc.user("dee").is_none());
}

#[tokio::test]
async fn a_refused_change_is_a_502_and_not_retryable() {
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc)).build().unwrap();
    cc.push_faults(
        "POST /users",
        [Fault::Status {
            status: 400,
            retry_after: None,
        }],
    );
    let error = gate
        .create_user(&Uid::parse("eve").unwrap(), named("eve"))
        .await
        .unwrap_err();
    assert!(!error.is_retryable());
    assert_eq!(error.problem().status(), 502);
}

/// Two replicas share the account store but not their in-process locks: a deletion recorded by
/// one while the other is creating the user just in time must not leave the user behind, nor
/// hand out a token for the deleted account.
#[tokio::test]
async fn a_deletion_on_another_replica_during_a_just_in_time_create_wins() {
    let cc = FakeCometChat::start().await;
    let accounts = std::sync::Arc::new(cometgate::store::MemoryAccountStore::new());
    let minting = builder(fake_config(&cc))
        .account_store(std::sync::Arc::clone(&accounts))
        .build()
        .unwrap();
    let deleting = builder(fake_config(&cc))
        .account_store(accounts)
        .build()
        .unwrap();
    // The create is slow: the other replica's whole deletion runs inside it.
    cc.push_faults(CREATE, [Fault::Delay { ms: 1_500 }]);
    let asked = tokio::spawn({
        let minting = minting.clone();
        async move { minting.answer_on(&request("good:fay"), "phone").await }
    });
    // The journal records an answered request: the mint's 404 comes just before the create.
    while cc.count("POST /users/{uid}/auth_tokens") == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(cc.count(CREATE), 0, "the create is still under way");
    let principal = Principal::new("test", "fay");
    assert_eq!(
        deleting.delete_user(&principal).await.unwrap(),
        Synced::Applied
    );
    let answer = asked.await.unwrap();
    assert_eq!(answer.status(), 403, "no token for a deleted account");
    assert_eq!(problem_type(&answer), Some(ProblemType::AccountDeleted));
    assert!(
        cc.user("fay").is_none(),
        "the user created meanwhile is deleted again"
    );
    assert!(cc.tokens("fay").is_empty());
}
