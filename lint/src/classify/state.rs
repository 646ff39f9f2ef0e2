//! What kind of state a global holds ([`StateKind`]): the kind the messages and help are
//! written for. Rules decide *which rule* reports a global; [`state_of`] decides *what it is*.
//! The level policy's class is decided in `levels::class_of` and refined by this kind
//! (`levels::refine`: a recognised metric or scalar is a scalar; a per-thread scratch buffer
//! of plain values - `RefCell<Vec<f64>>`, a pool of kernel handles - a thread-local scalar).
//!
//! Thread-locals: a thread-local is never shared between threads, only between the requests
//! that run on that thread, one after the other (and an async request may move threads at an
//! `.await`). A thread-local collection of plain values (`Vec<f64>`, `Vec<u8>`, `HashSet<u64>`)
//! is a per-thread scratch buffer or memo of numbers and ids. One whose elements can carry
//! request data (`Vec<String>`, a map of sessions) stays a collection.

use super::Shape;
use crate::facts::GlobalKind;

/// What the mutable part of a global is, for messages and help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum StateKind {
    StaticMut,
    /// A concurrent map, set or cache (`DashMap`, moka, concread, a keyed rate limiter).
    ConcurrentMap,
    /// A collection behind a lock or cell.
    LockedCollection,
    /// A thread-local collection of plain values behind a cell.
    ScratchBuffer,
    /// A channel or queue.
    Channel,
    /// A `watch` channel end (a configuration watcher).
    Watch,
    /// A lock or cell around data (`Mutex<Option<T>>`, `RefCell<String>`).
    LockedData,
    /// A lazy (or cell) of a type the linter cannot see into.
    UnknownContents,
    /// A metrics instrument.
    Metric,
    /// Atomics, flags, counters, ids: interior mutability over plain values.
    Scalar,
    Constant,
}

/// The state a global declared as `kind` with a type of shape `s` holds.
pub(crate) fn state_of(kind: GlobalKind, s: &Shape) -> StateKind {
    let thread_local = kind == GlobalKind::ThreadLocal;
    let lazy = s.lazy || kind == GlobalKind::LazyStatic;
    if kind == GlobalKind::StaticMut {
        StateKind::StaticMut
    } else if s.concurrent_map {
        StateKind::ConcurrentMap
    } else if s.map_under_lock {
        if thread_local && !s.data_collection {
            StateKind::ScratchBuffer
        } else {
            StateKind::LockedCollection
        }
    } else if s.channel {
        StateKind::Channel
    } else if s.locked_data || (thread_local && lazy && s.data) {
        if s.watch {
            StateKind::Watch
        } else {
            StateKind::LockedData
        }
    } else if s.unknown && (lazy || s.interior) {
        StateKind::UnknownContents
    } else if s.metric {
        StateKind::Metric
    } else if s.interior || (thread_local && lazy) {
        StateKind::Scalar
    } else {
        StateKind::Constant
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(f: impl FnOnce(&mut Shape)) -> Shape {
        let mut s = Shape::default();
        f(&mut s);
        s
    }

    #[test]
    fn kinds_and_classes() {
        let tl = GlobalKind::ThreadLocal;
        let st = GlobalKind::Static;
        let scratch = shape(|s| {
            s.interior = true;
            s.map_under_lock = true;
        });
        assert_eq!(state_of(tl, &scratch), StateKind::ScratchBuffer);
        assert_eq!(state_of(st, &scratch), StateKind::LockedCollection);
        let payload = shape(|s| {
            s.interior = true;
            s.map_under_lock = true;
            s.data_collection = true;
        });
        assert_eq!(state_of(tl, &payload), StateKind::LockedCollection);
        let metric = shape(|s| {
            s.interior = true;
            s.metric = true;
        });
        assert_eq!(state_of(GlobalKind::LazyStatic, &metric), StateKind::Metric);
        let client = shape(|s| {
            s.lazy = true;
            s.unknown = true;
        });
        assert_eq!(state_of(st, &client), StateKind::UnknownContents);
        let constant = shape(|s| {
            s.lazy = true;
            s.data = true;
        });
        assert_eq!(state_of(st, &constant), StateKind::Constant);
        assert_eq!(
            state_of(GlobalKind::StaticMut, &Shape::default()),
            StateKind::StaticMut
        );
    }
}
