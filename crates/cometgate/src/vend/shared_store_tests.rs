//! [`GateBuilder::store`] against a [`SharedStore`] made of the in-memory stores: the default
//! one-step read passes the store suite, and a later `token_store` or `account_store` takes
//! its part away from the one-step read (else a deleted account's token would be read from a
//! store that never sees its tombstone).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cometchat_fake::{FakeCometChat, FakeUser};

use crate::client::TokenValue;
use crate::device::{DeviceId, DeviceKey};
use crate::identity::Principal;
use crate::store::{
    AccountStore, ChangeTime, LimitKey, LimitStore, MemoryAccountStore, MemoryStore, Retired,
    SharedStore, StoreError, TokenStore, TrackedToken, Verdict,
};
use crate::uid::Uid;
use crate::vend::gate::TokenRequest;
use crate::vend::{Gate, RateLimit};
use crate::webhook::{Profile, UserChange};
use crate::{Config, UidMapper, UidMapping};

/// The in-memory token and account stores as one [`SharedStore`] (with the default one-step
/// read), and limits that never refuse.
#[derive(Debug, Default)]
struct Joint {
    tokens: MemoryStore,
    accounts: MemoryAccountStore,
}

#[async_trait]
impl TokenStore for Joint {
    async fn get(
        &self,
        uid: &Uid,
        device: DeviceKey,
        now: u64,
    ) -> Result<Option<TrackedToken>, StoreError> {
        self.tokens.get(uid, device, now).await
    }
    async fn confirm(
        &self,
        uid: &Uid,
        device: DeviceKey,
        token: &TokenValue,
        at: u64,
    ) -> Result<bool, StoreError> {
        self.tokens.confirm(uid, device, token, at).await
    }
    async fn track(
        &self,
        uid: &Uid,
        device: DeviceKey,
        tracked: TrackedToken,
        per_user: usize,
    ) -> Result<Vec<Retired>, StoreError> {
        self.tokens.track(uid, device, tracked, per_user).await
    }
    async fn forget(&self, uid: &Uid, device: DeviceKey) -> Result<Option<TokenValue>, StoreError> {
        self.tokens.forget(uid, device).await
    }
    async fn forget_user(&self, uid: &Uid) -> Result<Vec<TokenValue>, StoreError> {
        self.tokens.forget_user(uid).await
    }
    async fn take_due(&self, now: u64, limit: usize) -> Result<Vec<Retired>, StoreError> {
        self.tokens.take_due(now, limit).await
    }
    async fn defer(&self, retired: Vec<Retired>) -> Result<(), StoreError> {
        self.tokens.defer(retired).await
    }
}

#[async_trait]
impl AccountStore for Joint {
    async fn record_change(
        &self,
        uid: &Uid,
        change: UserChange,
        time: ChangeTime,
        profile: Profile,
    ) -> Result<Verdict, StoreError> {
        self.accounts
            .record_change(uid, change, time, profile)
            .await
    }
    async fn is_deleted(&self, uid: &Uid) -> Result<bool, StoreError> {
        self.accounts.is_deleted(uid).await
    }
    async fn settle(&self, uid: &Uid, applied: &Verdict) -> Result<(), StoreError> {
        self.accounts.settle(uid, applied).await
    }
    async fn delivery_done(&self, key: &str, now: u64) -> Result<bool, StoreError> {
        self.accounts.delivery_done(key, now).await
    }
    async fn complete_delivery(&self, key: &str, until: u64) -> Result<(), StoreError> {
        self.accounts.complete_delivery(key, until).await
    }
}

#[async_trait]
impl LimitStore for Joint {
    async fn take(
        &self,
        _: LimitKey<'_>,
        _: RateLimit,
    ) -> Result<Result<(), Duration>, StoreError> {
        Ok(Ok(()))
    }
}

impl SharedStore for Joint {}

#[test]
fn the_default_one_step_read_reads_the_tombstone_and_the_token_together() {
    crate::store::suite::shared::reads_the_tombstone_and_the_token_together(&Joint::default);
}

#[test]
fn the_default_one_step_read_marks_the_device_used() {
    crate::store::suite::shared::the_one_step_read_marks_the_device_used(&Joint::default);
}

#[test]
fn the_default_one_step_read_agrees_with_its_parts() {
    crate::store::suite::shared::any_sequence_agrees_with_its_parts(&Joint::default);
}

/// An identity that identifies nobody (the tests call the gate with a principal).
struct Nobody;

impl crate::Identity for Nobody {
    type Credentials = ();

    fn extract<R: crate::RequestView + ?Sized>(&self, _: &R) -> Result<(), crate::Rejection> {
        Err(crate::Rejection::Missing)
    }

    async fn verify(&self, (): ()) -> Result<Principal, crate::Rejection> {
        Err(crate::Rejection::Missing)
    }
}

const MINT: &str = "POST /users/{uid}/auth_tokens";

async fn fake() -> FakeCometChat {
    FakeCometChat::builder()
        .seed_user(FakeUser::new("ada", "Ada"))
        .start()
        .await
        .unwrap()
}

fn builder(cc: &FakeCometChat) -> crate::vend::GateBuilder {
    let config = Config::builder()
        .app_id(cc.app_id())
        .region(cc.region().parse().unwrap())
        .rest_api_key(cc.api_key())
        .api_base(cc.base_url())
        .build()
        .unwrap();
    Gate::builder()
        .config(config)
        .uid_mapper(UidMapper::shared_namespace(UidMapping::Readable))
}

/// Ada's token request on her phone: the token, or the problem's status.
async fn ask<I>(gate: &Gate<I>) -> Result<String, u16> {
    let request = TokenRequest {
        device_id: Some(DeviceId::parse("phone").unwrap()),
        refresh: false,
    };
    let (answer, _) = gate.vend(Principal::new("test", "ada"), request).await;
    answer
        .map(|t| t.auth_token().expose().to_owned())
        .map_err(|p| p.status())
}

fn ada() -> Uid {
    Uid::parse("ada").unwrap()
}

#[tokio::test]
async fn an_account_store_given_after_the_store_is_where_tombstones_are_read() {
    let cc = fake().await;
    let accounts = Arc::new(MemoryAccountStore::new());
    let gate = builder(&cc)
        .store(Joint::default())
        .account_store(Arc::clone(&accounts))
        .build()
        .unwrap();
    assert!(!gate.reads_in_one_step());
    assert!(ask(&gate).await.is_ok());
    let uid = ada();
    let deleted = accounts.record_change(
        &uid,
        UserChange::Deleted,
        ChangeTime::Event(1_000),
        Profile::default(),
    );
    assert_eq!(deleted.await.unwrap(), Verdict::Delete);
    assert_eq!(
        ask(&gate).await,
        Err(403),
        "the tombstone is in the account store"
    );
}

#[tokio::test]
async fn a_token_store_given_after_the_store_is_where_tokens_are_read() {
    let cc = fake().await;
    let tokens = Arc::new(MemoryStore::new());
    let gate = builder(&cc)
        .store(Joint::default())
        .token_store(Arc::clone(&tokens))
        .build()
        .unwrap();
    assert!(!gate.reads_in_one_step());
    let first = ask(&gate).await.unwrap();
    let device = DeviceId::parse("phone").unwrap().key();
    assert!(tokens.get(&ada(), device, 0).await.unwrap().is_some());
    assert_eq!(
        ask(&gate).await.unwrap(),
        first,
        "reused from the token store"
    );
    assert_eq!(cc.count(MINT), 1);
}

#[tokio::test]
async fn one_store_reads_in_one_step_and_keeps_its_tombstones() {
    let cc = fake().await;
    let store = Arc::new(Joint::default());
    let gate = builder(&cc)
        .store(Arc::clone(&store))
        .identity(Nobody)
        .limit_store(Joint::default())
        .build()
        .unwrap();
    assert!(gate.reads_in_one_step(), "identity and limit_store keep it");
    let first = ask(&gate).await.unwrap();
    assert_eq!(ask(&gate).await.unwrap(), first);
    let uid = ada();
    let deleted = store.record_change(
        &uid,
        UserChange::Deleted,
        ChangeTime::Event(1_000),
        Profile::default(),
    );
    assert_eq!(deleted.await.unwrap(), Verdict::Delete);
    assert_eq!(ask(&gate).await, Err(403));
    assert_eq!(cc.count(MINT), 1);
}
