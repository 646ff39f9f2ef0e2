//! The `isolate` runtime: every request gets its own context and its own mutable state.
//!
//! - [`ids`]: validated [`UserId`], [`ThreadId`], [`RunId`], [`RequestId`] (placeholders such as
//!   `"default"` or `"test_1"` are rejected).
//! - [`auth`]: [`Authority`] mints [`AuthenticatedUser`], the capability to act as a user
//!   (a [`UserId`] built from a string cannot start, list or cancel anyone's runs).
//! - [`context`]: [`RequestContext`], the immutable identity of one request, and its children.
//! - [`scope`]: [`RequestScope`], what one request owns (context, emitter, cancellation,
//!   cleanups), lent out as `&RequestScope`.
//! - [`events`]: typed [`Event`]s, the runtime-stamped [`Envelope`], [`EventSink`] and the bounded
//!   queue for slow consumers ([`events::channel`]: non-critical events may be dropped and
//!   counted, critical ones never silently).
//! - [`emitter`]: [`EventEmitter`], a request's own emitter (`emit(event)`, never blocks).
//! - [`error`]: [`ContextError`], [`RunError`], [`EmitError`], [`ConfigError`].
//! - [`runtime`]: [`Runtime`] runs each request in its own scope under per-user and global
//!   limits ([`RuntimeConfig`]), with timeout, cancellation, panic isolation and cleanup on every
//!   exit path.
//! - [`admission`], [`metrics`]: the synchronous core the runtime is built on (limits with
//!   bounded FIFO queues, the registry of runs, counters); every map in it is keyed by user.
//! - [`hub`]: per-user event delivery: a [`Hub`](hub::Hub) routes each run's events to its
//!   user's connections only, with bounded per-connection queues and per-run replay;
//!   [`agent`]: the agent event types; `axum` (feature `axum`): the authenticating layer, the
//!   `Isolated` extractor and the WebSocket event stream.
//!
//! Under `--cfg loom` only the tokio-free core is compiled (ids, context, errors and the
//! model-checked admission core and event queue, see `tests/loom_core.rs`), so it can be checked
//! with loom.

// Under loom only the core is compiled; helpers used by the async layer are then unused.
#![cfg_attr(loom, expect(dead_code))]

pub mod auth;
pub mod context;
#[cfg(not(loom))]
pub mod emitter;
pub mod error;
pub mod events;
pub mod ids;
#[cfg(not(loom))]
pub mod scope;

pub use auth::{AuthenticatedUser, Authority};
pub use context::{RequestContext, RequestContextBuilder};
#[cfg(not(loom))]
pub use emitter::EventEmitter;
pub use error::{ConfigError, ContextError, EmitError, LimitKind, RunError};
pub use events::{Envelope, Event, EventSink};
pub use ids::{IdKind, RequestId, RunId, ThreadId, UserId};
#[cfg(not(loom))]
pub use scope::{CancellationToken, RequestScope};

// -- runtime (runtime-core branch) --
pub mod admission;
pub mod metrics;
#[cfg(not(loom))]
pub mod runtime;
mod sync;

pub use metrics::MetricsSnapshot;
#[cfg(not(loom))]
pub use runtime::{
    Occupancy, OverflowPolicy, RunInfo, Runtime, RuntimeConfig, RuntimeConfigBuilder,
};

// -- per-user event delivery (branch `runtime-events`) --
// - `agent`: the agent event types (`agent_started`, ..., `progress_update`).
// - `hub`: the per-user hub (`Hub` trait, in-process `LocalHub`), replay, sanitising.
// - `axum` (feature `axum`): authenticating tower layer, `Isolated` extractor, WebSocket stream.
#[cfg(not(loom))]
pub mod agent;
#[cfg(all(feature = "axum", not(loom)))]
pub mod axum;
#[cfg(not(loom))]
pub mod hub;

// -- frozen & factories (macros branch) --
// ---- begin: frozen dependencies and per-request factories (branch `macros`) ----
// - `frozen`: the `Frozen` deep-immutability marker, `Shared<T>` + `SharedClient` for reviewed
//   shared clients, `Configured<Id>` for ids that are configuration, not a request's identity.
// - `factory`: the `Sealed<'r>` token and what the derives expand to (`__private`, not API).
// - the macros: `#[derive(Frozen)]`, `#[derive(RequestScoped)]` (per-request factories),
//   `#[isolate::entry]`, `#[isolate::allow(rule, reason = "...")]`. See the README's "The cure"
//   section and docs/ARCHITECTURE.md.
// Lets the derives' `::isolate::...` paths resolve inside this crate too.
extern crate self as isolate;

mod factory;
mod frozen;

pub use factory::{__private, Sealed};
pub use frozen::{Configured, ConfiguredId, Frozen, Shared, SharedClient};
/// `#[derive(Frozen)]`: checks every field is [`Frozen`] and implements it.
pub use isolate_macros::Frozen;
/// `#[derive(RequestScoped)]`: generates the per-request factory of a struct.
pub use isolate_macros::RequestScoped;
/// `#[isolate::allow(rule, reason = "...")]`: a reviewed suppression of a linter rule.
pub use isolate_macros::allow;
/// `#[isolate::entry]`: marks a request entry point for the linter.
pub use isolate_macros::entry;
// ---- end: frozen dependencies and per-request factories ----
