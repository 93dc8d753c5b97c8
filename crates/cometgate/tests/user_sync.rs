//! User sync through the gate's Rust API (`create_user`, `upsert_user`, `delete_user`,
//! `apply_user_change`) against the fake: tombstones, ordering, idempotence, failures.

mod common;

use cometchat_fake::{FakeCometChat, FakeUser, Fault};
use cometgate::client::DeleteMode;
use cometgate::store::ChangeTime;
use cometgate::vend::{ProblemType, Synced};
use cometgate::webhook::{Profile, UserChange};
use cometgate::{Principal, Uid};
use common::{Ask, CREATE, builder, fake_config, mock_config, problem_type, request, token};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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
    let answer = deletion_during_a_create_then(0, std::time::Duration::from_secs(10)).await;
    assert_eq!(answer.status(), 403, "no token for a deleted account");
    assert_eq!(problem_type(&answer), Some(ProblemType::AccountDeleted));
}

/// A gate that deactivates deleted accounts' users instead of removing them.
fn deactivating(cc: &FakeCometChat) -> cometgate::vend::Gate<common::TestAuth> {
    builder(fake_config(cc))
        .account_deletion(DeleteMode::Deactivate)
        .build()
        .unwrap()
}

/// A deactivated user reads as not found but keeps its UID taken: a creation newer than the
/// deletion must reactivate it, not report success while it stays deactivated.
#[tokio::test]
async fn with_deactivation_a_newer_creation_reactivates_the_user() {
    let cc = FakeCometChat::start().await;
    let gate = deactivating(&cc);
    let uid = Uid::parse("gus").unwrap();
    let change = |c, p: Profile, at| gate.apply_user_change(&uid, c, p, ChangeTime::Event(at));
    assert_eq!(
        change(UserChange::Created, named("g1"), 1_000)
            .await
            .unwrap(),
        Synced::Applied
    );
    token(&gate.answer_on(&request("good:gus"), "phone").await);

    assert_eq!(
        change(UserChange::Deleted, Profile::default(), 3_000)
            .await
            .unwrap(),
        Synced::Applied
    );
    let user = cc.user("gus").expect("deactivated, not removed");
    assert!(user.deactivated_at.is_some());
    assert!(cc.tokens("gus").is_empty(), "its tokens are gone");
    assert!(
        cc.requests_to("DELETE /users/{uid}")[0]
            .body
            .contains(r#""permanent":false"#)
    );

    assert_eq!(
        change(UserChange::Created, named("late"), 2_000)
            .await
            .unwrap(),
        Synced::Ignored
    );
    let user = cc.user("gus").unwrap();
    assert!(
        user.deactivated_at.is_some(),
        "a late creation changes nothing"
    );
    assert_eq!(user.name, "g1");
    assert_eq!(cc.count("PUT /users"), 0);

    // The reactivation fails (CometChat 503 on every attempt): retryable, and nothing is
    // reported done while the user is deactivated.
    cc.push_faults("PUT /users", std::iter::repeat_n(Fault::status(503), 4));
    let error = change(UserChange::Created, named("g2"), 4_000)
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert!(cc.user("gus").unwrap().deactivated_at.is_some());

    // The same creation again (a redelivery) completes it.
    assert_eq!(
        change(UserChange::Created, named("g2"), 4_000)
            .await
            .unwrap(),
        Synced::Applied
    );
    let user = cc.user("gus").unwrap();
    assert!(user.deactivated_at.is_none(), "active again");
    assert_eq!(
        (user.name.as_str(), user.avatar.as_deref()),
        ("g2", Some("https://img.example/g2.png"))
    );
    let minted = gate.answer_on(&request("good:gus"), "phone").await;
    assert!(cc.tokens("gus").contains(&token(&minted)));
    cc.assert_no_unexpected();
}

/// "Update finds no user, create says it exists" is a deactivated user (here deactivated
/// outside cometgate, by a moderator say): a profile change leaves it deactivated and is
/// reported ignored, a creation reactivates it; a change is never reported applied while the
/// user stays deactivated.
#[tokio::test]
async fn only_a_creation_reactivates_a_deactivated_user() {
    let cc = FakeCometChat::start().await;
    let gate = deactivating(&cc);
    for uid in ["hal", "ivy"] {
        let mut user = FakeUser::new(uid, "Old");
        user.deactivated_at = Some(1_700_000_000);
        cc.seed_user(user);
    }
    let hal = Uid::parse("hal").unwrap();
    assert_eq!(
        gate.upsert_user(&hal, named("Hal")).await.unwrap(),
        Synced::Ignored,
        "an update does not undo a deactivation"
    );
    let user = cc.user("hal").unwrap();
    assert!(user.deactivated_at.is_some(), "still deactivated");
    assert_eq!(user.name, "Old");
    assert_eq!(cc.count("PUT /users"), 0, "no reactivation asked");
    assert_eq!(
        gate.create_user(&hal, named("Hal")).await.unwrap(),
        Synced::Applied
    );
    let user = cc.user("hal").unwrap();
    assert!(user.deactivated_at.is_none(), "reactivated");
    assert_eq!(user.name, "Hal");

    // A creation with nothing to change (no name, no avatar) still makes sure it is active.
    let ivy = Uid::parse("ivy").unwrap();
    assert_eq!(
        gate.create_user(&ivy, Profile::default()).await.unwrap(),
        Synced::Applied
    );
    let user = cc.user("ivy").unwrap();
    assert!(user.deactivated_at.is_none(), "reactivated");
    assert_eq!(user.name, "Old", "nothing to change");
    token(&gate.answer_on(&request("good:ivy"), "phone").await);
}

/// When CometChat's reactivation finds nothing and the update still finds no user, the change
/// fails with the step named; it is never a silent success.
#[tokio::test]
async fn a_reactivation_that_finds_nothing_is_an_error() {
    let server = MockServer::start().await;
    let not_found =
        json!({"error": {"message": "The UID kim does not exist.", "code": "ERR_UID_NOT_FOUND"}});
    let exists = json!({"error": {"message": "The uid kim already exists.", "code": "ERR_UID_ALREADY_EXISTS"}});
    for (verb, route, status, body) in [
        ("PUT", "/v3/users/kim", 404, not_found),
        ("POST", "/v3/users", 400, exists),
        (
            "PUT",
            "/v3/users",
            200,
            json!({"data": {"notFound": ["kim"]}}),
        ),
    ] {
        Mock::given(method(verb))
            .and(path(route))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
    }
    let gate = builder(mock_config(&server, "k".repeat(40).as_str()))
        .account_deletion(DeleteMode::Deactivate)
        .build()
        .unwrap();
    let error = gate
        .create_user(&Uid::parse("kim").unwrap(), named("Kim"))
        .await
        .unwrap_err();
    assert_eq!(error.problem().status(), 502, "{error}");
    assert!(!error.is_retryable());
    assert!(
        error.to_string().starts_with(
            "reactivate_user found nothing; update_user failed: CometChat answered 404 ERR_UID_NOT_FOUND"
        ),
        "{error}"
    );
}

/// Just in time, a deactivated user is not reactivated: a token request for an account that
/// is not deleted here but whose user was deactivated at CometChat (by a moderator, say) fails,
/// and the user stays deactivated.
#[tokio::test]
async fn a_token_request_does_not_reactivate_a_user_deactivated_elsewhere() {
    let cc = FakeCometChat::start().await;
    let gate = deactivating(&cc);
    let mut user = FakeUser::new("lee", "Lee");
    user.deactivated_at = Some(1_700_000_000);
    cc.seed_user(user);
    let answer = gate.answer_on(&request("good:lee"), "phone").await;
    assert_eq!(answer.status(), 502, "{answer:?}");
    assert!(cc.user("lee").unwrap().deactivated_at.is_some());
    assert_eq!(cc.count("PUT /users"), 0);
    assert!(cc.tokens("lee").is_empty());
}

/// The same across replicas for a webhook's creation: a deletion run by another replica while
/// this one writes the user does not leave the deleted account's user at CometChat.
#[tokio::test]
async fn a_deletion_on_another_replica_during_an_upsert_wins() {
    let cc = FakeCometChat::start().await;
    let accounts = std::sync::Arc::new(cometgate::store::MemoryAccountStore::new());
    let creating = builder(fake_config(&cc))
        .account_store(std::sync::Arc::clone(&accounts))
        .build()
        .unwrap();
    let deleting = builder(fake_config(&cc))
        .account_store(accounts)
        .build()
        .unwrap();
    cc.push_faults(CREATE, [Fault::Delay { ms: 1_500 }]);
    let uid = Uid::parse("gia").unwrap();
    let created = tokio::spawn({
        let (creating, uid) = (creating.clone(), uid.clone());
        async move {
            creating
                .apply_user_change(
                    &uid,
                    UserChange::Created,
                    named("Gia"),
                    ChangeTime::Event(1_000),
                )
                .await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(cc.count(CREATE), 0, "the create is still under way");
    let deleted = deleting
        .apply_user_change(
            &uid,
            UserChange::Deleted,
            Profile::default(),
            ChangeTime::Event(2_000),
        )
        .await
        .unwrap();
    assert_eq!(deleted, Synced::Applied);
    assert_eq!(created.await.unwrap().unwrap(), Synced::Ignored);
    assert!(cc.user("gia").is_none(), "the late create is deleted again");
}

/// The token route reads the tombstone and the device's stored token at once; the token must
/// not be looked at (rechecked at CometChat, handed out) before the account is known to live.
#[tokio::test]
async fn a_tombstone_stops_a_known_device_before_its_token_is_rechecked() {
    use cometgate::store::{AccountStore, MemoryAccountStore};
    use cometgate::vend::TokenPolicy;
    use std::sync::Arc;

    let cc = FakeCometChat::start().await;
    let accounts = Arc::new(MemoryAccountStore::new());
    // Every stored token is due for a recheck at CometChat.
    let policy = TokenPolicy::default().recheck(Some(std::time::Duration::ZERO));
    let gate = builder(fake_config(&cc))
        .account_store(Arc::clone(&accounts))
        .token_policy(policy)
        .build()
        .unwrap();
    token(&gate.answer_on(&request("good:ada"), "phone").await);

    // Another replica recorded the deletion; this gate still tracks the phone's token.
    let uid = Uid::parse("ada").unwrap();
    let at = ChangeTime::Event(u64::MAX / 2);
    accounts
        .record_change(&uid, UserChange::Deleted, at, Profile::default())
        .await
        .unwrap();
    let calls = cc.journal().len();
    let answer = gate.answer_on(&request("good:ada"), "phone").await;
    assert_eq!(answer.status(), 403);
    assert_eq!(problem_type(&answer), Some(ProblemType::AccountDeleted));
    assert_eq!(
        cc.journal().len(),
        calls,
        "no recheck for a deleted account"
    );
}

/// An account store whose tombstone reads can be made to fail or to hang, for one replica.
#[derive(Debug)]
struct Flaky {
    inner: std::sync::Arc<cometgate::store::MemoryAccountStore>,
    /// 0: pass, 1: reads fail, 2: reads take 2 s.
    mode: std::sync::atomic::AtomicU8,
}

impl Flaky {
    /// Passing reads over `inner`.
    fn over(inner: std::sync::Arc<cometgate::store::MemoryAccountStore>) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            inner,
            mode: std::sync::atomic::AtomicU8::new(0),
        })
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl cometgate::store::AccountStore for Flaky {
    async fn record_change(
        &self,
        uid: &Uid,
        change: UserChange,
        time: ChangeTime,
        profile: Profile,
    ) -> Result<cometgate::store::Verdict, cometgate::store::StoreError> {
        self.inner.record_change(uid, change, time, profile).await
    }
    async fn is_deleted(&self, uid: &Uid) -> Result<bool, cometgate::store::StoreError> {
        match self.mode.load(std::sync::atomic::Ordering::SeqCst) {
            1 => Err(cometgate::store::StoreError::new("test: reads fail")),
            2 => {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                self.inner.is_deleted(uid).await
            }
            _ => self.inner.is_deleted(uid).await,
        }
    }
    async fn settle(
        &self,
        uid: &Uid,
        applied: &cometgate::store::Verdict,
    ) -> Result<(), cometgate::store::StoreError> {
        self.inner.settle(uid, applied).await
    }
    async fn delivery_done(
        &self,
        key: &str,
        now: u64,
    ) -> Result<bool, cometgate::store::StoreError> {
        self.inner.delivery_done(key, now).await
    }
    async fn complete_delivery(
        &self,
        key: &str,
        until: u64,
    ) -> Result<(), cometgate::store::StoreError> {
        self.inner.complete_delivery(key, until).await
    }
}

/// `fay`'s token request on `gate`, spawned; returns once her mint was refused (she is
/// unknown) and the slow just-in-time create is under way.
async fn ask_for_fay_until_her_create_is_sent(
    cc: &FakeCometChat,
    gate: &cometgate::vend::Gate<common::TestAuth>,
) -> tokio::task::JoinHandle<cometgate::endpoint::Answer> {
    let asked = tokio::spawn({
        let gate = gate.clone();
        async move { gate.answer_on(&request("good:fay"), "phone").await }
    });
    while cc.count("POST /users/{uid}/auth_tokens") == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    asked
}

/// Another replica deletes `fay` while this one creates her just in time (a slow create), then
/// this replica's tombstone reads turn `mode` until the token request has answered; returns
/// that answer once the user is gone from the fake, or fails if she is still there 5 s on.
async fn deletion_during_a_create_then(
    mode: u8,
    deadline: std::time::Duration,
) -> cometgate::endpoint::Answer {
    let cc = FakeCometChat::start().await;
    let accounts = std::sync::Arc::new(cometgate::store::MemoryAccountStore::new());
    let flaky = Flaky::over(std::sync::Arc::clone(&accounts));
    let minting = builder(fake_config(&cc))
        .account_store(std::sync::Arc::clone(&flaky))
        .retry_policy(
            cometgate::retry::RetryPolicy::builder()
                .initial_delay(std::time::Duration::from_millis(10))
                .jitter(0.0)
                .deadline(deadline)
                .build(),
        )
        .build()
        .unwrap();
    let deleting = builder(fake_config(&cc))
        .account_store(accounts)
        .build()
        .unwrap();
    // The create is slow: the other replica's whole deletion runs inside it.
    cc.push_faults(CREATE, [Fault::Delay { ms: 600 }]);
    let asked = ask_for_fay_until_her_create_is_sent(&cc, &minting).await;
    assert_eq!(cc.count(CREATE), 0, "the create is still under way");
    let principal = Principal::new("test", "fay");
    assert_eq!(
        deleting.delete_user(&principal).await.unwrap(),
        Synced::Applied
    );
    flaky.set(mode);
    let answer = asked.await.unwrap();
    // The store recovers: the background look then finds the tombstone.
    flaky.set(0);
    assert_ne!(answer.status(), 200, "no token for a deleted account");
    let started = std::time::Instant::now();
    while cc.user("fay").is_some() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the user created for a deleted account is still there"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(cc.tokens("fay").is_empty());
    answer
}

#[tokio::test]
async fn a_just_in_time_user_is_deleted_again_when_the_look_after_the_create_fails() {
    let answer = deletion_during_a_create_then(1, std::time::Duration::from_secs(10)).await;
    assert_eq!(answer.status(), 503, "the store failed");
}

#[tokio::test]
async fn a_just_in_time_user_is_deleted_again_when_the_deadline_cuts_the_look_after_the_create() {
    // The look (2 s) starts ~0.6 s in, past the create: the 1.5 s deadline cuts it.
    let answer = deletion_during_a_create_then(2, std::time::Duration::from_millis(1_500)).await;
    assert_eq!(answer.status(), 504, "the deadline passed");
}

/// A look after the create that fails must not cost a live account its user: in
/// `DeleteMode::Deactivate` a deactivated user would be locked out of chat (a token request
/// never reactivates).
#[tokio::test]
async fn a_failed_look_after_a_create_never_removes_a_live_accounts_user() {
    let cc = FakeCometChat::start().await;
    let flaky = Flaky::over(std::sync::Arc::default());
    let gate = builder(fake_config(&cc))
        .account_store(std::sync::Arc::clone(&flaky))
        .account_deletion(DeleteMode::Deactivate)
        .build()
        .unwrap();
    cc.push_faults(CREATE, [Fault::Delay { ms: 300 }]);
    let asked = ask_for_fay_until_her_create_is_sent(&cc, &gate).await;
    flaky.set(1);
    assert_eq!(asked.await.unwrap().status(), 503, "the store failed");
    // The store stays down a while (the background look keeps asking), then recovers.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    flaky.set(0);
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    assert!(cc.user("fay").is_some(), "the live account's user is kept");
    let again = gate.answer_on(&request("good:fay"), "phone").await;
    assert_eq!(again.status(), 200, "{again:?}");
}
