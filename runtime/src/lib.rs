//! The `isolate` runtime: every request gets its own context and its own mutable state.
//!
//! - [`ids`]: validated [`UserId`], [`ThreadId`], [`RunId`], [`RequestId`] (placeholders such as
//!   `"default"` or `"test_1"` are rejected).
//! - [`context`]: [`RequestContext`], the immutable identity of one request, and its children.
//! - [`scope`]: [`RequestScope`], what one request owns (context, emitter, cancellation,
//!   cleanups), lent out as `&RequestScope`.
//! - [`emitter`]: [`EventEmitter`], per-request events stamped with the request's ids.
//! - [`error`]: [`ContextError`], [`RunError`], [`EmitError`], [`ConfigError`].
//! - [`runtime`]: [`Runtime`] runs each request in its own scope under per-user and global
//!   limits ([`RuntimeConfig`]), with timeout, cancellation, panic isolation and cleanup on every
//!   exit path.
//! - [`limiter`], [`registry`], [`metrics`]: the synchronous core the runtime is built on; every
//!   map in it is keyed by user.
//!
//! Under `--cfg loom` only the tokio-free core is compiled (ids, context, errors and the
//! model-checked limiter, registry and metrics, see `tests/loom_core.rs`), so it can be checked
//! with loom.

pub mod context;
#[cfg(not(loom))]
pub mod emitter;
pub mod error;
pub mod ids;
#[cfg(not(loom))]
pub mod scope;

pub use context::{RequestContext, RequestContextBuilder};
#[cfg(not(loom))]
pub use emitter::{Event, EventEmitter};
pub use error::{ConfigError, ContextError, EmitError, LimitKind, RunError};
pub use ids::{IdKind, RequestId, RunId, ThreadId, UserId};
#[cfg(not(loom))]
pub use scope::{CancellationToken, RequestScope};

// -- runtime (runtime-core branch) --
pub mod limiter;
pub mod metrics;
pub mod registry;
#[cfg(not(loom))]
pub mod runtime;
mod sync;

pub use metrics::MetricsSnapshot;
#[cfg(not(loom))]
pub use runtime::{
    Occupancy, OverflowPolicy, RunInfo, Runtime, RuntimeConfig, RuntimeConfigBuilder,
};

// -- frozen & factories (macros branch) --
