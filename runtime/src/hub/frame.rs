//! What a hub sends: [`Frame`] (one event, encoded once) and [`Push`] (everything a connection
//! receives, in order), plus [`RunOutcome`].

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::sanitize::Sanitizer;
use crate::error::RunError;
use crate::events::{Classified, Envelope};
use crate::ids::RunId;

/// One event as it goes on the wire: the [`Envelope`]'s JSON form with the event payload
/// [sanitised](Sanitizer). Encoded once per event and shared by every connection and the
/// replay buffer (cloning is two reference counts).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    run_id: RunId,
    seq: u64,
    critical: bool,
    json: Arc<str>,
}

impl Frame {
    /// Encodes `envelope`, passing its event through `sanitizer`.
    pub fn encode(envelope: &Envelope, sanitizer: &Sanitizer) -> Self {
        let event = sanitizer.event_json(envelope.event());
        // A `serde_json::Value` always serialises.
        let json = envelope.to_json_with_event(&event).unwrap_or_default();
        Self {
            run_id: envelope.run_id().clone(),
            seq: envelope.seq(),
            critical: envelope.critical(),
            json: Arc::from(json),
        }
    }

    /// A frame from parts already encoded elsewhere (a [`Hub`](super::Hub) behind a broker
    /// receives frames other servers encoded). `json` must be the frame's whole JSON text.
    pub fn from_parts(run_id: RunId, seq: u64, critical: bool, json: Arc<str>) -> Self {
        Self {
            run_id,
            seq,
            critical,
            json,
        }
    }

    /// The run that emitted the event.
    pub fn run_id(&self) -> &RunId {
        &self.run_id
    }

    /// The event's place in its run (1, 2, 3, ...).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Whether the event is critical.
    pub fn critical(&self) -> bool {
        self.critical
    }

    /// The JSON text sent to clients.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The JSON text, shared.
    pub fn json_arc(&self) -> &Arc<str> {
        &self.json
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("run_id", &self.run_id)
            .field("seq", &self.seq)
            .field("critical", &self.critical)
            .field("bytes", &self.json.len())
            .finish()
    }
}

/// How a run ended, as told to its user's connections in [`Push::RunEnded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunOutcome {
    /// The run's code returned.
    Completed,
    /// The runtime refused to run it (a limit was reached).
    Rejected,
    /// It ran past its timeout.
    TimedOut,
    /// It was cancelled (by its user, or the runtime shutting down).
    Cancelled,
    /// Its code panicked (the panic was contained).
    Panicked,
    /// It failed before running (for example its user was not authenticated).
    Failed,
    /// Its sink was dropped without being told.
    Unknown,
}

impl RunOutcome {
    /// The outcome of a run that returned `result` from the runtime.
    pub fn of<T>(result: &Result<T, RunError>) -> Self {
        match result {
            Ok(_) => Self::Completed,
            Err(RunError::Rejected(_)) => Self::Rejected,
            Err(RunError::TimedOut(_)) => Self::TimedOut,
            Err(RunError::Cancelled) => Self::Cancelled,
            Err(RunError::Panicked { .. }) => Self::Panicked,
            Err(_) => Self::Failed,
        }
    }

    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Rejected => "rejected",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
            Self::Panicked => "panicked",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
        }
    }
}

/// What a [`Subscription`](super::Subscription) yields, in order. Apart from
/// [`Event`](Self::Event) (the envelope's JSON), each has a JSON form with a top-level
/// `"type"` ([`to_json`](Self::to_json)), so a client tells them apart by `"event"` versus
/// `"type"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    /// One event of one of the user's runs.
    Event(Frame),
    /// This connection was too slow and lost this many non-critical events here:
    /// `{"type":"missed","count":n}`.
    Missed(u64),
    /// A resumed run's replay buffer no longer reaches back to the resume point: events
    /// `from_seq..=to_seq` cannot be replayed.
    /// `{"type":"replay_gap","run_id":..,"from_seq":..,"to_seq":..}`.
    Gap {
        /// The run.
        run_id: RunId,
        /// First event that cannot be replayed.
        from_seq: u64,
        /// Last event that cannot be replayed.
        to_seq: u64,
    },
    /// A run ended after its event `last_seq`; nothing more will come for it:
    /// `{"type":"run_ended","run_id":..,"last_seq":..,"outcome":".."}`.
    RunEnded {
        /// The run.
        run_id: RunId,
        /// Its last event's sequence number (0 if it emitted none).
        last_seq: u64,
        /// How it ended.
        outcome: RunOutcome,
    },
}

impl Push {
    /// The JSON text sent to clients.
    pub fn to_json(&self) -> Cow<'_, str> {
        let value = match self {
            Self::Event(frame) => return Cow::Borrowed(frame.json()),
            Self::Missed(count) => serde_json::json!({"type": "missed", "count": count}),
            Self::Gap {
                run_id,
                from_seq,
                to_seq,
            } => serde_json::json!({
                "type": "replay_gap",
                "run_id": run_id.as_str(),
                "from_seq": from_seq,
                "to_seq": to_seq,
            }),
            Self::RunEnded {
                run_id,
                last_seq,
                outcome,
            } => serde_json::json!({
                "type": "run_ended",
                "run_id": run_id.as_str(),
                "last_seq": last_seq,
                "outcome": outcome.as_str(),
            }),
        };
        Cow::Owned(value.to_string())
    }
}

impl Classified for Push {
    /// Only non-critical events may be dropped for a slow connection; a run's end is as
    /// critical as its results.
    fn critical(&self) -> bool {
        match self {
            Self::Event(frame) => frame.critical,
            Self::Missed(_) | Self::Gap { .. } | Self::RunEnded { .. } => true,
        }
    }
}
