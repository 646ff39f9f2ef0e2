//! Per-user event delivery: a [`Hub`] routes each run's envelopes to its user's live
//! connections, and keeps a bounded replay buffer per run for connections that come back.
//!
//! This replaces the singleton WebSocket bridge: there is no "current connection" to send to.
//! A run's events enter the hub through the [`RunSink`] the hub opened for that run's
//! [`RequestContext`]; the runtime stamps every [`Envelope`] with the run's user, so the hub
//! files it under that user and nobody else. A connection [subscribes](Hub::subscribe) as an
//! [`AuthenticatedUser`] and receives that user's events only.
//!
//! - [`LocalHub`]: the in-process default. Every map is keyed by user (then run or connection);
//!   entries go when the user's last connection and last retained run go; every buffer is
//!   bounded by [`HubConfig`].
//! - Each connection has one bounded queue ([`events::channel`](crate::events::channel)):
//!   a slow connection loses non-critical events (it is told how many: [`Push::Missed`]), and
//!   rather than lose a critical one it is [kicked](Subscription::kicked) with
//!   [`CloseReason::Overflow`](crate::events::CloseReason::Overflow). The run itself never
//!   waits for a connection.
//! - Each run has a replay buffer (default 256 events, kept [`HubConfig::retention`] after the
//!   run ends): subscribing with a [`Resume`] point gives every retained event after it, then
//!   the live ones, with no duplicate and no gap (or an explicit [`Push::Gap`] if the buffer no
//!   longer reaches back that far).
//! - [`Sanitizer`]: payloads pass a key deny-list and a string-length limit before they leave
//!   the process.
//! - [`OpenRun`]: open a run in a hub and run it in a [`Runtime`] in one step.
//!
//! ```
//! use isolate::hub::{Hub, HubConfig, LocalHub, OpenRun, Push};
//! use isolate::agent::AgentEvent;
//! use isolate::{Authority, RequestContext, RunId, Runtime, RuntimeConfig, ThreadId, UserId};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let authority = Authority::new();
//! let runtime = Runtime::new(RuntimeConfig::default(), &authority);
//! let hub = LocalHub::new(HubConfig::default(), &authority);
//!
//! let alice = authority.vouch(UserId::new("alice")?);
//! let mut tab = hub.subscribe(&alice, &[])?; // one of alice's connections
//!
//! let ctx = RequestContext::builder(alice, ThreadId::new("t-1")?, RunId::new("r-1")?).build()?;
//! OpenRun::open(&runtime, &hub, ctx)?
//!     .run(async |scope| {
//!         scope.emitter().emit(AgentEvent::started("researcher", "find flights")).unwrap();
//!     })
//!     .await?;
//!
//! let Some(Push::Event(frame)) = tab.next().await else { panic!() };
//! assert_eq!((frame.run_id().as_str(), frame.seq()), ("r-1", 1));
//! assert!(frame.json().contains(r#""type":"agent_started""#));
//! assert!(matches!(tab.next().await, Some(Push::RunEnded { last_seq: 1, .. })));
//! # Ok(())
//! # }
//! ```

mod config;
mod error;
mod frame;
mod local;
mod open;
mod replay;
mod sanitize;
mod subscription;

use std::sync::Arc;

pub use config::{HubConfig, HubConfigBuilder};
pub use error::HubError;
pub use frame::{Frame, Push, RunOutcome};
pub use local::{ConnectionStats, HubStats, LocalHub, RunStats, UserStats};
pub use open::OpenRun;
pub use sanitize::{Sanitizer, SanitizerBuilder};
pub use subscription::{Resume, ResumeParseError, Subscription};

use crate::auth::AuthenticatedUser;
use crate::context::RequestContext;
use crate::events::EventSink;

#[allow(unused_imports)] // for the module docs
use crate::{Envelope, Runtime};

/// Where runs send their events and where users' connections subscribe. [`LocalHub`] is the
/// in-process implementation; a multi-server deployment can put a broker behind this trait.
///
/// Implementations must key everything by the user: [`subscribe`](Self::subscribe) yields
/// only `user`'s events, and [`open_run`](Self::open_run)'s sink files each envelope under the
/// user the runtime stamped on it.
pub trait Hub: Send + Sync + 'static {
    /// Opens `ctx`'s run and returns the sink its events go to (give it to
    /// [`Runtime::run_with_sink`](crate::Runtime::run_with_sink), or use [`OpenRun`]). The run
    /// is live until its emitter goes ([`EventSink::run_ended`]), [`RunSink::finish`] is called
    /// or the last clone of the sink is dropped, whichever comes first: a clone kept by the
    /// application cannot keep it live.
    ///
    /// # Errors
    /// [`HubError::NotAuthenticated`] for a user this hub's authority did not vouch for,
    /// [`HubError::RunActive`] if the user already has this run live, and the capacity errors
    /// of [`HubError`].
    fn open_run(&self, ctx: &RequestContext) -> Result<Arc<dyn RunSink>, HubError>;

    /// Subscribes a new connection of `user`: the retained events after each [`Resume`] point,
    /// then every event of `user`'s runs as it is emitted.
    ///
    /// # Errors
    /// [`HubError::NotAuthenticated`], [`HubError::UnknownRun`] for a resume point naming a run
    /// `user` has no retained events of (another user's run looks exactly like a run that
    /// never existed), [`HubError::ResumeAhead`], and the capacity errors of [`HubError`].
    fn subscribe(
        &self,
        user: &AuthenticatedUser,
        resume: &[Resume],
    ) -> Result<Subscription, HubError>;
}

/// The hub's end of one open run: takes the run's envelopes ([`EventSink`]) and learns how the
/// run ended.
pub trait RunSink: EventSink {
    /// Records that the run ended with `outcome` after its last event; connections get
    /// [`Push::RunEnded`]. Later calls are ignored. Dropping the last clone of the sink without
    /// calling it reports [`RunOutcome::Unknown`].
    fn finish(&self, outcome: RunOutcome);
}
