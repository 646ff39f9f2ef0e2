//! Reading and parsing one file into facts. Runs on worker threads with large stacks; every
//! failure becomes a message, never a panic.

use std::path::Path;

use crate::facts::{self, FileFacts};
use crate::suppress;

/// Deeper bracket nesting than this is refused before parsing: syn's recursive descent would
/// need an unbounded stack for it, and no hand-written code nests this deep.
pub const MAX_NESTING: usize = 1_000;

/// Reads a file as UTF-8 text.
pub(crate) fn read(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read file: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "file is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Parses source text into facts: a file's, or an editor's unsaved buffer.
pub(crate) fn parse_source(text: &str) -> Result<FileFacts, String> {
    let lexed = facts::lexer::summarize(text);
    let depth = lexed.max_nesting;
    if depth > MAX_NESTING {
        return Err(format!(
            "nesting too deep to parse safely ({depth} levels of brackets, limit {MAX_NESTING})"
        ));
    }
    use crate::timings::{DROP, FACTS, SYN};
    let result = match SYN.time(|| syn::parse_file(text)) {
        Ok(file) => {
            let mut f = FACTS.time(|| facts::collect(&file));
            DROP.time(|| drop(file));
            f.suppressions
                .extend(suppress::comments_in(text, lexed.comments));
            f.suppressions.sort_by_key(|s| (s.loc.line, s.loc.column));
            Ok(f)
        }
        Err(e) => {
            let at = e.span().start();
            let mut msg = e.to_string();
            if msg == "cannot parse string into token stream" {
                msg = "cannot split into tokens (unbalanced delimiter or invalid token)".into();
            }
            Err(format!(
                "parse error at {}:{}: {msg}",
                at.line,
                at.column + 1
            ))
        }
    };
    // Spans keep a per-thread copy of every parsed file alive; all positions have been turned
    // into numbers by now, so release it before the next file.
    proc_macro2::extra::invalidate_current_thread_spans();
    result
}

/// The deepest bracket nesting of `text` (for the parse-floor benchmark, which must do the
/// same pre-check as the linter and nothing more).
pub fn max_nesting(text: &str) -> usize {
    facts::lexer::max_nesting(text)
}

#[cfg(test)]
mod tests {
    use super::*;

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
