//! What keeps a run's exits clean: [`RunGuard`] gives back everything the run holds, and the
//! `contain_*` helpers stop panics of the request's code (including its drops) at `run`.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};

use crate::admission::Stage;
use crate::ids::{RunId, UserId};
use crate::metrics::Outcome;

use super::Inner;

/// Owned by [`Runtime::run`](crate::Runtime::run) from admission on. Its `Drop` removes the
/// registry entry, hands the slots to the next waiters and records the outcome (with the count
/// of contained panics), whether the run returned, failed, panicked, timed out or its future was
/// dropped by the caller. The request's scope and future are declared after the guard, so they
/// are gone (cleanups run, with no lock held) before the guard releases the slots.
pub(super) struct RunGuard<'a> {
    inner: &'a Inner,
    user: UserId,
    run: RunId,
    stage: Option<Stage>,
    outcome: Outcome,
    contained: &'a AtomicU64,
}

impl<'a> RunGuard<'a> {
    /// A guard for an admitted run; until told otherwise the outcome is `Cancelled`, which is
    /// what a dropped (abandoned) run future is.
    pub(super) fn new(
        inner: &'a Inner,
        user: UserId,
        run: RunId,
        stage: Stage,
        contained: &'a AtomicU64,
    ) -> Self {
        Self {
            inner,
            user,
            run,
            stage: Some(stage),
            outcome: Outcome::Cancelled,
            contained,
        }
    }

    pub(super) fn stage(&self) -> Option<&Stage> {
        self.stage.as_ref()
    }

    /// Moves the run on once its wait was granted.
    pub(super) fn resume(&mut self) {
        if let Some(stage) = self.stage.take() {
            let next = self.inner.admission.resume(&self.user, stage);
            if matches!(next, Stage::Running) {
                self.inner
                    .admission
                    .with(&self.user, &self.run, |e| e.executing = true);
            }
            self.stage = Some(next);
        }
    }

    /// Records how the run ended.
    pub(super) fn set_outcome(&mut self, outcome: Outcome) {
        self.outcome = outcome;
    }
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        if let Some(stage) = self.stage.take() {
            self.inner.admission.leave_with(
                &self.user,
                &self.run,
                stage,
                self.outcome,
                self.contained.load(Relaxed),
            );
        }
    }
}

/// Holds a value of the request's (its closure, its scope) and drops it with any panic of its
/// `Drop` caught and counted.
pub(super) struct Contained<'a, T> {
    value: Option<T>,
    panics: &'a AtomicU64,
}

impl<'a, T> Contained<'a, T> {
    pub(super) fn new(value: T, panics: &'a AtomicU64) -> Self {
        Self {
            value: Some(value),
            panics,
        }
    }

    pub(super) fn get(&self) -> Option<&T> {
        self.value.as_ref()
    }

    pub(super) fn take(&mut self) -> Option<T> {
        self.value.take()
    }
}

impl<T> Drop for Contained<'_, T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take()
            && catch_unwind(AssertUnwindSafe(move || drop(value))).is_err()
        {
            self.panics.fetch_add(1, Relaxed);
        }
    }
}

/// The request's future, pinned in place, polled and dropped with panics caught: a panic while
/// polling ends the poll with the payload; a panic while dropping it (on timeout, cancellation
/// or an abandoned run) is counted and goes no further.
pub(super) struct ContainedFuture<'a, 'p, F> {
    slot: Pin<&'p mut Option<F>>,
    panics: &'a AtomicU64,
}

impl<'a, 'p, F: Future> ContainedFuture<'a, 'p, F> {
    pub(super) fn new(slot: Pin<&'p mut Option<F>>, panics: &'a AtomicU64) -> Self {
        Self { slot, panics }
    }

    /// Puts the request's future in place.
    pub(super) fn start(&mut self, future: F) {
        self.slot.set(Some(future));
    }

    /// Polls the future; `Ready(Err(payload))` if it panicked. A finished future is never
    /// polled again.
    pub(super) fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<F::Output, Box<dyn Any + Send>>> {
        let Some(future) = self.slot.as_mut().as_pin_mut() else {
            return Poll::Pending;
        };
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

impl<F> ContainedFuture<'_, '_, F> {
    /// Drops the future now (with panics contained); later calls do nothing.
    pub(super) fn finish(&mut self) {
        let slot = &mut self.slot;
        if catch_unwind(AssertUnwindSafe(|| slot.set(None))).is_err() {
            self.panics.fetch_add(1, Relaxed);
        }
    }
}

impl<F> Drop for ContainedFuture<'_, '_, F> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The panic payload as text.
pub(super) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
