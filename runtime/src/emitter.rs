//! [`EventEmitter`]: a per-request event emitter whose events always carry their request's ids.
//!
//! This is the minimal, real version (a bounded per-request buffer, or a channel the caller
//! reads while the request runs); delivery to clients is out of scope here. What it guarantees is the isolation
//! property: an emitter is created from one [`RequestContext`], has no way to be re-pointed, and
//! stamps every event with that context's user/thread/run/request ids.

use std::sync::Mutex;
use std::time::SystemTime;

use crate::context::RequestContext;
use crate::error::EmitError;
use crate::ids::{RequestId, RunId, ThreadId, UserId};

/// Default number of events an emitter buffers before [`EmitError::BufferFull`].
pub const DEFAULT_EVENT_CAPACITY: usize = 4096;

/// Longest accepted event kind, in bytes.
pub const MAX_EVENT_KIND_LEN: usize = 128;

/// One event, stamped by the [`EventEmitter`] that produced it. Fields are read-only: an event
/// cannot be re-addressed to another user after the fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    user_id: UserId,
    thread_id: ThreadId,
    run_id: RunId,
    request_id: RequestId,
    seq: u64,
    kind: String,
    payload: String,
    emitted_at: SystemTime,
}

impl Event {
    /// The user of the request that emitted this event.
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }
    /// The thread of the request that emitted this event.
    pub fn thread_id(&self) -> &ThreadId {
        &self.thread_id
    }
    /// The run of the request that emitted this event.
    pub fn run_id(&self) -> &RunId {
        &self.run_id
    }
    /// The request that emitted this event.
    pub fn request_id(&self) -> &RequestId {
        &self.request_id
    }
    /// Position of this event in its emitter's sequence, starting at 0.
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// Event kind, e.g. `"token"` or `"tool.started"`.
    pub fn kind(&self) -> &str {
        &self.kind
    }
    /// Event payload (opaque text, typically JSON).
    pub fn payload(&self) -> &str {
        &self.payload
    }
    /// When the event was emitted.
    pub fn emitted_at(&self) -> SystemTime {
        self.emitted_at
    }
}

struct Buffer {
    next_seq: u64,
    events: Vec<Event>,
}

/// A per-request event emitter. Not `Clone`: it lives in its
/// [`RequestScope`](crate::RequestScope) and is lent out by reference.
///
/// ```
/// use isolate::{EventEmitter, RequestContext, RunId, ThreadId, UserId};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let ctx = RequestContext::builder(
///     UserId::new("alice")?,
///     ThreadId::new("thread-1")?,
///     RunId::new("run-1")?,
/// )
/// .build()?;
/// let emitter = EventEmitter::new(ctx.clone());
/// emitter.emit("token", "Hello")?;
/// emitter.emit("token", " world")?;
///
/// let events = emitter.drain();
/// assert_eq!(events.len(), 2);
/// assert!(events.iter().all(|e| e.user_id() == ctx.user_id()));
/// assert_eq!(events[1].seq(), 1);
/// assert!(emitter.is_empty());
/// # Ok(())
/// # }
/// ```
pub struct EventEmitter {
    context: RequestContext,
    capacity: usize,
    buffer: Mutex<Buffer>,
    sink: Option<tokio::sync::mpsc::UnboundedSender<Event>>,
}

impl EventEmitter {
    /// An emitter for `context` buffering up to [`DEFAULT_EVENT_CAPACITY`] events.
    pub fn new(context: RequestContext) -> Self {
        Self::with_capacity(context, DEFAULT_EVENT_CAPACITY)
    }

    /// An emitter for `context` buffering up to `capacity` events.
    pub fn with_capacity(context: RequestContext, capacity: usize) -> Self {
        Self {
            context,
            capacity,
            buffer: Mutex::new(Buffer {
                next_seq: 0,
                events: Vec::new(),
            }),
            sink: None,
        }
    }

    /// An emitter that streams every event to `sink` instead of buffering it (e.g. to forward
    /// events to the client while the request runs). The receiving side decides how much to keep.
    ///
    /// ```
    /// use isolate::{EmitError, EventEmitter, RequestContext, RunId, ThreadId, UserId};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let ctx = RequestContext::builder(UserId::new("alice")?, ThreadId::new("t-1")?, RunId::new("r-1")?).build()?;
    /// let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    /// let emitter = EventEmitter::with_sink(ctx, tx);
    /// emitter.emit("status", "started")?;
    /// let event = rx.try_recv()?;
    /// assert_eq!((event.kind(), event.payload(), event.user_id().as_str()), ("status", "started", "alice"));
    /// assert!(emitter.is_empty()); // streamed, not buffered
    /// drop(rx);
    /// assert_eq!(emitter.emit("status", "lost"), Err(EmitError::Closed));
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_sink(
        context: RequestContext,
        sink: tokio::sync::mpsc::UnboundedSender<Event>,
    ) -> Self {
        Self {
            sink: Some(sink),
            ..Self::new(context)
        }
    }

    /// The context whose ids every event is stamped with.
    pub fn context(&self) -> &RequestContext {
        &self.context
    }

    /// Emits an event of `kind` with `payload`, stamped with this emitter's request ids, and
    /// returns its sequence number.
    ///
    /// # Errors
    /// [`EmitError::InvalidKind`] if `kind` is empty, longer than [`MAX_EVENT_KIND_LEN`] or holds
    /// control characters; [`EmitError::BufferFull`] if the buffer holds `capacity` events;
    /// [`EmitError::Closed`] if this emitter streams to a sink whose receiver is gone.
    pub fn emit(&self, kind: &str, payload: impl Into<String>) -> Result<u64, EmitError> {
        if kind.is_empty() {
            return Err(EmitError::InvalidKind { reason: "empty" });
        }
        if kind.len() > MAX_EVENT_KIND_LEN {
            return Err(EmitError::InvalidKind {
                reason: "longer than 128 bytes",
            });
        }
        if kind.chars().any(char::is_control) {
            return Err(EmitError::InvalidKind {
                reason: "contains a control character",
            });
        }
        let mut buf = self.lock();
        if self.sink.is_none() && buf.events.len() >= self.capacity {
            return Err(EmitError::BufferFull {
                capacity: self.capacity,
            });
        }
        let ctx = &self.context;
        let event = Event {
            user_id: ctx.user_id().clone(),
            thread_id: ctx.thread_id().clone(),
            run_id: ctx.run_id().clone(),
            request_id: ctx.request_id().clone(),
            seq: buf.next_seq,
            kind: kind.to_owned(),
            payload: payload.into(),
            emitted_at: SystemTime::now(),
        };
        let seq = event.seq;
        match &self.sink {
            // Sent under the lock so the receiver sees events in `seq` order.
            Some(sink) => sink.send(event).map_err(|_| EmitError::Closed)?,
            None => buf.events.push(event),
        }
        buf.next_seq += 1;
        Ok(seq)
    }

    /// A copy of the buffered events, oldest first.
    pub fn events(&self) -> Vec<Event> {
        self.lock().events.clone()
    }

    /// Removes and returns the buffered events, oldest first (frees buffer capacity).
    pub fn drain(&self) -> Vec<Event> {
        std::mem::take(&mut self.lock().events)
    }

    /// Number of buffered events.
    pub fn len(&self) -> usize {
        self.lock().events.len()
    }

    /// True when no events are buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buffer> {
        // The buffer is always left consistent (a push is the only mutation), so a poisoned lock
        // (a panic elsewhere while holding it) is safe to keep using.
        self.buffer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::fmt::Debug for EventEmitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventEmitter")
            .field("request_id", self.context.request_id())
            .field("user_id", self.context.user_id())
            .field("capacity", &self.capacity)
            .field("buffered", &self.len())
            .finish()
    }
}
