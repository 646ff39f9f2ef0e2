//! [`Admission`]: the synchronous core of the runtime. Per-user and global concurrency limits
//! with bounded FIFO wait queues, the registry of active runs keyed by (user, run), and the
//! request counters, in one structure.
//!
//! Everything about one user lives in one shard (chosen by hashing the user id), under that
//! shard's lock: admitting a run (duplicate check, registry entry, per-user slot, counters) and
//! finishing it each take that one lock once. Different users mostly take different locks. The
//! global limit is an atomic counter with a lease per thread ([`global`]): a thread that runs
//! one request after another keeps reusing the same global slot without writing the counter;
//! only when the limit is exhausted do runs queue, FIFO, on a separate lock.
//!
//! Waiting is fair and cheap: every released slot is handed to exactly one waiter - the oldest
//! of that user for a per-user slot, the oldest of all for a global slot - and only that waiter
//! is woken. Each user's queue is bounded ([`Limits::max_queued`]); past it a run is refused
//! with [`LimitKind::Queue`], before it is registered.
//!
//! A user's entry (slots, queue, runs, counters) is kept while the user has something admitted
//! or queued, and afterwards only for its counters, at most [`Limits::max_tracked_users`] in
//! all, least recently seen forgotten first: the maps never grow with users that have gone idle.
//! This module is tokio-free and uses the
//! `sync` shim, so `tests/loom_core.rs` model-checks it.

use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll, Waker};

use crate::error::LimitKind;
use crate::ids::{RunId, UserId};
use crate::metrics::{MetricsSnapshot, Outcome};

mod global;
mod shard;

use crate::sync::{AtomicBool, AtomicUsize, Mutex, lock, remember_waker};
use global::{ACTIVE_MASK, GlobalSlots};
use shard::{ShardState, UserEntry, finished, started};

#[cfg(not(loom))]
const SHARDS: usize = 32;
#[cfg(loom)]
const SHARDS: usize = 2;

/// The limits an [`Admission`] enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Runs one user may execute at once.
    pub per_user: usize,
    /// Runs that may execute at once in total.
    pub global: usize,
    /// Runs one user may have waiting for a per-user slot; `0` refuses at once at the limit.
    pub max_queued: usize,
    /// Users whose counters are kept individually.
    pub max_tracked_users: usize,
}

/// Why [`Admission::enter`] refused a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This (user, run) is already registered.
    Duplicate,
    /// A limit is reached (and waiting is not allowed, or the user's queue is full).
    Limit(LimitKind),
    /// [`Admission::shut_down`] was called.
    ShutDown,
}

/// A run's place in the admission process; give it back to [`Admission::leave`].
#[derive(Debug)]
#[must_use = "every admitted run must leave"]
pub enum Stage {
    /// Holds a per-user and a global slot: executing.
    Running,
    /// Queued for a per-user slot ([`WaitSlot::poll`]).
    WaitingForUser(Arc<WaitSlot>),
    /// Holds a per-user slot, queued for a global one ([`WaitSlot::poll`]).
    WaitingForGlobal(Arc<WaitSlot>),
}

/// A queued run's place: granted exactly once, by the release that hands it a slot.
#[derive(Debug, Default)]
pub struct WaitSlot {
    state: Mutex<WaitState>,
}

#[derive(Debug, Default)]
struct WaitState {
    granted: bool,
    waker: Option<Waker>,
}

impl WaitSlot {
    /// `Ready` once a release handed this waiter its slot; otherwise remembers `cx`'s waker.
    pub fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.state);
        if state.granted {
            return Poll::Ready(());
        }
        remember_waker(&mut state.waker, cx);
        Poll::Pending
    }

    /// Marks the slot granted; returns the waker to call once no lock is held.
    fn grant(&self) -> Option<Waker> {
        let mut state = lock(&self.state);
        state.granted = true;
        state.waker.take()
    }

    fn is_granted(&self) -> bool {
        lock(&self.state).granted
    }
}

/// One shard, on its own cache lines so that two shards' locks never share one.
#[derive(Debug)]
#[repr(align(128))]
struct Shard<V> {
    state: Mutex<ShardState<V>>,
}

/// The admission core; `V` is what the registry keeps per run.
///
/// ```
/// use isolate::admission::{Admission, Limits, Refusal, Stage};
/// use isolate::metrics::Outcome;
/// use isolate::{LimitKind, RunId, UserId};
///
/// let limits = Limits { per_user: 1, global: 10, max_queued: 1, max_tracked_users: 100 };
/// let admission = Admission::new(limits);
/// let alice = UserId::new("alice").unwrap();
/// let (r1, r2, r3) = (RunId::new("r-1").unwrap(), RunId::new("r-2").unwrap(), RunId::new("r-3").unwrap());
///
/// let first = admission.enter(&alice, &r1, |_| "first", true).unwrap();
/// assert!(matches!(first, Stage::Running));
/// let second = admission.enter(&alice, &r2, |_| "second", true).unwrap(); // queued
/// assert!(matches!(second, Stage::WaitingForUser(_)));
/// // The queue holds one: the third is refused before it is registered.
/// let third = admission.enter(&alice, &r3, |_| "third", true);
/// assert_eq!(third.unwrap_err(), Refusal::Limit(LimitKind::Queue { limit: 1 }));
/// assert_eq!(admission.list(&alice).len(), 2);
///
/// admission.leave(&alice, &r1, first, Outcome::Completed); // hands alice's slot to `second`
/// let second = admission.resume(&alice, second); // granted: now it needs a global slot
/// assert!(matches!(second, Stage::Running));
/// admission.leave(&alice, &r2, second, Outcome::Completed);
/// assert_eq!((admission.registered(), admission.users(), admission.active()), (0, 0, 0));
/// ```
#[derive(Debug)]
pub struct Admission<V> {
    limits: Limits,
    shards: Box<[Shard<V>]>,
    global: GlobalSlots,
    shut_down: AtomicBool,
    queued: AtomicUsize,
    wait_polls: AtomicUsize,
}

impl<V> Admission<V> {
    /// An empty core enforcing `limits` (zero limits are raised to 1).
    pub fn new(limits: Limits) -> Self {
        let limits = Limits {
            per_user: limits.per_user.max(1),
            global: limits.global.clamp(1, ACTIVE_MASK as usize),
            max_queued: limits.max_queued,
            max_tracked_users: limits.max_tracked_users.max(1),
        };
        // Fewer shards than tracked users, so the per-shard caps add up to at most the total.
        let shard_count = limits.max_tracked_users.clamp(1, SHARDS);
        let per_shard_users = limits.max_tracked_users / shard_count;
        let shards = (0..shard_count)
            .map(|_| Shard {
                state: Mutex::new(ShardState::new(per_shard_users)),
            })
            .collect();
        Self {
            limits,
            shards,
            global: GlobalSlots::new(limits.global),
            shut_down: AtomicBool::new(false),
            queued: AtomicUsize::new(0),
            wait_polls: AtomicUsize::new(0),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// `user`'s shard, picked by bits 16 to 47 of the id's hash (the shard maps use the low
    /// bits for buckets and the top 7 as tags), scaled to the shard count without a division.
    fn shard(&self, user: &UserId) -> &Shard<V> {
        let bits = (user.prehash() >> 16) & 0xffff_ffff;
        let index = (bits * self.shards.len() as u64) >> 32;
        &self.shards[index as usize]
    }

    /// Registers `value` for (`user`, `run`) and takes slots for it: both at once when free,
    /// else (if `wait`) a place in the user's queue or the global queue.
    ///
    /// # Errors
    /// [`Refusal::Duplicate`] if (user, run) is registered; [`Refusal::Limit`] at a limit when
    /// not waiting, or when the user's queue is full; [`Refusal::ShutDown`] after
    /// [`shut_down`](Self::shut_down). A refused run leaves nothing registered.
    /// `value` makes the registry's value, told whether the run executes at once.
    pub fn enter(
        &self,
        user: &UserId,
        run: &RunId,
        value: impl FnOnce(bool) -> V,
        wait: bool,
    ) -> Result<Stage, Refusal> {
        let shard = self.shard(user);
        let mut state = lock(&shard.state);
        let (total, entry) = state.arrive(user);
        if let Some(refusal) = self.check_entry(entry, run, wait) {
            let outcome = match refusal {
                Refusal::Limit(_) => Outcome::Rejected,
                Refusal::ShutDown => Outcome::Cancelled,
                Refusal::Duplicate => Outcome::Failed,
            };
            finished(total, entry, outcome, false, 0);
            state.settle(user);
            return Err(refusal);
        }
        let stage = if entry.held < self.limits.per_user {
            entry.held += 1;
            match self.global.take(wait) {
                Some(stage) => stage,
                None => {
                    entry.release_slot();
                    finished(total, entry, Outcome::Rejected, false, 0);
                    state.settle(user);
                    return Err(Refusal::Limit(LimitKind::Global {
                        limit: self.limits.global,
                    }));
                }
            }
        } else {
            let slot = Arc::new(WaitSlot::default());
            entry.queue.push_back(Arc::clone(&slot));
            Stage::WaitingForUser(slot)
        };
        let running = matches!(stage, Stage::Running);
        if running {
            started(total, entry);
        }
        entry.runs.push((run.clone(), value(running)));
        drop(state);
        if matches!(stage, Stage::WaitingForGlobal(_)) {
            self.global.reclaim_for_waiters();
        }
        Ok(stage)
    }

    fn check_entry(&self, entry: &UserEntry<V>, run: &RunId, wait: bool) -> Option<Refusal> {
        if self.shut_down.load(SeqCst) {
            return Some(Refusal::ShutDown);
        }
        if entry.position(run).is_some() {
            return Some(Refusal::Duplicate);
        }
        if entry.held < self.limits.per_user && entry.queue.is_empty() {
            return None; // the global limit is checked when the slot is taken
        }
        if !wait {
            return Some(Refusal::Limit(LimitKind::PerUser {
                limit: self.limits.per_user,
            }));
        }
        if entry.queue.len() >= self.limits.max_queued {
            return Some(Refusal::Limit(LimitKind::Queue {
                limit: self.limits.max_queued,
            }));
        }
        None
    }

    /// Records that a run waited for a slot and was polled `polls` times while waiting.
    pub fn record_wait(&self, polls: usize) {
        self.queued.fetch_add(1, SeqCst);
        self.wait_polls.fetch_add(polls, SeqCst);
    }

    /// Moves a run on after its wait was granted: from `WaitingForUser` to the global slot
    /// (taken, or queued for), from `WaitingForGlobal` to `Running`. A stage whose slot was not
    /// granted yet is returned unchanged.
    pub fn resume(&self, user: &UserId, stage: Stage) -> Stage {
        let next = match stage {
            Stage::WaitingForUser(slot) if slot.is_granted() => {
                if self.global.try_take() {
                    Stage::Running
                } else {
                    let next = self.global.queue();
                    if matches!(next, Stage::WaitingForGlobal(_)) {
                        self.global.reclaim_for_waiters();
                    }
                    next
                }
            }
            Stage::WaitingForGlobal(slot) if slot.is_granted() => Stage::Running,
            other => return other,
        };
        if matches!(next, Stage::Running) {
            let mut state = lock(&self.shard(user).state);
            let shard::ShardState { users, total, .. } = &mut *state;
            if let Some(entry) = users.get_mut(user) {
                started(total, entry);
            }
        }
        next
    }

    /// Removes (user, run) and gives back what its `stage` holds, handing freed slots to the
    /// oldest waiters; records `outcome`. Call exactly once per admitted run, whatever happened.
    pub fn leave(&self, user: &UserId, run: &RunId, stage: Stage, outcome: Outcome) {
        self.leave_with(user, run, stage, outcome, 0);
    }

    /// [`leave`](Self::leave), also counting `contained_panics` of the run.
    pub fn leave_with(
        &self,
        user: &UserId,
        run: &RunId,
        stage: Stage,
        outcome: Outcome,
        contained_panics: u64,
    ) {
        // What the run holds, settling races with a release that granted its wait meanwhile.
        let (holds_user, holds_global) = match &stage {
            Stage::Running => (true, true),
            Stage::WaitingForUser(_) => (false, false),
            // Granted meanwhile if no longer queued: the slot is then ours to give back.
            Stage::WaitingForGlobal(slot) => (true, !self.global.leave_queue(slot)),
        };
        let was_active = matches!(stage, Stage::Running);
        // Dropped after the shard's lock is released: it may hold the request's last handles.
        let mut removed = None;
        let mut user_waker = None;
        {
            let mut state = lock(&self.shard(user).state);
            let shard::ShardState { users, total, .. } = &mut *state;
            if let Some(entry) = users.get_mut(user) {
                if let Some(index) = entry.position(run) {
                    removed = Some(entry.runs.swap_remove(index));
                }
                let mut holds_user = holds_user;
                if let Stage::WaitingForUser(slot) = &stage {
                    let before = entry.queue.len();
                    entry.queue.retain(|s| !Arc::ptr_eq(s, slot));
                    holds_user = entry.queue.len() == before; // not queued: it was granted
                }
                if holds_user {
                    user_waker = entry.release_slot();
                }
                finished(total, entry, outcome, was_active, contained_panics);
            }
            state.settle(user);
        }
        let global_waker = if holds_global {
            self.global.release()
        } else {
            None
        };
        if let Some(waker) = user_waker {
            waker.wake();
        }
        if let Some(waker) = global_waker {
            waker.wake();
        }
        drop(removed);
    }

    /// Applies `f` to the value of (`user`, `run`) under its shard's lock (keep `f` short).
    pub fn with<R>(&self, user: &UserId, run: &RunId, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        let mut state = lock(&self.shard(user).state);
        let entry = state.users.get_mut(user)?;
        let index = entry.position(run)?;
        Some(f(&mut entry.runs[index].1))
    }

    /// `user`'s registered runs, sorted by run id.
    pub fn list(&self, user: &UserId) -> Vec<(RunId, V)>
    where
        V: Clone,
    {
        self.list_with(user, V::clone)
    }

    /// `f` of each of `user`'s registered runs (applied under the shard's lock, so keep it
    /// short), sorted by run id.
    pub fn list_with<R>(&self, user: &UserId, f: impl Fn(&V) -> R) -> Vec<(RunId, R)> {
        let state = lock(&self.shard(user).state);
        let mut runs: Vec<(RunId, R)> = state.users.get(user).map_or_else(Vec::new, |entry| {
            entry.runs.iter().map(|(r, v)| (r.clone(), f(v))).collect()
        });
        drop(state);
        runs.sort_by(|a, b| a.0.cmp(&b.0));
        runs
    }

    /// Refuses every later [`enter`](Self::enter) and returns every registered value, so the
    /// caller can cancel them.
    pub fn shut_down(&self) -> Vec<V>
    where
        V: Clone,
    {
        self.shut_down_with(V::clone)
    }

    /// Refuses every later [`enter`](Self::enter) and returns `f` of every registered value
    /// (applied under its shard's lock, so keep it short).
    pub fn shut_down_with<R>(&self, f: impl Fn(&V) -> R) -> Vec<R> {
        self.shut_down.store(true, SeqCst);
        self.shards
            .iter()
            .flat_map(|shard| {
                let state = lock(&shard.state);
                state
                    .users
                    .values()
                    .flat_map(|entry| entry.runs.iter().map(|(_, v)| f(v)))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Registered runs, all users (a count, no contents).
    pub fn registered(&self) -> usize {
        self.sum(|s| s.users.values().map(|e| e.runs.len()).sum())
    }

    /// Users with a run admitted or queued.
    pub fn users(&self) -> usize {
        self.sum(|s| s.users.values().filter(|e| e.busy()).count())
    }

    /// Runs queued for a per-user or the global slot.
    pub fn waiting(&self) -> usize {
        self.sum(|s| s.users.values().map(|u| u.queue.len()).sum::<usize>()) + self.global.waiting()
    }

    /// Global slots held by runs (not counting slots leased idle to threads).
    pub fn active(&self) -> usize {
        self.global.active()
    }

    /// Per-user slots `user` holds.
    pub fn held_by(&self, user: &UserId) -> usize {
        lock(&self.shard(user).state)
            .users
            .get(user)
            .map_or(0, |u| u.held)
    }

    /// Global counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        let mut sum = MetricsSnapshot::default();
        for shard in &*self.shards {
            let t = lock(&shard.state).total;
            sum.created += t.created;
            sum.in_flight += t.in_flight;
            sum.completed += t.completed;
            sum.failed += t.failed;
            sum.timed_out += t.timed_out;
            sum.cancelled += t.cancelled;
            sum.rejected += t.rejected;
            sum.panicked += t.panicked;
            sum.contained_panics += t.contained_panics;
        }
        sum.active = self.global.active() as u64;
        sum.peak_concurrency = self.global.peak() as u64;
        sum.queued = self.queued.load(SeqCst) as u64;
        sum.wait_polls = self.wait_polls.load(SeqCst) as u64;
        sum
    }

    /// `user`'s counters, if tracked.
    pub fn user_metrics(&self, user: &UserId) -> Option<MetricsSnapshot> {
        lock(&self.shard(user).state)
            .users
            .get(user)
            .map(|e| e.counters)
    }

    /// Users with individual counters.
    pub fn tracked_users(&self) -> usize {
        self.sum(|s| s.users.len())
    }

    fn sum(&self, f: impl Fn(&ShardState<V>) -> usize) -> usize {
        self.shards.iter().map(|shard| f(&lock(&shard.state))).sum()
    }
}
