//! What a user sees at the terminal: which stream gets what, colour, progress, one vocabulary
//! for levels, rule ids with or without `isolate::`, did-you-mean, flag order, normalised types.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Run, run, run_env, run_in, s, str_field, temp_tree};

const ONE_ERROR: &str = "pub static mut COUNTER: u32 = 0;\n";
const ONE_WARNING: &str =
    "use std::sync::atomic::AtomicU64;\npub static HITS: AtomicU64 = AtomicU64::new(0);\n";

fn has_ansi(text: &str) -> bool {
    text.contains('\u{1b}')
}

/// Runs the binary under a pseudo-terminal (util-linux `script`), stdout and stderr both on
/// it; returns everything the terminal received.
fn in_terminal(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut line = format!("'{}'", common::bin().display());
    for a in args {
        line.push_str(&format!(" '{a}'"));
    }
    let mut cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c", &line, "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("`script` (util-linux, in every Debian) runs the binary under a terminal");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---------------------------------------------------------------- streams

#[test]
fn findings_and_summary_go_to_stdout_tool_errors_to_stderr() {
    let dir = temp_tree(&[("src/lib.rs", ONE_ERROR), ("src/bad.rs", "fn broken( {\n")]);
    let out = run(&["check", s(dir.path())]);
    out.assert_code(1);
    assert!(out.stdout.contains("COUNTER"), "{}", out.stdout);
    assert!(
        out.stdout.contains("1 error, 0 warnings in 1 file"),
        "{}",
        out.stdout
    );
    // Paths are shown from the current directory: this temp dir is outside it.
    let bad = format!(
        "warning: could not lint {}/src/bad.rs: parse error",
        s(dir.path())
    );
    assert!(out.stderr.starts_with(&bad), "{}", out.stderr);
    assert!(!out.stdout.contains("could not lint"), "{}", out.stdout);

    for (args, needle) in [
        (
            vec!["check", "/no/such/dir"],
            "error: path not found: /no/such/dir",
        ),
        (
            vec!["check", "--deny", "static_mutt", s(dir.path())],
            "error: unknown rule `static_mutt`; did you mean `static_mut`?",
        ),
        (
            vec!["explain", "lazy_singelton"],
            "error: unknown rule `lazy_singelton`; did you mean `lazy_singleton`?",
        ),
        (
            vec!["check", "--format", "xml", s(dir.path())],
            "error: invalid value 'xml'",
        ),
    ] {
        let out = run(&args);
        out.assert_code(2);
        assert!(
            out.stdout.is_empty(),
            "{args:?} wrote to stdout: {}",
            out.stdout
        );
        assert!(out.stderr.starts_with(needle), "{args:?}: {}", out.stderr);
    }

    let broken = temp_tree(&[("src/lib.rs", "fn broken( {\n")]);
    let out = run(&["check", s(broken.path())]);
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("error: none of the 1 .rs files found could be parsed"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("0 files"), "{}", out.stdout);
}

// ---------------------------------------------------------------- colour

#[test]
fn colour_follows_the_flag_then_no_color_then_clicolor_force() {
    let dir = temp_tree(&[("src/lib.rs", ONE_ERROR)]);
    let path = s(dir.path());
    let human = |extra: &[&str], env: &[(&str, Option<&str>)]| -> Run {
        let mut args = vec!["check"];
        args.extend_from_slice(extra);
        args.push(path);
        run_env(None, &args, env)
    };
    let unset = [("NO_COLOR", None), ("CLICOLOR_FORCE", None)];
    // Piped: no colour unless asked for.
    assert!(!has_ansi(&human(&[], &unset).stdout));
    assert!(has_ansi(&human(&["--color", "always"], &unset).stdout));
    assert!(!has_ansi(
        &human(&["--color", "never"], &[("CLICOLOR_FORCE", Some("1"))]).stdout
    ));
    assert!(has_ansi(
        &human(&[], &[("NO_COLOR", None), ("CLICOLOR_FORCE", Some("1"))]).stdout
    ));
    assert!(!has_ansi(
        &human(&[], &[("NO_COLOR", None), ("CLICOLOR_FORCE", Some("0"))]).stdout
    ));
    // NO_COLOR counts only when it is not empty.
    assert!(!has_ansi(
        &human(
            &[],
            &[("NO_COLOR", Some("1")), ("CLICOLOR_FORCE", Some("1"))]
        )
        .stdout
    ));
    assert!(has_ansi(
        &human(
            &[],
            &[("NO_COLOR", Some("")), ("CLICOLOR_FORCE", Some("1"))]
        )
        .stdout
    ));
    assert!(has_ansi(
        &human(&["--color", "always"], &[("NO_COLOR", Some("1"))]).stdout
    ));
    // On a terminal: colour by default, none with a non-empty NO_COLOR, colour with an empty one.
    assert!(has_ansi(&in_terminal(&["check", path], &[])));
    assert!(!has_ansi(&in_terminal(
        &["check", path],
        &[("NO_COLOR", "1")]
    )));
    assert!(has_ansi(&in_terminal(
        &["check", path],
        &[("NO_COLOR", "")]
    )));
    // JSON is never coloured.
    let json = human(&["--format", "json", "--color", "always"], &unset);
    assert!(!has_ansi(&json.stdout));
    json.json();
}

// ---------------------------------------------------------------- progress

#[test]
fn progress_shows_on_a_terminal_only_for_human_output() {
    let dir = temp_tree(&[("src/lib.rs", ONE_ERROR), ("src/more.rs", ONE_WARNING)]);
    let path = s(dir.path());
    let now = [("ISOLATE_PROGRESS_DELAY_MS", "0"), ("NO_COLOR", "1")];
    let shown = in_terminal(&["check", path], &now);
    assert!(
        shown.contains("linting"),
        "no progress on a terminal:\n{shown}"
    );
    assert!(shown.contains("1 error, 1 warning in 2 files"), "{shown}");
    // Machine formats and --quiet: none, even on a terminal.
    let json = in_terminal(&["check", "--format", "json", path], &now);
    assert!(!json.contains("linting"), "{json}");
    assert!(json.contains("\"version\": 1"), "{json}");
    assert!(!in_terminal(&["check", "--quiet", path], &now).contains("linting"));
    // Piped: none.
    let piped = run_env(
        None,
        &["check", path],
        &[("ISOLATE_PROGRESS_DELAY_MS", Some("0"))],
    );
    assert!(!piped.stderr.contains("linting"), "{}", piped.stderr);
    // A fast scan under the default delay (about a second): none.
    let quick = in_terminal(&["check", path], &[("NO_COLOR", "1")]);
    assert!(!quick.contains("linting"), "{quick}");
}

// ---------------------------------------------------------------- levels and rule ids

fn levels_of(out: &Run) -> Vec<(String, String)> {
    out.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (str_field(f, "rule"), str_field(f, "level")))
        .collect()
}

#[test]
fn one_vocabulary_for_levels() {
    let out = run(&["rules"]);
    out.assert_code(0);
    for line in out.stdout.lines() {
        let level = line.split_whitespace().nth(1).unwrap_or_default();
        assert!(["deny", "warn"].contains(&level), "`{line}`");
    }
    // `error`/`warning` are accepted wherever a level is written.
    let dir = temp_tree(&[
        ("src/a.rs", ONE_ERROR),
        ("src/b.rs", ONE_WARNING),
        (
            "isolate.toml",
            "[rules]\nstatic_mut = \"warning\"\n\"isolate::interior_mutable_static\" = \"error\"\n",
        ),
    ]);
    let out = run(&["check", "--format", "json", s(dir.path())]);
    assert_eq!(
        levels_of(&out),
        [
            ("static_mut".into(), "warning".into()),
            ("interior_mutable_static".into(), "error".into())
        ]
    );
    let bad = temp_tree(&[
        ("src/a.rs", ONE_ERROR),
        ("isolate.toml", "[rules]\nstatic_mut = \"fatal\"\n"),
    ]);
    let out = run(&["check", s(bad.path())]);
    out.assert_code(2);
    assert!(out.stderr.contains("`fatal`"), "{}", out.stderr);
    assert!(out.stderr.contains("`deny` (or `error`)"), "{}", out.stderr);
}

#[test]
fn rule_ids_with_or_without_the_prefix_shown_in_output() {
    let dir = temp_tree(&[("src/a.rs", ONE_ERROR), ("src/b.rs", ONE_WARNING)]);
    let out = run(&[
        "check",
        "--format",
        "json",
        "--deny",
        "isolate::interior_mutable_static",
        s(dir.path()),
    ]);
    assert_eq!(
        levels_of(&out),
        [
            ("static_mut".into(), "error".into()),
            ("interior_mutable_static".into(), "error".into())
        ]
    );
    let explain = run(&["explain", "isolate::static_mut"]);
    explain.assert_code(0);
    assert!(
        explain.stdout.starts_with("# static_mut"),
        "{}",
        explain.stdout
    );
    // Human output names rules with the prefix.
    let human = run(&["check", s(dir.path())]);
    assert!(
        human.stdout.contains("isolate::static_mut"),
        "{}",
        human.stdout
    );
}

#[test]
fn later_level_flags_override_earlier_ones() {
    let dir = temp_tree(&[("src/a.rs", ONE_ERROR), ("src/b.rs", ONE_WARNING)]);
    let levels = |flags: &[&str]| {
        let mut args = vec!["check", "--format", "json"];
        args.extend_from_slice(flags);
        args.push(s(dir.path()));
        levels_of(&run(&args))
    };
    let pair = |a: &str, b: &str| -> Vec<(String, String)> {
        let mut v = Vec::new();
        if !a.is_empty() {
            v.push(("static_mut".to_string(), a.to_string()));
        }
        if !b.is_empty() {
            v.push(("interior_mutable_static".to_string(), b.to_string()));
        }
        v
    };
    assert_eq!(
        levels(&["--deny", "all", "--allow", "static_mut"]),
        pair("", "error")
    );
    assert_eq!(
        levels(&["--allow", "static_mut", "--deny", "all"]),
        pair("error", "error")
    );
    assert_eq!(
        levels(&["-A", "all", "-W", "static_mut"]),
        pair("warning", "")
    );
    assert_eq!(levels(&["-W", "static_mut", "-A", "all"]), pair("", ""));
    // `error`/`warning` are the flags' synonyms too.
    assert_eq!(
        levels(&["--warning", "all", "--error", "static_mut"]),
        pair("error", "warning")
    );
    assert_eq!(
        levels(&[
            "--warn",
            "static_mut",
            "--deny",
            "static_mut",
            "--warn",
            "interior_mutable_static"
        ]),
        pair("error", "warning")
    );
}

// ---------------------------------------------------------------- suppressions and types

#[test]
fn unknown_rule_ids_in_suppressions_get_a_did_you_mean_and_a_fix() {
    let source = "// isolate: allow(static_mut, interior_mutable_statik) -- boot-time only\n\
                  pub static mut COUNTER: u32 = 0;\n";
    let dir = temp_tree(&[("src/lib.rs", source)]);
    let out = run(&["check", "--format", "json", s(dir.path())]);
    let doc = out.json();
    let f = &doc["findings"][0];
    assert_eq!(f["rule"], "unused_suppression", "{doc}");
    assert!(
        str_field(f, "message")
            .contains("`interior_mutable_statik` (did you mean `interior_mutable_static`?)"),
        "{doc}"
    );
    assert_eq!(
        doc["suppressed"][0]["item"], "COUNTER",
        "the known id still suppresses: {doc}"
    );
    // The fix, applied, silences the finding.
    let edit = &f["fix"]["edits"][0];
    assert_eq!(f["fix"]["applicability"], "maybe_incorrect");
    let (a, b) = (
        edit["byte_start"].as_u64().unwrap() as usize,
        edit["byte_end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&source[a..b], "interior_mutable_statik");
    let fixed = format!(
        "{}{}{}",
        &source[..a],
        str_field(edit, "replacement"),
        &source[b..]
    );
    std::fs::write(dir.path().join("src/lib.rs"), &fixed).unwrap();
    let doc = run(&["check", "--format", "json", s(dir.path())]).json();
    assert!(
        doc["findings"].as_array().unwrap().is_empty(),
        "{fixed}\n{doc}"
    );
}

#[test]
fn an_unused_suppression_comes_with_a_fix_that_removes_it() {
    let source = "// isolate: allow(static_mut) -- stale\nconst LIMIT: u32 = 4;\npub fn f() -> u32 { LIMIT }\n";
    let dir = temp_tree(&[("src/lib.rs", source)]);
    let doc = run(&["check", "--format", "json", s(dir.path())]).json();
    let fix = &doc["findings"][0]["fix"];
    assert_eq!(fix["applicability"], "machine_applicable", "{doc}");
    let edit = &fix["edits"][0];
    let (a, b) = (
        edit["byte_start"].as_u64().unwrap() as usize,
        edit["byte_end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&source[a..b], "// isolate: allow(static_mut) -- stale\n");
}

#[test]
fn types_print_normalised() {
    let dir = temp_tree(&[(
        "src/lib.rs",
        "use std::collections::HashMap;\nuse std::sync::{LazyLock, RwLock};\npub struct Options;\n\
         pub static OPTIONS: LazyLock<\n    RwLock<\n        HashMap<String, Options>, // by tenant\n    >,\n> = LazyLock::new(Default::default);\n",
    )]);
    let doc = run(&["check", "--format", "json", s(dir.path())]).json();
    assert_eq!(
        doc["findings"][0]["type"], "LazyLock<RwLock<HashMap<String, Options>>>",
        "{doc}"
    );
    assert!(
        str_field(&doc["findings"][0], "message")
            .contains("`LazyLock<RwLock<HashMap<String, Options>>>`"),
        "{doc}"
    );
}

#[test]
fn a_file_named_in_a_subdirectory_is_shown_relative_to_the_current_directory() {
    let dir = temp_tree(&[("crates/api/src/lib.rs", ONE_ERROR)]);
    let out = run_in(Some(dir.path()), &["check", "crates/api/src/lib.rs"]);
    out.assert_code(1);
    assert!(
        out.stdout.contains("crates/api/src/lib.rs:1:16"),
        "{}",
        out.stdout
    );
    let outside = temp_tree(&[]);
    let out = run_in(
        Some(outside.path()),
        &["check", s(&dir.path().join("crates/api/src/lib.rs"))],
    );
    let shown = Path::new(s(dir.path())).join("crates/api/src/lib.rs");
    assert!(
        out.stdout.contains(&format!("{}:1:16", shown.display())),
        "{}",
        out.stdout
    );
}

#[test]
fn an_accessor_points_at_its_global_in_another_file() {
    let dir = temp_tree(&[
        ("Cargo.toml", "[package]\nname = \"app\"\n"),
        ("src/lib.rs", "mod state;\nmod bridge;\n"),
        (
            "src/state.rs",
            "use std::sync::{Mutex, OnceLock};\npub struct Bridge { peers: Mutex<Vec<u64>> }\n\
             pub static BRIDGE: OnceLock<Bridge> = OnceLock::new();\n",
        ),
        (
            "src/bridge.rs",
            "use crate::state::{Bridge, BRIDGE};\n\
             pub fn instance() -> &'static Bridge {\n    BRIDGE.get_or_init(|| todo!())\n}\n",
        ),
    ]);
    let doc = run_in(Some(dir.path()), &["check", "--format", "json"]).json();
    let accessor = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["item"] == "instance")
        .unwrap_or_else(|| panic!("no accessor finding: {doc}"));
    assert_eq!(accessor["rule"], "lazy_singleton");
    assert_eq!(accessor["path"], "src/bridge.rs");
    let related = &accessor["related"][0];
    assert_eq!(related["path"], "src/state.rs", "{accessor}");
    assert_eq!(
        (related["line"].as_u64(), related["column"].as_u64()),
        (Some(3), Some(12))
    );
    assert_eq!(related["message"], "`BRIDGE` is declared here");
    // Human output shows both places.
    let human = run_in(Some(dir.path()), &["check"]);
    common::assert_contains(
        &human.stdout,
        &["[src/bridge.rs:2:8]", "[src/state.rs:3:12]"],
    );
}
