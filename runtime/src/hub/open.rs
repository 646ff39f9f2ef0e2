//! [`OpenRun`]: a run opened in a hub, to be run in a runtime.

use std::sync::Arc;

use super::error::HubError;
use super::frame::RunOutcome;
use super::{Hub, RunSink};
use crate::context::RequestContext;
use crate::error::RunError;
use crate::events::EventSink;
use crate::ids::RunId;
use crate::runtime::Runtime;
use crate::scope::RequestScope;

/// A run opened in a [`Hub`] and not yet run: opening reserves the run in the hub (so a
/// handler can refuse it before answering), [`run`](Self::run) runs it in the runtime with its
/// events going to the hub, then tells the hub how it ended.
///
/// Dropping an `OpenRun` without running it ends the hub's run with
/// [`RunOutcome::Unknown`].
///
/// ```
/// use isolate::hub::{Hub, HubConfig, HubError, LocalHub, OpenRun};
/// use isolate::{Authority, RequestContext, RunId, Runtime, RuntimeConfig, ThreadId, UserId};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let authority = Authority::new();
/// let runtime = Runtime::new(RuntimeConfig::default(), &authority);
/// let hub = LocalHub::new(HubConfig::default(), &authority);
/// let ctx = |run: &str| {
///     RequestContext::builder(
///         authority.vouch(UserId::new("alice").unwrap()),
///         ThreadId::new("t-1").unwrap(),
///         RunId::new(run).unwrap(),
///     )
///     .build()
///     .unwrap()
/// };
/// let open = OpenRun::open(&runtime, &hub, ctx("r-1"))?;
/// // While it is open, the same run cannot be opened again.
/// assert!(matches!(OpenRun::open(&runtime, &hub, ctx("r-1")), Err(HubError::RunActive { .. })));
/// let answer = open.run(async |scope| scope.emitter().emitted()).await?;
/// assert_eq!(answer, 0);
/// # Ok(())
/// # }
/// ```
pub struct OpenRun {
    runtime: Runtime,
    ctx: RequestContext,
    sink: Arc<dyn RunSink>,
}

impl OpenRun {
    /// Opens `ctx`'s run in `hub`, to be run in `runtime`.
    ///
    /// # Errors
    /// Whatever [`Hub::open_run`] refuses.
    pub fn open(runtime: &Runtime, hub: &dyn Hub, ctx: RequestContext) -> Result<Self, HubError> {
        let sink = hub.open_run(&ctx)?;
        Ok(Self {
            runtime: runtime.clone(),
            ctx,
            sink,
        })
    }

    /// The run's context.
    pub fn context(&self) -> &RequestContext {
        &self.ctx
    }

    /// The run's id.
    pub fn run_id(&self) -> &RunId {
        self.ctx.run_id()
    }

    /// Runs `f` in the runtime ([`Runtime::run_with_sink`]) with the run's events going to
    /// the hub, then tells the hub how the run ended.
    ///
    /// # Errors
    /// As [`Runtime::run`].
    pub async fn run<T, F>(self, f: F) -> Result<T, RunError>
    where
        F: AsyncFnOnce(&RequestScope) -> T,
    {
        let sink: Arc<dyn EventSink> = self.sink.clone();
        let result = self.runtime.run_with_sink(self.ctx, sink, f).await;
        self.sink.finish(RunOutcome::of(&result));
        result
    }
}

impl std::fmt::Debug for OpenRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenRun")
            .field("user_id", self.ctx.user_id())
            .field("run_id", self.ctx.run_id())
            .finish_non_exhaustive()
    }
}
