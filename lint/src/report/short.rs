//! One line per finding, `path:line:col: level[isolate::rule] message`, like ruff's concise
//! output and rustc's `--error-format=short`: grep-friendly, and what editors' error formats
//! (`%f:%l:%c: %m`) read. Paths are relative to the current directory. A summary line follows
//! unless quiet.

use std::io::{self, Write};

use super::{Renderer, Report, rule_code, summary_line};
use crate::source::SourceDb;

/// `path:line:col: level[isolate::rule] message`, one line per finding.
#[derive(Debug, Clone, Copy, Default)]
pub struct Short {
    /// Findings only, no summary line.
    pub quiet: bool,
}

impl Renderer for Short {
    fn render(&self, report: &Report, sources: &SourceDb, out: &mut dyn Write) -> io::Result<()> {
        for d in &report.diagnostics {
            let loc = d.primary.loc;
            writeln!(
                out,
                "{}:{}:{}: {}[{}] {}",
                sources.path(d.primary.file).display,
                loc.line,
                loc.column,
                d.severity.as_str(),
                rule_code(d),
                one_line(&d.message)
            )?;
        }
        if !self.quiet {
            writeln!(out, "{}", summary_line(report))?;
        }
        Ok(())
    }
}

/// A message on one line: line breaks become spaces, so one finding is one line whatever it
/// says.
fn one_line(message: &str) -> String {
    message.split(['\r', '\n']).collect::<Vec<_>>().join(" ")
}
