//! The rule registry. Each rule lives in its own module with a stable snake_case id, a default
//! level, a one-line summary and the documentation `cargo isolate explain RULE` prints.
//!
//! Global rules are tried in [`GLOBAL_RULES`] order and the first that matches wins: one
//! finding per global item, the most specific rule first.

mod interior_mutable_static;
mod lazy_singleton;
mod shared_mutable_map;
mod static_mut;
mod suppression_without_reason;
mod thread_local_state;
mod unused_suppression;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::classify::Shape;
use crate::facts::{Global, GlobalKind};

/// How a rule's findings are treated. Config spells these `allow | warn | deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Not reported.
    Allow,
    /// Reported as a warning; does not fail the run.
    Warn,
    /// Reported as an error; the run exits with 1.
    Deny,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        })
    }
}

/// A rule's identity and documentation.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub default_level: Level,
    pub summary: &'static str,
    /// Markdown: what it finds, why it leaks across users, bad and good examples, the fix.
    pub doc: &'static str,
}

/// What a rule says about one global.
#[derive(Debug, Clone)]
pub struct Hit {
    pub message: String,
    pub help: String,
}

/// The facts a global rule reads: the declaration and its classified type.
pub struct GlobalView<'a> {
    pub global: &'a Global,
    pub shape: Shape,
}

impl GlobalView<'_> {
    /// Declared by `lazy_static!` or with a lazy/once cell as its outermost type.
    pub fn is_lazy(&self) -> bool {
        self.global.kind == GlobalKind::LazyStatic || self.shape.lazy
    }

    pub fn is_thread_local(&self) -> bool {
        self.global.kind == GlobalKind::ThreadLocal
    }
}

/// A rule over a single global.
pub type GlobalCheck = fn(&GlobalView) -> Option<Hit>;

/// Global rules in the order they are tried: the most specific first.
pub const GLOBAL_RULES: &[(&Rule, GlobalCheck)] = &[
    (&static_mut::RULE, static_mut::check),
    (&shared_mutable_map::RULE, shared_mutable_map::check),
    (&lazy_singleton::RULE, lazy_singleton::check),
    (
        &interior_mutable_static::RULE,
        interior_mutable_static::check,
    ),
    (&thread_local_state::RULE, thread_local_state::check),
];

pub use lazy_singleton::accessor_hit;

pub const LAZY_SINGLETON: &Rule = &lazy_singleton::RULE;
pub const SUPPRESSION_WITHOUT_REASON: &Rule = &suppression_without_reason::RULE;
pub const UNUSED_SUPPRESSION: &Rule = &unused_suppression::RULE;

/// Every rule, in the order `cargo isolate rules` lists them.
pub const ALL: &[&Rule] = &[
    &static_mut::RULE,
    &shared_mutable_map::RULE,
    &lazy_singleton::RULE,
    &interior_mutable_static::RULE,
    &thread_local_state::RULE,
    &suppression_without_reason::RULE,
    &unused_suppression::RULE,
];

/// Looks a rule up by id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

/// Runs the global rules in order; the first hit wins.
pub fn check_global(view: &GlobalView) -> Option<(&'static Rule, Hit)> {
    GLOBAL_RULES
        .iter()
        .find_map(|(rule, check)| check(view).map(|hit| (*rule, hit)))
}

/// Names the wrapper that makes a type a problem, for messages: the type as written.
pub(crate) fn quoted_type(g: &Global) -> String {
    format!("`{}`", g.ty_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_snake_case_and_documented() {
        let mut ids: Vec<_> = ALL.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
        for r in ALL {
            assert!(
                r.id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}",
                r.id
            );
            for section in ["## What it finds", "## Why", "## Bad", "## Good", "## Fix"] {
                assert!(r.doc.contains(section), "{} doc lacks {section}", r.id);
            }
        }
    }
}
