//! The `check`, `entries`, `rules` and `explain` commands: options in, a report rendered, an
//! exit code out.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use isolate_lint::baseline::Baseline;
use isolate_lint::report::{
    FailOn, Renderer, dot::Dot, github::Github, human::Human, json::Json, rustc::RustcJson,
    sarif::Sarif210, short::Short,
};
use isolate_lint::rules::{self, Level, Selector};
use isolate_lint::{KeepTexts, LoadError, PackageSelection, Workspace, WorkspaceOptions};

use crate::cli::{self, CheckArgs, EntriesArgs, EntriesFormat, Format, LspArgs};
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
    if args.with_cargo_check && args.format != Format::RustcJson {
        term::error("--with-cargo-check needs --message-format=json (or --format rustc-json)");
        return ExitCode::from(2);
    }
    let fail_on = match args.fail_on {
        cli::FailOn::Error => FailOn::Error,
        cli::FailOn::Warning => FailOn::Warning,
        cli::FailOn::Never => FailOn::Never,
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let selection = PackageSelection {
        manifest_path: args.manifest_path.clone(),
        packages: args.packages.clone(),
        workspace: args.workspace,
        exclude: args.exclude.clone(),
    };
    let (paths, only_packages) = if selection.is_active() {
        if !args.paths.is_empty() {
            term::error(
                "PATHs cannot be combined with --manifest-path, -p/--package, --workspace or \
                 --exclude: name packages or paths, not both",
            );
            return ExitCode::from(2);
        }
        match selection.resolve(&cwd) {
            Ok(packages) => {
                let dirs: Vec<_> = packages.into_iter().map(|p| p.dir).collect();
                (dirs.clone(), Some(dirs))
            }
            Err(e) => {
                term::error(e);
                return ExitCode::from(2);
            }
        }
    } else {
        (args.paths, None)
    };
    // A bad baseline fails before the (long) scan.
    let baseline = match args.baseline.as_deref().map(Baseline::read).transpose() {
        Ok(b) => b,
        Err(e) => {
            term::error(e);
            return ExitCode::from(2);
        }
    };
    let baselines = baseline.is_some() || args.write_baseline.is_some();
    let opts = WorkspaceOptions {
        paths,
        config: args.config,
        include_tests: args.include_tests,
        levels,
        jobs: args.jobs.map(usize::from),
        cwd: Some(cwd.clone()),
        // Machine formats print positions only; human output shows snippets of findable
        // files, baselines hash the text of the items findings are about, and rustc's JSON
        // quotes every line a span (an execution path's too) covers.
        keep_texts: match args.format {
            Format::RustcJson => KeepTexts::All,
            Format::Human => KeepTexts::Findable,
            _ if baselines => KeepTexts::Findable,
            Format::Json | Format::Sarif | Format::Github | Format::Short | Format::Dot => {
                KeepTexts::None
            }
        },
        only_packages,
    };
    let cargo_check = if args.with_cargo_check {
        match cargo_check(&selection) {
            Ok(success) => Some(success),
            Err(e) => {
                term::error(format_args!("cannot run cargo check: {e}"));
                return ExitCode::from(2);
            }
        }
    } else {
        None
    };
    let started = Instant::now();
    let mut ws = match load(opts, args.format == Format::Human && !args.quiet, &cwd) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let mut report = ws.analyse();
    if let Some(b) = &baseline {
        b.apply(&mut report, ws.sources());
    }
    if let Some(path) = &args.write_baseline {
        let today = Baseline::from_report(&report, ws.sources());
        if let Err(e) = write_atomically(path, today.to_toml().as_bytes()) {
            term::error(format_args!(
                "cannot write baseline {}: {e}",
                path.display()
            ));
            return ExitCode::from(2);
        }
        if !args.quiet {
            eprintln!(
                "wrote {} finding{} to baseline {}",
                today.len(),
                if today.len() == 1 { "" } else { "s" },
                path.display()
            );
        }
        // Without --baseline, the run reports against the baseline it just wrote.
        if baseline.is_none() {
            today.apply(&mut report, ws.sources());
        }
    }
    report.duration = started.elapsed();
    if args.only_reachable {
        report.retain_reachable();
    }
    // What a format's document cannot say goes to stderr.
    if matches!(
        args.format,
        Format::Human | Format::Short | Format::RustcJson
    ) {
        for e in &report.errors {
            term::warning(format_args!("could not lint {}: {}", e.path, e.message));
        }
    }
    if let Some(b) = &report.baseline
        && !b.absent.is_empty()
        && matches!(
            args.format,
            Format::Short | Format::Sarif | Format::RustcJson
        )
    {
        eprintln!(
            "note: {} baseline entr{} no longer occur; --write-baseline rewrites the file without them",
            b.absent.len(),
            if b.absent.len() == 1 { "y" } else { "ies" }
        );
    }
    let renderer: Box<dyn Renderer> = match args.format {
        Format::Json => Box::new(Json),
        Format::Dot => Box::new(Dot),
        Format::Sarif => Box::new(Sarif210),
        Format::Github => Box::new(Github {
            root: std::env::var_os("GITHUB_WORKSPACE")
                .filter(|v| !v.is_empty())
                .map(|v| cwd.join(v)),
        }),
        Format::Short => Box::new(Short { quiet: args.quiet }),
        Format::RustcJson => Box::new(RustcJson {
            fail_on,
            cargo_check,
        }),
        Format::Human => Box::new(Human {
            color: term::color(args.color),
            quiet: args.quiet,
        }),
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
    let mut code = report.exit_code_with(fail_on);
    if code == 0 && cargo_check == Some(false) {
        code = 1;
    }
    match print(&out) {
        ExitCode::SUCCESS => ExitCode::from(code as u8),
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

/// Runs `cargo check --message-format=json` with the same package selection, forwarding every
/// line it prints but its `build-finished` (the linter's own ends the stream); returns whether
/// it succeeded. Its stderr (progress, errors) passes through.
fn cargo_check(selection: &PackageSelection) -> std::io::Result<bool> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["check", "--message-format=json"]);
    if let Some(m) = &selection.manifest_path {
        cmd.arg("--manifest-path").arg(m);
    }
    for p in &selection.packages {
        cmd.args(["--package", p]);
    }
    if selection.workspace {
        cmd.arg("--workspace");
    }
    for e in &selection.exclude {
        cmd.args(["--exclude", e]);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().expect("piped");
    let mut out = std::io::stdout().lock();
    let mut finished = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line?;
        let reason = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|v| {
                if v["reason"] == "build-finished" {
                    Some(v["success"].as_bool().unwrap_or(false))
                } else {
                    None
                }
            });
        match reason {
            Some(success) => finished = Some(success),
            None => {
                // A closed stdout (the editor went away) ends forwarding, not the check.
                let _ = writeln!(out, "{line}");
            }
        }
    }
    let _ = out.flush();
    let status = child.wait()?;
    Ok(status.success() && finished != Some(false))
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: a failed
/// write never leaves half a baseline.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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
