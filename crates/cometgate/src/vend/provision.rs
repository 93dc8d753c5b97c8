//! The upstream half of the token lifecycle: every CometChat call the gate makes, each under the
//! upstream budget and the overall deadline.
//!
//! [`Vendor::mint`] is what one single-flight runs for a (UID, device):
//!
//! 1. take a cell of the upstream budget (none left: `503`);
//! 2. `POST /users/{uid}/auth_tokens` (the client retries `5xx` and transport failures);
//! 3. if CometChat answers `ERR_UID_NOT_FOUND` and just-in-time provisioning is on: create the
//!    user from the principal's name and avatar with `withAuthToken: true`, and use the token
//!    the create returns: a first sign-in costs two calls. (`ERR_UID_ALREADY_EXISTS` means
//!    someone else created it meanwhile: mint once more. A deactivated user is not
//!    reactivated here: only [`Vendor::upsert_user`] does.)
//!
//! [`Vendor::confirm`], [`Vendor::delete`] and [`Vendor::flush`] serve the recheck, eviction,
//! refresh, revoke and sweep; a `404` on a delete or flush counts as done.
//!
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::{Client, DeleteMode, Error as ClientError, NewUser, TokenValue, UserUpdate};
use crate::store::LimitKey;
use crate::telemetry::{self, LimitScope, Operation};
use crate::uid::Uid;
use crate::vend::limit::Limits;
use crate::vend::problem::Problem;
use crate::webhook::Profile;

/// CometChat documents `Retry-After: 15` on its `429`; used when the header is missing.
const UPSTREAM_RETRY_AFTER_FALLBACK: Duration = Duration::from_secs(15);

/// CometChat's limit on a user's name, in characters.
const MAX_NAME_CHARS: usize = 100;

/// The profile's name as CometChat takes it: trimmed, at most 100 characters, `None` if empty.
fn usable_name(profile: &Profile) -> Option<String> {
    profile
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(MAX_NAME_CHARS).collect())
}

/// The profile's avatar if it is an `http(s)` URL: CometChat refuses others, and a refused
/// create would fail the sign-in (or the whole user event).
fn usable_avatar(profile: &Profile) -> Option<url::Url> {
    match profile.avatar.as_deref().map(url::Url::parse) {
        Some(Ok(url)) if matches!(url.scheme(), "http" | "https") => Some(url),
        _ => None,
    }
}

/// The new user for `uid`: the profile's usable name, else the UID itself, and its usable
/// avatar.
fn new_user(profile: &Profile, uid: &Uid) -> NewUser {
    let name = usable_name(profile).unwrap_or_else(|| uid.as_str().to_owned());
    let user = NewUser::new(uid.clone(), name);
    match usable_avatar(profile) {
        Some(url) => user.avatar(url),
        None => user,
    }
}

/// What a successful flight produced.
#[derive(Clone)]
pub(crate) struct Minted {
    pub(crate) token: TokenValue,
    pub(crate) trace: Trace,
}

/// What the flight did upstream, for the request's log event.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trace {
    /// The status of the last CometChat answer (or `None` if none came).
    pub(crate) upstream_status: Option<u16>,
    /// Time spent on CometChat calls, retries included.
    pub(crate) upstream_latency: Duration,
    /// CometChat calls made (each may include client retries).
    pub(crate) upstream_calls: u32,
    /// Whether the user was created just in time.
    pub(crate) provisioned: bool,
}

/// Why a flight failed.
#[derive(Clone)]
pub(crate) enum VendError {
    /// The app-wide upstream budget is spent for `wait`.
    Budget { wait: Duration, trace: Trace },
    /// A CometChat call failed.
    Upstream {
        step: Step,
        error: Arc<ClientError>,
        trace: Trace,
    },
    /// The overall deadline passed.
    Deadline { trace: Trace },
    /// The task doing the work ended without a result (it panicked, or the runtime shut
    /// down).
    Aborted { trace: Trace },
    /// The token store failed.
    Store {
        error: Arc<crate::store::StoreError>,
        trace: Trace,
    },
    /// The account is deleted (tombstoned): no token, no user.
    AccountDeleted { trace: Trace },
    /// The user's mint limit is spent for `wait`: no call was made.
    UserLimited { wait: Duration, trace: Trace },
    /// Another gate held the device's mint lock past the deadline; it is gone within `wait`.
    MintPending { wait: Duration, trace: Trace },
}

/// Which CometChat call failed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Step {
    Mint,
    CreateUser,
    MintAfterCreate,
    Confirm,
    Delete,
    Flush,
    UpdateUser,
    ReactivateUser,
    /// The update after a reactivation that found no deactivated user.
    NotReactivated,
    DeleteUser,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Mint => "mint",
            Step::CreateUser => "create_user",
            Step::MintAfterCreate => "mint_after_create",
            Step::Confirm => "confirm_token",
            Step::Delete => "delete_token",
            Step::Flush => "flush_tokens",
            Step::UpdateUser => "update_user",
            Step::ReactivateUser => "reactivate_user",
            Step::NotReactivated => "reactivate_user found nothing; update_user",
            Step::DeleteUser => "delete_user",
        })
    }
}

impl Trace {
    /// Adds what another step did (e.g. the deletes after a mint).
    pub(crate) fn absorb(&mut self, other: &Trace) {
        if other.upstream_calls > 0 {
            self.upstream_status = other.upstream_status;
        }
        self.upstream_latency += other.upstream_latency;
        self.upstream_calls += other.upstream_calls;
        self.provisioned |= other.provisioned;
    }
}

impl VendError {
    /// The status CometChat answered the failed call with, if it answered.
    pub(crate) fn upstream_status(&self) -> Option<u16> {
        match self {
            Self::Upstream { error, .. } => error.status(),
            _ => None,
        }
    }

    /// The store failed.
    pub(crate) fn store(error: crate::store::StoreError, trace: Trace) -> Self {
        Self::Store {
            error: Arc::new(error),
            trace,
        }
    }

    pub(crate) fn trace(&self) -> &Trace {
        match self {
            Self::Budget { trace, .. }
            | Self::Upstream { trace, .. }
            | Self::Deadline { trace }
            | Self::Aborted { trace }
            | Self::AccountDeleted { trace }
            | Self::Store { trace, .. }
            | Self::UserLimited { trace, .. }
            | Self::MintPending { trace, .. } => trace,
        }
    }

    /// The client-facing answer: 503 for rate limits, 504 for time-outs, 502 for the rest.
    pub(crate) fn problem(&self) -> Problem {
        match self {
            Self::Budget { wait, .. } => Problem::upstream_budget_exhausted(*wait),
            Self::Deadline { .. } => Problem::upstream_timeout(),
            Self::Store { .. } => Problem::store_unavailable(Duration::from_secs(1)),
            Self::Aborted { .. } => Problem::upstream_failure(),
            Self::AccountDeleted { .. } => Problem::account_deleted(),
            Self::UserLimited { wait, .. } => Problem::rate_limited(*wait),
            Self::MintPending { wait, .. } => Problem::mint_pending(*wait),
            Self::Upstream { error, .. } if error.status() == Some(429) && !error.is_deadline() => {
                Problem::upstream_rate_limited(
                    error.retry_after().unwrap_or(UPSTREAM_RETRY_AFTER_FALLBACK),
                )
            }
            Self::Upstream { error, .. } if error.is_deadline() || error.is_timeout() => {
                Problem::upstream_timeout()
            }
            Self::Upstream { .. } => Problem::upstream_failure(),
        }
    }

    /// A log-safe description (the client error is already scrubbed of the REST API key).
    pub(crate) fn log_detail(&self) -> String {
        match self {
            Self::Budget { wait, .. } => format!(
                "the upstream budget is spent for {} ms; raise GateBuilder::upstream_budget if CometChat's plan allows",
                wait.as_millis()
            ),
            Self::Deadline { .. } => "the overall deadline passed before CometChat answered".into(),
            Self::Store { error, .. } => error.to_string(),
            Self::Aborted { .. } => "the task doing the work ended without a result".into(),
            Self::AccountDeleted { .. } => {
                "the account was deleted (tombstoned); it is not re-created".into()
            }
            Self::UserLimited { wait, .. } => format!(
                "the user's mint limit is spent for {} ms (GateBuilder::per_user_limit)",
                wait.as_millis()
            ),
            Self::MintPending { .. } => {
                "another gate's mint for this device did not finish within the deadline".into()
            }
            Self::Upstream { step, error, .. } => {
                let hint = match error.code() {
                    Some(crate::client::codes::APIKEY_NOT_FOUND) => {
                        " (the REST API key is wrong: check COMETCHAT_REST_API_KEY and the app id/region)"
                    }
                    Some(crate::client::codes::NO_ACCESS) => {
                        " (the key lacks access: use a REST API key with full access, not an Auth Key)"
                    }
                    _ => "",
                };
                format!("{step} failed: {error}{hint}")
            }
        }
    }
}

/// The result of steps bounded by the deadline, with their trace attached.
fn conclude<T>(
    outcome: Result<Result<T, Stop>, tokio::time::error::Elapsed>,
    trace: Trace,
) -> Result<(T, Trace), VendError> {
    match outcome {
        Ok(Ok(value)) => Ok((value, trace)),
        Ok(Err(Stop::Budget(wait))) => Err(VendError::Budget { wait, trace }),
        Ok(Err(Stop::Upstream(step, error))) => Err(VendError::Upstream {
            step,
            error: Arc::new(error),
            trace,
        }),
        Ok(Err(Stop::AccountDeleted)) => Err(VendError::AccountDeleted { trace }),
        Ok(Err(Stop::Store(error))) => Err(VendError::store(error, trace)),
        Err(_) => Err(VendError::Deadline { trace }),
    }
}

/// What an upsert left at CometChat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upserted {
    /// The user exists, active, with the profile.
    Done,
    /// An update found the user deactivated and left it so (only a creation reactivates).
    Deactivated,
}

/// Why the steps stopped, before the trace is attached.
enum Stop {
    Budget(Duration),
    Upstream(Step, ClientError),
    /// The account was deleted while the token was being minted: no user is created.
    AccountDeleted,
    Store(crate::store::StoreError),
}

/// Mints tokens for UIDs, creating users just in time; creates, updates and deletes users.
pub(crate) struct Vendor {
    pub(crate) client: Client,
    pub(crate) limits: Arc<Limits>,
    pub(crate) jit: bool,
    pub(crate) deadline: Duration,
    /// Tombstones: a just-in-time create re-checks them under the account's lock, so a
    /// deletion running at the same time cannot be undone by a token request.
    pub(crate) accounts: Arc<dyn crate::store::AccountStore>,
    pub(crate) locks: Arc<crate::vend::sync::AccountLocks>,
    /// How a deleted account's user is deleted: by the sync, and by a just-in-time create that
    /// finds the account deleted once the user exists.
    pub(crate) deletion: DeleteMode,
}

impl Vendor {
    /// One flight: budget, mint, maybe create (with its token). Unlike the other calls here it
    /// sets no deadline of its own: its one caller, the token lifecycle's mint, bounds it by
    /// the request's deadline, which always passes first (a timer that could never fire first
    /// still cost a registration in the timer wheel on every mint).
    pub(crate) async fn mint(&self, uid: &Uid, profile: &Profile) -> Result<Minted, VendError> {
        let mut trace = Trace::default();
        let outcome = self.steps(uid, profile, &mut trace).await;
        conclude(Ok(outcome), trace).map(|(token, trace)| Minted { token, trace })
    }

    /// Whether CometChat still has `token` (`GET /users/{uid}/auth_tokens/{token}`): `false` on
    /// a `404`.
    pub(crate) async fn confirm(
        &self,
        uid: &Uid,
        token: &TokenValue,
    ) -> Result<(bool, Trace), VendError> {
        let mut trace = Trace::default();
        let steps = async {
            match self
                .call(&mut trace, Operation::ConfirmToken, || {
                    self.client.get_auth_token(uid, token)
                })
                .await?
            {
                Ok(_) => Ok(true),
                Err(e) if e.status() == Some(404) => Ok(false),
                Err(e) => Err(Stop::Upstream(Step::Confirm, e)),
            }
        };
        let outcome = tokio::time::timeout(self.deadline, steps).await;
        conclude(outcome, trace)
    }

    /// Deletes `token` at CometChat; a `404` (already gone) counts as done.
    pub(crate) async fn delete(&self, uid: &Uid, token: &TokenValue) -> Result<Trace, VendError> {
        self.delete_idempotent(Operation::DeleteToken, Step::Delete, || {
            self.client.delete_auth_token(uid, token)
        })
        .await
    }

    /// Deletes every token of `uid` at CometChat; a `404` (no such user) counts as done.
    pub(crate) async fn flush(&self, uid: &Uid) -> Result<Trace, VendError> {
        self.delete_idempotent(Operation::FlushTokens, Step::Flush, || {
            self.client.flush_auth_tokens(uid)
        })
        .await
    }

    /// Creates or updates `uid`'s user with `profile`: a `created` event creates (an existing
    /// user is updated), an `updated` one updates (a missing user is created). A creation
    /// reactivates a deactivated user first (see [`Self::make_active`]); an update leaves it
    /// deactivated ([`Upserted::Deactivated`]).
    pub(crate) async fn upsert_user(
        &self,
        uid: &Uid,
        profile: &Profile,
        create_first: bool,
    ) -> Result<(Upserted, Trace), VendError> {
        let mut trace = Trace::default();
        let mut update = UserUpdate::new();
        if let Some(name) = usable_name(profile) {
            update = update.name(name);
        }
        if let Some(avatar) = usable_avatar(profile) {
            update = update.avatar(avatar);
        }
        // Nothing to change: only make sure the user exists.
        let changes = update != UserUpdate::new();
        let changes = changes.then_some(&update);
        let user = new_user(profile, uid);
        let steps = async {
            if let Some(update) = changes
                && !create_first
                && self.update(&mut trace, uid, update).await?.is_ok()
            {
                return Ok(Upserted::Done);
            }
            match self
                .call(&mut trace, Operation::CreateUser, || {
                    self.client.create_user(&user)
                })
                .await?
            {
                Ok(_) => Ok(Upserted::Done),
                // It exists (a created event for a known user, or a concurrent create), or it
                // is deactivated: only a creation brings a deactivated user back.
                Err(e) if e.is_uid_already_exists() && create_first => self
                    .make_active(&mut trace, uid, changes)
                    .await
                    .map(|()| Upserted::Done),
                Err(e) if e.is_uid_already_exists() => match changes {
                    Some(update) => match self.update(&mut trace, uid, update).await? {
                        Ok(()) => Ok(Upserted::Done),
                        // Deactivated at CometChat (by a moderator, say): a profile change
                        // does not undo that.
                        Err(_) => Ok(Upserted::Deactivated),
                    },
                    None => Ok(Upserted::Done),
                },
                Err(e) => Err(Stop::Upstream(Step::CreateUser, e)),
            }
        };
        let outcome = tokio::time::timeout(self.deadline, steps).await;
        conclude(outcome, trace)
    }

    /// A creation found the UID taken: by an active user, or by a deactivated one, which reads
    /// as not found but blocks re-creation ([`DeleteMode::Deactivate`] when the account was
    /// deleted, since lifted by this newer creation; or a deactivation outside cometgate: the
    /// account was created again, so it is reactivated too). Ends with the user active and `update`
    /// applied, or fails: never done while the user stays deactivated.
    async fn make_active(
        &self,
        trace: &mut Trace,
        uid: &Uid,
        update: Option<&UserUpdate>,
    ) -> Result<(), Stop> {
        let Some(update) = update else {
            // Nothing to change: reactivating is all there is to do. CometChat says `notFound`
            // for an active user, so "nothing reactivated" is done too.
            return self.reactivate(trace, uid).await.map(drop);
        };
        if self.update(trace, uid, update).await?.is_ok() {
            return Ok(());
        }
        // "Nothing reactivated" may still leave an active user (another replica, or a retried
        // attempt, reactivated it): the update tells, and names the step that fell short.
        let reactivated = self.reactivate(trace, uid).await?;
        match self.update(trace, uid, update).await? {
            Ok(()) => Ok(()),
            Err(missing) if reactivated => Err(Stop::Upstream(Step::UpdateUser, missing)),
            Err(missing) => Err(Stop::Upstream(Step::NotReactivated, missing)),
        }
    }

    /// `PUT /users/{uid}`: the inner `Err` is CometChat's `ERR_UID_NOT_FOUND` (no such user,
    /// or a deactivated one).
    async fn update(
        &self,
        trace: &mut Trace,
        uid: &Uid,
        update: &UserUpdate,
    ) -> Result<Result<(), ClientError>, Stop> {
        match self
            .call(trace, Operation::UpdateUser, || {
                self.client.update_user(uid, update)
            })
            .await?
        {
            Ok(_) => Ok(Ok(())),
            Err(e) if e.is_uid_not_found() => Ok(Err(e)),
            Err(e) => Err(Stop::Upstream(Step::UpdateUser, e)),
        }
    }

    /// `PUT /users` for `uid`: whether CometChat reactivated a deactivated user.
    async fn reactivate(&self, trace: &mut Trace, uid: &Uid) -> Result<bool, Stop> {
        self.call(trace, Operation::ReactivateUser, || {
            self.client.reactivate_user(uid)
        })
        .await?
        .map_err(|e| Stop::Upstream(Step::ReactivateUser, e))
    }

    /// Deletes `uid`'s user (permanently, or by deactivating); a `404` counts as done.
    pub(crate) async fn delete_user(
        &self,
        uid: &Uid,
        mode: DeleteMode,
    ) -> Result<Trace, VendError> {
        self.delete_idempotent(Operation::DeleteUser, Step::DeleteUser, || {
            self.client.delete_user(uid, mode)
        })
        .await
    }

    /// One delete call under the budget and the deadline, where `404` (already gone) is done.
    async fn delete_idempotent<F>(
        &self,
        operation: Operation,
        step: Step,
        call: impl FnOnce() -> F,
    ) -> Result<Trace, VendError>
    where
        F: Future<Output = Result<(), ClientError>>,
    {
        let mut trace = Trace::default();
        let steps = async {
            match self.call(&mut trace, operation, call).await? {
                Err(e) if e.status() != Some(404) => Err(Stop::Upstream(step, e)),
                _ => Ok(()),
            }
        };
        let outcome = tokio::time::timeout(self.deadline, steps).await;
        conclude(outcome, trace).map(|((), trace)| trace)
    }

    async fn steps(
        &self,
        uid: &Uid,
        profile: &Profile,
        trace: &mut Trace,
    ) -> Result<TokenValue, Stop> {
        let error = match self
            .call(trace, Operation::MintToken, || {
                self.client.create_auth_token(uid)
            })
            .await?
        {
            Ok(token) => return Ok(token.auth_token),
            Err(e) => e,
        };
        if !(self.jit && error.is_uid_not_found()) {
            return Err(Stop::Upstream(Step::Mint, error));
        }
        let user = new_user(profile, uid).with_auth_token(true);
        let _account = self.locks.lock(uid).await;
        if self.accounts.is_deleted(uid).await.map_err(Stop::Store)? {
            return Err(Stop::AccountDeleted);
        }
        // Armed as the create is sent (its budget taken): from then on, whatever stops this
        // request (an error, the deadline, a drop) before the account is known to live, the
        // user is looked at again in the background (see `JustCreated`).
        let mut guard = JustCreated::default();
        let token = match self
            .call(trace, Operation::CreateUser, || {
                guard.arm(self, uid);
                self.client.create_user(&user)
            })
            .await?
        {
            Ok(created) => {
                guard.created();
                created.auth_token
            }
            // A concurrent request (another process, or a retried create) made it first. Or
            // the user is deactivated: then the mint below fails, and the request with it. A
            // token request never reactivates: a deleted account was refused above, and a user
            // deactivated outside cometgate (by a moderator, say) stays so until an event of
            // the account (`upsert_user`) says it is live. The look below still runs.
            Err(e) if e.is_uid_already_exists() => None,
            // Any other failure (a timeout or a 5xx may come after CometChat created the user)
            // leaves the guard armed: it looks at the tombstone again.
            Err(e) => return Err(Stop::Upstream(Step::CreateUser, e)),
        };
        trace.provisioned = true;
        // The lock is this process's: another replica may have recorded the deletion since the
        // check above. Looking again now that the user exists closes that window: a deletion
        // recorded before this look is seen here, one recorded after it deletes the user itself.
        // A look that fails leaves the guard armed: it looks again, in the background.
        if self.accounts.is_deleted(uid).await.map_err(Stop::Store)? {
            if self.undo_create(trace, uid).await {
                guard.disarm();
            }
            return Err(Stop::AccountDeleted);
        }
        guard.disarm();
        if let Some(token) = token {
            return Ok(token);
        }
        match self
            .call(trace, Operation::MintToken, || {
                self.client.create_auth_token(uid)
            })
            .await?
        {
            Ok(token) => Ok(token.auth_token),
            Err(e) => Err(Stop::Upstream(Step::MintAfterCreate, e)),
        }
    }

    /// Deletes the user of an account deleted meanwhile, once the create is done; returns
    /// whether it is gone (if not, the create's [`JustCreated`] guard, when armed, tries again
    /// in the background).
    async fn undo_create(&self, trace: &mut Trace, uid: &Uid) -> bool {
        let deleted = self
            .call(trace, Operation::DeleteUser, || {
                self.client.delete_user(uid, self.deletion)
            })
            .await;
        let gone = matches!(&deleted, Ok(deleted) if is_gone(deleted));
        if !gone {
            tracing::warn!(
                target: "cometgate::sync",
                uid = uid.as_str(),
                "the user of an account deleted during its just-in-time creation could not be deleted again yet; deleting the account again (Gate::delete_user) does"
            );
        }
        gone
    }

    /// Takes a budget cell, then runs one client call and records it in the trace and the
    /// metrics. The outer `Result` is the budget, the inner one the call.
    ///
    /// The call comes as a closure, made only once the budget is taken: a future passed in
    /// would sit in this one's state next to its own awaited copy, doubling its size.
    async fn call<T, F>(
        &self,
        trace: &mut Trace,
        operation: Operation,
        call: impl FnOnce() -> F,
    ) -> Result<Result<T, ClientError>, Stop>
    where
        F: Future<Output = Result<T, ClientError>>,
    {
        // Inside CometChat's 429 window the client answers without a request: that costs no
        // budget and is no upstream call.
        if self.client.rate_limit_remaining().is_none() {
            let budget = |wait| {
                telemetry::rate_limited(LimitScope::Budget);
                Stop::Budget(wait)
            };
            self.limits
                .take_or(LimitKey::Upstream, budget, Stop::Store)
                .await?;
        }
        let started = Instant::now();
        let result = call().await;
        if matches!(&result, Err(e) if e.is_cooldown()) {
            return Ok(result);
        }
        let elapsed = started.elapsed();
        trace.upstream_calls += 1;
        trace.upstream_latency += elapsed;
        trace.upstream_status = match &result {
            Ok(_) => Some(200),
            Err(e) => e.status(),
        };
        telemetry::upstream(operation, trace.upstream_status, elapsed);
        Ok(result)
    }
}

/// A just-in-time create under way or done, whose account is not yet known to live. Dropped
/// armed (the request stopped between sending the create and the look that proves the account
/// lives: an error, its deadline, a dropped flight), it spawns [`Undo`]: a deletion recorded
/// meanwhile never leaves a user behind.
///
/// Best effort past a runtime's shutdown: the spawned look is cancelled with it (deleting the
/// account again, `Gate::delete_user`, then removes the user).
#[derive(Default)]
struct JustCreated {
    armed: Option<Undo>,
}

impl JustCreated {
    /// The create is being sent.
    fn arm(&mut self, vendor: &Vendor, uid: &Uid) {
        self.armed = Some(Undo {
            client: vendor.client.clone(),
            accounts: Arc::clone(&vendor.accounts),
            locks: Arc::clone(&vendor.locks),
            deletion: vendor.deletion,
            deadline: vendor.deadline,
            uid: uid.clone(),
            created: false,
        });
    }

    /// CometChat answered that it created the user: this request made it.
    fn created(&mut self) {
        if let Some(undo) = &mut self.armed {
            undo.created = true;
        }
    }

    /// Nothing left to do: the account lives, or its user is deleted again.
    fn disarm(&mut self) {
        self.armed = None;
    }
}

impl Drop for JustCreated {
    fn drop(&mut self) {
        let Some(undo) = self.armed.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(undo.run())),
            Err(_) => tracing::warn!(
                target: "cometgate::sync",
                uid = undo.uid.as_str(),
                "a user created just in time could not be looked at again (no runtime); if the account is deleted, deleting it again (Gate::delete_user) removes the user"
            ),
        }
    }
}

/// The background look of a [`JustCreated`] guard, outside any request's deadline, under the
/// account's lock (a sync of the account in this process waits for it):
///
/// - the tombstone is read, again and again while the store fails, for up to six deadlines;
/// - the account lives: nothing is done;
/// - it is deleted: the user is deleted (the gate's [`DeleteMode`]), and once more a deadline
///   later when the create's outcome was unknown (a create cut mid-flight may commit after the
///   first delete);
/// - the store never answered: a user this request surely created (seconds old) is deleted for
///   good, so that a live account's next token request creates it again; any other is left in
///   place, and logged.
///
/// Its calls take no upstream budget cell and are not in the upstream metrics: at most one
/// look and two deletes per failed create.
struct Undo {
    client: Client,
    accounts: Arc<dyn crate::store::AccountStore>,
    locks: Arc<crate::vend::sync::AccountLocks>,
    deletion: DeleteMode,
    deadline: Duration,
    uid: Uid,
    /// CometChat answered the create with the new user.
    created: bool,
}

impl Undo {
    /// How many deadlines the look keeps asking a failing store.
    const LOOK_DEADLINES: u32 = 6;

    async fn run(self) {
        let _account = self.locks.lock(&self.uid).await;
        let mode = match self.look().await {
            Some(false) => return,
            Some(true) => self.deletion,
            None if self.created => DeleteMode::Permanent,
            None => {
                tracing::warn!(
                    target: "cometgate::sync",
                    uid = self.uid.as_str(),
                    "a just-in-time create failed and the account store could not say whether the account was deleted meanwhile; the user, if CometChat made it, is left in place (deleting the account again, Gate::delete_user, removes it)"
                );
                return;
            }
        };
        let mut gone = self.delete(mode).await;
        if !self.created {
            tokio::time::sleep(self.deadline).await;
            gone &= self.delete(mode).await;
        }
        if !gone {
            tracing::warn!(
                target: "cometgate::sync",
                uid = self.uid.as_str(),
                "the user of an account deleted during its just-in-time creation could not be deleted again; deleting the account again (Gate::delete_user) does"
            );
        }
    }

    /// Whether the account is deleted; `None` when the store did not say in time.
    async fn look(&self) -> Option<bool> {
        let until = tokio::time::Instant::now() + self.deadline * Self::LOOK_DEADLINES;
        let mut pause = Duration::from_millis(100);
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            if let Ok(Ok(deleted)) =
                tokio::time::timeout(left.min(self.deadline), self.accounts.is_deleted(&self.uid))
                    .await
            {
                return Some(deleted);
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    /// One delete within the deadline (the client retries a `5xx` in it); whether the user
    /// is gone.
    async fn delete(&self, mode: DeleteMode) -> bool {
        let deleted =
            tokio::time::timeout(self.deadline, self.client.delete_user(&self.uid, mode)).await;
        matches!(&deleted, Ok(deleted) if is_gone(deleted))
    }
}

/// Whether a delete at CometChat left the thing gone: done, or already gone (`404`).
fn is_gone(deleted: &Result<(), ClientError>) -> bool {
    deleted.as_ref().is_ok() || deleted.as_ref().is_err_and(|e| e.status() == Some(404))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(profile: Profile) -> serde_json::Value {
        let uid = Uid::parse("u1").unwrap();
        serde_json::to_value(new_user(&profile, &uid)).unwrap()
    }

    #[test]
    fn new_users_get_a_usable_name_and_only_web_avatars() {
        let full = json(Profile {
            name: Some("  Ada Lovelace ".into()),
            avatar: Some("https://img.example/ada.png".into()),
        });
        assert_eq!(full["name"], "Ada Lovelace");
        assert_eq!(full["avatar"], "https://img.example/ada.png");

        for name in [None, Some(String::new()), Some("   ".into())] {
            let user = json(Profile { name, avatar: None });
            assert_eq!(user["name"], "u1", "the UID stands in for a missing name");
            assert!(user.get("avatar").is_none());
        }

        let long = json(Profile {
            name: Some("é".repeat(150)),
            avatar: None,
        });
        assert_eq!(long["name"].as_str().unwrap().chars().count(), 100);

        for avatar in [
            "javascript:alert(1)",
            "not a url",
            "ftp://x/y.png",
            "data:image/png;base64,AA",
        ] {
            let user = json(Profile {
                name: Some("A".into()),
                avatar: Some(avatar.into()),
            });
            assert!(user.get("avatar").is_none(), "{avatar} must be dropped");
        }
    }
}
