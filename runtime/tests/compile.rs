//! Compile-time guarantees, proven by compiling small programs with the real compiler.
//!
//! `ui/pass` holds the intended uses; each case in `ui/fail` must fail for the reason its
//! `.stderr` snapshot shows. Regenerate snapshots with `TRYBUILD=overwrite` and read them.
//! The `ui/pass/strict_*.rs` cases are also linted by clippy, as a user's CI would.
#![cfg(not(loom))]

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}

/// The derives' output under `cargo clippy -- -D warnings` in a crate that denies
/// `clippy::pedantic` and `clippy::nursery`: each `ui/pass/strict_*.rs` becomes the library of
/// a throwaway package that depends on this crate (a library, so that `missing_docs` and
/// `unreachable_pub` judge a real public API; trybuild builds the same file as a binary), and
/// clippy must report nothing.
#[test]
fn strict_cases_pass_clippy() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = Path::new(env!("CARGO_TARGET_TMPDIR")).join("clippy-strict");
    let cases = strict_cases(&crate_dir.join("tests/ui/pass"));
    assert!(!cases.is_empty(), "no tests/ui/pass/strict_*.rs case found");
    let mut members = Vec::new();
    for case in &cases {
        let name = case.file_stem().and_then(|s| s.to_str()).unwrap_or("case");
        let dir = project.join(name);
        std::fs::create_dir_all(&dir).expect("create the case's package directory");
        let manifest = format!(
            "[package]\nname = {:?}\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [lib]\npath = {:?}\n\n[dependencies]\nisolate = {{ path = {:?} }}\n",
            format!("isolate-{}", name.replace('_', "-")),
            case.display().to_string(),
            crate_dir.display().to_string()
        );
        std::fs::write(dir.join("Cargo.toml"), manifest).expect("write the case's manifest");
        members.push(format!("{name:?}"));
    }
    let workspace = format!("[workspace]\nmembers = [{}]\n", members.join(", "));
    std::fs::write(project.join("Cargo.toml"), workspace).expect("write the workspace manifest");
    // The workspace's lock file: the same dependency versions as every other test, offline.
    std::fs::copy(crate_dir.join("../Cargo.lock"), project.join("Cargo.lock"))
        .expect("copy Cargo.lock");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", project.join("target"))
        .args(["clippy", "--offline", "--quiet", "--workspace", "--lib"])
        .args(["--", "-D", "warnings"])
        .output()
        .expect("run cargo clippy (the clippy component must be installed)");
    assert!(
        output.status.success(),
        "clippy refused the strict cases:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn strict_cases(dir: &Path) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read tests/ui/pass")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "rs")
                && path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with("strict_"))
        })
        .collect();
    cases.sort();
    cases
}
