//! The result of an analysis and its renderings. Every output format is a [`Renderer`] in its
//! own file, reading the same [`Report`] and taking file paths and texts from the
//! [`SourceDb`]: [`human`] (miette), [`json`] and [`dot`] (Graphviz: entry points -> functions ->
//! state).

pub mod dot;
pub mod human;
pub mod json;

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::source::SourceDb;

/// A diagnostic silenced by a suppression.
#[derive(Debug, Clone)]
pub struct Suppressed {
    pub diagnostic: Diagnostic,
    pub reason: Option<String>,
}

/// A file (or directory) that could not be linted.
#[derive(Debug, Clone, Serialize)]
pub struct FileError {
    /// Relative to its scanned root, `/`-separated (JSON's `file`).
    pub file: String,
    /// As shown to the user, relative to the current directory (JSON's `path`).
    pub path: String,
    pub message: String,
}

/// A function that serves requests, and how the linter knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPoint {
    /// As shown in chains: `create_run`, `Greeter::say_hello`, `router::{closure}`.
    pub function: String,
    /// Its name (for a closure, its first `|`).
    pub span: Span,
    /// How it was found: ``route `post(create_run)` ``, ``attribute `#[get]` ``, ...
    pub how: String,
    /// Where the handler is handed to the router, for an entry found from a routing call.
    pub registered_at: Option<Span>,
    /// In a reported file (under a scanned PATH), not only read for context.
    pub reported: bool,
}

/// Everything one analysis produced, sorted.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub suppressed: Vec<Suppressed>,
    pub errors: Vec<FileError>,
    /// Every entry point of the scan (those of files read for context too), sorted by file and
    /// line. Findings reached from none of them carry an empty `execution_path`.
    pub entry_points: Vec<EntryPoint>,
    /// Files read and parsed successfully.
    pub files_scanned: usize,
    pub duration: Duration,
}

impl Report {
    /// How many diagnostics have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// How many diagnostics are on an execution path.
    pub fn reached(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| !d.execution_path.is_empty())
            .count()
    }

    /// Keeps only the diagnostics on an execution path (`--only-reachable`).
    pub fn retain_reachable(&mut self) {
        self.diagnostics.retain(|d| !d.execution_path.is_empty());
    }

    /// The process exit code: 2 if no file could be parsed (a scan that saw nothing must not
    /// pass), else 1 if any error, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.files_scanned == 0 {
            2
        } else {
            i32::from(self.count(Severity::Error) > 0)
        }
    }

    /// Sorts by file (as shown relative to its root, then as shown to the user), line, column,
    /// rule: deterministic whatever order files were added in.
    pub(crate) fn sort(&mut self, sources: &SourceDb) {
        let key = |d: &Diagnostic| {
            let p = sources.path(d.primary.file);
            (
                p.rel.clone(),
                p.display.clone(),
                d.primary.loc.line,
                d.primary.loc.column,
                d.rule.id,
            )
        };
        self.diagnostics.sort_by_cached_key(key);
        self.entry_points.sort_by_cached_key(|e| {
            let p = sources.path(e.span.file);
            (
                p.rel.clone(),
                p.display.clone(),
                e.span.loc.line,
                e.span.loc.column,
            )
        });
        self.suppressed.sort_by_cached_key(|s| key(&s.diagnostic));
        self.errors
            .sort_by(|a, b| (&a.file, &a.path).cmp(&(&b.file, &b.path)));
    }
}

/// An output format.
///
/// ```
/// use isolate_lint::report::{Renderer, human::Human, json::Json};
/// use isolate_lint::{Workspace, WorkspaceOptions};
///
/// let mut ws = Workspace::new(WorkspaceOptions::default());
/// ws.set_file_text("/virtual/app/src/lib.rs", "pub static mut HITS: u64 = 0;\n");
/// let report = ws.analyse();
///
/// let mut json = Vec::new();
/// Json.render(&report, ws.sources(), &mut json)?;
/// let doc: serde_json::Value = serde_json::from_slice(&json)?;
/// assert_eq!(doc["findings"][0]["rule"], "static_mut");
///
/// let mut human = Vec::new();
/// Human { color: false, quiet: false }.render(&report, ws.sources(), &mut human)?;
/// assert!(String::from_utf8(human)?.contains("isolate::static_mut"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Renderer {
    /// Writes `report` to `out`; paths and snippets come from `sources`.
    fn render(&self, report: &Report, sources: &SourceDb, out: &mut dyn Write) -> io::Result<()>;
}

/// `N errors, M warnings in F files (S suppressed) in T s`, then, when there are any, the
/// notes and the entry points: `; K notes; E entry points reach R findings`.
pub fn summary_line(report: &Report) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut line = format!(
        "{}, {} in {} ({} suppressed) in {:.2} s",
        plural(report.count(Severity::Error), "error"),
        plural(report.count(Severity::Warning), "warning"),
        plural(report.files_scanned, "file"),
        report.suppressed.len(),
        report.duration.as_secs_f64()
    );
    let notes = report.count(Severity::Note);
    if notes > 0 {
        line.push_str(&format!("; {}", plural(notes, "note")));
    }
    if !report.entry_points.is_empty() {
        let reached = report.reached();
        line.push_str(&format!(
            "; {} reach{} {}",
            plural(report.entry_points.len(), "entry point"),
            if report.entry_points.len() == 1 {
                "es"
            } else {
                ""
            },
            plural(reached, "finding")
        ));
    }
    line
}
