//! The linter run on the project's own crates: the cure must not contain the disease. Every
//! global in lint/, macros/ and runtime/ is either absent or suppressed with a reason.

use std::path::PathBuf;

use isolate_lint::check::{CheckOptions, LevelOverrides, check};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn project_crates_have_no_findings() {
    let opts = CheckOptions {
        paths: ["lint", "macros", "runtime"]
            .iter()
            .map(|p| repo().join(p))
            .collect(),
        // Every rule as an error: warnings count too.
        levels: LevelOverrides {
            deny: vec!["all".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let report = check(&opts).expect("the project's own crates can be linted");
    let shown: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{}:{}: {} {}", f.file, f.line, f.rule, f.message))
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
            s.finding.file,
            s.finding.line
        );
    }
}
