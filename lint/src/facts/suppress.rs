//! Suppression comments: `// isolate: allow(rule_a, rule_b) -- reason`.
//!
//! syn drops comments, so they are found by scanning the text. A `//` inside a string literal on
//! the same line could be mistaken for a comment; the marker `isolate: allow(` makes that rare.

use super::{Loc, Suppression};

const MARKER: &str = "isolate:";

/// Finds every suppression comment in `source`.
pub fn scan_suppressions(source: &str) -> Vec<Suppression> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    for (idx, line) in source.split_inclusive('\n').enumerate() {
        if let Some(s) = parse_line(line) {
            let (start, end) = s.range;
            let column = line[..start].chars().count() as u32 + 1;
            out.push(Suppression {
                loc: Loc {
                    line: idx as u32 + 1,
                    column,
                    end_line: idx as u32 + 1,
                    end_column: column + line[start..end].chars().count() as u32,
                    byte_start: (offset + start) as u32,
                    byte_end: (offset + end) as u32,
                },
                trailing: !line[..start].trim().is_empty(),
                rules: s.rules,
                reason: s.reason,
            });
        }
        offset += line.len();
    }
    out
}

struct Parsed {
    range: (usize, usize),
    rules: Vec<String>,
    reason: Option<String>,
}

fn parse_line(line: &str) -> Option<Parsed> {
    let mut search = 0;
    while let Some(pos) = line[search..].find("//") {
        let comment_start = search + pos;
        let body = line[comment_start..]
            .trim_start_matches('/')
            .trim_start_matches('!');
        let body_start = line.len() - body.len();
        let trimmed = body.trim_start();
        if let Some(rest) = trimmed.strip_prefix(MARKER) {
            let rest = rest.trim_start();
            let rest = rest.strip_prefix("allow")?.trim_start();
            let rest = rest.strip_prefix('(')?;
            let close = rest.find(')')?;
            let rules = rest[..close]
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(String::from)
                .collect();
            let after = rest[close + 1..].trim();
            let reason = after
                .strip_prefix("--")
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(String::from);
            let end = line.trim_end().len().max(body_start);
            return Some(Parsed {
                range: (comment_start, end),
                rules,
                reason,
            });
        }
        search = comment_start + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let src = "static A: u8 = 0; // isolate: allow(static_mut, lazy_singleton) -- cached once\n\
                   // isolate: allow(static_mut)\n\
                   // isolate:allow(x) --   \n\
                   let s = \"no comment here\";\n";
        let found = scan_suppressions(src);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].rules, ["static_mut", "lazy_singleton"]);
        assert_eq!(found[0].reason.as_deref(), Some("cached once"));
        assert_eq!(found[0].loc.column, 19);
        assert!(found[0].trailing && !found[1].trailing);
        assert_eq!(found[1].loc.line, 2);
        assert_eq!(found[1].reason, None);
        assert_eq!(found[2].reason, None);
    }
}
