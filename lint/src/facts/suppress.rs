//! Suppression comments: `// isolate: allow(rule_a, rule_b) -- reason`.
//!
//! syn drops comments, so they are found with the small [`lexer`], which knows where string
//! literals and block comments are. Doc comments are never suppressions.

use super::{Loc, Suppression, lexer};

const MARKER: &str = "isolate:";

/// Finds every suppression comment in `source`.
pub fn scan_suppressions(source: &str) -> Vec<Suppression> {
    suppressions_in(source, lexer::summarize(source).comments)
}

/// The suppressions among `comments`, the line comments of `source` (from [`lexer::summarize`]).
pub fn suppressions_in(source: &str, comments: Vec<std::ops::Range<usize>>) -> Vec<Suppression> {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    let mut line_no = 1u32;
    let mut counted_to = 0usize;
    for range in comments {
        line_no += source[counted_to..range.start].matches('\n').count() as u32;
        counted_to = range.start;
        let line_start = source[..range.start].rfind('\n').map_or(0, |i| i + 1);
        let Some(p) = parse_comment(&source[range.clone()]) else {
            continue;
        };
        let column = source[line_start..range.start].chars().count() as u32 + 1;
        out.push(Suppression {
            loc: Loc {
                line: line_no,
                column,
                end_line: line_no,
                end_column: column + source[range.clone()].chars().count() as u32,
                byte_start: range.start as u32,
                byte_end: range.end as u32,
            },
            trailing: !source[line_start..range.start].trim().is_empty(),
            reach: lines
                .iter()
                .enumerate()
                .skip(line_no as usize)
                .find(|(_, l)| !l.trim_start().starts_with("//"))
                .map_or(lines.len() as u32 + 1, |(i, _)| i as u32 + 1),
            rules: p.rules,
            reason: p.reason,
        });
    }
    out
}

struct Parsed {
    rules: Vec<String>,
    reason: Option<String>,
}

/// Parses one `//` comment (the text from the slashes to the end of the line).
fn parse_comment(comment: &str) -> Option<Parsed> {
    // Doc comments (`///`, `//!`) describe suppressions; they are not suppressions.
    if (comment.starts_with("///") && !comment.starts_with("////")) || comment.starts_with("//!") {
        return None;
    }
    let body = comment.trim_start_matches('/').trim_start();
    let rest = body.strip_prefix(MARKER)?.trim_start();
    let rest = rest.strip_prefix("allow")?.trim_start();
    let rest = rest.strip_prefix('(')?;
    let close = rest.find(')')?;
    let rules = rest[..close]
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(String::from)
        .collect();
    let reason = rest[close + 1..]
        .trim()
        .strip_prefix("--")
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(String::from);
    Some(Parsed { rules, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let src = "static A: u8 = 0; // isolate: allow(static_mut, lazy_singleton) -- cached once\n\
                   // isolate: allow(static_mut)\n\
                   // isolate:allow(x) --   \n\
                   let s = \"no comment here\";\n\
                   /// `// isolate: allow(x)` in a doc comment\n\
                   let url = \"http://a\"; // isolate: allow(y) -- after a string\n";
        let found = scan_suppressions(src);
        assert_eq!(found.len(), 4);
        assert_eq!(found[3].rules, ["y"]);
        assert_eq!(found[0].rules, ["static_mut", "lazy_singleton"]);
        assert_eq!(found[0].reason.as_deref(), Some("cached once"));
        assert_eq!(found[0].loc.column, 19);
        assert!(found[0].trailing && !found[1].trailing);
        assert_eq!(found[1].reach, 4, "line 3 is a comment line, line 4 is not");
        assert_eq!(found[1].loc.line, 2);
        assert_eq!(found[1].reason, None);
        assert_eq!(found[2].reason, None);
    }
}
