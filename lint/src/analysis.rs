//! The cross-file stage: from every file's facts to the sorted diagnostics. It reads no file:
//! the module tree, the resolver and the type index are rebuilt from facts on every call, which
//! is what lets an editor re-analyse after changing one file's text.
//!
//! ```text
//! facts per file ──▶ module tree ──▶ resolver (scopes per module) ──▶ type index
//!                ──▶ global rules (first match per global) ──▶ project rules (accessors, ...)
//!                ──▶ suppressions + meta-rules ──▶ levels ──▶ diagnostics
//! ```

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use crate::appstate;
use crate::classify::{TypeIndex, TypeOverrides};
use crate::config::Config;
use crate::diagnostic::{Diagnostic, Span};
use crate::facts::{FileFacts, Global, LocalModule};
use crate::levels::{Reach, class_of, refine};
use crate::paths::{Graph, Reachability, Target, Wanted};
use crate::project::Project;
use crate::project::modules::{FileInput, ModuleTree};
use crate::report::EntryPoint;
use crate::resolve::{Resolution, Resolver};
use crate::rules::{self, Candidate, GlobalView, Level, StateOf};
use crate::source::FileId;
use crate::suppress::{self, Suppression, SuppressionScope};

/// The settings one file is linted with: its configuration and the command line on top.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub config: Arc<Config>,
    /// By rule, in [`rules::ALL`] order.
    pub levels: Vec<Level>,
    /// By rule: set by the config file or a command-line flag (then it wins over the levels
    /// policy).
    pub explicit: Vec<bool>,
    pub include_tests: bool,
}

impl Settings {
    /// `config`'s levels over the defaults, then `flags` in command-line order.
    pub fn new(
        config: Arc<Config>,
        flags: &[(rules::Selector, Level)],
        include_tests: bool,
    ) -> Self {
        let mut levels: Vec<Level> = rules::ALL.iter().map(|r| r.default_level).collect();
        let mut explicit = vec![false; levels.len()];
        for (rule, level) in &config.rules {
            if let Some(i) = rules::ALL.iter().position(|r| r.id == rule.id) {
                levels[i] = *level;
                explicit[i] = true;
            }
        }
        for (selector, level) in flags {
            for (i, r) in rules::ALL.iter().enumerate() {
                if selector.matches(r) {
                    levels[i] = *level;
                    explicit[i] = true;
                }
            }
        }
        let include_tests = include_tests || config.include_tests;
        Settings {
            config,
            levels,
            explicit,
            include_tests,
        }
    }

    /// Whether `rule`'s level was set by the config file or on the command line.
    pub fn explicit(&self, rule: &rules::Rule) -> bool {
        rules::ALL
            .iter()
            .position(|r| r.id == rule.id)
            .is_some_and(|i| self.explicit[i])
    }

    pub fn level(&self, rule: &rules::Rule) -> Level {
        rules::ALL
            .iter()
            .position(|r| r.id == rule.id)
            .map_or(rule.default_level, |i| self.levels[i])
    }
}

/// One file as the analysis sees it.
pub(crate) struct FileState {
    pub abs: PathBuf,
    /// The directory it was found under (for loose-crate grouping).
    pub scan_root: PathBuf,
    pub settings: Arc<Settings>,
    /// Its facts, or why it could not be parsed.
    pub facts: Result<FileFacts, String>,
    /// Reported on (under a scanned PATH), or read for context only.
    pub reported: bool,
}

/// What rules read: every file's facts and the cross-file index built from them.
pub(crate) struct Analysis<'a> {
    files: &'a [FileState],
    facts: &'a [Option<&'a FileFacts>],
    tree: &'a ModuleTree,
    resolver: &'a Resolver<'a>,
    types: &'a TypeIndex<'a>,
}

impl<'a> Analysis<'a> {
    /// Every parsed file with its facts.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &'a FileFacts)> + '_ {
        self.facts
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.map(|f| (FileId(i as u32), f)))
    }

    /// Whether an item of `file` is linted: not test code, unless tests are included.
    pub fn linted(&self, file: FileId, in_test: bool) -> bool {
        self.files[file.index()].settings.include_tests
            || !(in_test || self.tree.file_test[file.index()])
    }

    /// The crate `file` belongs to.
    pub fn crate_of(&self, file: FileId) -> usize {
        self.tree.file_crate[file.index()]
    }

    /// Whether code of crate `from` can call into crate `to` (see [`Resolver::can_call_into`]).
    pub fn can_call_into(&self, from: usize, to: usize) -> bool {
        self.resolver.can_call_into(from, to)
    }

    /// The facts of a parsed file.
    pub fn facts(&self, file: FileId) -> &'a FileFacts {
        self.facts[file.index()].expect("a parsed file")
    }

    /// Global `idx` of `file`.
    pub fn global(&self, file: FileId, idx: usize) -> &'a Global {
        &self.facts[file.index()]
            .expect("a global's file parsed")
            .globals[idx]
    }

    /// Resolves a path written in module `module` of `file`.
    pub fn resolve(&self, file: FileId, module: LocalModule, path: &[String]) -> Resolution {
        self.resolver
            .resolve(self.resolver.module(file, module), path)
    }

    /// The type index (for rules that classify more than globals).
    pub fn types(&self) -> &'a TypeIndex<'a> {
        self.types
    }

    /// The facts of `file`, if it parsed.
    pub fn facts_of(&self, file: FileId) -> Option<&'a FileFacts> {
        self.facts[file.index()]
    }

    /// How many files the analysis holds (parsed or not).
    pub fn file_count(&self) -> usize {
        self.facts.len()
    }

    /// The settings `file` is linted with.
    pub fn settings(&self, file: FileId) -> &'a Settings {
        &self.files[file.index()].settings
    }

    /// The path of module `module` of `file` from its crate root, the crate's name first.
    pub fn module_path(&self, file: FileId, module: LocalModule) -> Vec<String> {
        self.resolver
            .canonical_module_path(self.resolver.module(file, module))
    }
}

impl SuppressionScope for Analysis<'_> {
    fn checked(&self, file: FileId, s: &Suppression) -> bool {
        if !self.files[file.index()].reported {
            return false;
        }
        let in_test = self.facts[file.index()].is_some_and(|f| f.in_test_code(s.loc.line));
        self.linted(file, in_test)
    }
}

/// The outcome of one analysis.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub diagnostics: Vec<Diagnostic>,
    /// Suppressed diagnostics with the suppression's reason.
    pub suppressed: Vec<(Diagnostic, Option<String>)>,
    /// The entry points found, in node order.
    pub entry_points: Vec<EntryPoint>,
    /// Per file: its crate (for the package and target a report names).
    pub file_crates: Vec<crate::project::CrateId>,
}

/// Where entry points count: a finding in a workspace with none is judged as a library's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ServingScope<'p> {
    /// A Cargo workspace (or lone package), by its root directory.
    Workspace(&'p std::path::Path),
    /// Loose files grouped into a pseudo-crate, by its directory.
    Loose(&'p std::path::Path),
    Unknown,
}

/// Analyses `files` (indexed by [`FileId`]).
pub(crate) fn run(project: &mut Project, files: &[FileState]) -> Outcome {
    let inputs: Vec<FileInput> = files
        .iter()
        .map(|f| FileInput {
            abs: &f.abs,
            scan_root: &f.scan_root,
            facts: f.facts.as_ref().ok(),
        })
        .collect();
    let mut t = crate::timings::Stages::start();
    let tree = ModuleTree::build(project, &inputs);
    t.mark("module tree");
    let facts: Vec<Option<&FileFacts>> = files.iter().map(|f| f.facts.as_ref().ok()).collect();
    let project: &Project = project;
    let resolver = Resolver::new(&tree, project, &facts);
    let overrides: Vec<&TypeOverrides> =
        files.iter().map(|f| &f.settings.config.overrides).collect();
    let types = TypeIndex::new(&resolver, &facts, &overrides);
    t.mark("resolver and type index");
    let a = Analysis {
        files,
        facts: &facts,
        tree: &tree,
        resolver: &resolver,
        types: &types,
    };

    // Global rules: one finding per global, the most specific rule first.
    let mut found: Vec<Candidate> = Vec::new();
    for (file, f) in a.files() {
        for (idx, g) in f.globals.iter().enumerate() {
            let gated = g
                .test_features
                .as_deref()
                .is_some_and(|fs| project.gate_is_test(a.crate_of(file), fs));
            if !a.linted(file, g.in_test || gated) {
                continue;
            }
            let (shape, by_init) = types.classify_global(g, file);
            let view = GlobalView {
                global: g,
                file,
                shape,
                state: crate::classify::state_of(g.kind, &shape),
                by_init,
                types: &types,
            };
            if let Some((rule, hit)) = rules::check_global(&view) {
                let class = refine(class_of(Some(g.kind), view.shape, &g.ty), view.state);
                found.push(Candidate {
                    rule,
                    file,
                    loc: g.loc,
                    start_line: g.start_line,
                    macro_start: g.macro_start,
                    item: g.name.clone(),
                    ty: g.ty_text.clone(),
                    hit,
                    global: Some((file, idx)),
                    fix: None,
                    state: Some(StateOf::new(class, Target::Global(file, idx))),
                });
            }
        }
    }
    // A global and its `&'static` accessors are one finding, at the global.
    crate::accessors::attach(&a, &mut found);
    // Project rules, which may read the global rules' candidates.
    let mut project_found = Vec::new();
    for rule in rules::ALL {
        if let Some(check) = rule.project {
            project_found.extend(check(&a, &found));
        }
    }
    found.extend(project_found);
    t.mark("global and project rules");

    // Application state, then execution paths: which findings a request handler reaches.
    let graph = Graph::new(&a);
    t.mark("call graph");
    let registered = appstate::registered(&graph);
    found.extend(appstate::candidates(&a, &registered));
    t.mark("app state");
    let wanted = Wanted {
        global_names: found
            .iter()
            .filter_map(|c| match c.state.as_ref().map(|s| &s.target) {
                Some(Target::Global(f, i)) => Some(a.global(*f, *i).name.as_str()),
                _ => None,
            })
            .collect(),
        state_types: appstate::state_types(&a, &registered),
    };
    let reach = Reachability::new(graph, &wanted);
    // A workspace (a lone package, a group of loose files) without an entry point of its own is
    // a library, whatever else the scan holds: a directory of unrelated packages where one has
    // a handler must not make the others' state "not reached".
    let scope = |file: FileId| -> ServingScope {
        let krate = tree.file_crate.get(file.index()).copied();
        match krate.and_then(|k| project.crates.get(k)) {
            Some(c) => match c.package {
                Some(p) => ServingScope::Workspace(&project.packages[p].workspace_root),
                None => ServingScope::Loose(&c.dir),
            },
            None => ServingScope::Unknown,
        }
    };
    let serving: HashSet<ServingScope> = reach
        .entries
        .iter()
        .map(|e| scope(reach.graph.locate(e.node).0))
        .collect();
    for c in found.iter_mut() {
        let file = c.file;
        let Some(s) = c.state.as_mut() else { continue };
        (s.reach, s.chain) = reach.reach(&s.target);
        if s.reach == Reach::NotReached && !serving.contains(&scope(file)) {
            s.reach = Reach::NoEntryPoints;
        }
    }
    let entry_count = reach.entries.len();
    t.note(|| {
        format!(
            "{entry_count} entry points; {} of {} functions reached",
            reach.visited(),
            reach.graph.len()
        )
    });
    t.mark("reachability");

    let sups: Vec<_> = a
        .files()
        .map(|(file, f)| (file, f.suppressions.as_slice()))
        .collect();
    let applied = suppress::apply(found, &sups, &a);
    let mut out = Outcome::default();
    // `crate::module::item`: the module of the global, else of the file.
    let item_path = |c: &Candidate| -> String {
        let local = c
            .global
            .filter(|(f, _)| *f == c.file)
            .map_or(0, |(f, i)| a.global(f, i).module);
        let module = &tree.modules[tree.canonical(tree.module_of(c.file, local)) as usize];
        let mut path = project.crates[module.krate].name.clone();
        for segment in module.path.iter().chain(std::iter::once(&c.item)) {
            path.push_str("::");
            path.push_str(segment);
        }
        path
    };
    let to_diag = |c: Candidate| -> Option<Diagnostic> {
        let settings = &files[c.file.index()].settings;
        let level = settings.level(c.rule);
        // A rule switched off stays off; a level set in config or on the command line wins;
        // otherwise state findings follow the levels policy.
        let severity = match &c.state {
            _ if level == Level::Allow => return None,
            Some(s) if !settings.explicit(c.rule) => {
                settings.config.policy.severity(s.class, s.reach)?
            }
            _ => level.severity()?,
        };
        let path = item_path(&c);
        let mut d = Diagnostic::new(
            c.rule,
            severity,
            Span {
                file: c.file,
                loc: c.loc,
            },
            c.hit.message,
        );
        d.label = Some(if c.ty.is_empty() {
            c.rule.id.to_string()
        } else {
            format!("{}: {}", c.rule.id, c.ty)
        });
        d.help = Some(c.hit.help).filter(|h| !h.is_empty());
        d.notes = c.hit.notes;
        d.related = c.hit.related;
        d.item_path = path;
        d.fix = c.fix;
        d.item = c.item;
        d.ty = c.ty;
        if let Some(s) = &c.state {
            match s.reach {
                Reach::Reached => {
                    let (steps, related, text) = reach.describe(&s.chain);
                    d.execution_path = steps;
                    d.related.extend(related);
                    d.notes.push(text);
                }
                Reach::NotReached => d.notes.push(format!(
                    "not reached from any of the {entry_count} entry point{} found",
                    if entry_count == 1 { "" } else { "s" }
                )),
                Reach::NoEntryPoints => {}
            }
        }
        d.item_start_line = suppress::can_cover(c.rule).then_some(c.start_line);
        Some(d)
    };
    let reported = |c: &Candidate| files[c.file.index()].reported;
    out.diagnostics = applied
        .kept
        .into_iter()
        .chain(applied.meta)
        .filter(reported)
        .filter_map(to_diag)
        .collect();
    out.suppressed = applied
        .suppressed
        .into_iter()
        .filter(|(c, _)| reported(c))
        .filter_map(|(c, reason)| to_diag(c).map(|d| (d, reason)))
        .collect();
    out.entry_points = reach
        .entries
        .iter()
        .map(|e| {
            let span = reach.span(e.node);
            EntryPoint {
                function: reach.graph.name(e.node),
                span,
                how: e.how.clone(),
                registered_at: e.site,
                reported: files[span.file.index()].reported,
            }
        })
        .collect();
    out.file_crates = tree.file_crate.clone();
    t.mark("suppressions and diagnostics");
    out
}

/// Test support: analyses in-memory files laid out on a temporary disk tree.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Writes `files` below a temp dir, collects facts and hands the analysis to `f`.
    pub fn with_analysis<R>(
        files: &[(&str, &str)],
        overrides: TypeOverrides,
        f: impl FnOnce(&Analysis, &[FileState]) -> R,
    ) -> R {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let config = Config {
            overrides,
            ..Config::default()
        };
        let settings = Arc::new(Settings::new(Arc::new(config), &[], false));
        let mut states = Vec::new();
        for (rel, text) in files {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            if rel.ends_with(".rs") {
                states.push(FileState {
                    abs: p,
                    scan_root: root.to_path_buf(),
                    settings: settings.clone(),
                    facts: crate::parse::parse_source(text),
                    reported: true,
                });
            }
        }
        let mut project = Project::default();
        let inputs: Vec<FileInput> = states
            .iter()
            .map(|s| FileInput {
                abs: &s.abs,
                scan_root: root,
                facts: s.facts.as_ref().ok(),
            })
            .collect();
        let tree = ModuleTree::build(&mut project, &inputs);
        let facts: Vec<Option<&FileFacts>> = states.iter().map(|f| f.facts.as_ref().ok()).collect();
        let resolver = Resolver::new(&tree, &project, &facts);
        let overrides: Vec<&TypeOverrides> = states
            .iter()
            .map(|f| &f.settings.config.overrides)
            .collect();
        let types = TypeIndex::new(&resolver, &facts, &overrides);
        let a = Analysis {
            files: &states,
            facts: &facts,
            tree: &tree,
            resolver: &resolver,
            types: &types,
        };
        f(&a, &states)
    }
}
