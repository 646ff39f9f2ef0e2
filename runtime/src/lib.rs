//! The `isolate` runtime: every request gets its own context and its own mutable state.

// ---- begin: frozen dependencies and per-request factories (branch `macros`) ----
// Lets the derives' `::isolate::...` paths resolve inside this crate too.
extern crate self as isolate;

mod factory;
mod frozen;

pub use factory::{Sealed, __private};
pub use frozen::{Frozen, Shared, SharedClient};
/// `#[derive(Frozen)]`: checks every field is [`Frozen`] and implements it.
pub use isolate_macros::Frozen;
/// `#[derive(RequestScoped)]`: generates the per-request factory of a struct.
pub use isolate_macros::RequestScoped;
/// `#[isolate::allow(rule, reason = "...")]`: a reviewed suppression of a linter rule.
pub use isolate_macros::allow;
/// `#[isolate::entry]`: marks a request entry point for the linter.
pub use isolate_macros::entry;
// ---- end: frozen dependencies and per-request factories ----
