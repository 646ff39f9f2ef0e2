//! SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it, built on the
//! `serde-sarif` model (types generated from the SARIF schema).
//!
//! One run: `tool.driver` names the linter and lists every rule (`shortDescription` from the
//! summary, `fullDescription` from "What it finds", `help` = the `explain` text,
//! `defaultConfiguration.level`). Each finding is a result with `ruleId`/`ruleIndex`, `level`,
//! `message`, a physical location whose `uri` is relative to the workspace root
//! (`uriBaseId: "%SRCROOT%"`, resolved by `originalUriBaseIds` when every file shares one root)
//! and whose region has start/end line and column (columns count Unicode code points: the run's
//! `columnKind`), the item as a logical location, `relatedLocations`, a `codeFlows` entry for
//! the execution path (entry point first, then each call, then the item), and
//! `partialFingerprints` (`isolate/v1`: rule + file + item path, never a line; look-alikes in
//! one file get an occurrence suffix). Suppressed findings are results with a `suppressions`
//! entry (`kind: inSource`, the reason as `justification`); with a baseline, results carry
//! `baselineState` (`new` or `unchanged`). Files that could not be linted are tool execution
//! notifications.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};

use serde_json::{Value, json};
use serde_sarif::sarif::{
    self as model, ArtifactLocation, CodeFlow, Invocation, Location, LogicalLocation, Message,
    MultiformatMessageString, Notification, PhysicalLocation, Region, ReportingConfiguration,
    ReportingDescriptor, ResultLevel, Run, Sarif, ThreadFlow, ThreadFlowLocation, Tool,
    ToolComponent,
};

use super::{Renderer, Report, dir_uri, uri};
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::fingerprint;
use crate::rules::{self, Level, Rule};
use crate::source::SourceDb;

/// The SARIF schema the output follows.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The base id every `artifactLocation.uri` is relative to.
pub const SRCROOT: &str = "%SRCROOT%";
/// The key of the finding's identity in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "isolate/v1";

/// One pretty-printed SARIF 2.1.0 log.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sarif210;

fn text(s: impl Into<String>) -> Message {
    Message::builder().text(s.into()).build()
}

fn level_of(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Note => ResultLevel::Note,
    }
}

/// The first paragraph after `## What it finds` (else the summary).
fn what_it_finds(rule: &Rule) -> String {
    let mut lines = rule
        .doc
        .lines()
        .skip_while(|l| !l.starts_with("## What it finds"))
        .skip(1)
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .peekable();
    if lines.peek().is_none() {
        return rule.summary.to_string();
    }
    lines.collect::<Vec<_>>().join(" ")
}

fn descriptor(rule: &Rule) -> ReportingDescriptor {
    let level = match rule.default_level {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Allow => "none",
    };
    ReportingDescriptor::builder()
        .id(rule.id)
        .name(rule.id)
        .short_description(
            MultiformatMessageString::builder()
                .text(rule.summary)
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(what_it_finds(rule))
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(rule.doc)
                .markdown(rule.doc)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(Value::from(level))
                .build(),
        )
        .build()
}

fn region(span: &Span) -> Region {
    let loc = span.loc;
    Region::builder()
        .start_line(i64::from(loc.line.max(1)))
        .start_column(i64::from(loc.column.max(1)))
        .end_line(i64::from(loc.end_line.max(loc.line).max(1)))
        .end_column(i64::from(loc.end_column.max(1)))
        .build()
}

fn physical(sources: &SourceDb, span: &Span) -> PhysicalLocation {
    PhysicalLocation::builder()
        .artifact_location(
            ArtifactLocation::builder()
                .uri(uri(&sources.path(span.file).workspace_rel))
                .uri_base_id(SRCROOT)
                .build(),
        )
        .region(region(span))
        .build()
}

fn location(sources: &SourceDb, span: &Span, message: Option<String>) -> Location {
    let mut l = Location::builder()
        .physical_location(physical(sources, span))
        .build();
    l.message = message.map(text);
    l
}

/// The execution path as a thread flow: each function, then the item.
fn code_flow(sources: &SourceDb, d: &Diagnostic) -> CodeFlow {
    let last = d.execution_path.len();
    let mut locations: Vec<ThreadFlowLocation> = d
        .execution_path
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let what = if i == 0 {
                format!("entry point `{}`", step.function)
            } else {
                format!("calls `{}`", step.function)
            };
            ThreadFlowLocation::builder()
                .location(location(sources, &step.span, Some(what)))
                .nesting_level(i as i64)
                .execution_order(i as i64 + 1)
                .build()
        })
        .collect();
    locations.push(
        ThreadFlowLocation::builder()
            .location(location(
                sources,
                &d.primary,
                Some(format!("uses `{}`", d.item)),
            ))
            .nesting_level(last as i64)
            .execution_order(last as i64 + 1)
            .build(),
    );
    CodeFlow::builder()
        .message(text(format!(
            "a request reaches `{}` through {} call{}",
            d.item,
            last,
            if last == 1 { "" } else { "s" }
        )))
        .thread_flows(vec![ThreadFlow::builder().locations(locations).build()])
        .build()
}

/// What the renderer needs to know about one result beyond its diagnostic.
struct Extra<'a> {
    reason: Option<Option<&'a str>>,
    baseline_state: Option<&'static str>,
    fingerprint: String,
}

fn result(
    sources: &SourceDb,
    d: &Diagnostic,
    index: &HashMap<&str, i64>,
    extra: Extra,
) -> model::Result {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let mut primary = location(sources, &d.primary, d.label.clone());
    if !d.item_path.is_empty() {
        primary.logical_locations = Some(vec![
            LogicalLocation::builder()
                .name(d.item.clone())
                .fully_qualified_name(d.item_path.clone())
                .build(),
        ]);
    }
    let mut r = model::Result::builder()
        .rule_id(d.rule.id)
        .level(level_of(d.severity))
        .message(text(message))
        .locations(vec![primary])
        .partial_fingerprints(BTreeMap::from([(
            FINGERPRINT_KEY.to_string(),
            extra.fingerprint,
        )]))
        .build();
    r.rule_index = index.get(d.rule.id).copied();
    if !d.related.is_empty() {
        r.related_locations = Some(
            d.related
                .iter()
                .enumerate()
                .map(|(i, rel)| {
                    let mut l = location(sources, &rel.span, Some(rel.message.clone()));
                    l.id = Some(i as i64 + 1);
                    l
                })
                .collect(),
        );
    }
    if !d.execution_path.is_empty() {
        r.code_flows = Some(vec![code_flow(sources, d)]);
    }
    if let Some(reason) = extra.reason {
        let mut s = model::Suppression::builder()
            .kind(Value::from("inSource"))
            .status(Value::from("accepted"))
            .build();
        s.justification = reason.map(str::to_string);
        r.suppressions = Some(vec![s]);
    }
    r.baseline_state = extra.baseline_state.map(Value::from);
    r
}

/// `isolate/v1` for each diagnostic: the identity hash, with `:2`, `:3`, ... for later
/// findings of the same rule on the same item path in the same file.
fn fingerprints(diagnostics: &[&Diagnostic], sources: &SourceDb) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    diagnostics
        .iter()
        .map(|d| {
            let id = fingerprint::identity(d, sources);
            let n = seen.entry(id.clone()).or_insert(0);
            *n += 1;
            if *n == 1 { id } else { format!("{id}:{n}") }
        })
        .collect()
}

impl Renderer for Sarif210 {
    fn render(&self, report: &Report, sources: &SourceDb, out: &mut dyn Write) -> io::Result<()> {
        let index: HashMap<&str, i64> = rules::ALL
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id, i as i64))
            .collect();
        let baselined: &[Diagnostic] = report
            .baseline
            .as_ref()
            .map_or(&[], |b| b.baselined.as_slice());
        let with_baseline = report.baseline.is_some();
        // Fingerprints are numbered over every finding of the run, in report order, so a
        // finding keeps its fingerprint whether a baseline or a suppression hides it.
        let mut all: Vec<(&Diagnostic, Extra)> = Vec::new();
        for d in &report.diagnostics {
            all.push((
                d,
                Extra {
                    reason: None,
                    baseline_state: with_baseline.then_some("new"),
                    fingerprint: String::new(),
                },
            ));
        }
        for d in baselined {
            all.push((
                d,
                Extra {
                    reason: None,
                    baseline_state: Some("unchanged"),
                    fingerprint: String::new(),
                },
            ));
        }
        for s in &report.suppressed {
            all.push((
                &s.diagnostic,
                Extra {
                    reason: Some(s.reason.as_deref()),
                    baseline_state: None,
                    fingerprint: String::new(),
                },
            ));
        }
        let ordered = {
            let mut order: Vec<usize> = (0..all.len()).collect();
            order.sort_by_key(|&i| {
                let d = all[i].0;
                let p = sources.path(d.primary.file);
                (
                    p.workspace_rel.clone(),
                    d.primary.loc.line,
                    d.primary.loc.column,
                    d.rule.id,
                )
            });
            order
        };
        let diags: Vec<&Diagnostic> = ordered.iter().map(|&i| all[i].0).collect();
        for (&i, fp) in ordered.iter().zip(fingerprints(&diags, sources)) {
            all[i].1.fingerprint = fp;
        }
        let results: Vec<model::Result> = ordered
            .iter()
            .map(|&i| {
                let (d, extra) = &all[i];
                let extra = Extra {
                    reason: extra.reason,
                    baseline_state: extra.baseline_state,
                    fingerprint: extra.fingerprint.clone(),
                };
                result(sources, d, &index, extra)
            })
            .collect();

        let driver = ToolComponent::builder()
            .name("cargo-isolate")
            .full_name("cargo isolate (isolate-lint)")
            .version(env!("CARGO_PKG_VERSION"))
            .semantic_version(env!("CARGO_PKG_VERSION"))
            .information_uri(env!("CARGO_PKG_REPOSITORY"))
            .rules(rules::ALL.iter().map(|r| descriptor(r)).collect::<Vec<_>>())
            .build();
        let notifications: Vec<Notification> = report
            .errors
            .iter()
            .map(|e| {
                let mut n = Notification::builder()
                    .message(text(format!("could not lint {}: {}", e.path, e.message)))
                    .build();
                n.level = Some(Value::from("warning"));
                n
            })
            .collect();
        let invocation = Invocation::builder()
            .execution_successful(report.files_scanned > 0)
            .tool_execution_notifications(notifications)
            .build();
        let roots: BTreeSet<&std::path::Path> = all
            .iter()
            .flat_map(|(d, _)| {
                std::iter::once(&d.primary)
                    .chain(d.related.iter().map(|r| &r.span))
                    .chain(d.execution_path.iter().map(|s| &s.span))
            })
            .map(|s| &*sources.path(s.file).workspace_root)
            .collect();
        let mut run = Run::builder()
            .tool(Tool::builder().driver(driver).build())
            .results(results)
            .invocations(vec![invocation])
            .column_kind(Value::from("unicodeCodePoints"))
            .build();
        if let [root] = roots.into_iter().collect::<Vec<_>>()[..] {
            run.original_uri_base_ids = Some(BTreeMap::from([(
                SRCROOT.to_string(),
                ArtifactLocation::builder().uri(dir_uri(root)).build(),
            )]));
        }
        let log = Sarif::builder()
            .schema(SCHEMA)
            .version(json!("2.1.0"))
            .runs(vec![run])
            .build();
        serde_json::to_writer_pretty(&mut *out, &log).map_err(io::Error::other)?;
        writeln!(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_descriptions_come_from_the_docs() {
        let r = rules::lookup("static_mut").unwrap();
        let full = what_it_finds(r);
        assert!(full.starts_with("Every `static mut` item"), "{full}");
        assert!(!full.contains('\n'));
    }
}
