//! The fixture corpus test: every case under `fixtures/cases`, `fixtures/projects` and
//! `fixtures/apps` is linted by the real binary and its JSON findings must match the
//! `//~` markers in the case's files exactly. The marker format is documented in
//! `fixtures/README.md`.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::thread;

use common::{Run, fixtures_dir, run};
use serde_json::Value;

/// Rule ids a marker may name: the registry's.
fn rules() -> Vec<&'static str> {
    isolate_lint::rules::ALL.iter().map(|r| r.id).collect()
}

/// Lower bounds, so that deleting fixtures makes the test fail. Raise them when adding cases.
const MIN_POSITIVE_MARKERS: usize = 320;
const MIN_NEGATIVE_CASES: usize = 105;
const MIN_CASES: usize = 62;

/// Where an expected finding must appear in the linter's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Findings,
    Suppressed,
}

/// One `//~` marker.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Marker {
    file: String,
    line: u64,
    section: Section,
    rule: String,
    level: Option<String>,
    /// `via a -> b -> c`: the execution path's functions, entry first; `unreached`: none.
    chain: Option<Vec<String>>,
}

/// What a case's markers expect.
#[derive(Debug, Default)]
struct Expectations {
    markers: Vec<Marker>,
    /// Files with a `//~ parse_error` marker: they must be listed under `errors`.
    parse_errors: Vec<String>,
    /// `// ok:` comments: deliberately unreported items (counted, not matched).
    negatives: usize,
    /// `//~ entry` markers: (file, line) of every entry point `entries` must list.
    entries: Vec<(String, u64)>,
}

/// One fixture case: a single file or a directory linted as a root.
#[derive(Debug)]
struct Case {
    /// The path given to `cargo-isolate check`.
    target: PathBuf,
    /// The scanned root: the directory itself, or a file's parent.
    root: PathBuf,
    /// The `.rs` files whose markers apply, relative to `root`.
    files: Vec<String>,
    /// First line of `expected-error.txt`, for config-error cases.
    expected_error: Option<String>,
    /// An app: every marker gives level and chain, and `//~ entry` lists the entry points.
    strict: bool,
}

impl Case {
    fn name(&self) -> String {
        self.target
            .strip_prefix(fixtures_dir())
            .unwrap_or(&self.target)
            .display()
            .to_string()
    }
}

fn discover() -> Vec<Case> {
    let base = fixtures_dir();
    let mut cases = Vec::new();
    let mut single = Vec::new();
    collect_rs(&base.join("cases"), &mut single);
    for file in single {
        let root = file.parent().expect("case file has a parent").to_path_buf();
        let name = file
            .file_name()
            .expect("case file has a name")
            .to_string_lossy()
            .into_owned();
        cases.push(Case {
            target: file,
            root,
            files: vec![name],
            expected_error: None,
            strict: false,
        });
    }
    for group in ["projects", "apps"] {
        for dir in sorted_entries(&base.join(group)) {
            if !dir.is_dir() {
                continue;
            }
            let mut rs = Vec::new();
            collect_rs(&dir, &mut rs);
            let files = rs.iter().map(|f| relative(&dir, f)).collect();
            let expected_error = std::fs::read_to_string(dir.join("expected-error.txt"))
                .ok()
                .map(|text| text.lines().next().unwrap_or("").trim().to_owned());
            if let Some(first) = &expected_error {
                assert!(
                    !first.is_empty(),
                    "{}/expected-error.txt has an empty first line",
                    dir.display()
                );
            }
            cases.push(Case {
                target: dir.clone(),
                root: dir,
                files,
                expected_error,
                strict: group == "apps",
            });
        }
    }
    cases
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    entries
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for path in sorted_entries(dir) {
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// `path` relative to `root`, with `/` separators.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .expect("file below its root")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Parses the markers of one file. Malformed markers are authoring errors and panic.
fn parse_markers(rel: &str, source: &str, into: &mut Expectations) {
    for (index, text) in source.lines().enumerate() {
        let line_no = index as u64 + 1;
        if text.contains("// ok:") {
            into.negatives += 1;
        }
        let mut rest = text;
        while let Some(start) = rest.find("//~") {
            let after = &rest[start + 3..];
            let end = after.find("//~").unwrap_or(after.len());
            let body = &after[..end];
            rest = &after[end..];
            let ups = body.chars().take_while(|&c| c == '^').count();
            let downs = body.chars().take_while(|&c| c == 'v').count();
            let mut words = body[ups + downs..].split_whitespace();
            let line = if ups > 0 {
                line_no.checked_sub(ups as u64).filter(|&l| l > 0)
            } else {
                Some(line_no + downs as u64)
            }
            .unwrap_or_else(|| panic!("{rel}:{line_no}: marker points above the file"));
            let mut word = words
                .next()
                .unwrap_or_else(|| panic!("{rel}:{line_no}: empty //~ marker"));
            if word == "parse_error" {
                into.parse_errors.push(rel.to_owned());
                continue;
            }
            if word == "entry" {
                into.entries.push((rel.to_owned(), line));
                continue;
            }
            let section = if word == "suppressed" {
                word = words
                    .next()
                    .unwrap_or_else(|| panic!("{rel}:{line_no}: `suppressed` without a rule"));
                Section::Suppressed
            } else {
                Section::Findings
            };
            let (rule, level) = match word.split_once('=') {
                Some((rule, level)) => (rule, Some(level.to_owned())),
                None => (word, None),
            };
            assert!(
                rules().contains(&rule),
                "{rel}:{line_no}: unknown rule `{rule}` in marker"
            );
            if let Some(level) = &level {
                assert!(
                    level == "warning" || level == "error" || level == "note",
                    "{rel}:{line_no}: level must be `note`, `warning` or `error`, not `{level}`"
                );
            }
            let rest: Vec<&str> = words.collect();
            let chain = match rest.first() {
                Some(&"unreached") => Some(Vec::new()),
                Some(&"via") => Some(
                    rest[1..]
                        .join(" ")
                        .split("->")
                        .map(|f| f.trim().to_owned())
                        .filter(|f| !f.is_empty())
                        .collect(),
                ),
                _ => None,
            };
            into.markers.push(Marker {
                file: rel.to_owned(),
                line,
                section,
                rule: rule.to_owned(),
                level,
                chain,
            });
        }
    }
}

fn expectations(case: &Case) -> Expectations {
    let mut exp = Expectations::default();
    for rel in &case.files {
        let path = case.root.join(rel);
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
        parse_markers(rel, &source, &mut exp);
    }
    exp
}

/// A finding as reported by the linter, reduced to what markers check.
#[derive(Debug, Clone)]
struct Actual {
    file: String,
    line: u64,
    section: Section,
    rule: String,
    level: String,
    item: String,
    /// The functions of `execution_path`, entry first.
    chain: Vec<String>,
}

fn actuals(doc: &Value, key: &str, section: Section) -> Result<Vec<Actual>, String> {
    let list = doc[key]
        .as_array()
        .ok_or_else(|| format!("JSON has no `{key}` array"))?;
    list.iter()
        .map(|f| {
            let text = |k: &str| {
                f[k].as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("`{key}` entry without string `{k}`: {f}"))
            };
            Ok(Actual {
                file: text("file")?,
                line: f["line"]
                    .as_u64()
                    .ok_or_else(|| format!("`{key}` entry without numeric `line`: {f}"))?,
                section,
                rule: text("rule")?,
                level: text("level")?,
                item: f["item"].as_str().unwrap_or("?").to_owned(),
                chain: f["execution_path"]
                    .as_array()
                    .map(|steps| {
                        steps
                            .iter()
                            .map(|s| s["function"].as_str().unwrap_or("?").to_owned())
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Checks one case; returns a list of human-readable problems (empty = pass).
fn check_case(case: &Case, exp: &Expectations) -> Vec<String> {
    let target = case.target.to_str().expect("UTF-8 fixture path");
    let output: Run = run(&["check", "--format", "json", target]);
    let mut problems = Vec::new();

    if let Some(expected) = &case.expected_error {
        if output.code != Some(2) {
            problems.push(format!(
                "expected exit 2 (config error), got {:?}",
                output.code
            ));
        }
        if !output.stderr.contains(expected.as_str()) {
            problems.push(format!(
                "stderr does not contain `{expected}`; stderr was:\n{}",
                output.stderr.trim_end()
            ));
        }
        return problems;
    }

    let doc: Value = match serde_json::from_str(&output.stdout) {
        Ok(doc) => doc,
        Err(e) => {
            problems.push(format!(
                "stdout is not JSON ({e}); exit {:?}\nstdout:\n{}\nstderr:\n{}",
                output.code, output.stdout, output.stderr
            ));
            return problems;
        }
    };
    let mut actual = Vec::new();
    for (key, section) in [
        ("findings", Section::Findings),
        ("suppressed", Section::Suppressed),
    ] {
        match actuals(&doc, key, section) {
            Ok(list) => actual.extend(list),
            Err(e) => problems.push(e),
        }
    }

    // Match markers against findings: same file, line, section and rule; level if given.
    let mut unmatched: Vec<Option<&Actual>> = actual.iter().map(Some).collect();
    for marker in &exp.markers {
        let hit = unmatched.iter_mut().find(|slot| {
            slot.is_some_and(|a| {
                a.file == marker.file
                    && a.line == marker.line
                    && a.section == marker.section
                    && a.rule == marker.rule
            })
        });
        match hit {
            Some(slot) => {
                let found = slot.take().expect("slot is filled");
                if let Some(level) = &marker.level
                    && &found.level != level
                {
                    problems.push(format!(
                        "{}:{}: {} `{}` has level {}, expected {level}",
                        marker.file, marker.line, marker.rule, found.item, found.level
                    ));
                }
                if let Some(chain) = &marker.chain
                    && &found.chain != chain
                {
                    let show = |c: &[String]| {
                        if c.is_empty() {
                            "unreached".to_owned()
                        } else {
                            format!("via {}", c.join(" -> "))
                        }
                    };
                    problems.push(format!(
                        "{}:{}: {} `{}` is {}, expected {}",
                        marker.file,
                        marker.line,
                        marker.rule,
                        found.item,
                        show(&found.chain),
                        show(chain)
                    ));
                }
            }
            None => problems.push(format!(
                "{}:{}: missing {}{}{}",
                marker.file,
                marker.line,
                if marker.section == Section::Suppressed {
                    "suppressed "
                } else {
                    ""
                },
                marker.rule,
                marker
                    .level
                    .as_ref()
                    .map(|l| format!("={l}"))
                    .unwrap_or_default()
            )),
        }
    }
    for extra in unmatched.into_iter().flatten() {
        problems.push(format!(
            "{}:{}: unexpected {}{} ({}) on `{}`",
            extra.file,
            extra.line,
            if extra.section == Section::Suppressed {
                "suppressed "
            } else {
                ""
            },
            extra.rule,
            extra.level,
            extra.item
        ));
    }

    // Files that fail to parse must be in `errors`; nothing else may be.
    let error_files: Vec<String> = match doc["errors"].as_array() {
        Some(list) => list
            .iter()
            .map(|e| e["file"].as_str().unwrap_or("?").to_owned())
            .collect(),
        None => {
            problems.push("JSON has no `errors` array".to_owned());
            Vec::new()
        }
    };
    for expected in &exp.parse_errors {
        if !error_files.contains(expected) {
            problems.push(format!("{expected}: expected an entry in `errors`"));
        }
    }
    for file in &error_files {
        if !exp.parse_errors.contains(file) {
            problems.push(format!(
                "{file}: unexpected entry in `errors`: {}",
                doc["errors"]
            ));
        }
    }

    // Apps assert levels and chains exactly, and their entry points.
    if case.strict {
        for m in &exp.markers {
            if m.level.is_none() || m.chain.is_none() {
                problems.push(format!(
                    "{}:{}: a marker in apps/ must give the level and `via ..` or `unreached`",
                    m.file, m.line
                ));
            }
        }
    }
    if case.strict || !exp.entries.is_empty() {
        problems.extend(check_entries(case, exp));
    }

    // Exit code: 1 exactly when an error-level finding is reported.
    let any_error = actual
        .iter()
        .any(|a| a.section == Section::Findings && a.level == "error");
    let expected_code = if any_error { 1 } else { 0 };
    if output.code != Some(expected_code) {
        problems.push(format!(
            "exit code {:?}, expected {expected_code} (error-level findings: {any_error}); stderr:\n{}",
            output.code,
            output.stderr.trim_end()
        ));
    }
    problems
}

/// `cargo isolate entries --format json` must list exactly the `//~ entry` lines.
fn check_entries(case: &Case, exp: &Expectations) -> Vec<String> {
    let target = case.target.to_str().expect("UTF-8 fixture path");
    let output: Run = run(&["entries", "--format", "json", target]);
    let doc: Value = match serde_json::from_str(&output.stdout) {
        Ok(doc) => doc,
        Err(e) => {
            return vec![format!(
                "`entries` stdout is not JSON ({e}): {}",
                output.stderr
            )];
        }
    };
    let mut actual: Vec<(String, u64)> = doc["entry_points"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|e| {
                    (
                        e["file"].as_str().unwrap_or("?").to_owned(),
                        e["line"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut expected = exp.entries.clone();
    actual.sort();
    expected.sort();
    let mut problems = Vec::new();
    for e in &expected {
        if !actual.contains(e) {
            problems.push(format!("{}:{}: missing entry point", e.0, e.1));
        }
    }
    for a in &actual {
        if !expected.contains(a) {
            let how = doc["entry_points"]
                .as_array()
                .and_then(|l| {
                    l.iter()
                        .find(|e| e["file"] == a.0.as_str() && e["line"] == a.1)
                })
                .map(|e| format!("{} ({})", e["function"], e["how"]))
                .unwrap_or_default();
            problems.push(format!("{}:{}: unexpected entry point {how}", a.0, a.1));
        }
    }
    problems
}

#[test]
fn marker_parser_reads_every_form() {
    let mut exp = Expectations::default();
    let source = "static mut A: u8 = 0; //~ static_mut=error //~ suppressed lazy_singleton\n\
                  //~^ interior_mutable_static\n\
                  //~v unused_suppression\n\
                  // isolate: allow(x)\n\
                  //~^^ thread_local_state trailing words are a comment\n\
                  //~ parse_error\n\
                  static B: u8 = 0; // ok: immutable\n\
                  static C: u8 = 0; //~ lazy_singleton=note via a -> B::b -> c //~ static_mut=note unreached\n\
                  fn h() {} //~ entry\n";
    parse_markers("f.rs", source, &mut exp);
    let got: Vec<(u64, Section, &str, Option<&str>)> = exp
        .markers
        .iter()
        .map(|m| (m.line, m.section, m.rule.as_str(), m.level.as_deref()))
        .collect();
    let chains: Vec<Option<Vec<String>>> = exp.markers.iter().map(|m| m.chain.clone()).collect();
    assert_eq!(
        &chains[5..],
        [
            Some(vec!["a".to_string(), "B::b".into(), "c".into()]),
            Some(vec![])
        ]
    );
    assert_eq!(exp.entries, [("f.rs".to_string(), 9)]);
    assert_eq!(
        got,
        vec![
            (1, Section::Findings, "static_mut", Some("error")),
            (1, Section::Suppressed, "lazy_singleton", None),
            (1, Section::Findings, "interior_mutable_static", None),
            (4, Section::Findings, "unused_suppression", None),
            (3, Section::Findings, "thread_local_state", None),
            (8, Section::Findings, "lazy_singleton", Some("note")),
            (8, Section::Findings, "static_mut", Some("note")),
        ]
    );
    assert_eq!(exp.parse_errors, vec!["f.rs".to_owned()]);
    assert_eq!(exp.negatives, 1);
}

#[test]
#[should_panic(expected = "unknown rule `static_mutt`")]
fn marker_parser_rejects_unknown_rules() {
    parse_markers("f.rs", "//~ static_mutt\n", &mut Expectations::default());
}

#[test]
fn fixture_corpus_matches_markers() {
    let cases = discover();
    let expectations: Vec<Expectations> = cases.iter().map(expectations).collect();

    let positives: usize = expectations.iter().map(|e| e.markers.len()).sum();
    let negatives: usize = expectations.iter().map(|e| e.negatives).sum();
    assert!(
        cases.len() >= MIN_CASES,
        "only {} fixture cases found, expected at least {MIN_CASES}",
        cases.len()
    );
    assert!(
        positives >= MIN_POSITIVE_MARKERS,
        "only {positives} //~ markers found, expected at least {MIN_POSITIVE_MARKERS}"
    );
    assert!(
        negatives >= MIN_NEGATIVE_CASES,
        "only {negatives} `// ok:` negative cases found, expected at least {MIN_NEGATIVE_CASES}"
    );
    for rule in rules() {
        assert!(
            expectations
                .iter()
                .flat_map(|e| &e.markers)
                .any(|m| m.rule == rule),
            "no fixture expects rule {rule}"
        );
    }

    // Run the cases on a few threads: each is one short process.
    let workers = thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    let jobs: Vec<(usize, &Case, &Expectations)> = cases
        .iter()
        .zip(&expectations)
        .enumerate()
        .map(|(i, (c, e))| (i, c, e))
        .collect();
    let mut results: BTreeMap<usize, (String, Vec<String>)> = BTreeMap::new();
    thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(jobs.len().div_ceil(workers).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(i, case, exp)| (*i, (case.name(), check_case(case, exp))))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            results.extend(handle.join().expect("fixture worker thread"));
        }
    });

    let mut report = String::new();
    let mut failed = 0;
    for (name, problems) in results.values() {
        if problems.is_empty() {
            continue;
        }
        failed += 1;
        let _ = writeln!(report, "\n== {name} ({} problems)", problems.len());
        for problem in problems {
            let _ = writeln!(report, "  {problem}");
        }
    }
    assert!(
        failed == 0,
        "{failed} of {} fixture cases disagree with their markers \
         ({positives} markers, {negatives} negatives):{report}",
        cases.len()
    );
}
