//! [`Shared`]: the reference-counted allocation behind a [`RequestContext`](super::RequestContext),
//! recycled through a small per-thread free list.
//!
//! A server builds a context per request and drops it when the request ends, usually on the
//! same thread: keeping the last few allocations per thread turns that `malloc`/`free` pair,
//! and the two atomic operations of a last `Arc` drop, into a push and a pop. A recycled
//! allocation holds nothing of its previous context: its value is dropped when the last handle
//! goes, and a new one is written into it before anyone else can reach it.
//!
//! The synchronisation is `Arc`'s own: a handle that sees itself as the only one (a strong
//! count of 1; no `Weak` is ever made, and a handle can only be cloned from a handle) is the
//! last, and an acquire fence orders the other threads' uses (their drops released the count)
//! before it drops the value; otherwise the handle is dropped as any `Arc`, and if it turns out
//! to be the last after all (another handle went at the same moment), `Arc` drops the value.
//! `tests/loom_core.rs` model-checks it (this module uses the `sync` shim).

use std::cell::RefCell;
use std::mem::ManuallyDrop;

use crate::sync::{Arc, UnsafeCell, fence};
use std::sync::atomic::Ordering::Acquire;

use super::Inner;

/// Freed allocations kept per thread; more are given back to the allocator.
const KEEP: usize = 16;

/// A context's value, or nothing while the allocation waits on a free list.
struct Slot(UnsafeCell<Option<Inner>>);

// SAFETY: the value is written only through a handle known to be the only one (see `Shared`),
// and otherwise only read; `Inner` is `Send + Sync`.
unsafe impl Sync for Slot {}

type Free = RefCell<Vec<Arc<Slot>>>;

#[cfg(not(loom))]
std::thread_local! {
    static FREE: Free = const { RefCell::new(Vec::new()) };
}
#[cfg(loom)]
loom::thread_local! {
    static FREE: Free = RefCell::new(Vec::new());
}

/// A shared, immutable [`Inner`]. Invariant: while a `Shared` exists, its slot holds a value.
pub(super) struct Shared {
    slot: ManuallyDrop<Arc<Slot>>,
}

impl Shared {
    pub(super) fn new(inner: Inner) -> Self {
        let reused = FREE.try_with(|free| free.borrow_mut().pop()).ok().flatten();
        let slot = match reused {
            Some(slot) => {
                // SAFETY: `slot` is its allocation's only handle (the free list holds only
                // allocations whose last handle was dropped), so nobody else can reach it.
                slot.0.with_mut(|value| unsafe { *value = Some(inner) });
                slot
            }
            None => Arc::new(Slot(UnsafeCell::new(Some(inner)))),
        };
        Self {
            slot: ManuallyDrop::new(slot),
        }
    }

    #[inline]
    pub(super) fn get(&self) -> &Inner {
        let value = self.slot.0.with(|value| value);
        // SAFETY: a live `Shared`'s slot holds a value (the invariant), written before the
        // handle existed and not written again until the last handle is gone.
        unsafe { (*value).as_ref().unwrap_unchecked() }
    }
}

impl Clone for Shared {
    fn clone(&self) -> Self {
        Self {
            slot: ManuallyDrop::new(Arc::clone(&self.slot)),
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: `self.slot` is not used after this.
        let slot = unsafe { ManuallyDrop::take(&mut self.slot) };
        if Arc::strong_count(&slot) != 1 {
            return; // dropped as any `Arc`: the last one of a race drops the value with it
        }
        // The last handle. Order the other threads' uses before dropping the value.
        fence(Acquire);
        // SAFETY: the only handle; nobody else can reach the value. Dropped in place.
        slot.0.with_mut(|value| unsafe { *value = None });
        // Kept for reuse, or freed (empty) when the list is full or the thread is exiting.
        let _ = FREE.try_with(move |free| {
            let mut free = free.borrow_mut();
            if free.len() < KEEP {
                free.push(slot);
            }
        });
    }
}
