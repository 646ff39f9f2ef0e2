//! [`RunGuard`]: releases everything a run holds, on every exit path.

use crate::ids::{RunId, UserId};
use crate::limiter::Permit;
use crate::metrics::Outcome;

use super::Inner;

/// Owned by [`Runtime::run`](crate::Runtime::run) for the whole request. Its `Drop` removes the
/// registry entry, releases the permit (waking waiters) and records the outcome, whether the run
/// returned, failed, panicked, timed out or its future was dropped by the caller. The request's
/// [`RequestScope`](crate::RequestScope) is declared after the guard, so its cleanups have already
/// run (with no lock held) by the time the guard releases the slot.
pub(super) struct RunGuard<'a> {
    inner: &'a Inner,
    user: UserId,
    registered: Option<RunId>,
    permit: Option<Permit<'a>>,
    outcome: Outcome,
}

impl<'a> RunGuard<'a> {
    /// A guard for a request of `user`; until told otherwise the outcome is `Cancelled`, which is
    /// what a dropped (abandoned) run future is.
    pub(super) fn new(inner: &'a Inner, user: UserId) -> Self {
        inner.metrics.created(&user);
        Self {
            inner,
            user,
            registered: None,
            permit: None,
            outcome: Outcome::Cancelled,
        }
    }

    /// The run is in the registry under (user, `run`); remove it on exit.
    pub(super) fn registered(&mut self, run: RunId) {
        self.registered = Some(run);
    }

    /// The run holds `permit` and starts executing.
    pub(super) fn started(&mut self, permit: Permit<'a>) {
        self.permit = Some(permit);
        self.inner.metrics.started(&self.user);
    }

    /// Records how the run ended.
    pub(super) fn set_outcome(&mut self, outcome: Outcome) {
        self.outcome = outcome;
    }
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        if let Some(run) = self.registered.take() {
            self.inner.registry.remove(&self.user, &run);
        }
        let was_active = self.permit.is_some();
        if let Some(permit) = self.permit.take() {
            drop(permit);
            self.inner.released.notify_waiters();
        }
        self.inner
            .metrics
            .finished(&self.user, self.outcome, was_active);
    }
}
