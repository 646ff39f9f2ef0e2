//! The two spellings of a suppression, read into one [`Suppression`]:
//!
//! - the comment `// isolate: allow(rule_a, isolate::rule_b) -- reason`, found with the small
//!   [`lexer`](crate::facts::lexer) (syn drops comments), which knows where string literals and
//!   block comments are; doc comments are never suppressions;
//! - the attribute `#[isolate::allow(rule_a, isolate::rule_b, reason = "...")]`, checked by the
//!   `isolate-macros` crate when the code compiles.
//!
//! Both take the same rule list: one or more rule ids, each bare or prefixed `isolate::`,
//! separated by commas (a trailing comma is fine). `tests/allow_forms.rs` (in the e2e crate)
//! feeds the same table of forms to this parser and to the macro.

use super::{Form, RuleRef, Suppression};
use crate::diagnostic::Loc;

const MARKER: &str = "isolate:";

/// The reason an editor writes into a suppression it inserts, for the user to replace: it
/// suppresses, but counts as no reason (`suppression_without_reason` asks for a real one).
pub(crate) const REASON_PLACEHOLDER: &str = "<why sharing this across users is safe>";

/// The suppression comment for `rules` with `reason`: `// isolate: allow(a, b) -- reason`.
pub(crate) fn comment(rules: &[&str], reason: &str) -> String {
    format!("// {MARKER} allow({}) -- {reason}", rules.join(", "))
}

/// Finds every suppression comment in `source`.
#[cfg(test)]
pub(crate) fn scan_comments(source: &str) -> Vec<Suppression> {
    comments_in(source, crate::facts::lexer::summarize(source).comments)
}

/// The suppressions among `comments`, the line comments of `source` (from
/// [`lexer::summarize`]).
pub(crate) fn comments_in(source: &str, comments: Vec<std::ops::Range<usize>>) -> Vec<Suppression> {
    let mut out = Vec::new();
    let mut line_no = 1u32;
    let mut counted_to = 0usize;
    for range in comments {
        let text = &source[range.clone()];
        let Some(parsed) = parse_comment(text) else {
            continue;
        };
        // Lines are counted only up to suppressions, which are rare.
        line_no += source[counted_to..range.start].matches('\n').count() as u32;
        counted_to = range.start;
        let line_start = source[..range.start].rfind('\n').map_or(0, |i| i + 1);
        let column = source[line_start..range.start].chars().count() as u32 + 1;
        let loc_of = |r: std::ops::Range<usize>| {
            let col = column + text[..r.start].chars().count() as u32;
            Loc {
                line: line_no,
                column: col,
                end_line: line_no,
                end_column: col + text[r.clone()].chars().count() as u32,
                byte_start: (range.start + r.start) as u32,
                byte_end: (range.start + r.end) as u32,
            }
        };
        let rules = parsed
            .rules
            .into_iter()
            .map(|(text, r)| RuleRef {
                text,
                loc: loc_of(r),
            })
            .collect();
        let before = &source[line_start..range.start];
        let trailing = !before.trim().is_empty();
        let removal = if trailing {
            // From the end of the code to the end of the comment.
            let keep = before.trim_end().len();
            let from = line_start + keep;
            let col = before[..keep].chars().count() as u32 + 1;
            Some(Loc {
                line: line_no,
                column: col,
                end_line: line_no,
                end_column: column + text.chars().count() as u32,
                byte_start: from as u32,
                byte_end: range.end as u32,
            })
        } else {
            // The whole line, with its line break.
            let end = source[range.end..]
                .find('\n')
                .map_or(source.len(), |i| range.end + i + 1);
            Some(Loc {
                line: line_no,
                column: 1,
                end_line: line_no + 1,
                end_column: 1,
                byte_start: line_start as u32,
                byte_end: end as u32,
            })
        };
        out.push(Suppression {
            loc: loc_of(0..text.len()),
            form: Form::Comment,
            trailing,
            removal,
            reach: reach_after(source, range.end, line_no),
            rules,
            reason: parsed.reason,
            malformed: parsed.malformed,
        });
    }
    out
}

/// The first line after `line` (the comment's, which ends at byte `end`) that is not itself a
/// `//` comment line: the comment reaches an item that starts on or before it.
fn reach_after(source: &str, end: usize, line: u32) -> u32 {
    let mut n = line;
    for l in source[end..].split('\n').skip(1) {
        n += 1;
        if !l.trim_start().starts_with("//") {
            return n;
        }
    }
    n + 1
}

struct Parsed {
    /// Rule ids as written, with their byte ranges in the comment.
    rules: Vec<(String, std::ops::Range<usize>)>,
    reason: Option<String>,
    malformed: Option<String>,
}

/// Parses one `//` comment (the text from the slashes to the end of the line). `None` when
/// it is not a suppression at all.
fn parse_comment(comment: &str) -> Option<Parsed> {
    // Doc comments (`///`, `//!`) describe suppressions; they are not suppressions.
    if (comment.starts_with("///") && !comment.starts_with("////")) || comment.starts_with("//!") {
        return None;
    }
    let body = comment.trim_start_matches('/').trim_start();
    let rest = body.strip_prefix(MARKER)?.trim_start();
    let after_allow = rest.strip_prefix("allow")?;
    // `isolate: allowed ...` is prose, not a suppression.
    if after_allow.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let bad = |why: &str| {
        Some(Parsed {
            rules: Vec::new(),
            reason: None,
            malformed: Some(why.to_string()),
        })
    };
    let Some(list) = after_allow.trim_start().strip_prefix('(') else {
        return bad("expected `(` after `allow`");
    };
    let Some(close) = list.find(')') else {
        return bad("expected `)` after the rule list");
    };
    let list_at = comment.len() - list.len();
    let mut rules = Vec::new();
    let mut at = list_at;
    let items: Vec<&str> = list[..close].split(',').collect();
    for (i, item) in items.iter().enumerate() {
        let trimmed = item.trim();
        let start = at + (item.len() - item.trim_start().len());
        at += item.len() + 1;
        if trimmed.is_empty() {
            // A trailing comma (`allow(a, b,)`) is fine; an empty entry elsewhere is not.
            if i + 1 == items.len() && i > 0 {
                continue;
            }
            return bad("expected a rule id");
        }
        if let Err(why) = check_rule_id(trimmed) {
            return bad(&why);
        }
        rules.push((trimmed.to_string(), start..start + trimmed.len()));
    }
    let reason = list[close + 1..]
        .trim()
        .strip_prefix("--")
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(String::from);
    Some(Parsed {
        rules,
        reason,
        malformed: None,
    })
}

/// A rule id as both grammars accept it: an identifier, optionally prefixed `isolate::`.
pub(crate) fn check_rule_id(text: &str) -> Result<(), String> {
    let bare = text.strip_prefix("isolate::").unwrap_or(text);
    let ident = !bare.is_empty()
        && bare.starts_with(|c: char| c.is_alphabetic() || c == '_')
        && bare.chars().all(|c| c.is_alphanumeric() || c == '_');
    if ident {
        Ok(())
    } else {
        Err(format!(
            "`{text}` is not a rule id (an identifier such as `static_mut`, optionally written `isolate::static_mut`)"
        ))
    }
}

/// Reads `#[isolate::allow(..)]`; `None` for any other attribute.
pub(crate) fn from_attribute(attr: &syn::Attribute) -> Option<Suppression> {
    let segs: Vec<_> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if segs != ["isolate", "allow"] {
        return None;
    }
    let loc = Loc::of(attr.pound_token.span).to(Loc::of(attr.bracket_token.span.close()));
    let reach = attr.bracket_token.span.close().end().line as u32 + 1;
    let mut s = Suppression {
        loc,
        form: Form::Attribute,
        trailing: false,
        reach,
        rules: Vec::new(),
        reason: None,
        malformed: None,
        removal: None,
    };
    match attribute_args(attr) {
        Ok((rules, reason)) => {
            s.rules = rules;
            s.reason = reason;
        }
        Err(why) => s.malformed = Some(why),
    }
    Some(s)
}

/// `rule, isolate::rule, reason = "..."`: the rules, then the optional reason, then an optional
/// trailing comma, as the macro accepts them.
fn attribute_args(attr: &syn::Attribute) -> Result<(Vec<RuleRef>, Option<String>), String> {
    let list = match &attr.meta {
        syn::Meta::List(list) => list,
        _ => {
            return Err(
                "expected a rule list: `#[isolate::allow(rule_id, reason = \"...\")]`".into(),
            );
        }
    };
    let items = list
        .parse_args_with(syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
        .map_err(|e| e.to_string())?;
    let mut rules = Vec::new();
    let mut reason = None;
    for meta in items {
        if reason.is_some() {
            return Err("unexpected tokens after the reason".into());
        }
        match meta {
            syn::Meta::Path(p) => {
                let text = crate::facts::path_string(&p);
                let prefixed_ok = p.segments.len() == 1
                    || (p.segments.len() == 2 && p.segments[0].ident == "isolate");
                if !prefixed_ok || p.leading_colon.is_some() {
                    return Err(format!("`{text}` is not a rule id"));
                }
                check_rule_id(&text)?;
                let first = p.segments.first().map(|s| s.ident.span());
                let last = p.segments.last().map(|s| s.ident.span());
                let loc = match (first, last) {
                    (Some(a), Some(b)) => Loc::of(a).to(Loc::of(b)),
                    _ => Loc::default(),
                };
                rules.push(RuleRef { text, loc });
            }
            syn::Meta::NameValue(nv) if nv.path.is_ident("reason") => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => reason = Some(s.value().trim().to_string()),
                _ => return Err("the reason must be a string literal".into()),
            },
            other => {
                let key = crate::facts::path_string(other.path());
                return Err(format!(
                    "unknown argument `{key}`: expected `reason = \"...\"`"
                ));
            }
        }
    }
    if rules.is_empty() {
        return Err(
            "expected a rule id: `#[isolate::allow(rule_id, reason = \"why this is safe\")]`"
                .into(),
        );
    }
    Ok((rules, reason.filter(|r| !r.is_empty())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(s: &Suppression) -> Vec<&str> {
        s.rules.iter().map(|r| r.text.as_str()).collect()
    }

    #[test]
    fn comment_forms() {
        let src = "static A: u8 = 0; // isolate: allow(static_mut, isolate::lazy_singleton) -- cached once\n\
                   // isolate: allow(static_mut)\n\
                   // isolate:allow(x,) --   \n\
                   let s = \"no comment here\";\n\
                   /// `// isolate: allow(x)` in a doc comment\n\
                   let url = \"http://a\"; // isolate: allow(y) -- after a string\n\
                   // isolate: allow(static mut) -- bad id\n\
                   // isolate: allowed to share, prose\n\
                   // isolate: allow static_mut\n";
        let found = scan_comments(src);
        assert_eq!(found.len(), 6);
        assert_eq!(ids(&found[0]), ["static_mut", "isolate::lazy_singleton"]);
        assert_eq!(found[0].reason.as_deref(), Some("cached once"));
        assert_eq!(found[0].loc.column, 19);
        // The second id's position, for did-you-mean edits.
        assert_eq!(found[0].rules[1].loc.column, 19 + 30);
        assert_eq!(
            &src[found[0].rules[1].loc.byte_start as usize
                ..found[0].rules[1].loc.byte_end as usize],
            "isolate::lazy_singleton"
        );
        assert!(found[0].trailing && !found[1].trailing);
        assert_eq!(found[1].reach, 4, "line 3 is a comment line, line 4 is not");
        assert_eq!(found[1].loc.line, 2);
        assert_eq!(found[1].reason, None);
        assert_eq!(ids(&found[2]), ["x"]);
        assert_eq!(found[2].reason, None);
        assert_eq!(ids(&found[3]), ["y"]);
        assert!(
            found[4]
                .malformed
                .as_deref()
                .unwrap()
                .contains("static mut")
        );
        assert!(found[5].malformed.as_deref().unwrap().contains("`(`"));
    }

    #[test]
    fn written_comments_read_back() {
        let text = comment(&["static_mut", "isolate::lazy_singleton"], "metrics only");
        assert_eq!(
            text,
            "// isolate: allow(static_mut, isolate::lazy_singleton) -- metrics only"
        );
        let read = &scan_comments(&text)[0];
        assert_eq!(ids(read), ["static_mut", "isolate::lazy_singleton"]);
        assert_eq!(read.reason.as_deref(), Some("metrics only"));
        let placeholder = &scan_comments(&comment(&["static_mut"], REASON_PLACEHOLDER))[0];
        assert_eq!(placeholder.reason.as_deref(), Some(REASON_PLACEHOLDER));
        assert_eq!(placeholder.malformed, None);
    }

    fn attr(src: &str) -> Suppression {
        let item: syn::ItemStatic = syn::parse_str(&format!("{src} static A: u8 = 0;")).unwrap();
        from_attribute(&item.attrs[0]).expect("an isolate::allow attribute")
    }

    #[test]
    fn attribute_forms() {
        let s =
            attr("#[isolate::allow(static_mut, isolate::lazy_singleton, reason = \"legacy\",)]");
        assert_eq!(ids(&s), ["static_mut", "isolate::lazy_singleton"]);
        assert_eq!(s.reason.as_deref(), Some("legacy"));
        assert_eq!(s.malformed, None);
        let s = attr("#[isolate::allow(static_mut)]");
        assert_eq!((s.reason.as_deref(), s.malformed.as_deref()), (None, None));
        for bad in [
            "#[isolate::allow]",
            "#[isolate::allow()]",
            "#[isolate::allow(reason = \"x\")]",
            "#[isolate::allow(static_mut, reason = 3)]",
            "#[isolate::allow(static_mut, because = \"x\")]",
            "#[isolate::allow(static_mut, reason = \"x\", lazy_singleton)]",
            "#[isolate::allow(other::static_mut)]",
            "#[isolate::allow(\"static_mut\")]",
        ] {
            assert!(attr(bad).malformed.is_some(), "{bad} was accepted");
        }
    }
}
