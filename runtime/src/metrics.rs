//! [`Metrics`]: counts of what happened to requests, globally and per user.

use std::collections::HashMap;

use crate::ids::UserId;
use crate::sync::{Mutex, lock};

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
/// use isolate::{MetricsSnapshot, Runtime};
///
/// let m: MetricsSnapshot = Runtime::default().metrics();
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

#[derive(Debug, Default)]
struct State {
    global: MetricsSnapshot,
    users: HashMap<UserId, UserEntry>,
    clock: u64,
}

/// Global and per-user request counters.
///
/// Per-user counters are kept for at most `max_users` users: when a new user would exceed that,
/// the least recently used users with nothing in flight are forgotten (a quarter of the capacity
/// at a time, so the cost is amortised). Global counters are never reset.
///
/// ```
/// use isolate::metrics::{Metrics, Outcome};
/// use isolate::UserId;
///
/// let metrics = Metrics::new(100);
/// let alice = UserId::new("alice").unwrap();
/// metrics.created(&alice);
/// metrics.started(&alice);
/// metrics.finished(&alice, Outcome::Completed, true);
/// let alice_counts = metrics.user(&alice).unwrap();
/// assert_eq!((alice_counts.created, alice_counts.completed, alice_counts.active), (1, 1, 0));
/// assert_eq!(metrics.global().peak_concurrency, 1);
/// ```
#[derive(Debug)]
pub struct Metrics {
    max_users: usize,
    state: Mutex<State>,
}

impl Metrics {
    /// Counters tracking at most `max_users` users individually (at least 1).
    pub fn new(max_users: usize) -> Self {
        Self {
            max_users: max_users.max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// Records a new request for `user`.
    pub fn created(&self, user: &UserId) {
        let mut state = lock(&self.state);
        state.global.created += 1;
        state.global.in_flight += 1;
        if !state.users.contains_key(user) && state.users.len() >= self.max_users {
            evict_idle(&mut state, self.max_users);
        }
        state.clock += 1;
        let now = state.clock;
        let entry = state.users.entry(user.clone()).or_insert(UserEntry {
            counters: MetricsSnapshot::default(),
            last_used: now,
        });
        entry.last_used = now;
        entry.counters.created += 1;
        entry.counters.in_flight += 1;
    }

    /// Records that a request of `user` started executing.
    pub fn started(&self, user: &UserId) {
        let mut state = lock(&self.state);
        state.global.start();
        if let Some(entry) = state.users.get_mut(user) {
            entry.counters.start();
        }
    }

    /// Records how a request of `user` ended; `was_active` if it had [`started`](Self::started).
    pub fn finished(&self, user: &UserId, outcome: Outcome, was_active: bool) {
        let mut state = lock(&self.state);
        state.global.finish(outcome, was_active);
        if let Some(entry) = state.users.get_mut(user) {
            entry.counters.finish(outcome, was_active);
        }
    }

    /// Global counters.
    pub fn global(&self) -> MetricsSnapshot {
        lock(&self.state).global
    }

    /// `user`'s counters, if that user is tracked.
    pub fn user(&self, user: &UserId) -> Option<MetricsSnapshot> {
        lock(&self.state).users.get(user).map(|e| e.counters)
    }

    /// Number of users with per-user counters.
    pub fn tracked_users(&self) -> usize {
        lock(&self.state).users.len()
    }
}

/// Forgets the least recently used idle users until at most 3/4 of `max_users` remain (or no
/// idle user is left).
fn evict_idle(state: &mut State, max_users: usize) {
    let target = max_users - max_users / 4;
    let excess = state.users.len().saturating_sub(target).max(1);
    let mut idle: Vec<(u64, UserId)> = state
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
        state.users.remove(&user);
    }
}
