//! Command-line behaviour of the real `cargo-isolate` binary: exit codes, JSON shape,
//! output paths, level overrides, subcommands and robustness on hostile input.
//!
//! There is deliberately no unreadable-file (chmod 000) test: the tests run as root, who
//! can read such a file anyway, so the test would prove nothing.

mod common;

use std::collections::BTreeSet;

use common::{Brief, briefs, error_files, run, run_env, run_in, s, str_field, temp_tree};
use serde_json::Value;

/// Every rule id: the registry's.
fn all_rules() -> Vec<&'static str> {
    isolate_lint::rules::ALL.iter().map(|r| r.id).collect()
}

const CLEAN: &str = "pub struct Ctx { pub user: u64 }\n\
                     pub const LIMIT: u32 = 4;\n\
                     static NAME: &str = \"agent\";\n\
                     pub fn handle(ctx: &Ctx) -> u64 { ctx.user + u64::from(LIMIT) + NAME.len() as u64 }\n";

const ONE_WARNING: &str = "use std::sync::atomic::AtomicU64;\n\
                           pub static HITS: AtomicU64 = AtomicU64::new(0);\n";

const ONE_ERROR: &str = "pub static mut COUNTER: u32 = 0;\n";

/// `check --format json` on `dir`.
fn check_json(dir: &std::path::Path, extra: &[&str]) -> common::Run {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(s(dir));
    run(&args)
}

fn rules_of(list: &[Brief]) -> Vec<(&str, &str)> {
    list.iter()
        .map(|b| (b.rule.as_str(), b.level.as_str()))
        .collect()
}

// ---------------------------------------------------------------- exit codes

#[test]
fn clean_directory_exits_0_with_no_findings() {
    let dir = temp_tree(&[("src/lib.rs", CLEAN)]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(doc["findings"], Value::Array(vec![]), "{doc}");
    assert_eq!(doc["errors"], Value::Array(vec![]), "{doc}");
    assert_eq!(doc["summary"]["files_scanned"], 1, "{doc}");
    assert_eq!(doc["summary"]["errors"], 0, "{doc}");
    assert_eq!(doc["summary"]["warnings"], 0, "{doc}");
}

#[test]
fn warnings_alone_exit_0() {
    let dir = temp_tree(&[("src/lib.rs", ONE_WARNING)]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(
        rules_of(&briefs(&doc, "findings")),
        vec![("interior_mutable_static", "warning")]
    );
    assert_eq!(doc["summary"]["warnings"], 1, "{doc}");
}

#[test]
fn error_level_finding_exits_1() {
    let dir = temp_tree(&[("src/lib.rs", ONE_ERROR)]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(
        rules_of(&briefs(&doc, "findings")),
        vec![("static_mut", "error")]
    );
    assert_eq!(doc["summary"]["errors"], 1, "{doc}");
}

#[test]
fn suppressed_error_does_not_fail_the_run() {
    let dir = temp_tree(&[(
        "src/lib.rs",
        "// isolate: allow(static_mut) -- written once before the server starts\n\
         pub static mut COUNTER: u32 = 0;\n",
    )]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(0);
    let doc = out.json();
    assert!(briefs(&doc, "findings").is_empty(), "{doc}");
    let suppressed = &doc["suppressed"][0];
    assert_eq!(suppressed["rule"], "static_mut", "{doc}");
    assert_eq!(suppressed["item"], "COUNTER", "{doc}");
    assert_eq!(suppressed["line"], 2, "{doc}");
    assert!(
        str_field(suppressed, "reason").contains("written once before the server starts"),
        "{doc}"
    );
    assert_eq!(doc["summary"]["suppressed"], 1, "{doc}");
}

#[test]
fn bad_config_exits_2_and_points_into_the_file() {
    let dir = temp_tree(&[
        ("src/lib.rs", ONE_ERROR),
        (
            "isolate.toml",
            "include_tests = false\n\
             exclude = []\n\
             \n\
             [rules]\n\
             static_mut = \"deny\"\n\
             lazy_singleton = \"warn\"\n\
             thread_local_state = \"sometimes\"\n",
        ),
    ]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("isolate.toml"), "{}", out.stderr);
    assert!(out.stderr.contains("sometimes"), "{}", out.stderr);
    // The offending value is on line 7; accept the usual ways of printing a position.
    let positions = ["line 7", ":7:", "7:", "7 |", "7 │"];
    assert!(
        positions.iter().any(|p| out.stderr.contains(p)),
        "stderr does not point at line 7:\n{}",
        out.stderr
    );
    assert!(out.stdout.trim().is_empty() || !out.stdout.contains("\"findings\""));
}

#[test]
fn unknown_rule_in_deny_exits_2() {
    let dir = temp_tree(&[("src/lib.rs", ONE_ERROR)]);
    let out = check_json(dir.path(), &["--deny", "no_such_rule"]);
    out.assert_code(2);
    assert!(out.stderr.contains("no_such_rule"), "{}", out.stderr);
}

#[test]
fn unknown_rule_in_allow_and_warn_exits_2() {
    let dir = temp_tree(&[("src/lib.rs", ONE_ERROR)]);
    check_json(dir.path(), &["--allow", "static_mutt"]).assert_code(2);
    check_json(dir.path(), &["--warn", "Static_Mut"]).assert_code(2);
}

#[test]
fn directory_without_rust_files_exits_2() {
    let dir = temp_tree(&[
        ("README.md", "# no code here\n"),
        ("src/main.py", "print(1)\n"),
    ]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(2);
    assert!(!out.stderr.trim().is_empty(), "exit 2 without a message");
}

#[test]
fn nonexistent_path_exits_2() {
    let dir = temp_tree(&[]);
    let missing = dir.path().join("does/not/exist");
    let out = check_json(&missing, &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("does/not/exist") || out.stderr.contains("exist"));
}

#[test]
fn missing_config_file_exits_2() {
    let dir = temp_tree(&[("src/lib.rs", CLEAN)]);
    let missing = dir.path().join("nope.toml");
    check_json(dir.path(), &["--config", s(&missing)]).assert_code(2);
}

#[test]
fn invalid_format_is_a_usage_error() {
    let dir = temp_tree(&[("src/lib.rs", CLEAN)]);
    check_json(dir.path(), &["--format", "xml"]).assert_code(2);
}

// ---------------------------------------------------------------- JSON shape

#[test]
fn json_has_exactly_the_documented_keys() {
    let dir = temp_tree(&[
        (
            "src/lib.rs",
            "use std::sync::atomic::AtomicU64;\n\
             pub static mut A: u32 = 0;\n\
             // isolate: allow(interior_mutable_static) -- metrics only\n\
             pub static B: AtomicU64 = AtomicU64::new(0);\n",
        ),
        ("src/bad.rs", "fn broken( {\n"),
    ]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(1);
    let doc = out.json();
    let keys = |v: &Value| -> BTreeSet<String> {
        v.as_object()
            .unwrap_or_else(|| panic!("not an object: {v}"))
            .keys()
            .cloned()
            .collect()
    };
    let set =
        |names: &[&str]| -> BTreeSet<String> { names.iter().map(|n| n.to_string()).collect() };
    assert_eq!(
        keys(&doc),
        set(&[
            "version",
            "findings",
            "suppressed",
            "baselined",
            "baseline_absent",
            "errors",
            "entry_points",
            "summary"
        ])
    );
    assert_eq!(doc["version"], 1);
    assert_eq!(
        keys(&doc["summary"]),
        set(&[
            "files_scanned",
            "errors",
            "warnings",
            "notes",
            "suppressed",
            "entry_points",
            "reached",
            "baselined",
            "duration_ms"
        ])
    );
    // Keys are only ever added: `path`, `related`, `notes`, `fix`, `item_path`, `baselined`,
    // `on_execution_path` and `execution_path` came after the first release, in the same
    // `version: 1`.
    let finding_keys = [
        "rule",
        "level",
        "file",
        "path",
        "related",
        "notes",
        "fix",
        "line",
        "column",
        "end_line",
        "end_column",
        "item",
        "item_path",
        "type",
        "message",
        "help",
        "on_execution_path",
        "execution_path",
        "baselined",
    ];
    assert_eq!(keys(&doc["findings"][0]), set(&finding_keys), "{doc}");
    let mut suppressed_keys = finding_keys.to_vec();
    suppressed_keys.push("reason");
    assert_eq!(keys(&doc["suppressed"][0]), set(&suppressed_keys), "{doc}");
    assert_eq!(
        keys(&doc["errors"][0]),
        set(&["file", "path", "message"]),
        "{doc}"
    );
    for key in [
        "files_scanned",
        "errors",
        "warnings",
        "notes",
        "suppressed",
        "entry_points",
        "reached",
        "duration_ms",
    ] {
        assert!(
            doc["summary"][key].is_u64(),
            "summary.{key} is not a count: {doc}"
        );
    }
    assert_eq!(doc["summary"]["errors"], 1, "{doc}");
    assert_eq!(doc["summary"]["warnings"], 0, "{doc}");
    assert_eq!(doc["summary"]["suppressed"], 1, "{doc}");
    assert!(!str_field(&doc["findings"][0], "message").is_empty());
    assert!(!str_field(&doc["findings"][0], "help").is_empty());
    assert!(!str_field(&doc["errors"][0], "message").is_empty());
}

#[test]
fn position_points_at_the_name_and_type_is_reported() {
    let dir = temp_tree(&[(
        "src/engine.rs",
        "use std::collections::HashMap;\n\
         use std::sync::Mutex;\n\
         use once_cell::sync::Lazy;\n\
         pub type RunId = u64;\n\
         pub struct Run;\n\
         \n\
         pub static ACTIVE_RUNS: Lazy<Mutex<HashMap<RunId, Run>>> = Lazy::new(Default::default);\n",
    )]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(1);
    let doc = out.json();
    let finding = &doc["findings"][0];
    assert_eq!(finding["rule"], "shared_mutable_map", "{doc}");
    assert_eq!(finding["level"], "error", "{doc}");
    assert_eq!(finding["file"], "src/engine.rs", "{doc}");
    assert_eq!(finding["item"], "ACTIVE_RUNS", "{doc}");
    // `pub static ACTIVE_RUNS`: the name starts at column 12 (1-based) and spans 11 chars.
    assert_eq!(finding["line"], 7, "{doc}");
    assert_eq!(finding["column"], 12, "{doc}");
    assert_eq!(finding["end_line"], 7, "{doc}");
    assert_eq!(finding["end_column"], 23, "{doc}");
    assert_eq!(finding["type"], "Lazy<Mutex<HashMap<RunId, Run>>>", "{doc}");
}

#[test]
fn findings_are_sorted_by_file_line_column() {
    let dir = temp_tree(&[
        (
            "src/z.rs",
            "pub static mut Z2: u8 = 0;\npub static mut Z1: u8 = 0;\n",
        ),
        (
            "src/a.rs",
            "fn f() {}\npub static mut A3: u8 = 0; pub static mut A4: u8 = 0;\n\
             pub static mut A1: u8 = 0;\n",
        ),
        ("src/m/b.rs", "pub static mut B: u8 = 0;\n"),
        ("lib.rs", "pub static mut ROOT: u8 = 0;\n"),
    ]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(1);
    let doc = out.json();
    let got: Vec<(String, u64, u64, String)> = doc["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                str_field(f, "file"),
                f["line"].as_u64().expect("line"),
                f["column"].as_u64().expect("column"),
                str_field(f, "item"),
            )
        })
        .collect();
    let items: Vec<&str> = got.iter().map(|g| g.3.as_str()).collect();
    assert_eq!(
        items,
        vec!["ROOT", "A3", "A4", "A1", "B", "Z2", "Z1"],
        "{got:?}"
    );
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(got, sorted);
}

#[test]
fn paths_are_relative_to_the_root_with_forward_slashes() {
    let dir = temp_tree(&[("src/handlers/api/v1.rs", ONE_ERROR), ("src/lib.rs", CLEAN)]);
    let doc = check_json(dir.path(), &[]).json();
    assert_eq!(
        briefs(&doc, "findings")
            .iter()
            .map(|b| b.file.as_str())
            .collect::<Vec<_>>(),
        vec!["src/handlers/api/v1.rs"]
    );

    // A file PATH: the root is its parent, so the path is just the file name.
    let file = dir.path().join("src/handlers/api/v1.rs");
    let out = run(&["check", "--format", "json", s(&file)]);
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(doc["findings"][0]["file"], "v1.rs", "{doc}");
    assert_eq!(doc["summary"]["files_scanned"], 1, "{doc}");

    // A relative PATH from inside the tree: no `./` prefix, no absolute path.
    let out = run_in(Some(dir.path()), &["check", "--format", "json", "."]);
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(
        doc["findings"][0]["file"], "src/handlers/api/v1.rs",
        "{doc}"
    );

    let out = run_in(
        Some(&dir.path().join("src")),
        &["check", "--format", "json", "handlers"],
    );
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(doc["findings"][0]["file"], "api/v1.rs", "{doc}");
}

// ---------------------------------------------------------------- human output

/// Parses `N errors, M warnings in F files (S suppressed) in T s` (singulars accepted).
fn summary_counts(output: &str) -> Option<[u64; 4]> {
    output.lines().find_map(|line| {
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
            .filter(|w| !w.is_empty())
            .collect();
        let at = words
            .windows(2)
            .position(|w| w[1] == "errors" || w[1] == "error")?;
        let w = &words[at..];
        if w.len() < 10
            || !w[3].starts_with("warning")
            || w[4] != "in"
            || !w[6].starts_with("file")
            || w[8] != "suppressed"
            || w[9] != "in"
        {
            return None;
        }
        Some([
            w[0].parse().ok()?,
            w[2].parse().ok()?,
            w[5].parse().ok()?,
            w[7].parse().ok()?,
        ])
    })
}

#[test]
fn summary_line_parser_accepts_the_documented_form() {
    assert_eq!(
        summary_counts("x\n2 errors, 1 warnings in 3 files (4 suppressed) in 0.01 s\n"),
        Some([2, 1, 3, 4])
    );
    assert_eq!(summary_counts("nothing to see"), None);
}

#[test]
fn human_output_names_rule_item_and_summary() {
    let dir = temp_tree(&[
        ("src/lib.rs", ONE_ERROR),
        (
            "src/metrics.rs",
            "use std::sync::atomic::AtomicU64;\n\
             pub static OPEN_SOCKETS: AtomicU64 = AtomicU64::new(0);\n\
             // isolate: allow(static_mut) -- set once at boot\n\
             pub static mut BOOTED: bool = false;\n",
        ),
    ]);
    let out = run(&["check", "--format", "human", s(dir.path())]);
    out.assert_code(1);
    let text = out.all_output();
    for needle in [
        "static_mut",
        "COUNTER",
        "interior_mutable_static",
        "OPEN_SOCKETS",
        "src/lib.rs",
        "src/metrics.rs",
    ] {
        assert!(
            text.contains(needle),
            "human output lacks `{needle}`:\n{text}"
        );
    }
    assert_eq!(
        summary_counts(&text),
        Some([1, 1, 2, 1]),
        "summary line:\n{text}"
    );
}

#[test]
fn human_is_the_default_format() {
    let dir = temp_tree(&[("src/lib.rs", ONE_ERROR)]);
    let out = run(&["check", s(dir.path())]);
    out.assert_code(1);
    assert_eq!(
        summary_counts(&out.all_output()),
        Some([1, 0, 1, 0]),
        "{}",
        out.all_output()
    );
}

#[test]
fn quiet_prints_less_and_keeps_the_exit_code() {
    let dir = temp_tree(&[("src/lib.rs", ONE_ERROR), ("src/m.rs", ONE_WARNING)]);
    let loud = run(&["check", "--format", "human", s(dir.path())]);
    let quiet = run(&["check", "--format", "human", "--quiet", s(dir.path())]);
    loud.assert_code(1);
    quiet.assert_code(1);
    assert!(
        quiet.all_output().trim().len() < loud.all_output().trim().len(),
        "--quiet printed as much as the default:\n{}",
        quiet.all_output()
    );
}

// ---------------------------------------------------------------- level overrides

fn override_tree() -> tempfile::TempDir {
    temp_tree(&[("src/a.rs", ONE_ERROR), ("src/b.rs", ONE_WARNING)])
}

#[test]
fn deny_turns_a_warning_into_an_error() {
    let dir = override_tree();
    let out = check_json(dir.path(), &["--deny", "interior_mutable_static"]);
    out.assert_code(1);
    assert_eq!(
        rules_of(&briefs(&out.json(), "findings")),
        vec![
            ("static_mut", "error"),
            ("interior_mutable_static", "error")
        ]
    );
}

#[test]
fn warn_turns_an_error_into_a_warning_and_exit_0() {
    let dir = override_tree();
    let out = check_json(dir.path(), &["--warn", "static_mut"]);
    out.assert_code(0);
    assert_eq!(
        rules_of(&briefs(&out.json(), "findings")),
        vec![
            ("static_mut", "warning"),
            ("interior_mutable_static", "warning")
        ]
    );
}

#[test]
fn allow_turns_a_rule_off_and_is_repeatable() {
    let dir = override_tree();
    let out = check_json(dir.path(), &["--allow", "static_mut"]);
    out.assert_code(0);
    assert_eq!(
        rules_of(&briefs(&out.json(), "findings")),
        vec![("interior_mutable_static", "warning")]
    );
    let out = check_json(
        dir.path(),
        &[
            "--allow",
            "static_mut",
            "--allow",
            "interior_mutable_static",
        ],
    );
    out.assert_code(0);
    assert!(briefs(&out.json(), "findings").is_empty());
}

#[test]
fn all_selects_every_rule() {
    let dir = override_tree();
    let out = check_json(dir.path(), &["--allow", "all"]);
    out.assert_code(0);
    let doc = out.json();
    assert!(briefs(&doc, "findings").is_empty(), "{doc}");

    let out = check_json(dir.path(), &["--deny", "all"]);
    out.assert_code(1);
    assert_eq!(
        rules_of(&briefs(&out.json(), "findings")),
        vec![
            ("static_mut", "error"),
            ("interior_mutable_static", "error")
        ]
    );

    let out = check_json(dir.path(), &["--warn", "all"]);
    out.assert_code(0);
    assert_eq!(
        rules_of(&briefs(&out.json(), "findings")),
        vec![
            ("static_mut", "warning"),
            ("interior_mutable_static", "warning")
        ]
    );
}

#[test]
fn command_line_overrides_the_config_file() {
    let dir = temp_tree(&[
        ("src/a.rs", ONE_ERROR),
        ("isolate.toml", "[rules]\nstatic_mut = \"allow\"\n"),
    ]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(0);
    assert!(briefs(&out.json(), "findings").is_empty());
    let out = check_json(dir.path(), &["--deny", "static_mut"]);
    out.assert_code(1);
    assert_eq!(
        rules_of(&briefs(&out.json(), "findings")),
        vec![("static_mut", "error")]
    );
}

#[test]
fn config_flag_reads_a_file_elsewhere() {
    let dir = temp_tree(&[("src/a.rs", ONE_ERROR), ("src/b.rs", ONE_WARNING)]);
    let config_dir = temp_tree(&[(
        "ci/isolate.toml",
        "[rules]\nstatic_mut = \"warn\"\ninterior_mutable_static = \"allow\"\n",
    )]);
    let config = config_dir.path().join("ci/isolate.toml");
    let out = check_json(dir.path(), &["--config", s(&config)]);
    out.assert_code(0);
    assert_eq!(
        rules_of(&briefs(&out.json(), "findings")),
        vec![("static_mut", "warning")]
    );
}

#[test]
fn jobs_flag_does_not_change_results() {
    let dir = temp_tree(&[
        ("src/a.rs", ONE_ERROR),
        ("src/b.rs", ONE_WARNING),
        ("src/c/d.rs", ONE_ERROR),
        ("src/e.rs", CLEAN),
    ]);
    let default = briefs(&check_json(dir.path(), &[]).json(), "findings");
    let one = briefs(&check_json(dir.path(), &["-j", "1"]).json(), "findings");
    let four = briefs(&check_json(dir.path(), &["--jobs", "4"]).json(), "findings");
    assert_eq!(default.len(), 3, "{default:?}");
    assert_eq!(default, one);
    assert_eq!(default, four);
}

// ---------------------------------------------------------------- subcommands

#[test]
fn cargo_subcommand_form_matches_the_direct_form() {
    let dir = override_tree();
    let direct = check_json(dir.path(), &[]);
    let via_cargo = run(&["isolate", "check", "--format", "json", s(dir.path())]);
    direct.assert_code(1);
    via_cargo.assert_code(1);
    assert_eq!(
        briefs(&direct.json(), "findings"),
        briefs(&via_cargo.json(), "findings")
    );
}

#[test]
fn rules_lists_every_rule_with_its_default_level() {
    let out = run(&["rules"]);
    out.assert_code(0);
    for rule in all_rules() {
        let line = out
            .stdout
            .lines()
            .find(|l| {
                l.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|w| w == rule)
            })
            .unwrap_or_else(|| panic!("`rules` does not list {rule}:\n{}", out.stdout));
        let expected = if rule == "static_mut" || rule == "shared_mutable_map" {
            ["error", "deny"]
        } else {
            ["warn", "warning"]
        };
        assert!(
            expected.iter().any(|level| line.contains(level)),
            "`{line}` does not show the default level of {rule}"
        );
    }
}

#[test]
fn explain_prints_the_rule_documentation() {
    let out = run(&["explain", "static_mut"]);
    out.assert_code(0);
    assert!(out.stdout.contains("static mut"), "{}", out.stdout);
    assert!(
        out.stdout.len() > 200,
        "explanation is too short:\n{}",
        out.stdout
    );
    for rule in all_rules() {
        let out = run(&["explain", rule]);
        out.assert_code(0);
        assert!(!out.stdout.trim().is_empty(), "no documentation for {rule}");
    }
}

#[test]
fn explain_unknown_rule_exits_2() {
    let out = run(&["explain", "global_state"]);
    out.assert_code(2);
    assert!(out.stderr.contains("global_state"), "{}", out.stderr);
}

// ---------------------------------------------------------------- hostile input

#[test]
fn unparsable_file_is_reported_and_the_scan_continues() {
    let dir = temp_tree(&[
        ("src/a_good.rs", ONE_ERROR),
        (
            "src/broken.rs",
            "pub static mut X: u32 = 0;\npub fn f( {\n    let = ;\n",
        ),
        ("src/z_good.rs", ONE_WARNING),
    ]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(error_files(&doc), vec!["src/broken.rs"], "{doc}");
    assert!(!str_field(&doc["errors"][0], "message").is_empty());
    let found: Vec<(String, String)> = briefs(&doc, "findings")
        .into_iter()
        .map(|b| (b.file, b.rule))
        .collect();
    assert_eq!(
        found,
        vec![
            ("src/a_good.rs".to_owned(), "static_mut".to_owned()),
            (
                "src/z_good.rs".to_owned(),
                "interior_mutable_static".to_owned()
            ),
        ],
        "{doc}"
    );
}

#[test]
fn fixture_project_with_a_parse_error_still_reports_other_files() {
    let root = common::fixtures_dir().join("projects/parse_error");
    let out = check_json(&root, &[]);
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(error_files(&doc), vec!["src/broken.rs"], "{doc}");
    let files: BTreeSet<String> = briefs(&doc, "findings")
        .into_iter()
        .map(|b| b.file)
        .collect();
    assert!(
        files.contains("src/good.rs") && files.contains("src/zz_after.rs"),
        "{doc}"
    );
}

#[test]
fn non_utf8_file_is_reported_and_the_scan_continues() {
    let dir = temp_tree(&[("src/lib.rs", ONE_ERROR)]);
    let mut bytes = b"// latin-1 comment: caf".to_vec();
    bytes.extend_from_slice(&[0xE9, 0xFF, 0xFE, b'\n']);
    bytes.extend_from_slice(b"pub static mut HIDDEN: u8 = 0;\n");
    std::fs::write(dir.path().join("src/latin1.rs"), bytes).expect("write non-UTF-8 file");
    let out = check_json(dir.path(), &[]);
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(error_files(&doc), vec!["src/latin1.rs"], "{doc}");
    assert_eq!(
        briefs(&doc, "findings")
            .iter()
            .map(|b| (b.file.as_str(), b.item.as_str()))
            .collect::<Vec<_>>(),
        vec![("src/lib.rs", "COUNTER")]
    );
}

fn assert_survives_deep_nesting(source: String) {
    let dir = temp_tree(&[("src/deep.rs", &source), ("src/lib.rs", ONE_ERROR)]);
    let out = check_json(dir.path(), &[]);
    // A stack overflow kills the process by signal (code None) or aborts: both fail here.
    assert!(
        matches!(out.code, Some(0) | Some(1)),
        "deeply nested input crashed the linter: exit {:?}\nstderr:\n{}",
        out.code,
        out.stderr.chars().take(2000).collect::<String>()
    );
    let doc = out.json();
    let deep_findings = briefs(&doc, "findings")
        .into_iter()
        .filter(|b| b.file == "src/deep.rs")
        .count();
    let deep_errors = error_files(&doc)
        .iter()
        .filter(|f| *f == "src/deep.rs")
        .count();
    assert!(
        deep_findings == 0 || deep_errors == 1,
        "src/deep.rs must be either finding-free or an entry in errors: {doc}"
    );
    assert!(
        briefs(&doc, "findings")
            .iter()
            .any(|b| b.file == "src/lib.rs" && b.item == "COUNTER"),
        "the other file's finding is missing: {doc}"
    );
}

#[test]
fn deeply_nested_parentheses_do_not_crash() {
    const DEPTH: usize = 20_000;
    let mut source = String::from("pub fn deep() -> u32 {\n    ");
    source.push_str(&"(".repeat(DEPTH));
    source.push('1');
    source.push_str(&")".repeat(DEPTH));
    source.push_str("\n}\n");
    assert_survives_deep_nesting(source);
}

#[test]
fn deeply_nested_blocks_do_not_crash() {
    const DEPTH: usize = 20_000;
    let mut source = String::from("pub fn deep() {\n");
    source.push_str(&"{ ".repeat(DEPTH));
    source.push_str("let _innermost = 1;");
    source.push_str(&" }".repeat(DEPTH));
    source.push_str("\n}\n");
    assert_survives_deep_nesting(source);
}

#[test]
fn empty_and_whitespace_files_are_fine() {
    let dir = temp_tree(&[("src/empty.rs", ""), ("src/blank.rs", "\n\n   \n")]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(doc["summary"]["files_scanned"], 2, "{doc}");
    assert!(error_files(&doc).is_empty(), "{doc}");
}

// ---------------------------------------------------------------- file selection

fn scanned_items(dir: &std::path::Path, extra: &[&str]) -> Vec<String> {
    common::sorted_items(&check_json(dir, extra).json(), "findings")
}

#[test]
fn gitignored_files_are_skipped() {
    let dir = temp_tree(&[
        ("src/lib.rs", "pub static mut KEPT: u8 = 0;\n"),
        (
            "src/generated/api.rs",
            "pub static mut GENERATED: u8 = 0;\n",
        ),
        ("src/scratch.rs", "pub static mut SCRATCH: u8 = 0;\n"),
        (".gitignore", "/src/generated/\nscratch.rs\n"),
    ]);
    // `.gitignore` applies inside a git repository; an empty `.git` directory marks one.
    std::fs::create_dir(dir.path().join(".git")).expect("create .git");
    assert_eq!(scanned_items(dir.path(), &[]), vec!["KEPT"]);
}

#[test]
fn target_directories_are_skipped() {
    let dir = temp_tree(&[
        ("src/lib.rs", "pub static mut KEPT: u8 = 0;\n"),
        (
            "target/debug/build/out/gen.rs",
            "pub static mut BUILT: u8 = 0;\n",
        ),
        (
            "crates/sub/target/release/gen.rs",
            "pub static mut SUB_BUILT: u8 = 0;\n",
        ),
    ]);
    assert_eq!(scanned_items(dir.path(), &[]), vec!["KEPT"]);
}

#[test]
fn hidden_directories_are_skipped() {
    let dir = temp_tree(&[
        ("src/lib.rs", "pub static mut KEPT: u8 = 0;\n"),
        (".cache/copy.rs", "pub static mut CACHED: u8 = 0;\n"),
        ("src/.backup/old.rs", "pub static mut BACKUP: u8 = 0;\n"),
    ]);
    assert_eq!(scanned_items(dir.path(), &[]), vec!["KEPT"]);
}

#[test]
fn test_code_is_skipped_unless_include_tests() {
    let dir = temp_tree(&[
        (
            "src/lib.rs",
            "pub static mut KEPT: u8 = 0;\n\
             #[cfg(test)]\nmod tests {\n    static mut UNIT: u8 = 0;\n}\n\
             #[test]\nfn t() {\n    static mut IN_TEST: u8 = 0;\n}\n",
        ),
        ("tests/api.rs", "static mut INTEGRATION: u8 = 0;\n"),
        ("benches/b.rs", "static mut BENCH: u8 = 0;\n"),
        ("examples/e.rs", "static mut EXAMPLE: u8 = 0;\n"),
    ]);
    assert_eq!(scanned_items(dir.path(), &[]), vec!["KEPT"]);
    assert_eq!(
        scanned_items(dir.path(), &["--include-tests"]),
        vec!["BENCH", "EXAMPLE", "INTEGRATION", "IN_TEST", "KEPT", "UNIT"]
    );
}

#[test]
fn scanning_a_tests_directory_itself_lints_it() {
    // Test directories are recognised relative to the scanned root: linting `tests/`
    // directly makes it the root, so its files are ordinary files.
    let dir = temp_tree(&[("tests/api.rs", "static mut INTEGRATION: u8 = 0;\n")]);
    assert_eq!(
        scanned_items(&dir.path().join("tests"), &[]),
        vec!["INTEGRATION"]
    );
}

// ---------------------------------------------------------------- more edges

#[test]
fn default_path_is_the_current_directory() {
    let dir = temp_tree(&[("src/lib.rs", ONE_ERROR)]);
    let out = run_in(Some(dir.path()), &["check", "--format", "json"]);
    out.assert_code(1);
    assert_eq!(out.json()["findings"][0]["file"], "src/lib.rs");
}

#[test]
fn human_summary_for_a_clean_tree() {
    let dir = temp_tree(&[("src/lib.rs", CLEAN), ("src/more.rs", CLEAN)]);
    let out = run(&["check", s(dir.path())]);
    out.assert_code(0);
    assert_eq!(
        summary_counts(&out.all_output()),
        Some([0, 0, 2, 0]),
        "{}",
        out.all_output()
    );
}

#[test]
fn help_and_version_exit_0() {
    let help = run(&["--help"]);
    help.assert_code(0);
    for word in ["check", "rules", "explain"] {
        assert!(
            help.stdout.contains(word),
            "--help lacks `{word}`:\n{}",
            help.stdout
        );
    }
    let check_help = run(&["check", "--help"]);
    check_help.assert_code(0);
    for flag in [
        "--format",
        "--config",
        "--include-tests",
        "--deny",
        "--jobs",
        "--quiet",
    ] {
        assert!(
            check_help.stdout.contains(flag),
            "check --help lacks {flag}"
        );
    }
    let version = run(&["--version"]);
    version.assert_code(0);
    assert!(
        version.stdout.contains(env!("CARGO_PKG_VERSION")),
        "{}",
        version.stdout
    );
}

#[test]
fn a_file_path_that_is_not_rust_exits_2() {
    let dir = temp_tree(&[("notes.txt", "static mut X: u8 = 0;\n")]);
    check_json(&dir.path().join("notes.txt"), &[]).assert_code(2);
}

#[test]
fn crlf_line_endings_keep_line_numbers() {
    let dir = temp_tree(&[(
        "src/lib.rs",
        "// windows line endings\r\n\r\npub static mut COUNTER: u32 = 0;\r\n",
    )]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(doc["findings"][0]["line"], 3, "{doc}");
    assert_eq!(doc["findings"][0]["column"], 16, "{doc}");
    assert_eq!(doc["findings"][0]["item"], "COUNTER", "{doc}");
}

#[test]
fn byte_order_mark_is_accepted() {
    let dir = temp_tree(&[("src/lib.rs", "\u{feff}pub static mut COUNTER: u32 = 0;\n")]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(1);
    let doc = out.json();
    assert!(error_files(&doc).is_empty(), "{doc}");
    assert_eq!(doc["findings"][0]["line"], 1, "{doc}");
    assert_eq!(doc["findings"][0]["item"], "COUNTER", "{doc}");
}

#[test]
fn include_tests_flag_and_config_agree() {
    let files: &[(&str, &str)] = &[
        ("src/lib.rs", "pub static mut KEPT: u8 = 0;\n"),
        ("tests/api.rs", "static mut INTEGRATION: u8 = 0;\n"),
    ];
    let by_flag = temp_tree(files);
    let by_config = temp_tree(files);
    common::write_tree(
        by_config.path(),
        &[("isolate.toml", "include_tests = true\n")],
    );
    let expected = vec!["INTEGRATION".to_owned(), "KEPT".to_owned()];
    assert_eq!(
        scanned_items(by_flag.path(), &["--include-tests"]),
        expected
    );
    assert_eq!(scanned_items(by_config.path(), &[]), expected);
}

#[test]
fn a_lone_unparsable_file_is_an_entry_in_errors() {
    // The file goes to `errors` like any other unparsable file, but a scan in which nothing
    // could be parsed saw nothing, and a scan that sees nothing must not pass: exit 2, with
    // the full JSON report still on stdout.
    let dir = temp_tree(&[("src/lib.rs", "pub fn half_written( {\n")]);
    let out = check_json(dir.path(), &[]);
    out.assert_code(2);
    let doc = out.json();
    assert_eq!(error_files(&doc), vec!["src/lib.rs"], "{doc}");
    assert!(briefs(&doc, "findings").is_empty(), "{doc}");
}

#[test]
fn overlapping_paths_report_each_file_once() {
    let dir = temp_tree(&[
        ("src/lib.rs", "static mut A: u8 = 0;\n"),
        ("src/more.rs", "static mut B: u8 = 0;\n"),
    ]);
    let out = check_json(dir.path(), &[dir.path().join("src").to_str().unwrap()]);
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 2, "{doc}");
    assert_eq!(doc["summary"]["files_scanned"], 2, "{doc}");
}

#[test]
fn isolate_timings_prints_each_stage_on_stderr_and_changes_nothing_else() {
    let dir = temp_tree(&[
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
        ),
        (
            "src/lib.rs",
            "#[isolate::entry] fn h() { G.lock(); }\nstatic G: std::sync::Mutex<Vec<u8>> = todo!();\n",
        ),
    ]);
    let args = ["check", "--format", "json", s(dir.path())];
    let plain = run_env(None, &args, &[("ISOLATE_TIMINGS", None)]);
    let timed = run_env(None, &args, &[("ISOLATE_TIMINGS", Some("1"))]);
    let off = run_env(None, &args, &[("ISOLATE_TIMINGS", Some("0"))]);
    assert_eq!(plain.code, timed.code);
    let without_duration = |r: &common::Run| {
        let mut doc = r.json();
        doc["summary"]["duration_ms"] = Value::Null;
        doc
    };
    assert_eq!(without_duration(&plain), without_duration(&timed));
    for stage in [
        "walk and manifests",
        "read, parse and collect facts",
        "summed over threads: syn parse",
        "1 entry points; 1 of 1 functions reached",
        "reachability",
    ] {
        assert!(
            timed
                .stderr
                .lines()
                .any(|l| l.starts_with("isolate: timing") && l.contains(stage)),
            "no `{stage}` in: {}",
            timed.stderr
        );
    }
    assert!(
        !plain.stderr.contains("isolate: timing"),
        "{}",
        plain.stderr
    );
    assert!(!off.stderr.contains("isolate: timing"), "{}", off.stderr);
}
