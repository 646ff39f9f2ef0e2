//! The `check`, `rules` and `explain` commands: options in, a report rendered, an exit code out.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use isolate_lint::report::{Renderer, human::Human, json::Json};
use isolate_lint::rules::{self, Selector};
use isolate_lint::{KeepTexts, LoadError, Workspace, WorkspaceOptions};

use crate::cli::{CheckArgs, Format, LspArgs};
use crate::term;

/// `cargo isolate check`.
pub fn check(args: CheckArgs) -> ExitCode {
    let mut levels = Vec::new();
    for (id, level) in &args.levels {
        match Selector::parse(id) {
            Ok(s) => levels.push((s, *level)),
            Err(unknown) => {
                term::error(format_args!("{unknown} (`all` selects every rule)"));
                return ExitCode::from(2);
            }
        }
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let opts = WorkspaceOptions {
        paths: args.paths,
        config: args.config,
        include_tests: args.include_tests,
        levels,
        jobs: args.jobs.map(usize::from),
        cwd: Some(cwd.clone()),
        // JSON prints positions only; human output shows snippets of findable files.
        keep_texts: match args.format {
            Format::Json => KeepTexts::None,
            Format::Human => KeepTexts::Findable,
        },
    };
    let started = Instant::now();
    let progress = term::Progress::new(args.format == Format::Human && !args.quiet);
    let loaded = Workspace::load(opts, &|done, total| progress.update(done, total));
    progress.finish();
    let mut ws = match loaded {
        Ok(ws) => ws,
        Err(LoadError::Config(e)) => {
            term::config_error(&e, &cwd);
            return ExitCode::from(2);
        }
        Err(e) => {
            term::error(e);
            return ExitCode::from(2);
        }
    };
    let mut report = ws.analyse();
    report.duration = started.elapsed();
    let renderer: Box<dyn Renderer> = match args.format {
        Format::Json => Box::new(Json),
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

/// `cargo isolate lsp`: the language server on stdin/stdout.
pub fn lsp(args: LspArgs) -> ExitCode {
    let options = isolate_lint::lsp::Options {
        debounce: std::time::Duration::from_millis(args.debounce_ms),
    };
    ExitCode::from(isolate_lint::lsp::run_stdio(options) as u8)
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
