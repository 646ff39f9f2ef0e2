//! [`Isolated`]: what a handler behind the [`IsolateLayer`](super::IsolateLayer) gets.

use std::sync::Arc;

use ::axum::extract::FromRequestParts;
use ::axum::http::StatusCode;
use ::axum::http::request::Parts;

use super::ws::StreamConfig;
use crate::auth::AuthenticatedUser;
use crate::context::{RequestContext, RequestContextBuilder};
use crate::hub::{Hub, HubError, OpenRun};
use crate::ids::{RequestId, RunId, ThreadId, UserId};
use crate::runtime::Runtime;

/// The authenticated request, as an axum extractor: its user (from the layer's
/// [`Authenticate`](super::Authenticate), never from the URL or body), its request id, and the
/// way to run work in a [`RequestScope`](crate::RequestScope) whose events reach that user's
/// connections: [`context`](Self::context), then [`open`](Self::open), then
/// [`OpenRun::run`].
///
/// On a route without the layer it refuses the request with `500` (a server bug, not the
/// client's): a handler never runs without an authenticated user.
///
/// ```
/// use axum::http::StatusCode;
/// use isolate::agent::AgentEvent;
/// use isolate::axum::Isolated;
/// use isolate::ThreadId;
///
/// async fn start(isolated: Isolated) -> Result<String, StatusCode> {
///     let thread = ThreadId::new("thread-1").map_err(|_| StatusCode::BAD_REQUEST)?;
///     let ctx = isolated
///         .context(thread, Isolated::new_run_id())
///         .build()
///         .map_err(|_| StatusCode::BAD_REQUEST)?;
///     let run = isolated.open(ctx).map_err(|_| StatusCode::CONFLICT)?;
///     let run_id = run.run_id().to_string();
///     tokio::spawn(run.run(async |scope| {
///         let _ = scope.emitter().emit(AgentEvent::started("helper", "hi"));
///     }));
///     Ok(run_id)
/// }
/// ```
#[derive(Clone)]
pub struct Isolated {
    user: AuthenticatedUser,
    request_id: RequestId,
    runtime: Runtime,
    hub: Arc<dyn Hub>,
    stream: Arc<StreamConfig>,
}

impl Isolated {
    pub(super) fn new(
        user: AuthenticatedUser,
        request_id: RequestId,
        runtime: Runtime,
        hub: Arc<dyn Hub>,
        stream: Arc<StreamConfig>,
    ) -> Self {
        Self {
            user,
            request_id,
            runtime,
            hub,
            stream,
        }
    }

    /// A fresh run id, `run-` and a random UUID: runs are named by the server, so a client
    /// cannot pick (or guess) another user's.
    pub fn new_run_id() -> RunId {
        let mut buf = uuid::Uuid::encode_buffer();
        let uuid = uuid::Uuid::new_v4().simple().encode_lower(&mut buf);
        match RunId::new(format!("run-{uuid}")) {
            Ok(run) => run,
            Err(_) => unreachable!("`run-` and 32 hex digits is a valid run id"),
        }
    }

    /// The authenticated user: the capability to list or cancel that user's runs
    /// ([`Runtime::cancel`]).
    pub fn user(&self) -> &AuthenticatedUser {
        &self.user
    }

    /// The user's id.
    pub fn user_id(&self) -> &UserId {
        self.user.user_id()
    }

    /// This request's id (also in the `x-request-id` response header).
    pub fn request_id(&self) -> &RequestId {
        &self.request_id
    }

    /// The runtime requests run in.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The hub events go to.
    pub fn hub(&self) -> &Arc<dyn Hub> {
        &self.hub
    }

    pub(super) fn stream_config(&self) -> &StreamConfig {
        &self.stream
    }

    /// A context builder for this user's `run` in `thread`, with this request's id; add
    /// metadata and [`build`](RequestContextBuilder::build) it.
    pub fn context(&self, thread: ThreadId, run: RunId) -> RequestContextBuilder {
        RequestContext::builder(self.user.clone(), thread, run).request_id(self.request_id.clone())
    }

    /// Opens `ctx`'s run in the hub, ready to run in the runtime ([`OpenRun::run`]).
    ///
    /// # Errors
    /// [`HubError::NotAuthenticated`] if `ctx` is not this request's user's, and whatever
    /// the hub refuses.
    pub fn open(&self, ctx: RequestContext) -> Result<OpenRun, HubError> {
        if ctx.user() != &self.user {
            return Err(HubError::NotAuthenticated);
        }
        OpenRun::open(&self.runtime, &*self.hub, ctx)
    }
}

impl std::fmt::Debug for Isolated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Isolated")
            .field("user_id", self.user_id())
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Isolated {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Self>().cloned().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "this route is not behind the isolate layer",
        ))
    }
}
