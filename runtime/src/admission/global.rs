//! The global limit: [`GlobalSlots`], one word counting the global slots taken and the runs
//! queued for one, plus a lease cell per thread so that a run usually takes and gives back its
//! global slot without writing a location that other cores write.
//!
//! **Leases.** A run that ends keeps its global slot in its thread's lease cell (one slot per
//! cell) instead of giving it back to the word, and the next run on that thread takes it from
//! there: with one request at a time per worker thread, the word is not written at all, so its
//! cache line no longer travels between cores twice per run. A leased
//! slot still counts as taken in the word, so the limit holds exactly: the runs executing plus
//! the leased slots never exceed it. Leased slots are never lost to others:
//! - a run that finds the word exhausted takes a slot leased by another thread before it is
//!   refused or queued ([`GlobalSlots::try_take`]);
//! - once a run is queued, nothing is leased any more: a run that ends sees the waiter and gives
//!   its slot to the queue, and the waiter, after registering, gives every slot already leased
//!   to the queue ([`GlobalSlots::reclaim_for_waiters`]); a run that starts while runs are
//!   queued never uses a lease, so waiters keep their FIFO order.
//!
//! The two halves of that hand-over form a store-then-load pattern on two locations (lease
//! cell, word): the run that ends writes its cell then reads the word, the waiter writes the word
//! then reads the cells, and with sequentially consistent operations at least one of them sees
//! the other. loom treats `SeqCst` accesses as `AcqRel` (its README), so under loom an explicit
//! `fence(SeqCst)` stands between each write and read ([`order_store_load`]).
//!
//! **What changes for observers.** [`GlobalSlots::active`] is the word's count minus the leased
//! slots (exact when no run starts or ends meanwhile). `peak_concurrency` is the highest count of
//! slots taken from the word, which may include slots leased idle by other threads: at most
//! one per other thread that ended a run of this runtime, never more than the limit.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::Waker;

use super::{Stage, WaitSlot};
use crate::sync::{AtomicBool, AtomicU64, AtomicUsize, Mutex, lock};

/// One queued run in [`GlobalSlots::word`]'s high half.
const WAITER: u64 = 1 << 32;
pub(super) const ACTIVE_MASK: u64 = WAITER - 1;

/// Lease cells per runtime; threads beyond this share cells (correct, only slower).
#[cfg(not(loom))]
const LEASE_CELLS: usize = 16;
#[cfg(loom)]
const LEASE_CELLS: usize = 2;

/// A value on cache lines of its own: the word and each lease cell are written by the runs of
/// one core at a time and must not drag their neighbours (limits, hasher, shard table, other
/// cells) out of the other cores' caches.
#[derive(Debug)]
#[repr(align(128))]
struct Padded<T>(T);

/// The global slots: taken, leased, queued for.
#[derive(Debug)]
pub(super) struct GlobalSlots {
    limit: u64,
    /// Global slots taken (low 32 bits: runs executing plus leased slots) and runs queued for one
    /// (high 32 bits), in one word so that every decision about the word is one read-modify-write
    /// of one location: a release sees every waiter registered before it, a waiter sees every
    /// release before it. The waiter count changes only under `queue`'s lock and equals its
    /// length then.
    word: Padded<AtomicU64>,
    peak: Padded<AtomicUsize>,
    /// Slots leased per thread ([`lease_index`]), taken in the word, used by no run.
    leases: [Padded<AtomicBool>; LEASE_CELLS],
    queue: Mutex<VecDeque<Arc<WaitSlot>>>,
}

impl GlobalSlots {
    pub(super) fn new(limit: usize) -> Self {
        Self {
            limit: limit as u64,
            word: Padded(AtomicU64::new(0)),
            peak: Padded(AtomicUsize::new(0)),
            leases: std::array::from_fn(|_| Padded(AtomicBool::new(false))),
            queue: Mutex::new(VecDeque::new()),
        }
    }

    /// Takes a global slot (`Running`), or queues for one (`WaitingForGlobal`) if `wait`;
    /// `None` if none is free and not waiting. After `WaitingForGlobal`, call
    /// [`reclaim_for_waiters`](Self::reclaim_for_waiters) once no lock is held.
    pub(super) fn take(&self, wait: bool) -> Option<Stage> {
        if self.try_take() {
            return Some(Stage::Running);
        }
        wait.then(|| self.queue())
    }

    /// Takes a free global slot unless runs are queued for one (they come first): this thread's
    /// lease, else one from the word, else one leased idle by another thread.
    pub(super) fn try_take(&self) -> bool {
        if self.word.0.load(SeqCst) >= WAITER {
            return false;
        }
        if take_lease(self.own_lease()) {
            return true;
        }
        let taken = self.word.0.fetch_update(SeqCst, SeqCst, |word| {
            (word < self.limit).then_some(word + 1) // no waiter (high half 0) and a free slot
        });
        match taken {
            Ok(previous) => {
                self.note_peak(previous + 1);
                true
            }
            // Exhausted, counting leases: a slot another thread leased is free for this run.
            Err(word) => word < WAITER && self.leases.iter().any(|cell| take_lease(&cell.0)),
        }
    }

    fn note_peak(&self, taken: u64) {
        let taken = taken as usize;
        if taken > self.peak.0.load(SeqCst) {
            self.peak.0.fetch_max(taken, SeqCst);
        }
    }

    /// Queues for a global slot, or takes one if it was freed meanwhile and nobody is queued.
    pub(super) fn queue(&self) -> Stage {
        let mut queue = lock(&self.queue);
        let previous = self.word.0.fetch_update(SeqCst, SeqCst, |word| {
            Some(if word < self.limit {
                word + 1
            } else {
                word + WAITER
            })
        });
        let previous = previous.unwrap_or_else(|word| word);
        if previous < self.limit {
            self.note_peak(previous + 1);
            return Stage::Running;
        }
        let slot = Arc::new(WaitSlot::default());
        queue.push_back(Arc::clone(&slot));
        Stage::WaitingForGlobal(slot)
    }

    /// Gives every slot leased idle to the queued runs (oldest first), waking them. Called by a
    /// run after it queued (with no lock held): a lease made before it registered is handed
    /// over here, one made after is handed over by the run that made it ([`release`]).
    ///
    /// [`release`]: Self::release
    pub(super) fn reclaim_for_waiters(&self) {
        order_store_load();
        for cell in &self.leases {
            if take_lease(&cell.0)
                && let Some(waker) = self.release_to_word()
            {
                waker.wake();
            }
        }
    }

    /// Gives a global slot back: into this thread's lease while nobody is queued, else to the
    /// oldest queued run (returning its waker, to be called once no lock is held) or the word.
    pub(super) fn release(&self) -> Option<Waker> {
        let cell = self.own_lease();
        if !cell.swap(true, SeqCst) {
            order_store_load();
            if self.word.0.load(SeqCst) < WAITER {
                return None; // leased: counted as taken, free for this thread's next run
            }
            // A run queued meanwhile: the lease goes to it (unless a waiter already took it).
            if !take_lease(cell) {
                return None;
            }
        }
        self.release_to_word()
    }

    /// Gives a global slot back to the word: to the oldest global waiter if there is one (its
    /// waker is returned), else to the pool.
    fn release_to_word(&self) -> Option<Waker> {
        let previous = self.word.0.fetch_sub(1, SeqCst);
        if previous < WAITER {
            return None; // nobody queued when the slot came back
        }
        let mut queue = lock(&self.queue);
        // Hand the slot over: one more taken, one fewer waiter, in one step.
        let handed = self.word.0.fetch_update(SeqCst, SeqCst, |word| {
            (word >= WAITER && word & ACTIVE_MASK < self.limit).then(|| word + 1 - WAITER)
        });
        match handed {
            Ok(previous) => {
                self.note_peak((previous & ACTIVE_MASK) + 1);
                let slot = queue.pop_front()?;
                drop(queue);
                slot.grant()
            }
            Err(_) => None,
        }
    }

    /// Removes a queued run's place; `false` if it was granted meanwhile (its slot is then the
    /// run's to give back).
    pub(super) fn leave_queue(&self, slot: &Arc<WaitSlot>) -> bool {
        let mut queue = lock(&self.queue);
        let before = queue.len();
        queue.retain(|s| !Arc::ptr_eq(s, slot));
        if queue.len() < before {
            self.word.0.fetch_sub(WAITER, SeqCst);
            true
        } else {
            false
        }
    }

    /// Global slots held by runs (taken in the word and not leased idle).
    pub(super) fn active(&self) -> usize {
        let taken = self.word.0.load(SeqCst) & ACTIVE_MASK;
        let leased = self
            .leases
            .iter()
            .filter(|cell| cell.0.load(SeqCst))
            .count() as u64;
        taken.saturating_sub(leased) as usize
    }

    /// Runs queued for a global slot.
    pub(super) fn waiting(&self) -> usize {
        (self.word.0.load(SeqCst) >> 32) as usize
    }

    /// The highest count of slots taken at once (see the module's documentation).
    pub(super) fn peak(&self) -> usize {
        self.peak.0.load(SeqCst)
    }

    fn own_lease(&self) -> &AtomicBool {
        &self.leases[lease_index() % LEASE_CELLS].0
    }
}

/// Takes the slot a lease cell holds, if any.
#[inline]
fn take_lease(cell: &AtomicBool) -> bool {
    cell.load(SeqCst) && cell.swap(false, SeqCst)
}

/// Orders a `SeqCst` write before a `SeqCst` read of another location. The operations already
/// do (they are in one total order); loom, which treats them as `AcqRel`, needs the fence.
#[inline(always)]
fn order_store_load() {
    #[cfg(loom)]
    crate::sync::fence(SeqCst);
}

/// This thread's lease cell index: threads are numbered in the order they first end a run.
#[cfg(not(loom))]
fn lease_index() -> usize {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::thread_local! {
        static INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    INDEX
        .try_with(|index| {
            if index.get() == usize::MAX {
                index.set(NEXT.fetch_add(1, Relaxed));
            }
            index.get()
        })
        .unwrap_or(0) // a thread being torn down shares the first cell
}

/// Under loom, the model's own thread number (deterministic in every execution).
#[cfg(loom)]
fn lease_index() -> usize {
    let id = format!("{:?}", loom::thread::current().id());
    id.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0)
}
