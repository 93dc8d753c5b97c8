//! The token lifecycle, written once against the [`TokenStore`] seam: reuse per device, the cap
//! per user, max age and its sweep, rechecks, refresh and revoke.
//!
//! What happens for a token request (UID already mapped, device id chosen):
//!
//! 1. Unless it is a refresh or a new device: the store's token for (UID, device). If it is not
//!    expired, it is handed out again (after a recheck at CometChat when it was last confirmed
//!    longer ago than the policy's recheck): **no mint**, and the per-user limit is not charged.
//! 2. Otherwise one single-flight per (UID, device) mints (charged to the per-user limit),
//!    tracks the new token, and deletes at CometChat every token the store retired (the
//!    device's old one, the least recently used devices over the cap) **before answering**. A
//!    delete that fails is deferred for the sweep to retry.
//!
//! The whole request (a recheck, the wait for another gate's mint, its own mint and deletes) is
//! bounded by one deadline, the retry policy's: past it the request answers (`503
//! mint-pending` while another gate still holds the device's lock, `504` for CometChat) and a
//! delete not yet done is deferred. A gate's mint lock lives the deadline plus a margin of
//! 1 s, so a gate that died mid-mint blocks its device no longer than that;
//! a lock dropped without its release (a panic) is released by its guard.
//!
//! The sweep ([`Gate::sweep`](crate::Gate::sweep)) deletes expired and deferred tokens
//! upstream; the gate runs it in the background every [`TokenPolicy::sweep_interval`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::Either;
use tokio::time::Instant;

use crate::client::TokenValue;
use crate::clock::Clock;
use crate::device::DeviceKey;
use crate::store::{
    DeviceReading, LimitKey, MintLock, RetireReason, Retired, SharedStore, StoreError, TokenStore,
    TrackedToken,
};
use crate::telemetry::{self, TokenEvent};
use crate::uid::Uid;
use crate::vend::policy::TokenPolicy;
use crate::vend::provision::{Trace, VendError, Vendor};
use crate::webhook::Profile;

/// How many due tokens one sweep round takes from the store.
const SWEEP_BATCH: usize = 256;

/// How long a mint lock outlives the request deadline: room for the store calls the holder
/// makes outside it (track, unlock). A holder that died blocks its device at most the deadline
/// plus this, which is also the `Retry-After` of a waiter that gives up.
pub(crate) const MINT_LOCK_MARGIN: Duration = Duration::from_secs(1);

/// `work`, cut off at `until` (the request's deadline); not started when it has passed.
///
/// A combinator, not an `async fn`: an `async fn` would keep `work` and the timeout around it
/// in two slots of its state, doubling the size of every future that awaits it.
fn by<T, F>(until: Instant, work: F) -> impl Future<Output = Result<T, VendError>>
where
    F: Future<Output = Result<T, VendError>>,
{
    fn deadline() -> VendError {
        VendError::Deadline {
            trace: Trace::default(),
        }
    }
    if Instant::now() >= until {
        return Either::Left(std::future::ready(Err(deadline())));
    }
    Either::Right(
        tokio::time::timeout_at(until, work).map(|done| done.unwrap_or_else(|_| Err(deadline()))),
    )
}

/// What a flight for one (UID, device) produced.
#[derive(Clone)]
pub(crate) struct Issued {
    pub(crate) tracked: TrackedToken,
    /// Handed out again (found by the flight's own lookup), not minted.
    pub(crate) reused: bool,
    pub(crate) trace: Trace,
    /// How many tokens the mint retired (and deleted, or deferred).
    pub(crate) retired: u32,
}

/// What the lookup before a mint found.
pub(crate) enum Lookup {
    /// A token to hand out again.
    Reuse(TrackedToken, Trace),
    /// A mint is needed; `stale` is the token seen and refused (expired, or gone at
    /// CometChat), which the flight must not hand out again.
    Mint {
        stale: Option<TokenValue>,
        gone: bool,
        trace: Trace,
    },
}

/// What the sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Tokens deleted at CometChat (or already gone there).
    pub deleted: usize,
    /// Tokens whose delete failed and that wait for the next sweep.
    pub deferred: usize,
}

/// The lifecycle's state and policy; shared by the gate and its background sweeper.
pub(crate) struct Tokens {
    pub(crate) store: Arc<dyn TokenStore>,
    /// `store` and the vendor's account store, when they are one store: a known device's
    /// tombstone and token are then read in one step.
    pub(crate) shared: Option<Arc<dyn SharedStore>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) policy: TokenPolicy,
    pub(crate) vendor: Arc<Vendor>,
    /// The background sweep, restarted when the runtime it ran on has ended.
    /// Whether a sweep task is alive: the task clears it when it ends or is dropped with its
    /// runtime, so the token route pays one atomic load, not a lock.
    sweeping: Arc<AtomicBool>,
}

impl Tokens {
    pub(crate) fn new(
        store: Arc<dyn TokenStore>,
        shared: Option<Arc<dyn SharedStore>>,
        clock: Arc<dyn Clock>,
        policy: TokenPolicy,
        vendor: Arc<Vendor>,
    ) -> Self {
        Self {
            store,
            shared,
            clock,
            policy,
            vendor,
            sweeping: Arc::new(AtomicBool::new(false)),
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.unix_seconds()
    }

    /// A store operation failed: counted, and the error for the request.
    fn store_failed(&self, error: StoreError, trace: Trace) -> VendError {
        telemetry::store_error(self.store.backend());
        VendError::store(error, trace)
    }

    /// A store operation with no request waiting for it failed: counted, and logged.
    fn store_failed_quietly(&self, what: &str, error: &StoreError) {
        log_store_failure(&*self.store, what, error);
    }

    /// The deadline of a token request starting now.
    pub(crate) fn deadline_from_now(&self) -> Instant {
        Instant::now() + self.vendor.deadline
    }

    /// Refuses when `uid`'s account is deleted (tombstoned): another replica may have recorded
    /// the deletion since the request looked, and revoked the tokens it found then.
    async fn refuse_if_deleted(&self, uid: &Uid, trace: &Trace) -> Result<(), VendError> {
        if self.is_deleted(uid, trace).await? {
            return Err(VendError::AccountDeleted {
                trace: trace.clone(),
            });
        }
        Ok(())
    }

    /// Whether `uid`'s account is deleted; a failed read is counted (under the account
    /// store's backend).
    async fn is_deleted(&self, uid: &Uid, trace: &Trace) -> Result<bool, VendError> {
        let accounts = &self.vendor.accounts;
        accounts.is_deleted(uid).await.map_err(|error| {
            telemetry::store_error(accounts.backend());
            VendError::store(error, trace.clone())
        })
    }

    /// Whether `uid`'s account is deleted and, unless it is, what the store holds for
    /// `device` at `now` (nothing is read for `None`): in one step when the gate has one store
    /// for both. A failure is counted.
    pub(crate) async fn read(
        &self,
        uid: &Uid,
        device: Option<DeviceKey>,
        now: u64,
    ) -> Result<DeviceReading, VendError> {
        if let (Some(device), Some(shared)) = (device, &self.shared) {
            return shared
                .token_unless_deleted(uid, device, now)
                .await
                .map_err(|e| self.store_failed(e, Trace::default()));
        }
        if self.is_deleted(uid, &Trace::default()).await? {
            return Ok(DeviceReading::Deleted);
        }
        Ok(DeviceReading::Live(match device {
            Some(device) => self.stored(uid, device, now).await?,
            None => None,
        }))
    }

    /// What the store holds for (`uid`, `device`) at `now`; a failure is counted.
    async fn stored(
        &self,
        uid: &Uid,
        device: DeviceKey,
        now: u64,
    ) -> Result<Option<TrackedToken>, VendError> {
        self.store
            .get(uid, device, now)
            .await
            .map_err(|e| self.store_failed(e, Trace::default()))
    }

    /// Whether `found`, the store's token for (`uid`, `device`) read at `now`, may be handed
    /// out again; a recheck at CometChat ends by `until`.
    pub(crate) async fn lookup(
        &self,
        uid: &Uid,
        device: DeviceKey,
        found: Option<TrackedToken>,
        now: u64,
        until: Instant,
    ) -> Result<Lookup, VendError> {
        let mut trace = Trace::default();
        let Some(tracked) = found else {
            return Ok(Lookup::Mint {
                stale: None,
                gone: false,
                trace,
            });
        };
        if tracked.is_expired(now) {
            return Ok(Lookup::Mint {
                stale: Some(tracked.token),
                gone: false,
                trace,
            });
        }
        let due = self
            .policy
            .recheck
            .is_some_and(|every| now.saturating_sub(tracked.confirmed_at) >= every.as_secs());
        if !due {
            return Ok(Lookup::Reuse(tracked, trace));
        }
        // Claim this recheck window first, so concurrent requests for the device hand the
        // token out instead of all asking CometChat; a token replaced meanwhile is not ours to
        // hand out (the flight's own lookup finds its successor).
        let claimed = self
            .store
            .confirm(uid, device, &tracked.token, now)
            .await
            .map_err(|e| self.store_failed(e, Trace::default()))?;
        let replaced = || Lookup::Mint {
            stale: Some(tracked.token.clone()),
            gone: false,
            trace: Trace::default(),
        };
        if !claimed {
            return Ok(replaced());
        }
        match by(until, self.vendor.confirm(uid, &tracked.token)).await {
            Ok((true, checked)) => {
                trace.absorb(&checked);
                // A refresh or revoke may have replaced it while CometChat answered.
                let still = self
                    .store
                    .get(uid, device, now)
                    .await
                    .map_err(|e| self.store_failed(e, trace.clone()))?;
                if still.is_some_and(|t| t.token == tracked.token) {
                    Ok(Lookup::Reuse(tracked, trace))
                } else {
                    Ok(replaced())
                }
            }
            Ok((false, checked)) => {
                trace.absorb(&checked);
                Ok(Lookup::Mint {
                    stale: Some(tracked.token),
                    gone: true,
                    trace,
                })
            }
            // CometChat could not say (down, busy, budget spent): the token was valid when last
            // confirmed, so it is handed out, and the claimed window means the next check waits
            // a full interval instead of every request asking again; the client refreshes if
            // CometChat refuses the token.
            Err(error) => {
                trace.absorb(error.trace());
                tracing::warn!(
                    target: "cometgate::vend",
                    uid = uid.as_str(),
                    device = device.short(),
                    "could not recheck a stored token, handing it out unconfirmed: {}",
                    error.log_detail()
                );
                Ok(Lookup::Reuse(tracked, trace))
            }
        }
    }

    /// One flight's work: take the device's mint lock in the store (gates sharing it mint
    /// once per device), look again (another request may have minted meanwhile), else mint,
    /// track and delete what the store retired; all by `until`.
    pub(crate) async fn mint(
        &self,
        uid: Uid,
        device: DeviceKey,
        profile: Profile,
        want: Want,
        until: Instant,
    ) -> Result<Issued, VendError> {
        let lock = match self.lock_mint(&uid, device, &want, until).await? {
            Ok(lock) => lock,
            Err(reused) => return Ok(reused),
        };
        let issued = self.mint_locked(&uid, device, profile, want, until).await;
        lock.release().await;
        issued
    }

    /// Takes the store's mint lock for the device. While another gate holds it, waits for that
    /// gate's token (`Err(issued)`: reuse it) rather than minting a second one, up to `until`;
    /// then answers [`VendError::MintPending`] (that gate's lock is gone within
    /// [`MINT_LOCK_MARGIN`]).
    async fn lock_mint(
        &self,
        uid: &Uid,
        device: DeviceKey,
        want: &Want,
        until: Instant,
    ) -> Result<Result<HeldLock, Issued>, VendError> {
        // The holder's work ends by its own deadline, which began before it took the lock: the
        // lock outlives it only for the margin, or for a holder that died.
        let ttl = self.vendor.deadline + MINT_LOCK_MARGIN;
        let mut pause = Duration::from_millis(10);
        loop {
            let taken = self
                .store
                .lock_mint(uid, device, ttl)
                .await
                .map_err(|e| self.store_failed(e, Trace::default()))?;
            if let Some(lock) = taken {
                return Ok(Ok(HeldLock {
                    store: Arc::clone(&self.store),
                    uid: uid.clone(),
                    device,
                    lock: Some(lock),
                }));
            }
            let now = Instant::now();
            if now >= until {
                return Err(VendError::MintPending {
                    wait: MINT_LOCK_MARGIN,
                    trace: Trace::default(),
                });
            }
            tokio::time::sleep(pause.min(until - now)).await;
            pause = (pause * 2).min(Duration::from_millis(200));
            if !want.refresh
                && let Some(reused) = self.reusable(uid, device, want.stale.as_ref()).await?
            {
                return Ok(Err(reused));
            }
        }
    }

    /// The device's tracked token, if it may be handed out instead of `stale` (and the account
    /// is not deleted: the token may have been tracked after the deletion looked).
    async fn reusable(
        &self,
        uid: &Uid,
        device: DeviceKey,
        stale: Option<&TokenValue>,
    ) -> Result<Option<Issued>, VendError> {
        let now = self.now();
        let tracked = self.stored(uid, device, now).await?;
        let Some(tracked) = tracked.filter(|t| !t.is_expired(now) && Some(&t.token) != stale)
        else {
            return Ok(None);
        };
        self.refuse_if_deleted(uid, &Trace::default()).await?;
        Ok(Some(Issued {
            tracked,
            reused: true,
            trace: Trace::default(),
            retired: 0,
        }))
    }

    /// [`mint`](Self::mint) under the device's lock.
    async fn mint_locked(
        &self,
        uid: &Uid,
        device: DeviceKey,
        profile: Profile,
        want: Want,
        until: Instant,
    ) -> Result<Issued, VendError> {
        let Want {
            refresh,
            stale,
            gone,
        } = want;
        // Another request (or gate) may have minted while this one waited.
        if !refresh && let Some(reused) = self.reusable(uid, device, stale.as_ref()).await? {
            return Ok(reused);
        }
        if Instant::now() >= until {
            return Err(VendError::Deadline {
                trace: Trace::default(),
            });
        }
        // The user's cell, spent only for a real mint: requests that joined this flight, or
        // waited for another gate's mint and reuse its token, cost nothing.
        let limited = |wait| VendError::UserLimited {
            wait,
            trace: Trace::default(),
        };
        let failed = |error| VendError::store(error, Trace::default());
        self.vendor
            .limits
            .take_or(LimitKey::Mint(uid), limited, failed)
            .await?;
        let minted = by(until, self.vendor.mint(uid, &profile)).await?;
        telemetry::tokens(TokenEvent::Minted, 1);
        let mut trace = minted.trace;
        let now = self.now();
        let tracked = TrackedToken {
            token: minted.token,
            minted_at: now,
            expires_at: self
                .policy
                .max_age
                .map(|age| now.saturating_add(age.as_secs())),
            confirmed_at: now,
        };
        let taken_back = |reason| Retired {
            uid: uid.clone(),
            token: tracked.token.clone(),
            reason,
        };
        let retired = match self
            .store
            .track(uid, device, tracked.clone(), self.policy.per_user_cap())
            .await
        {
            Ok(retired) => retired,
            Err(error) => {
                // Untracked, the new token would never expire: take it back (or leave it to
                // the sweep, if the store can still hold that much), past the request's
                // deadline if need be.
                let back = vec![taken_back(RetireReason::Replaced)];
                trace.absorb(&self.retire(back, self.deadline_from_now()).await);
                return Err(self.store_failed(error, trace));
            }
        };
        let already_gone = |r: &Retired| gone && Some(&r.token) == stale.as_ref();
        let mut retired: Vec<Retired> = retired.into_iter().filter(|r| !already_gone(r)).collect();
        // A deletion recorded since the request looked revoked what it found then, not this
        // token: take it back and refuse, as the route does for a deleted account.
        if let Err(refused) = self.refuse_if_deleted(uid, &trace).await {
            if matches!(refused, VendError::AccountDeleted { .. }) {
                retired.push(taken_back(RetireReason::Revoked));
                retired.extend(self.forget_other(uid, device, &tracked.token).await);
            }
            trace.absorb(&self.retire(retired, self.deadline_from_now()).await);
            return Err(match refused {
                VendError::AccountDeleted { .. } => VendError::AccountDeleted { trace },
                other => other,
            });
        }
        let count = u32::try_from(retired.len()).unwrap_or(u32::MAX);
        trace.absorb(&self.retire(retired, until).await);
        Ok(Issued {
            tracked,
            reused: false,
            trace,
            retired: count,
        })
    }

    /// Forgets the device's token of a deleted account; a token other than `ours` (tracked by
    /// another gate meanwhile) is returned to be deleted too.
    async fn forget_other(
        &self,
        uid: &Uid,
        device: DeviceKey,
        ours: &TokenValue,
    ) -> Option<Retired> {
        match self.store.forget(uid, device).await {
            Ok(Some(token)) if token != *ours => Some(Retired {
                uid: uid.clone(),
                token,
                reason: RetireReason::Revoked,
            }),
            Ok(_) => None,
            Err(error) => {
                self.store_failed_quietly(
                    "a deleted account's token could not be forgotten",
                    &error,
                );
                None
            }
        }
    }

    /// Deletes retired tokens at CometChat by `until`; those that fail, or are not deleted by
    /// then, are deferred for the sweep.
    pub(crate) async fn retire(&self, retired: Vec<Retired>, until: Instant) -> Trace {
        let mut trace = Trace::default();
        let mut failed = Vec::new();
        for r in retired {
            // Boxed: a delete is rare on the token route (a replaced or evicted token), and
            // inline its future would grow every mint's by its size.
            match by(until, Box::pin(self.vendor.delete(&r.uid, &r.token))).await {
                Ok(deleted) => {
                    telemetry::tokens(TokenEvent::of_retired(r.reason), 1);
                    trace.absorb(&deleted);
                }
                Err(error) => {
                    trace.absorb(error.trace());
                    if keep_for_retry(&r, &error) {
                        failed.push(r);
                    }
                }
            }
        }
        if !failed.is_empty()
            && let Err(error) = self.store.defer(failed).await
        {
            self.store_failed_quietly("could not defer failed token deletes", &error);
        }
        trace
    }

    /// Deletes one device's token (a logout): forgets it, then deletes it at CometChat. On an
    /// upstream failure the delete is deferred for the sweep and the error returned.
    pub(crate) async fn revoke_device(
        &self,
        uid: &Uid,
        device: DeviceKey,
    ) -> Result<(usize, Trace), VendError> {
        let token = self
            .store
            .forget(uid, device)
            .await
            .map_err(|e| self.store_failed(e, Trace::default()))?;
        let Some(token) = token else {
            return Ok((0, Trace::default()));
        };
        match self.vendor.delete(uid, &token).await {
            Ok(trace) => {
                telemetry::tokens(TokenEvent::Revoked, 1);
                Ok((1, trace))
            }
            Err(error) => {
                self.defer_revoked(uid, vec![token], &error).await;
                Err(error)
            }
        }
    }

    /// Deletes every token of `uid` at CometChat. The devices are forgotten first: a token
    /// minted meanwhile is then either forgotten and flushed, or tracked after the flush and
    /// still live, never live and untracked. If the flush fails, the forgotten tokens are
    /// deferred for the sweep and the error returned.
    pub(crate) async fn revoke_all(&self, uid: &Uid) -> Result<(usize, Trace), VendError> {
        let forgotten = self
            .store
            .forget_user(uid)
            .await
            .map_err(|e| self.store_failed(e, Trace::default()))?;
        let count = forgotten.len();
        match self.vendor.flush(uid).await {
            Ok(trace) => {
                telemetry::tokens(
                    TokenEvent::Revoked,
                    u64::try_from(count).unwrap_or(u64::MAX),
                );
                Ok((count, trace))
            }
            Err(error) => {
                self.defer_revoked(uid, forgotten, &error).await;
                Err(error)
            }
        }
    }

    async fn defer_revoked(&self, uid: &Uid, tokens: Vec<TokenValue>, error: &VendError) {
        let retry: Vec<Retired> = tokens
            .into_iter()
            .map(|token| Retired {
                uid: uid.clone(),
                token,
                reason: RetireReason::Revoked,
            })
            .filter(|r| keep_for_retry(r, error))
            .collect();
        if !retry.is_empty()
            && let Err(e) = self.store.defer(retry).await
        {
            self.store_failed_quietly("could not defer a failed revoke", &e);
        }
    }

    /// Deletes expired and deferred tokens at CometChat, batch by batch, until none is due or
    /// a batch had a failure (CometChat is down, or the budget is spent: the rest waits for
    /// the next sweep).
    pub(crate) async fn sweep(&self) -> SweepReport {
        let mut report = SweepReport::default();
        loop {
            let due = match self.store.take_due(self.now(), SWEEP_BATCH).await {
                Ok(due) => due,
                Err(error) => {
                    telemetry::store_error(self.store.backend());
                    tracing::warn!(target: "cometgate::vend", "token sweep: {error}");
                    return report;
                }
            };
            let taken = due.len();
            let mut failed = Vec::new();
            for r in due {
                match self.vendor.delete(&r.uid, &r.token).await {
                    Ok(_) => {
                        telemetry::tokens(TokenEvent::of_retired(r.reason), 1);
                        report.deleted += 1;
                    }
                    Err(error) if keep_for_retry(&r, &error) => failed.push(r),
                    Err(_) => {}
                }
            }
            let stop = taken < SWEEP_BATCH || !failed.is_empty();
            report.deferred += failed.len();
            if !failed.is_empty()
                && let Err(error) = self.store.defer(failed).await
            {
                self.store_failed_quietly("token sweep could not defer", &error);
            }
            if stop {
                break;
            }
        }
        if report != SweepReport::default() {
            tracing::info!(
                target: "cometgate::vend",
                deleted = report.deleted,
                deferred = report.deferred,
                "token sweep"
            );
        }
        report
    }

    /// Starts the background sweep on the current Tokio runtime unless it is running. It
    /// holds only a weak reference between rounds, so it ends when the gate is dropped; if the
    /// runtime it ran on ends (a restarted worker), the next request starts it again.
    pub(crate) fn ensure_sweeper(self: &Arc<Self>) {
        if self.sweeping.load(Ordering::Acquire) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.sweeping.swap(true, Ordering::AcqRel) {
            return;
        }
        /// Clears the flag when the task ends, or is dropped with the runtime it ran on.
        struct Alive(Arc<AtomicBool>);
        impl Drop for Alive {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let alive = Alive(Arc::clone(&self.sweeping));
        let weak: Weak<Self> = Arc::downgrade(self);
        let every = self.policy.sweep_interval();
        runtime.spawn(async move {
            let _alive = alive;
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(tokens) = weak.upgrade() else {
                    return;
                };
                tokens.sweep().await;
            }
        });
    }
}

/// What a flight is asked to replace.
pub(crate) struct Want {
    /// A refresh: a new token even if the device has one.
    pub(crate) refresh: bool,
    /// The token the lookup refused (expired, or gone at CometChat), never handed out again.
    pub(crate) stale: Option<TokenValue>,
    /// Whether `stale` is already gone at CometChat (no delete needed).
    pub(crate) gone: bool,
}

/// A mint lock this gate holds. Dropped without [`release`](Self::release) (a panic between
/// lock and unlock, a task dropped with its runtime), it releases the lock in a task of its
/// own, so the device is not blocked until the lock runs out.
struct HeldLock {
    store: Arc<dyn TokenStore>,
    uid: Uid,
    device: DeviceKey,
    /// `None` once released.
    lock: Option<MintLock>,
}

impl HeldLock {
    async fn release(mut self) {
        if let Some(lock) = &self.lock {
            unlock(&*self.store, &self.uid, self.device, lock).await;
        }
        // Only now: a release cancelled half way is done again by the drop.
        self.lock = None;
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        let Some(lock) = self.lock.take() else {
            return;
        };
        // No runtime (it is shutting down): the lock runs out by itself.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (store, uid, device) = (Arc::clone(&self.store), self.uid.clone(), self.device);
        runtime.spawn(async move { unlock(&*store, &uid, device, &lock).await });
    }
}

/// Releases a mint lock; a failure is logged (the lock runs out by itself, until then the
/// device's next mint waits).
async fn unlock(store: &dyn TokenStore, uid: &Uid, device: DeviceKey, lock: &MintLock) {
    if let Err(error) = store.unlock_mint(uid, device, lock).await {
        log_store_failure(store, "a mint lock could not be released", &error);
    }
}

/// A store operation with no request waiting for it failed: counted, and logged.
fn log_store_failure(store: &dyn TokenStore, what: &str, error: &StoreError) {
    telemetry::store_error(store.backend());
    tracing::error!(target: "cometgate::vend", "{what}: {error}");
}

/// Whether a failed delete is worth another try: not when CometChat refused it for good (a
/// `4xx` other than `429`), which would only spend the budget on every sweep.
fn keep_for_retry(retired: &Retired, error: &VendError) -> bool {
    let permanent = error
        .upstream_status()
        .is_some_and(|s| (400..500).contains(&s) && s != 429);
    if permanent {
        tracing::error!(
            target: "cometgate::vend",
            uid = retired.uid.as_str(),
            reason = retired.reason.as_str(),
            "CometChat refused to delete a retired token; it stays valid until flushed: {}",
            error.log_detail()
        );
    } else {
        tracing::warn!(
            target: "cometgate::vend",
            uid = retired.uid.as_str(),
            reason = retired.reason.as_str(),
            "could not delete a retired token, the sweep retries: {}",
            error.log_detail()
        );
    }
    !permanent
}
