//! What an editor waits for per keystroke, measured from outside: the real `cargo-isolate lsp`
//! binary over stdio, a workspace folder loaded once, one open file edited N times (an
//! incremental `didChange` that adds a global at its end, the next one removes it), and for
//! each edit the time from writing the `didChange` to reading the `publishDiagnostics` for that
//! document version. Edits are paced like typing (one per `PAUSE_MS`: 150 ms, 80 words a
//! minute), so each is measured alone; the time includes the server's debounce logic.
//!
//! Baseline, same run and machine: a full `cargo-isolate check DIR` of the same workspace (what
//! an editor without a server would run on save), its median over `CHECKS` runs, half before and
//! half after the server's edits. The in-process library (`Workspace::set_file_text` +
//! `analyse`, no protocol) is shown as well, as the floor the server adds its protocol to.
//!
//! Usage (release build; the corpus is never committed):
//!
//! ```sh
//! /work/shared/bench-corpus/vendor.sh /tmp/isolate-bench-corpus   # ../shared/bench-corpus/vendor.sh
//! cargo build --release -p isolate-lint --bin cargo-isolate --example lsp_bench
//! target/release/examples/lsp_bench [DIR] [FILE] [N]
//! ```
//!
//! - `DIR`: the workspace (default `$ISOLATE_BENCH_DIR`, else `$TMPDIR/isolate-bench-corpus/tokio`,
//!   the reference corpus's tokio crate: 573 files, 148k lines);
//! - `FILE`: the file edited, relative to `DIR` (default `src/sync/mpsc/bounded.rs`, 1,967
//!   lines);
//! - `N`: edits measured (default 60), after 4 of warm-up;
//! - `ISOLATE_BIN`: the server (default `cargo-isolate` beside this example's directory);
//!   `ISOLATE_BENCH_DEBOUNCE_MS`: passed as `--debounce-ms`.

#[path = "../tests/lsp_client/mod.rs"]
mod lsp_client;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use isolate_lint::{Workspace, WorkspaceOptions};
use lsp_client::{Client, file_uri};
use serde_json::json;

const PAUSE_MS: u64 = 150;
const CHECKS: usize = 6;
const GLOBAL: &str = "pub static mut EDITED: u32 = 0;\n";
/// The issue's target for the median.
const TARGET_MS: f64 = 50.0;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        eprintln!("usage: lsp_bench [DIR] [FILE] [N]  (see the top of lint/examples/lsp_bench.rs)");
        return;
    }
    let dir = args
        .first()
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("ISOLATE_BENCH_DIR").map(PathBuf::from))
        .unwrap_or_else(|| std::env::temp_dir().join("isolate-bench-corpus/tokio"));
    let file = args
        .get(1)
        .map_or("src/sync/mpsc/bounded.rs", String::as_str);
    let n: usize = args.get(2).map_or(60, |a| {
        a.parse()
            .unwrap_or_else(|_| fail(&format!("N must be a number, not {a:?}")))
    });
    let bin = std::env::var_os("ISOLATE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(default_bin);
    if !bin.is_file() {
        fail(&format!(
            "no server binary at {} (cargo build --release -p isolate-lint, or set ISOLATE_BIN)",
            bin.display()
        ));
    }
    let debounce = std::env::var("ISOLATE_BENCH_DEBOUNCE_MS").ok();
    let dir = std::fs::canonicalize(&dir).unwrap_or_else(|e| {
        fail(&format!(
            "workspace {}: {e} (lay the corpus out with ../shared/bench-corpus/vendor.sh DIR)",
            dir.display()
        ))
    });
    let file = dir.join(file);
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| fail(&format!("{}: {e}", file.display())));
    if !text.ends_with('\n') {
        fail("the edited file must end with a newline (the edit goes after its last line)");
    }
    let (files, lines) = rust_files(&dir);

    let load = loadavg();
    let mut checks = Vec::new();
    for _ in 0..CHECKS / 2 {
        checks.push(full_check(&bin, &dir));
    }
    let server = server_times(&bin, &dir, &file, &text, n, debounce.as_deref());
    for _ in 0..CHECKS / 2 {
        checks.push(full_check(&bin, &dir));
    }
    let library = library_times(&dir, &file, &text, n);
    let load_after = loadavg();

    let s = Summary::of(server);
    let c = Summary::of(checks);
    let l = Summary::of(library.total);
    println!(
        "workspace {} ({files} .rs files, {lines} lines); edited {} ({} lines)",
        dir.display(),
        file.strip_prefix(&dir).unwrap_or(&file).display(),
        text.lines().count()
    );
    println!(
        "{n} edits, one per {PAUSE_MS} ms; server {}; load average {load} before, {load_after} after",
        debounce.map_or("with its default debounce".into(), |d| format!(
            "--debounce-ms={d}"
        ))
    );
    println!("server, didChange -> publishDiagnostics: {s}");
    println!("baseline, full `cargo-isolate check DIR` ({CHECKS} runs): {c}");
    println!(
        "library in process, set_file_text + analyse: {l} (set_file_text median {:.1} ms, analyse median {:.1} ms)",
        Summary::of(library.set_text).median,
        Summary::of(library.analyse).median
    );
    println!(
        "server / full check: median {:.3}x, p95 {:.3}x (p95 against the check's median)",
        s.median / c.median,
        s.p95 / c.median
    );
    println!("server / library: median {:.2}x", s.median / l.median);
    println!(
        "target: median at most {TARGET_MS} ms: {} ({:.1} ms)",
        if s.median <= TARGET_MS {
            "met"
        } else {
            "MISSED"
        },
        s.median
    );
}

fn fail(why: &str) -> ! {
    eprintln!("lsp_bench: {why}");
    std::process::exit(2);
}

/// `cargo-isolate` in the profile directory this example was built into.
fn default_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    profile.join(format!("cargo-isolate{}", std::env::consts::EXE_SUFFIX))
}

/// The 1-minute load average, as `/proc/loadavg` says (`?` elsewhere).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// The `.rs` files under `dir` and their lines, for the report.
fn rust_files(dir: &Path) -> (usize, usize) {
    let (mut files, mut lines) = (0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files += 1;
                lines += std::fs::read_to_string(&path).map_or(0, |t| t.lines().count());
            }
        }
    }
    (files, lines)
}

/// Median, p95, min and max of times in milliseconds.
struct Summary {
    median: f64,
    p95: f64,
    min: f64,
    max: f64,
}

impl Summary {
    fn of(mut times: Vec<f64>) -> Summary {
        assert!(!times.is_empty(), "no times");
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        Summary {
            median: at(0.5),
            p95: at(0.95),
            min: times[0],
            max: times[times.len() - 1],
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "median {:.1} ms, p95 {:.1} ms, min {:.1}, max {:.1}",
            self.median, self.p95, self.min, self.max
        )
    }
}

/// One full `cargo-isolate check DIR`, wall time in milliseconds (output discarded).
fn full_check(bin: &Path, dir: &Path) -> f64 {
    let t = Instant::now();
    let status = Command::new(bin)
        .args(["check", "--format", "short", "--fail-on", "never"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run {}: {e}", bin.display())));
    let took = t.elapsed().as_secs_f64() * 1000.0;
    if !status.success() {
        fail(&format!(
            "`cargo-isolate check {}`: {status}",
            dir.display()
        ));
    }
    took
}

fn server_times(
    bin: &Path,
    dir: &Path,
    file: &Path,
    text: &str,
    n: usize,
    debounce: Option<&str>,
) -> Vec<f64> {
    let debounce_arg = debounce.map(|d| format!("--debounce-ms={d}"));
    let mut args = vec!["lsp"];
    args.extend(debounce_arg.as_deref());
    let mut c = Client::start(bin, &args);
    let started = Instant::now();
    c.initialize(Some(dir), json!({}));
    let uri = file_uri(file);
    c.open(&uri, text);
    let last_line = text.lines().count() as u64;
    let edit = |c: &mut Client, version: i64, add: bool| {
        let change = if add {
            json!({"range": {"start": {"line": last_line, "character": 0},
                             "end": {"line": last_line, "character": 0}}, "text": GLOBAL})
        } else {
            json!({"range": {"start": {"line": last_line, "character": 0},
                             "end": {"line": last_line + 1, "character": 0}}, "text": ""})
        };
        let t = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
        );
        let published = c.wait("the edit's diagnostics", |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        let elapsed = t.elapsed();
        let edited = published["params"]["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["message"].as_str().unwrap_or("").contains("EDITED"));
        assert_eq!(edited, add, "the edit is seen");
        elapsed
    };
    // Warm-up: the workspace loads, the first analyses run.
    let mut version = 1;
    for _ in 0..2 {
        version += 1;
        edit(&mut c, version, true);
        version += 1;
        edit(&mut c, version, false);
    }
    eprintln!(
        "server ready after {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let mut times = Vec::new();
    for i in 0..n {
        std::thread::sleep(Duration::from_millis(PAUSE_MS));
        version += 1;
        times.push(edit(&mut c, version, i % 2 == 0).as_secs_f64() * 1000.0);
    }
    assert_eq!(c.shutdown(), Some(0), "the server exits cleanly");
    times
}

/// The library's times per edit, in milliseconds.
#[derive(Default)]
struct Library {
    total: Vec<f64>,
    /// `set_file_text` (the file parsed into facts).
    set_text: Vec<f64>,
    /// `analyse` (the cross-file stage over facts in memory).
    analyse: Vec<f64>,
}

fn library_times(dir: &Path, file: &Path, text: &str, n: usize) -> Library {
    let opts = WorkspaceOptions {
        paths: vec![dir.to_path_buf()],
        ..Default::default()
    };
    let mut ws = Workspace::load(opts, &|_, _| {}).expect("the workspace loads");
    ws.analyse();
    let mut out = Library::default();
    for i in 0..n {
        let edited = if i % 2 == 0 {
            format!("{text}{GLOBAL}")
        } else {
            text.to_string()
        };
        let t = Instant::now();
        ws.set_file_text(file, edited);
        let parsed = t.elapsed();
        ws.analyse();
        let all = t.elapsed();
        out.total.push(all.as_secs_f64() * 1000.0);
        out.set_text.push(parsed.as_secs_f64() * 1000.0);
        out.analyse.push((all - parsed).as_secs_f64() * 1000.0);
    }
    out
}
