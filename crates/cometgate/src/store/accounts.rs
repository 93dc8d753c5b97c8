//! The account store: what the gate knows of each account's history, so that user events that
//! arrive late, twice or out of order still leave CometChat as the newest events describe, and a
//! deleted account stays deleted.
//!
//! [`AccountRecord::apply`] is the whole ordering rule, written once; a store only keeps records
//! and applies it atomically per UID ([`AccountStore::record_change`]). Times are Unix
//! milliseconds.
//!
//! Each change comes with a [`ChangeTime`]: the event's own time (exact), or only when it was
//! delivered (a retry carries a later one). A delivery-dated deletion deletes everything known
//! so far; a delivery-dated creation never lifts a tombstone (its retry would look newer than
//! the deletion it lost to).
//!
//! The rule: the account is deleted when a deletion is known and no creation newer than it;
//! otherwise it is live with the newest profile of any `created` or `updated` event. So an
//! update older than a deletion never brings an account back, only a newer creation does; an
//! update for a user CometChat lacks creates it; equal times favour the deletion. The verdict
//! for each event is what moves CometChat from the state before it to the state after it; an
//! event equal to the newest is applied again (a redelivery after a failure must complete), a
//! deletion of a deleted account is run again (idempotent at CometChat).
//!
//! Nothing is lost when CometChat fails: a record stays *unsettled* from a verdict until the
//! gate [settles](AccountStore::settle) it once CometChat reflects it, and meanwhile every
//! change of the account, even one the rule would ignore, re-applies the record's state. So a
//! failed change completes with the account's next delivery, whatever that delivery's date.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::store::{StoreBackend, StoreError};

fn max(a: Option<u64>, b: u64) -> Option<u64> {
    Some(a.map_or(b, |a| a.max(b)))
}
use crate::uid::Uid;
use crate::webhook::{Profile, UserChange};

/// One account's history, as far as ordering needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountRecord {
    /// The newest deletion seen.
    pub deleted_at: Option<u64>,
    /// The newest creation seen.
    pub created_at: Option<u64>,
    /// The newest profile seen (`created` or `updated`) and its time. While the account is
    /// deleted it is kept only if newer than the deletion, for a creation that may lift it.
    pub newest: Option<(u64, Profile)>,
    /// A verdict was handed out and not yet [settled](Self::settle): CometChat may not reflect
    /// the record (its call failed). Until it is settled, even an older event gets the verdict
    /// of the record's state, so a failed change completes with the next delivery for the
    /// account, whatever that delivery's date.
    pub unsettled: bool,
}

/// When a change happened, as far as the gate can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeTime {
    /// The event's own time, Unix ms: the payload's `updatedAt` / `updated_at` / CloudEvents
    /// `time`, or the app's own call through the Rust API.
    Event(u64),
    /// Only when it was delivered, Unix ms (the signed delivery timestamp, or the arrival): a
    /// retry of the same event carries a later one.
    Delivery(u64),
}

impl ChangeTime {
    /// The time in Unix ms.
    pub const fn millis(self) -> u64 {
        match self {
            ChangeTime::Event(at) | ChangeTime::Delivery(at) => at,
        }
    }
}

/// What the gate must do for an event, once [`AccountRecord::apply`] has ordered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Create or update the CometChat user with this profile.
    Upsert(Profile),
    /// Revoke the user's tokens and delete the CometChat user (again, if it was).
    Delete,
    /// Older than what is known: acknowledge, change nothing.
    Ignore,
}

impl AccountRecord {
    /// Whether the account is deleted (tombstoned): a deletion is known and no creation newer
    /// than it.
    ///
    /// ```
    /// use cometgate::store::{AccountRecord, ChangeTime, Verdict};
    /// use cometgate::webhook::{Profile, UserChange};
    ///
    /// let mut record = AccountRecord::default();
    /// let at = ChangeTime::Event;
    /// assert_eq!(record.apply(UserChange::Deleted, at(2_000), Profile::default()), Verdict::Delete);
    /// assert!(record.is_deleted());
    /// record.settle(&Verdict::Delete); // CometChat deleted the user
    /// // A late update from before the deletion does not bring the account back.
    /// assert_eq!(record.apply(UserChange::Updated, at(1_000), Profile::default()), Verdict::Ignore);
    /// // A creation after it does.
    /// assert!(matches!(record.apply(UserChange::Created, at(3_000), Profile::default()), Verdict::Upsert(_)));
    /// assert!(!record.is_deleted());
    /// ```
    pub fn is_deleted(&self) -> bool {
        self.deleted_at
            .is_some_and(|d| self.created_at.is_none_or(|c| c <= d))
    }

    /// Orders `change` at `time` with `profile` against the record, updates the record, and
    /// says what to do. The rule is in the [module docs](crate::store::accounts); on an
    /// unsettled record an event that would change nothing re-applies the record's state
    /// (see [`unsettled`](Self::unsettled)).
    pub fn apply(&mut self, change: UserChange, time: ChangeTime, profile: Profile) -> Verdict {
        let verdict = self.apply_ordered(change, time, profile);
        self.settle_aware(verdict)
    }

    /// The ordering rule alone.
    fn apply_ordered(&mut self, change: UserChange, time: ChangeTime, profile: Profile) -> Verdict {
        let was_live = !self.is_deleted();
        let at = time.millis();
        match (change, time) {
            (UserChange::Deleted, ChangeTime::Event(_)) => {
                self.deleted_at = max(self.deleted_at, at)
            }
            (UserChange::Deleted, ChangeTime::Delivery(_)) => {
                // Only its delivery is dated: it deletes everything known so far.
                let known = max(self.created_at, self.newest.as_ref().map_or(0, |(t, _)| *t));
                self.deleted_at = max(self.deleted_at, at.max(known.unwrap_or(0)));
            }
            (UserChange::Created, ChangeTime::Event(_)) => {
                self.created_at = max(self.created_at, at);
                self.offer(at, profile);
            }
            // A delivery-dated creation counts as an update: it never lifts a tombstone.
            (UserChange::Created, ChangeTime::Delivery(_)) | (UserChange::Updated, _) => {
                self.offer(at, profile);
            }
        }
        if self.is_deleted() {
            if let (Some(d), Some((t, _))) = (self.deleted_at, &self.newest)
                && *t <= d
            {
                self.newest = None;
            }
            return match change {
                UserChange::Deleted => Verdict::Delete,
                UserChange::Created | UserChange::Updated => Verdict::Ignore,
            };
        }
        let this_is_newest =
            change != UserChange::Deleted && self.newest.as_ref().is_some_and(|(t, _)| *t == at);
        // A redelivered creation that lifted a tombstone must complete, though a newer update
        // is the profile it applies.
        let lifting_again = change == UserChange::Created && self.created_at == Some(at);
        match &self.newest {
            Some((_, newest)) if !was_live || this_is_newest || lifting_again => {
                Verdict::Upsert(newest.clone())
            }
            _ => Verdict::Ignore,
        }
    }

    /// [`apply_ordered`](Self::apply_ordered), then: an event that changes nothing on an
    /// unsettled record gets the verdict of the record's state (the earlier change it stands
    /// behind may have failed at CometChat), and any verdict but `Ignore` leaves the record
    /// unsettled until [`settle`](Self::settle).
    fn settle_aware(&mut self, verdict: Verdict) -> Verdict {
        let verdict = match verdict {
            Verdict::Ignore if self.unsettled => self.state(),
            verdict => verdict,
        };
        if verdict != Verdict::Ignore {
            self.unsettled = true;
        }
        verdict
    }

    /// What CometChat must hold for the record: the user deleted, the newest profile, or
    /// nothing known.
    fn state(&self) -> Verdict {
        match &self.newest {
            _ if self.is_deleted() => Verdict::Delete,
            Some((_, profile)) => Verdict::Upsert(profile.clone()),
            None => Verdict::Ignore,
        }
    }

    /// CometChat now reflects `applied` (a verdict of [`apply`](Self::apply)): the record is
    /// settled if that is still its state (a newer change handed out since settles itself).
    /// Returns whether the record changed.
    ///
    /// ```
    /// use cometgate::store::{AccountRecord, ChangeTime, Verdict};
    /// use cometgate::webhook::{Profile, UserChange};
    ///
    /// let mut record = AccountRecord::default();
    /// let named = |n: &str| Profile { name: Some(n.into()), avatar: None };
    /// let verdict = record.apply(UserChange::Updated, ChangeTime::Event(2_000), named("new"));
    /// // Its CometChat call failed: an older event now re-applies the newest state.
    /// assert_eq!(record.apply(UserChange::Updated, ChangeTime::Event(1_000), named("old")), verdict);
    /// assert!(record.settle(&verdict));
    /// assert_eq!(record.apply(UserChange::Updated, ChangeTime::Event(1_000), named("old")), Verdict::Ignore);
    /// ```
    pub fn settle(&mut self, applied: &Verdict) -> bool {
        if self.unsettled && self.state() == *applied {
            self.unsettled = false;
            return true;
        }
        false
    }

    fn offer(&mut self, at: u64, profile: Profile) {
        if self.newest.as_ref().is_none_or(|(t, _)| at >= *t) {
            self.newest = Some((at, profile));
        }
    }
}

/// Where the gate keeps account records (tombstones among them) and the ids of webhook
/// deliveries it has completed. Implement it for a shared backend (`cometgate-redis`);
/// [`MemoryAccountStore`] is the embedded default.
///
/// ```
/// use cometgate::Uid;
/// use cometgate::store::{AccountStore, ChangeTime, MemoryAccountStore, Verdict};
/// use cometgate::webhook::{Profile, UserChange};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryAccountStore::new();
/// let uid = Uid::parse("ada").unwrap();
/// let at = ChangeTime::Event(1_700_000_000_000);
/// let verdict = store.record_change(&uid, UserChange::Deleted, at, Profile::default()).await?;
/// assert_eq!(verdict, Verdict::Delete);
/// assert!(store.is_deleted(&uid).await?);
/// # Ok::<(), cometgate::store::StoreError>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait AccountStore: fmt::Debug + Send + Sync + 'static {
    /// Applies [`AccountRecord::apply`] to `uid`'s record atomically and returns its verdict.
    async fn record_change(
        &self,
        uid: &Uid,
        change: UserChange,
        time: ChangeTime,
        profile: Profile,
    ) -> Result<Verdict, StoreError>;

    /// Whether `uid`'s account is deleted ([`AccountRecord::is_deleted`]).
    async fn is_deleted(&self, uid: &Uid) -> Result<bool, StoreError>;

    /// CometChat now reflects `applied`, a verdict [`record_change`](Self::record_change)
    /// returned: applies [`AccountRecord::settle`] to `uid`'s record atomically. Until then
    /// every change of the account re-applies its state, so a failed change is completed by the
    /// next delivery (the default does nothing: changes stay idempotent, but a failed one may
    /// then wait for a newer event).
    async fn settle(&self, uid: &Uid, applied: &Verdict) -> Result<(), StoreError> {
        let _ = (uid, applied);
        Ok(())
    }

    /// Whether the delivery `key` (source and delivery id) was completed and is still
    /// remembered at `now` (Unix ms).
    async fn delivery_done(&self, key: &str, now: u64) -> Result<bool, StoreError>;

    /// Remembers that the delivery `key` was completed, until `until` (Unix ms).
    async fn complete_delivery(&self, key: &str, until: u64) -> Result<(), StoreError>;

    /// Which kind of store this is, for metrics ([`StoreBackend::Custom`] unless overridden).
    fn backend(&self) -> StoreBackend {
        StoreBackend::Custom
    }
}

#[async_trait]
impl<S: AccountStore> AccountStore for std::sync::Arc<S> {
    async fn record_change(
        &self,
        uid: &Uid,
        change: UserChange,
        time: ChangeTime,
        profile: Profile,
    ) -> Result<Verdict, StoreError> {
        (**self).record_change(uid, change, time, profile).await
    }

    async fn is_deleted(&self, uid: &Uid) -> Result<bool, StoreError> {
        (**self).is_deleted(uid).await
    }

    async fn settle(&self, uid: &Uid, applied: &Verdict) -> Result<(), StoreError> {
        (**self).settle(uid, applied).await
    }

    async fn delivery_done(&self, key: &str, now: u64) -> Result<bool, StoreError> {
        (**self).delivery_done(key, now).await
    }

    async fn complete_delivery(&self, key: &str, until: u64) -> Result<(), StoreError> {
        (**self).complete_delivery(key, until).await
    }

    fn backend(&self) -> StoreBackend {
        (**self).backend()
    }
}

/// The embedded [`AccountStore`]: one process, lost on restart (like [`MemoryStore`](super::MemoryStore);
/// use a shared store to keep tombstones across restarts and replicas).
///
/// Records of accounts that were ever deleted are kept for good: dropping one would let the
/// next token request re-create the account, or a replayed deletion delete a re-created one.
/// Records of other accounts (which only order profile updates) and completed delivery ids
/// (an optimisation: every change is idempotent) are bounded by [`with_capacity`](Self::with_capacity); the oldest
/// go first.
pub struct MemoryAccountStore {
    state: Mutex<State>,
    capacity: usize,
    /// How many records are deleted: while none is, the token route's tombstone check takes
    /// no lock.
    deleted: std::sync::atomic::AtomicUsize,
}

struct State {
    records: HashMap<Uid, AccountRecord>,
    /// Live records in the order they were last written (oldest first), for eviction.
    live_order: lru::LruCache<Uid, ()>,
    deliveries: lru::LruCache<Box<str>, u64>,
}

impl MemoryAccountStore {
    /// Live-record and delivery capacity unless [`with_capacity`](Self::with_capacity) says
    /// otherwise.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store that remembers up to [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY) live
    /// accounts and as many deliveries.
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// A store that remembers up to `capacity` (at least 1) live accounts and as many
    /// deliveries; deleted accounts are always kept.
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            state: Mutex::new(State {
                records: HashMap::new(),
                live_order: lru::LruCache::unbounded(),
                deliveries: lru::LruCache::unbounded(),
            }),
            capacity,
            deleted: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// How many deleted accounts the store holds.
    pub fn tombstones(&self) -> usize {
        // Kept by every change, so the token route's check reads it without a scan or a lock.
        self.deleted.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere cannot leave a record half-written: each change is one assignment.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Default for MemoryAccountStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryAccountStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("MemoryAccountStore")
            .field("accounts", &state.records.len())
            .field("deliveries", &state.deliveries.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

#[async_trait]
impl AccountStore for MemoryAccountStore {
    async fn record_change(
        &self,
        uid: &Uid,
        change: UserChange,
        time: ChangeTime,
        profile: Profile,
    ) -> Result<Verdict, StoreError> {
        let mut state = self.lock();
        let record = state.records.entry(uid.clone()).or_default();
        let was_deleted = record.is_deleted();
        let verdict = record.apply(change, time, profile);
        let deleted = record.is_deleted();
        match (was_deleted, deleted) {
            (false, true) => {
                self.deleted
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            (true, false) => {
                self.deleted
                    .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }
            _ => {}
        }
        // A record that ever held a deletion is history that orders later events: kept.
        if record.deleted_at.is_some() {
            state.live_order.pop(uid);
        } else {
            state.live_order.put(uid.clone(), ());
            while state.live_order.len() > self.capacity {
                if let Some((oldest, ())) = state.live_order.pop_lru() {
                    state.records.remove(&oldest);
                }
            }
        }
        Ok(verdict)
    }

    async fn settle(&self, uid: &Uid, applied: &Verdict) -> Result<(), StoreError> {
        if let Some(record) = self.lock().records.get_mut(uid) {
            record.settle(applied);
        }
        Ok(())
    }

    async fn is_deleted(&self, uid: &Uid) -> Result<bool, StoreError> {
        if self.tombstones() == 0 {
            return Ok(false);
        }
        Ok(self
            .lock()
            .records
            .get(uid)
            .is_some_and(AccountRecord::is_deleted))
    }

    async fn delivery_done(&self, key: &str, now: u64) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .deliveries
            .peek(key)
            .is_some_and(|&until| now < until))
    }

    async fn complete_delivery(&self, key: &str, until: u64) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.deliveries.put(key.into(), until);
        while state.deliveries.len() > self.capacity {
            state.deliveries.pop_lru();
        }
        Ok(())
    }

    fn backend(&self) -> StoreBackend {
        StoreBackend::Memory
    }
}

#[cfg(test)]
mod tests {
    /// Applies and settles at once, as after a CometChat call that succeeded: the ordering
    /// rule alone.
    trait Applied {
        fn applied(&mut self, change: UserChange, time: ChangeTime, profile: Profile) -> Verdict;
    }

    impl Applied for AccountRecord {
        fn applied(&mut self, change: UserChange, time: ChangeTime, profile: Profile) -> Verdict {
            let verdict = self.apply(change, time, profile);
            self.settle(&verdict);
            verdict
        }
    }

    impl MemoryAccountStore {
        async fn record_settled(
            &self,
            uid: &Uid,
            change: UserChange,
            time: ChangeTime,
            profile: Profile,
        ) -> Result<Verdict, StoreError> {
            let verdict = self.record_change(uid, change, time, profile).await?;
            self.settle(uid, &verdict).await?;
            Ok(verdict)
        }
    }

    use super::*;
    use proptest::prelude::*;

    // The cases every account store passes; below, the rule itself and this store's own.
    crate::account_store_suite!(suite, MemoryAccountStore::new);

    fn named(name: &str) -> Profile {
        Profile {
            name: Some(name.to_owned()),
            avatar: None,
        }
    }

    #[test]
    fn delivery_dated_deletions_delete_all_known_and_delivery_dated_creations_never_lift() {
        let mut r = AccountRecord::default();
        // Clerk dates a creation by its payload (ms) and a deletion only by its delivery
        // (seconds): the deletion must win though its number is smaller.
        let created = ChangeTime::Event(1_700_000_000_500);
        assert!(matches!(
            r.applied(UserChange::Created, created, named("a")),
            Verdict::Upsert(_)
        ));
        let deleted = ChangeTime::Delivery(1_700_000_000_000);
        assert_eq!(
            r.applied(UserChange::Deleted, deleted, Profile::default()),
            Verdict::Delete
        );
        assert!(r.is_deleted());
        // A creation retried with a fresh delivery timestamp does not lift the tombstone...
        let retried = ChangeTime::Delivery(1_700_000_060_000);
        assert_eq!(
            r.applied(UserChange::Created, retried, named("a")),
            Verdict::Ignore
        );
        assert!(r.is_deleted());
        // ...an exactly dated newer one does.
        let again = ChangeTime::Event(1_700_000_120_000);
        assert!(matches!(
            r.applied(UserChange::Created, again, named("b")),
            Verdict::Upsert(_)
        ));
        assert!(!r.is_deleted());
    }

    #[test]
    fn a_redelivered_lifting_creation_applies_again() {
        let mut r = AccountRecord::default();
        let at = ChangeTime::Event;
        assert_eq!(
            r.applied(UserChange::Deleted, at(20), Profile::default()),
            Verdict::Delete
        );
        assert_eq!(
            r.applied(UserChange::Updated, at(40), named("p40")),
            Verdict::Ignore
        );
        assert_eq!(
            r.applied(UserChange::Created, at(30), named("p30")),
            Verdict::Upsert(named("p40"))
        );
        // Its upsert failed upstream; the redelivery must complete it.
        assert_eq!(
            r.applied(UserChange::Created, at(30), named("p30")),
            Verdict::Upsert(named("p40"))
        );
    }

    #[tokio::test]
    async fn a_replayed_old_deletion_never_deletes_a_re_created_account_past_the_capacity() {
        let store = MemoryAccountStore::with_capacity(2);
        let a = Uid::parse("a").unwrap();
        let at = ChangeTime::Event;
        store
            .record_settled(&a, UserChange::Deleted, at(20), Profile::default())
            .await
            .unwrap();
        store
            .record_settled(&a, UserChange::Created, at(30), named("a"))
            .await
            .unwrap();
        for other in ["b", "c", "d"] {
            let uid = Uid::parse(other).unwrap();
            store
                .record_settled(&uid, UserChange::Updated, at(5), named(other))
                .await
                .unwrap();
        }
        let replay = store
            .record_settled(&a, UserChange::Deleted, at(20), Profile::default())
            .await;
        assert_eq!(replay.unwrap(), Verdict::Ignore);
    }

    #[tokio::test]
    async fn the_memory_store_counts_tombstones_and_keeps_them_past_its_capacity() {
        let store = MemoryAccountStore::with_capacity(2);
        let gone = Uid::parse("gone").unwrap();
        assert!(!store.is_deleted(&gone).await.unwrap());
        store
            .record_settled(
                &gone,
                UserChange::Deleted,
                ChangeTime::Event(10),
                Profile::default(),
            )
            .await
            .unwrap();
        assert_eq!(store.tombstones(), 1);
        for i in 0..10 {
            let uid = Uid::parse(&format!("live{i}")).unwrap();
            store
                .record_settled(&uid, UserChange::Created, ChangeTime::Event(5), named("x"))
                .await
                .unwrap();
        }
        assert!(
            store.is_deleted(&gone).await.unwrap(),
            "live records are evicted, tombstones never"
        );
        assert_eq!(store.lock().records.len(), 3);
        store
            .record_settled(
                &gone,
                UserChange::Created,
                ChangeTime::Event(20),
                named("back"),
            )
            .await
            .unwrap();
        assert_eq!(store.tombstones(), 0);
        assert!(!store.is_deleted(&gone).await.unwrap());
        store
            .record_settled(
                &gone,
                UserChange::Deleted,
                ChangeTime::Event(30),
                Profile::default(),
            )
            .await
            .unwrap();
        assert_eq!(store.tombstones(), 1);
        assert!(store.is_deleted(&gone).await.unwrap());
    }

    #[test]
    fn the_table_of_the_module_docs_holds() {
        let mut r = AccountRecord::default();
        assert_eq!(
            r.applied(UserChange::Updated, ChangeTime::Event(10), named("a")),
            Verdict::Upsert(named("a"))
        );
        assert_eq!(
            r.applied(UserChange::Updated, ChangeTime::Event(5), named("old")),
            Verdict::Ignore
        );
        assert_eq!(
            r.applied(UserChange::Updated, ChangeTime::Event(10), named("a")),
            Verdict::Upsert(named("a"))
        );
        assert_eq!(
            r.applied(
                UserChange::Deleted,
                ChangeTime::Event(20),
                Profile::default()
            ),
            Verdict::Delete
        );
        assert_eq!(
            r.applied(UserChange::Created, ChangeTime::Event(20), named("tie")),
            Verdict::Ignore
        );
        assert_eq!(
            r.applied(UserChange::Created, ChangeTime::Event(15), named("late")),
            Verdict::Ignore
        );
        assert_eq!(
            r.applied(
                UserChange::Deleted,
                ChangeTime::Event(18),
                Profile::default()
            ),
            Verdict::Delete
        );
        assert_eq!(r.deleted_at, Some(20), "the newest deletion is kept");
        // An update newer than the deletion waits for a creation older than it.
        assert_eq!(
            r.applied(UserChange::Updated, ChangeTime::Event(40), named("new")),
            Verdict::Ignore
        );
        assert!(r.is_deleted());
        assert_eq!(
            r.applied(UserChange::Created, ChangeTime::Event(30), named("c")),
            Verdict::Upsert(named("new"))
        );
        assert_eq!(r.newest, Some((40, named("new"))));
        assert_eq!(
            r.applied(
                UserChange::Deleted,
                ChangeTime::Event(25),
                Profile::default()
            ),
            Verdict::Ignore
        );
        assert!(!r.is_deleted());
    }

    #[derive(Debug, Clone)]
    struct Event {
        change: UserChange,
        at: u64,
        name: String,
    }

    /// What the events describe, read in time order: an update of a deleted account changes
    /// nothing, a creation brings it back, the newest profile wins. Ties never happen (the
    /// generator gives each event its own time).
    fn expected(mut events: Vec<Event>) -> Option<Option<String>> {
        events.sort_by_key(|e| e.at);
        let mut state: Option<Option<String>> = None; // None: absent; Some(name)
        let mut deleted = false;
        for e in events {
            match e.change {
                UserChange::Deleted => {
                    state = None;
                    deleted = true;
                }
                UserChange::Updated if deleted => {}
                UserChange::Created | UserChange::Updated => {
                    deleted = false;
                    state = Some(Some(e.name));
                }
            }
        }
        state
    }

    fn events() -> impl Strategy<Value = Vec<Event>> {
        prop::collection::vec(
            (
                prop_oneof![
                    Just(UserChange::Created),
                    Just(UserChange::Updated),
                    Just(UserChange::Deleted)
                ],
                "[a-z]{1,4}",
            ),
            1..10,
        )
        .prop_flat_map(|events| {
            let n = events.len();
            (
                Just(events),
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
            )
        })
        .prop_map(|(events, order)| {
            // Event i happened at time 10 * (i + 1); `order` is the order of arrival.
            let timed: Vec<Event> = events
                .into_iter()
                .enumerate()
                .map(|(i, (change, name))| Event {
                    change,
                    at: 10 * (i as u64 + 1),
                    name,
                })
                .collect();
            order.into_iter().map(|i| timed[i].clone()).collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever the order of arrival, applying each verdict leaves the user as the events
        /// read in time order describe; duplicates change nothing.
        #[test]
        fn any_order_of_arrival_ends_where_the_newest_events_say(
            arrivals in events(),
            duplicate in any::<prop::sample::Index>(),
        ) {
            let mut with_dup = arrivals.clone();
            let dup = duplicate.get(&arrivals).clone();
            with_dup.push(dup);
            let mut record = AccountRecord::default();
            let mut upstream: Option<Option<String>> = None;
            for e in &with_dup {
                let profile = Profile { name: Some(e.name.clone()), avatar: None };
                match record.applied(e.change, ChangeTime::Event(e.at), profile) {
                    Verdict::Upsert(p) => upstream = Some(p.name),
                    Verdict::Delete => upstream = None,
                    Verdict::Ignore => {}
                }
            }
            prop_assert_eq!(&upstream, &expected(arrivals.clone()));
            prop_assert_eq!(record.is_deleted(), upstream.is_none() && record.deleted_at.is_some());
        }
    }
}
