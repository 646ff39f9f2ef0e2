//! The linter run on the project's own crates: the cure must not contain the disease. Every
//! global in lint/, macros/ and runtime/ is either absent or suppressed with a reason.

use std::path::PathBuf;

use isolate_lint::rules::{Level, Selector};
use isolate_lint::{Workspace, WorkspaceOptions};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn project_crates_have_no_findings() {
    let opts = WorkspaceOptions {
        paths: ["lint", "macros", "runtime"]
            .iter()
            .map(|p| repo().join(p))
            .collect(),
        // Every rule as an error: warnings count too.
        levels: vec![(Selector::All, Level::Deny)],
        ..Default::default()
    };
    let mut ws = Workspace::load(opts, &|_, _| {}).expect("the project's own crates can be linted");
    let report = ws.analyse();
    let shown: Vec<String> = report
        .diagnostics
        .iter()
        .map(|f| {
            let p = ws.sources().path(f.primary.file);
            format!(
                "{}:{}: {} {}",
                p.display, f.primary.loc.line, f.rule.id, f.message
            )
        })
        .collect();
    assert!(
        shown.is_empty(),
        "findings in the project itself:\n{}",
        shown.join("\n")
    );
    assert!(
        report.errors.is_empty(),
        "files that failed to parse: {:?}",
        report.errors
    );
    assert!(
        report.files_scanned >= 20,
        "scanned only {} files",
        report.files_scanned
    );
    for s in &report.suppressed {
        assert!(
            s.reason.is_some(),
            "suppression without a reason at {}:{}",
            ws.sources().path(s.diagnostic.primary.file).display,
            s.diagnostic.primary.loc.line
        );
    }
}
