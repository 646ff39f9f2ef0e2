//! Execution paths through the real binary: `cargo isolate entries` (human and JSON),
//! `--only-reachable`, and `--format dot` (the committed picture of the bundled app must be
//! what the linter draws today).

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{assert_contains, fixtures_dir, run_in, temp_tree};

fn agent_backend() -> PathBuf {
    fixtures_dir().join("apps/agent-backend")
}

#[test]
fn entries_lists_every_handler_with_how_it_was_found() {
    let out = run_in(Some(&agent_backend()), &["entries"]);
    out.assert_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "src/api/runs.rs:20  create_run  (route `post(api::runs::create_run)`, at src/main.rs:33)",
            "src/api/runs.rs:38  run_status  (route `get(api::runs::run_status)`, at src/main.rs:34)",
            "src/api/runs.rs:45  history  (route `get(api::runs::history)`, at src/main.rs:35)",
            "src/api/runs.rs:50  cancel  (route `get(..).delete(api::runs::cancel)`, at src/main.rs:34)",
            "src/api/ws.rs:10    events  (route `get(api::ws::events)`, at src/main.rs:36)",
            "src/main.rs:37      router::{closure}  (route `get(|..| ..)`, at src/main.rs:37)",
            "6 entry points",
        ],
        "{}",
        out.stdout
    );
    // JSON: the same entries, in the same order.
    let out = run_in(Some(&agent_backend()), &["entries", "--format", "json"]);
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(doc["version"], 1);
    let got: Vec<(String, u64, String)> = doc["entry_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
                e["function"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, u64, String)> = lines[..6]
        .iter()
        .map(|l| {
            let mut parts = l.split_whitespace();
            let (file, line) = parts.next().unwrap().split_once(':').unwrap();
            (
                file.to_string(),
                line.parse().unwrap(),
                parts.next().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, expected, "{doc:#}");
    assert!(
        doc["entry_points"][0]["how"]
            .as_str()
            .unwrap()
            .contains("post(api::runs::create_run)"),
        "{doc:#}"
    );
}

#[test]
fn entries_of_a_library_is_an_empty_list_and_bad_paths_fail() {
    let dir = temp_tree(&[("src/lib.rs", "pub fn helper() -> u8 { 1 }\n")]);
    let out = run_in(Some(dir.path()), &["entries"]);
    out.assert_code(0);
    assert_eq!(out.stdout, "0 entry points\n");
    let out = run_in(Some(dir.path()), &["entries", "--format", "json"]);
    assert_eq!(out.json()["entry_points"], serde_json::json!([]));
    let out = run_in(Some(dir.path()), &["entries", "no/such/dir"]);
    out.assert_code(2);
    assert_contains(&out.stderr, &["error:", "no/such/dir"]);
}

/// An axum handler that reaches one static; another static no handler reaches.
const APP: &str = "use std::sync::Mutex;\n\
    use std::collections::HashMap;\n\
    static SEEN: Mutex<Vec<u64>> = Mutex::new(Vec::new());\n\
    static mut STARTED: bool = false;\n\
    pub fn router() -> axum::Router { axum::Router::new().route(\"/\", axum::routing::get(index)) }\n\
    async fn index() -> &'static str { SEEN.lock().unwrap().push(1); \"ok\" }\n\
    pub fn boot() { unsafe { STARTED = true } }\n";

#[test]
fn only_reachable_hides_and_ignores_what_no_handler_reaches() {
    let dir = temp_tree(&[("src/lib.rs", APP)]);
    let items = |extra: &[&str]| -> (Option<i32>, BTreeSet<String>) {
        let mut args = vec!["check", "--format", "json", "--fail-on", "warning"];
        args.extend_from_slice(extra);
        let out = run_in(Some(dir.path()), &args);
        let doc = out.json();
        let items = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{}={}", f["item"].as_str().unwrap(), f["level"]))
            .collect();
        (out.code, items)
    };
    let (code, all) = items(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        all,
        BTreeSet::from([
            "SEEN=\"error\"".to_string(),
            // `static mut` no handler reaches: a warning, not an error.
            "STARTED=\"warning\"".to_string()
        ])
    );
    let (code, reached) = items(&["--only-reachable"]);
    assert_eq!(code, Some(1));
    assert_eq!(reached, BTreeSet::from(["SEEN=\"error\"".to_string()]));
    // With the reached global suppressed, the unreached warning alone no longer fails the run.
    let quiet = temp_tree(&[(
        "src/lib.rs",
        &APP.replace(
            "static SEEN",
            "// isolate: allow(shared_mutable_map) -- test\nstatic SEEN",
        ),
    )]);
    let out = run_in(
        Some(quiet.path()),
        &["check", "--fail-on", "warning", "--only-reachable"],
    );
    out.assert_code(0);
    let out = run_in(Some(quiet.path()), &["check", "--fail-on", "warning"]);
    out.assert_code(1);
}

#[test]
fn dot_output_is_the_committed_picture_of_the_bundled_app() {
    let out = run_in(Some(&agent_backend()), &["check", "--format", "dot"]);
    out.assert_code(1);
    let committed = fixtures_dir().join("../docs/agent-backend.dot");
    let want = std::fs::read_to_string(&committed).unwrap();
    assert_eq!(
        out.stdout, want,
        "docs/agent-backend.dot is stale: regenerate it (and the SVG) as docs/ARCHITECTURE.md says"
    );
    // Every edge joins declared nodes, and every reached finding's chain is drawn.
    let declared: BTreeSet<&str> = out
        .stdout
        .lines()
        .filter(|l| !l.contains("->"))
        .filter_map(|l| l.trim().strip_prefix('"')?.split('"').next())
        .collect();
    let edges: Vec<(&str, &str)> = out
        .stdout
        .lines()
        .filter_map(|l| {
            let (from, to) = l.trim().trim_end_matches(';').split_once(" -> ")?;
            Some((from.trim_matches('"'), to.trim_matches('"')))
        })
        .collect();
    assert!(!edges.is_empty());
    for (from, to) in &edges {
        assert!(
            declared.contains(from) && declared.contains(to),
            "{from} -> {to}"
        );
    }
    for hop in [
        (
            "fn create_run src/api/runs.rs:20",
            "fn Engine::start src/engine.rs:65",
        ),
        (
            "fn Engine::start src/engine.rs:65",
            "fn registry src/registry.rs:24",
        ),
        (
            "fn registry src/registry.rs:24",
            "state REGISTRY src/registry.rs:21",
        ),
    ] {
        assert!(edges.contains(&hop), "{hop:?} missing:\n{}", out.stdout);
    }
    // Unreached state sits in its own cluster, coloured as a note.
    assert_contains(
        &out.stdout,
        &[
            "subgraph cluster_unreached",
            "LISTEN_OVERRIDE\\ninterior_mutable_static (note)",
        ],
    );
}

#[test]
fn a_package_without_entry_points_is_a_library_even_beside_a_server() {
    // Two unrelated packages scanned together: the server's handlers say nothing about the
    // library's state, which keeps the "no entry point" level (an error for a map).
    let dir = temp_tree(&[
        (
            "server/Cargo.toml",
            "[package]\nname = \"server\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("server/src/lib.rs", APP),
        (
            "library/Cargo.toml",
            "[package]\nname = \"library\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        (
            "library/src/lib.rs",
            "use std::sync::Mutex;\npub static CACHE: Mutex<Vec<u64>> = Mutex::new(Vec::new());\n\
             pub fn remember(x: u64) { CACHE.lock().unwrap().push(x) }\n",
        ),
    ]);
    let out = run_in(Some(dir.path()), &["check", "--format", "json"]);
    let doc = out.json();
    let levels: BTreeSet<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["item"].as_str().unwrap(),
                f["level"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        levels,
        BTreeSet::from([
            "CACHE error".to_string(),
            "SEEN error".to_string(),
            "STARTED warning".to_string()
        ]),
        "{doc:#}"
    );
    let cache = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["item"] == "CACHE")
        .unwrap();
    assert!(
        !cache["notes"].to_string().contains("not reached"),
        "{cache:#}"
    );
}
