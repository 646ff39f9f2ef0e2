//! [`RequestScope`]: everything one request owns, lent out as `&RequestScope`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst, fence};
use std::sync::{Mutex, OnceLock};

pub use tokio_util::sync::CancellationToken;

use crate::context::RequestContext;
use crate::emitter::EventEmitter;

type Cleanup = Box<dyn FnOnce() + Send + 'static>;

/// A run's cancellation, reached by its scope and its registry entry. The [`CancellationToken`]
/// is made only when someone asks for it (the request's code, or the runtime once the request
/// has to wait): a request that completes at once never pays for one.
///
/// In a [`Runtime`](crate::Runtime) run it lives in the run's own future, next to its
/// registry entry's other data, not in an allocation of its own.
#[derive(Debug, Default)]
pub(crate) struct Cancellation {
    requested: AtomicBool,
    token: OnceLock<CancellationToken>,
}

impl Cancellation {
    /// Cancels the run (its token, if made, now; otherwise as soon as it is made).
    pub(crate) fn cancel(&self) {
        if let Some(token) = self.request() {
            token.cancel();
        }
    }

    /// Marks the run cancelled and returns its token, if made, for the caller to cancel once no
    /// lock is held (cancelling wakes whoever waits on it).
    pub(crate) fn request(&self) -> Option<CancellationToken> {
        self.requested.store(true, SeqCst);
        // Pairs with the fence in `token`: either this sees the token, or `token` sees the flag.
        fence(SeqCst);
        self.token.get().cloned()
    }

    /// Whether the run was cancelled, by the runtime or through its token.
    #[inline]
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
    /// Also holds the request's context (the emitter stamps every event with it).
    emitter: EventEmitter,
    cancellation: ScopeCancellation,
    cleanups: Mutex<Vec<Cleanup>>,
}

/// Where a scope's cancellation lives: in the scope (standalone), or in the run's future, next
/// to what the run's registry entry points at (so `Runtime::cancel` reaches it).
enum ScopeCancellation {
    Own(Cancellation),
    Run(RunCancellation),
}

/// A [`Cancellation`] that outlives the scope holding this (see [`RequestScope::for_run`]).
struct RunCancellation(NonNull<Cancellation>);

// SAFETY: it stands for a `&Cancellation` valid for the scope's whole life (the contract of
// `RequestScope::for_run`), and `Cancellation` is `Sync`, so `&Cancellation` is `Send + Sync`.
unsafe impl Send for RunCancellation {}
// SAFETY: as above.
unsafe impl Sync for RunCancellation {}

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
        Self {
            emitter: EventEmitter::discarding(context),
            cancellation: ScopeCancellation::Own(Cancellation::default()),
            cleanups: Mutex::new(Vec::new()),
        }
    }

    /// The scope of a run: `emitter` (made for the run's context) and the run's `cancellation`.
    ///
    /// # Safety
    /// `cancellation` must stay where it is, alive, until this scope is dropped (the runtime
    /// keeps both in the run's future and declares the scope after the cancellation).
    pub(crate) unsafe fn for_run(emitter: EventEmitter, cancellation: &Cancellation) -> Self {
        Self {
            emitter,
            cancellation: ScopeCancellation::Run(RunCancellation(NonNull::from(cancellation))),
            cleanups: Mutex::new(Vec::new()),
        }
    }

    #[inline]
    fn cancellation_state(&self) -> &Cancellation {
        match &self.cancellation {
            ScopeCancellation::Own(cancellation) => cancellation,
            // SAFETY: `for_run`'s contract: the cancellation outlives `self`.
            ScopeCancellation::Run(RunCancellation(cancellation)) => unsafe {
                cancellation.as_ref()
            },
        }
    }

    /// The request's context.
    #[inline]
    pub fn context(&self) -> &RequestContext {
        self.emitter.context()
    }

    /// The request's own event emitter.
    #[inline]
    pub fn emitter(&self) -> &EventEmitter {
        &self.emitter
    }

    /// The request's cancellation token: cancelled when the request is cancelled, times out or
    /// the runtime shuts down. Long-running work should observe it (`cancelled().await` or
    /// `is_cancelled()`).
    #[inline]
    pub fn cancellation(&self) -> &CancellationToken {
        self.cancellation_state().token()
    }

    /// Registers `f` to run once when the request ends, on every exit path (success, error,
    /// timeout, cancellation, panic). Callbacks run in reverse order of registration, with no
    /// lock held; a panicking callback is contained and does not stop the others.
    pub fn on_cleanup(&self, f: impl FnOnce() + Send + 'static) {
        self.lock_cleanups().push(Box::new(f));
    }

    /// Runs the registered cleanups now (reverse order) and returns how many panicked. Takes
    /// `&mut self`: nobody else can be borrowing the scope then, so nothing is locked (an
    /// empty run pays for no lock at all) and no callback runs while a lock is held.
    #[inline]
    pub(crate) fn run_cleanups(&mut self) -> usize {
        let cleanups = self
            .cleanups
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cleanups.is_empty() {
            return 0;
        }
        run_all(std::mem::take(cleanups))
    }

    fn lock_cleanups(&self) -> std::sync::MutexGuard<'_, Vec<Cleanup>> {
        // Pushing and taking the vector are the only mutations; a poisoned lock is still sound.
        self.cleanups
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs `cleanups`, last registered first, each with its panic contained; returns how many
/// panicked. (A callback is `'static`: it cannot reach the scope to register more.)
#[cold]
#[inline(never)]
fn run_all(cleanups: Vec<Cleanup>) -> usize {
    cleanups
        .into_iter()
        .rev()
        .map(|f| catch_unwind(AssertUnwindSafe(f)))
        .filter(Result::is_err)
        .count()
}

impl Drop for RequestScope {
    fn drop(&mut self) {
        self.run_cleanups();
    }
}

impl std::fmt::Debug for RequestScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestScope")
            .field("context", self.context())
            .field("cancelled", &self.cancellation_state().is_cancelled())
            .field("pending_cleanups", &self.lock_cleanups().len())
            .finish()
    }
}
