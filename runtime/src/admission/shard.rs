//! One shard of the admission core: the users hashed to it, each with its slots, wait queue,
//! registered runs and counters in one entry, so admitting or finishing a run is one map lookup.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::task::Waker;

use crate::ids::{RunId, UserId};
use crate::metrics::{MetricsSnapshot, Outcome};

use super::WaitSlot;

/// Hashes keys of the shard maps: fast, and seeded per map so that colliding ids cannot be
/// prepared in advance.
pub(super) type MapHasher = foldhash::fast::RandomState;

/// Everything about one user in one place.
#[derive(Debug)]
pub(super) struct UserEntry<V> {
    /// Per-user slots held (executing or waiting for a global slot).
    pub(super) held: usize,
    /// Runs waiting for a per-user slot, oldest first.
    pub(super) queue: VecDeque<Arc<WaitSlot>>,
    /// Registered runs (admitted or queued); a few per user, so a vector beats a map.
    pub(super) runs: Vec<(RunId, V)>,
    pub(super) counters: MetricsSnapshot,
    last_used: u64,
}

impl<V> UserEntry<V> {
    fn new() -> Self {
        Self {
            held: 0,
            queue: VecDeque::new(),
            runs: Vec::new(),
            counters: MetricsSnapshot::default(),
            last_used: 0,
        }
    }

    /// Holds, awaits or runs something (so its entry must stay).
    pub(super) fn busy(&self) -> bool {
        self.held > 0 || !self.queue.is_empty() || !self.runs.is_empty()
    }

    pub(super) fn position(&self, run: &RunId) -> Option<usize> {
        self.runs.iter().position(|(r, _)| r == run)
    }

    /// Gives back one per-user slot: to the oldest waiter if any (returning its waker), else to
    /// the pool.
    pub(super) fn release_slot(&mut self) -> Option<Waker> {
        match self.queue.pop_front() {
            Some(next) => next.grant(), // the slot passes on: `held` is unchanged
            None => {
                self.held = self.held.saturating_sub(1);
                None
            }
        }
    }
}

/// The users of one shard and the shard's share of the global counters.
///
/// Users are kept while busy, and afterwards for their counters, up to `max_users`: a new user
/// beyond that first forgets the least recently seen idle users (a quarter of the capacity at a
/// time, so the cost is amortised).
#[derive(Debug)]
pub(super) struct ShardState<V> {
    pub(super) users: HashMap<UserId, UserEntry<V>, MapHasher>,
    pub(super) total: MetricsSnapshot,
    clock: u64,
    max_users: usize,
}

impl<V> ShardState<V> {
    pub(super) fn new(max_users: usize) -> Self {
        Self {
            users: HashMap::with_hasher(MapHasher::default()),
            total: MetricsSnapshot::default(),
            clock: 0,
            max_users: max_users.max(1),
        }
    }

    /// `user`'s entry, made if needed, with a new request counted.
    pub(super) fn arrive(&mut self, user: &UserId) -> (&mut MetricsSnapshot, &mut UserEntry<V>) {
        if self.users.len() >= self.max_users && !self.users.contains_key(user) {
            self.evict_idle();
        }
        self.clock += 1;
        let entry = self
            .users
            .entry(user.clone())
            .or_insert_with(UserEntry::new);
        entry.last_used = self.clock;
        for counters in [&mut self.total, &mut entry.counters] {
            counters.created += 1;
            counters.in_flight += 1;
        }
        (&mut self.total, entry)
    }

    /// Drops `user`'s entry if it is idle and the shard is over its capacity.
    pub(super) fn settle(&mut self, user: &UserId) {
        if self.users.len() > self.max_users && self.users.get(user).is_some_and(|e| !e.busy()) {
            self.users.remove(user);
        }
    }

    fn evict_idle(&mut self) {
        let target = self.max_users - self.max_users / 4;
        let excess = self.users.len().saturating_sub(target).max(1);
        let mut idle: Vec<(u64, UserId)> = self
            .users
            .iter()
            .filter(|(_, e)| !e.busy() && e.counters.in_flight == 0)
            .map(|(k, e)| (e.last_used, k.clone()))
            .collect();
        if idle.len() > excess {
            idle.select_nth_unstable_by_key(excess, |(t, _)| *t);
            idle.truncate(excess);
        }
        for (_, user) in idle {
            self.users.remove(&user);
        }
    }
}

/// Counts a run of `entry`'s user as started.
pub(super) fn started(total: &mut MetricsSnapshot, entry: &mut UserEntry<impl Sized>) {
    total.start();
    entry.counters.start();
}

/// Counts a run of `entry`'s user as finished with `outcome`.
pub(super) fn finished(
    total: &mut MetricsSnapshot,
    entry: &mut UserEntry<impl Sized>,
    outcome: Outcome,
    was_active: bool,
    contained_panics: u64,
) {
    for counters in [total, &mut entry.counters] {
        counters.finish(outcome, was_active);
        counters.contained_panics += contained_panics;
    }
}
