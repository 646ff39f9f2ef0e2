//! [`RequestScope`]: everything one request owns, lent out as `&RequestScope`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst, fence};
use std::sync::{Arc, Mutex, OnceLock};

pub use tokio_util::sync::CancellationToken;

use crate::context::RequestContext;
use crate::emitter::EventEmitter;

type Cleanup = Box<dyn FnOnce() + Send + 'static>;

/// A run's cancellation, shared by its scope and its registry entry. The [`CancellationToken`]
/// is made only when someone asks for it (the request's code, or the runtime once the request
/// has to wait): a request that completes at once never pays for one.
#[derive(Debug, Default)]
pub(crate) struct Cancellation {
    requested: AtomicBool,
    token: OnceLock<CancellationToken>,
}

impl Cancellation {
    /// Cancels the run (its token, if made, now; otherwise as soon as it is made).
    pub(crate) fn cancel(&self) {
        self.requested.store(true, SeqCst);
        // Pairs with the fence in `token`: either this sees the token, or `token` sees the flag.
        fence(SeqCst);
        if let Some(token) = self.token.get() {
            token.cancel();
        }
    }

    /// Whether the run was cancelled, by the runtime or through its token.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.requested.load(SeqCst)
            || self
                .token
                .get()
                .is_some_and(CancellationToken::is_cancelled)
    }

    /// The token, made on first use.
    pub(crate) fn token(&self) -> &CancellationToken {
        let token = self.token.get_or_init(CancellationToken::new);
        fence(SeqCst);
        if self.requested.load(SeqCst) {
            token.cancel();
        }
        token
    }
}

/// One request's scope: its [`RequestContext`], its own [`EventEmitter`], its cancellation token
/// and its cleanup callbacks.
///
/// Nobody outside this crate ever owns a scope: the [`Runtime`](crate::Runtime) creates one per
/// request inside [`run`](crate::Runtime::run) and lends it out as `&RequestScope` for the
/// request's duration. Per-request values made by factories borrow the scope (`Product<'r>`), so
/// the compiler keeps them out of statics, globals and `tokio::spawn`: there is no owned scope
/// to `Box::leak` into a `&'static RequestScope`.
///
/// Outside the runtime (CLIs, tests, batch jobs) [`RequestScope::with`] and
/// [`RequestScope::with_async`] lend a scope the same way: to a closure, for its duration. It
/// behaves like the runtime's: cleanups run exactly once, in reverse order of registration, when
/// the closure returns (or panics). Its emitter has no consumer.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use isolate::{Authority, RequestContext, RequestScope, RunId, ThreadId, UserId};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let authority = Authority::new();
/// let ctx = RequestContext::builder(
///     authority.vouch(UserId::new("alice")?),
///     ThreadId::new("thread-1")?,
///     RunId::new("run-1")?,
/// )
/// .build()?;
/// let log = Arc::new(Mutex::new(Vec::new()));
/// let user = RequestScope::with(ctx, |scope| {
///     let l = Arc::clone(&log);
///     scope.on_cleanup(move || l.lock().unwrap().push("first registered"));
///     let l = Arc::clone(&log);
///     scope.on_cleanup(move || l.lock().unwrap().push("second registered"));
///     assert!(!scope.cancellation().is_cancelled());
///     scope.context().user_id().clone()
/// }); // the scope ends here: cleanups run, last registered first
/// assert_eq!(user.as_str(), "alice");
/// assert_eq!(*log.lock().unwrap(), ["second registered", "first registered"]);
/// # Ok(())
/// # }
/// ```
///
/// The scope cannot be kept: the closure's result cannot borrow it.
///
/// ```compile_fail
/// # use isolate::{RequestContext, RequestScope};
/// fn keep(ctx: RequestContext) -> &'static RequestScope {
///     RequestScope::with(ctx, |scope| scope)
/// }
/// ```
pub struct RequestScope {
    context: RequestContext,
    emitter: EventEmitter,
    cancellation: Arc<Cancellation>,
    cleanups: Mutex<Vec<Cleanup>>,
}

impl RequestScope {
    /// Lends a standalone scope for `context` to `f` and ends it when `f` returns: cleanups run
    /// then (also if `f` panics). For CLIs, tests and batch jobs; requests use
    /// [`Runtime::run`](crate::Runtime::run).
    pub fn with<R>(context: RequestContext, f: impl FnOnce(&RequestScope) -> R) -> R {
        let scope = Self::standalone(context);
        f(&scope)
    }

    /// The async form of [`with`](Self::with): `f` borrows the scope for as long as its future
    /// runs, and the scope ends when that future completes (or is dropped).
    ///
    /// ```
    /// # use isolate::{Authority, RequestContext, RequestScope, RunId, ThreadId, UserId};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let authority = Authority::new();
    /// # let ctx = RequestContext::builder(authority.vouch(UserId::new("alice")?), ThreadId::new("t-1")?, RunId::new("r-1")?).build()?;
    /// let run = RequestScope::with_async(ctx, async |scope| {
    ///     tokio::task::yield_now().await;
    ///     scope.context().run_id().clone()
    /// })
    /// .await;
    /// assert_eq!(run.as_str(), "r-1");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn with_async<R>(
        context: RequestContext,
        f: impl AsyncFnOnce(&RequestScope) -> R,
    ) -> R {
        let scope = Self::standalone(context);
        f(&scope).await
    }

    fn standalone(context: RequestContext) -> Self {
        Self::with_parts(
            EventEmitter::discarding(context.clone()),
            context,
            Arc::default(),
        )
    }

    /// A scope from parts; callers guarantee `emitter` was made for `context`.
    pub(crate) fn with_parts(
        emitter: EventEmitter,
        context: RequestContext,
        cancellation: Arc<Cancellation>,
    ) -> Self {
        debug_assert_eq!(emitter.context().request_id(), context.request_id());
        Self {
            context,
            emitter,
            cancellation,
            cleanups: Mutex::new(Vec::new()),
        }
    }

    /// The request's context.
    pub fn context(&self) -> &RequestContext {
        &self.context
    }

    /// The request's own event emitter.
    pub fn emitter(&self) -> &EventEmitter {
        &self.emitter
    }

    /// The request's cancellation token: cancelled when the request is cancelled, times out or
    /// the runtime shuts down. Long-running work should observe it (`cancelled().await` or
    /// `is_cancelled()`).
    pub fn cancellation(&self) -> &CancellationToken {
        self.cancellation.token()
    }

    /// Registers `f` to run once when the request ends, on every exit path (success, error,
    /// timeout, cancellation, panic). Callbacks run in reverse order of registration, with no
    /// lock held; a panicking callback is contained and does not stop the others.
    pub fn on_cleanup(&self, f: impl FnOnce() + Send + 'static) {
        self.lock_cleanups().push(Box::new(f));
    }

    /// Runs the registered cleanups now (reverse order); later registrations run at drop.
    /// Returns how many callbacks panicked.
    pub(crate) fn run_cleanups(&self) -> usize {
        let mut panicked = 0;
        // Take the callbacks out first so none runs while the lock is held; loop in case a
        // callback's drop glue or a concurrent borrower registered more meanwhile.
        loop {
            let batch = std::mem::take(&mut *self.lock_cleanups());
            if batch.is_empty() {
                return panicked;
            }
            for f in batch.into_iter().rev() {
                if catch_unwind(AssertUnwindSafe(f)).is_err() {
                    panicked += 1;
                }
            }
        }
    }

    fn lock_cleanups(&self) -> std::sync::MutexGuard<'_, Vec<Cleanup>> {
        // Pushing and taking the vector are the only mutations; a poisoned lock is still sound.
        self.cleanups
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for RequestScope {
    fn drop(&mut self) {
        self.run_cleanups();
    }
}

impl std::fmt::Debug for RequestScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestScope")
            .field("context", &self.context)
            .field("cancelled", &self.cancellation.is_cancelled())
            .field("pending_cleanups", &self.lock_cleanups().len())
            .finish()
    }
}
