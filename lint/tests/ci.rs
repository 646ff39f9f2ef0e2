//! The CI formats and flags of the real binary: SARIF (validated against the SARIF 2.1.0
//! schema, every document these tests produce), GitHub workflow commands (escaping of hostile
//! messages and paths), short lines, baselines (the adoption scenario, hostile baseline files),
//! `--fail-on`, cargo-style package selection on a fixture workspace, and single-file runs
//! giving the findings of a whole-workspace run (what the pre-commit hook relies on).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use common::{briefs, run_env, run_in, s, sarif_uri, sorted_items, temp_tree, write_tree};
use serde_json::Value;

// ---------------------------------------------------------------- SARIF schema

/// The SARIF 2.1.0 schema from `shared/` beside the repository (`../shared` from the repo
/// root, as CI lays it out; a worktree nested deeper finds it further up).
fn sarif_validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let repo = repo.canonicalize().unwrap_or(repo);
        let path = repo
            .ancestors()
            .skip(1)
            .map(|a| a.join("shared/schemas/sarif-2.1.0.json"))
            .find(|p| p.is_file())
            .unwrap_or_else(|| {
                panic!(
                    "no shared/schemas/sarif-2.1.0.json beside {}",
                    repo.display()
                )
            });
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read the SARIF schema {} ({e})", path.display()));
        let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the SARIF schema compiles")
    })
}

/// Asserts `doc` is valid SARIF 2.1.0 and returns it.
pub fn valid_sarif(doc: Value) -> Value {
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&doc)
        .map(|e| format!("{e} (at {})", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "invalid SARIF:\n{}\n{doc:#}",
        errors.join("\n")
    );
    doc
}

fn sarif_of(cwd: &Path, extra: &[&str]) -> (common::Run, Value) {
    let mut args = vec!["check", "--format", "sarif"];
    args.extend_from_slice(extra);
    let out = run_in(Some(cwd), &args);
    let doc = valid_sarif(out.json());
    (out, doc)
}

#[test]
fn the_schema_check_catches_invalid_sarif() {
    // The validator must be able to fail: a result without its required message.
    let bad = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
        "results": [{"ruleId": "a"}]}]});
    assert!(!sarif_validator().is_valid(&bad));
    let bad_uri = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x",
        "informationUri": "not a uri"}}}]});
    assert!(!sarif_validator().is_valid(&bad_uri));
}

const APP_MANIFEST: &str = "[package]\nname = \"shop\"\nversion = \"1.2.3\"\nedition = \"2021\"\n";

/// Several findings: errors, a warning, a global with its accessor as a related span, two suppressions
/// (with and without a reason), a file with a space in its name.
fn multi_finding_app() -> tempfile::TempDir {
    temp_tree(&[
        ("Cargo.toml", APP_MANIFEST),
        (
            "src/lib.rs",
            "pub mod state;\npub mod odd;\n\
             use std::sync::{Mutex, OnceLock};\n\
             pub static mut COUNTER: u32 = 0;\n\
             pub struct Registry { pub runs: Mutex<Vec<String>> }\n\
             static REGISTRY: OnceLock<Registry> = OnceLock::new();\n\
             pub fn registry() -> &'static Registry { REGISTRY.get_or_init(|| Registry { runs: Mutex::new(Vec::new()) }) }\n\
             // isolate: allow(static_mut) -- written once at start-up, before any request\n\
             pub static mut STARTED: bool = false;\n\
             // isolate: allow(static_mut)\n\
             pub static mut NO_REASON: bool = false;\n",
        ),
        (
            "src/state.rs",
            "use std::collections::HashMap;\nuse std::sync::Mutex;\n\
             pub static SESSIONS: Mutex<Option<HashMap<u64, String>>> = Mutex::new(None);\n",
        ),
        (
            "src/odd.rs",
            "use std::sync::atomic::AtomicU64;\npub static HITS: AtomicU64 = AtomicU64::new(0);\n",
        ),
    ])
}

#[test]
fn sarif_has_what_code_scanning_reads() {
    let app = multi_finding_app();
    let (out, doc) = sarif_of(app.path(), &[]);
    out.assert_code(1);
    assert_eq!(doc["version"], "2.1.0");
    assert!(doc["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &doc["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "cargo-isolate");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), isolate_lint::rules::ALL.len());
    for (r, rule) in rules.iter().zip(isolate_lint::rules::ALL) {
        assert_eq!(r["id"], rule.id);
        assert_eq!(r["shortDescription"]["text"], rule.summary);
        assert!(!r["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert_eq!(r["help"]["text"], rule.doc, "help is the explain text");
        let level = r["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(["error", "warning", "none"].contains(&level));
    }
    let results = run["results"].as_array().unwrap();
    let by_rule =
        |id: &str| -> Vec<&Value> { results.iter().filter(|r| r["ruleId"] == id).collect() };
    // Every result: level, message, a relative uri with its base id, a full region.
    for r in results {
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("src/"), "{uri}");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        for key in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(loc["region"][key].as_u64().unwrap() >= 1, "{key} in {r}");
        }
        let fp = r["partialFingerprints"]["isolate/v1"].as_str().unwrap();
        assert!(fp.len() >= 16, "{fp}");
        assert_eq!(
            rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"],
            r["ruleId"]
        );
    }
    let counter = by_rule("static_mut")
        .into_iter()
        .find(|r| r["suppressions"].is_null())
        .unwrap();
    assert_eq!(counter["level"], "error");
    let region = &counter["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(4), Some(16))
    );
    assert_eq!(region["endColumn"], 23);
    assert_eq!(
        counter["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "shop::COUNTER"
    );
    // The global's finding points at the accessor that hands it out.
    let global = results
        .iter()
        .find(|r| {
            r["message"]["text"]
                .as_str()
                .unwrap()
                .contains("`REGISTRY`")
        })
        .expect("REGISTRY's finding");
    let related = global["relatedLocations"]
        .as_array()
        .expect("related spans");
    let accessor = related
        .iter()
        .find(|l| l["message"]["text"].as_str().unwrap().contains("registry"))
        .expect("the accessor as a related location");
    assert_eq!(
        accessor["physicalLocation"]["artifactLocation"]["uri"],
        "src/lib.rs"
    );
    assert_eq!(accessor["physicalLocation"]["region"]["startLine"], 7);
    // Suppressed findings: kind inSource, the reason as justification (none without one).
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| !r["suppressions"].is_null())
        .collect();
    assert_eq!(suppressed.len(), 2, "{suppressed:#?}");
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "inSource");
    assert_eq!(
        suppressed[0]["suppressions"][0]["justification"],
        "written once at start-up, before any request"
    );
    assert!(suppressed[1]["suppressions"][0]["justification"].is_null());
    // No baseline: no baselineState.
    assert!(results.iter().all(|r| r["baselineState"].is_null()));
    // The root the uris are relative to.
    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );
    assert_eq!(run["columnKind"], "unicodeCodePoints");
}

#[test]
fn sarif_uris_are_relative_to_the_workspace_root_wherever_the_run_starts() {
    let app = multi_finding_app();
    let (_, from_root) = sarif_of(app.path(), &[]);
    let (_, from_src) = sarif_of(&app.path().join("src"), &["state.rs"]);
    let uris = |doc: &Value| -> BTreeSet<(String, String)> {
        doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    sarif_uri(r).to_string(),
                    r["partialFingerprints"]["isolate/v1"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect()
    };
    let one = uris(&from_src);
    assert_eq!(one.len(), 1);
    assert!(uris(&from_root).is_superset(&one), "{one:?}");
}

#[test]
fn sarif_fingerprints_ignore_lines_and_tell_look_alikes_apart() {
    let dir = temp_tree(&[
        ("Cargo.toml", APP_MANIFEST),
        (
            "src/lib.rs",
            "pub fn a() { static mut N: u8 = 0; }\npub fn b() { static mut N: u8 = 0; }\n",
        ),
    ]);
    let fps = |doc: &Value| -> Vec<String> {
        doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["isolate/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let (_, before) = sarif_of(dir.path(), &[]);
    let before = fps(&before);
    assert_eq!(before.len(), 2);
    assert_ne!(before[0], before[1]);
    write_tree(
        dir.path(),
        &[(
            "src/lib.rs",
            "\n\n// moved down\npub fn a() {\n    static mut N: u8 = 0;\n}\npub fn b() { static mut N: u8 = 0; }\n",
        )],
    );
    let (_, after) = sarif_of(dir.path(), &[]);
    assert_eq!(fps(&after), before);
}

#[test]
fn sarif_of_a_scan_with_unparsable_files_is_still_valid() {
    let dir = temp_tree(&[
        ("src/lib.rs", "pub static mut A: u8 = 0;\n"),
        ("src/bad.rs", "fn (\n"),
        ("src/weird name ü%.rs", "pub static mut B: u8 = 0;\n"),
    ]);
    let (_, doc) = sarif_of(dir.path(), &[]);
    let run = &doc["runs"][0];
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("bad.rs")
    );
    let uris: Vec<&str> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(sarif_uri)
        .collect();
    assert!(
        uris.contains(&"src/weird%20name%20%C3%BC%25.rs"),
        "{uris:?}"
    );
}

// ---------------------------------------------------------------- execution paths, end to end

/// The chain the call graph finds in the bundled agent backend, as `(file, line, function)`:
/// the route handler, the engine method it calls, the accessor that hands out `REGISTRY`.
const REGISTRY_CHAIN: [(&str, u64, &str); 3] = [
    ("src/api/runs.rs", 20, "create_run"),
    ("src/engine.rs", 65, "Engine::start"),
    ("src/registry.rs", 24, "registry"),
];

fn agent_backend() -> std::path::PathBuf {
    common::fixtures_dir().join("apps/agent-backend")
}

#[test]
fn a_real_apps_execution_path_reaches_json_sarif_rustc_json_and_human_output() {
    let app = agent_backend();
    // JSON: the finding at REGISTRY carries the chain, entry first.
    let out = run_in(Some(&app), &["check", "--format", "json"]);
    out.assert_code(1);
    let doc = out.json();
    let registry = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["item"] == "REGISTRY")
        .unwrap_or_else(|| panic!("no REGISTRY finding: {doc:#}"));
    assert_eq!(registry["on_execution_path"], true);
    let chain: Vec<(&str, u64, &str)> = registry["execution_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["file"].as_str().unwrap(),
                s["line"].as_u64().unwrap(),
                s["function"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(chain, REGISTRY_CHAIN, "{registry:#}");
    // A global no handler reaches has an empty path.
    let unreached = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["item"] == "LISTEN_OVERRIDE")
        .unwrap_or_else(|| panic!("no LISTEN_OVERRIDE finding: {doc:#}"));
    assert_eq!(unreached["on_execution_path"], false);
    assert_eq!(unreached["execution_path"], serde_json::json!([]));

    // SARIF: the same chain as a code flow, ending at the global itself.
    let (_, doc) = sarif_of(&app, &[]);
    let result = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["locations"][0]["logicalLocations"][0]["name"] == "REGISTRY")
        .unwrap_or_else(|| panic!("no REGISTRY result: {doc:#}"));
    let flow: Vec<(String, u64)> = result["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let p = &l["location"]["physicalLocation"];
            (
                p["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                p["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut expected: Vec<(String, u64)> = REGISTRY_CHAIN
        .iter()
        .map(|(f, l, _)| (f.to_string(), *l))
        .collect();
    expected.push(("src/registry.rs".to_string(), 21));
    assert_eq!(flow, expected, "{result:#}");
    let unreached = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["locations"][0]["logicalLocations"][0]["name"] == "LISTEN_OVERRIDE")
        .unwrap();
    assert!(unreached["codeFlows"].is_null(), "{unreached:#}");

    // rustc's JSON: one child note with a span per step.
    let out = run_in(Some(&app), &["check", "--message-format=json"]);
    let message = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|m| {
            m["message"]["message"]
                .as_str()
                .is_some_and(|t| t.starts_with("`REGISTRY`"))
        })
        .unwrap_or_else(|| panic!("no REGISTRY message:\n{}", out.stdout));
    let steps: Vec<(String, u64)> = message["message"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["spans"].as_array().unwrap().is_empty())
        .map(|c| {
            let span = &c["spans"][0];
            (
                span["file_name"].as_str().unwrap().to_string(),
                span["line_start"].as_u64().unwrap(),
            )
        })
        .collect();
    let files: Vec<(String, u64)> = REGISTRY_CHAIN
        .iter()
        .map(|(f, l, _)| (f.to_string(), *l))
        .collect();
    assert_eq!(steps, files, "{message:#}");

    // Human: the chain in words, and the reason an unreached global is low.
    let out = run_in(Some(&app), &["check"]);
    common::assert_contains(
        &out.all_output(),
        &[
            "reached from handler `create_run` -> `Engine::start` -> `registry`",
            "not reached from any of the 6 entry points found",
        ],
    );
}

// ---------------------------------------------------------------- library-level rendering

mod rendering {
    use super::*;
    use common::report_with_execution_path as with_path;
    use isolate_lint::Workspace;
    use isolate_lint::report::{Renderer, github::Github, sarif::Sarif210};

    fn render(r: &dyn Renderer, ws: &Workspace, report: &isolate_lint::report::Report) -> String {
        let mut out = Vec::new();
        r.render(report, ws.sources(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn sarif_code_flow_follows_the_execution_path() {
        let (ws, report) = with_path();
        let doc = valid_sarif(serde_json::from_str(&render(&Sarif210, &ws, &report)).unwrap());
        let flow = &doc["runs"][0]["results"][0]["codeFlows"][0]["threadFlows"][0]["locations"];
        let steps: Vec<(String, u64)> = flow
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["location"]["physicalLocation"]["artifactLocation"]["uri"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    l["location"]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap(),
                )
            })
            .collect();
        assert_eq!(
            steps,
            [
                ("src/api.rs".to_string(), 1),
                ("src/lib.rs".to_string(), 3),
                ("src/lib.rs".to_string(), 2)
            ]
        );
        let first = flow[0]["location"]["message"]["text"].as_str().unwrap();
        assert!(first.contains("start_run"), "{first}");
        // Without a path, no code flow.
        let mut plain = report.clone();
        plain.diagnostics[0].execution_path.clear();
        let doc = valid_sarif(serde_json::from_str(&render(&Sarif210, &ws, &plain)).unwrap());
        assert!(doc["runs"][0]["results"][0]["codeFlows"].is_null());
    }

    /// GitHub's own decoding of a command's data and properties.
    fn unescape(s: &str) -> String {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    }

    #[test]
    fn github_commands_survive_hostile_messages() {
        let (ws, mut report) = with_path();
        let hostile = "100% sure\r\n::error file=x.rs::forged, line=1:still one\n%0A";
        report.diagnostics[0].message = hostile.into();
        report.diagnostics[0].help = Some("a: b, c".into());
        let out = render(&Github::default(), &ws, &report);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1, "one command, nothing forged: {out}");
        let line = lines[0];
        assert!(line.starts_with("::error file="), "{line}");
        let (props, data) = line["::error ".len()..].split_once("::").unwrap();
        assert_eq!(unescape(data), format!("{hostile}\nhelp: a: b, c"));
        let props: Vec<(&str, String)> = props
            .split(',')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k, unescape(v))
            })
            .collect();
        let keys: Vec<&str> = props.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            ["file", "line", "col", "endLine", "endColumn", "title"]
        );
        assert_eq!(props[5].1, "isolate(static_mut)");
    }
}

// ---------------------------------------------------------------- github, short

#[test]
fn github_annotations_escape_hostile_paths() {
    let dir = temp_tree(&[
        ("a,b:c%d/src/lib.rs", "pub static mut X: u8 = 0;\n"),
        (
            "ok/src/lib.rs",
            "use std::sync::atomic::AtomicU8;\npub static W: AtomicU8 = AtomicU8::new(0);\n",
        ),
    ]);
    let out = run_in(Some(dir.path()), &["check", "--format", "github"]);
    out.assert_code(1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert_eq!(
        lines[0],
        "::error file=a%2Cb%3Ac%25d/src/lib.rs,line=1,col=16,endLine=1,endColumn=17,\
         title=isolate(static_mut)::`static mut X` is unsynchronised mutable state shared by every \
         request%0Ahelp: move it into per-request state built by an isolate factory \
         (#[derive(isolate::RequestScoped)]), or make it a `const`"
    );
    assert!(
        lines[1].starts_with("::warning file=ok/src/lib.rs,line=2,col=12,"),
        "{}",
        lines[1]
    );
    // Paths relative to the checkout when GITHUB_WORKSPACE names it.
    let out = run_env(
        Some(&dir.path().join("ok")),
        &["check", "--format", "github", "."],
        &[("GITHUB_WORKSPACE", Some(s(dir.path())))],
    );
    assert!(
        out.stdout.starts_with("::warning file=ok/src/lib.rs,"),
        "{}",
        out.stdout
    );
}

#[test]
fn short_lines_are_path_line_col_level_rule_message() {
    let app = multi_finding_app();
    let out = run_in(Some(app.path()), &["check", "--format", "short", "-q"]);
    out.assert_code(1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines.contains(&
        "src/lib.rs:4:16: error[isolate::static_mut] `static mut COUNTER` is unsynchronised mutable state shared by every request"
    ), "{}", out.stdout);
    let shape = regex_like_short();
    for l in &lines {
        assert!(shape(l), "not `path:line:col: level[rule] message`: {l}");
    }
    let json = run_in(Some(app.path()), &["check", "--format", "json"]).json();
    assert_eq!(lines.len(), json["findings"].as_array().unwrap().len());
    // Without -q, a summary line closes the list.
    let out = run_in(Some(app.path()), &["check", "--format", "short"]);
    let last = out.stdout.lines().last().unwrap();
    assert!(
        last.contains(" in 3 files (2 suppressed)"),
        "{}",
        out.stdout
    );
}

fn regex_like_short() -> impl Fn(&str) -> bool {
    |l: &str| {
        let mut parts = l.splitn(4, ':');
        let (Some(path), Some(line), Some(col), Some(rest)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        !path.is_empty()
            && line.parse::<u32>().is_ok()
            && col.parse::<u32>().is_ok()
            && (rest.starts_with(" error[isolate::")
                || rest.starts_with(" warning[isolate::")
                || rest.starts_with(" note[isolate::"))
            && rest.contains("] ")
    }
}

// ---------------------------------------------------------------- --fail-on

#[test]
fn fail_on_decides_the_exit_code() {
    let warnings = temp_tree(&[(
        "src/lib.rs",
        "use std::sync::atomic::AtomicU8;\npub static W: AtomicU8 = AtomicU8::new(0);\n",
    )]);
    let errors = temp_tree(&[("src/lib.rs", "pub static mut E: u8 = 0;\n")]);
    let code = |dir: &Path, fail_on: Option<&str>| {
        let mut args = vec!["check", "-q", "--format", "short"];
        if let Some(f) = fail_on {
            args.extend(["--fail-on", f]);
        }
        run_in(Some(dir), &args).code
    };
    assert_eq!(code(warnings.path(), None), Some(0));
    assert_eq!(code(warnings.path(), Some("error")), Some(0));
    assert_eq!(code(warnings.path(), Some("warning")), Some(1));
    assert_eq!(code(errors.path(), None), Some(1));
    assert_eq!(code(errors.path(), Some("warning")), Some(1));
    assert_eq!(code(errors.path(), Some("never")), Some(0));
    let bad = run_in(Some(errors.path()), &["check", "--fail-on", "sometimes"]);
    bad.assert_code(2);
    // A scan that saw nothing still fails, whatever --fail-on says.
    let broken = temp_tree(&[("src/lib.rs", "fn (\n")]);
    assert_eq!(code(broken.path(), Some("never")), Some(2));
}

// ---------------------------------------------------------------- baselines

const BEFORE: &str = "use std::collections::HashMap;\nuse std::sync::Mutex;\n\n\
pub static mut COUNTER: u32 = 0;\n\n\
pub fn helper() -> u32 { 1 }\n\n\
pub static SESSIONS: Mutex<Option<HashMap<u64, String>>> = Mutex::new(None);\n";

/// The same globals, lines moved (a doc block and a new fn above), another item renamed
/// (`helper` -> `assist`), one global reformatted, and one new global.
const AFTER: &str = "use std::collections::HashMap;\nuse std::sync::Mutex;\n\n\
/// The number of requests.\n/// (docs edited later)\n\
pub static mut COUNTER  :  u32 =\n    0;\n\n\
pub fn unrelated() {}\n\n\
pub fn assist() -> u32 { 1 }\n\n\
pub static SESSIONS: Mutex<Option<HashMap<u64, String>>> = Mutex::new(None);\n\
pub static mut NEW_GLOBAL: u8 = 0;\n";

#[test]
fn baseline_reports_exactly_the_new_global() {
    let dir = temp_tree(&[("Cargo.toml", APP_MANIFEST), ("src/lib.rs", BEFORE)]);
    let root = dir.path();
    let written = run_in(
        Some(root),
        &["check", "--write-baseline", "isolate-baseline.toml", "-q"],
    );
    written.assert_code(0);
    assert!(
        written.stderr.is_empty() || !written.stderr.contains("error"),
        "{}",
        written.stderr
    );
    let file = std::fs::read_to_string(root.join("isolate-baseline.toml")).unwrap();
    assert!(file.contains("version = 1"), "{file}");
    assert!(file.contains("item = \"shop::COUNTER\""), "{file}");
    assert!(
        !file.contains("line ="),
        "no line numbers in a baseline: {file}"
    );
    // Today: nothing new.
    run_in(
        Some(root),
        &["check", "--baseline", "isolate-baseline.toml"],
    )
    .assert_code(0);

    write_tree(root, &[("src/lib.rs", AFTER)]);
    let out = run_in(
        Some(root),
        &[
            "check",
            "--format",
            "json",
            "--baseline",
            "isolate-baseline.toml",
        ],
    );
    out.assert_code(1);
    let doc = out.json();
    let new: Vec<String> = briefs(&doc, "findings")
        .into_iter()
        .map(|b| b.item)
        .collect();
    assert_eq!(new, ["NEW_GLOBAL"]);
    assert_eq!(doc["findings"][0]["baselined"], false);
    let old: Vec<String> = briefs(&doc, "baselined")
        .into_iter()
        .map(|b| b.item)
        .collect();
    assert_eq!(old, ["COUNTER", "SESSIONS"]);
    assert!(
        doc["baselined"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["baselined"] == true)
    );
    assert_eq!(doc["baseline_absent"], Value::Array(vec![]));
    assert_eq!(doc["summary"]["baselined"], 2);

    // The same in every other format.
    let short = run_in(
        Some(root),
        &[
            "check",
            "--format",
            "short",
            "-q",
            "--baseline",
            "isolate-baseline.toml",
        ],
    );
    assert_eq!(short.stdout.lines().count(), 1, "{}", short.stdout);
    assert!(short.stdout.contains("NEW_GLOBAL"));
    let (_, sarif) = sarif_of(root, &["--baseline", "isolate-baseline.toml"]);
    let states: BTreeSet<(String, String)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["message"]["text"]
                    .as_str()
                    .unwrap()
                    .split('`')
                    .nth(1)
                    .unwrap()
                    .to_string(),
                r["baselineState"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        states.contains(&("static mut NEW_GLOBAL".into(), "new".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&("static mut COUNTER".into(), "unchanged".into())),
        "{states:?}"
    );
    let human = run_in(
        Some(root),
        &["check", "--baseline", "isolate-baseline.toml"],
    );
    assert!(
        human.stdout.contains("`static mut NEW_GLOBAL`"),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains("`SESSIONS`"), "{}", human.stdout);
    assert!(human.stdout.contains("2 baselined"), "{}", human.stdout);
}

#[test]
fn baseline_lists_entries_that_no_longer_occur_and_edited_items_are_new() {
    let dir = temp_tree(&[("Cargo.toml", APP_MANIFEST), ("src/lib.rs", BEFORE)]);
    let root = dir.path();
    run_in(Some(root), &["check", "--write-baseline", "b.toml", "-q"]).assert_code(0);
    // COUNTER removed, SESSIONS' type edited: one absent entry for each, SESSIONS is new.
    write_tree(
        root,
        &[(
            "src/lib.rs",
            "use std::collections::HashMap;\nuse std::sync::Mutex;\n\
             pub static SESSIONS: Mutex<Option<HashMap<u64, Vec<String>>>> = Mutex::new(None);\n",
        )],
    );
    let out = run_in(
        Some(root),
        &["check", "--format", "json", "--baseline", "b.toml"],
    );
    let doc = out.json();
    let new: Vec<String> = briefs(&doc, "findings")
        .into_iter()
        .map(|b| b.item)
        .collect();
    assert_eq!(new, ["SESSIONS"]);
    let absent: Vec<&str> = doc["baseline_absent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["item"].as_str().unwrap())
        .collect();
    // Sorted by file, rule, item.
    assert_eq!(absent, ["shop::SESSIONS", "shop::COUNTER"]);
    let human = run_in(Some(root), &["check", "--baseline", "b.toml"]);
    assert!(
        human.stdout.contains("2 baseline entries no longer occur"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("src/lib.rs static_mut shop::COUNTER"),
        "{}",
        human.stdout
    );
    let gh = run_in(
        Some(root),
        &["check", "--format", "github", "--baseline", "b.toml"],
    );
    assert!(
        gh.stdout
            .lines()
            .any(|l| l.starts_with("::notice title=isolate baseline::2 baseline entries")),
        "{}",
        gh.stdout
    );
    // Rewriting prunes them.
    run_in(
        Some(root),
        &[
            "check",
            "--baseline",
            "b.toml",
            "--write-baseline",
            "b.toml",
            "-q",
        ],
    )
    .assert_code(1);
    let again = run_in(
        Some(root),
        &["check", "--format", "json", "--baseline", "b.toml"],
    )
    .json();
    assert_eq!(again["baseline_absent"], Value::Array(vec![]));
    assert_eq!(again["findings"], Value::Array(vec![]));
}

#[test]
fn baselines_match_whichever_directory_the_run_starts_in() {
    let dir = temp_tree(&[("Cargo.toml", APP_MANIFEST), ("src/lib.rs", BEFORE)]);
    let root = dir.path();
    run_in(Some(root), &["check", "--write-baseline", "b.toml", "-q"]).assert_code(0);
    let out = run_in(
        Some(&root.join("src")),
        &["check", "-q", "--baseline", "../b.toml", "lib.rs"],
    );
    out.assert_code(0);
}

#[test]
fn corrupt_or_hostile_baselines_are_clear_errors() {
    let dir = temp_tree(&[("src/lib.rs", "pub static mut A: u8 = 0;\n")]);
    let root = dir.path();
    let cases: &[(&[u8], &str)] = &[
        (b"not = [toml", "invalid baseline"),
        (b"version = 99\n", "version 99 is not supported"),
        (b"[[finding]]\nrule = \"static_mut\"\n", "no `version` key"),
        (b"version = 1\n[[finding]]\nrule = \"static_mut\"\nfile = \"src/lib.rs\"\nitem = \"x\"\nhash = \"../../etc/passwd\"\n", "16 hexadecimal digits"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"{\"version\": 1}", "invalid baseline"),
    ];
    for (i, (bytes, expected)) in cases.iter().enumerate() {
        let name = format!("b{i}.toml");
        std::fs::write(root.join(&name), bytes).unwrap();
        let out = run_in(Some(root), &["check", "--baseline", &name]);
        out.assert_code(2);
        assert!(
            out.stderr.starts_with("error: ") && out.stderr.contains(expected),
            "{name}: {}",
            out.stderr
        );
        assert!(
            out.stdout.is_empty(),
            "no report on a bad baseline: {}",
            out.stdout
        );
    }
    let missing = run_in(Some(root), &["check", "--baseline", "nope.toml"]);
    missing.assert_code(2);
    assert!(
        missing.stderr.contains("cannot read baseline nope.toml"),
        "{}",
        missing.stderr
    );
    // A directory, and an unwritable target, for --write-baseline: exit 2, nothing lost.
    std::fs::create_dir(root.join("adir")).unwrap();
    run_in(Some(root), &["check", "--baseline", "adir"]).assert_code(2);
    let out = run_in(
        Some(root),
        &["check", "--write-baseline", "no/such/dir/b.toml"],
    );
    out.assert_code(2);
    assert!(
        out.stderr.contains("cannot write baseline"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------- package selection

/// A workspace with three members (one excluded by the manifest) and a finding in each.
fn fixture_workspace() -> tempfile::TempDir {
    let global = |name: &str| format!("pub static mut {name}: u8 = 0;\n");
    temp_tree(&[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\"]\nexclude = [\"crates/legacy\"]\n",
        ),
        (
            "crates/api/Cargo.toml",
            "[package]\nname = \"api\"\nversion = \"0.1.0\"\n[dependencies]\ncore = { path = \"../core\" }\n",
        ),
        ("crates/api/src/lib.rs", &global("API")),
        (
            "crates/core/Cargo.toml",
            "[package]\nname = \"core\"\nversion = \"0.1.0\"\n",
        ),
        ("crates/core/src/lib.rs", &global("CORE")),
        (
            "crates/cli/Cargo.toml",
            "[package]\nname = \"cli\"\nversion = \"0.1.0\"\n",
        ),
        ("crates/cli/src/main.rs", &global("CLI")),
        ("crates/legacy/Cargo.toml", "[package]\nname = \"legacy\"\n"),
        ("crates/legacy/src/lib.rs", &global("LEGACY")),
    ])
}

fn items(cwd: &Path, extra: &[&str]) -> (Option<i32>, Vec<String>, String) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let out = run_in(Some(cwd), &args);
    if out.code == Some(2) {
        return (out.code, Vec::new(), out.stderr);
    }
    (out.code, sorted_items(&out.json(), "findings"), out.stderr)
}

#[test]
fn cargo_style_package_selection() {
    let ws = fixture_workspace();
    let root = ws.path();
    let api = root.join("crates/api");
    assert_eq!(items(root, &["--workspace"]).1, ["API", "CLI", "CORE"]);
    assert_eq!(
        items(&api, &["--workspace"]).1,
        ["API", "CLI", "CORE"],
        "from inside a member"
    );
    assert_eq!(items(root, &["--all"]).1, ["API", "CLI", "CORE"]);
    assert_eq!(items(root, &["-p", "api"]).1, ["API"]);
    assert_eq!(
        items(root, &["-p", "api", "--package", "cli"]).1,
        ["API", "CLI"]
    );
    assert_eq!(items(root, &["-p", "c*"]).1, ["CLI", "CORE"]);
    assert_eq!(
        items(root, &["--workspace", "--exclude", "core"]).1,
        ["API", "CLI"]
    );
    assert_eq!(
        items(&api, &["--manifest-path", "../core/Cargo.toml"]).1,
        ["CORE"]
    );
    // A virtual manifest without -p: every member.
    assert_eq!(
        items(&api, &["--manifest-path", "../../Cargo.toml"]).1,
        ["API", "CLI", "CORE"]
    );
    // The legacy crate is excluded from the workspace: not a member, not selectable.
    let (code, _, err) = items(root, &["-p", "legacy"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("package `legacy` is not a member"), "{err}");
    let (code, _, err) = items(root, &["-p", "apj"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("did you mean `api`"), "{err}");
    let (code, _, err) = items(root, &["--exclude", "api"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--exclude can only be used together with --workspace"),
        "{err}"
    );
    let (code, _, err) = items(root, &["-p", "api", "crates/core"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("PATHs cannot be combined"), "{err}");
    let (code, _, err) = items(root, &["--manifest-path", "crates/nope/Cargo.toml"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("does not exist"), "{err}");
    let (code, _, err) = items(root, &["--manifest-path", "crates/api/src/lib.rs"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("must be a path to a Cargo.toml"), "{err}");
    let (code, _, err) = items(root, &["--workspace", "--exclude", "*"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no package selected"), "{err}");
    // Outside any package.
    let loose = temp_tree(&[("a.rs", "")]);
    let (code, _, err) = items(loose.path(), &["--workspace"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("could not find `Cargo.toml`"), "{err}");
}

#[test]
fn a_selected_root_package_does_not_report_its_nested_members() {
    let dir = temp_tree(&[
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\n[workspace]\nmembers = [\"plugins/*\"]\n",
        ),
        ("src/lib.rs", "pub static mut APP: u8 = 0;\n"),
        (
            "plugins/p/Cargo.toml",
            "[package]\nname = \"p\"\nversion = \"0.1.0\"\n",
        ),
        ("plugins/p/src/lib.rs", "pub static mut PLUGIN: u8 = 0;\n"),
    ]);
    assert_eq!(items(dir.path(), &["-p", "app"]).1, ["APP"]);
    assert_eq!(
        items(dir.path(), &["--manifest-path", "Cargo.toml"]).1,
        ["APP"]
    );
    assert_eq!(items(dir.path(), &["--workspace"]).1, ["APP", "PLUGIN"]);
}

// ---------------------------------------------------------------- pre-commit

/// What identifies a finding across runs started in different places.
fn finding_set(doc: &Value) -> BTreeSet<(String, u64, String, String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_string(),
                f["item_path"].as_str().unwrap().to_string(),
                f["level"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn single_file_runs_give_the_whole_workspace_findings() {
    let app = common::fixtures_dir().join("apps/agent-backend");
    let whole = run_in(Some(&app), &["check", "--format", "json"]).json();
    let whole = finding_set(&whole);
    assert!(whole.len() > 5, "{whole:?}");
    let mut files: Vec<String> = std::fs::read_dir(app.join("src"))
        .unwrap()
        .map(|e| format!("src/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    files.sort();
    // As pre-commit runs the hook: every staged file as an argument...
    let mut args = vec!["check", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let staged = run_in(Some(&app), &args).json();
    assert_eq!(finding_set(&staged), whole);
    // ...or in batches down to one file each.
    let mut union = BTreeSet::new();
    for f in &files {
        let one = run_in(Some(&app), &["check", "--format", "json", f]);
        if one.code == Some(2) {
            continue;
        }
        union.extend(finding_set(&one.json()));
    }
    assert_eq!(union, whole);
}

#[test]
fn the_pre_commit_hook_is_declared() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.pre-commit-hooks.yaml");
    let text = std::fs::read_to_string(&path).expect(".pre-commit-hooks.yaml in the repo root");
    common::assert_contains(
        &text,
        &[
            "- id: cargo-isolate",
            "entry: cargo isolate check",
            "types: [rust]",
            "language: system",
        ],
    );
}

#[test]
fn help_documents_every_format_and_exit_code() {
    let out = run_in(None, &["check", "--help"]);
    out.assert_code(0);
    common::assert_contains(
        &out.stdout,
        &[
            "human",
            "json",
            "sarif",
            "github",
            "short",
            "rustc-json",
            "--message-format",
            "--fail-on",
            "--baseline",
            "--write-baseline",
            "--manifest-path",
            "--package",
            "--workspace",
            "--exclude",
            "--with-cargo-check",
            "Exit codes:",
            "  0  ",
            "  1  ",
            "  2  ",
        ],
    );
}
