//! [`Configured`]: an id that is part of the configuration, not a request's identity.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use super::Frozen;
use crate::{RequestId, RunId, ThreadId, UserId};

mod sealed {
    pub trait Sealed {}
}

/// The ids that may be [`Configured`]: [`UserId`], [`ThreadId`], [`RunId`] and [`RequestId`].
/// Sealed; a `RequestContext` is always one request's and never configuration.
pub trait ConfiguredId: sealed::Sealed + Clone + Eq + Ord + std::hash::Hash + fmt::Debug {}

macro_rules! configured_id {
    ($($id:ty),*) => {
        $(
            impl sealed::Sealed for $id {}
            impl ConfiguredId for $id {}
        )*
    };
}

configured_id!(UserId, ThreadId, RunId, RequestId);

/// An id that belongs to the application's configuration (an admin list, a service account, a
/// token table), not to a request.
///
/// The ids themselves are not [`Frozen`]: a `UserId` kept by a factory or a frozen config is
/// usually the first request's identity lent to every later request, so the compiler refuses
/// it. When an id really is configuration, say so by wrapping it: `Configured<UserId>` is
/// `Frozen`, derefs to the id, and compares, hashes and borrows as the id, so a set of them can
/// be queried with the request's own id. Every `Configured` is visible in review.
///
/// ```
/// use std::collections::HashSet;
/// use isolate::{Authority, Configured, Frozen, RequestContext, RunId, ThreadId, UserId};
///
/// #[derive(Frozen)]
/// struct Access {
///     admins: HashSet<Configured<UserId>>,
/// }
///
/// # fn main() -> Result<(), isolate::ContextError> {
/// let access = Access { admins: HashSet::from([Configured::new(UserId::new("alice")?)]) };
/// # let authority = Authority::new();
/// let alice = authority.vouch(UserId::new("alice")?); // in the authentication layer
/// let ctx = RequestContext::builder(alice, ThreadId::new("t-1")?, RunId::new("r-1")?).build()?;
/// assert!(access.admins.contains(ctx.user_id()));
/// assert!(!access.admins.contains(&UserId::new("bob")?));
/// # Ok(())
/// # }
/// ```
///
/// A request context is never configuration:
///
/// ```compile_fail
/// # use isolate::{Configured, RequestContext};
/// fn keep(ctx: RequestContext) -> Configured<RequestContext> {
///     Configured::new(ctx) // error: `RequestContext` is not a `ConfiguredId`
/// }
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Configured<T: ConfiguredId>(T);

impl<T: ConfiguredId> Configured<T> {
    /// Marks `id` as configuration.
    pub fn new(id: T) -> Self {
        Self(id)
    }

    /// The id.
    pub fn get(&self) -> &T {
        &self.0
    }

    /// The id, unwrapped.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: ConfiguredId> From<T> for Configured<T> {
    fn from(id: T) -> Self {
        Self(id)
    }
}

impl<T: ConfiguredId> Deref for Configured<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ConfiguredId> AsRef<T> for Configured<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}

// Consistent with `Eq`, `Ord` and `Hash`, which are the id's own (one field, derived).
impl<T: ConfiguredId> Borrow<T> for Configured<T> {
    fn borrow(&self) -> &T {
        &self.0
    }
}

impl<T: ConfiguredId> PartialEq<T> for Configured<T> {
    fn eq(&self, other: &T) -> bool {
        self.0 == *other
    }
}

impl<T: ConfiguredId> fmt::Debug for Configured<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Configured").field(&self.0).finish()
    }
}

impl<T: ConfiguredId + fmt::Display> fmt::Display for Configured<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

// SAFETY: the ids are immutable (a validated `Arc<str>`), and wrapping one is the reviewed
// statement that it is configuration, not the identity of the request that reads it.
unsafe impl<T: ConfiguredId> Frozen for Configured<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashSet};

    #[test]
    fn configured_ids_compare_hash_and_borrow_as_the_id() -> Result<(), crate::ContextError> {
        let alice = UserId::new("alice")?;
        let configured = Configured::new(alice.clone());
        assert_eq!(configured, alice);
        assert_eq!(configured.get(), &alice);
        assert_eq!(configured.to_string(), "alice");
        assert_eq!(format!("{configured:?}"), "Configured(UserId(\"alice\"))");
        let hashed: HashSet<_> = [configured.clone()].into();
        let ordered: BTreeSet<_> = [configured.clone()].into();
        assert!(hashed.contains(&alice) && ordered.contains(&alice));
        assert!(!hashed.contains(&UserId::new("bob")?));
        assert_eq!(configured.into_inner(), alice);
        Ok(())
    }
}
