//! Graphviz output (`--format dot`): entry points -> functions -> state along the chains that
//! reach it, the state coloured by level; findings no entry point reaches sit apart, and a
//! legend says what the colours mean. Render with `dot -Tsvg`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Renderer, Report};
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::source::SourceDb;

/// Renders one `digraph`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Dot;

/// Fill and border colours by level.
fn colours(s: Severity) -> (&'static str, &'static str) {
    match s {
        Severity::Error => ("#fecaca", "#b91c1c"),
        Severity::Warning => ("#fde68a", "#b45309"),
        Severity::Note => ("#e5e7eb", "#6b7280"),
    }
}

/// A double-quoted dot string.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn place(sources: &SourceDb, span: &Span) -> String {
    format!("{}:{}", sources.path(span.file).rel, span.loc.line)
}

fn state_id(sources: &SourceDb, d: &Diagnostic) -> String {
    format!("state {} {}", d.item, place(sources, &d.primary))
}

fn fn_id(sources: &SourceDb, name: &str, span: &Span) -> String {
    format!("fn {name} {}", place(sources, span))
}

impl Renderer for Dot {
    fn render(&self, report: &Report, sources: &SourceDb, out: &mut dyn Write) -> io::Result<()> {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "digraph isolate {{\n  rankdir=LR;\n  graph [fontname=\"Helvetica\", fontsize=11, \
             nodesep=0.25, ranksep=0.6];\n  node [fontname=\"Helvetica\", fontsize=10];\n  \
             edge [color=\"#6b7280\", arrowsize=0.7];"
        );
        let state: Vec<&Diagnostic> = report
            .diagnostics
            .iter()
            .filter(|d| !d.ty.is_empty() || !d.execution_path.is_empty())
            .collect();
        let entries: BTreeSet<(String, String)> = state
            .iter()
            .filter_map(|d| d.execution_path.first())
            .map(|s| (fn_id(sources, &s.function, &s.span), s.function.clone()))
            .collect();
        let mut functions: Vec<(String, String, String)> = Vec::new();
        let mut edges: Vec<(String, String)> = Vec::new();
        for d in &state {
            let path = &d.execution_path;
            for (i, step) in path.iter().enumerate() {
                let id = fn_id(sources, &step.function, &step.span);
                if i > 0 && !functions.iter().any(|f| f.0 == id) {
                    functions.push((
                        id.clone(),
                        step.function.clone(),
                        place(sources, &step.span),
                    ));
                }
                if let Some(next) = path.get(i + 1) {
                    edges.push((id, fn_id(sources, &next.function, &next.span)));
                }
            }
            if let Some(last) = path.last() {
                edges.push((
                    fn_id(sources, &last.function, &last.span),
                    state_id(sources, d),
                ));
            }
        }
        // Entry points that also appear inside chains are drawn as entries.
        functions.retain(|f| !entries.iter().any(|e| e.0 == f.0));
        let _ = writeln!(
            text,
            "  subgraph cluster_entries {{\n    label=\"entry points\"; style=dashed; color=\"#93c5fd\";"
        );
        for (id, name) in &entries {
            let at = state
                .iter()
                .flat_map(|d| d.execution_path.first())
                .find(|s| fn_id(sources, &s.function, &s.span) == *id)
                .map(|s| place(sources, &s.span))
                .unwrap_or_default();
            let _ = writeln!(
                text,
                "    {} [label={}, shape=box, style=\"filled,bold\", fillcolor=\"#dbeafe\", color=\"#1d4ed8\"];",
                quote(id),
                quote(&format!("{name}\n{at}"))
            );
        }
        let _ = writeln!(text, "  }}");
        for (id, name, at) in &functions {
            let _ = writeln!(
                text,
                "  {} [label={}, shape=ellipse];",
                quote(id),
                quote(&format!("{name}\n{at}"))
            );
        }
        let reached: Vec<&&Diagnostic> = state
            .iter()
            .filter(|d| !d.execution_path.is_empty())
            .collect();
        let unreached: Vec<&&Diagnostic> = state
            .iter()
            .filter(|d| d.execution_path.is_empty())
            .collect();
        let node = |text: &mut String, d: &Diagnostic, indent: &str| {
            let (fill, border) = colours(d.severity);
            let _ = writeln!(
                text,
                "{indent}{} [label={}, shape=box, style=\"filled,rounded\", fillcolor=\"{fill}\", color=\"{border}\", penwidth=1.5];",
                quote(&state_id(sources, d)),
                quote(&format!(
                    "{}\n{} ({})\n{}",
                    d.item,
                    d.rule.id,
                    d.severity.as_str(),
                    place(sources, &d.primary)
                ))
            );
        };
        for d in reached {
            node(&mut text, d, "  ");
        }
        if !unreached.is_empty() {
            let _ = writeln!(
                text,
                "  subgraph cluster_unreached {{\n    label=\"not reached from any entry point\"; style=dashed; color=\"#9ca3af\";"
            );
            for d in unreached {
                node(&mut text, d, "    ");
            }
            let _ = writeln!(text, "  }}");
        }
        let mut seen = BTreeSet::new();
        for (from, to) in edges {
            if seen.insert((from.clone(), to.clone())) {
                let _ = writeln!(text, "  {} -> {};", quote(&from), quote(&to));
            }
        }
        let _ = writeln!(
            text,
            "  subgraph cluster_legend {{\n    label=\"level\"; style=dashed; color=\"#d1d5db\";"
        );
        for s in [Severity::Error, Severity::Warning, Severity::Note] {
            let (fill, border) = colours(s);
            let _ = writeln!(
                text,
                "    {} [label={}, shape=box, style=\"filled,rounded\", fillcolor=\"{fill}\", color=\"{border}\"];",
                quote(&format!("legend {}", s.as_str())),
                quote(s.as_str())
            );
        }
        let _ = writeln!(text, "  }}\n}}");
        out.write_all(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_what_dot_needs() {
        assert_eq!(quote("a \"b\"\nc\\"), "\"a \\\"b\\\"\\nc\\\\\"");
    }
}
