//! Workspaces as a new user meets them: the same findings and levels for a file wherever the
//! run starts (workspace root, member, subdirectory, the file alone), config found like
//! clippy's and cargo-deny's, paths that locate files from where the command ran.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{assert_contains, run_in, s, temp_tree};
use serde_json::Value;

/// The two-crate workspace: levels set once at the root, a global in `crates/api`
/// whose type lives in `crates/core`.
fn two_crate_workspace() -> tempfile::TempDir {
    temp_tree(&[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n\
             [workspace.metadata.isolate.rules]\ninterior_mutable_static = \"deny\"\n",
        ),
        (
            "crates/api/Cargo.toml",
            "[package]\nname = \"api-server\"\nversion = \"0.1.0\"\n\n\
             [dependencies]\ncore-state = { path = \"../core\" }\n",
        ),
        (
            "crates/api/src/lib.rs",
            "pub mod handlers;\n\
             use std::sync::atomic::AtomicU64;\n\
             pub static HITS: AtomicU64 = AtomicU64::new(0);\n",
        ),
        (
            "crates/api/src/handlers/mod.rs",
            "use std::sync::LazyLock;\n\
             use core_state::Registry;\n\
             pub static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::default);\n",
        ),
        (
            "crates/core/Cargo.toml",
            "[package]\nname = \"core-state\"\nversion = \"0.1.0\"\n",
        ),
        (
            "crates/core/src/lib.rs",
            "mod registry;\npub use registry::Registry;\n",
        ),
        (
            "crates/core/src/registry.rs",
            "use std::collections::HashMap;\nuse std::sync::Mutex;\n\
             #[derive(Default)]\npub struct Registry { runs: Mutex<HashMap<u64, String>> }\n",
        ),
    ])
}

/// A finding as (absolute file, line, rule, level).
type Seen = (PathBuf, u64, String, String);

/// Every finding of a JSON run in `cwd`, and the exit code.
fn findings(cwd: &Path, args: &[&str]) -> (Option<i32>, BTreeSet<Seen>) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let out = run_in(Some(cwd), &all);
    let doc = out.json();
    let set = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let path = Path::new(f["path"].as_str().expect("path"));
            (
                cwd.join(path)
                    .canonicalize()
                    .expect("`path` locates the file"),
                f["line"].as_u64().expect("line"),
                f["rule"].as_str().expect("rule").to_string(),
                f["level"].as_str().expect("level").to_string(),
            )
        })
        .collect();
    (out.code, set)
}

#[test]
fn the_same_findings_wherever_the_run_starts() {
    let ws = two_crate_workspace();
    let root = ws.path().canonicalize().unwrap();
    let api = root.join("crates/api");
    let lib = api.join("src/lib.rs");
    let handlers = api.join("src/handlers/mod.rs");
    let expected: BTreeSet<_> = [
        (lib.clone(), 3, "interior_mutable_static", "error"),
        (handlers.clone(), 3, "shared_mutable_map", "error"),
    ]
    .into_iter()
    .map(|(p, l, r, v)| (p, l, r.to_string(), v.to_string()))
    .collect();

    // From the workspace root: the api findings, nothing in core.
    let (code, from_root) = findings(&root, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(from_root, expected);
    // In the member: the same levels (the root's config) and the same classification
    // (Registry's map is seen in the other crate).
    let (code, from_member) = findings(&api, &[]);
    assert_eq!((code, &from_member), (Some(1), &expected));
    // In a subdirectory, and naming one file (pre-commit).
    let (_, from_subdir) = findings(&api.join("src/handlers"), &[]);
    assert_eq!(
        from_subdir,
        expected
            .iter()
            .filter(|f| f.0 == handlers)
            .cloned()
            .collect()
    );
    let (code, one_file) = findings(&api.join("src"), &["lib.rs"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        one_file,
        expected.iter().filter(|f| f.0 == lib).cloned().collect()
    );
    let (_, one_file) = findings(&root, &[s(&handlers)]);
    assert_eq!(
        one_file,
        expected
            .iter()
            .filter(|f| f.0 == handlers)
            .cloned()
            .collect(),
        "the type from crates/core is seen when one file of crates/api is named"
    );
}

#[test]
fn only_files_under_the_paths_are_reported_and_counted() {
    let ws = two_crate_workspace();
    let out = run_in(
        Some(&ws.path().join("crates/api")),
        &["check", "--format", "json", "src/handlers"],
    );
    let doc = out.json();
    assert_eq!(doc["summary"]["files_scanned"], 1, "{doc}");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "{doc}");
    assert_eq!(doc["findings"][0]["file"], "mod.rs", "{doc}");
    assert_eq!(doc["findings"][0]["path"], "src/handlers/mod.rs", "{doc}");
}

#[test]
fn the_nearest_isolate_toml_wins_up_to_the_workspace_root() {
    let ws = two_crate_workspace();
    let root = ws.path();
    common::write_tree(
        root,
        &[
            // A member's own file beats the root's metadata.
            (
                "crates/api/isolate.toml",
                "[rules]\ninterior_mutable_static = \"warning\"\n",
            ),
        ],
    );
    for cwd in [root.to_path_buf(), root.join("crates/api/src")] {
        let (code, found) = findings(&cwd, &[]);
        let mut levels: Vec<_> = found.iter().map(|f| (f.2.as_str(), f.3.as_str())).collect();
        levels.sort();
        assert_eq!(
            levels,
            [
                ("interior_mutable_static", "warning"),
                ("shared_mutable_map", "error")
            ],
            "from {}",
            cwd.display()
        );
        assert_eq!(code, Some(1));
    }
    // A package's own metadata beats the workspace's.
    let ws = two_crate_workspace();
    common::write_tree(
        ws.path(),
        &[(
            "crates/api/Cargo.toml",
            "[package]\nname = \"api-server\"\nversion = \"0.1.0\"\n\
             [dependencies]\ncore-state = { path = \"../core\" }\n\
             [package.metadata.isolate.rules]\ninterior_mutable_static = \"allow\"\n",
        )],
    );
    let (_, found) = findings(&ws.path().join("crates/api"), &[]);
    assert!(
        found.iter().all(|f| f.2 != "interior_mutable_static"),
        "{found:?}"
    );
}

#[test]
fn a_workspace_root_stops_the_search_for_isolate_toml() {
    let outer = temp_tree(&[("isolate.toml", "[rules]\nstatic_mut = \"allow\"\n")]);
    common::write_tree(
        outer.path(),
        &[
            ("ws/Cargo.toml", "[workspace]\nmembers = [\"app\"]\n"),
            ("ws/app/Cargo.toml", "[package]\nname = \"app\"\n"),
            ("ws/app/src/lib.rs", "pub static mut COUNTER: u32 = 0;\n"),
        ],
    );
    let (code, found) = findings(&outer.path().join("ws/app"), &[]);
    assert_eq!(
        code,
        Some(1),
        "the isolate.toml above the workspace was read"
    );
    assert_eq!(found.len(), 1);
}

#[test]
fn a_bad_config_in_a_member_fails_the_run_from_the_root() {
    let ws = two_crate_workspace();
    common::write_tree(
        ws.path(),
        &[(
            "crates/core/isolate.toml",
            "[rules]\nstatic_mutt = \"deny\"\n",
        )],
    );
    let out = run_in(Some(ws.path()), &["check"]);
    out.assert_code(2);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    assert_contains(
        &out.stderr,
        &[
            "crates/core/isolate.toml",
            "did you mean `static_mut`",
            "--> crates/core/isolate.toml:2:1",
        ],
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn human_paths_are_relative_to_the_current_directory() {
    let ws = two_crate_workspace();
    let root = ws.path();
    let out = run_in(Some(root), &["check", "crates/api"]);
    out.assert_code(1);
    assert_contains(
        &out.stdout,
        &[
            "crates/api/src/lib.rs:3:12",
            "crates/api/src/handlers/mod.rs:3:12",
        ],
    );
    let out = run_in(Some(&root.join("crates/api/src")), &["check"]);
    assert_contains(&out.stdout, &["[lib.rs:3:12]", "[handlers/mod.rs:3:12]"]);
    // JSON keeps `file` relative to the scanned PATH and adds `path`, from the current directory.
    let out = run_in(
        Some(root),
        &["check", "--format", "json", "crates/api/src/handlers"],
    );
    let doc = out.json();
    assert_eq!(doc["findings"][0]["file"], "mod.rs");
    assert_eq!(doc["findings"][0]["path"], "crates/api/src/handlers/mod.rs");
}

#[test]
fn several_roots_never_give_two_identical_looking_findings() {
    let dir = temp_tree(&[
        ("one/src/lib.rs", "pub static mut COUNTER: u32 = 0;\n"),
        ("two/src/lib.rs", "pub static mut COUNTER: u32 = 0;\n"),
    ]);
    let out = run_in(
        Some(dir.path()),
        &["check", "--format", "json", "one", "two"],
    );
    out.assert_code(1);
    let doc = out.json();
    let list = doc["findings"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{doc}");
    // `file` is relative to each root, so it is the same; `path` tells them apart.
    assert_eq!(list[0]["file"], list[1]["file"]);
    let paths: BTreeSet<&str> = list.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, BTreeSet::from(["one/src/lib.rs", "two/src/lib.rs"]));
    let distinct: BTreeSet<String> = list.iter().map(Value::to_string).collect();
    assert_eq!(distinct.len(), list.len());
}

#[test]
fn a_file_only_a_test_module_reaches_is_test_code() {
    let dir = temp_tree(&[
        ("Cargo.toml", "[package]\nname = \"app\"\n"),
        ("src/lib.rs", "mod engine;\n#[cfg(test)]\nmod support;\n"),
        ("src/engine.rs", "pub static mut RUNS: u32 = 0;\n"),
        (
            "src/support.rs",
            "mod helpers;\npub static mut FIXTURE: u32 = 0;\n",
        ),
        (
            "src/support/helpers.rs",
            "pub static mut HELPER: u32 = 0;\n",
        ),
    ]);
    let items = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["check", "--format", "json"];
        all.extend_from_slice(args);
        let doc = run_in(Some(dir.path()), &all).json();
        let mut v: Vec<String> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["item"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(items(&[]), ["RUNS"]);
    assert_eq!(items(&["--include-tests"]), ["FIXTURE", "HELPER", "RUNS"]);
}
