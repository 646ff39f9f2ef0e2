//! GitHub Actions workflow commands: one annotation per finding,
//!
//! ```text
//! ::error file=src/a.rs,line=3,col=8,endLine=3,endColumn=15,title=isolate(static_mut)::message
//! ```
//!
//! `warning` and `notice` (for notes) by level. The message carries the help and notes on
//! further lines. Data is escaped as GitHub's toolkit does (`%` `\r` `\n`), properties also
//! `:` and `,`, so no message or path can end a command early or forge another one. Files that
//! could not be linted are `warning` annotations; baseline entries that no longer occur are one
//! `notice`. Paths are relative to `root` (the repository checkout, `$GITHUB_WORKSPACE`) when
//! the file is below it, else as shown to the user.

use std::io::{self, Write};
use std::path::PathBuf;

use super::{Renderer, Report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{self, SourceDb};

/// Workflow commands for GitHub Actions.
#[derive(Debug, Clone, Default)]
pub struct Github {
    /// The directory annotation paths are relative to (the checkout); `None` = as shown.
    pub root: Option<PathBuf>,
}

/// `%`, `\r` and `\n` escaped: a command's message.
pub fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// [`escape_data`] plus `:` and `,`: a command's property value.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

impl Github {
    fn path(&self, sources: &SourceDb, d: &Diagnostic) -> String {
        let p = sources.path(d.primary.file);
        match self.root.as_deref().map(|r| p.abs.strip_prefix(r)) {
            Some(Ok(rel)) if !rel.as_os_str().is_empty() => source::slashed(rel),
            _ => p.display.clone(),
        }
    }
}

fn message(d: &Diagnostic) -> String {
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    for note in &d.notes {
        text.push_str("\nnote: ");
        text.push_str(note);
    }
    text
}

impl Renderer for Github {
    fn render(&self, report: &Report, sources: &SourceDb, out: &mut dyn Write) -> io::Result<()> {
        for d in &report.diagnostics {
            let command = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "notice",
            };
            let loc = d.primary.loc;
            writeln!(
                out,
                "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                escape_property(&self.path(sources, d)),
                loc.line,
                loc.column,
                loc.end_line,
                loc.end_column,
                escape_property(&format!("isolate({})", d.rule.id)),
                escape_data(&message(d)),
            )?;
        }
        for e in &report.errors {
            writeln!(
                out,
                "::warning file={},title={}::{}",
                escape_property(&e.path),
                escape_property("isolate: could not lint"),
                escape_data(&e.message)
            )?;
        }
        if let Some(absent) = report.baseline.as_ref().map(|b| &b.absent)
            && !absent.is_empty()
        {
            let mut text = format!(
                "{} baseline entries no longer occur; rewrite the baseline with --write-baseline to prune them:",
                absent.iter().map(|e| e.count as usize).sum::<usize>()
            );
            for e in absent {
                text.push_str(&format!("\n{} {} {}", e.file, e.rule, e.item));
            }
            writeln!(
                out,
                "::notice title={}::{}",
                escape_property("isolate baseline"),
                escape_data(&text)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_actions_toolkit() {
        assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(escape_data("a:b,c"), "a:b,c");
        assert_eq!(
            escape_property("src/a,b:c%d\ne.rs"),
            "src/a%2Cb%3Ac%25d%0Ae.rs"
        );
        // Escaping `%` first: an already-escaped sequence is not decoded back by GitHub.
        assert_eq!(escape_data("%0A"), "%250A");
    }
}
