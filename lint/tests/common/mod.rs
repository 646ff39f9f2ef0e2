//! Shared helpers for the integration tests that run the real `cargo-isolate` binary.
//!
//! Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one linter run may take before the test kills it and fails.
/// Generous because the machine is shared; a healthy run takes well under a second.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The binary under test, built by cargo for this test run.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cargo-isolate"))
}

/// The repository's `fixtures/` directory (canonical, so no `..` reaches the linter).
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .canonicalize()
        .expect("fixtures/ directory exists next to lint/")
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    /// Exit code; `None` if the process was killed by a signal (a crash).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Printable description of the command, for failure messages.
    pub command: String,
}

impl Run {
    /// stdout parsed as the single JSON document the linter must print.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout of `{}` is not one JSON document ({e}).\nexit: {:?}\nstdout:\n{}\nstderr:\n{}",
                self.command, self.code, self.stdout, self.stderr
            )
        })
    }

    /// Asserts the exit code, showing the full output when it differs.
    pub fn assert_code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(expected),
            "`{}` exited with {:?}, expected {expected}\nstdout:\n{}\nstderr:\n{}",
            self.command,
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// stdout and stderr together (human output may go to either).
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs the binary with `args` in `cwd` (or the current directory), killing it after
/// [`RUN_TIMEOUT`] so a hang fails the test instead of stalling the suite.
pub fn run_in(cwd: Option<&Path>, args: &[&str]) -> Run {
    // Make human output deterministic and free of colour codes.
    run_env(
        cwd,
        args,
        &[("NO_COLOR", Some("1")), ("CLICOLOR_FORCE", None)],
    )
}

/// Like [`run_in`], with environment variables set (`Some`) or removed (`None`).
pub fn run_env(cwd: Option<&Path>, args: &[&str], env: &[(&str, Option<&str>)]) -> Run {
    let mut command = Command::new(bin());
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        match value {
            Some(v) => command.env(name, v),
            None => command.env_remove(name),
        };
    }
    if let Some(dir) = cwd {
        command.current_dir(dir);
    }
    let printable = format!("cargo-isolate {}", args.join(" "));
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin().display()));
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait().expect("wait for cargo-isolate") {
            Some(status) => break status,
            None if started.elapsed() > RUN_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`{printable}` did not finish within {RUN_TIMEOUT:?}");
            }
            None => thread::sleep(Duration::from_millis(5)),
        }
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().expect("stdout reader")).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().expect("stderr reader")).into_owned();
    Run {
        code: status.code(),
        stdout,
        stderr,
        command: printable,
    }
}

/// Runs the binary with `args` in the current directory.
pub fn run(args: &[&str]) -> Run {
    run_in(None, args)
}

/// Writes `files` (relative path, contents) below `root`, creating directories.
pub fn write_tree(root: &Path, files: &[(&str, &str)]) {
    for (rel, contents) in files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create fixture directory");
        }
        std::fs::write(&path, contents).expect("write fixture file");
    }
}

/// A fresh temporary directory holding `files`.
pub fn temp_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("create temp dir");
    write_tree(dir.path(), files);
    dir
}

/// `path` as a `&str` (temp paths are UTF-8 on the CI machines).
pub fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// One finding reduced to what most assertions need.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Brief {
    pub file: String,
    pub line: u64,
    pub rule: String,
    pub level: String,
    pub item: String,
}

/// The entries of `doc[key]` (`"findings"` or `"suppressed"`) as [`Brief`]s.
pub fn briefs(doc: &Value, key: &str) -> Vec<Brief> {
    let list = doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not an array in {doc}"));
    list.iter()
        .map(|f| Brief {
            file: str_field(f, "file"),
            line: f["line"]
                .as_u64()
                .unwrap_or_else(|| panic!("`line` is not a number in {f}")),
            rule: str_field(f, "rule"),
            level: str_field(f, "level"),
            item: str_field(f, "item"),
        })
        .collect()
}

/// A string field of a JSON object, failing clearly when missing.
pub fn str_field(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {value}"))
        .to_owned()
}

/// The `file` fields of the `errors` array.
pub fn error_files(doc: &Value) -> Vec<String> {
    doc["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("`errors` is not an array in {doc}"))
        .iter()
        .map(|e| str_field(e, "file"))
        .collect()
}

/// The sorted `item`s of `doc[key]`.
pub fn sorted_items(doc: &Value, key: &str) -> Vec<String> {
    let mut items: Vec<String> = briefs(doc, key).into_iter().map(|b| b.item).collect();
    items.sort();
    items
}

/// A SARIF result's primary `artifactLocation.uri`.
pub fn sarif_uri(result: &Value) -> &str {
    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap_or_else(|| panic!("no uri in {result}"))
}

/// An in-memory workspace (`src/lib.rs` with `static mut RUNS` and `record`, `src/api.rs`
/// with the entry point `start_run`) and its report, with the finding's execution path filled
/// in as the call graph fills it: `start_run` (api.rs 1:14, byte 13) -> `record` (lib.rs 3:8,
/// byte 50).
pub fn report_with_execution_path() -> (isolate_lint::Workspace, isolate_lint::report::Report) {
    use isolate_lint::{Loc, PathStep, Span, Workspace, WorkspaceOptions};
    let mut ws = Workspace::new(WorkspaceOptions::default());
    let lib = ws.set_file_text(
        "/virtual/app/src/lib.rs",
        "pub mod api;\npub static mut RUNS: u32 = 0;\npub fn record() { unsafe { RUNS += 1 } }\n",
    );
    let api = ws.set_file_text(
        "/virtual/app/src/api.rs",
        "pub async fn start_run() { crate::record() }\n",
    );
    let mut report = ws.analyse();
    let at = |file, line, column, len| Span {
        file,
        loc: Loc {
            line,
            column,
            end_line: line,
            end_column: column + len,
            ..Default::default()
        },
    };
    report.diagnostics[0].execution_path = vec![
        PathStep {
            function: "start_run".into(),
            span: at(api, 1, 14, 9),
        },
        PathStep {
            function: "record".into(),
            span: at(lib, 3, 8, 6),
        },
    ];
    (ws, report)
}

/// Asserts that `text` contains every one of `needles`, showing `text` when one is missing.
pub fn assert_contains(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "`{needle}` not found in:\n{text}");
    }
}
