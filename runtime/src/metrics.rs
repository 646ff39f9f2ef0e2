//! Counts of what happened to requests, globally and per user: [`MetricsSnapshot`], kept per
//! shard of the admission core.

use std::collections::HashMap;

use crate::ids::UserId;

/// How one request ended, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Returned a value.
    Completed,
    /// Hit its timeout.
    TimedOut,
    /// Cancelled (by the runtime, its token, or its caller dropping the future).
    Cancelled,
    /// Refused by a concurrency limit.
    Rejected,
    /// Panicked.
    Panicked,
    /// Any other error (e.g. a duplicate (user, run)).
    Failed,
}

/// A point-in-time copy of request counters.
///
/// `failed` counts every request that did not complete, so when nothing is in flight
/// `created == completed + failed`; `timed_out`, `cancelled`, `rejected` and `panicked` break
/// `failed` down (the remainder failed for other reasons, such as a duplicate run id).
///
/// ```
/// use isolate::{Authority, MetricsSnapshot, Runtime, RuntimeConfig};
///
/// let m: MetricsSnapshot = Runtime::new(RuntimeConfig::default(), &Authority::new()).metrics();
/// assert_eq!(m, MetricsSnapshot::default());
/// assert_eq!(m.created, m.completed + m.failed + m.in_flight);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Requests handed to the runtime.
    pub created: u64,
    /// Requests executing now (holding a permit).
    pub active: u64,
    /// Requests created but not yet finished (waiting for a permit or executing).
    pub in_flight: u64,
    /// Requests that returned a value.
    pub completed: u64,
    /// Requests that ended with any error.
    pub failed: u64,
    /// Requests that timed out.
    pub timed_out: u64,
    /// Requests that were cancelled.
    pub cancelled: u64,
    /// Requests refused by a concurrency limit.
    pub rejected: u64,
    /// Requests that panicked.
    pub panicked: u64,
    /// Highest number of requests executing at once.
    pub peak_concurrency: u64,
    /// Requests that had to wait for a slot.
    pub queued: u64,
    /// Times waiting requests were polled while waiting. Every released slot wakes exactly one
    /// waiter, so this stays about twice `queued` (a first poll, then the one that finds the
    /// slot), however many are waiting.
    pub wait_polls: u64,
    /// Panics of the request's code that did not decide the outcome and were contained: in a
    /// cleanup, or in a drop after the request had already completed, timed out or been
    /// cancelled.
    pub contained_panics: u64,
}

impl MetricsSnapshot {
    fn start(&mut self) {
        self.active += 1;
        self.peak_concurrency = self.peak_concurrency.max(self.active);
    }

    fn finish(&mut self, outcome: Outcome, was_active: bool) {
        if was_active {
            self.active = self.active.saturating_sub(1);
        }
        self.in_flight = self.in_flight.saturating_sub(1);
        match outcome {
            Outcome::Completed => self.completed += 1,
            other => {
                self.failed += 1;
                match other {
                    Outcome::TimedOut => self.timed_out += 1,
                    Outcome::Cancelled => self.cancelled += 1,
                    Outcome::Rejected => self.rejected += 1,
                    Outcome::Panicked => self.panicked += 1,
                    Outcome::Completed | Outcome::Failed => {}
                }
            }
        }
    }
}

#[derive(Debug)]
struct UserEntry {
    counters: MetricsSnapshot,
    last_used: u64,
}

/// Counters of one shard of the [`Admission`](crate::admission::Admission) core: the shard's
/// share of the global counters, and per-user counters for the users hashed to it. Lives under
/// the shard's lock, so recording an outcome costs no extra lock.
///
/// Per-user counters are kept for at most `max_users` users: when a new user would exceed
/// that, the least recently used users with nothing in flight are forgotten (a quarter of the
/// capacity at a time, so the cost is amortised). Shard counters are never reset.
#[derive(Debug)]
pub(crate) struct ShardMetrics {
    max_users: usize,
    total: MetricsSnapshot,
    users: HashMap<UserId, UserEntry>,
    clock: u64,
}

impl ShardMetrics {
    pub(crate) fn new(max_users: usize) -> Self {
        Self {
            max_users: max_users.max(1),
            total: MetricsSnapshot::default(),
            users: HashMap::new(),
            clock: 0,
        }
    }

    /// Records a new request for `user`.
    pub(crate) fn created(&mut self, user: &UserId) {
        self.total.created += 1;
        self.total.in_flight += 1;
        if !self.users.contains_key(user) && self.users.len() >= self.max_users {
            self.evict_idle();
        }
        self.clock += 1;
        let now = self.clock;
        if let Some(entry) = self.users.get_mut(user) {
            entry.last_used = now;
            entry.counters.created += 1;
            entry.counters.in_flight += 1;
            return;
        }
        let counters = MetricsSnapshot {
            created: 1,
            in_flight: 1,
            ..MetricsSnapshot::default()
        };
        self.users.insert(
            user.clone(),
            UserEntry {
                counters,
                last_used: now,
            },
        );
    }

    /// Records that a request of `user` started executing.
    pub(crate) fn started(&mut self, user: &UserId) {
        self.total.start();
        if let Some(entry) = self.users.get_mut(user) {
            entry.counters.start();
        }
    }

    /// Records how a request of `user` ended; `was_active` if it had [`started`](Self::started).
    pub(crate) fn finished(&mut self, user: &UserId, outcome: Outcome, was_active: bool) {
        self.total.finish(outcome, was_active);
        if let Some(entry) = self.users.get_mut(user) {
            entry.counters.finish(outcome, was_active);
        }
    }

    /// Records `count` contained panics of a request of `user` that did not decide its outcome.
    pub(crate) fn contained(&mut self, user: &UserId, count: u64) {
        self.total.contained_panics += count;
        if let Some(entry) = self.users.get_mut(user) {
            entry.counters.contained_panics += count;
        }
    }

    /// Adds this shard's counters into `sum` (`active` and `peak_concurrency` are global and
    /// come from the admission core itself).
    pub(crate) fn add_to(&self, sum: &mut MetricsSnapshot) {
        let t = &self.total;
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

    /// `user`'s counters, if that user is tracked.
    pub(crate) fn user(&self, user: &UserId) -> Option<MetricsSnapshot> {
        self.users.get(user).map(|e| e.counters)
    }

    /// Number of users with per-user counters.
    pub(crate) fn tracked_users(&self) -> usize {
        self.users.len()
    }

    /// Forgets the least recently used idle users until at most 3/4 of `max_users` remain (or
    /// no idle user is left).
    fn evict_idle(&mut self) {
        let target = self.max_users - self.max_users / 4;
        let excess = self.users.len().saturating_sub(target).max(1);
        let mut idle: Vec<(u64, UserId)> = self
            .users
            .iter()
            .filter(|(_, e)| e.counters.in_flight == 0)
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
