//! A minimal Rust lexer for what syn does not keep: line comments (suppressions) and bracket
//! depth (checked before parsing). It skips strings (also raw and byte strings), char literals
//! and nested block comments; everything else is read byte by byte.

use std::ops::Range;

/// What the scan reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `(`, `[` or `{` outside literals and comments.
    Open,
    /// `)`, `]` or `}` outside literals and comments.
    Close,
    /// A `//` comment: the byte range from the slashes to the end of the line (no newline).
    LineComment(Range<usize>),
}

/// Scans `text`, calling `f` for every event in order.
pub fn scan(text: &str, mut f: impl FnMut(Event)) {
    let b = text.as_bytes();
    let mut i = 0usize;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let start = i;
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                let end = if i > start && b[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                f(Event::LineComment(start..end));
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut level = 1;
                i += 2;
                while i < b.len() && level > 0 {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        level += 1;
                        i += 1;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        level -= 1;
                        i += 1;
                    }
                    i += 1;
                }
                continue;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'r' if (i == 0 || !is_ident(b[i - 1])) && raw_string_at(b, i + 1).is_some() => {
                i = raw_string_at(b, i + 1).unwrap_or(b.len());
                continue;
            }
            b'b' if (i == 0 || !is_ident(b[i - 1]))
                && b.get(i + 1) == Some(&b'r')
                && raw_string_at(b, i + 2).is_some() =>
            {
                i = raw_string_at(b, i + 2).unwrap_or(b.len());
                continue;
            }
            b'\'' => {
                // A char literal ('x', '\n', '\u{..}', '"') or a lifetime ('a): skip the former.
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                } else if let Some(len) = char_literal_len(&text[i + 1..]) {
                    i += len;
                }
            }
            b'(' | b'[' | b'{' => f(Event::Open),
            b')' | b']' | b'}' => f(Event::Close),
            _ => {}
        }
        i += 1;
    }
}

/// If a raw string's hashes and quote start at `at` (`#"` or `"`), the index just past its end.
fn raw_string_at(b: &[u8], at: usize) -> Option<usize> {
    let hashes = b.get(at..)?.iter().take_while(|&&c| c == b'#').count();
    if b.get(at + hashes) != Some(&b'"') {
        return None;
    }
    let mut i = at + hashes + 1;
    while i < b.len() {
        if b[i] == b'"'
            && b[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == b'#')
                .count()
                == hashes
        {
            return Some(i + 1 + hashes);
        }
        i += 1;
    }
    Some(b.len())
}

/// Length (from the char after the opening quote, up to the closing quote) of a one-char
/// literal such as `'x'` or `'é'`; `None` for a lifetime.
fn char_literal_len(rest: &str) -> Option<usize> {
    let c = rest.chars().next()?;
    let after = c.len_utf8();
    (rest.as_bytes().get(after) == Some(&b'\'')).then_some(after + 1)
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// What one pass over a file finds: its deepest bracket nesting and its line comments.
#[derive(Debug, Default)]
pub struct Summary {
    pub max_nesting: usize,
    pub comments: Vec<Range<usize>>,
}

/// Scans `text` once for its [`Summary`].
pub fn summarize(text: &str) -> Summary {
    let mut comments = Vec::new();
    let max_nesting = nesting_and(text, |r| comments.push(r));
    Summary {
        max_nesting,
        comments,
    }
}

/// The maximum depth of brackets outside comments and literals, without collecting comments
/// (the parse-floor benchmark uses this and must not pay for work only the linter needs).
pub fn max_nesting(text: &str) -> usize {
    nesting_and(text, |_| {})
}

/// The maximum bracket depth of `text`, handing each line comment to `on_comment`.
fn nesting_and(text: &str, mut on_comment: impl FnMut(Range<usize>)) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    scan(text, |e| match e {
        Event::Open => {
            depth += 1;
            max = max.max(depth);
        }
        Event::Close => depth = depth.saturating_sub(1),
        Event::LineComment(r) => on_comment(r),
    });
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        scan(text, |e| {
            if let Event::LineComment(r) = e {
                out.push(&text[r]);
            }
        });
        out
    }

    #[test]
    fn comments_outside_literals_only() {
        let src = "let a = \"// no\"; // yes\nlet b = r#\"\n// no\n\"#; let c = '\"'; // yes2\r\n/* // no */ let d = b'/';";
        assert_eq!(comments(src), ["// yes", "// yes2"]);
    }

    #[test]
    fn nesting_ignores_strings_and_comments() {
        assert_eq!(max_nesting("fn a() { let s = \"(((\"; // (((\n }"), 1);
        assert_eq!(
            max_nesting("fn a() { let s = r#\"{{{\"#; let c = '('; }"),
            1
        );
        assert_eq!(max_nesting("fn a<'a>(x: &'a u8) { [(1)] }"), 3);
        assert_eq!(max_nesting("/* ( /* ( */ ( */ fn a() {}"), 1);
        assert_eq!(max_nesting("fn a() { let c = 'é'; let s = br\"(\"; }"), 1);
    }
}
