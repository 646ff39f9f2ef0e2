//! What is not [`Frozen`], each with its own compile error.
//!
//! A type with no `Frozen` impl at all gets `Frozen`'s generic message. The types below get a
//! precise one instead: each has a `Frozen` impl whose `where` clause can never hold
//! (`for<'a> T: NoInteriorMutability` or `for<'a> T: RequestAgnostic`; neither trait is
//! implemented for anything). A bound without generic parameters that cannot hold would be
//! rejected at the impl itself; under `for<'a>` it is only evaluated where it is used. Asking whether such a type is `Frozen` therefore fails on that
//! bound, and the compiler reports it with the message of the trait that failed. The impls
//! are hidden from the documentation: none of these types is `Frozen`.

use super::Frozen;

mod sealed {
    /// Keeps the two traits below unimplementable, so every bound on them fails.
    pub trait Never {}
}

/// Never implemented: the bound that makes a type with interior mutability not [`Frozen`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not `Frozen`: it can be changed through a shared reference, so one request could see another request's data",
    label = "`{Self}` has interior mutability and would be shared by every request",
    note = "make this state per-request instead: a fresh field (the default in `#[derive(RequestScoped)]`) that owns its value gives every request its own instance; a `&'static` reference to a global is still one instance for every request",
    note = "only an internally synchronised, request-agnostic client (DB pool, HTTP client) may be shared: wrap it in `isolate::Shared<T>` after a reviewed `unsafe impl isolate::SharedClient`"
)]
pub trait NoInteriorMutability: sealed::Never {}

/// Never implemented: the bound that makes a request's own values not [`Frozen`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` belongs to one request: kept across requests, it would lend the first request's identity to every later request",
    label = "`{Self}` is per-request by nature and cannot be `Frozen`",
    note = "take it from the current request instead: in `#[derive(RequestScoped)]`, `#[isolate(context)] ctx: &'r RequestContext` gives this request's ids (`ctx.user_id()`, `ctx.run_id()`, ...); `#[isolate(emitter)]`, `#[isolate(cancellation)]` and `#[isolate(scope)]` give the rest",
    note = "an id that is configuration rather than a request's identity (an admin list, a service account, a token table) is kept as `isolate::Configured<UserId>`"
)]
pub trait RequestAgnostic: sealed::Never {}

macro_rules! refuse {
    ($bound:ident: $($ty:ty $(where [$($param:tt)*])?),* $(,)?) => {
        $(
            // SAFETY: the bound never holds, so this impl never applies; it only chooses the
            // error message.
            #[doc(hidden)]
            unsafe impl<$($($param)*)?> Frozen for $ty where for<'a> $ty: $bound {}
        )*
    };
}

refuse!(NoInteriorMutability:
    std::cell::Cell<T> where [T: ?Sized],
    std::cell::RefCell<T> where [T: ?Sized],
    std::cell::UnsafeCell<T> where [T: ?Sized],
    std::cell::OnceCell<T> where [T],
    std::cell::LazyCell<T, F> where [T, F],
    std::sync::Mutex<T> where [T: ?Sized],
    std::sync::RwLock<T> where [T: ?Sized],
    std::sync::OnceLock<T> where [T],
    std::sync::LazyLock<T, F> where [T, F],
    std::sync::Condvar,
    std::sync::Barrier,
    std::sync::mpsc::Sender<T> where [T],
    std::sync::mpsc::SyncSender<T> where [T],
    std::sync::mpsc::Receiver<T> where [T],
    std::sync::atomic::AtomicBool,
    std::sync::atomic::AtomicPtr<T> where [T],
    std::sync::atomic::AtomicI8,
    std::sync::atomic::AtomicU8,
    std::sync::atomic::AtomicI16,
    std::sync::atomic::AtomicU16,
    std::sync::atomic::AtomicI32,
    std::sync::atomic::AtomicU32,
    std::sync::atomic::AtomicIsize,
    std::sync::atomic::AtomicUsize,
);

#[cfg(target_has_atomic = "64")]
refuse!(NoInteriorMutability:
    std::sync::atomic::AtomicI64,
    std::sync::atomic::AtomicU64,
);

#[cfg(not(loom))]
refuse!(NoInteriorMutability:
    tokio::sync::Mutex<T> where [T: ?Sized],
    tokio::sync::RwLock<T> where [T: ?Sized],
    tokio::sync::OnceCell<T> where [T],
    tokio::sync::Notify,
    tokio::sync::Semaphore,
    tokio::sync::Barrier,
    tokio::sync::mpsc::Sender<T> where [T],
    tokio::sync::mpsc::Receiver<T> where [T],
    tokio::sync::mpsc::UnboundedSender<T> where [T],
    tokio::sync::mpsc::UnboundedReceiver<T> where [T],
    tokio::sync::broadcast::Sender<T> where [T],
    tokio::sync::broadcast::Receiver<T> where [T],
    tokio::sync::watch::Sender<T> where [T],
    tokio::sync::watch::Receiver<T> where [T],
    tokio::sync::oneshot::Sender<T> where [T],
    tokio::sync::oneshot::Receiver<T> where [T],
);

refuse!(RequestAgnostic:
    crate::AuthenticatedUser,
    crate::UserId,
    crate::ThreadId,
    crate::RunId,
    crate::RequestId,
    crate::RequestContext,
);

#[cfg(not(loom))]
refuse!(RequestAgnostic:
    crate::EventEmitter,
    crate::RequestScope,
    crate::CancellationToken,
);
