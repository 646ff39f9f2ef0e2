//! The JSON document: `{"version":1,"findings":[..],"suppressed":[..],"baselined":[..],
//! "baseline_absent":[..],"errors":[..],"entry_points":[..],"summary":{..}}`.
//! Keys are only ever added, never removed or renamed (`path`, `related`, `notes`, `fix`,
//! `item_path`, `baselined`, `baseline_absent`, `on_execution_path`, `execution_path` and
//! `entry_points` came after the first release, still `version: 1`). Every finding has
//! `"baselined": false`, except those in `baselined`, which a `--baseline` accepted
//! (`"baselined": true`); `baseline_absent` lists the baseline's entries that no longer occur.

use std::io::{self, Write};

use serde::Serialize;

use super::{EntryPoint, FileError, Renderer, Report};
use crate::baseline::Entry;
use crate::diagnostic::{Applicability, Diagnostic, Loc, PathStep, Severity, Span};
use crate::source::SourceDb;

/// The JSON format's version.
pub const VERSION: u32 = 1;

/// Renders one pretty-printed JSON document.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: Vec<Finding<'a>>,
    suppressed: Vec<Finding<'a>>,
    baselined: Vec<Finding<'a>>,
    baseline_absent: &'a [Entry],
    errors: &'a [FileError],
    entry_points: Vec<EntryJson<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct Summary {
    files_scanned: usize,
    errors: usize,
    warnings: usize,
    notes: usize,
    suppressed: usize,
    /// Entry points found (in the files read for context too).
    entry_points: usize,
    /// Findings on an execution path.
    reached: usize,
    baselined: usize,
    duration_ms: u128,
}

/// One entry point (also the document `cargo isolate entries --format json` prints).
#[derive(Serialize)]
pub(crate) struct EntryJson<'a> {
    function: &'a str,
    #[serde(flatten)]
    at: Position<'a>,
    how: &'a str,
}

impl<'a> EntryJson<'a> {
    fn of(sources: &'a SourceDb, e: &'a EntryPoint) -> Self {
        EntryJson {
            function: &e.function,
            at: Position::of(sources, &e.span),
            how: &e.how,
        }
    }

    /// The entry points of the reported files, as both JSON documents list them.
    fn reported(report: &'a Report, sources: &'a SourceDb) -> Vec<Self> {
        report
            .entry_points
            .iter()
            .filter(|e| e.reported)
            .map(|e| EntryJson::of(sources, e))
            .collect()
    }
}

#[derive(Serialize)]
struct StepJson<'a> {
    function: &'a str,
    file: &'a str,
    path: &'a str,
    line: u32,
    column: u32,
}

#[derive(Serialize)]
struct Position<'a> {
    /// Relative to the scanned root, `/`-separated.
    file: &'a str,
    /// Relative to the current directory when below it, else absolute: unambiguous across
    /// several scanned roots.
    path: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
}

impl<'a> Position<'a> {
    fn of(sources: &'a SourceDb, span: &Span) -> Self {
        let p = sources.path(span.file);
        let Loc {
            line,
            column,
            end_line,
            end_column,
            ..
        } = span.loc;
        Position {
            file: &p.rel,
            path: &p.display,
            line,
            column,
            end_line,
            end_column,
        }
    }
}

#[derive(Serialize)]
struct Finding<'a> {
    rule: &'static str,
    level: Severity,
    #[serde(flatten)]
    at: Position<'a>,
    item: &'a str,
    item_path: &'a str,
    #[serde(rename = "type")]
    ty: &'a str,
    message: &'a str,
    help: &'a str,
    related: Vec<RelatedJson<'a>>,
    notes: &'a [String],
    fix: Option<FixJson<'a>>,
    /// A request handler reaches the state (`execution_path` is not empty).
    on_execution_path: bool,
    /// Entry point first, ending at the function that uses the state.
    execution_path: Vec<StepJson<'a>>,
    baselined: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Option<&'a str>>,
}

#[derive(Serialize)]
struct RelatedJson<'a> {
    #[serde(flatten)]
    at: Position<'a>,
    message: &'a str,
}

#[derive(Serialize)]
struct FixJson<'a> {
    message: &'a str,
    applicability: Applicability,
    edits: Vec<EditJson<'a>>,
}

#[derive(Serialize)]
struct EditJson<'a> {
    #[serde(flatten)]
    at: Position<'a>,
    byte_start: u32,
    byte_end: u32,
    replacement: &'a str,
}

fn finding<'a>(
    sources: &'a SourceDb,
    d: &'a Diagnostic,
    reason: Option<Option<&'a str>>,
    baselined: bool,
) -> Finding<'a> {
    Finding {
        rule: d.rule.id,
        level: d.severity,
        at: Position::of(sources, &d.primary),
        item: &d.item,
        item_path: &d.item_path,
        ty: &d.ty,
        message: &d.message,
        help: d.help.as_deref().unwrap_or(""),
        related: d
            .related
            .iter()
            .map(|r| RelatedJson {
                at: Position::of(sources, &r.span),
                message: &r.message,
            })
            .collect(),
        notes: &d.notes,
        fix: d.fix.as_ref().map(|f| FixJson {
            message: &f.message,
            applicability: f.applicability,
            edits: f
                .edits
                .iter()
                .map(|e| EditJson {
                    at: Position::of(sources, &e.span),
                    byte_start: e.span.loc.byte_start,
                    byte_end: e.span.loc.byte_end,
                    replacement: &e.replacement,
                })
                .collect(),
        }),
        on_execution_path: !d.execution_path.is_empty(),
        execution_path: d
            .execution_path
            .iter()
            .map(|s: &'a PathStep| {
                let p = sources.path(s.span.file);
                StepJson {
                    function: &s.function,
                    file: &p.rel,
                    path: &p.display,
                    line: s.span.loc.line,
                    column: s.span.loc.column,
                }
            })
            .collect(),
        baselined,
        reason,
    }
}

impl Renderer for Json {
    fn render(&self, report: &Report, sources: &SourceDb, out: &mut dyn Write) -> io::Result<()> {
        let baseline = report.baseline.as_ref();
        let doc = Document {
            version: VERSION,
            findings: report
                .diagnostics
                .iter()
                .map(|d| finding(sources, d, None, false))
                .collect(),
            suppressed: report
                .suppressed
                .iter()
                .map(|s| finding(sources, &s.diagnostic, Some(s.reason.as_deref()), false))
                .collect(),
            baselined: baseline
                .map(|b| &b.baselined[..])
                .unwrap_or_default()
                .iter()
                .map(|d| finding(sources, d, None, true))
                .collect(),
            baseline_absent: baseline.map(|b| &b.absent[..]).unwrap_or_default(),
            errors: &report.errors,
            entry_points: EntryJson::reported(report, sources),
            summary: Summary {
                files_scanned: report.files_scanned,
                errors: report.count(Severity::Error),
                warnings: report.count(Severity::Warning),
                notes: report.count(Severity::Note),
                suppressed: report.suppressed.len(),
                entry_points: report.entry_points.len(),
                reached: report.reached(),
                baselined: baseline.map_or(0, |b| b.baselined.len()),
                duration_ms: report.duration.as_millis(),
            },
        };
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
        writeln!(out)
    }
}

/// The document `cargo isolate entries --format json` prints:
/// `{"version":1,"entry_points":[{"function","file","path","line","column","end_line",
/// "end_column","how"}, ..]}` (entry points of the reported files).
pub fn write_entries(report: &Report, sources: &SourceDb, out: &mut dyn Write) -> io::Result<()> {
    #[derive(Serialize)]
    struct Entries<'a> {
        version: u32,
        entry_points: Vec<EntryJson<'a>>,
    }
    let doc = Entries {
        version: VERSION,
        entry_points: EntryJson::reported(report, sources),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}
