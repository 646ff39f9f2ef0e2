//! The derives in a crate that forbids `unsafe` and denies strict lint sets: the code they
//! generate must not trip any of them. trybuild builds this file as a binary; `tests/compile.rs`
//! also runs clippy on it as a library with `-D warnings`, so the clippy groups below are checked
//! for real, not just named.
#![forbid(unsafe_code)]
#![deny(
    warnings,
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    unused_qualifications,
    unused_results,
    unused_lifetimes,
    single_use_lifetimes,
    trivial_casts,
    trivial_numeric_casts,
    rust_2018_idioms,
    let_underscore_drop,
    clippy::all,
    clippy::pedantic,
    clippy::nursery
)]

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use isolate::{
    CancellationToken, Configured, EventEmitter, Frozen, RequestContext, RequestScope,
    RequestScoped, RunId, Sealed, Shared, UserId,
};

/// Model settings, shared by every request.
#[derive(Debug, Frozen)]
pub struct ModelConfig {
    /// Model name.
    pub name: String,
    /// Users allowed to pick another model.
    pub admins: Vec<Configured<UserId>>,
}

/// A generic, recursive frozen type.
#[derive(Debug, Frozen)]
pub enum Tree<T> {
    /// Children.
    Node(Vec<Self>),
    /// A value.
    Leaf(T),
}

/// A unit type.
#[derive(Debug, Frozen)]
pub struct Marker;

/// A database pool: internally synchronised, no per-user data.
#[derive(Debug)]
pub struct Pool;

// Implementing a reviewed unsafe trait is the user's own decision and needs `unsafe`; a crate
// that forbids it shares only `Frozen` data. `Shared<Pool>` below is therefore not built here:
// the line stays out of this crate and the type is only named.
/// The shared pool handle's type.
pub type PoolHandle = Shared<Pool>;

/// One request's engine.
#[derive(RequestScoped)]
#[isolate(factory = Engines)]
pub struct Engine<'r> {
    #[isolate(shared)]
    config: &'r ModelConfig,
    #[isolate(shared)]
    tree: Arc<Tree<u32>>,
    #[isolate(shared)]
    marker: &'r Marker,
    #[isolate(context)]
    ctx: &'r RequestContext,
    #[isolate(emitter)]
    events: &'r EventEmitter,
    #[isolate(cancellation)]
    cancel: &'r CancellationToken,
    #[isolate(scope)]
    scope: &'r RequestScope,
    runs: HashMap<RunId, String>,
    #[isolate(fresh = Vec::with_capacity(2))]
    history: Vec<String>,
    _seal: Sealed<'r>,
}

impl fmt::Debug for Engine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("runs", &self.runs.len())
            .finish_non_exhaustive()
    }
}

impl Engine<'_> {
    /// Records a run and says whether the caller is an admin.
    pub fn record(&mut self, prompt: &str) -> bool {
        let previous = self
            .runs
            .insert(self.ctx.run_id().clone(), prompt.to_owned());
        self.history.push(format!("{}:{prompt}", self.config.name));
        let _: (&Marker, &EventEmitter) = (self.marker, self.events);
        let admin = self.config.admins.iter().any(|id| id == self.ctx.user_id());
        previous.is_none()
            && admin
            && !self.cancel.is_cancelled()
            && self.scope.context().user_id() == self.ctx.user_id()
            && matches!(*self.tree, Tree::Node(_) | Tree::Leaf(_))
    }
}

/// Handles one request.
pub fn handle(engines: &Engines, scope: &RequestScope) -> bool {
    let mut engine = engines.create(scope);
    engine.record("hello")
}

/// The binary's entry point (a public function when this file is a library).
pub fn main() {
    let engines = Engines::new(
        ModelConfig {
            name: String::from("small"),
            admins: Vec::new(),
        },
        Arc::new(Tree::Node(vec![Tree::Leaf(1)])),
        Marker,
    );
    let _: fn(&Engines, &RequestScope) -> bool = handle;
    drop::<Option<PoolHandle>>(None);
    let _ = &engines;
}
