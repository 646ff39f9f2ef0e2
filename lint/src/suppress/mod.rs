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

pub(crate) use grammar::{REASON_PLACEHOLDER, comments_in, from_attribute};

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Loc, Span};
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

    /// The reason, unless there is none or it is still the placeholder an editor inserted.
    fn given_reason(&self) -> Option<&str> {
        self.reason
            .as_deref()
            .filter(|r| *r != grammar::REASON_PLACEHOLDER)
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
    if s.given_reason().is_none() {
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

/// Whether a suppression can cover findings of `rule` (the suppression rules' own findings
/// are about suppressions, which nothing suppresses).
pub(crate) fn can_cover(rule: &Rule) -> bool {
    rule != rules::SUPPRESSION_WITHOUT_REASON && rule != rules::UNUSED_SUPPRESSION
}

/// The edit that suppresses `d`: a `// isolate: allow(rule) -- reason` line inserted above its
/// item (above the attributes and doc comments), indented like the item's first line, with
/// the file's line ending. `text` is the text `d` was found in. `None` when no suppression
/// covers `d` or its line is not in `text`.
pub(crate) fn allow_fix(d: &Diagnostic, text: &str, reason: &str) -> Option<Fix> {
    let line = d.item_start_line?;
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n').nth(line as usize - 2)?.0 + 1
    };
    if start > text.len() || (start == text.len() && line > 1) {
        return None;
    }
    let rest = &text[start..];
    let indent: String = rest
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let eol = match rest.find('\n') {
        Some(i) if rest[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    };
    let at = Loc {
        line,
        column: 1,
        end_line: line,
        end_column: 1,
        byte_start: start as u32,
        byte_end: start as u32,
    };
    Some(Fix {
        message: format!("allow `{}` here, with a reason", d.rule.id),
        applicability: Applicability::MaybeIncorrect,
        edits: vec![Edit {
            span: Span {
                file: d.primary.file,
                loc: at,
            },
            replacement: format!("{indent}{}{eol}", grammar::comment(&[d.rule.id], reason)),
        }],
    })
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

    /// Analyses `src` as one file, applies the "allow with reason" edit of the finding of
    /// `rule`, and returns the edited text and the rules found in it.
    fn allowed(src: &str, rule: &str, reason: &str) -> (String, Vec<&'static str>) {
        let mut ws = crate::Workspace::new(crate::WorkspaceOptions::default());
        ws.set_file_text("/virtual/app/src/lib.rs", src);
        let report = ws.analyse();
        let d = report
            .diagnostics
            .iter()
            .find(|d| d.rule.id == rule)
            .unwrap_or_else(|| panic!("no {rule} in {:?}", report.diagnostics));
        let fix = allow_fix(d, src, reason).expect("an allow fix");
        assert_eq!(fix.edits.len(), 1);
        let e = &fix.edits[0];
        let bytes = e.span.loc.bytes_in(src).unwrap();
        let edited = format!(
            "{}{}{}",
            &src[..bytes.start],
            e.replacement,
            &src[bytes.end..]
        );
        ws.set_file_text("/virtual/app/src/lib.rs", edited.as_str());
        let after = ws.analyse();
        let rules = after.diagnostics.iter().map(|d| d.rule.id).collect();
        (edited, rules)
    }

    #[test]
    fn allow_fix_inserts_a_covering_comment_above_the_item() {
        let src = "mod m {\n    /// Doc.\n    #[used]\n    static mut A: u8 = 0;\n}\n";
        let (edited, left) = allowed(src, "static_mut", "legacy counter");
        assert_eq!(
            edited,
            "mod m {\n    // isolate: allow(static_mut) -- legacy counter\n    /// Doc.\n    \
             #[used]\n    static mut A: u8 = 0;\n}\n"
        );
        assert!(left.is_empty(), "{left:?}");
        // The first line of the file, and a file with CRLF line endings.
        let (edited, left) = allowed("static mut A: u8 = 0;\r\nfn f() {}\r\n", "static_mut", "x");
        assert_eq!(
            edited,
            "// isolate: allow(static_mut) -- x\r\nstatic mut A: u8 = 0;\r\nfn f() {}\r\n"
        );
        assert!(left.is_empty(), "{left:?}");
        // An item inside `thread_local!`: the comment goes above the item, inside the call.
        let src =
            "use std::cell::Cell;\nthread_local! {\n\tstatic A: Cell<u8> = Cell::new(0);\n}\n";
        let (edited, left) = allowed(src, "thread_local_state", "per-thread");
        assert!(
            edited.contains("{\n\t// isolate: allow(thread_local_state) -- per-thread\n\tstatic A"),
            "{edited}"
        );
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn the_placeholder_reason_suppresses_but_asks_for_a_real_one() {
        let (edited, left) = allowed("static mut A: u8 = 0;\n", "static_mut", REASON_PLACEHOLDER);
        assert!(
            edited.starts_with("// isolate: allow(static_mut) -- <why"),
            "{edited}"
        );
        assert_eq!(left, ["suppression_without_reason"]);
    }

    #[test]
    fn no_allow_fix_for_the_suppression_rules() {
        let src = "// isolate: allow(static_mut) -- nothing here\nconst A: u8 = 0;\n";
        let mut ws = crate::Workspace::new(crate::WorkspaceOptions::default());
        ws.set_file_text("/virtual/app/src/lib.rs", src);
        let report = ws.analyse();
        assert_eq!(report.diagnostics[0].rule.id, "unused_suppression");
        assert_eq!(allow_fix(&report.diagnostics[0], src, "x"), None);
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
