//! The command line (clap). `cargo isolate ...` runs this binary as `cargo-isolate isolate ...`;
//! the extra `isolate` argument is dropped before parsing.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  no error-level findings
  1  at least one error-level finding
  2  usage or configuration error, a path that does not exist, or no .rs file found
     (or none could be parsed) under the given paths";

/// Find singletons and global mutable state that leak between requests.
#[derive(Debug, Parser)]
#[command(name = "cargo-isolate", bin_name = "cargo isolate", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint directories or files (default: the current directory).
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// List every rule with its default level and summary.
    Rules,
    /// Print a rule's documentation: what it finds, why, examples, the fix.
    Explain {
        /// A rule id, as listed by `cargo isolate rules`.
        rule: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Graphical reports with source snippets, then a summary line.
    Human,
    /// One JSON document on stdout (schema in the README).
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Directories or .rs files to lint.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Use this config file instead of each root's isolate.toml / Cargo.toml metadata.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Also lint test code: tests/, benches/, examples/, #[cfg(test)] and #[test] items.
    #[arg(long)]
    pub include_tests: bool,
    /// Report RULE as an error (repeatable; `all` for every rule).
    #[arg(long, value_name = "RULE")]
    pub deny: Vec<String>,
    /// Report RULE as a warning (repeatable; `all` for every rule).
    #[arg(long, value_name = "RULE")]
    pub warn: Vec<String>,
    /// Do not report RULE (repeatable; `all` for every rule).
    #[arg(long, value_name = "RULE")]
    pub allow: Vec<String>,
    /// Parser threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Print findings only: no summary line.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Drops the `isolate` argument cargo inserts when run as `cargo isolate`.
pub fn normalize_args(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    if args.get(1).is_some_and(|a| a == "isolate") {
        args.remove(1);
    }
    args
}
