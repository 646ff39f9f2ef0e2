//! The rule registry: [`ALL`] is the one list of rules, read by the CLI (`rules`, `explain`,
//! `--deny`), the config loader, the suppression checker, the docs test (the README's rule
//! table) and the tests. Each rule lives in its own module with a stable snake_case id, a
//! default level, a one-line summary, the documentation `cargo isolate explain RULE` prints, and
//! its checks:
//!
//! - a *global* check looks at one global and its classified type; global checks are tried in
//!   [`ALL`] order and the first that matches wins (one finding per global, the most specific
//!   rule first);
//! - a *project* check runs once over the whole analysed project after the global checks
//!   (`lazy_singleton`'s accessors, and the call-graph rules to come);
//! - the suppression rules are checked by [`crate::suppress`], beside the suppressions.

pub(crate) mod describe;
mod interior_mutable_static;
mod lazy_singleton;
mod shared_mutable_map;
mod shared_state_field;
mod static_mut;
mod thread_local_state;

use std::fmt;

use crate::analysis::Analysis;
use crate::classify::{Shape, StateKind, TypeIndex};
use crate::diagnostic::{Fix, Loc, Related, Severity};
use crate::facts::{Global, GlobalKind};
use crate::levels::{Reach, StateClass};
use crate::paths::{Node, Target};
use crate::source::FileId;
use crate::suppress;

pub(crate) use shared_state_field::hit as state_field_hit;

/// How a rule's findings are treated: `allow`, `warn` or `deny` everywhere (config, flags,
/// `cargo isolate rules`, the README). `warning` and `error` are accepted for `warn` and
/// `deny`; a `deny` finding is printed as an `error`, a `warn` finding as a `warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Not reported.
    Allow,
    /// Reported as a warning; does not fail the run.
    Warn,
    /// Reported as an error; the run exits with 1.
    Deny,
}

impl Level {
    /// The level's name: `allow`, `warn` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    /// Parses `allow`, `warn` (or `warning`), `deny` (or `error`).
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "allow" => Some(Level::Allow),
            "warn" | "warning" => Some(Level::Warn),
            "deny" | "error" => Some(Level::Deny),
            _ => None,
        }
    }

    /// How a finding at this level is reported (`None`: it is not).
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Allow => None,
            Level::Warn => Some(Severity::Warning),
            Level::Deny => Some(Severity::Error),
        }
    }

    pub(crate) const EXPECTED: &'static str =
        "expected `allow`, `warn` (or `warning`) or `deny` (or `error`)";
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Level {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Level::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown level `{text}`: {}", Level::EXPECTED))
        })
    }
}

/// A rule's identity, documentation and checks.
pub struct Rule {
    /// Stable snake_case id; output shows it as `isolate::<id>`.
    pub id: &'static str,
    pub default_level: Level,
    /// One line, for `cargo isolate rules` and the README.
    pub summary: &'static str,
    /// Markdown: what it finds, why it leaks across users, bad and good examples, the fix.
    pub doc: &'static str,
    pub(crate) global: Option<GlobalCheck>,
    pub(crate) project: Option<ProjectCheck>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        self.id == other.id
    }
}

impl Eq for Rule {}

/// What a rule says about one item.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hit {
    pub message: String,
    pub help: String,
    pub notes: Vec<String>,
    pub related: Vec<Related>,
}

/// A finding before suppressions and levels.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub rule: &'static Rule,
    pub file: FileId,
    pub loc: Loc,
    /// First line of the item including attributes (where a suppression above it may sit).
    pub start_line: u32,
    /// First line of the `thread_local!`/`lazy_static!` call holding the item.
    pub macro_start: Option<u32>,
    pub item: String,
    pub ty: String,
    pub hit: Hit,
    /// The global it is about.
    pub global: Option<(FileId, usize)>,
    pub fix: Option<Fix>,
    /// For a finding about state: what it can hold and what makes it reached (the levels
    /// policy reads both). `None` for findings about suppressions.
    pub state: Option<StateOf>,
}

/// The state a finding is about, for the levels policy.
#[derive(Debug, Clone)]
pub(crate) struct StateOf {
    pub class: StateClass,
    pub target: Target,
    /// Filled by the execution-path search: whether a handler reaches it, and the chain.
    pub reach: Reach,
    pub chain: Vec<Node>,
}

impl StateOf {
    pub fn new(class: StateClass, target: Target) -> Self {
        StateOf {
            class,
            target,
            reach: Reach::NoEntryPoints,
            chain: Vec::new(),
        }
    }
}

/// The facts a global rule reads: the declaration, its classified type and its state.
pub(crate) struct GlobalView<'a> {
    pub global: &'a Global,
    pub file: FileId,
    pub shape: Shape,
    pub state: StateKind,
    /// The shape is its initialiser's (the declared type said nothing).
    pub by_init: bool,
    pub types: &'a TypeIndex<'a>,
}

impl GlobalView<'_> {
    /// The type the classification read: the declared one, or the initialiser's sketch.
    pub fn classified_type(&self) -> &crate::facts::TypeExpr {
        match (&self.global.init, self.by_init) {
            (Some(init), true) => init,
            _ => &self.global.ty,
        }
    }

    /// Declared by `lazy_static!` or with a lazy/once cell as its outermost type.
    pub fn is_lazy(&self) -> bool {
        self.global.kind == GlobalKind::LazyStatic || self.shape.lazy
    }

    pub fn is_thread_local(&self) -> bool {
        self.global.kind == GlobalKind::ThreadLocal
    }
}

/// A rule over a single global.
pub(crate) type GlobalCheck = fn(&GlobalView) -> Option<Hit>;

/// A rule over the whole project; `found` holds the global rules' candidates.
pub(crate) type ProjectCheck = fn(&Analysis, found: &[Candidate]) -> Vec<Candidate>;

/// Every rule, in the order `cargo isolate rules` lists them and global checks are tried.
pub static ALL: &[&Rule] = &[
    &static_mut::RULE,
    &shared_mutable_map::RULE,
    &lazy_singleton::RULE,
    &interior_mutable_static::RULE,
    &thread_local_state::RULE,
    &shared_state_field::RULE,
    &suppress::without_reason::RULE,
    &suppress::unused::RULE,
];

pub(crate) static SHARED_MUTABLE_MAP: &Rule = &shared_mutable_map::RULE;
pub(crate) static SHARED_STATE_FIELD: &Rule = &shared_state_field::RULE;

pub(crate) static SUPPRESSION_WITHOUT_REASON: &Rule = &suppress::without_reason::RULE;
pub(crate) static UNUSED_SUPPRESSION: &Rule = &suppress::unused::RULE;

/// A rule id that names no rule, with the closest real one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRule {
    pub given: String,
    pub suggestion: Option<&'static str>,
}

impl fmt::Display for UnknownRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown rule `{}`", self.given)?;
        match self.suggestion {
            Some(s) => write!(f, "; did you mean `{s}`?"),
            None => write!(f, "; `cargo isolate rules` lists them"),
        }
    }
}

impl std::error::Error for UnknownRule {}

/// Looks a rule up by id, written bare (`static_mut`) or as output shows it
/// (`isolate::static_mut`).
///
/// ```
/// let rule = isolate_lint::rules::lookup("isolate::static_mut").unwrap();
/// assert_eq!(rule.id, "static_mut");
/// let typo = isolate_lint::rules::lookup("static_mutt").unwrap_err();
/// assert_eq!(typo.suggestion, Some("static_mut"));
/// ```
pub fn lookup(id: &str) -> Result<&'static Rule, UnknownRule> {
    let bare = id.strip_prefix("isolate::").unwrap_or(id);
    ALL.iter()
        .copied()
        .find(|r| r.id == bare)
        .ok_or_else(|| UnknownRule {
            given: id.to_string(),
            suggestion: did_you_mean(bare),
        })
}

/// The rule id closest to `given`, if any is close enough to be a typo.
pub(crate) fn did_you_mean(given: &str) -> Option<&'static str> {
    let given = given.to_ascii_lowercase().replace('-', "_");
    ALL.iter()
        .map(|r| (strsim::jaro_winkler(&given, r.id), r.id))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, id)| id)
}

/// A `--deny`/`--warn`/`--allow` argument or config key: `all` or one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    All,
    One(&'static Rule),
}

impl Selector {
    /// Parses `all` or a rule id (see [`lookup`]).
    pub fn parse(text: &str) -> Result<Selector, UnknownRule> {
        if text == "all" {
            Ok(Selector::All)
        } else {
            lookup(text).map(Selector::One)
        }
    }

    pub(crate) fn matches(self, rule: &Rule) -> bool {
        match self {
            Selector::All => true,
            Selector::One(r) => r.id == rule.id,
        }
    }
}

/// Runs the global checks in order; the first hit wins.
pub(crate) fn check_global(view: &GlobalView) -> Option<(&'static Rule, Hit)> {
    let (rule, mut hit) = ALL.iter().find_map(|rule| {
        rule.global
            .and_then(|check| check(view))
            .map(|hit| (*rule, hit))
    })?;
    if view.by_init {
        hit.notes.push(format!(
            "its declared type names nothing the linter can see into; it is classified by what \
             its initialiser builds: `{}`",
            crate::classify::trail::print(view.classified_type())
        ));
    }
    Some((rule, hit))
}

/// Names the type that makes a global a problem, for messages: the type, normalised.
pub(crate) fn quoted_type(g: &Global) -> String {
    format!("`{}`", g.ty_text)
}

/// The README's rule table, as the registry says it should read.
pub fn markdown_table() -> String {
    let mut out = String::from("| id | default | finds |\n| --- | --- | --- |\n");
    for r in ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            r.id,
            r.default_level,
            r.summary.replace('|', "\\|")
        ));
    }
    out
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
            assert!(r.doc.starts_with(&format!("# {}\n", r.id)), "{}", r.id);
            for section in ["## What it finds", "## Why", "## Bad", "## Good", "## Fix"] {
                assert!(r.doc.contains(section), "{} doc lacks {section}", r.id);
            }
        }
    }

    #[test]
    fn levels_have_one_vocabulary_with_synonyms() {
        assert_eq!(Level::parse("warning"), Some(Level::Warn));
        assert_eq!(Level::parse("error"), Some(Level::Deny));
        assert_eq!(Level::parse("forbid"), None);
        for l in [Level::Allow, Level::Warn, Level::Deny] {
            assert_eq!(Level::parse(l.as_str()), Some(l));
        }
    }

    #[test]
    fn lookup_with_prefix_and_suggestions() {
        assert_eq!(lookup("static_mut").unwrap().id, "static_mut");
        assert_eq!(
            lookup("isolate::unused_suppression").unwrap().id,
            "unused_suppression"
        );
        assert_eq!(
            lookup("Static_Mut").unwrap_err().suggestion,
            Some("static_mut")
        );
        assert_eq!(
            lookup("thread_local").unwrap_err().suggestion,
            Some("thread_local_state")
        );
        assert_eq!(lookup("global_state").unwrap_err().suggestion, None);
        assert!(lookup("").is_err());
        assert_eq!(Selector::parse("all"), Ok(Selector::All));
    }
}
