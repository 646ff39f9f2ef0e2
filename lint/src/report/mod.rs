//! The result of an analysis and its renderings. Every output format is a [`Renderer`] in its
//! own file, reading the same [`Report`] and taking file paths and texts from the
//! [`SourceDb`] (never from the file system): [`human`] (miette), [`json`], [`sarif`]
//! (SARIF 2.1.0 for code scanning), [`github`] (workflow commands), [`short`] (one line per
//! finding), [`rustc`] (rustc's diagnostic JSON as cargo prints it) and [`dot`] (Graphviz:
//! entry points -> functions -> state).

pub mod dot;
pub mod github;
pub mod human;
pub mod json;
pub mod rustc;
pub mod sarif;
pub mod short;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::baseline::BaselineOutcome;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::source::{FileId, SourceDb};

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
    /// What a baseline (`--baseline`) accepted and what it lists that no longer occurs;
    /// `None` without a baseline. Accepted findings are not in `diagnostics`.
    pub baseline: Option<BaselineOutcome>,
    /// The cargo package and target of every file a finding (reported or suppressed) is in.
    pub origins: BTreeMap<FileId, Arc<Origin>>,
}

/// The cargo package and target a file is compiled in: what rustc's JSON messages carry as
/// `package_id`, `manifest_path` and `target`. Files under no `Cargo.toml` get a package
/// named after their crate's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub package: String,
    /// `0.0.0` when the manifest gives none (as cargo does).
    pub version: String,
    /// The package's directory (its `Cargo.toml` is `manifest_path`).
    pub package_dir: PathBuf,
    pub target: String,
    /// cargo's target kind: `lib`, `bin`, `example`, `test`, `bench` or `custom-build`.
    pub kind: &'static str,
    pub src_path: PathBuf,
    /// `2015` when the manifest gives none (as cargo does).
    pub edition: String,
}

/// Which findings make the exit code 1 (`--fail-on`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailOn {
    /// Error-level findings (the default).
    #[default]
    Error,
    /// Warnings and errors.
    Warning,
    /// Nothing: the run fails only when it cannot lint (exit 2).
    Never,
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
        self.exit_code_with(FailOn::Error)
    }

    /// The process exit code when `fail_on` decides which findings fail the run: 2 if no file
    /// could be parsed, else 1 if a finding at or above that level was reported (findings a
    /// baseline accepted or a suppression silenced never count), else 0.
    pub fn exit_code_with(&self, fail_on: FailOn) -> i32 {
        if self.files_scanned == 0 {
            return 2;
        }
        let failing = match fail_on {
            FailOn::Error => self.count(Severity::Error),
            FailOn::Warning => self.count(Severity::Error) + self.count(Severity::Warning),
            FailOn::Never => 0,
        };
        i32::from(failing > 0)
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
        if let Some(b) = &mut self.baseline {
            b.baselined.sort_by_cached_key(key);
        }
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

/// `N errors, M warnings in F files (S suppressed) in T s` (with a baseline,
/// `(S suppressed, B baselined)`), then, when there are any, the notes and the entry points:
/// `; K notes; E entry points reach R findings`.
pub fn summary_line(report: &Report) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let baselined = report
        .baseline
        .as_ref()
        .map(|b| format!(", {} baselined", b.baselined.len()))
        .unwrap_or_default();
    let mut line = format!(
        "{}, {} in {} ({} suppressed{baselined}) in {:.2} s",
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

/// A relative `/`-separated path as a URI reference: every byte outside RFC 3986's
/// unreserved set and `/` percent-encoded (spaces, `%`, `#`, `?`, non-ASCII as UTF-8).
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An absolute directory as a `file:` URI ending in `/`.
pub fn dir_uri(dir: &std::path::Path) -> String {
    let slashed = crate::source::slashed(dir);
    let encoded = uri(slashed.trim_end_matches('/'));
    let leading = if encoded.starts_with('/') { "" } else { "/" };
    format!("file://{leading}{encoded}/")
}

/// `isolate::rule`: a finding's rule as every format shows it.
pub fn rule_code(d: &Diagnostic) -> String {
    format!("isolate::{}", d.rule.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded_references() {
        assert_eq!(uri("src/a b/ü%#?.rs"), "src/a%20b/%C3%BC%25%23%3F.rs");
        assert_eq!(
            dir_uri(std::path::Path::new("/w/my ws")),
            "file:///w/my%20ws/"
        );
    }
}
