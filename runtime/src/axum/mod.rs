//! The axum integration (feature `axum`): serve per-user event streams from an axum app.
//!
//! - [`IsolateLayer`]: a tower layer that authenticates every request through an
//!   [`Authenticate`] implementation (headers only: identity never comes from the URL or the
//!   body), answers `401` and nothing else when that fails, gives each request an id (echoed
//!   in `x-request-id`) and hands handlers an [`Isolated`].
//! - [`Isolated`]: the extractor: the authenticated user, and the way to open and run a run
//!   whose events go to that user's connections.
//! - [`event_stream`]: the WebSocket handler: subscribes the connection to the user's hub
//!   entry, honours `last_seq`, sends JSON text frames, answers pings, cleans up on close.
//! - [`HmacTokens`]: bearer tokens signed with HMAC-SHA256, an [`Authenticate`] ready to use.
//!
//! `runtime/examples/agent_server.rs` is a complete server built from these.

mod auth;
mod extract;
mod layer;
mod token;
mod ws;

pub use auth::{Authenticate, BEARER_PROTOCOL_PREFIX, Unauthenticated, bearer_token};
pub use extract::Isolated;
pub use layer::{IsolateLayer, IsolateService, REQUEST_ID_HEADER};
pub use token::{HmacTokens, WeakSecret};
pub use ws::{MAX_RESUME_POINTS, PROTOCOL, StreamConfig, event_stream};
