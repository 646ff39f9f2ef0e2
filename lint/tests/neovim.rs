//! A real editor as the client: headless Neovim, configured with the README's snippet
//! (`editors/neovim/isolate.lua`), attaches `cargo-isolate lsp` to a Rust buffer, and the
//! findings it shows (`vim.diagnostic.get()`, written to a file by `tests/neovim/run.lua`) are
//! checked: where Neovim puts them (byte columns, converted by Neovim from the server's UTF-16
//! on a non-ASCII line), their code and source, and that an edit removing the global clears
//! them.
//!
//! Neovim comes from Debian's `neovim` package (`.ci/run` installs it). Where it is absent the
//! test says so on the terminal, past the test harness's output capture, and passes; with
//! `CI=true` it fails instead. `ISOLATE_NVIM=/path/to/nvim` picks another binary.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::temp_tree;
use serde_json::Value;

/// Where Neovim is, if it is installed.
fn nvim() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ISOLATE_NVIM") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "ISOLATE_NVIM={} does not exist",
            path.display()
        );
        return Some(path);
    }
    let dirs = std::env::var_os("PATH")?;
    std::env::split_paths(&dirs)
        .map(|dir| dir.join("nvim"))
        .find(|path| path.is_file())
}

/// Writes straight to the process's stderr: libtest captures `eprintln!` of passing tests,
/// not this, so the message is on the terminal whatever the test's outcome.
fn shout(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

const STATE: &str = "// a comment\n/* état 🦀 */ pub static mut RUNS: u32 = 0;\n";

#[test]
fn neovim_attaches_the_server_and_shows_its_findings() {
    let Some(nvim) = nvim() else {
        let message = "\n\
            ==================================================================\n\
            NEOVIM TEST NOT RUN: Neovim is not installed.\n\
            Install Debian's `neovim` (apt-get install neovim) or set\n\
            ISOLATE_NVIM=/path/to/nvim. Under CI=true this fails.\n\
            ==================================================================";
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(!in_ci, "{message}");
        shout(message);
        return;
    };
    let dir = temp_tree(&[
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("src/main.rs", "mod state;\nfn main() {}\n"),
        ("src/state.rs", STATE),
    ]);
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("diagnostics.json");
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let snippet = Path::new(env!("CARGO_MANIFEST_DIR")).join("../editors/neovim/isolate.lua");
    let mut command = Command::new(&nvim);
    command
        .args(["--headless", "-n", "-i", "NONE", "-u"])
        .arg(tests.join("neovim/run.lua"))
        .current_dir(dir.path())
        .env("ISOLATE_BIN", env!("CARGO_BIN_EXE_cargo-isolate"))
        .env("ISOLATE_SNIPPET", &snippet)
        .env("ISOLATE_FILE", dir.path().join("src/state.rs"))
        .env("ISOLATE_OUT", &out)
        .env("ISOLATE_EDIT_LINE", "1")
        .env("ISOLATE_EDIT_TEXT", "pub const RUNS: u32 = 0;")
        // Nothing of the user's: no config, plugins, shada or logs outside the temp dir.
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start nvim");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(240) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let logs = || {
        let lsp_log = ["cache/nvim/lsp.log", "state/nvim/lsp.log"]
            .iter()
            .filter_map(|l| std::fs::read_to_string(home.path().join(l)).ok())
            .collect::<Vec<_>>()
            .join("\n");
        format!(
            "nvim stdout:\n{}\nnvim stderr:\n{}\nlsp.log:\n{lsp_log}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    };
    let written = std::fs::read_to_string(&out)
        .unwrap_or_else(|e| panic!("Neovim wrote no result ({e})\n{}", logs()));
    let got: Value = serde_json::from_str(&written).unwrap();
    let fail = |why: &str| -> ! { panic!("{why}\nresult: {got:#}\n{}", logs()) };
    if got.get("error").is_some() {
        fail("the Lua script failed");
    }
    assert_eq!(got["filetype"], "rust");
    assert_eq!(got["clients"], 1, "one client attached: {got}");
    if got["opened_in_time"] != true {
        fail("no diagnostics within 60 s of opening");
    }
    let opened = got["opened"].as_array().unwrap();
    assert_eq!(opened.len(), 1, "{got:#}");
    let d = &opened[0];
    // Neovim's columns are bytes: `RUNS` starts after 32 bytes of its line.
    let line = STATE.lines().nth(1).unwrap();
    let byte_col = line.find("RUNS").unwrap();
    assert_eq!(byte_col, 32);
    assert_eq!(
        (&d["lnum"], &d["col"], &d["end_lnum"], &d["end_col"]),
        (
            &Value::from(1),
            &Value::from(32),
            &Value::from(1),
            &Value::from(36)
        ),
        "{d:#}"
    );
    assert_eq!(d["severity"], 1, "vim.diagnostic.severity.ERROR");
    assert_eq!(d["source"], "isolate");
    let code = d
        .get("code")
        .filter(|c| !c.is_null())
        .unwrap_or(&d["user_data"]["lsp"]["code"]);
    assert_eq!(code, "isolate::static_mut", "{d:#}");
    assert!(d["message"].as_str().unwrap().contains("`static mut RUNS`"));
    if got["edited_in_time"] != true {
        fail("the findings did not clear within 60 s of the edit");
    }
    assert_eq!(got["edited"], Value::Array(Vec::new()));
    shout(&format!(
        "neovim test ran with Neovim {}.{}.{}",
        got["version"]["major"], got["version"]["minor"], got["version"]["patch"]
    ));
}
