//! One table of `#[isolate::allow(..)]` forms (`macros/src/allow/forms.rs`), both readers: every
//! accepted form is compiled here through the real macro (this file does not build if the
//! macro refuses one) and read by the linter as a suppression with its reason; every rejected
//! form is reported by the linter. The macro's own unit test refuses the rejected forms from the
//! same table. And the example in the macro's documentation suppresses a real finding of a real
//! rule.

use std::path::PathBuf;

use isolate_lint::report::Report;
use isolate_lint::{Workspace, WorkspaceOptions};

macro_rules! allow_forms {
    (accepted: [$([$($ok:tt)*]),* $(,)?], rejected: [$([$($bad:tt)*]),* $(,)?] $(,)?) => {
        $(
            const _: () = {
                #[isolate::allow($($ok)*)]
                #[allow(dead_code)]
                static mut X: u8 = 0;
            };
        )*
        const ACCEPTED: &[&str] = &[$(stringify!($($ok)*)),*];
        const REJECTED: &[&str] = &[$(stringify!($($bad)*)),*];
    };
}
include!("../macros/src/allow/forms.rs");

/// Lints `source` as the only file of a workspace.
fn lint(source: &str) -> Report {
    let mut ws = Workspace::new(WorkspaceOptions::default());
    ws.set_file_text("/virtual/forms/src/lib.rs", source);
    ws.analyse()
}

fn with_form(form: &str) -> String {
    format!("#[isolate::allow({form})]\npub static mut X: u8 = 0;\n")
}

#[test]
fn every_accepted_form_is_read_as_a_suppression() {
    assert!(ACCEPTED.len() >= 5);
    for form in ACCEPTED {
        let report = lint(&with_form(form));
        let found: Vec<_> = report.diagnostics.iter().map(|d| d.rule.id).collect();
        assert!(found.is_empty(), "`{form}`: {found:?}");
        assert_eq!(report.suppressed.len(), 1, "`{form}`");
        let s = &report.suppressed[0];
        assert_eq!(
            (s.diagnostic.rule.id, s.diagnostic.item.as_str()),
            ("static_mut", "X")
        );
        let literal = form.rsplit("reason =").next().unwrap_or_default();
        let reason = s.reason.as_deref().expect("the reason is read");
        assert!(
            literal.contains(reason.trim()),
            "`{form}` read as {reason:?}"
        );
    }
}

#[test]
fn every_rejected_form_is_reported() {
    assert!(REJECTED.len() >= 10);
    for form in REJECTED {
        let report = lint(&with_form(form));
        let meta: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.primary.loc.line == 1)
            .map(|d| d.rule.id)
            .collect();
        let x_suppressed = report.suppressed.iter().any(|s| s.diagnostic.item == "X");
        match meta.as_slice() {
            // A missing or empty reason: still a suppression, and reported.
            ["suppression_without_reason"] => assert!(x_suppressed, "`{form}`"),
            // Anything else cannot be read: it suppresses nothing.
            ["unused_suppression"] => assert!(!x_suppressed, "`{form}`"),
            other => panic!("`{form}` was not reported as a bad suppression: {other:?}"),
        }
    }
}

#[test]
fn the_documented_example_suppresses_a_real_finding() {
    let lib = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../macros/src/lib.rs");
    let text = std::fs::read_to_string(lib).expect("macros/src/lib.rs");
    let doc: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("A reviewed suppression of `cargo isolate` rules"))
        .take_while(|l| l.trim_start().starts_with("///"))
        .map(|l| {
            l.trim_start()
                .trim_start_matches("///")
                .trim_start_matches(' ')
        })
        .collect();
    let code: String = doc
        .iter()
        .skip_while(|l| !l.starts_with("```"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .filter(|l| !l.starts_with("# "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        code.contains("#[isolate::allow("),
        "no example found:\n{code}"
    );
    let report = lint(&code);
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    assert_eq!(
        report.suppressed.len(),
        1,
        "the example suppresses nothing:\n{code}"
    );
    assert!(report.suppressed[0].reason.is_some());
}
