//! The pipeline: discover files -> parse and collect facts per file (in parallel) -> index types
//! across files -> rules -> suppressions -> levels -> sorted report.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::classify::{Crates, TypeIndex, TypeOverrides};
use crate::config::{Config, ConfigFailure};
use crate::discover::{self, SourcePath, WalkOptions};
use crate::facts::{FileFacts, Loc, Suppression};
use crate::parse;
use crate::report::{FileError, Finding, Report, Severity, Suppressed};
use crate::rules::{self, GlobalView, Hit, Level, Rule};

/// Stack size of the parser threads: syn parses recursively.
const PARSER_STACK: usize = 64 * 1024 * 1024;

/// Rule levels given on the command line (`--allow/--warn/--deny`, `all` allowed). Entries
/// naming `all` apply first, then specific rules in the order allow, warn, deny.
#[derive(Debug, Clone, Default)]
pub struct LevelOverrides {
    pub allow: Vec<String>,
    pub warn: Vec<String>,
    pub deny: Vec<String>,
}

impl LevelOverrides {
    fn entries(&self) -> impl Iterator<Item = (&str, Level)> {
        let tagged = || {
            self.allow
                .iter()
                .map(|r| (r.as_str(), Level::Allow))
                .chain(self.warn.iter().map(|r| (r.as_str(), Level::Warn)))
                .chain(self.deny.iter().map(|r| (r.as_str(), Level::Deny)))
        };
        let all: Vec<_> = tagged().filter(|(r, _)| *r == "all").collect();
        let specific: Vec<_> = tagged().filter(|(r, _)| *r != "all").collect();
        all.into_iter().chain(specific)
    }
}

/// What to check and how.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Directories or files; empty means `.`.
    pub paths: Vec<PathBuf>,
    /// A config file used for every root instead of each root's own.
    pub config: Option<PathBuf>,
    pub include_tests: bool,
    pub levels: LevelOverrides,
    /// Parser threads; `None` = one per core.
    pub jobs: Option<usize>,
}

/// Why a check could not run (exit code 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CheckError {
    #[error("path not found: {0}")]
    PathNotFound(PathBuf),
    #[error(
        "unknown rule `{0}` (run `cargo isolate rules` for the list; `all` selects every rule)"
    )]
    UnknownRule(String),
    #[error("no .rs files found under {0}")]
    NoFiles(String),
    #[error("not a Rust source file (expected a directory or a .rs file): {0}")]
    NotRust(PathBuf),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] ConfigFailure),
    #[error("cannot start parser threads: {0}")]
    Threads(String),
}

/// One scanned root with its settings.
struct Root {
    dir: PathBuf,
    file: Option<PathBuf>,
    config: Config,
    levels: HashMap<&'static str, Level>,
    include_tests: bool,
}

/// A finding before suppressions and levels.
struct Raw {
    rule: &'static Rule,
    /// A lazily initialised global (only those have singleton accessors).
    lazy: bool,
    hit: Hit,
    file: usize,
    loc: Loc,
    start_line: u32,
    item: String,
    ty: String,
}

/// Runs a whole check.
pub fn check(opts: &CheckOptions) -> Result<Report, CheckError> {
    let started = Instant::now();
    let roots = resolve_roots(opts)?;

    // Discover.
    let mut sources: Vec<SourcePath> = Vec::new();
    let mut errors: Vec<FileError> = Vec::new();
    for (i, root) in roots.iter().enumerate() {
        let walk_opts = WalkOptions {
            include_tests: root.include_tests,
            exclude: &root.config.exclude,
        };
        let (files, walk_errors) = discover::walk(i, &root.dir, root.file.as_deref(), &walk_opts);
        sources.extend(files);
        errors.extend(walk_errors.into_iter().map(|e| FileError {
            file: e.rel,
            message: e.message,
        }));
    }
    if sources.is_empty() {
        let shown: Vec<_> = roots.iter().map(|r| r.dir.display().to_string()).collect();
        return Err(CheckError::NoFiles(shown.join(", ")));
    }
    sources.sort_by(|a, b| (a.root, &a.rel).cmp(&(b.root, &b.rel)));
    if roots.len() > 1 {
        // Overlapping roots (`check . src`) reach some files twice: keep the first root's.
        let mut seen = HashSet::new();
        sources.retain(|s| {
            seen.insert(std::fs::canonicalize(&s.path).unwrap_or_else(|_| s.path.clone()))
        });
    }

    // Parse and collect facts, in parallel.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .stack_size(PARSER_STACK)
        .thread_name(|i| format!("isolate-parse-{i}"))
        .build()
        .map_err(|e| CheckError::Threads(e.to_string()))?;
    let parsed: Vec<Result<FileFacts, String>> = pool.install(|| {
        sources
            .par_iter()
            .map(|s| parse::parse_file(&s.path))
            .collect()
    });

    let mut files: Vec<(SourcePath, FileFacts)> = Vec::with_capacity(parsed.len());
    for (src, result) in sources.into_iter().zip(parsed) {
        match result {
            Ok(facts) => files.push((src, facts)),
            Err(message) => errors.push(FileError {
                file: src.rel,
                message,
            }),
        }
    }
    // Resolve across files.
    let (paths, facts): (Vec<SourcePath>, Vec<FileFacts>) = files.into_iter().unzip();
    let crates = group_crates(&roots, &paths, &facts);
    let overrides = type_overrides(&roots);
    let index = TypeIndex::new(&facts, &crates, &overrides);

    // Rules.
    let mut raw = global_findings(&roots, &paths, &facts, &index);
    raw.extend(accessor_findings(&roots, &paths, &facts, &crates.of, &raw));

    // Suppressions, then levels.
    let mut report = Report {
        files_scanned: facts.len(),
        errors,
        ..Report::default()
    };
    apply_suppressions(&roots, &paths, &facts, raw, &mut report);

    report.findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.rule).cmp(&(&b.file, b.line, b.column, b.rule))
    });
    report.suppressed.sort_by(|a, b| {
        let (a, b) = (&a.finding, &b.finding);
        (&a.file, a.line, a.column, a.rule).cmp(&(&b.file, b.line, b.column, b.rule))
    });
    report.errors.sort_by(|a, b| a.file.cmp(&b.file));
    report.duration = started.elapsed();
    Ok(report)
}

fn resolve_roots(opts: &CheckOptions) -> Result<Vec<Root>, CheckError> {
    for (id, _) in opts.levels.entries() {
        if id != "all" && rules::by_id(id).is_none() {
            return Err(CheckError::UnknownRule(id.to_string()));
        }
    }
    let shared = opts.config.as_deref().map(Config::load).transpose()?;
    let default_paths = [PathBuf::from(".")];
    let paths = if opts.paths.is_empty() {
        &default_paths[..]
    } else {
        &opts.paths[..]
    };
    let mut roots = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|_| CheckError::PathNotFound(p.clone()))?;
        let (dir, file) = if meta.is_dir() {
            (p.clone(), None)
        } else if p.extension().is_none_or(|x| x != "rs") {
            return Err(CheckError::NotRust(p.clone()));
        } else {
            let parent = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            (parent.to_path_buf(), Some(p.clone()))
        };
        let config = match &shared {
            Some(c) => c.clone(),
            None => Config::discover(&dir)?,
        };
        let mut levels: HashMap<&'static str, Level> =
            rules::ALL.iter().map(|r| (r.id, r.default_level)).collect();
        for (id, level) in &config.rules {
            if let Some(rule) = rules::by_id(id) {
                levels.insert(rule.id, *level);
            }
        }
        for (id, level) in opts.levels.entries() {
            for rule in rules::ALL.iter().filter(|r| id == "all" || r.id == id) {
                levels.insert(rule.id, level);
            }
        }
        let include_tests = opts.include_tests || config.include_tests;
        roots.push(Root {
            dir,
            file,
            config,
            levels,
            include_tests,
        });
    }
    Ok(roots)
}

/// Groups files into crates: everything before the last `src/` component of the relative path
/// (the root itself for `src/...`). A crate's import name comes from its directory
/// (`serde-json-1.0.1/` -> `serde_json`, the root -> its dir name); its module names from the
/// directories and file stems below `src/` and the `mod` items of its files.
fn group_crates(roots: &[Root], paths: &[SourcePath], facts: &[FileFacts]) -> Crates {
    let mut ids: HashMap<(usize, &str), usize> = HashMap::new();
    let mut crates = Crates::default();
    for (p, f) in paths.iter().zip(facts) {
        let (key, inner) = match p.rel.rfind("src/") {
            Some(i) if i == 0 || p.rel.as_bytes()[i - 1] == b'/' => (&p.rel[..i], &p.rel[i + 4..]),
            _ => ("", p.rel.as_str()),
        };
        let id = *ids.entry((p.root, key)).or_insert_with(|| {
            let dir = key
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default();
            let dir = if dir.is_empty() {
                let root = std::fs::canonicalize(&roots[p.root].dir).unwrap_or_default();
                root.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            } else {
                dir.to_string()
            };
            crates.names.push(crate_name(&dir));
            crates.modules.push(HashSet::new());
            crates.names.len() - 1
        });
        crates.of.push(id);
        let file_modules: Vec<String> = inner
            .split('/')
            .map(|part| part.strip_suffix(".rs").unwrap_or(part))
            .filter(|stem| !matches!(*stem, "mod" | "lib" | "main" | ""))
            .map(String::from)
            .collect();
        let modules = &mut crates.modules[id];
        modules.extend(file_modules.iter().cloned());
        modules.extend(f.modules.iter().cloned());
        crates.file_modules.push(file_modules);
    }
    crates
}

/// `serde-json-1.0.1` -> `serde_json`: drop a version suffix, `-` becomes `_`.
fn crate_name(dir: &str) -> String {
    let base = match dir.rfind('-') {
        Some(i)
            if dir[i + 1..].starts_with(|c: char| c.is_ascii_digit())
                && dir[i + 1..].contains('.') =>
        {
            &dir[..i]
        }
        _ => dir,
    };
    base.replace('-', "_")
}

fn type_overrides(roots: &[Root]) -> TypeOverrides {
    let mut mutable = Vec::new();
    let mut immutable = Vec::new();
    for r in roots {
        mutable.extend(r.config.mutable_types.iter().cloned());
        immutable.extend(r.config.immutable_types.iter().cloned());
    }
    TypeOverrides::new(&mutable, &immutable)
}

fn global_findings(
    roots: &[Root],
    paths: &[SourcePath],
    facts: &[FileFacts],
    index: &TypeIndex,
) -> Vec<Raw> {
    let mut out = Vec::new();
    for (file, f) in facts.iter().enumerate() {
        let include_tests = roots[paths[file].root].include_tests;
        for g in f.globals.iter().filter(|g| include_tests || !g.in_test) {
            let view = GlobalView {
                global: g,
                shape: index.classify(&g.ty, file),
            };
            if let Some((rule, hit)) = rules::check_global(&view) {
                out.push(Raw {
                    rule,
                    lazy: view.is_lazy(),
                    hit,
                    file,
                    loc: g.loc,
                    start_line: g.start_line,
                    item: g.name.clone(),
                    ty: g.ty_text.clone(),
                });
            }
        }
    }
    out
}

/// Singleton accessors: fns returning `&'static T` that read a reported lazy global of their
/// own file, or else of their own crate.
fn accessor_findings(
    roots: &[Root],
    paths: &[SourcePath],
    facts: &[FileFacts],
    crate_of: &[usize],
    found: &[Raw],
) -> Vec<Raw> {
    let mut by_file: HashMap<usize, HashSet<&str>> = HashMap::new();
    let mut by_crate: HashMap<usize, HashSet<&str>> = HashMap::new();
    for r in found.iter().filter(|r| r.lazy) {
        by_file.entry(r.file).or_default().insert(&r.item);
        by_crate
            .entry(crate_of[r.file])
            .or_default()
            .insert(&r.item);
    }
    let mut out = Vec::new();
    for (file, f) in facts.iter().enumerate() {
        let include_tests = roots[paths[file].root].include_tests;
        let reads = |set: Option<&HashSet<&str>>, uses: &[String]| -> Option<String> {
            let set = set?;
            uses.iter().find(|u| set.contains(u.as_str())).cloned()
        };
        for func in f
            .fns
            .iter()
            .filter(|x| x.returns_static_ref() && (include_tests || !x.in_test))
        {
            let global = reads(by_file.get(&file), &func.uses)
                .or_else(|| reads(by_crate.get(&crate_of[file]), &func.uses));
            if let Some(global) = global {
                out.push(Raw {
                    rule: rules::LAZY_SINGLETON,
                    lazy: false,
                    hit: rules::accessor_hit(func, &global),
                    file,
                    loc: func.loc,
                    start_line: func.start_line,
                    item: func.qualified.clone(),
                    ty: func.ret_text.clone(),
                });
            }
        }
    }
    out
}

/// Whether suppression `s` covers a finding named on `name_line` whose item starts at
/// `start_line`: same line, anywhere from just above the item to its name, or above it with
/// only comment lines in between (a blank line ends its reach). A comment after code covers
/// its own line only.
fn covers(s: &Suppression, start_line: u32, name_line: u32) -> bool {
    let l = s.loc.line;
    if l == name_line {
        return true;
    }
    if s.trailing {
        return false;
    }
    if l + 1 >= start_line && l < name_line {
        return true;
    }
    l < start_line && s.reach >= start_line
}

fn apply_suppressions(
    roots: &[Root],
    paths: &[SourcePath],
    facts: &[FileFacts],
    raw: Vec<Raw>,
    report: &mut Report,
) {
    let mut used: HashSet<(usize, usize)> = HashSet::new();
    for r in raw {
        let f = &facts[r.file];
        let by = f.suppressions.iter().enumerate().find(|(_, s)| {
            s.rules.iter().any(|id| id == r.rule.id) && covers(s, r.start_line, r.loc.line)
        });
        let root = &roots[paths[r.file].root];
        let level = root.levels[r.rule.id];
        let finding = make_finding(&paths[r.file], r.rule, level, r.loc, r.item, r.ty, r.hit);
        match (by, finding) {
            (Some((si, s)), finding) => {
                used.insert((r.file, si));
                if let Some(finding) = finding {
                    report.suppressed.push(Suppressed {
                        finding,
                        reason: s.reason.clone(),
                    });
                }
            }
            (None, Some(finding)) => report.findings.push(finding),
            (None, None) => {}
        }
    }
    for (file, f) in facts.iter().enumerate() {
        let root = &roots[paths[file].root];
        for (si, s) in f.suppressions.iter().enumerate() {
            if !root.include_tests && f.in_test_code(s.loc.line) {
                continue;
            }
            let text = format!("isolate: allow({})", s.rules.join(", "));
            let meta = |rule: &'static Rule, hit: Hit| {
                make_finding(
                    &paths[file],
                    rule,
                    root.levels[rule.id],
                    s.loc,
                    text.clone(),
                    String::new(),
                    hit,
                )
            };
            if s.reason.is_none() {
                report.findings.extend(meta(
                    rules::SUPPRESSION_WITHOUT_REASON,
                    Hit {
                        message: format!("suppression `{text}` gives no reason"),
                        help:
                            "add `-- <why sharing this across users is safe>` after the rule list"
                                .into(),
                    },
                ));
            }
            if !used.contains(&(file, si)) {
                let unknown: Vec<_> = s
                    .rules
                    .iter()
                    .filter(|id| rules::by_id(id).is_none())
                    .collect();
                let message = if unknown.is_empty() {
                    format!("suppression `{text}` matches no finding")
                } else {
                    let names: Vec<_> = unknown.iter().map(|s| format!("`{s}`")).collect();
                    format!(
                        "suppression `{text}` names unknown rule {}",
                        names.join(", ")
                    )
                };
                report.findings.extend(meta(
                    rules::UNUSED_SUPPRESSION,
                    Hit {
                        message,
                        help: "remove the comment, or fix the rule id (`cargo isolate rules` lists them)".into(),
                    },
                ));
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn make_finding(
    path: &SourcePath,
    rule: &'static Rule,
    level: Level,
    loc: Loc,
    item: String,
    ty: String,
    hit: Hit,
) -> Option<Finding> {
    let level = match level {
        Level::Allow => return None,
        Level::Warn => Severity::Warning,
        Level::Deny => Severity::Error,
    };
    Some(Finding {
        rule: rule.id,
        level,
        file: path.rel.clone(),
        line: loc.line,
        column: loc.column,
        end_line: loc.end_line,
        end_column: loc.end_column,
        item,
        ty,
        message: hit.message,
        help: hit.help,
        bytes: (loc.byte_start, loc.byte_end),
        path: path.path.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The suppression comment on `line` of `src`, as the scanner sees it.
    fn sup(src: &str, line: u32) -> Suppression {
        crate::facts::scan_suppressions(src)
            .into_iter()
            .find(|s| s.loc.line == line)
            .expect("a suppression on that line")
    }

    #[test]
    fn suppression_reach() {
        let src = "// isolate: allow(static_mut)\n// more words\n// more\n#[doc = \"x\"]\n\
                   static mut A: u8 = 0; // isolate: allow(static_mut)\n";
        // Above the attributes, through comment lines.
        assert!(covers(&sup(src, 1), 4, 5));
        // At the end of the name line.
        assert!(covers(&sup(src, 5), 4, 5));
        // A blank line or code in between stops it.
        let blank = "// isolate: allow(static_mut)\n\nstatic mut A: u8 = 0;\n";
        assert!(!covers(&sup(blank, 1), 3, 3));
        let code = "// isolate: allow(static_mut)\nfn f() {}\nstatic mut A: u8 = 0;\n";
        assert!(!covers(&sup(code, 1), 3, 3));
        // A trailing comment on the line above belongs to that line's code.
        let trailing =
            "static mut A: u8 = 0; // isolate: allow(static_mut)\nstatic mut B: u8 = 0;\n";
        assert!(covers(&sup(trailing, 1), 1, 1));
        assert!(!covers(&sup(trailing, 1), 2, 2));
    }

    #[test]
    fn all_applies_before_specific_rules() {
        let o = LevelOverrides {
            allow: vec!["static_mut".into()],
            warn: vec![],
            deny: vec!["all".into()],
        };
        let order: Vec<_> = o.entries().collect();
        assert_eq!(order, [("all", Level::Deny), ("static_mut", Level::Allow)]);
    }

    #[test]
    fn crate_names_from_directories() {
        assert_eq!(crate_name("serde-json-1.0.1"), "serde_json");
        assert_eq!(crate_name("hashbrown-0.14.5"), "hashbrown");
        assert_eq!(crate_name("tokio-util"), "tokio_util");
        assert_eq!(crate_name("x-2"), "x_2");
    }
}
