//! Typed events: the [`Event`] trait, the runtime-stamped [`Envelope`], where envelopes go
//! ([`EventSink`]) and the bounded queue for slow consumers ([`channel`]).
//!
//! A request emits its own event types through
//! [`scope.emitter().emit(event)`](crate::EventEmitter::emit). The emitter wraps each event in an
//! [`Envelope`] stamped by the runtime, never by the caller: the request's user, thread, run and
//! request ids, a sequence number (1, 2, 3, ... per run, without gaps) and a timestamp. An event
//! says whether it is [`critical`](Event::critical): consumers that cannot keep up may lose
//! non-critical events (they are told how many) but a critical one is never dropped silently.
//!
//! ```
//! use isolate::events::Event;
//! use serde::Serialize;
//!
//! #[derive(Debug, Serialize)]
//! #[serde(tag = "type", rename_all = "snake_case")]
//! enum AgentEvent {
//!     AgentThinking { thought: String },
//!     ToolExecuting { tool: String },
//!     AgentCompleted { result: String },
//! }
//!
//! impl Event for AgentEvent {
//!     fn critical(&self) -> bool {
//!         !matches!(self, AgentEvent::AgentThinking { .. })
//!     }
//! }
//! # assert!(AgentEvent::ToolExecuting { tool: "search".into() }.critical());
//! ```

//! # Slow consumers
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
//! # Building a hub on this
//!
//! Per-user delivery to many connections: implement [`EventSink`]
//! and run requests with [`Runtime::run_with_sink`](crate::Runtime::run_with_sink). Route each
//! envelope by [`Envelope::user_id`] (stamped by the runtime, so a request cannot address
//! another user), keep a replay buffer per run keyed by [`Envelope::run_id`] and
//! [`Envelope::seq`], and give each connection its own [`channel`] of `Arc<Envelope>` (or of
//! serialised frames implementing [`Classified`]): it applies the same drop-or-close policy
//! per connection, and [`CloseReason::Overflow`] tells the writer to close the socket with a
//! reason. [`EventSink::run_ended`] says when a run's buffer may start to expire.

mod queue;

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::ser::SerializeStruct;

use crate::context::RequestContext;
use crate::ids::{RequestId, RunId, ThreadId, UserId};

pub use queue::{Classified, CloseReason, Delivery, EventReceiver, EventSender, Sent, channel};

/// An application event: serialisable (its JSON form is up to its `Serialize` impl; the
/// convention is an enum tagged `"type"` in snake_case) and classified as critical or not.
///
/// Implement it for your own event types; `#[derive(Serialize, Debug)]` provides the rest. The
/// runtime never looks inside an event except through [`critical`](Self::critical).
pub trait Event: Any + erased_serde::Serialize + fmt::Debug + Send + Sync {
    /// `true` if a consumer must not lose this event: when it cannot be queued, the consumer
    /// is closed with a reason instead. Progress and "thinking" events are typically not
    /// critical; starts, results, errors and timeouts are.
    fn critical(&self) -> bool;
}

erased_serde::serialize_trait_object!(Event);

/// One event as delivered: the application's [`Event`] plus what the runtime stamped on it.
///
/// Cheap to clone (two reference counts). Fields are read-only, so an envelope cannot be
/// re-addressed to another user after the fact. Its serde form:
///
/// ```json
/// {"seq":1,"user_id":"alice","thread_id":"t-1","run_id":"r-1","request_id":"req-…",
///  "timestamp_ms":1767225600000,"critical":true,"event":{"type":"agent_started"}}
/// ```
#[derive(Clone)]
pub struct Envelope {
    context: RequestContext,
    seq: u64,
    timestamp: SystemTime,
    critical: bool,
    event: Arc<dyn Event>,
}

impl Envelope {
    /// Stamps `event` for the request `context`; only emitters do this.
    pub(crate) fn stamp(context: &RequestContext, seq: u64, event: Arc<dyn Event>) -> Self {
        Self {
            context: context.clone(),
            seq,
            timestamp: SystemTime::now(),
            critical: event.critical(),
            event,
        }
    }

    /// The user of the request that emitted this event.
    pub fn user_id(&self) -> &UserId {
        self.context.user_id()
    }

    /// The thread of the request that emitted this event.
    pub fn thread_id(&self) -> &ThreadId {
        self.context.thread_id()
    }

    /// The run of the request that emitted this event.
    pub fn run_id(&self) -> &RunId {
        self.context.run_id()
    }

    /// The request that emitted this event.
    pub fn request_id(&self) -> &RequestId {
        self.context.request_id()
    }

    /// Position in its run's stream: 1 for the first event, then +1 without gaps.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// When the event was emitted.
    pub fn timestamp(&self) -> SystemTime {
        self.timestamp
    }

    /// Whether the event is critical (as classified when it was emitted).
    pub fn critical(&self) -> bool {
        self.critical
    }

    /// The application event.
    pub fn event(&self) -> &dyn Event {
        &*self.event
    }

    /// The application event, if it is an `E`.
    pub fn downcast_ref<E: Event>(&self) -> Option<&E> {
        let any: &dyn Any = &*self.event;
        any.downcast_ref::<E>()
    }

    /// The envelope as one line of JSON (the form shown in the [type docs](Self)).
    ///
    /// # Errors
    /// Whatever the event's own `Serialize` impl reports.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// The envelope's JSON form with `event` in the place of its event: what a hub sends after
    /// sanitising the payload. The stamp (ids, `seq`, timestamp, class) is unchanged.
    ///
    /// # Errors
    /// Whatever `event`'s `Serialize` impl reports.
    pub fn to_json_with_event<E: serde::Serialize + ?Sized>(
        &self,
        event: &E,
    ) -> Result<String, serde_json::Error> {
        struct WithEvent<'a, E: ?Sized>(&'a Envelope, &'a E);
        impl<E: serde::Serialize + ?Sized> serde::Serialize for WithEvent<'_, E> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.serialize_with_event(self.1, serializer)
            }
        }
        serde_json::to_string(&WithEvent(self, event))
    }

    fn serialize_with_event<S: serde::Serializer, E: serde::Serialize + ?Sized>(
        &self,
        event: &E,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let millis = self
            .timestamp
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let mut s = serializer.serialize_struct("Envelope", 8)?;
        s.serialize_field("seq", &self.seq)?;
        s.serialize_field("user_id", self.user_id().as_str())?;
        s.serialize_field("thread_id", self.thread_id().as_str())?;
        s.serialize_field("run_id", self.run_id().as_str())?;
        s.serialize_field("request_id", self.request_id().as_str())?;
        s.serialize_field("timestamp_ms", &millis)?;
        s.serialize_field("critical", &self.critical)?;
        s.serialize_field("event", event)?;
        s.end()
    }
}

impl Classified for Envelope {
    fn critical(&self) -> bool {
        self.critical
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("seq", &self.seq)
            .field("user_id", self.user_id())
            .field("run_id", self.run_id())
            .field("critical", &self.critical)
            .field("event", &self.event)
            .finish_non_exhaustive()
    }
}

impl serde::Serialize for Envelope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize_with_event(&*self.event, serializer)
    }
}

/// Where a request's envelopes go: a per-run [`channel`], or an application hub that routes
/// each envelope to its user's connections (by [`Envelope::user_id`], which the runtime
/// stamped). Given to [`Runtime::run_with_sink`](crate::Runtime::run_with_sink).
///
/// `deliver` is called on the request's task while the emitter holds its sequence lock, so
/// envelopes of one run arrive in `seq` order. It must not block or wait, and must not emit
/// into the same emitter.
pub trait EventSink: Send + Sync {
    /// Takes one envelope.
    ///
    /// # Errors
    /// The [`CloseReason`] if this sink no longer accepts the run's events; the request's
    /// `emit` then reports [`EmitError::Closed`](crate::EmitError::Closed).
    fn deliver(&self, envelope: Envelope) -> Result<(), CloseReason>;

    /// Called once when the run whose envelopes this sink received ends, however it ends
    /// (after its last envelope). A hub can start the clock on the run's replay buffer here.
    /// Must not block. The default does nothing.
    fn run_ended(&self, context: &RequestContext) {
        let _ = context;
    }
}

impl EventSink for EventSender<Envelope> {
    fn deliver(&self, envelope: Envelope) -> Result<(), CloseReason> {
        self.send(envelope).map(|_| ())
    }
}
