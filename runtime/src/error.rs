//! Error types: [`ContextError`] (building ids and contexts), [`RunError`] (running a request)
//! and [`EmitError`] (emitting an event).

use std::time::Duration;

use crate::ids::{IdKind, RunId};

/// Why an id, a context or a child context could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// The id was empty (or only whitespace).
    #[error("{kind} is empty")]
    EmptyId {
        /// Which id.
        kind: IdKind,
    },
    /// The id is longer than [`MAX_ID_LEN`](crate::ids::MAX_ID_LEN) bytes.
    #[error("{kind} is too long: {len} bytes, at most {max} allowed")]
    IdTooLong {
        /// Which id.
        kind: IdKind,
        /// Its length in bytes, after trimming.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The id contains a control character (newline, NUL, escape, ...).
    #[error("{kind} contains a control character")]
    ControlCharacter {
        /// Which id.
        kind: IdKind,
    },
    /// The id contains a character that renders as nothing or as something else: a format or
    /// bidi control (zero-width space, right-to-left override, ...), a line separator, a
    /// private-use or unassigned code point.
    #[error("{kind} contains the invisible character U+{:04X}", u32::from(*character))]
    InvisibleCharacter {
        /// Which id.
        kind: IdKind,
        /// The offending character.
        character: char,
    },
    /// The id is a placeholder such as `none`, `default`, `test_1` rather than a real identifier.
    #[error("{kind} `{value}` is a placeholder, not a real identifier")]
    PlaceholderId {
        /// Which id.
        kind: IdKind,
        /// The rejected (trimmed) value.
        value: String,
    },
    /// A metadata key is reserved for the runtime (`user_id`, `run_id`, `isolate.*`, ...).
    #[error("metadata key `{key}` is reserved for the runtime")]
    ReservedMetadataKey {
        /// The rejected key.
        key: String,
    },
    /// A metadata entry is malformed (empty key, too long, control characters, too many entries).
    #[error("invalid metadata entry `{key}`: {reason}")]
    InvalidMetadata {
        /// The offending key (possibly truncated for display).
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The operation name given to [`RequestContext::child`](crate::RequestContext::child) is
    /// malformed.
    #[error("invalid operation name: {reason}")]
    InvalidOperation {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// [`RequestContext::child`](crate::RequestContext::child) was called on a context that is
    /// already at the maximum depth.
    #[error("context nesting deeper than {max} levels")]
    DepthLimitExceeded {
        /// The maximum depth ([`MAX_DEPTH`](crate::context::MAX_DEPTH)).
        max: u32,
    },
}

/// Which concurrency limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// The per-user limit: this user already has that many runs executing.
    PerUser {
        /// The configured limit.
        limit: usize,
    },
    /// The global limit: the whole runtime already has that many runs executing.
    Global {
        /// The configured limit.
        limit: usize,
    },
    /// The user's wait queue is full: that many runs already wait for one of its slots.
    Queue {
        /// The configured bound ([`RuntimeConfig::max_queued_per_user`](crate::RuntimeConfig::max_queued_per_user)).
        limit: usize,
    },
}

impl std::fmt::Display for LimitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitKind::PerUser { limit } => write!(f, "per-user limit of {limit} concurrent runs"),
            LimitKind::Global { limit } => write!(f, "global limit of {limit} concurrent runs"),
            LimitKind::Queue { limit } => write!(f, "per-user queue of {limit} waiting runs"),
        }
    }
}

/// Why a request run by the [`Runtime`](crate::Runtime) did not produce a value.
///
/// ```
/// use isolate::{LimitKind, RunError};
///
/// let e = RunError::Rejected(LimitKind::PerUser { limit: 5 });
/// assert_eq!(e.to_string(), "request rejected: per-user limit of 5 concurrent runs reached");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A concurrency limit was reached and the overflow policy is `Reject`.
    #[error("request rejected: {0} reached")]
    Rejected(LimitKind),
    /// The request did not finish (including any wait for a permit) within its timeout.
    #[error("request timed out after {0:?}")]
    TimedOut(Duration),
    /// The request was cancelled through [`Runtime::cancel`](crate::Runtime::cancel), runtime
    /// shutdown, or its own cancellation token.
    #[error("request cancelled")]
    Cancelled,
    /// The request panicked; the panic was contained and only this request failed.
    #[error("request panicked: {message}")]
    Panicked {
        /// The panic payload if it was a string, otherwise a generic note.
        message: String,
    },
    /// The request's user was not vouched for by this runtime's [`Authority`](crate::Authority):
    /// its identity was made up elsewhere, so the runtime does not act for it.
    #[error("the request's user was not authenticated by this runtime's authority")]
    NotAuthenticated,
    /// A run with the same id is already active for this user (the key is always (user, run)).
    #[error("run `{run_id}` is already active for this user")]
    AlreadyRunning {
        /// The duplicated run id.
        run_id: RunId,
    },
}

/// Why an event could not be emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The run's consumer no longer takes events: it went away, or it was closed rather than
    /// silently lose a critical event. The event was not delivered.
    #[error("event not delivered: {0}")]
    Closed(crate::events::CloseReason),
}

/// Why a [`RuntimeConfig`](crate::RuntimeConfig) is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A limit is zero: no request could ever run (and `Wait` would wait forever).
    #[error("{name} must be at least 1")]
    ZeroLimit {
        /// Which setting.
        name: &'static str,
    },
    /// The request timeout is zero.
    #[error("request timeout must be greater than zero")]
    ZeroTimeout,
}
