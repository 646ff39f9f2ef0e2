//! [`Workspace`]: the files of a project, their texts and facts, and the analysis over them.
//! The command line loads one from disk and analyses it once; an editor keeps one alive and
//! hands it each changed buffer with [`Workspace::set_file_text`]: only that file is parsed
//! again, and [`Workspace::analyse`] rebuilds the cross-file index from the facts in memory.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;

use crate::analysis::{self, FileState, Settings};
use crate::config::{Config, ConfigFailure, Configs};
use crate::project::Project;
use crate::project::walk::{self, Layout};
use crate::report::{FileError, Origin, Report, Suppressed};
use crate::rules::{Level, Selector};
use crate::source::{self, FileId, FilePath, SourceDb};

/// Whether a diagnostic can point into a file with these facts (so its text is kept).
fn can_hold_a_finding(f: &crate::facts::FileFacts) -> bool {
    !f.globals.is_empty()
        || !f.suppressions.is_empty()
        || f.fns.iter().any(|x| x.returns_static_ref())
}

/// Stack size of the parser threads: syn parses recursively.
const PARSER_STACK: usize = 64 * 1024 * 1024;

/// Which texts a loaded workspace keeps, compressed, after parsing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeepTexts {
    /// Those a diagnostic can point into: files with globals, suppressions or `&'static`
    /// accessors (human output shows their snippets).
    #[default]
    Findable,
    /// Every reported file's (an editor that may show any file).
    All,
    /// None (machine formats, which print positions only).
    None,
}

/// What to lint and how.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceOptions {
    /// Directories or `.rs` files for [`Workspace::load`]; empty means `.`.
    pub paths: Vec<PathBuf>,
    /// A config file used for every file instead of the discovered ones (`--config`). Read by
    /// [`Workspace::load`], which reports it when it is broken; [`Workspace::new`] always uses
    /// the discovered ones.
    pub config: Option<PathBuf>,
    /// Lint test code too (`--include-tests`).
    pub include_tests: bool,
    /// Rule levels from the command line, in command-line order: later entries win.
    pub levels: Vec<(Selector, Level)>,
    /// Parser threads; `None` = one per core.
    pub jobs: Option<usize>,
    /// The directory paths are shown relative to; `None` = the current directory.
    pub cwd: Option<PathBuf>,
    /// Which file texts [`Workspace::load`] keeps (texts handed in with
    /// [`Workspace::set_file_text`] are always kept).
    pub keep_texts: KeepTexts,
    /// Report only files of the packages in these directories (cargo-style selection, see
    /// [`crate::PackageSelection`]); `None` = every file under the PATHs.
    pub only_packages: Option<Vec<PathBuf>>,
}

/// Why a workspace could not be loaded (the command line exits with 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error("path not found: {0}")]
    PathNotFound(PathBuf),
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

/// The files of a project with their texts and facts.
///
/// ```
/// use isolate_lint::{Workspace, WorkspaceOptions};
///
/// let mut ws = Workspace::new(WorkspaceOptions::default());
/// let lib = ws.set_file_text("/virtual/app/src/lib.rs", "static mut RUNS: u32 = 0;");
/// assert_eq!(ws.analyse().diagnostics.len(), 1);
///
/// // The editor removes the global: only this text is parsed again.
/// ws.set_file_text("/virtual/app/src/lib.rs", "const RUNS: u32 = 0;");
/// assert!(ws.analyse().diagnostics.is_empty());
/// assert_eq!(ws.sources().text(lib).as_deref(), Some("const RUNS: u32 = 0;"));
/// ```
pub struct Workspace {
    opts: WorkspaceOptions,
    cwd: PathBuf,
    /// The scanned roots (absolute directories).
    roots: Vec<PathBuf>,
    /// Directories read for context only (see [`Workspace::load`]).
    context_roots: Vec<PathBuf>,
    project: Project,
    configs: Configs,
    sources: SourceDb,
    files: Vec<FileState>,
    by_path: HashMap<PathBuf, FileId>,
    /// Problems met while walking the roots.
    walk_errors: Vec<FileError>,
    settings: HashMap<usize, Arc<Settings>>,
    /// Workspace roots, shared by their files' [`FilePath`]s.
    workspace_roots: HashMap<PathBuf, Arc<Path>>,
}

impl Workspace {
    /// An empty workspace: files come from [`Workspace::set_file_text`].
    pub fn new(opts: WorkspaceOptions) -> Workspace {
        let cwd = opts
            .cwd
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        // `--config` is loaded by `load`; an empty workspace starts from the discovered ones.
        Workspace {
            cwd,
            roots: Vec::new(),
            context_roots: Vec::new(),
            project: Project::default(),
            configs: Configs::default(),
            sources: SourceDb::default(),
            files: Vec::new(),
            by_path: HashMap::new(),
            walk_errors: Vec::new(),
            settings: HashMap::new(),
            workspace_roots: HashMap::new(),
            opts,
        }
    }

    /// Finds, reads and parses every file under `opts.paths` (in parallel). `progress` is
    /// called after each file with (files done, files in all).
    ///
    /// The rest of each package a PATH reaches into, and the workspace packages it depends on
    /// by path, are read too, for their types and globals, but never reported: a file gets the
    /// same findings whether the run starts at the workspace root, in a member, in a
    /// subdirectory, or names the file alone. (Their texts are not kept.)
    pub fn load(
        opts: WorkspaceOptions,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Workspace, LoadError> {
        let mut t = crate::timings::Stages::start();
        let mut ws = Workspace::new(opts);
        let configs = Configs::new(ws.opts.config.as_deref())?;
        let default_paths = [PathBuf::from(".")];
        let paths = if ws.opts.paths.is_empty() {
            &default_paths[..]
        } else {
            &ws.opts.paths[..]
        };
        let mut roots: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
        for p in paths {
            let meta = std::fs::metadata(p).map_err(|_| LoadError::PathNotFound(p.clone()))?;
            let abs = source::absolute(&ws.cwd, p);
            if meta.is_dir() {
                roots.push((abs, None));
            } else if p.extension().is_none_or(|x| x != "rs") {
                return Err(LoadError::NotRust(p.clone()));
            } else {
                let parent = abs.parent().map(Path::to_path_buf).unwrap_or_default();
                roots.push((parent, Some(abs)));
            }
        }
        let layout = Arc::new(Mutex::new(Layout::new(
            Project::default(),
            configs,
            ws.opts.include_tests,
        )));
        let mut found = Vec::new();
        for (i, (dir, file)) in roots.iter().enumerate() {
            let (files, errors) = walk::walk(i, dir, file.as_deref(), &layout)?;
            found.extend(files);
            ws.walk_errors.extend(errors.into_iter().map(|e| FileError {
                file: e.rel.clone(),
                path: e.rel,
                message: e.message,
            }));
        }
        if let Some(dirs) = &ws.opts.only_packages {
            let mut l = layout
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let project = &mut l.project;
            found.retain(|f| {
                project
                    .package_of_file(&f.abs)
                    .is_some_and(|p| dirs.contains(&project.packages[p].dir))
            });
        }
        if found.is_empty() {
            let shown: Vec<_> = paths.iter().map(|r| r.display().to_string()).collect();
            return Err(LoadError::NoFiles(shown.join(", ")));
        }
        ws.roots = roots.into_iter().map(|(d, _)| d).collect();
        found.sort_by(|a, b| (a.root, &a.rel).cmp(&(b.root, &b.rel)));
        // Overlapping roots (`check . src`) reach some files twice: keep the first root's.
        let mut seen: HashSet<PathBuf> = HashSet::new();
        let many = ws.roots.len() > 1;
        let key = |p: &Path| {
            if many {
                std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
            } else {
                p.to_path_buf()
            }
        };
        found.retain(|f| seen.insert(key(&f.abs)));
        let reported = found.len();
        // Context: the rest of every package the PATHs touch, and the workspace packages they
        // depend on by path, are read for their types and globals but not reported, so that a
        // file gets the same findings whichever PATH reached it.
        for (i, dir) in ws.context_dirs(&layout, &found).into_iter().enumerate() {
            let root = ws.roots.len() + i;
            let (files, _) = walk::walk(root, &dir, None, &layout)?;
            found.extend(files.into_iter().filter(|f| seen.insert(key(&f.abs))));
            ws.context_roots.push(dir);
        }
        let layout = Arc::into_inner(layout)
            .expect("the walk is over")
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ws.project = layout.project;
        ws.configs = layout.configs;
        t.mark("walk and manifests");

        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(ws.opts.jobs.unwrap_or(0))
            .stack_size(PARSER_STACK)
            .thread_name(|i| format!("isolate-parse-{i}"))
            .build()
            .map_err(|e| LoadError::Threads(e.to_string()))?;
        let done = AtomicUsize::new(0);
        let total = found.len();
        let keep = ws.opts.keep_texts;
        let parsed: Vec<(
            Option<source::CompressedText>,
            Result<crate::facts::FileFacts, String>,
        )> = pool.install(|| {
            found
                .par_iter()
                .enumerate()
                .map(|(n, f)| {
                    let out = match crate::parse::read(&f.abs) {
                        Ok(text) => {
                            let facts = crate::parse::parse_source(&text);
                            let needed = n < reported
                                && match keep {
                                    KeepTexts::All => true,
                                    KeepTexts::Findable => {
                                        facts.as_ref().is_ok_and(can_hold_a_finding)
                                    }
                                    KeepTexts::None => false,
                                };
                            (needed.then(|| source::compress_text(&text)), facts)
                        }
                        Err(e) => (None, Err(e)),
                    };
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                    out
                })
                .collect()
        });
        crate::timings::per_file(&t);
        t.mark("read, parse and collect facts");
        for (n, (f, (text, facts))) in found.into_iter().zip(parsed).enumerate() {
            let settings = ws.settings_for(f.config);
            let scan_root = ws
                .roots
                .iter()
                .chain(&ws.context_roots)
                .nth(f.root)
                .cloned()
                .unwrap_or_default();
            let (workspace_root, workspace_rel) = ws.workspace_path(&f.abs, &scan_root);
            let id = ws.sources.add(FilePath {
                display: source::display_path(&ws.cwd, &f.abs),
                rel: f.rel,
                abs: f.abs.clone(),
                workspace_rel,
                workspace_root,
            });
            if let Some(text) = text {
                ws.sources.set_compressed(id, text);
            }
            ws.by_path.insert(f.abs.clone(), id);
            ws.files.push(FileState {
                abs: f.abs,
                scan_root,
                settings,
                facts,
                reported: n < reported,
            });
        }
        t.mark("file table");
        Ok(ws)
    }

    /// Directories to read for context: the packages of the reported files that no scanned
    /// root covers whole, and their workspace path dependencies (normal and build; dev too
    /// when tests are linted), transitively.
    fn context_dirs(&self, layout: &Mutex<Layout>, found: &[walk::Found]) -> Vec<PathBuf> {
        let mut l = layout
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut queue: Vec<usize> = Vec::new();
        let mut dirs_seen: HashSet<PathBuf> = HashSet::new();
        for f in found {
            if let Some(p) = l.project.package_of_file(&f.abs)
                && dirs_seen.insert(l.project.packages[p].dir.clone())
            {
                queue.push(p);
            }
        }
        let include_tests = self.opts.include_tests;
        let mut out = Vec::new();
        while let Some(p) = queue.pop() {
            let dir = l.project.packages[p].dir.clone();
            // Covered when a scanned directory holds the whole package.
            if !self.roots.iter().any(|r| dir.starts_with(r)) {
                out.push(dir);
            }
            let deps: Vec<PathBuf> = l.project.packages[p]
                .deps
                .iter()
                .filter(|d| include_tests || d.kind != crate::project::DepKind::Dev)
                .filter_map(|d| d.path.clone())
                .collect();
            for dep in deps {
                if let Some(q) = l.project.package_of_dir(&dep)
                    && dirs_seen.insert(l.project.packages[q].dir.clone())
                {
                    queue.push(q);
                }
            }
        }
        out.sort();
        out
    }

    /// The workspace root of the file at `abs` and the file's path relative to it: its
    /// package's workspace root; for a file in no package, the directory above its last
    /// `src/` (as loose crates are grouped), else `scan_root`.
    fn workspace_path(&mut self, abs: &Path, scan_root: &Path) -> (Arc<Path>, String) {
        let root = match self.project.package_of_file(abs) {
            Some(p) => self.project.packages[p].workspace_root.clone(),
            None => abs
                .ancestors()
                .skip(1)
                .find(|a| a.file_name().is_some_and(|n| n == "src"))
                .and_then(Path::parent)
                .unwrap_or(scan_root)
                .to_path_buf(),
        };
        let rel = source::relative(&root, abs);
        let shared = self
            .workspace_roots
            .entry(root)
            .or_insert_with_key(|r| Arc::from(r.as_path()))
            .clone();
        (shared, rel)
    }

    /// The package and target of `krate`, as a report names them.
    fn origin(&self, krate: crate::project::CrateId) -> Origin {
        use crate::project::TargetKind;
        let c = &self.project.crates[krate];
        let package = c.package.map(|p| &self.project.packages[p]);
        Origin {
            package: package.map_or_else(|| c.name.clone(), |p| p.name.clone()),
            version: package.map_or_else(|| "0.0.0".into(), |p| p.version.clone()),
            package_dir: package.map_or_else(|| c.dir.clone(), |p| p.dir.clone()),
            target: c.name.clone(),
            kind: match c.kind {
                TargetKind::Lib | TargetKind::Loose => "lib",
                TargetKind::Bin => "bin",
                TargetKind::Example => "example",
                TargetKind::Test => "test",
                TargetKind::Bench => "bench",
                TargetKind::Build => "custom-build",
            },
            src_path: c.root.clone().unwrap_or_else(|| c.dir.join("src/lib.rs")),
            edition: package.map_or_else(|| "2015".into(), |p| p.edition.clone()),
        }
    }

    fn settings_for(&mut self, config: Arc<Config>) -> Arc<Settings> {
        let key = Arc::as_ptr(&config) as usize;
        if let Some(s) = self.settings.get(&key) {
            return s.clone();
        }
        let s = Arc::new(Settings::new(
            config,
            &self.opts.levels,
            self.opts.include_tests,
        ));
        self.settings.insert(key, s.clone());
        s
    }

    /// Sets the text of the file at `path` (absolute, or relative to the workspace's current
    /// directory), adding the file if it is new, and collects its facts again. No source file
    /// is read; a file new to the workspace has its configuration looked up once.
    pub fn set_file_text(&mut self, path: impl AsRef<Path>, text: impl Into<String>) -> FileId {
        let text = text.into();
        let facts = crate::parse::parse_source(&text);
        self.put_file(path.as_ref(), &text, facts)
    }

    /// Like [`Workspace::set_file_text`], but a text that cannot be parsed changes nothing and
    /// the parse error is returned: the file keeps its last text that parsed and that text's
    /// facts, so an editor's findings stay put while the user is halfway through an edit. A
    /// file new to the workspace is not added until its text parses.
    ///
    /// ```
    /// use isolate_lint::{Workspace, WorkspaceOptions};
    ///
    /// let mut ws = Workspace::new(WorkspaceOptions::default());
    /// let lib = ws.update_file_text("/virtual/src/lib.rs", "static mut A: u8 = 0;")?;
    /// let half_typed = ws.update_file_text("/virtual/src/lib.rs", "static mut A: u8 = 0; fn (");
    /// assert!(half_typed.unwrap_err().starts_with("parse error at 1:"));
    /// assert_eq!(ws.sources().text(lib).as_deref(), Some("static mut A: u8 = 0;"));
    /// assert_eq!(ws.analyse().diagnostics.len(), 1);
    /// # Ok::<(), String>(())
    /// ```
    pub fn update_file_text(
        &mut self,
        path: impl AsRef<Path>,
        text: &str,
    ) -> Result<FileId, String> {
        let facts = crate::parse::parse_source(text)?;
        Ok(self.put_file(path.as_ref(), text, Ok(facts)))
    }

    fn put_file(
        &mut self,
        path: &Path,
        text: &str,
        facts: Result<crate::facts::FileFacts, String>,
    ) -> FileId {
        let abs = source::absolute(&self.cwd, path);
        if let Some(&id) = self.by_path.get(&abs) {
            self.sources.set_text(id, text);
            self.files[id.index()].facts = facts;
            return id;
        }
        let dir = abs.parent().map(Path::to_path_buf).unwrap_or_default();
        let (root, rel) = match self.roots.iter().find(|r| abs.starts_with(r)) {
            Some(r) => (r.clone(), source::relative(r, &abs)),
            None => (dir.clone(), source::display_path(&self.cwd, &abs)),
        };
        let config = self
            .configs
            .for_dir(&mut self.project, &dir, &root)
            .unwrap_or_default();
        let settings = self.settings_for(config);
        let (workspace_root, workspace_rel) = self.workspace_path(&abs, &root);
        let id = self.sources.add(FilePath {
            display: source::display_path(&self.cwd, &abs),
            rel,
            abs: abs.clone(),
            workspace_rel,
            workspace_root,
        });
        self.sources.set_text(id, text);
        self.by_path.insert(abs.clone(), id);
        self.files.push(FileState {
            abs,
            scan_root: root,
            settings,
            facts,
            reported: true,
        });
        id
    }

    /// Analyses every file and returns the report, sorted by file, line, column and rule.
    pub fn analyse(&mut self) -> Report {
        let started = Instant::now();
        let mut outcome = analysis::run(&mut self.project, &self.files);
        let mut report = Report {
            diagnostics: std::mem::take(&mut outcome.diagnostics),
            suppressed: std::mem::take(&mut outcome.suppressed)
                .into_iter()
                .map(|(diagnostic, reason)| Suppressed { diagnostic, reason })
                .collect(),
            errors: self.walk_errors.clone(),
            entry_points: outcome.entry_points,
            files_scanned: self
                .files
                .iter()
                .filter(|f| f.reported && f.facts.is_ok())
                .count(),
            duration: started.elapsed(),
            baseline: None,
            origins: Default::default(),
        };
        let mut by_crate: HashMap<usize, Arc<Origin>> = HashMap::new();
        let files_with_findings = report
            .diagnostics
            .iter()
            .chain(report.suppressed.iter().map(|s| &s.diagnostic))
            .map(|d| d.primary.file);
        for file in files_with_findings {
            if let Some(&krate) = outcome.file_crates.get(file.index()) {
                let origin = by_crate
                    .entry(krate)
                    .or_insert_with(|| Arc::new(self.origin(krate)))
                    .clone();
                report.origins.insert(file, origin);
            }
        }
        for (i, f) in self.files.iter().enumerate().filter(|(_, f)| f.reported) {
            if let Err(message) = &f.facts {
                let p = self.sources.path(FileId(i as u32));
                report.errors.push(FileError {
                    file: p.rel.clone(),
                    path: p.display.clone(),
                    message: message.clone(),
                });
            }
        }
        report.sort(&self.sources);
        report
    }

    /// The files and their texts.
    pub fn sources(&self) -> &SourceDb {
        &self.sources
    }

    /// The id of the file at `path`, if it is in the workspace.
    pub fn file_id(&self, path: impl AsRef<Path>) -> Option<FileId> {
        self.by_path
            .get(&source::absolute(&self.cwd, path.as_ref()))
            .copied()
    }
}
