//! Deep immutability: the [`Frozen`] marker, the reviewed [`Shared`] escape hatch and
//! [`Configured`] ids.
//!
//! Everything a per-request factory keeps between requests must be `Frozen`: nothing reachable
//! from a `&T` can change, and nothing in it is the identity of one request, so no request can
//! leave data behind for the next one or lend it its identity. Interior mutability (`Cell`,
//! `RefCell`, `Mutex`, `RwLock`, atomics, `OnceLock`, channels, ...) is deliberately not
//! `Frozen`; that state belongs in a fresh per-request field instead. Neither are the request's
//! own types (`RequestContext`, the ids, the emitter, the scope): a request takes them from its
//! scope. The refusals, each with its own compile error, are in `refused.rs`.

mod configured;
mod refused;

pub use configured::{Configured, ConfiguredId};
pub use refused::{NoInteriorMutability, RequestAgnostic};

use std::borrow::{Cow, ToOwned};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::ffi::{CStr, CString, OsStr, OsString};
use std::fmt;
use std::hash::{BuildHasherDefault, RandomState};
use std::marker::{PhantomData, PhantomPinned};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::num::{
    NonZeroI8, NonZeroI16, NonZeroI32, NonZeroI64, NonZeroI128, NonZeroIsize, NonZeroU8,
    NonZeroU16, NonZeroU32, NonZeroU64, NonZeroU128, NonZeroUsize, Wrapping,
};
use std::ops::{Deref, Range, RangeInclusive};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// A value that may be kept across requests: it cannot change through a shared reference, at
/// any depth, and it is not the identity of one request.
///
/// A per-request factory is built once and shared by every request, so everything it keeps
/// must be `Frozen`: then no request can write into it and no other request can read that
/// write back, and no request's identity is lent to the next. `#[derive(Frozen)]` implements
/// it for your own types after checking every field; the compile error for a field that is
/// not `Frozen` points at that field's type and says why:
///
/// - interior mutability (`Mutex`, `RwLock`, `Cell`, `RefCell`, atomics, `OnceLock`,
///   channels): make that state a fresh per-request field;
/// - a request's own value (`RequestContext`, `UserId`, `ThreadId`, `RunId`, `RequestId`,
///   `EventEmitter`, `RequestScope`, `CancellationToken`): take it from the request with
///   `#[isolate(context)]` (or `emitter`, `cancellation`, `scope`). An id that is
///   configuration rather than a request's identity, such as a list of admins, is kept as
///   [`Configured<UserId>`](Configured);
/// - a trait object: `dyn Trait` is `Frozen` when `Frozen` is a supertrait of `Trait`;
/// - anything else that is not known to be immutable (a type without the derive).
///
/// Function pointers are `Frozen` (a code address cannot change) and so are tuples of frozen
/// values. The trait impls cover function pointers without lifetimes (`fn(u32) -> bool`) of up
/// to 16 arguments and tuples of up to 16 elements; the derives also accept, in the types they check, higher-ranked
/// function pointers such as `fn(&str) -> bool` and tuples of any length.
///
/// The trait is `unsafe` so that a manual impl stands out in review: writing one is a promise
/// that the type has no interior mutability and carries no request's identity. For internally
/// synchronised clients that are request-agnostic (connection pools, HTTP clients) use
/// [`Shared`] with a reviewed [`SharedClient`] impl instead of lying here.
///
/// ```
/// use std::collections::{HashMap, HashSet};
/// use std::sync::Arc;
/// use isolate::{Configured, Frozen, UserId};
///
/// /// A store every request reads; implementors are checked to be immutable.
/// trait Prompts: Frozen + Send + Sync {
///     fn system(&self) -> &str;
/// }
///
/// #[derive(Frozen)]
/// struct Fixed(String);
///
/// impl Prompts for Fixed {
///     fn system(&self) -> &str {
///         &self.0
///     }
/// }
///
/// #[derive(Frozen)]
/// struct Settings {
///     model: String,
///     limits: HashMap<String, u32>,
///     prompts: Arc<dyn Prompts>,
///     admins: HashSet<Configured<UserId>>,
///     redact: fn(&str) -> String,
/// }
///
/// # fn main() -> Result<(), isolate::ContextError> {
/// fn share<T: Frozen + Send + Sync>(_: &T) {}
/// let settings = Settings {
///     model: "m".into(),
///     limits: HashMap::new(),
///     prompts: Arc::new(Fixed("be brief".into())),
///     admins: HashSet::from([Configured::new(UserId::new("alice")?)]),
///     redact: |text| text.replace("secret", "***"),
/// };
/// share(&settings);
/// assert!(settings.admins.contains(&UserId::new("alice")?));
/// assert_eq!(settings.prompts.system(), "be brief");
/// # Ok(())
/// # }
/// ```
///
/// A `Mutex` is rejected at compile time:
///
/// ```compile_fail
/// use isolate::Frozen;
///
/// #[derive(Frozen)]
/// struct Registry {
///     runs: std::sync::Mutex<Vec<u64>>,
/// }
/// ```
///
/// and so is a request's identity:
///
/// ```compile_fail
/// use isolate::Frozen;
///
/// #[derive(Frozen)]
/// struct Owner {
///     user: isolate::UserId, // error: `UserId` belongs to one request
/// }
/// ```
///
/// # Safety
///
/// Implementors promise that no state reachable through `&Self` can be mutated (no `Cell`,
/// `RefCell`, `UnsafeCell`, lock, atomic, lazily initialised cell or channel end, directly or
/// behind a pointer) and that `Self` holds no request's identity (see [`Configured`] for ids
/// that are configuration).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not `Frozen`: nothing guarantees that it cannot change through a shared reference",
    label = "kept across requests, `{Self}` could carry one request's data into another",
    note = "if it is your own immutable type, `#[derive(Frozen)]` checks its fields and implements `Frozen` (a trait object needs `Frozen` as a supertrait of its trait)",
    note = "if it holds state, make that state per-request: a fresh field (the default in `#[derive(RequestScoped)]`) gives every request its own instance; only an internally synchronised, request-agnostic client (DB pool, HTTP client) may be shared, as `isolate::Shared<T>` after a reviewed `unsafe impl isolate::SharedClient`"
)]
pub unsafe trait Frozen {}

macro_rules! frozen_leaf {
    ($($ty:ty),* $(,)?) => {
        $(
            // SAFETY: plain values without interior mutability.
            unsafe impl Frozen for $ty {}
        )*
    };
}

frozen_leaf!(
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    str,
    String,
    NonZeroU8,
    NonZeroU16,
    NonZeroU32,
    NonZeroU64,
    NonZeroU128,
    NonZeroUsize,
    NonZeroI8,
    NonZeroI16,
    NonZeroI32,
    NonZeroI64,
    NonZeroI128,
    NonZeroIsize,
    Duration,
    Instant,
    SystemTime,
    Path,
    PathBuf,
    OsStr,
    OsString,
    CStr,
    CString,
    IpAddr,
    Ipv4Addr,
    Ipv6Addr,
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    RandomState,
    PhantomPinned,
    std::cmp::Ordering,
    // Which kind an id is, not an id: the ids themselves are refused in `refused.rs`.
    crate::IdKind,
);

macro_rules! frozen_wrapper {
    ($($wrapper:ident),* $(,)?) => {
        $(
            // SAFETY: the wrapper only hands out shared access to a frozen value.
            unsafe impl<T: ?Sized + Frozen> Frozen for $wrapper<T> {}
        )*
    };
}

frozen_wrapper!(Box, Arc, Rc);

// SAFETY: a shared reference to a frozen value cannot mutate it. `&mut T` is left out.
unsafe impl<T: ?Sized + Frozen> Frozen for &T {}
// SAFETY: weak pointers give access to the same frozen value as the strong ones.
unsafe impl<T: ?Sized + Frozen> Frozen for std::sync::Weak<T> {}
// SAFETY: as above, for `Rc`.
unsafe impl<T: ?Sized + Frozen> Frozen for std::rc::Weak<T> {}
// SAFETY: a pinned frozen pointer is still a frozen pointer.
unsafe impl<P: Frozen> Frozen for Pin<P> {}
// SAFETY: holds no value at all.
unsafe impl<T: ?Sized> Frozen for PhantomData<T> {}
// SAFETY: a plain wrapper.
unsafe impl<T: Frozen> Frozen for Reverse<T> {}
// SAFETY: a plain wrapper.
unsafe impl<T: Frozen> Frozen for Wrapping<T> {}
// SAFETY: a plain wrapper.
unsafe impl<T: Frozen> Frozen for Option<T> {}
// SAFETY: either variant is frozen.
unsafe impl<T: Frozen, E: Frozen> Frozen for Result<T, E> {}
// SAFETY: bounds only.
unsafe impl<T: Frozen> Frozen for Range<T> {}
// SAFETY: bounds only.
unsafe impl<T: Frozen> Frozen for RangeInclusive<T> {}
// SAFETY: a stateless hasher builder.
unsafe impl<H> Frozen for BuildHasherDefault<H> {}
// SAFETY: both variants hold frozen data.
unsafe impl<B> Frozen for Cow<'_, B>
where
    B: ?Sized + ToOwned + Frozen,
    B::Owned: Frozen,
{
}
// SAFETY: every element is frozen.
unsafe impl<T: Frozen> Frozen for [T] {}
// SAFETY: every element is frozen.
unsafe impl<T: Frozen, const N: usize> Frozen for [T; N] {}

macro_rules! frozen_collection {
    ($($coll:ident),* $(,)?) => {
        $(
            // SAFETY: a collection only lends `&T` through `&self`.
            unsafe impl<T: Frozen> Frozen for $coll<T> {}
        )*
    };
}

frozen_collection!(Vec, VecDeque, LinkedList, BinaryHeap, BTreeSet);

// SAFETY: keys, values and hasher are frozen; `&self` only lends shared references.
unsafe impl<K: Frozen, V: Frozen, S: Frozen> Frozen for HashMap<K, V, S> {}
// SAFETY: as above.
unsafe impl<T: Frozen, S: Frozen> Frozen for HashSet<T, S> {}
// SAFETY: as above.
unsafe impl<K: Frozen, V: Frozen> Frozen for BTreeMap<K, V> {}

macro_rules! frozen_arity {
    ($($name:ident)*) => {
        // SAFETY: every element is frozen.
        unsafe impl<$($name: Frozen),*> Frozen for ($($name,)*) {}
        // SAFETY: a function pointer is a code address; nothing behind it can be changed
        // through a shared reference, whatever its argument and return types.
        unsafe impl<R, $($name),*> Frozen for fn($($name),*) -> R {}
        // SAFETY: as above.
        unsafe impl<R, $($name),*> Frozen for unsafe fn($($name),*) -> R {}
        // SAFETY: as above.
        unsafe impl<R, $($name),*> Frozen for extern "C" fn($($name),*) -> R {}
        // SAFETY: as above.
        unsafe impl<R, $($name),*> Frozen for unsafe extern "C" fn($($name),*) -> R {}
    };
}

// Tuples and function pointers of up to 16 elements or arguments. Longer tuples written out
// in a derived type are accepted by the derives, which check them as nested tuples of at most
// 16 (`MAX_TUPLE` in `macros/src/frozen_check.rs`); higher-ranked function pointers such as
// `fn(&str) -> bool` are other types, which the derives accept by their syntax (see
// `__private::FnPointer`).
frozen_arity!();
frozen_arity!(A);
frozen_arity!(A B);
frozen_arity!(A B C);
frozen_arity!(A B C D);
frozen_arity!(A B C D E);
frozen_arity!(A B C D E F);
frozen_arity!(A B C D E F G);
frozen_arity!(A B C D E F G H);
frozen_arity!(A B C D E F G H I);
frozen_arity!(A B C D E F G H I J);
frozen_arity!(A B C D E F G H I J K);
frozen_arity!(A B C D E F G H I J K L);
frozen_arity!(A B C D E F G H I J K L M);
frozen_arity!(A B C D E F G H I J K L M N);
frozen_arity!(A B C D E F G H I J K L M N O);
frozen_arity!(A B C D E F G H I J K L M N O P);

/// A reviewed promise that a client may be shared by every request.
///
/// Implement it (after review) for clients that are internally synchronised and keep no
/// per-request or per-user data: database connection pools, HTTP clients, read-only model
/// handles. Wrapping such a client in [`Shared`] then makes it usable as a shared dependency of
/// a per-request factory.
///
/// # Safety
///
/// Implementors promise that the type is safe to use from many requests at once and that no
/// data written during one request can be observed by another (no caches keyed without the
/// user, no "last request" fields, no per-user state).
///
/// ```
/// use isolate::{Frozen, Shared, SharedClient};
///
/// /// A connection pool: internally synchronised, holds no per-user data.
/// struct Pool {
///     connections: std::sync::Mutex<Vec<u32>>,
/// }
///
/// // SAFETY: reviewed: the pool hands out connections and keeps nothing per user.
/// unsafe impl SharedClient for Pool {}
///
/// fn shared_dependency<T: Frozen + Send + Sync>(_: &T) {}
/// shared_dependency(&Shared::new(Pool { connections: Default::default() }));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a reviewed `SharedClient`",
    label = "`{Self}` cannot be shared by every request",
    note = "only internally synchronised, request-agnostic clients (DB pools, HTTP clients) may implement `SharedClient`, in reviewed code; anything holding per-request state belongs in a fresh field"
)]
pub unsafe trait SharedClient: Send + Sync {}

/// A shared, request-agnostic client: the one reviewed way to share something that is not
/// [`Frozen`] by itself.
///
/// `Shared<T>` is `Frozen` only when `T: SharedClient`, so every shared client is visible in
/// review as an `unsafe impl SharedClient`. Cloning is cheap (an `Arc` clone) and it derefs to
/// the client.
///
/// ```
/// use isolate::{Shared, SharedClient};
///
/// struct Http;
/// // SAFETY: stateless.
/// unsafe impl SharedClient for Http {}
///
/// let a = Shared::new(Http);
/// let b = a.clone();
/// assert!(Shared::ptr_eq(&a, &b));
/// ```
pub struct Shared<T: ?Sized>(Arc<T>);

impl<T> Shared<T> {
    /// Wraps a client.
    pub fn new(client: T) -> Self {
        Self(Arc::new(client))
    }
}

impl<T: ?Sized> Shared<T> {
    /// Wraps a client that is already behind an `Arc`.
    pub fn from_arc(client: Arc<T>) -> Self {
        Self(client)
    }

    /// Whether both handles point at the same client.
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl<T: ?Sized> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T: ?Sized> Deref for Shared<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Shared").field(&&*self.0).finish()
    }
}

// SAFETY: `T: SharedClient` is the reviewed promise that sharing `T` leaks nothing between
// requests.
unsafe impl<T: ?Sized + SharedClient> Frozen for Shared<T> {}
