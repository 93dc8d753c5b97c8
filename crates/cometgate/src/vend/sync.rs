//! User sync: CometChat users kept in step with the app's accounts, from webhooks or the app's
//! own signup, profile and account-deletion handlers.
//!
//! Every change goes the same way, under the account's lock (so two events of one account never
//! interleave their CometChat calls):
//!
//! 1. the [`AccountStore`](crate::store::AccountStore) orders it against what is known
//!    ([`AccountRecord::apply`](crate::store::AccountRecord::apply)): an older event is
//!    acknowledged and changes nothing;
//! 2. `created` / `updated`: create or update the CometChat user (name, avatar); an update for
//!    a user CometChat lacks creates it, a creation of an existing user updates it; a
//!    deactivated user (its UID taken, though it reads as missing) is reactivated, then
//!    updated, by a creation only (an update leaves it deactivated: [`Synced::Ignored`]);
//! 3. `deleted`: the tombstone is recorded first (from then on the token route answers `403
//!    account-deleted` and never re-creates the user), then every token of the user is revoked
//!    and forgotten, then the user is deleted at CometChat (permanently unless
//!    [`GateBuilder::account_deletion`](crate::GateBuilder::account_deletion) says otherwise).
//!    `404` counts as done, so a repeated deletion is harmless.
//!
//! A step that fails leaves what is done done and returns a [`SyncError`]; running the same
//! change again completes it (every step is idempotent).

use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

use crate::identity::Principal;
use crate::store::{ChangeTime, Verdict};
use crate::uid::Uid;
use crate::vend::Gate;
use crate::vend::completion::to_completion;
use crate::vend::gate::{Revoke, VendRecord};
use crate::vend::problem::Problem;
use crate::vend::provision::{Upserted, VendError};
use crate::webhook::{Profile, UserChange};

/// How long one user change may take unless the gate is told otherwise: below the 10 s in which
/// webhook senders expect an answer (Svix waits 15 s).
pub const DEFAULT_SYNC_DEADLINE: Duration = Duration::from_secs(8);

/// The `Retry-After` of a change that failed at CometChat (`5xx`, no answer, deadline).
const RETRY_LATER: Duration = Duration::from_secs(10);

/// One lock per stripe of accounts: the changes of one account run one at a time.
pub(crate) struct AccountLocks {
    stripes: Box<[tokio::sync::Mutex<()>]>,
    hasher: std::collections::hash_map::RandomState,
}

impl AccountLocks {
    /// Enough that a slow deletion rarely holds up another account.
    const STRIPES: usize = 1024;

    pub(crate) fn new() -> Self {
        Self {
            stripes: (0..Self::STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    pub(crate) async fn lock(&self, uid: &Uid) -> tokio::sync::MutexGuard<'_, ()> {
        let stripe = usize::try_from(self.hasher.hash_one(uid) % Self::STRIPES as u64).unwrap_or(0);
        self.stripes[stripe].lock().await
    }
}

/// Whose account a sync call is about: a [`Principal`] (mapped to its UID by the gate's mapper,
/// exactly as the token route maps it) or a UID the app already knows.
#[derive(Debug, Clone, Copy)]
pub enum Account<'a> {
    /// The identity provider's user; the gate maps it to its UID.
    Principal(&'a Principal),
    /// A CometChat UID.
    Uid(&'a Uid),
}

impl<'a> From<&'a Principal> for Account<'a> {
    fn from(principal: &'a Principal) -> Self {
        Self::Principal(principal)
    }
}

impl<'a> From<&'a Uid> for Account<'a> {
    fn from(uid: &'a Uid) -> Self {
        Self::Uid(uid)
    }
}

/// What a sync call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synced {
    /// CometChat now reflects the change.
    Applied,
    /// Nothing changed: the change is older than what is already known, the account is
    /// deleted, or an update found the user deactivated at CometChat (only a creation
    /// reactivates one).
    Ignored,
}

/// A change that could not be completed; running it again is safe and completes it. The
/// message is log-safe.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{detail}")]
pub struct SyncError {
    problem: Box<Problem>,
    detail: String,
}

impl SyncError {
    /// The problem a webhook is answered with: `503` with `Retry-After` when trying again
    /// later can succeed (CometChat `5xx` or `429`, the upstream budget, the store), `502` when
    /// CometChat refused the change, `500` when the principal cannot be mapped.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// Whether trying again later can succeed.
    pub fn is_retryable(&self) -> bool {
        self.problem.status() == 503
    }

    fn from_vend(error: &VendError) -> Self {
        let problem = match error {
            VendError::Upstream { error, .. }
                if error.status() != Some(429)
                    && (error.is_retryable() || error.is_deadline() || error.is_timeout()) =>
            {
                Problem::upstream_unavailable(RETRY_LATER)
            }
            VendError::Deadline { .. } | VendError::Aborted { .. } => {
                Problem::upstream_unavailable(RETRY_LATER)
            }
            other => other.problem(),
        };
        Self {
            problem: Box::new(problem),
            detail: error.log_detail(),
        }
    }
}

impl<I: Send + Sync + 'static> Gate<I> {
    /// The account's profile changed: update its CometChat user (created if CometChat lacks
    /// it), unless the account is deleted. Call it from the app's own profile handler.
    ///
    /// # Errors
    ///
    /// [`SyncError`] when CometChat or the store failed; calling again completes the change.
    pub async fn upsert_user(
        &self,
        account: impl Into<Account<'_>>,
        profile: Profile,
    ) -> Result<Synced, SyncError> {
        let at = ChangeTime::Event(self.now_millis());
        self.apply_user_change(account, UserChange::Updated, profile, at)
            .await
    }

    /// The account was created (signup): create its CometChat user. A creation newer than a
    /// deletion lifts the tombstone.
    ///
    /// # Errors
    ///
    /// [`SyncError`] when CometChat or the store failed; calling again completes the change.
    pub async fn create_user(
        &self,
        account: impl Into<Account<'_>>,
        profile: Profile,
    ) -> Result<Synced, SyncError> {
        let at = ChangeTime::Event(self.now_millis());
        self.apply_user_change(account, UserChange::Created, profile, at)
            .await
    }

    /// The account was deleted: record its tombstone (its token requests are refused from now
    /// on), revoke every token, and delete the CometChat user. Call it from the app's own
    /// account-deletion handler.
    ///
    /// # Errors
    ///
    /// [`SyncError`] when CometChat or the store failed; calling again completes the deletion
    /// (the tombstone already holds).
    pub async fn delete_user(&self, account: impl Into<Account<'_>>) -> Result<Synced, SyncError> {
        let at = ChangeTime::Event(self.now_millis());
        self.apply_user_change(account, UserChange::Deleted, Profile::default(), at)
            .await
    }

    /// Applies `change` that happened at `time` with `profile`, ordered against what is known
    /// of the account (see the [module docs](self)). A time ahead of the gate's clock counts as
    /// now, so a future-dated event cannot make an account undeletable.
    ///
    /// # Errors
    ///
    /// [`SyncError`] when CometChat or the store failed; applying it again completes it.
    pub async fn apply_user_change(
        &self,
        account: impl Into<Account<'_>>,
        change: UserChange,
        profile: Profile,
        time: ChangeTime,
    ) -> Result<Synced, SyncError> {
        let uid = self.account_uid(account.into())?;
        let now = self.now_millis();
        let at = match time {
            ChangeTime::Event(at) => ChangeTime::Event(at.min(now)),
            ChangeTime::Delivery(at) => ChangeTime::Delivery(at.min(now)),
        };
        let gate = self.clone();
        // Its own task: a sender that hangs up does not cut a deletion half way.
        let work =
            to_completion(async move { Ok(gate.apply_locked(&uid, change, profile, at).await) });
        match tokio::time::timeout(self.sync_deadline(), work).await {
            Ok(Ok(result)) => result,
            Ok(Err(aborted)) => Err(SyncError::from_vend(&aborted)),
            Err(_) => Err(SyncError {
                problem: Box::new(Problem::upstream_unavailable(RETRY_LATER)),
                detail: format!(
                    "the {} change did not complete within the sync deadline",
                    change.as_str()
                ),
            }),
        }
    }

    /// Ends one sign-in session of `principal` (Clerk's `session.ended`): the token of the
    /// device keyed by `session_id` (see [`Principal::with_session_id`]) is revoked; nothing
    /// happens for an unknown session.
    ///
    /// # Errors
    ///
    /// [`SyncError`] when CometChat or the store failed (the delete is retried by the sweep).
    pub async fn end_session(
        &self,
        principal: &Principal,
        session_id: &str,
    ) -> Result<(), SyncError> {
        let Ok(device) = crate::DeviceId::parse(session_id) else {
            // Not a valid device id: it was never a device key, so no token is keyed by it.
            return Ok(());
        };
        let (result, record): (_, VendRecord) = self
            .revoke_for(principal, Revoke::Device(device), false)
            .await;
        result.map_err(|problem| SyncError {
            problem: Box::new(problem),
            detail: record
                .detail
                .unwrap_or_else(|| "the session's token could not be revoked".to_owned()),
        })
    }

    fn account_uid(&self, account: Account<'_>) -> Result<Uid, SyncError> {
        match account {
            Account::Uid(uid) => Ok(uid.clone()),
            Account::Principal(principal) => {
                self.uid_mapper().map(principal).map_err(|e| SyncError {
                    problem: Box::new(Problem::misconfigured()),
                    detail: format!("the principal could not be mapped to a CometChat UID: {e}"),
                })
            }
        }
    }

    async fn apply_locked(
        &self,
        uid: &Uid,
        change: UserChange,
        profile: Profile,
        at: ChangeTime,
    ) -> Result<Synced, SyncError> {
        let sync = self.sync();
        let _account = sync.vendor.locks.lock(uid).await;
        let verdict = sync
            .vendor
            .accounts
            .record_change(uid, change, at, profile)
            .await
            .map_err(store_error)?;
        let synced = match &verdict {
            Verdict::Ignore => return Ok(Synced::Ignored),
            Verdict::Upsert(profile) => {
                let upserted = sync
                    .vendor
                    .upsert_user(uid, profile, change == UserChange::Created)
                    .await
                    .map_err(|e| SyncError::from_vend(&e))?;
                // The lock is this process's: another replica may have recorded and run a
                // deletion while the user was being written. Looking again now that CometChat
                // holds the user closes that window (as the just-in-time create does).
                if sync
                    .vendor
                    .accounts
                    .is_deleted(uid)
                    .await
                    .map_err(store_error)?
                {
                    delete_everything(&sync, uid).await?;
                    return Ok(Synced::Ignored);
                }
                match upserted.0 {
                    Upserted::Done => Synced::Applied,
                    Upserted::Deactivated => Synced::Ignored,
                }
            }
            Verdict::Delete => {
                delete_everything(&sync, uid).await?;
                Synced::Applied
            }
        };
        // Done at CometChat. If settling fails, the next change of the account re-applies
        // this state once more: idempotent, so only logged.
        if let Err(error) = sync.vendor.accounts.settle(uid, &verdict).await {
            tracing::warn!(target: "cometgate::sync", "an account record could not be settled: {error}");
        }
        Ok(synced)
    }
}

/// Revokes every token of `uid` and deletes its CometChat user (`404` is done).
async fn delete_everything(sync: &SyncParts<'_>, uid: &Uid) -> Result<(), SyncError> {
    sync.tokens
        .revoke_all(uid)
        .await
        .map_err(|e| SyncError::from_vend(&e))?;
    sync.vendor
        .delete_user(uid, sync.vendor.deletion)
        .await
        .map(drop)
        .map_err(|e| SyncError::from_vend(&e))
}

fn store_error(error: crate::store::StoreError) -> SyncError {
    SyncError {
        problem: Box::new(Problem::store_unavailable(Duration::from_secs(1))),
        detail: error.to_string(),
    }
}

/// What user sync needs from the gate.
pub(crate) struct SyncParts<'a> {
    pub(crate) vendor: &'a Arc<crate::vend::provision::Vendor>,
    pub(crate) tokens: &'a Arc<crate::vend::tokens::Tokens>,
}
