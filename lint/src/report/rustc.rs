//! rustc's diagnostic JSON as `cargo check --message-format=json` prints it, one line per
//! finding, then `{"reason":"build-finished","success":..}`: what rust-analyzer's flycheck
//! reads from `rust-analyzer.check.overrideCommand`, so findings show inline in the editor.
//!
//! Each line is `{"reason":"compiler-message","package_id","manifest_path","target","message"}`
//! with the package and target the file is compiled in ([`super::Origin`]). The message has
//! `message`, `level`, `code: {"code": "isolate::<rule>", "explanation": <explain text>}`,
//! `spans` (exactly one `is_primary`, the related locations as labelled secondary spans),
//! `children` (the help, the notes, each step of the execution path with its span, the fix as
//! a suggestion rust-analyzer offers as a quick fix) and `rendered` (the human report). Spans
//! carry `file_name` relative to the workspace root (as cargo's are), byte offsets, 1-based
//! lines and columns counted in characters, and the source lines with their highlights.

use std::io::{self, Write};

use serde::Serialize;

use super::human::Human;
use super::{FailOn, Origin, Renderer, Report, rule_code, uri};
use crate::diagnostic::{Applicability, Diagnostic, Severity, Span};
use crate::source::{FileId, SourceDb};

/// One line of rustc diagnostic JSON per finding, then cargo's `build-finished` line.
#[derive(Debug, Clone, Copy, Default)]
pub struct RustcJson {
    /// Which findings make `build-finished` report `success: false`.
    pub fail_on: FailOn,
    /// Whether a `cargo check` run before this one succeeded (`--with-cargo-check`); its
    /// failure fails the build too.
    pub cargo_check: Option<bool>,
}

#[derive(Serialize)]
struct Line<'a> {
    reason: &'static str,
    package_id: String,
    manifest_path: String,
    target: Target<'a>,
    message: Message,
}

#[derive(Serialize)]
struct Target<'a> {
    kind: [&'static str; 1],
    crate_types: [&'static str; 1],
    name: &'a str,
    src_path: String,
    edition: &'a str,
    doctest: bool,
    test: bool,
    doc: bool,
}

#[derive(Serialize)]
struct Message {
    #[serde(rename = "$message_type")]
    message_type: &'static str,
    message: String,
    code: Option<Code>,
    level: &'static str,
    spans: Vec<SpanJson>,
    children: Vec<Message>,
    rendered: Option<String>,
}

#[derive(Serialize)]
struct Code {
    code: String,
    explanation: Option<&'static str>,
}

#[derive(Serialize)]
struct SpanJson {
    file_name: String,
    byte_start: usize,
    byte_end: usize,
    line_start: u32,
    line_end: u32,
    column_start: u32,
    column_end: u32,
    is_primary: bool,
    text: Vec<SpanLine>,
    label: Option<String>,
    suggested_replacement: Option<String>,
    suggestion_applicability: Option<&'static str>,
    expansion: Option<()>,
}

#[derive(Serialize)]
struct SpanLine {
    text: String,
    highlight_start: u32,
    highlight_end: u32,
}

#[derive(Serialize)]
struct BuildFinished {
    reason: &'static str,
    success: bool,
}

/// File texts, decompressed once per file while rendering.
struct Texts<'a> {
    sources: &'a SourceDb,
    cache: std::collections::HashMap<FileId, Option<String>>,
}

impl Texts<'_> {
    fn get(&mut self, file: FileId) -> Option<&str> {
        let sources = self.sources;
        self.cache
            .entry(file)
            .or_insert_with(|| sources.text(file))
            .as_deref()
    }

    fn span(&mut self, span: &Span, primary: bool, label: Option<String>) -> SpanJson {
        let loc = span.loc;
        let file_name = self.sources.path(span.file).workspace_rel.clone();
        let text = self.get(span.file);
        let bytes = text
            .and_then(|t| {
                loc.bytes_in(t)
                    .filter(|b| b.start <= b.end && b.end <= t.len())
            })
            .unwrap_or(0..0);
        let lines = text.map(|t| span_lines(t, span)).unwrap_or_default();
        SpanJson {
            file_name,
            byte_start: bytes.start,
            byte_end: bytes.end,
            line_start: loc.line,
            line_end: loc.end_line,
            column_start: loc.column,
            column_end: loc.end_column,
            is_primary: primary,
            text: lines,
            label,
            suggested_replacement: None,
            suggestion_applicability: None,
            expansion: None,
        }
    }
}

/// The source lines a span covers, each with its highlighted columns (1-based, characters).
fn span_lines(text: &str, span: &Span) -> Vec<SpanLine> {
    let loc = span.loc;
    text.lines()
        .enumerate()
        .skip(loc.line.saturating_sub(1) as usize)
        .take(loc.end_line.saturating_sub(loc.line) as usize + 1)
        .map(|(i, line)| {
            let n = i as u32 + 1;
            let width = line.chars().count() as u32 + 1;
            SpanLine {
                text: line.to_string(),
                highlight_start: if n == loc.line { loc.column } else { 1 },
                highlight_end: if n == loc.end_line {
                    loc.end_column
                } else {
                    width
                },
            }
        })
        .collect()
}

fn child(level: &'static str, message: String, spans: Vec<SpanJson>) -> Message {
    Message {
        message_type: "diagnostic",
        message,
        code: None,
        level,
        spans,
        children: Vec::new(),
        rendered: None,
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

fn message(d: &Diagnostic, texts: &mut Texts, rendered: String) -> Message {
    let mut spans = vec![texts.span(&d.primary, true, d.label.clone())];
    spans.extend(
        d.related
            .iter()
            .map(|r| texts.span(&r.span, false, Some(r.message.clone()))),
    );
    let mut children = Vec::new();
    for note in &d.notes {
        children.push(child("note", note.clone(), Vec::new()));
    }
    for (i, step) in d.execution_path.iter().enumerate() {
        let what = if i == 0 {
            format!("request entry point `{}`", step.function)
        } else {
            format!("which calls `{}`", step.function)
        };
        let span = texts.span(&step.span, true, None);
        children.push(child("note", what, vec![span]));
    }
    if let Some(help) = &d.help {
        children.push(child("help", help.clone(), Vec::new()));
    }
    if let Some(fix) = &d.fix {
        let applicability = match fix.applicability {
            Applicability::MachineApplicable => "MachineApplicable",
            Applicability::MaybeIncorrect => "MaybeIncorrect",
        };
        let spans = fix
            .edits
            .iter()
            .map(|e| {
                let mut s = texts.span(&e.span, true, None);
                s.suggested_replacement = Some(e.replacement.clone());
                s.suggestion_applicability = Some(applicability);
                s
            })
            .collect();
        children.push(child("help", fix.message.clone(), spans));
    }
    Message {
        message_type: "diagnostic",
        message: d.message.clone(),
        code: Some(Code {
            code: rule_code(d),
            explanation: Some(d.rule.doc),
        }),
        level: level(d.severity),
        spans,
        children,
        rendered: Some(rendered),
    }
}

fn package_id(o: &Origin) -> String {
    let dir = crate::source::slashed(&o.package_dir);
    let leading = if dir.starts_with('/') { "" } else { "/" };
    format!(
        "path+file://{leading}{}#{}@{}",
        uri(&dir),
        o.package,
        o.version
    )
}

fn target(o: &Origin) -> Target<'_> {
    let crate_type = match o.kind {
        "lib" => "lib",
        _ => "bin",
    };
    Target {
        kind: [o.kind],
        crate_types: [crate_type],
        name: &o.target,
        src_path: o.src_path.to_string_lossy().into_owned(),
        edition: &o.edition,
        doctest: o.kind == "lib",
        test: true,
        doc: o.kind == "lib",
    }
}

/// The human report of one finding (`rendered`).
fn rendered(d: &Diagnostic, sources: &SourceDb) -> String {
    let one = Report {
        diagnostics: vec![d.clone()],
        files_scanned: 1,
        ..Report::default()
    };
    let mut out = Vec::new();
    let _ = Human {
        color: false,
        quiet: true,
    }
    .render(&one, sources, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

impl Renderer for RustcJson {
    fn render(&self, report: &Report, sources: &SourceDb, out: &mut dyn Write) -> io::Result<()> {
        let mut texts = Texts {
            sources,
            cache: Default::default(),
        };
        for d in &report.diagnostics {
            let fallback;
            let origin = match report.origins.get(&d.primary.file) {
                Some(o) => &**o,
                None => {
                    fallback = orphan(sources, d.primary.file);
                    &fallback
                }
            };
            let line = Line {
                reason: "compiler-message",
                package_id: package_id(origin),
                manifest_path: origin
                    .package_dir
                    .join("Cargo.toml")
                    .to_string_lossy()
                    .into_owned(),
                target: target(origin),
                message: message(d, &mut texts, rendered(d, sources)),
            };
            serde_json::to_writer(&mut *out, &line).map_err(io::Error::other)?;
            writeln!(out)?;
        }
        let success = report.exit_code_with(self.fail_on) == 0 && self.cargo_check != Some(false);
        serde_json::to_writer(
            &mut *out,
            &BuildFinished {
                reason: "build-finished",
                success,
            },
        )
        .map_err(io::Error::other)?;
        writeln!(out)
    }
}

/// A file the report names no package for (a report built by hand): its directory.
fn orphan(sources: &SourceDb, file: FileId) -> Origin {
    let p = sources.path(file);
    let dir = p.workspace_root.to_path_buf();
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().replace('-', "_"))
        .unwrap_or_else(|| "unknown".into());
    Origin {
        package: name.clone(),
        version: "0.0.0".into(),
        package_dir: dir,
        target: name,
        kind: "lib",
        src_path: p.abs.clone(),
        edition: "2015".into(),
    }
}
