//! Human output: one miette report per finding (snippet from the source database, label on the
//! item, related spans as nested reports, rule id, help, notes), then a summary line. Paths are
//! shown relative to the current directory, so terminals and editors can open them.

use std::fmt::Write as _;
use std::io::{self, Write};

use miette::{Diagnostic as _, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

use super::{Renderer, Report, summary_line};
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::source::SourceDb;

/// Graphical reports with source snippets, then a summary line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Human {
    /// ANSI colours.
    pub color: bool,
    /// Findings only, no summary line.
    pub quiet: bool,
}

/// A span's file as miette needs it, and the span's bytes, when its text is known and the
/// span fits in it.
fn named_source(sources: &SourceDb, span: &Span) -> Option<(NamedSource<String>, (usize, usize))> {
    let text = sources.text(span.file)?;
    let bytes = span.loc.bytes_in(&text)?;
    let fits = bytes.start <= bytes.end
        && bytes.end <= text.len()
        && text.is_char_boundary(bytes.start)
        && text.is_char_boundary(bytes.end);
    if !fits {
        return None;
    }
    let source = NamedSource::new(sources.path(span.file).display.clone(), text);
    Some((source, (bytes.start, bytes.end - bytes.start)))
}

struct Report1<'a> {
    d: &'a Diagnostic,
    src: Option<(NamedSource<String>, (usize, usize))>,
    related: Vec<RelatedReport>,
}

struct RelatedReport {
    message: String,
    src: Option<(NamedSource<String>, (usize, usize))>,
}

impl std::fmt::Debug for Report1<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl std::fmt::Display for Report1<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl std::error::Error for Report1<'_> {}

impl miette::Diagnostic for Report1<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(format!("isolate::{}", self.d.rule.id)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        let mut text = self.d.help.clone().unwrap_or_default();
        for note in &self.d.notes {
            if !text.is_empty() {
                text.push('\n');
            }
            let _ = write!(text, "note: {note}");
        }
        (!text.is_empty()).then(|| Box::new(text) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.src.as_ref().map(|(s, _)| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (_, span) = self.src.as_ref()?;
        let primary = LabeledSpan::new_primary_with_span(self.d.label.clone(), *span);
        Some(Box::new(std::iter::once(primary)))
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

impl std::fmt::Debug for RelatedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::fmt::Display for RelatedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RelatedReport {}

impl miette::Diagnostic for RelatedReport {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.src.as_ref().map(|(s, _)| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (_, span) = self.src.as_ref()?;
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(None, *span),
        )))
    }
}

impl Renderer for Human {
    fn render(&self, report: &Report, sources: &SourceDb, out: &mut dyn Write) -> io::Result<()> {
        let theme = if self.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
        for d in &report.diagnostics {
            let related = d
                .related
                .iter()
                .map(|r| {
                    let p = sources.path(r.span.file);
                    RelatedReport {
                        message: format!(
                            "{} ({}:{}:{})",
                            r.message, p.display, r.span.loc.line, r.span.loc.column
                        ),
                        src: named_source(sources, &r.span),
                    }
                })
                .collect();
            let diag = Report1 {
                d,
                src: named_source(sources, &d.primary),
                related,
            };
            let mut text = String::new();
            if diag.source_code().is_none() || handler.render_report(&mut text, &diag).is_err() {
                // No text to show (a file changed or unreadable): the location alone.
                let p = sources.path(d.primary.file);
                text = format!(
                    "{}: {}:{}:{}: [isolate::{}] {}\n",
                    d.severity.as_str(),
                    p.display,
                    d.primary.loc.line,
                    d.primary.loc.column,
                    d.rule.id,
                    d.message
                );
            }
            out.write_all(text.as_bytes())?;
        }
        if let Some(absent) = report.baseline.as_ref().map(|b| &b.absent)
            && !absent.is_empty()
        {
            writeln!(
                out,
                "note: {} baseline {} no longer occur; --write-baseline rewrites the file without them:",
                absent.len(),
                if absent.len() == 1 {
                    "entry"
                } else {
                    "entries"
                }
            )?;
            for e in absent {
                let times = if e.count > 1 {
                    format!(" (x{})", e.count)
                } else {
                    String::new()
                };
                writeln!(out, "  {} {} {}{times}", e.file, e.rule, e.item)?;
            }
        }
        if !self.quiet {
            writeln!(out, "{}", summary_line(report))?;
        }
        Ok(())
    }
}
