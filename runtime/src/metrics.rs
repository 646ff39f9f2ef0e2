//! Counts of what happened to requests, globally and per user: [`MetricsSnapshot`], kept per
//! user and per shard by the [`admission`](crate::admission) core.

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
    /// Highest number of requests executing at once. Per user, exactly. Globally, the highest
    /// number of global slots taken at once, which besides the requests executing may count a
    /// slot that another thread keeps leased, idle, for its next request (at most one per thread
    /// that ran requests, never beyond the global limit; exact when requests run on one thread).
    /// The leases are what spare a request from writing the global counter (`BENCHMARKS.md`).
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
    pub(crate) fn start(&mut self) {
        self.active += 1;
        self.peak_concurrency = self.peak_concurrency.max(self.active);
    }

    pub(crate) fn finish(&mut self, outcome: Outcome, was_active: bool) {
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
