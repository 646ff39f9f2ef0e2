//! [`Limiter`]: per-user and global concurrency limits, with idle users pruned at once.
//!
//! This is the synchronous, tokio-free core (model-checked with loom). Waiting for a permit is
//! done by the [`Runtime`](crate::Runtime) on top of [`Limiter::try_acquire`].

use std::collections::HashMap;

use crate::error::LimitKind;
use crate::ids::UserId;
use crate::sync::{Mutex, lock};

/// Counts executing runs per user and in total, refusing a permit past either limit.
///
/// A user's entry exists only while that user holds a permit: the last release removes it, so
/// the map never grows with users that have gone idle.
///
/// ```
/// use isolate::limiter::Limiter;
/// use isolate::{LimitKind, UserId};
///
/// let limiter = Limiter::new(1, 10);
/// let alice = UserId::new("alice").unwrap();
/// let bob = UserId::new("bob").unwrap();
///
/// let permit = limiter.try_acquire(&alice).unwrap();
/// assert_eq!(limiter.try_acquire(&alice).unwrap_err(), LimitKind::PerUser { limit: 1 });
/// let _bob = limiter.try_acquire(&bob).unwrap(); // other users are unaffected
/// drop(permit);
/// assert_eq!(limiter.active_for(&alice), 0);
/// assert_eq!(limiter.tracked_users(), 1); // only bob
/// ```
#[derive(Debug)]
pub struct Limiter {
    per_user: usize,
    global: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    active: usize,
    users: HashMap<UserId, usize>,
}

/// A held slot in a [`Limiter`]; released when dropped.
#[derive(Debug)]
#[must_use = "the slot is released as soon as the permit is dropped"]
pub struct Permit<'a> {
    limiter: &'a Limiter,
    user: UserId,
}

impl Limiter {
    /// A limiter allowing `per_user` concurrent permits per user and `global` in total.
    pub fn new(per_user: usize, global: usize) -> Self {
        Self {
            per_user,
            global,
            state: Mutex::new(State::default()),
        }
    }

    /// Takes a slot for `user` if both limits allow it.
    ///
    /// # Errors
    /// The [`LimitKind`] that is full (the per-user limit is checked first).
    pub fn try_acquire(&self, user: &UserId) -> Result<Permit<'_>, LimitKind> {
        let mut state = lock(&self.state);
        let held = state.users.get(user).copied().unwrap_or(0);
        if held >= self.per_user {
            return Err(LimitKind::PerUser {
                limit: self.per_user,
            });
        }
        if state.active >= self.global {
            return Err(LimitKind::Global { limit: self.global });
        }
        state.active += 1;
        *state.users.entry(user.clone()).or_insert(0) += 1;
        Ok(Permit {
            limiter: self,
            user: user.clone(),
        })
    }

    fn release(&self, user: &UserId) {
        let mut state = lock(&self.state);
        state.active = state.active.saturating_sub(1);
        if let Some(count) = state.users.get_mut(user) {
            *count -= 1;
            if *count == 0 {
                state.users.remove(user);
            }
        }
    }

    /// Permits held in total.
    pub fn active(&self) -> usize {
        lock(&self.state).active
    }

    /// Permits held by `user`.
    pub fn active_for(&self, user: &UserId) -> usize {
        lock(&self.state).users.get(user).copied().unwrap_or(0)
    }

    /// Users with an entry in the map (those holding at least one permit).
    pub fn tracked_users(&self) -> usize {
        lock(&self.state).users.len()
    }

    /// The per-user limit.
    pub fn per_user_limit(&self) -> usize {
        self.per_user
    }

    /// The global limit.
    pub fn global_limit(&self) -> usize {
        self.global
    }
}

impl Permit<'_> {
    /// The user holding this permit.
    pub fn user(&self) -> &UserId {
        &self.user
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.limiter.release(&self.user);
    }
}
