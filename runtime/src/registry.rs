//! [`Registry`]: active runs keyed by (user, run), queryable only per user.

use std::collections::HashMap;

use crate::ids::{RunId, UserId};
use crate::sync::{Mutex, lock};

/// A map of active runs keyed by `(UserId, RunId)`.
///
/// Every operation takes the user, and entries are stored per user, so there is no call that can
/// see, list or touch another user's runs. A user's inner map is removed with its last run: the
/// registry holds nothing for idle users.
///
/// ```
/// use isolate::registry::Registry;
/// use isolate::{RunId, UserId};
///
/// let registry = Registry::new();
/// let alice = UserId::new("alice").unwrap();
/// let bob = UserId::new("bob").unwrap();
/// let run = RunId::new("run-1").unwrap();
///
/// registry.insert(&alice, &run, "alice's").unwrap();
/// registry.insert(&bob, &run, "bob's").unwrap(); // same run id, different user: distinct
/// assert!(registry.insert(&alice, &run, "again").is_err()); // duplicate (user, run)
/// assert_eq!(registry.list(&alice), vec![(run.clone(), "alice's")]);
/// assert_eq!(registry.remove(&alice, &run), Some("alice's"));
/// assert_eq!(registry.users(), 1);
/// ```
#[derive(Debug)]
pub struct Registry<V> {
    map: Mutex<HashMap<UserId, HashMap<RunId, V>>>,
}

impl<V> Default for Registry<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> Registry<V> {
    /// An empty registry.
    pub fn new() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Registers `value` for (`user`, `run`).
    ///
    /// # Errors
    /// Gives `value` back if that (user, run) is already registered.
    pub fn insert(&self, user: &UserId, run: &RunId, value: V) -> Result<(), V> {
        let mut map = lock(&self.map);
        let runs = map.entry(user.clone()).or_default();
        if runs.contains_key(run) {
            return Err(value);
        }
        runs.insert(run.clone(), value);
        Ok(())
    }

    /// Removes and returns the entry for (`user`, `run`), pruning the user when it was the last.
    pub fn remove(&self, user: &UserId, run: &RunId) -> Option<V> {
        let mut map = lock(&self.map);
        let runs = map.get_mut(user)?;
        let value = runs.remove(run);
        if runs.is_empty() {
            map.remove(user);
        }
        value
    }

    /// Applies `f` to the entry for (`user`, `run`) under the lock (keep `f` short; never call
    /// back into the registry from it).
    pub fn with<R>(&self, user: &UserId, run: &RunId, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        lock(&self.map).get_mut(user)?.get_mut(run).map(f)
    }

    /// `user`'s entries, sorted by run id.
    pub fn list(&self, user: &UserId) -> Vec<(RunId, V)>
    where
        V: Clone,
    {
        let mut runs: Vec<(RunId, V)> = lock(&self.map)
            .get(user)
            .map(|runs| runs.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        runs.sort_by(|a, b| a.0.cmp(&b.0));
        runs
    }

    /// Number of entries `user` has.
    pub fn len_for(&self, user: &UserId) -> usize {
        lock(&self.map).get(user).map_or(0, HashMap::len)
    }

    /// Total number of entries (all users; a count, no contents).
    pub fn len(&self) -> usize {
        lock(&self.map).values().map(HashMap::len).sum()
    }

    /// True when no run is registered.
    pub fn is_empty(&self) -> bool {
        lock(&self.map).is_empty()
    }

    /// Number of users with at least one entry.
    pub fn users(&self) -> usize {
        lock(&self.map).len()
    }
}
