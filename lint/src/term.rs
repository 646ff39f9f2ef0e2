//! The terminal: when to colour, where errors go, and progress for long scans.
//!
//! Findings and the summary go to stdout; every tool error goes to stderr as `error: ...`
//! (with a rustc-style pointer into a config file when there is one).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::ColorChoice;

/// Whether to colour stdout: `--color always|never` wins; with `auto`, a non-empty `NO_COLOR`
/// turns colour off, then a non-empty `CLICOLOR_FORCE` other than `0` turns it on, then colour
/// follows whether stdout is a terminal (and `TERM` is not `dumb`).
pub fn color(choice: ColorChoice) -> bool {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if env("NO_COLOR").is_some() {
                false
            } else if env("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                true
            } else {
                std::io::stdout().is_terminal()
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        }
    }
}

/// Prints `error: <message>` on stderr.
pub fn error(message: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
}

/// Prints `warning: <message>` on stderr.
pub fn warning(message: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "warning: {message}");
}

/// Prints a config error with a pointer at the offending spot:
///
/// ```text
/// error: invalid configuration in isolate.toml: unknown level `sometimes` ...
///   --> isolate.toml:7:22
///    |
///  7 | thread_local_state = "sometimes"
///    |                      ^
/// ```
pub fn config_error(e: &isolate_lint::ConfigFailure, cwd: &Path) {
    let path = e.path();
    let shown = Path::new(path)
        .strip_prefix(cwd)
        .map(|r| r.display().to_string())
        .unwrap_or_else(|_| path.to_string());
    let mut text = format!("error: {}\n", e.to_string().replacen(path, &shown, 1));
    if let Some((line, column, line_text)) = e.location() {
        let pad = " ".repeat(line.to_string().len());
        let caret_at: String = line_text
            .chars()
            .take(column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        text.push_str(&format!("{pad}--> {shown}:{line}:{column}\n"));
        text.push_str(&format!(
            "{pad} |\n{line} | {line_text}\n{pad} | {caret_at}^\n"
        ));
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// A progress bar on stderr for scans that last longer than about a second, shown only when
/// stderr is a terminal and the output is for humans.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    delay: Duration,
    shown: OnceLock<()>,
}

impl Progress {
    /// `enabled`: the output is human and not `--quiet`. The delay before the bar appears is 1 s;
    /// `ISOLATE_PROGRESS_DELAY_MS` changes it (the tests set 0).
    pub fn new(enabled: bool) -> Progress {
        let on = enabled && std::io::stderr().is_terminal();
        let delay = std::env::var("ISOLATE_PROGRESS_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(Duration::from_secs(1), Duration::from_millis);
        let bar = on.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} linting {pos}/{len} files {wide_bar} {elapsed}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            delay,
            shown: OnceLock::new(),
        }
    }

    /// `done` of `total` files are parsed.
    pub fn update(&self, done: usize, total: usize) {
        let Some(bar) = &self.bar else { return };
        if self.shown.get().is_none() {
            if self.started.elapsed() < self.delay {
                return;
            }
            if self.shown.set(()).is_ok() {
                bar.set_length(total as u64);
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
        bar.set_position(done as u64);
    }

    /// Removes the bar before the report is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
