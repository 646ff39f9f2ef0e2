//! [`EventEmitter`]: a request's own emitter; every event it sends is stamped with that
//! request's ids.
//!
//! An emitter is made only by the runtime (or a standalone scope) for one
//! [`RequestContext`] and cannot be re-pointed: `emit` takes no user, connection or address, so
//! a request cannot speak for another user. Events become [`Envelope`]s with a per-run
//! sequence number starting at 1, and go to the run's consumer (a bounded
//! [`channel`](crate::events::channel) or an [`EventSink`]); with no consumer they are counted
//! and dropped.

use std::sync::Arc;

use crate::context::RequestContext;
use crate::error::EmitError;
use crate::events::{Envelope, Event, EventSender, EventSink};
use crate::sync::{Mutex, lock};

/// Default capacity of a run's event queue (see [`RuntimeConfig::event_capacity`](crate::RuntimeConfig::event_capacity)).
pub const DEFAULT_EVENT_CAPACITY: usize = 4096;

enum Target {
    /// No consumer: events are numbered and dropped.
    Discard,
    /// A bounded per-run queue.
    Queue(EventSender<Envelope>),
    /// An application sink (e.g. a hub of connections).
    Sink(Arc<dyn EventSink>),
}

/// A request's event emitter. Not `Clone`: it lives in its
/// [`RequestScope`](crate::RequestScope) and is lent out by reference.
///
/// ```
/// use isolate::events::{Delivery, Event};
/// use isolate::{Authority, RequestContext, RunId, Runtime, RuntimeConfig, ThreadId, UserId};
///
/// #[derive(Debug, serde::Serialize)]
/// struct Token(String);
/// impl Event for Token {
///     fn critical(&self) -> bool { false }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let authority = Authority::new();
/// let runtime = Runtime::new(RuntimeConfig::default(), &authority);
/// let alice = authority.vouch(UserId::new("alice")?);
/// let ctx = RequestContext::builder(alice, ThreadId::new("t-1")?, RunId::new("r-1")?).build()?;
///
/// let (mut events, run) = runtime.run_streaming(ctx, async |scope| {
///     assert_eq!(scope.emitter().emit(Token("Hello".into())), Ok(1));
///     assert_eq!(scope.emitter().emit(Token(" world".into())), Ok(2));
/// });
/// run.await?;
/// let Some(Delivery::Item(first)) = events.recv().await else { panic!() };
/// assert_eq!((first.seq(), first.user_id().as_str()), (1, "alice"));
/// assert_eq!(first.downcast_ref::<Token>().unwrap().0, "Hello");
/// # Ok(())
/// # }
/// ```
pub struct EventEmitter {
    context: RequestContext,
    target: Target,
    /// The last sequence number handed out; held while delivering so a run's envelopes reach
    /// its consumer in `seq` order.
    last_seq: Mutex<u64>,
}

impl EventEmitter {
    /// An emitter with no consumer.
    pub(crate) fn discarding(context: RequestContext) -> Self {
        Self::with_target(context, Target::Discard)
    }

    /// An emitter feeding a bounded per-run queue.
    pub(crate) fn queued(context: RequestContext, sender: EventSender<Envelope>) -> Self {
        Self::with_target(context, Target::Queue(sender))
    }

    /// An emitter feeding an application sink.
    pub(crate) fn sink(context: RequestContext, sink: Arc<dyn EventSink>) -> Self {
        Self::with_target(context, Target::Sink(sink))
    }

    fn with_target(context: RequestContext, target: Target) -> Self {
        Self {
            context,
            target,
            last_seq: Mutex::new(0),
        }
    }

    /// The context whose ids every event is stamped with.
    pub fn context(&self) -> &RequestContext {
        &self.context
    }

    /// Emits `event`, stamped with this request's ids, the next sequence number and the time,
    /// and returns that sequence number (1 for the first event). Never waits: a consumer that
    /// cannot keep up loses non-critical events (and is told how many) or, rather than lose a
    /// critical one, is closed.
    ///
    /// # Errors
    /// [`EmitError::Closed`] if the run's consumer is gone or was closed (the event was not
    /// delivered and took no sequence number).
    pub fn emit<E: Event>(&self, event: E) -> Result<u64, EmitError> {
        let mut last = lock(&self.last_seq);
        let seq = *last + 1;
        let delivered = match &self.target {
            Target::Discard => Ok(()),
            Target::Queue(sender) => sender
                .send(Envelope::stamp(&self.context, seq, Arc::new(event)))
                .map(|_| ()),
            Target::Sink(sink) => {
                sink.deliver(Envelope::stamp(&self.context, seq, Arc::new(event)))
            }
        };
        delivered.map_err(EmitError::Closed)?;
        *last = seq;
        Ok(seq)
    }

    /// How many events this emitter has emitted (the last sequence number).
    pub fn emitted(&self) -> u64 {
        *lock(&self.last_seq)
    }
}

impl Drop for EventEmitter {
    fn drop(&mut self) {
        if let Target::Sink(sink) = &self.target {
            sink.run_ended(&self.context);
        }
    }
}

impl std::fmt::Debug for EventEmitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let target = match &self.target {
            Target::Discard => "none",
            Target::Queue(_) => "queue",
            Target::Sink(_) => "sink",
        };
        f.debug_struct("EventEmitter")
            .field("request_id", self.context.request_id())
            .field("user_id", self.context.user_id())
            .field("consumer", &target)
            .field("emitted", &self.emitted())
            .finish()
    }
}
