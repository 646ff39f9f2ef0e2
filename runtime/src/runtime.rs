//! [`Runtime`]: runs each request in its own [`RequestScope`], under per-user and global limits.

mod config;
mod guard;

use std::any::Any;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::Notify;
use tokio::time::{Instant, timeout_at};

pub use config::{OverflowPolicy, RuntimeConfig, RuntimeConfigBuilder};

use crate::context::RequestContext;
use crate::emitter::EventEmitter;
use crate::error::{LimitKind, RunError};
use crate::events::{Envelope, EventReceiver, EventSink, channel};
use crate::ids::{RequestId, RunId, ThreadId, UserId};
use crate::limiter::{Limiter, Permit};
use crate::metrics::{Metrics, MetricsSnapshot, Outcome};
use crate::registry::Registry;
use crate::scope::{CancellationToken, RequestScope};
use guard::RunGuard;

/// Runs requests, each in its own [`RequestScope`], enforcing per-user and global concurrency
/// limits, a per-request timeout, cancellation and panic isolation.
///
/// Cheap to clone (one `Arc`); clones share limits, registry and metrics. Nothing in it is keyed
/// by anything but (user, run), and no query returns another user's data.
///
/// ```
/// use isolate::{RequestContext, RunId, Runtime, RuntimeConfig, ThreadId, UserId};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let runtime = Runtime::new(RuntimeConfig::default());
/// let ctx = RequestContext::builder(
///     UserId::new("alice")?,
///     ThreadId::new("thread-1")?,
///     RunId::new("run-1")?,
/// )
/// .build()?;
///
/// let answer = runtime
///     .run(ctx, async |scope| {
///         format!("hello {}", scope.context().user_id())
///     })
///     .await?;
/// assert_eq!(answer, "hello alice");
/// assert_eq!(runtime.metrics().completed, 1);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    config: RuntimeConfig,
    limiter: Limiter,
    registry: Registry<RunEntry>,
    metrics: Metrics,
    released: Notify,
    shutdown: CancellationToken,
}

#[derive(Clone)]
struct RunEntry {
    thread_id: ThreadId,
    request_id: RequestId,
    started_at: SystemTime,
    token: CancellationToken,
    executing: bool,
}

/// What [`Runtime::active_runs`] tells about one of the caller's own runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// The run.
    pub run_id: RunId,
    /// Its thread.
    pub thread_id: ThreadId,
    /// The request executing it.
    pub request_id: RequestId,
    /// When the runtime accepted it.
    pub started_at: SystemTime,
    /// `true` once it holds a slot; `false` while waiting for one.
    pub executing: bool,
}

/// Sizes of the runtime's internal maps: all zero when no request is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Occupancy {
    /// Entries in the run registry.
    pub registered_runs: usize,
    /// Users with at least one registry entry.
    pub registered_users: usize,
    /// Limiter slots held.
    pub permits_held: usize,
    /// Users with an entry in the limiter map.
    pub limiter_users: usize,
}

impl Default for Runtime {
    fn default() -> Self {
        Self::new(RuntimeConfig::default())
    }
}

impl Runtime {
    /// A runtime with `config`'s limits.
    pub fn new(config: RuntimeConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                limiter: Limiter::new(config.per_user_limit(), config.global_limit()),
                registry: Registry::new(),
                metrics: Metrics::new(config.max_tracked_users()),
                released: Notify::new(),
                shutdown: CancellationToken::new(),
                config,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// Runs `f` for the request described by `ctx`, in a fresh [`RequestScope`] that `f`
    /// borrows.
    ///
    /// The request is registered under (user, run), waits for or is refused a slot according to
    /// the [`OverflowPolicy`], then runs until it returns, panics, times out (the timeout covers
    /// waiting too) or is cancelled. Whatever happens, including the caller dropping this future,
    /// the scope's cleanups run once, the slot and registry entry are released and the outcome is
    /// counted. The returned future is `Send` whenever `f`'s future is.
    ///
    /// # Errors
    /// [`RunError::AlreadyRunning`] if this user already has this run active;
    /// [`RunError::Rejected`] past a limit with [`OverflowPolicy::Reject`];
    /// [`RunError::TimedOut`], [`RunError::Cancelled`], [`RunError::Panicked`].
    pub async fn run<T, F>(&self, ctx: RequestContext, f: F) -> Result<T, RunError>
    where
        F: AsyncFnOnce(&RequestScope) -> T,
    {
        let emitter = EventEmitter::discarding(ctx.clone());
        self.run_inner(ctx, emitter, f).await
    }

    /// Like [`run`](Self::run), but the request's events are streamed to the returned
    /// receiver while it runs. The queue holds at most [`RuntimeConfig::event_capacity`]
    /// envelopes; `emit` never waits for the consumer: past the capacity non-critical events
    /// are dropped (the receiver gets [`Delivery::Missed`](crate::events::Delivery::Missed))
    /// and a critical one either replaces a queued non-critical event or closes the stream
    /// with [`CloseReason::Overflow`](crate::events::CloseReason::Overflow).
    ///
    /// Poll the returned future (the run) and the receiver concurrently, e.g. with
    /// `tokio::join!`, or spawn the run. The future is `Send` whenever `f`'s future is.
    ///
    /// ```
    /// use isolate::events::{Delivery, Event};
    /// use isolate::{RequestContext, RunId, Runtime, ThreadId, UserId};
    ///
    /// #[derive(Debug, serde::Serialize)]
    /// #[serde(tag = "type", rename_all = "snake_case")]
    /// enum Progress { Step { n: u32 }, Done }
    /// impl Event for Progress {
    ///     fn critical(&self) -> bool { matches!(self, Progress::Done) }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runtime = Runtime::default();
    /// let ctx = RequestContext::builder(UserId::new("alice")?, ThreadId::new("t-1")?, RunId::new("r-1")?)
    ///     .build()?;
    /// let (mut events, run) = runtime.run_streaming(ctx, async |scope| {
    ///     scope.emitter().emit(Progress::Step { n: 1 }).unwrap();
    ///     scope.emitter().emit(Progress::Done).unwrap();
    /// });
    /// let (result, received) = tokio::join!(run, async {
    ///     let mut received = Vec::new();
    ///     while let Some(Delivery::Item(envelope)) = events.recv().await {
    ///         received.push(envelope.to_json().unwrap());
    ///     }
    ///     received
    /// });
    /// result?;
    /// assert_eq!(received.len(), 2);
    /// assert!(received[1].contains(r#""seq":2,"user_id":"alice""#));
    /// assert!(received[1].ends_with(r#""critical":true,"event":{"type":"done"}}"#));
    /// # Ok(())
    /// # }
    /// ```
    pub fn run_streaming<T, F>(
        &self,
        ctx: RequestContext,
        f: F,
    ) -> (
        EventReceiver<Envelope>,
        impl Future<Output = Result<T, RunError>>,
    )
    where
        F: AsyncFnOnce(&RequestScope) -> T,
    {
        let (sender, receiver) = channel(self.inner.config.event_capacity());
        let emitter = EventEmitter::queued(ctx.clone(), sender);
        (receiver, self.run_inner(ctx, emitter, f))
    }

    /// Like [`run`](Self::run), but every event the request emits is delivered to `sink`
    /// (for example an application hub that routes envelopes to the user's connections).
    ///
    /// # Errors
    /// As [`run`](Self::run).
    pub async fn run_with_sink<T, F>(
        &self,
        ctx: RequestContext,
        sink: Arc<dyn EventSink>,
        f: F,
    ) -> Result<T, RunError>
    where
        F: AsyncFnOnce(&RequestScope) -> T,
    {
        let emitter = EventEmitter::sink(ctx.clone(), sink);
        self.run_inner(ctx, emitter, f).await
    }

    async fn run_inner<T, F>(
        &self,
        ctx: RequestContext,
        emitter: EventEmitter,
        f: F,
    ) -> Result<T, RunError>
    where
        F: AsyncFnOnce(&RequestScope) -> T,
    {
        let inner = &*self.inner;
        let timeout = inner.config.timeout();
        let deadline = Instant::now() + timeout;
        let user = ctx.user_id().clone();
        let run = ctx.run_id().clone();
        let mut guard = RunGuard::new(inner, user.clone());

        let token = inner.shutdown.child_token();
        let entry = RunEntry {
            thread_id: ctx.thread_id().clone(),
            request_id: ctx.request_id().clone(),
            started_at: SystemTime::now(),
            token: token.clone(),
            executing: false,
        };
        if inner.registry.insert(&user, &run, entry).is_err() {
            guard.set_outcome(Outcome::Failed);
            return Err(RunError::AlreadyRunning { run_id: run });
        }
        guard.registered(run.clone());

        let permit = tokio::select! {
            biased;
            () = token.cancelled() => Err(RunError::Cancelled),
            acquired = timeout_at(deadline, inner.acquire(&user)) => match acquired {
                Err(_elapsed) => Err(RunError::TimedOut(timeout)),
                Ok(Err(limit)) => Err(RunError::Rejected(limit)),
                Ok(Ok(permit)) => Ok(permit),
            },
        };
        let permit = match permit {
            Ok(permit) => permit,
            Err(error) => {
                guard.set_outcome(outcome_of(&error));
                return Err(error);
            }
        };
        guard.started(permit);
        inner.registry.with(&user, &run, |e| e.executing = true);

        // Declared after `guard`, so dropped (cleanups run) before the guard releases the slot.
        let scope = RequestScope::with_parts(emitter, ctx, token.clone());
        let result = {
            let work = catch_unwind_future(f(&scope));
            tokio::select! {
                biased;
                () = token.cancelled() => Err(RunError::Cancelled),
                finished = timeout_at(deadline, work) => match finished {
                    Err(_elapsed) => {
                        token.cancel();
                        Err(RunError::TimedOut(timeout))
                    }
                    Ok(Err(payload)) => Err(RunError::Panicked { message: panic_message(&*payload) }),
                    Ok(Ok(value)) => Ok(value),
                },
            }
        };
        drop(scope);
        guard.set_outcome(match &result {
            Ok(_) => Outcome::Completed,
            Err(error) => outcome_of(error),
        });
        drop(guard);
        result
    }

    /// Cancels `user`'s active run `run` (waiting or executing). Returns `false` if `user` has no
    /// such run: runs of other users are not reachable through this call.
    pub fn cancel(&self, user: &UserId, run: &RunId) -> bool {
        let token = self.inner.registry.with(user, run, |e| e.token.clone());
        match token {
            Some(token) => {
                // Cancel outside the registry lock: waking the run must not happen under it.
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// `user`'s own active runs, sorted by run id.
    ///
    /// ```
    /// use std::time::Duration;
    /// use isolate::{Occupancy, RequestContext, RunError, RunId, Runtime, ThreadId, UserId};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runtime = Runtime::default();
    /// let alice = UserId::new("alice")?;
    /// let ctx = RequestContext::builder(alice.clone(), ThreadId::new("t-1")?, RunId::new("r-1")?)
    ///     .build()?;
    /// let result = runtime
    ///     .run(ctx, async |scope| {
    ///         let me = scope.context().user_id();
    ///         let mine = runtime.active_runs(me);
    ///         assert_eq!(mine.len(), 1);
    ///         assert!(mine[0].executing);
    ///         // Bob sees nothing of alice's, and cannot cancel it.
    ///         let bob = UserId::new("bob").unwrap();
    ///         assert!(runtime.active_runs(&bob).is_empty());
    ///         assert!(!runtime.cancel(&bob, &mine[0].run_id));
    ///         // Alice can.
    ///         assert!(runtime.cancel(me, &mine[0].run_id));
    ///         tokio::time::sleep(Duration::from_secs(1)).await;
    ///     })
    ///     .await;
    /// assert_eq!(result, Err(RunError::Cancelled));
    /// assert_eq!(runtime.occupancy(), Occupancy::default()); // nothing left behind
    /// # Ok(())
    /// # }
    /// ```
    pub fn active_runs(&self, user: &UserId) -> Vec<RunInfo> {
        self.inner
            .registry
            .list(user)
            .into_iter()
            .map(|(run_id, e)| RunInfo {
                run_id,
                thread_id: e.thread_id,
                request_id: e.request_id,
                started_at: e.started_at,
                executing: e.executing,
            })
            .collect()
    }

    /// Cancels every active run and makes every later [`run`](Self::run) fail with
    /// [`RunError::Cancelled`].
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }

    /// Global counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics.global()
    }

    /// `user`'s counters (`None` if the user has had no request, or was forgotten as one of the
    /// least recently seen beyond [`RuntimeConfig::max_tracked_users`]).
    pub fn user_metrics(&self, user: &UserId) -> Option<MetricsSnapshot> {
        self.inner.metrics.user(user)
    }

    /// Sizes of the internal maps (counts only; for monitoring and leak tests).
    pub fn occupancy(&self) -> Occupancy {
        let inner = &self.inner;
        Occupancy {
            registered_runs: inner.registry.len(),
            registered_users: inner.registry.users(),
            permits_held: inner.limiter.active(),
            limiter_users: inner.limiter.tracked_users(),
        }
    }

    /// Number of users with individual metrics (bounded by
    /// [`RuntimeConfig::max_tracked_users`]).
    pub fn metrics_users(&self) -> usize {
        self.inner.metrics.tracked_users()
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.inner.config)
            .field("occupancy", &self.occupancy())
            .finish()
    }
}

impl Inner {
    /// A slot for `user`, waiting for releases under [`OverflowPolicy::Wait`].
    async fn acquire(&self, user: &UserId) -> Result<Permit<'_>, LimitKind> {
        loop {
            // Register interest before trying, so a release between the try and the await
            // is not missed.
            let mut notified = pin!(self.released.notified());
            notified.as_mut().enable();
            match self.limiter.try_acquire(user) {
                Ok(permit) => return Ok(permit),
                Err(limit) if self.config.overflow() == OverflowPolicy::Reject => {
                    return Err(limit);
                }
                Err(_) => notified.await,
            }
        }
    }
}

fn outcome_of(error: &RunError) -> Outcome {
    match error {
        RunError::Rejected(_) => Outcome::Rejected,
        RunError::TimedOut(_) => Outcome::TimedOut,
        RunError::Cancelled => Outcome::Cancelled,
        RunError::Panicked { .. } => Outcome::Panicked,
        _ => Outcome::Failed,
    }
}

/// Polls `future`, turning a panic during any poll into `Err(payload)`. The future is polled in
/// place (not spawned) because it borrows the request's scope.
async fn catch_unwind_future<F: Future>(future: F) -> Result<F::Output, Box<dyn Any + Send>> {
    let mut future = pin!(future);
    poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(std::task::Poll::Ready(value)) => std::task::Poll::Ready(Ok(value)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(payload) => std::task::Poll::Ready(Err(payload)),
        },
    )
    .await
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
