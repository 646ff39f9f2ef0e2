//! Before and after, across the crates: the linter finds the singletons in the bundled
//! singleton-style app and in the README's "before" code, and finds nothing in the
//! factory-based example that replaces them or in the README's "after" code.

use std::path::{Path, PathBuf};

use isolate_lint::report::Report;
use isolate_lint::rules::{Level, Selector};
use isolate_lint::{Workspace, WorkspaceOptions};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn lint(path: &Path) -> Report {
    let opts = WorkspaceOptions {
        paths: vec![path.to_path_buf()],
        levels: vec![(Selector::All, Level::Deny)],
        ..Default::default()
    };
    Workspace::load(opts, &|_, _| {})
        .unwrap_or_else(|e| panic!("linting {} failed: {e}", path.display()))
        .analyse()
}

fn findings(report: &Report) -> Vec<(String, &'static str)> {
    report
        .diagnostics
        .iter()
        .map(|f| (f.item.clone(), f.rule.id))
        .collect()
}

/// The first ```rust block after the README heading that starts with `heading`.
fn readme_block(heading: &str) -> String {
    let text = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let mut lines = text.lines().skip_while(|l| !l.starts_with(heading));
    assert!(lines.next().is_some(), "README has no heading {heading:?}");
    let mut lines = lines.skip_while(|l| l.trim() != "```rust").skip(1);
    let mut block = String::new();
    for line in lines.by_ref().take_while(|l| l.trim() != "```") {
        block.push_str(line);
        block.push('\n');
    }
    block
}

#[test]
fn the_singleton_app_is_caught() {
    let report = lint(&repo().join("fixtures/apps/agent-backend"));
    let found = findings(&report);
    for (item, rule) in [
        ("AppState.engine.active_runs", "shared_mutable_map"),
        ("RUN_HISTORY", "shared_mutable_map"),
        ("REGISTRY", "shared_mutable_map"),
    ] {
        assert!(
            found.contains(&(item.to_string(), rule)),
            "{item} not reported as {rule}: {found:?}"
        );
    }
    assert_eq!(report.exit_code(), 1);
}

#[test]
fn the_factory_example_is_clean() {
    let example = repo().join("runtime/examples/agent_engine.rs");
    let report = lint(&example);
    assert_eq!(report.files_scanned, 1);
    assert!(report.diagnostics.is_empty(), "{:?}", findings(&report));
    assert_eq!(report.exit_code(), 0);
}

#[test]
fn the_readme_before_and_after_code_lints_as_described() {
    let blocks = [readme_block("### Before"), readme_block("### After")];
    let dir = tempfile::tempdir().expect("tempdir");
    let before = dir.path().join("before.rs");
    std::fs::write(&before, &blocks[0]).expect("write");
    let report = lint(&before);
    assert!(
        report.errors.is_empty(),
        "the 'before' code does not parse: {:?}",
        report.errors
    );
    assert!(
        findings(&report).contains(&("ENGINE".to_string(), "shared_mutable_map")),
        "{:?}",
        findings(&report)
    );
    let after = dir.path().join("after.rs");
    std::fs::write(&after, &blocks[1]).expect("write");
    let report = lint(&after);
    assert!(
        report.errors.is_empty(),
        "the 'after' code does not parse: {:?}",
        report.errors
    );
    assert!(report.diagnostics.is_empty(), "{:?}", findings(&report));
}

#[test]
fn the_readme_rule_table_is_the_registry() {
    let text = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let start = "<!-- rules-table: generated from the registry; a test keeps it equal to `cargo isolate rules` -->\n";
    let from = text.find(start).expect("README has the rules-table marker") + start.len();
    let to = text[from..]
        .find("<!-- end rules-table -->")
        .expect("end marker")
        + from;
    let expected = isolate_lint::rules::markdown_table();
    assert_eq!(
        &text[from..to],
        expected,
        "README's rule table differs from the registry; it should read:\n{expected}"
    );
}
