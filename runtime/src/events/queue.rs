//! A bounded, never-blocking event queue with a delivery policy for slow consumers.
//!
//! [`channel`] gives an [`EventSender`] and an [`EventReceiver`] sharing a queue of at most
//! `capacity` items. Sending never waits. When the queue is full:
//!
//! - a **non-critical** item is dropped and counted; the receiver is told how many it missed
//!   ([`Delivery::Missed`]) at the place in the stream where they were lost;
//! - a **critical** item takes the place of the oldest queued non-critical item (which is then
//!   counted as missed, in its own place); if every queued item is critical, the queue is
//!   closed with [`CloseReason::Overflow`]: the receiver gets what was queued, then the end of
//!   the stream with that reason. A critical item is never dropped silently.
//!
//! This is the synchronous, tokio-free core: it uses the [`sync`](crate::sync) shim and is
//! model-checked with loom (`tests/loom_core.rs`).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Poll, Waker};

use crate::sync::{Mutex, lock, remember_waker};

/// Something with a delivery class: critical items are never dropped silently.
pub trait Classified {
    /// `true` if losing this item must close the consumer rather than be skipped.
    fn critical(&self) -> bool;
}

impl<T: Classified + ?Sized> Classified for Arc<T> {
    fn critical(&self) -> bool {
        (**self).critical()
    }
}

/// Why a queue stopped delivering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
#[non_exhaustive]
pub enum CloseReason {
    /// Every sender is gone (the run ended) and everything was delivered.
    Finished,
    /// A critical item arrived while the queue was full of critical items: rather than lose it
    /// silently, the consumer was closed. It can reconnect and catch up from a replay source.
    Overflow {
        /// The queue's capacity.
        capacity: usize,
    },
    /// The receiver was dropped or closed: nobody is listening.
    ReceiverGone,
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Finished => f.write_str("the stream finished"),
            Self::Overflow { capacity } => write!(
                f,
                "the consumer fell behind: a critical event found the queue full ({capacity} critical events)"
            ),
            Self::ReceiverGone => f.write_str("the receiver is gone"),
        }
    }
}

/// What [`EventReceiver::recv`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery<T> {
    /// The next item.
    Item(T),
    /// This many non-critical items were dropped here because the consumer was too slow.
    Missed(u64),
}

/// What happened to an item given to [`EventSender::send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Queued for the receiver.
    Queued,
    /// The queue was full and the item was non-critical: dropped and counted.
    Dropped,
}

struct Slot<T> {
    item: T,
    /// Non-critical items lost just before this one.
    missed_before: u64,
}

struct State<T> {
    items: VecDeque<Slot<T>>,
    /// Lost after the last queued item (reported before the next one, or at the end).
    missed_tail: u64,
    /// Non-critical items currently queued.
    non_critical: usize,
    dropped_total: u64,
    senders: usize,
    closed: Option<CloseReason>,
    waker: Option<Waker>,
}

struct Shared<T> {
    capacity: usize,
    state: Mutex<State<T>>,
}

/// A bounded queue of `capacity` items (at least 1) with the delivery policy of the
/// [policy](crate::events#slow-consumers).
///
/// ```
/// use isolate::events::{channel, Classified, CloseReason, Delivery, Sent};
///
/// #[derive(Debug, PartialEq)]
/// struct Msg(u32, bool);
/// impl Classified for Msg {
///     fn critical(&self) -> bool { self.1 }
/// }
///
/// let (tx, mut rx) = channel(2);
/// assert_eq!(tx.send(Msg(1, false)), Ok(Sent::Queued));
/// assert_eq!(tx.send(Msg(2, false)), Ok(Sent::Queued));
/// assert_eq!(tx.send(Msg(3, false)), Ok(Sent::Dropped)); // full: non-critical is dropped
/// assert_eq!(tx.send(Msg(4, true)), Ok(Sent::Queued)); // critical replaces the oldest non-critical
/// drop(tx);
/// assert_eq!(rx.try_recv(), Some(Delivery::Missed(1))); // Msg(1) was evicted
/// assert_eq!(rx.try_recv(), Some(Delivery::Item(Msg(2, false))));
/// assert_eq!(rx.try_recv(), Some(Delivery::Missed(1))); // Msg(3) was dropped
/// assert_eq!(rx.try_recv(), Some(Delivery::Item(Msg(4, true))));
/// assert_eq!(rx.try_recv(), None);
/// assert_eq!(rx.close_reason(), Some(CloseReason::Finished));
/// ```
pub fn channel<T: Classified>(capacity: usize) -> (EventSender<T>, EventReceiver<T>) {
    let capacity = capacity.max(1);
    let shared = Arc::new(Shared {
        capacity,
        state: Mutex::new(State {
            items: VecDeque::new(),
            missed_tail: 0,
            non_critical: 0,
            dropped_total: 0,
            senders: 1,
            closed: None,
            waker: None,
        }),
    });
    (
        EventSender {
            shared: Arc::clone(&shared),
        },
        EventReceiver { shared },
    )
}

/// The sending half of a [`channel`]. Cloning adds a sender; the stream finishes when the last
/// one is dropped.
pub struct EventSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Classified> EventSender<T> {
    /// Queues `item` without ever waiting (see the [policy](crate::events#slow-consumers) for a full queue).
    ///
    /// # Errors
    /// The queue's [`CloseReason`] if it is closed (receiver gone, or closed by an overflow,
    /// including one caused by this very item).
    pub fn send(&self, item: T) -> Result<Sent, CloseReason> {
        let critical = item.critical();
        let mut state = lock(&self.shared.state);
        if let Some(reason) = state.closed {
            return Err(reason);
        }
        if state.items.len() >= self.shared.capacity {
            if !critical {
                state.missed_tail += 1;
                state.dropped_total += 1;
                return Ok(Sent::Dropped);
            }
            if !state.evict_oldest_non_critical() {
                let reason = CloseReason::Overflow {
                    capacity: self.shared.capacity,
                };
                state.closed = Some(reason);
                let waker = state.waker.take();
                drop(state);
                wake(waker);
                return Err(reason);
            }
        }
        let missed_before = std::mem::take(&mut state.missed_tail);
        if !critical {
            state.non_critical += 1;
        }
        state.items.push_back(Slot {
            item,
            missed_before,
        });
        let waker = state.waker.take();
        drop(state);
        wake(waker);
        Ok(Sent::Queued)
    }
}

impl<T> EventSender<T> {
    /// Items dropped so far because the queue was full.
    pub fn dropped(&self) -> u64 {
        lock(&self.shared.state).dropped_total
    }

    /// `true` once the queue no longer accepts items.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared.state).closed.is_some()
    }

    /// The queue's capacity.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }
}

impl<T> State<T> {
    /// Drops the oldest queued non-critical item to make room; its loss is reported where it
    /// was. Returns `false` if every queued item is critical.
    fn evict_oldest_non_critical(&mut self) -> bool
    where
        T: Classified,
    {
        if self.non_critical == 0 {
            return false;
        }
        let Some(index) = self.items.iter().position(|slot| !slot.item.critical()) else {
            return false;
        };
        let Some(evicted) = self.items.remove(index) else {
            return false;
        };
        let lost = evicted.missed_before + 1;
        match self.items.get_mut(index) {
            Some(next) => next.missed_before += lost,
            None => self.missed_tail += lost,
        }
        self.non_critical -= 1;
        self.dropped_total += 1;
        true
    }
}

impl<T> Clone for EventSender<T> {
    fn clone(&self) -> Self {
        lock(&self.shared.state).senders += 1;
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for EventSender<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.senders -= 1;
        if state.senders > 0 {
            return;
        }
        if state.closed.is_none() {
            state.closed = Some(CloseReason::Finished);
        }
        let waker = state.waker.take();
        drop(state);
        wake(waker);
    }
}

impl<T> std::fmt::Debug for EventSender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.shared.debug("EventSender", f)
    }
}

impl<T> Shared<T> {
    fn debug(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.state);
        f.debug_struct(name)
            .field("capacity", &self.capacity)
            .field("queued", &state.items.len())
            .field("dropped", &state.dropped_total)
            .field("closed", &state.closed)
            .finish()
    }
}

/// The receiving half of a [`channel`].
pub struct EventReceiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> EventReceiver<T> {
    /// The next delivery, waiting for one; `None` once the stream has ended (see
    /// [`close_reason`](Self::close_reason)) and everything before the end was delivered.
    pub async fn recv(&mut self) -> Option<Delivery<T>> {
        poll_fn(|cx| {
            let mut state = lock(&self.shared.state);
            match state.pop() {
                Some(delivery) => Poll::Ready(Some(delivery)),
                None if state.closed.is_some() => Poll::Ready(None),
                None => {
                    remember_waker(&mut state.waker, cx);
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// The next delivery if one is ready, without waiting; `None` if nothing is queued now
    /// (check [`close_reason`](Self::close_reason) to tell an ended stream apart).
    pub fn try_recv(&mut self) -> Option<Delivery<T>> {
        lock(&self.shared.state).pop()
    }

    /// Why the stream ended, once it has (items may still be queued before the end).
    pub fn close_reason(&self) -> Option<CloseReason> {
        lock(&self.shared.state).closed
    }

    /// Items queued now (at most the capacity).
    pub fn len(&self) -> usize {
        lock(&self.shared.state).items.len()
    }

    /// `true` when nothing is queued now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Items dropped so far because the queue was full.
    pub fn dropped(&self) -> u64 {
        lock(&self.shared.state).dropped_total
    }

    /// The queue's capacity.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }
}

impl<T> State<T> {
    fn pop(&mut self) -> Option<Delivery<T>> {
        if let Some(front) = self.items.front_mut() {
            if front.missed_before > 0 {
                return Some(Delivery::Missed(std::mem::take(&mut front.missed_before)));
            }
        } else if self.closed.is_some() && self.missed_tail > 0 {
            return Some(Delivery::Missed(std::mem::take(&mut self.missed_tail)));
        }
        let slot = self.items.pop_front()?;
        Some(Delivery::Item(slot.item))
    }
}

impl<T> Drop for EventReceiver<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.closed = Some(CloseReason::ReceiverGone);
        // Free the queued items now rather than when the last sender goes.
        let items = std::mem::take(&mut state.items);
        state.waker = None;
        drop(state);
        drop(items);
    }
}

impl<T> std::fmt::Debug for EventReceiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.shared.debug("EventReceiver", f)
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}
