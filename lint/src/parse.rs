//! Reading and parsing one file into facts. Runs on worker threads with large stacks; every
//! failure becomes a message, never a panic.

use std::path::Path;
use std::sync::Arc;

use crate::facts::{self, FileFacts};

/// Deeper bracket nesting than this is refused before parsing: syn's recursive descent would
/// need an unbounded stack for it, and no hand-written code nests this deep.
pub const MAX_NESTING: usize = 1_000;

/// Reads, parses and collects the facts of one file.
pub fn parse_file(path: &Path) -> Result<FileFacts, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read file: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "file is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    parse_source(&text)
}

/// Parses source text into facts (used for files and, later, for unsaved editor buffers).
pub fn parse_source(text: &str) -> Result<FileFacts, String> {
    let depth = max_nesting(text);
    if depth > MAX_NESTING {
        return Err(format!(
            "nesting too deep to parse safely ({depth} levels of brackets, limit {MAX_NESTING})"
        ));
    }
    let result = match syn::parse_file(text) {
        Ok(file) => {
            let mut f = facts::collect(&file, text);
            f.suppressions.extend(facts::scan_suppressions(text));
            f.suppressions.sort_by_key(|s| (s.loc.line, s.loc.column));
            if f.has_candidates() {
                f.source = Some(Arc::from(text));
            }
            Ok(f)
        }
        Err(e) => {
            let at = e.span().start();
            Err(format!("parse error at {}:{}: {e}", at.line, at.column + 1))
        }
    };
    // Spans keep a per-thread copy of every parsed file alive; all positions have been turned
    // into numbers by now, so release it before the next file.
    proc_macro2::extra::invalidate_current_thread_spans();
    result
}

/// The maximum depth of `(`, `[` and `{` outside comments, strings and chars. An
/// over-estimate is harmless (it only decides whether to refuse the file), so raw strings and
/// lifetimes are handled just well enough.
pub fn max_nesting(text: &str) -> usize {
    let b = text.as_bytes();
    let (mut i, mut depth, mut max) = (0usize, 0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
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
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#'))
                && (i == 0 || !is_ident(b[i - 1])) =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if b.get(i + 1 + hashes) == Some(&b'"') {
                    let close: Vec<u8> = std::iter::once(b'"')
                        .chain(std::iter::repeat_n(b'#', hashes))
                        .collect();
                    i += 2 + hashes;
                    while i < b.len() && !b[i..].starts_with(&close) {
                        i += 1;
                    }
                    i += close.len();
                    continue;
                }
            }
            b'\'' => {
                // A char literal ('x', '\n', '\u{..}') or a lifetime ('a): skip only the former.
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                } else if b.get(i + 2) == Some(&b'\'') {
                    i += 2;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    max
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_ignores_strings_and_comments() {
        assert_eq!(max_nesting("fn a() { let s = \"(((\"; // (((\n }"), 1);
        assert_eq!(
            max_nesting("fn a() { let s = r#\"{{{\"#; let c = '('; }"),
            1
        );
        assert_eq!(max_nesting("fn a<'a>(x: &'a u8) { [(1)] }"), 3);
        assert_eq!(max_nesting("/* ( /* ( */ ( */ fn a() {}"), 1);
    }

    #[test]
    fn errors_are_messages() {
        let deep = format!(
            "fn a() {{ let x = {}1{}; }}",
            "(".repeat(5000),
            ")".repeat(5000)
        );
        assert!(
            parse_source(&deep)
                .unwrap_err()
                .contains("nesting too deep")
        );
        assert!(
            parse_source("fn (")
                .unwrap_err()
                .starts_with("parse error at 1:")
        );
    }
}
