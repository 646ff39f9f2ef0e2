//! The one diagnostic type every rule produces and every output format renders.

use serde::Serialize;

use crate::rules::Rule;
use crate::source::FileId;

/// A source range: 1-based lines and columns (columns count characters; `end_column` is
/// exclusive), plus the byte range (`0..0` when not computed: see [`Loc::bytes_in`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Loc {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub byte_start: u32,
    pub byte_end: u32,
}

impl Loc {
    pub(crate) fn of(span: proc_macro2::Span) -> Loc {
        let (start, end) = (span.start(), span.end());
        let bytes = span.byte_range();
        Loc {
            line: start.line as u32,
            column: start.column as u32 + 1,
            end_line: end.line as u32,
            end_column: end.column as u32 + 1,
            byte_start: bytes.start as u32,
            byte_end: bytes.end as u32,
        }
    }

    /// Lines and columns only: the byte range stays `0..0` ("unknown"; renderers find it from
    /// the text). Converting character positions to bytes is the costly part of a position,
    /// and most positions (every function's) are never shown.
    pub(crate) fn lines_of(span: proc_macro2::Span) -> Loc {
        let (start, end) = (span.start(), span.end());
        Loc {
            line: start.line as u32,
            column: start.column as u32 + 1,
            end_line: end.line as u32,
            end_column: end.column as u32 + 1,
            byte_start: 0,
            byte_end: 0,
        }
    }

    /// `width` characters on one line from (`line`, `column`), 1-based; the byte range is left
    /// to [`Loc::bytes_in`], as with [`Loc::lines_of`].
    pub(crate) fn on_line(line: u32, column: u32, width: u32) -> Loc {
        Loc {
            line,
            column,
            end_line: line,
            end_column: column + width,
            byte_start: 0,
            byte_end: 0,
        }
    }

    /// The byte range, from `text` when the position does not carry it.
    pub fn bytes_in(&self, text: &str) -> Option<std::ops::Range<usize>> {
        if self.byte_end > 0 {
            return Some(self.byte_start as usize..self.byte_end as usize);
        }
        let offset = |line: u32, column: u32| -> Option<usize> {
            let start = if line <= 1 {
                0
            } else {
                text.match_indices('\n').nth(line as usize - 2)?.0 + 1
            };
            let rest = &text[start..];
            let col = rest
                .char_indices()
                .nth(column.saturating_sub(1) as usize)
                .map_or(rest.len(), |(i, _)| i);
            Some(start + col)
        };
        Some(offset(self.line, self.column)?..offset(self.end_line, self.end_column)?)
    }

    /// From the start of `self` to the end of `end`.
    pub(crate) fn to(self, end: Loc) -> Loc {
        Loc {
            end_line: end.end_line,
            end_column: end.end_column,
            byte_end: end.byte_end,
            ..self
        }
    }
}

/// A range in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub loc: Loc,
}

/// How a diagnostic is reported. Only errors fail a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    /// `error`, `warning` or `note`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A secondary location with a message: where an accessor reads its global, a step of an
/// execution path, the registration of app state. May be in another file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub span: Span,
    pub message: String,
}

/// Whether a fix can be applied without a human looking at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Applicability {
    /// Correct as it stands: tools may apply it automatically.
    MachineApplicable,
    /// Probably right; a human should confirm it.
    MaybeIncorrect,
}

/// Replace the text of `span` with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

/// A suggested change that resolves a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub message: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

/// One function on an execution path: its name as shown (`create_run`, `Engine::start`) and
/// where it is (the span of its name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStep {
    pub function: String,
    pub span: Span,
}

/// One finding: what every renderer (human, JSON, and the formats to come) reads.
///
/// ```
/// use isolate_lint::{Diagnostic, Severity, Workspace, WorkspaceOptions};
///
/// let mut ws = Workspace::new(WorkspaceOptions::default());
/// let file = ws.set_file_text("/virtual/src/lib.rs", "static mut HITS: u64 = 0;\n");
/// let report = ws.analyse();
/// let d: &Diagnostic = &report.diagnostics[0];
/// assert_eq!(d.rule.id, "static_mut");
/// assert_eq!(d.severity, Severity::Error);
/// assert_eq!(d.primary.file, file);
/// assert_eq!((d.primary.loc.line, d.primary.loc.column), (1, 12));
/// assert_eq!(d.item, "HITS");
/// ```
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub rule: &'static Rule,
    pub severity: Severity,
    pub message: String,
    /// Where the finding is: the global's name, an accessor's fn name, a suppression comment.
    pub primary: Span,
    /// The label on the primary span (`static_mut: u32` in human output).
    pub label: Option<String>,
    pub related: Vec<Related>,
    /// Further explanation, one paragraph each.
    pub notes: Vec<String>,
    pub help: Option<String>,
    pub fix: Option<Fix>,
    /// The item the finding is about: a global's name, `Type::method` for an accessor, the
    /// suppression's text for the suppression rules.
    pub item: String,
    /// The item's type, normalised (`LazyLock<RwLock<HashMap<String, Options>>>`); empty when
    /// it has none.
    pub ty: String,
    /// The item with its crate and module path (`agent_backend::engine::ACTIVE_RUNS`,
    /// `app::state::Registry::get`): with the rule and the file, what identifies a finding
    /// across edits (SARIF `partialFingerprints`, baselines). Never a line number.
    pub item_path: String,
    /// The shortest chain of calls from a request entry point to the function that uses the
    /// item: the entry point first, the user last. Empty when no entry point reaches it (or the
    /// analysis found no entry point).
    pub execution_path: Vec<PathStep>,
    /// The first line of the item the finding is about, its attributes and doc comments
    /// included: where a suppression comment covering it goes (the editor's "allow with
    /// reason" action). `None` for findings no suppression covers (the suppression rules').
    pub item_start_line: Option<u32>,
}

impl Diagnostic {
    /// A diagnostic of `rule` at `primary`, without related spans, notes, help or fix.
    pub(crate) fn new(
        rule: &'static Rule,
        severity: Severity,
        primary: Span,
        message: String,
    ) -> Self {
        Diagnostic {
            rule,
            severity,
            message,
            primary,
            label: None,
            related: Vec::new(),
            notes: Vec::new(),
            help: None,
            fix: None,
            item: String::new(),
            ty: String::new(),
            item_path: String::new(),
            execution_path: Vec::new(),
            item_start_line: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_from_lines_and_columns_when_not_carried() {
        let text = "fn a() {}\nfn héllo() {}\n";
        let loc = Loc {
            line: 2,
            column: 4,
            end_line: 2,
            end_column: 9,
            ..Loc::default()
        };
        let bytes = loc.bytes_in(text).unwrap();
        assert_eq!(&text[bytes], "héllo");
        let carried = Loc {
            byte_start: 3,
            byte_end: 4,
            ..loc
        };
        assert_eq!(carried.bytes_in(text), Some(3..4));
        let beyond = Loc { line: 9, ..loc };
        assert_eq!(beyond.bytes_in(text), None);
    }
}
