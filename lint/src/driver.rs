//! The `check`, `entries`, `rules` and `explain` commands: options in, a report rendered, an
//! exit code out.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use isolate_lint::report::{Renderer, dot::Dot, human::Human, json::Json};
use isolate_lint::rules::{self, Level, Selector};
use isolate_lint::{KeepTexts, LoadError, Workspace, WorkspaceOptions};

use crate::cli::{CheckArgs, EntriesArgs, EntriesFormat, Format};
use crate::term;

/// Loads the workspace, or says why not (the exit code is 2).
fn load(
    opts: WorkspaceOptions,
    progress_shown: bool,
    cwd: &std::path::Path,
) -> Result<Workspace, ExitCode> {
    let progress = term::Progress::new(progress_shown);
    let loaded = Workspace::load(opts, &|done, total| progress.update(done, total));
    progress.finish();
    match loaded {
        Ok(ws) => Ok(ws),
        Err(LoadError::Config(e)) => {
            term::config_error(&e, cwd);
            Err(ExitCode::from(2))
        }
        Err(e) => {
            term::error(e);
            Err(ExitCode::from(2))
        }
    }
}

/// The level flags as selectors, or the exit code of a bad rule id.
fn selectors(levels: &[(String, Level)]) -> Result<Vec<(Selector, Level)>, ExitCode> {
    let mut out = Vec::new();
    for (id, level) in levels {
        match Selector::parse(id) {
            Ok(s) => out.push((s, *level)),
            Err(unknown) => {
                term::error(format_args!("{unknown} (`all` selects every rule)"));
                return Err(ExitCode::from(2));
            }
        }
    }
    Ok(out)
}

/// `cargo isolate check`.
pub fn check(args: CheckArgs) -> ExitCode {
    let levels = match selectors(&args.levels) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let opts = WorkspaceOptions {
        paths: args.paths,
        config: args.config,
        include_tests: args.include_tests,
        levels,
        jobs: args.jobs.map(usize::from),
        cwd: Some(cwd.clone()),
        // Machine formats print positions only; human output shows snippets of findable files.
        keep_texts: match args.format {
            Format::Json | Format::Dot => KeepTexts::None,
            Format::Human => KeepTexts::Findable,
        },
    };
    let started = Instant::now();
    let mut ws = match load(opts, args.format == Format::Human && !args.quiet, &cwd) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let mut report = ws.analyse();
    report.duration = started.elapsed();
    if args.only_reachable {
        report.retain_reachable();
    }
    let renderer: Box<dyn Renderer> = match args.format {
        Format::Json => Box::new(Json),
        Format::Dot => Box::new(Dot),
        Format::Human => {
            for e in &report.errors {
                term::warning(format_args!("could not lint {}: {}", e.path, e.message));
            }
            Box::new(Human {
                color: term::color(args.color),
                quiet: args.quiet,
            })
        }
    };
    if report.files_scanned == 0 {
        term::error(format_args!(
            "none of the {} .rs files found could be parsed",
            report.errors.len()
        ));
    }
    let mut out = Vec::new();
    if let Err(e) = renderer.render(&report, ws.sources(), &mut out) {
        term::error(format_args!("cannot render the report: {e}"));
        return ExitCode::from(2);
    }
    // The process ends here: freeing millions of facts one by one would only add time.
    std::mem::forget(ws);
    match print(&out) {
        ExitCode::SUCCESS => ExitCode::from(report.exit_code() as u8),
        failed => failed,
    }
}

/// `cargo isolate entries`: the entry points under the PATHs.
pub fn entries(args: EntriesArgs) -> ExitCode {
    let cwd = std::env::current_dir().unwrap_or_default();
    let opts = WorkspaceOptions {
        paths: args.paths,
        config: args.config,
        include_tests: args.include_tests,
        jobs: args.jobs.map(usize::from),
        cwd: Some(cwd.clone()),
        keep_texts: KeepTexts::None,
        ..WorkspaceOptions::default()
    };
    let mut ws = match load(opts, false, &cwd) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let report = ws.analyse();
    if report.files_scanned == 0 {
        term::error(format_args!(
            "none of the {} .rs files found could be parsed",
            report.errors.len()
        ));
        return ExitCode::from(2);
    }
    let shown: Vec<_> = report.entry_points.iter().filter(|e| e.reported).collect();
    let mut out = Vec::new();
    match args.format {
        EntriesFormat::Json => {
            if isolate_lint::report::json::write_entries(&report, ws.sources(), &mut out).is_err() {
                return ExitCode::from(2);
            }
        }
        EntriesFormat::Human => {
            for e in &report.errors {
                term::warning(format_args!("could not read {}: {}", e.path, e.message));
            }
            let place = |span: &isolate_lint::Span| {
                format!("{}:{}", ws.sources().path(span.file).display, span.loc.line)
            };
            let width = shown
                .iter()
                .map(|e| place(&e.span).len())
                .max()
                .unwrap_or(0);
            for e in &shown {
                let site = e
                    .registered_at
                    .map(|s| format!(", at {}", place(&s)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{:<width$}  {}  ({}{site})",
                    place(&e.span),
                    e.function,
                    e.how
                );
            }
            let _ = writeln!(
                out,
                "{} entry point{}",
                shown.len(),
                if shown.len() == 1 { "" } else { "s" }
            );
        }
    }
    std::mem::forget(ws);
    print(&out)
}

/// `cargo isolate rules`: id, default level, summary.
pub fn list_rules() -> ExitCode {
    let mut out = String::new();
    for r in rules::ALL {
        out.push_str(&format!(
            "{:<28} {:<6} {}\n",
            r.id,
            r.default_level.as_str(),
            r.summary
        ));
    }
    print(out.as_bytes())
}

/// `cargo isolate explain RULE`.
pub fn explain(rule: &str) -> ExitCode {
    match rules::lookup(rule) {
        Ok(r) => print(r.doc.as_bytes()),
        Err(unknown) => {
            term::error(unknown);
            ExitCode::from(2)
        }
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn print(bytes: &[u8]) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            term::error(format_args!("cannot write output: {e}"));
            ExitCode::from(2)
        }
    }
}
