//! Suppressions, in both spellings ([`grammar`]), and the two rules about them
//! ([`without_reason`], [`unused`]), which are checked here, beside them.
//!
//! A suppression covers the item below it, through attributes, doc comments and other comment
//! lines (a blank line ends its reach), or its own line when it follows code. Above a
//! `thread_local! {` or `lazy_static! {` call it covers every item in the call. A suppression
//! without a reason still suppresses, and is reported; one that names an unknown rule id is
//! reported with the closest real id, whether or not its other ids matched; one that cannot be
//! read suppresses nothing and is reported.

mod grammar;
pub(crate) mod unused;
pub(crate) mod without_reason;

use std::collections::HashSet;

pub(crate) use grammar::{comments_in, from_attribute};

use crate::diagnostic::{Applicability, Edit, Fix, Loc, Span};
use crate::rules::{self, Candidate, Hit, Rule};
use crate::source::FileId;

/// How a suppression is spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// `// isolate: allow(..) -- reason`.
    Comment,
    /// `#[isolate::allow(.., reason = "..")]`.
    Attribute,
}

/// A rule id as written in a suppression, and where.
#[derive(Debug, Clone)]
pub(crate) struct RuleRef {
    pub text: String,
    pub loc: Loc,
}

/// One suppression.
#[derive(Debug, Clone)]
pub(crate) struct Suppression {
    pub loc: Loc,
    pub form: Form,
    /// A comment after code on its line: it covers that line only.
    pub trailing: bool,
    /// The first line after it that is not itself a `//` comment line: it reaches an item that
    /// starts on or before it.
    pub reach: u32,
    pub rules: Vec<RuleRef>,
    pub reason: Option<String>,
    /// Why it could not be read (it then suppresses nothing).
    pub malformed: Option<String>,
    /// What to delete to remove it (a comment's whole line, or a trailing comment).
    pub removal: Option<Loc>,
}

impl Suppression {
    /// How the suppression reads in messages: `isolate: allow(a, b)`.
    pub fn text(&self) -> String {
        let ids: Vec<&str> = self.rules.iter().map(|r| r.text.as_str()).collect();
        match self.form {
            Form::Comment => format!("isolate: allow({})", ids.join(", ")),
            Form::Attribute => format!("#[isolate::allow({})]", ids.join(", ")),
        }
    }

    fn names(&self, rule: &Rule) -> bool {
        self.malformed.is_none()
            && self
                .rules
                .iter()
                .any(|r| r.text.strip_prefix("isolate::").unwrap_or(&r.text) == rule.id)
    }

    /// Whether it covers an item named on `name_line` whose first line is `start_line`
    /// (`macro_start`: the first line of the macro call holding the item).
    pub fn covers(&self, start_line: u32, name_line: u32, macro_start: Option<u32>) -> bool {
        let l = self.loc.line;
        if l == name_line {
            return true;
        }
        if self.trailing {
            return false;
        }
        if l + 1 >= start_line && l < name_line {
            return true;
        }
        if l < start_line && self.reach >= start_line {
            return true;
        }
        // Above `thread_local! {` / `lazy_static! {`: every item inside.
        macro_start.is_some_and(|m| l < m && (l + 1 >= m || self.reach >= m))
    }
}

/// What applying suppressions produced.
pub(crate) struct Applied {
    /// Findings not suppressed.
    pub kept: Vec<Candidate>,
    /// Suppressed findings, with the reason.
    pub suppressed: Vec<(Candidate, Option<String>)>,
    /// Findings of the suppression rules themselves.
    pub meta: Vec<Candidate>,
}

/// Whether the suppressions of a file are checked (`false` for suppressions in test code that is
/// not linted).
pub(crate) trait SuppressionScope {
    fn checked(&self, file: FileId, s: &Suppression) -> bool;
}

/// Splits `candidates` into kept and suppressed, and checks every suppression of `files`.
pub(crate) fn apply(
    candidates: Vec<Candidate>,
    files: &[(FileId, &[Suppression])],
    scope: &impl SuppressionScope,
) -> Applied {
    let mut used: HashSet<(FileId, usize)> = HashSet::new();
    let mut out = Applied {
        kept: Vec::new(),
        suppressed: Vec::new(),
        meta: Vec::new(),
    };
    let by_file: std::collections::HashMap<FileId, &[Suppression]> =
        files.iter().copied().collect();
    for c in candidates {
        let sups = by_file.get(&c.file).copied().unwrap_or(&[]);
        let by = sups
            .iter()
            .enumerate()
            .find(|(_, s)| s.names(c.rule) && s.covers(c.start_line, c.loc.line, c.macro_start));
        match by {
            Some((i, s)) => {
                used.insert((c.file, i));
                out.suppressed.push((c, s.reason.clone()));
            }
            None => out.kept.push(c),
        }
    }
    for &(file, sups) in files {
        for (i, s) in sups.iter().enumerate() {
            if !scope.checked(file, s) {
                continue;
            }
            out.meta.extend(check(file, s, used.contains(&(file, i))));
        }
    }
    out
}

/// The meta-rules on one suppression.
fn check(file: FileId, s: &Suppression, used: bool) -> Vec<Candidate> {
    let text = s.text();
    let meta = |rule: &'static Rule, hit: Hit| Candidate {
        rule,
        file,
        loc: s.loc,
        start_line: s.loc.line,
        macro_start: None,
        item: text.clone(),
        ty: String::new(),
        hit,
        global: None,
        lazy: false,
        fix: None,
        state: None,
    };
    let mut out = Vec::new();
    if let Some(why) = &s.malformed {
        out.push(meta(
            rules::UNUSED_SUPPRESSION,
            Hit {
                message: format!("cannot read this suppression: {why}"),
                help: "write `// isolate: allow(rule_id) -- reason` or \
                       `#[isolate::allow(rule_id, reason = \"...\")]`"
                    .into(),
                ..Hit::default()
            },
        ));
        return out;
    }
    if s.reason.is_none() {
        out.push(meta(
            rules::SUPPRESSION_WITHOUT_REASON,
            Hit {
                message: format!("suppression `{text}` gives no reason"),
                help: match s.form {
                    Form::Comment => {
                        "add `-- <why sharing this across users is safe>` after the rule list"
                    }
                    Form::Attribute => "add `reason = \"<why sharing this across users is safe>\"`",
                }
                .into(),
                ..Hit::default()
            },
        ));
    }
    let unknown: Vec<(&RuleRef, Option<&'static str>)> = s
        .rules
        .iter()
        .filter_map(|r| rules::lookup(&r.text).err().map(|e| (r, e.suggestion)))
        .collect();
    if !unknown.is_empty() {
        let names: Vec<String> = unknown
            .iter()
            .map(|(r, suggestion)| match suggestion {
                Some(s) => format!("`{}` (did you mean `{s}`?)", r.text),
                None => format!("`{}`", r.text),
            })
            .collect();
        let hit = Hit {
            message: format!(
                "suppression `{text}` names unknown rule {}",
                names.join(", ")
            ),
            help: "fix the rule id (`cargo isolate rules` lists them)".into(),
            ..Hit::default()
        };
        let edits: Vec<Edit> = unknown
            .iter()
            .filter_map(|(r, suggestion)| {
                suggestion.map(|s| Edit {
                    span: Span { file, loc: r.loc },
                    replacement: s.to_string(),
                })
            })
            .collect();
        let mut c = meta(rules::UNUSED_SUPPRESSION, hit);
        if !edits.is_empty() {
            c.fix = Some(Fix {
                message: "use the rule id it most likely means".into(),
                applicability: Applicability::MaybeIncorrect,
                edits,
            });
        }
        out.push(c);
    } else if !used {
        let mut c = meta(
            rules::UNUSED_SUPPRESSION,
            Hit {
                message: format!("suppression `{text}` matches no finding"),
                help: "remove it, or fix the rule id (`cargo isolate rules` lists them)".into(),
                ..Hit::default()
            },
        );
        c.fix = s.removal.map(|loc| Fix {
            message: "remove the suppression".into(),
            applicability: Applicability::MachineApplicable,
            edits: vec![Edit {
                span: Span { file, loc },
                replacement: String::new(),
            }],
        });
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The suppression comment on `line` of `src`, as the scanner sees it.
    fn sup(src: &str, line: u32) -> Suppression {
        grammar::scan_comments(src)
            .into_iter()
            .find(|s| s.loc.line == line)
            .expect("a suppression on that line")
    }

    #[test]
    fn suppression_reach() {
        let src = "// isolate: allow(static_mut)\n// more words\n// more\n#[doc = \"x\"]\n\
                   static mut A: u8 = 0; // isolate: allow(static_mut)\n";
        // Above the attributes, through comment lines.
        assert!(sup(src, 1).covers(4, 5, None));
        // At the end of the name line.
        assert!(sup(src, 5).covers(4, 5, None));
        // A blank line or code in between stops it.
        let blank = "// isolate: allow(static_mut)\n\nstatic mut A: u8 = 0;\n";
        assert!(!sup(blank, 1).covers(3, 3, None));
        let code = "// isolate: allow(static_mut)\nfn f() {}\nstatic mut A: u8 = 0;\n";
        assert!(!sup(code, 1).covers(3, 3, None));
        // A trailing comment on the line above belongs to that line's code.
        let trailing =
            "static mut A: u8 = 0; // isolate: allow(static_mut)\nstatic mut B: u8 = 0;\n";
        assert!(sup(trailing, 1).covers(1, 1, None));
        assert!(!sup(trailing, 1).covers(2, 2, None));
    }

    #[test]
    fn above_a_macro_call_covers_its_items_only_from_above() {
        let src = "// isolate: allow(thread_local_state) -- per-thread caches\nthread_local! {\n\
                   static A: Cell<u8> = Cell::new(0);\n    // isolate: allow(thread_local_state) -- only C\n\
                   static B: Cell<u8> = Cell::new(0);\n}\n";
        let above = sup(src, 1);
        assert!(above.covers(3, 3, Some(2)));
        assert!(above.covers(5, 5, Some(2)));
        let inside = sup(src, 4);
        assert!(inside.covers(5, 5, Some(2)));
        assert!(
            !inside.covers(3, 3, Some(2)),
            "a comment inside reaches down only"
        );
    }
}
