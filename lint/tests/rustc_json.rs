//! `--message-format=json`: rustc's diagnostic JSON as cargo prints it, parsed with the
//! `cargo_metadata` message types (what rust-analyzer's flycheck parses), spans checked
//! against the fixture's bytes and characters; and `--with-cargo-check` on a tiny real crate.

mod common;

use std::path::Path;

use cargo_metadata::Message;
use cargo_metadata::diagnostic::{DiagnosticLevel, DiagnosticSpan};
use common::{run_env, run_in, temp_tree};

/// Every stdout line as a cargo message; none may be plain text.
fn messages(stdout: &str) -> Vec<Message> {
    stdout
        .lines()
        .map(|line| {
            let m: Message = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a cargo message ({e}): {line}"));
            m
        })
        .collect()
}

fn compiler_messages(msgs: &[Message]) -> Vec<&cargo_metadata::CompilerMessage> {
    msgs.iter()
        .filter_map(|m| match m {
            Message::CompilerMessage(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn finished(msgs: &[Message]) -> Vec<bool> {
    msgs.iter()
        .filter_map(|m| match m {
            Message::BuildFinished(b) => Some(b.success),
            _ => None,
        })
        .collect()
}

/// A line with multi-byte characters before the finding.
const LIB: &str = "//! Crate docs: naïve façade ✓\n\
                   /* héllo wörld → 🦀 */ pub static mut COUNTER: u32 = 0;\n\
                   pub struct Registry;\n\
                   static REGISTRY: std::sync::OnceLock<std::sync::Mutex<Registry>> = std::sync::OnceLock::new();\n\
                   pub fn registry() -> &'static std::sync::Mutex<Registry> { REGISTRY.get_or_init(|| std::sync::Mutex::new(Registry)) }\n\
                   // isolate: allow(interior_mutable_static)\n\
                   pub static OTHER: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);\n";

fn crate_dir() -> tempfile::TempDir {
    temp_tree(&[
        (
            "Cargo.toml",
            "[package]\nname = \"multi\"\nversion = \"0.3.1\"\nedition = \"2021\"\n",
        ),
        ("src/lib.rs", LIB),
    ])
}

fn primary(spans: &[DiagnosticSpan]) -> &DiagnosticSpan {
    let primaries: Vec<_> = spans.iter().filter(|s| s.is_primary).collect();
    assert_eq!(primaries.len(), 1, "exactly one primary span: {spans:#?}");
    primaries[0]
}

#[test]
fn every_line_parses_as_cargo_messages_rust_analyzer_reads() {
    let dir = crate_dir();
    let out = run_in(Some(dir.path()), &["check", "--message-format=json"]);
    out.assert_code(1);
    let msgs = messages(&out.stdout);
    assert_eq!(finished(&msgs), [false]);
    assert!(matches!(msgs.last(), Some(Message::BuildFinished(_))));
    let cms = compiler_messages(&msgs);
    let json = run_in(Some(dir.path()), &["check", "--format", "json"]).json();
    assert_eq!(cms.len(), json["findings"].as_array().unwrap().len());
    assert!(cms.len() >= 3, "{}", out.stdout);
    let manifest = dir.path().join("Cargo.toml").canonicalize().unwrap();
    for cm in &cms {
        assert!(
            cm.package_id.repr.starts_with("path+file:///")
                && cm.package_id.repr.ends_with("#multi@0.3.1"),
            "{}",
            cm.package_id.repr
        );
        assert_eq!(cm.target.name, "multi");
        assert!(cm.target.is_lib());
        assert_eq!(cm.target.edition, cargo_metadata::Edition::E2021);
        assert!(cm.target.src_path.ends_with("src/lib.rs"));
        let code = cm.message.code.as_ref().expect("a code");
        assert!(code.code.starts_with("isolate::"), "{}", code.code);
        let rule = code.code.trim_start_matches("isolate::");
        let doc = isolate_lint::rules::lookup(rule).unwrap().doc;
        assert_eq!(code.explanation.as_deref(), Some(doc));
        let p = primary(&cm.message.spans);
        assert_eq!(p.file_name, "src/lib.rs");
        assert!(
            cm.message
                .rendered
                .as_deref()
                .is_some_and(|r| r.contains(&code.code))
        );
        assert!(
            cm.message
                .children
                .iter()
                .any(|c| c.level == DiagnosticLevel::Help),
            "help as a child: {:#?}",
            cm.message.children
        );
    }
    // The manifest path of the lines is the package's.
    let raw: serde_json::Value = serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(
        Path::new(raw["manifest_path"].as_str().unwrap())
            .canonicalize()
            .unwrap(),
        manifest
    );
    assert_eq!(raw["reason"], "compiler-message");
}

#[test]
fn spans_count_bytes_and_characters_like_rustc() {
    let dir = crate_dir();
    let out = run_in(Some(dir.path()), &["check", "--message-format", "json"]);
    let msgs = messages(&out.stdout);
    let cms = compiler_messages(&msgs);
    let counter = cms
        .iter()
        .find(|c| c.message.message.contains("COUNTER"))
        .expect("the static mut");
    assert_eq!(counter.message.level, DiagnosticLevel::Error);
    let span = primary(&counter.message.spans);
    let byte = LIB.find("COUNTER").unwrap();
    let line_start = LIB[..byte].rfind('\n').unwrap() + 1;
    let chars_before = LIB[line_start..byte].chars().count();
    assert_ne!(
        chars_before,
        byte - line_start,
        "the line has multi-byte characters"
    );
    assert_eq!(
        (span.byte_start as usize, span.byte_end as usize),
        (byte, byte + 7)
    );
    assert_eq!(
        &LIB[span.byte_start as usize..span.byte_end as usize],
        "COUNTER"
    );
    assert_eq!((span.line_start, span.line_end), (2, 2));
    assert_eq!(span.column_start, chars_before + 1);
    assert_eq!(span.column_end, chars_before + 8);
    let line = &span.text[0];
    assert_eq!(line.text, LIB.lines().nth(1).unwrap());
    assert_eq!(
        (line.highlight_start, line.highlight_end),
        (span.column_start, span.column_end)
    );
    assert_eq!(span.label.as_deref(), Some("static_mut: u32"));
    // The accessor: its related global is a labelled secondary span.
    let accessor = cms
        .iter()
        .find(|c| c.message.spans.len() > 1)
        .expect("an accessor with a related span");
    let secondary = accessor
        .message
        .spans
        .iter()
        .find(|s| !s.is_primary)
        .unwrap();
    assert_eq!(
        &LIB[secondary.byte_start as usize..secondary.byte_end as usize],
        "REGISTRY"
    );
    assert!(secondary.label.is_some());
    // The unused suppression carries its removal as a suggestion rust-analyzer can apply.
    let unused = cms
        .iter()
        .find(|c| c.message.code.as_ref().unwrap().code == "isolate::unused_suppression");
    if let Some(unused) = unused {
        let fix = unused
            .message
            .children
            .iter()
            .flat_map(|c| &c.spans)
            .find(|s| s.suggested_replacement.is_some());
        if let Some(fix) = fix {
            assert!(fix.suggestion_applicability.is_some());
            assert!(fix.byte_end as usize <= LIB.len());
        }
    }
}

#[test]
fn fail_on_sets_build_finished() {
    let dir = crate_dir();
    let out = run_in(
        Some(dir.path()),
        &["check", "--message-format=json", "--fail-on", "never"],
    );
    out.assert_code(0);
    assert_eq!(finished(&messages(&out.stdout)), [true]);
    let clean = temp_tree(&[
        ("Cargo.toml", "[package]\nname = \"c\"\n"),
        ("src/lib.rs", "pub fn f() {}\n"),
    ]);
    let out = run_in(Some(clean.path()), &["check", "--message-format=json"]);
    out.assert_code(0);
    let msgs = messages(&out.stdout);
    assert_eq!(msgs.len(), 1);
    assert_eq!(finished(&msgs), [true]);
}

#[test]
fn execution_path_steps_are_children_with_spans() {
    use isolate_lint::report::{Renderer, rustc::RustcJson};
    let (ws, report) = common::report_with_execution_path();
    let mut out = Vec::new();
    RustcJson::default()
        .render(&report, ws.sources(), &mut out)
        .unwrap();
    let msgs = messages(&String::from_utf8(out).unwrap());
    let cm = compiler_messages(&msgs)[0];
    let steps: Vec<(&str, &str, u32)> = cm
        .message
        .children
        .iter()
        .filter(|c| !c.spans.is_empty())
        .map(|c| {
            let s = &c.spans[0];
            (c.message.as_str(), s.file_name.as_str(), s.byte_start)
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("request entry point `start_run`", "src/api.rs", 13),
            ("which calls `record`", "src/lib.rs", 50),
        ]
    );
}

#[test]
fn with_cargo_check_forwards_the_compiler_and_ends_once() {
    let dir = temp_tree(&[
        (
            "Cargo.toml",
            "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
        ),
        (
            "src/lib.rs",
            "pub fn f() { let unused_here = 1; }\npub static mut HITS: u32 = 0;\n",
        ),
    ]);
    let target = dir.path().join("target");
    let target = target.to_str().unwrap();
    let out = run_env(
        Some(dir.path()),
        &["check", "--message-format=json", "--with-cargo-check"],
        &[
            ("CARGO_TARGET_DIR", Some(target)),
            ("CARGO_NET_OFFLINE", Some("true")),
            ("RUSTFLAGS", None),
        ],
    );
    out.assert_code(1);
    let msgs = messages(&out.stdout);
    let codes: Vec<String> = compiler_messages(&msgs)
        .iter()
        .filter_map(|c| c.message.code.as_ref().map(|c| c.code.clone()))
        .collect();
    assert!(
        codes.contains(&"unused_variables".to_string()),
        "{codes:?}\n{}",
        out.stdout
    );
    assert!(
        codes.contains(&"isolate::static_mut".to_string()),
        "{codes:?}"
    );
    assert_eq!(finished(&msgs), [false], "one build-finished, ours, last");
    assert!(matches!(msgs.last(), Some(Message::BuildFinished(_))));
    // A compile error fails the build even when the linter finds nothing.
    std::fs::write(
        dir.path().join("src/lib.rs"),
        "pub fn f() -> u8 { \"no\" }\n",
    )
    .unwrap();
    let out = run_env(
        Some(dir.path()),
        &["check", "--message-format=json", "--with-cargo-check"],
        &[
            ("CARGO_TARGET_DIR", Some(target)),
            ("CARGO_NET_OFFLINE", Some("true")),
        ],
    );
    out.assert_code(1);
    let msgs = messages(&out.stdout);
    assert!(
        compiler_messages(&msgs)
            .iter()
            .any(|c| c.message.level == DiagnosticLevel::Error)
    );
    assert_eq!(finished(&msgs), [false]);
    // Without the JSON format the flag is refused.
    run_in(Some(dir.path()), &["check", "--with-cargo-check"]).assert_code(2);
}
