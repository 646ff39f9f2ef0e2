//! Who may act for a user: [`Authority`] mints [`AuthenticatedUser`] capabilities.
//!
//! A [`UserId`] is only a validated string: anyone can build `UserId::new("alice")`. Acting as
//! or on behalf of a user (building a [`RequestContext`](crate::RequestContext), listing or
//! cancelling runs) takes an [`AuthenticatedUser`] instead, and the only way to get one is
//! [`Authority::vouch`], called by the authentication layer after it has checked credentials.
//!
//! A [`Runtime`](crate::Runtime) is built with one authority and honours only the users that
//! authority vouched for: give the `Authority` to your authentication layer and the `Runtime`
//! to your handlers, and no handler can make up another user. (A second `Authority::new()` in
//! a handler mints users that this runtime refuses.)

use std::fmt;

use crate::ids::UserId;

/// Identifies an [`Authority`]; random, so it cannot be guessed or reused by another one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct AuthorityId(u128);

/// The authentication layer's minting capability. Not `Clone`: pass it (or an `Arc` of it)
/// only to the code that checks credentials.
///
/// ```
/// use isolate::{Authority, UserId};
///
/// # fn main() -> Result<(), isolate::ContextError> {
/// let authority = Authority::new();
/// // In the authentication layer, once the credentials are verified:
/// let alice = authority.vouch(UserId::new("alice")?);
/// assert_eq!(alice.user_id().as_str(), "alice");
/// assert!(authority.vouched_for(&alice));
/// assert!(!Authority::new().vouched_for(&alice));
/// # Ok(())
/// # }
/// ```
pub struct Authority {
    id: AuthorityId,
}

impl Authority {
    /// A new authority, unrelated to every other one.
    #[allow(clippy::new_without_default)] // a default minting capability would invite misuse
    pub fn new() -> Self {
        Self {
            id: AuthorityId(uuid::Uuid::new_v4().as_u128()),
        }
    }

    /// Declares that the current caller has proven to be `user`. Call it only where
    /// credentials have been verified (a bearer token, a session, a signed header): this is
    /// the one place where a string becomes a user who can act.
    pub fn vouch(&self, user: UserId) -> AuthenticatedUser {
        AuthenticatedUser {
            user,
            authority: self.id,
        }
    }

    /// Whether `user` was vouched for by this authority.
    pub fn vouched_for(&self, user: &AuthenticatedUser) -> bool {
        user.authority == self.id
    }

    pub(crate) fn id(&self) -> AuthorityId {
        self.id
    }
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Authority")
    }
}

/// A user proven by authentication: the capability to act as that user. Only
/// [`Authority::vouch`] makes one; it has no public constructor, no `From<UserId>` and no
/// `Default`.
///
/// ```compile_fail
/// use isolate::{AuthenticatedUser, UserId};
/// let forged: AuthenticatedUser = UserId::new("alice").unwrap().into();
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AuthenticatedUser {
    user: UserId,
    authority: AuthorityId,
}

impl AuthenticatedUser {
    /// The user's id.
    pub fn user_id(&self) -> &UserId {
        &self.user
    }

    pub(crate) fn authority(&self) -> AuthorityId {
        self.authority
    }
}

impl fmt::Debug for AuthenticatedUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AuthenticatedUser")
            .field(&self.user)
            .finish()
    }
}

impl fmt::Display for AuthenticatedUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.user, f)
    }
}
