//! Human output: one miette report per finding (snippet, label on the item, rule id, help),
//! warnings for files that could not be linted, then a summary line.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

use super::{Finding, Report, Severity};

struct FindingDiag<'a> {
    f: &'a Finding,
    src: Option<NamedSource<String>>,
}

impl std::fmt::Debug for FindingDiag<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.f.message)
    }
}

impl std::fmt::Display for FindingDiag<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.f.message)
    }
}

impl std::error::Error for FindingDiag<'_> {}

impl Diagnostic for FindingDiag<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(format!("isolate::{}", self.f.rule)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.f.level {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(&self.f.help))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.src.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.src.as_ref()?;
        let (start, end) = self.f.bytes;
        let label = if self.f.ty.is_empty() {
            self.f.rule.to_string()
        } else {
            format!("{}: {}", self.f.rule, self.f.ty)
        };
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(
                Some(label),
                (start as usize, (end - start) as usize),
            ),
        )))
    }
}

/// Renders findings, file errors and (unless `quiet`) the summary line. `color` picks the theme.
pub fn render(report: &Report, color: bool, quiet: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
    let mut out = String::new();
    // Snippets are read back from disk here, once per file with findings: the scan keeps no
    // source text. A file that changed since the scan shows no snippet rather than a wrong one.
    let mut sources: HashMap<&Path, Option<String>> = HashMap::new();
    for f in &report.findings {
        let text = sources
            .entry(f.path.as_path())
            .or_insert_with(|| std::fs::read_to_string(&f.path).ok())
            .as_ref()
            .filter(|t| t.len() >= f.bytes.1 as usize && t.is_char_boundary(f.bytes.0 as usize));
        let src = text.map(|s| NamedSource::new(f.file.clone(), s.clone()));
        let diag = FindingDiag { f, src };
        if handler.render_report(&mut out, &diag).is_err() {
            let _ = writeln!(
                out,
                "{}:{}:{}: {}: {}",
                f.file, f.line, f.column, f.rule, f.message
            );
        }
    }
    for e in &report.errors {
        let _ = writeln!(out, "warning: could not lint {}: {}", e.file, e.message);
    }
    if report.files_scanned == 0 {
        let _ = writeln!(
            out,
            "error: none of the {} .rs files found could be parsed",
            report.errors.len()
        );
    }
    if !quiet {
        let _ = writeln!(out, "{}", summary_line(report));
    }
    out
}

/// `N errors, M warnings in F files (S suppressed) in T s`.
pub fn summary_line(report: &Report) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {} in {} ({} suppressed) in {:.2} s",
        plural(report.count(Severity::Error), "error"),
        plural(report.count(Severity::Warning), "warning"),
        plural(report.files_scanned, "file"),
        report.suppressed.len(),
        report.duration.as_secs_f64()
    )
}
