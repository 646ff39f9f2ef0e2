//! [`Runtime`]: runs each request in its own [`RequestScope`], under per-user and global limits.

mod config;
mod guard;

use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::Poll;
use std::time::{Duration, SystemTime};

use tokio::time::{Instant, Sleep, sleep_until};

pub use config::{OverflowPolicy, RuntimeConfig, RuntimeConfigBuilder};

use crate::admission::{Admission, Limits, Refusal, Stage};
use crate::auth::{AuthenticatedUser, Authority, AuthorityId};
use crate::context::RequestContext;
use crate::emitter::EventEmitter;
use crate::error::RunError;
use crate::events::{Envelope, EventReceiver, EventSink, channel};
use crate::ids::{RequestId, RunId, ThreadId};
use crate::metrics::{MetricsSnapshot, Outcome};
use crate::scope::{Cancellation, RequestScope};
use guard::{Contained, ContainedFuture, RunGuard, panic_message};
use tokio_util::sync::WaitForCancellationFuture;

/// Runs requests, each in its own [`RequestScope`], enforcing per-user and global concurrency
/// limits, a per-request timeout, cancellation and panic isolation.
///
/// Cheap to clone (one `Arc`); clones share limits, registry and metrics. Nothing in it is keyed
/// by anything but (user, run), and no query returns another user's data: listing and
/// cancelling take an [`AuthenticatedUser`] vouched for by the runtime's [`Authority`], never a
/// user id made from a string.
///
/// ```
/// use isolate::{Authority, RequestContext, RunId, Runtime, RuntimeConfig, ThreadId, UserId};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let authority = Authority::new(); // for the authentication layer only
/// let runtime = Runtime::new(RuntimeConfig::default(), &authority);
/// let ctx = RequestContext::builder(
///     authority.vouch(UserId::new("alice")?),
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
    authority: AuthorityId,
    admission: Admission<RunEntry>,
}

#[derive(Clone)]
struct RunEntry {
    context: RequestContext,
    accepted: std::time::Instant,
    cancellation: Arc<Cancellation>,
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
    /// When the runtime accepted it (to the precision of the clocks).
    pub started_at: SystemTime,
    /// `true` once it holds a slot; `false` while waiting for one.
    pub executing: bool,
}

/// Sizes of the runtime's internal state: all zero when no request is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Occupancy {
    /// Entries in the run registry.
    pub registered_runs: usize,
    /// Users with a run registered (admitted or waiting).
    pub registered_users: usize,
    /// Global slots held (runs executing).
    pub permits_held: usize,
    /// Runs waiting for a per-user or global slot.
    pub waiting_runs: usize,
}

impl Runtime {
    /// A runtime with `config`'s limits that acts only for users vouched for by `authority`.
    pub fn new(config: RuntimeConfig, authority: &Authority) -> Self {
        let limits = Limits {
            per_user: config.per_user_limit(),
            global: config.global_limit(),
            max_queued: config.max_queued_per_user(),
            max_tracked_users: config.max_tracked_users(),
        };
        Self {
            inner: Arc::new(Inner {
                authority: authority.id(),
                admission: Admission::new(limits),
                config,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// Runs `f` for the request described by `ctx`, in a fresh [`RequestScope`] that `f`
    /// borrows. The scope exists only inside this call: nobody else ever owns it.
    ///
    /// The request is admitted (registered under (user, run), given a slot, or queued for one
    /// according to the [`OverflowPolicy`]), then runs until it returns, panics, times out (the
    /// timeout covers waiting too) or is cancelled. Whatever happens, including the caller
    /// dropping this future, the scope's cleanups run once, the slot goes to the next waiter,
    /// the registry entry goes and the outcome is counted. No panic of the request's code - in
    /// its body, a cleanup, or a drop on any exit path - escapes this call. The returned future
    /// is `Send` whenever `f`'s future is. With no consumer, the request's events are numbered
    /// and dropped; see [`run_streaming`](Self::run_streaming) and
    /// [`run_with_sink`](Self::run_with_sink).
    ///
    /// # Errors
    /// [`RunError::NotAuthenticated`] if `ctx`'s user was not vouched for by this runtime's
    /// authority; [`RunError::AlreadyRunning`] if this user already has this run active;
    /// [`RunError::Rejected`] past a limit with [`OverflowPolicy::Reject`], or when the user's
    /// wait queue is full; [`RunError::TimedOut`], [`RunError::Cancelled`],
    /// [`RunError::Panicked`].
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
    /// use isolate::{Authority, RequestContext, RunId, Runtime, RuntimeConfig, ThreadId, UserId};
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
    /// let authority = Authority::new();
    /// let runtime = Runtime::new(RuntimeConfig::default(), &authority);
    /// let alice = authority.vouch(UserId::new("alice")?);
    /// let ctx = RequestContext::builder(alice, ThreadId::new("t-1")?, RunId::new("r-1")?).build()?;
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
        // Declared first, dropped last: everything below that runs the request's code counts
        // its contained panics here, and the guard reads the total when it records the outcome.
        let panics = AtomicU64::new(0);
        let mut f = Contained::new(f, &panics);
        // A sink's `run_ended` runs when the emitter drops, also on the early returns below.
        let mut emitter = Contained::new(emitter, &panics);
        if ctx.user().authority() != inner.authority {
            return Err(RunError::NotAuthenticated);
        }
        let accepted = std::time::Instant::now();
        let timeout = inner.config.timeout();
        let user = ctx.user_id().clone();
        let run = ctx.run_id().clone();
        let cancellation = Arc::new(Cancellation::default());
        let wait = inner.config.overflow() == OverflowPolicy::Wait;
        let stage = inner
            .admission
            .enter(
                &user,
                &run,
                |executing| RunEntry {
                    context: ctx.clone(),
                    accepted,
                    cancellation: Arc::clone(&cancellation),
                    executing,
                },
                wait,
            )
            .map_err(|refusal| match refusal {
                Refusal::Duplicate => RunError::AlreadyRunning {
                    run_id: run.clone(),
                },
                Refusal::Limit(limit) => RunError::Rejected(limit),
                Refusal::ShutDown => RunError::Cancelled,
            })?;
        let mut guard = RunGuard::new(inner, user, run, stage, &panics);

        // Made only when the request has to wait (for a slot or in its body), so a request that
        // completes at once never touches the timer. The clock starts at the first wait: a request can only be interrupted where it waits,
        // and tokio's clock (which tests may pause) is read only when one is needed.
        let mut interruptions = Interruptions {
            cancellation: &cancellation,
            cancelled: pin!(None),
            timer: pin!(None),
            timeout,
        };
        let mut wait_polls = 0;
        while let Some(Stage::WaitingForUser(slot) | Stage::WaitingForGlobal(slot)) = guard.stage()
        {
            let slot = Arc::clone(slot);
            let granted = poll_fn(|cx| {
                wait_polls += 1;
                if cancellation.is_cancelled() {
                    return Poll::Ready(Err(RunError::Cancelled));
                }
                if slot.poll(cx).is_ready() {
                    return Poll::Ready(Ok(()));
                }
                interruptions.poll(cx)
            })
            .await;
            if let Err(error) = granted {
                inner.admission.record_wait(wait_polls);
                guard.set_outcome(outcome_of(&error));
                return Err(error);
            }
            guard.resume();
        }
        if wait_polls > 0 {
            inner.admission.record_wait(wait_polls);
        }

        // Declared after `guard`: the request's scope and future are gone before it releases
        // the slots.
        let Some(emitter) = emitter.take() else {
            return Err(RunError::Cancelled); // unreachable: taken only here
        };
        let scope = Contained::new(
            RequestScope::with_parts(emitter, ctx, Arc::clone(&cancellation)),
            &panics,
        );
        let (Some(scope_ref), Some(f)) = (scope.get(), f.take()) else {
            return Err(RunError::Cancelled); // unreachable: both were just made
        };
        let slot = pin!(None);
        let mut work = ContainedFuture::new(slot, &panics);
        let result = match catch_unwind(AssertUnwindSafe(|| f(scope_ref))) {
            Err(payload) => Err(panicked(payload, &panics)),
            Ok(future) => {
                work.start(future);
                poll_fn(|cx| {
                    if cancellation.is_cancelled() {
                        return Poll::Ready(Err(RunError::Cancelled));
                    }
                    match work.poll(cx) {
                        Poll::Ready(Ok(value)) => return Poll::Ready(Ok(value)),
                        Poll::Ready(Err(payload)) => {
                            return Poll::Ready(Err(panicked(payload, &panics)));
                        }
                        Poll::Pending => {}
                    }
                    match interruptions.poll(cx) {
                        Poll::Ready(Err(error)) => {
                            if matches!(error, RunError::TimedOut(_)) {
                                // Let the request's own code see that it is over.
                                cancellation.cancel();
                            }
                            Poll::Ready(Err(error))
                        }
                        _ => Poll::Pending,
                    }
                })
                .await
            }
        };
        // The outcome is decided: what follows may still panic (drops, cleanups), but is only
        // counted.
        guard.set_outcome(match &result {
            Ok(_) => Outcome::Completed,
            Err(error) => outcome_of(error),
        });
        work.finish();
        drop(work);
        if let Some(scope) = scope.get() {
            let cleanup_panics = scope.run_cleanups();
            panics.fetch_add(cleanup_panics as u64, Relaxed);
        }
        // The scope (contained), then the guard (releasing the slots) drop here, in that order.
        result
    }

    /// Cancels `user`'s active run `run` (waiting or executing). Returns `false` if `user` has
    /// no such run, or was not vouched for by this runtime's authority: the runs of other users
    /// are not reachable through this call.
    pub fn cancel(&self, user: &AuthenticatedUser, run: &RunId) -> bool {
        if user.authority() != self.inner.authority {
            return false;
        }
        let cancellation = self
            .inner
            .admission
            .with(user.user_id(), run, |e| Arc::clone(&e.cancellation));
        match cancellation {
            Some(cancellation) => {
                // Cancel outside the registry lock: waking the run must not happen under it.
                cancellation.cancel();
                true
            }
            None => false,
        }
    }

    /// `user`'s own active runs, sorted by run id (empty for a user not vouched for by this
    /// runtime's authority).
    ///
    /// ```
    /// use std::time::Duration;
    /// use isolate::{Authority, Occupancy, RequestContext, RunError, RunId, Runtime, RuntimeConfig, ThreadId, UserId};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let authority = Authority::new();
    /// let runtime = Runtime::new(RuntimeConfig::default(), &authority);
    /// let alice = authority.vouch(UserId::new("alice")?);
    /// let ctx = RequestContext::builder(alice, ThreadId::new("t-1")?, RunId::new("r-1")?).build()?;
    /// let result = runtime
    ///     .run(ctx, async |scope| {
    ///         let me = scope.context().user(); // the caller's own capability
    ///         let mine = runtime.active_runs(me);
    ///         assert_eq!(mine.len(), 1);
    ///         assert!(mine[0].executing);
    ///         // A user made up by another authority sees nothing and cancels nothing.
    ///         let forged = Authority::new().vouch(UserId::new("alice").unwrap());
    ///         assert!(runtime.active_runs(&forged).is_empty());
    ///         assert!(!runtime.cancel(&forged, &mine[0].run_id));
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
    pub fn active_runs(&self, user: &AuthenticatedUser) -> Vec<RunInfo> {
        if user.authority() != self.inner.authority {
            return Vec::new();
        }
        let now = (SystemTime::now(), std::time::Instant::now());
        self.inner
            .admission
            .list(user.user_id())
            .into_iter()
            .map(|(run_id, e)| RunInfo {
                run_id,
                thread_id: e.context.thread_id().clone(),
                request_id: e.context.request_id().clone(),
                started_at: now.0 - now.1.saturating_duration_since(e.accepted),
                executing: e.executing,
            })
            .collect()
    }

    /// Cancels every active run and makes every later [`run`](Self::run) fail with
    /// [`RunError::Cancelled`].
    pub fn shutdown(&self) {
        for entry in self.inner.admission.shut_down() {
            entry.cancellation.cancel();
        }
    }

    /// Global counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.admission.metrics()
    }

    /// `user`'s counters (`None` if the user has had no request, was forgotten as one of the
    /// least recently seen beyond [`RuntimeConfig::max_tracked_users`], or was not vouched for
    /// by this runtime's authority).
    pub fn user_metrics(&self, user: &AuthenticatedUser) -> Option<MetricsSnapshot> {
        if user.authority() != self.inner.authority {
            return None;
        }
        self.inner.admission.user_metrics(user.user_id())
    }

    /// Sizes of the internal state (counts only; for monitoring and leak tests).
    pub fn occupancy(&self) -> Occupancy {
        let admission = &self.inner.admission;
        Occupancy {
            registered_runs: admission.registered(),
            registered_users: admission.users(),
            permits_held: admission.active(),
            waiting_runs: admission.waiting(),
        }
    }

    /// Number of users with individual metrics (bounded by
    /// [`RuntimeConfig::max_tracked_users`]).
    pub fn metrics_users(&self) -> usize {
        self.inner.admission.tracked_users()
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

/// What can end a waiting request early: its cancellation, then its deadline. The
/// cancellation future and the timer are made on first need.
struct Interruptions<'c, 'p> {
    cancellation: &'c Cancellation,
    cancelled: Pin<&'p mut Option<WaitForCancellationFuture<'c>>>,
    timer: Pin<&'p mut Option<Sleep>>,
    timeout: Duration,
}

impl Interruptions<'_, '_> {
    fn poll(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), RunError>> {
        if self.cancelled.is_none() {
            self.cancelled
                .set(Some(self.cancellation.token().cancelled()));
        }
        if let Some(cancelled) = self.cancelled.as_mut().as_pin_mut()
            && cancelled.poll(cx).is_ready()
        {
            return Poll::Ready(Err(RunError::Cancelled));
        }
        if self.timer.is_none() {
            self.timer
                .set(Some(sleep_until(Instant::now() + self.timeout)));
        }
        if let Some(sleep) = self.timer.as_mut().as_pin_mut()
            && sleep.poll(cx).is_ready()
        {
            return Poll::Ready(Err(RunError::TimedOut(self.timeout)));
        }
        Poll::Pending
    }
}

fn panicked(payload: Box<dyn std::any::Any + Send>, panics: &AtomicU64) -> RunError {
    let message = panic_message(&*payload);
    // Even the payload's drop is the request's code.
    if catch_unwind(AssertUnwindSafe(move || drop(payload))).is_err() {
        panics.fetch_add(1, Relaxed);
    }
    RunError::Panicked { message }
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
