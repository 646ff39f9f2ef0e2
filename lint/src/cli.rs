//! The command line (clap). `cargo isolate ...` runs this binary as `cargo-isolate isolate ...`;
//! the extra `isolate` argument is dropped before parsing.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use isolate_lint::rules::Level;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  no finding at or above the --fail-on level (default: no error-level finding; findings
     a --baseline accepts and suppressed findings never count)
  1  at least one such finding (with --with-cargo-check: or cargo check failed)
  2  usage or configuration error, a path or manifest that does not exist, an unknown
     package, an unreadable or invalid baseline, no .rs file found (or none could be parsed)
     under the given paths, or output that could not be written";

/// Find singletons and global mutable state that leak between requests.
#[derive(Debug, Parser)]
#[command(name = "cargo-isolate", bin_name = "cargo isolate", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once per process; boxing would only add noise"
)]
pub enum Command {
    /// Lint directories or files (default: the current directory).
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// List every rule with its default level and summary.
    Rules,
    /// Print a rule's documentation: what it finds, why, examples, the fix.
    Explain {
        /// A rule id, as listed by `cargo isolate rules` (`isolate::` prefix optional).
        rule: String,
    },
    /// List the entry points (functions that serve requests) found under the PATHs, and how
    /// each was found.
    #[command(after_help = EXIT_CODES)]
    Entries(EntriesArgs),
    /// Run the language server on stdin/stdout (for editors; see the README).
    #[command(after_help = LSP_EXIT_CODES)]
    Lsp(LspArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EntriesFormat {
    /// `file:line  function  (how it was found)`, one per line, then a count.
    Human,
    /// One JSON document: `{"version":1,"entry_points":[..]}`.
    Json,
}

#[derive(Debug, Args)]
pub struct EntriesArgs {
    /// Directories or .rs files to read.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EntriesFormat::Human)]
    pub format: EntriesFormat,
    /// Use this config file for every file instead of the discovered ones.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Also read test code.
    #[arg(long)]
    pub include_tests: bool,
    /// Parser threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

pub const LSP_EXIT_CODES: &str = "\
Exit codes:
  0  the client sent `shutdown`, then `exit` (or closed the connection after `shutdown`)
  1  the client sent `exit` without `shutdown`, or closed the connection without either
  2  the server could not start";

#[derive(Debug, Args)]
pub struct LspArgs {
    /// Debounce window in milliseconds: a change that follows the last analysis by less than
    /// this waits until changes stop for this long (an isolated change, opening and saving
    /// analyse at once).
    #[arg(long, value_name = "MS", default_value_t = isolate_lint::lsp::DEFAULT_DEBOUNCE_MS)]
    pub debounce_ms: u64,
    /// Accepted and ignored: clients such as vscode-languageclient add it.
    #[arg(long, hide = true)]
    pub stdio: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Graphical reports with source snippets, then a summary line.
    Human,
    /// One JSON document on stdout (schema in the README).
    Json,
    /// A Graphviz digraph: entry points -> functions -> state, coloured by level.
    Dot,
    /// SARIF 2.1.0 (GitHub code scanning: upload with github/codeql-action/upload-sarif).
    Sarif,
    /// GitHub Actions workflow commands: one ::error/::warning/::notice annotation per finding.
    Github,
    /// One line per finding: `path:line:col: level[isolate::rule] message`.
    Short,
    /// rustc's diagnostic JSON as cargo prints it, one line per finding (for
    /// rust-analyzer's check.overrideCommand); the same as --message-format=json.
    RustcJson,
}

/// cargo's `--message-format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    /// --format human.
    Human,
    /// --format short.
    Short,
    /// --format rustc-json: rustc's diagnostic JSON, one line per finding.
    #[value(
        alias = "json-diagnostic-short",
        alias = "json-diagnostic-rendered-ansi",
        alias = "json-render-diagnostics"
    )]
    Json,
}

impl From<MessageFormat> for Format {
    fn from(m: MessageFormat) -> Format {
        match m {
            MessageFormat::Human => Format::Human,
            MessageFormat::Short => Format::Short,
            MessageFormat::Json => Format::RustcJson,
        }
    }
}

/// Which findings fail the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Error-level findings.
    Error,
    /// Warnings and errors.
    Warning,
    /// None: exit 0 whatever is found (2 still means the run could not lint).
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal (`NO_COLOR` turns it off, `CLICOLOR_FORCE` on).
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Directories or .rs files to lint (default: `.`, or the packages the package selection
    /// flags name).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// cargo's spelling of the output format: `json` is rustc's diagnostic JSON (--format
    /// rustc-json), as rust-analyzer's check.overrideCommand expects.
    #[arg(long, value_enum, value_name = "FMT", conflicts_with = "format")]
    pub message_format: Option<MessageFormat>,
    /// Which findings make the exit code 1.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Report only findings this baseline file does not list, and list its entries that no
    /// longer occur.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write today's findings to FILE as a baseline (after reporting them against --baseline,
    /// if given).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Path to Cargo.toml: lint its package (a virtual manifest: its default members).
    #[arg(long, value_name = "PATH", help_heading = "Package Selection")]
    pub manifest_path: Option<PathBuf>,
    /// Lint only the named workspace member (repeatable; `*` and `?` globs).
    #[arg(
        short = 'p',
        long = "package",
        value_name = "SPEC",
        help_heading = "Package Selection"
    )]
    pub packages: Vec<String>,
    /// Lint every workspace member.
    #[arg(long, visible_alias = "all", help_heading = "Package Selection")]
    pub workspace: bool,
    /// Leave these members out of --workspace (repeatable; globs).
    #[arg(long, value_name = "SPEC", help_heading = "Package Selection")]
    pub exclude: Vec<String>,
    /// Also run `cargo check --message-format=json` first and forward its messages (the only
    /// time cargo isolate runs anything); needs --message-format=json.
    #[arg(long)]
    pub with_cargo_check: bool,
    /// Use this config file for every file instead of the discovered isolate.toml /
    /// Cargo.toml metadata.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Also lint test code: tests/, benches/, examples/, #[cfg(test)] and #[test] items.
    #[arg(long)]
    pub include_tests: bool,
    /// Report RULE as an error (repeatable; `all` for every rule; later flags win).
    #[arg(short = 'D', long, value_name = "RULE", visible_alias = "error")]
    pub deny: Vec<String>,
    /// Report RULE as a warning (repeatable; `all` for every rule; later flags win).
    #[arg(short = 'W', long, value_name = "RULE", visible_alias = "warning")]
    pub warn: Vec<String>,
    /// Do not report RULE (repeatable; `all` for every rule; later flags win).
    #[arg(short = 'A', long, value_name = "RULE")]
    pub allow: Vec<String>,
    /// Parser threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Print findings only: no summary line, no progress.
    #[arg(short, long)]
    pub quiet: bool,
    /// When to colour human output.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Report only findings a request handler reaches (and exit by those alone).
    #[arg(long)]
    pub only_reachable: bool,
    /// The level flags in command-line order (filled after parsing).
    #[arg(skip)]
    pub levels: Vec<(String, Level)>,
}

/// Parses the arguments, keeping `--allow/--warn/--deny` in the order given.
pub fn parse(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    let args = normalize_args(args);
    let matches = Cli::command().try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let (Command::Check(check), Some(("check", sub))) = (&mut cli.command, matches.subcommand())
    {
        check.levels = ordered_levels(sub);
        if let Some(m) = check.message_format {
            check.format = m.into();
        }
    }
    Ok(cli)
}

fn ordered_levels(m: &ArgMatches) -> Vec<(String, Level)> {
    let mut all: Vec<(usize, String, Level)> = Vec::new();
    for (id, level) in [
        ("allow", Level::Allow),
        ("warn", Level::Warn),
        ("deny", Level::Deny),
    ] {
        if let (Some(values), Some(indices)) = (m.get_many::<String>(id), m.indices_of(id)) {
            all.extend(indices.zip(values).map(|(i, v)| (i, v.clone(), level)));
        }
    }
    all.sort_by_key(|(i, _, _)| *i);
    all.into_iter().map(|(_, v, l)| (v, l)).collect()
}

/// Drops the `isolate` argument cargo inserts when run as `cargo isolate`.
fn normalize_args(mut args: Vec<OsString>) -> Vec<OsString> {
    if args.get(1).is_some_and(|a| a == "isolate") {
        args.remove(1);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_flags_keep_their_order() {
        let args = [
            "cargo-isolate",
            "isolate",
            "check",
            "-D",
            "all",
            "--allow",
            "static_mut",
            "-W",
            "x",
            "--deny",
            "y",
        ];
        let cli = parse(args.iter().map(OsString::from).collect()).unwrap();
        let Command::Check(check) = cli.command else {
            panic!("not check")
        };
        let got: Vec<_> = check.levels.iter().map(|(r, l)| (r.as_str(), *l)).collect();
        assert_eq!(
            got,
            [
                ("all", Level::Deny),
                ("static_mut", Level::Allow),
                ("x", Level::Warn),
                ("y", Level::Deny)
            ]
        );
    }
}
