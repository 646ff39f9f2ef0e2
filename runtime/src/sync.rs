//! Synchronisation shim: loom's primitives under `--cfg loom`, std's otherwise.
//!
//! The hand-written concurrent core ([`admission`](crate::admission) and the event
//! [`queue`](crate::events::channel)) uses only what this module exports, so the loom models in
//! `tests/loom_core.rs` check the very code the runtime runs.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, recovering from poisoning. Every critical section in the core leaves its data
/// consistent at each step (single map operations), so a panic elsewhere cannot leave it torn.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Keeps `cx`'s waker in `slot` to be woken later, unless the one there already wakes the same
/// task.
pub(crate) fn remember_waker(slot: &mut Option<std::task::Waker>, cx: &std::task::Context<'_>) {
    if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
        *slot = Some(cx.waker().clone());
    }
}
