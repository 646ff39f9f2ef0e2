//! File discovery: every `.rs` file under the scanned roots, respecting `.gitignore`, skipping
//! `target/`, hidden directories, the excludes of the configuration that governs each
//! directory and (unless that configuration or the command line includes tests) test code
//! directories.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::Project;
use crate::config::{Config, ConfigFailure, Configs};

/// Directories whose files are test code (skipped unless tests are included).
pub(crate) const TEST_DIRS: &[&str] = &["tests", "benches", "examples"];

/// One file to lint.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// Index of the root it was found under.
    pub root: usize,
    pub abs: PathBuf,
    /// Relative to its root, `/`-separated.
    pub rel: String,
    /// The configuration that governs it.
    pub config: Arc<Config>,
}

/// A problem found while walking (an unreadable directory, a broken symlink).
#[derive(Debug, Clone)]
pub(crate) struct WalkError {
    pub rel: String,
    pub message: String,
}

/// What the walk shares with its filter: the project and config caches.
pub(crate) struct Layout {
    pub project: Project,
    pub configs: Configs,
    /// `--include-tests`.
    pub include_tests: bool,
    failure: Option<ConfigFailure>,
}

impl Layout {
    pub fn new(project: Project, configs: Configs, include_tests: bool) -> Self {
        Layout {
            project,
            configs,
            include_tests,
            failure: None,
        }
    }

    fn config(&mut self, dir: &Path, root: &Path) -> Option<Arc<Config>> {
        match self.configs.for_dir(&mut self.project, dir, root) {
            Ok(c) => Some(c),
            Err(e) => {
                self.failure.get_or_insert(e);
                None
            }
        }
    }
}

/// Lists the `.rs` files under `root` (an absolute directory; `explicit_file` when the user
/// named one file, which is then linted whatever the filters say).
pub(crate) fn walk(
    root_idx: usize,
    root: &Path,
    explicit_file: Option<&Path>,
    layout: &Arc<Mutex<Layout>>,
) -> Result<(Vec<Found>, Vec<WalkError>), ConfigFailure> {
    if let Some(file) = explicit_file {
        let rel = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut l = lock(layout);
        let config = l.config(root, root);
        if let Some(e) = l.failure.take() {
            return Err(e);
        }
        return Ok((
            vec![Found {
                root: root_idx,
                abs: file.to_path_buf(),
                rel,
                config: config.unwrap_or_default(),
            }],
            Vec::new(),
        ));
    }
    let root_owned = root.to_path_buf();
    let shared = layout.clone();
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .parents(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(move |entry| {
            let path = entry.path();
            if path == root_owned {
                return true;
            }
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            let Some(parent) = path.parent() else {
                return true;
            };
            let mut l = lock(&shared);
            let Some(config) = l.config(parent, &root_owned) else {
                return false;
            };
            if is_dir {
                let name = entry.file_name().to_string_lossy();
                let tests = l.include_tests || config.include_tests;
                if name == "target" || (!tests && TEST_DIRS.contains(&name.as_ref())) {
                    return false;
                }
            }
            !config.excludes(path, is_dir)
        });
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for entry in builder.build() {
        match entry {
            Ok(e) => {
                let is_file = e.file_type().is_some_and(|t| t.is_file());
                if is_file && e.path().extension().is_some_and(|x| x == "rs") {
                    let parent = e.path().parent().unwrap_or(root);
                    let config = lock(layout).config(parent, root).unwrap_or_default();
                    files.push(Found {
                        root: root_idx,
                        rel: crate::source::relative(root, e.path()),
                        abs: e.into_path(),
                        config,
                    });
                }
            }
            Err(err) => errors.push(WalkError {
                rel: err_path(&err)
                    .map(|p| crate::source::relative(root, p))
                    .unwrap_or_default(),
                message: err.to_string(),
            }),
        }
    }
    // A broken config under the root fails the run, wherever it was found.
    if let Some(e) = lock(layout).failure.take() {
        return Err(e);
    }
    Ok((files, errors))
}

fn lock(l: &Mutex<Layout>) -> std::sync::MutexGuard<'_, Layout> {
    l.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn err_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            err_path(err)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(include_tests: bool) -> Arc<Mutex<Layout>> {
        Arc::new(Mutex::new(Layout::new(
            Project::default(),
            Configs::new(None).unwrap(),
            include_tests,
        )))
    }

    #[test]
    fn filters() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "src/a.rs",
            "src/gen/b.rs",
            "tests/t.rs",
            "target/x.rs",
            ".hidden/h.rs",
            "ignored/i.rs",
            "src/c.txt",
            "crates/x/benches/b.rs",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        std::fs::write(root.join(".gitignore"), "ignored/\n").unwrap();
        std::fs::write(root.join(".git"), "").unwrap();
        std::fs::write(root.join("isolate.toml"), "exclude = [\"src/gen/**\"]\n").unwrap();
        let (files, errors) = walk(0, root, None, &layout(false)).unwrap();
        assert!(errors.is_empty());
        let rels: Vec<_> = files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["src/a.rs"]);
        std::fs::write(root.join("isolate.toml"), "").unwrap();
        let (files, _) = walk(0, root, None, &layout(true)).unwrap();
        let rels: Vec<_> = files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(
            rels,
            [
                "crates/x/benches/b.rs",
                "src/a.rs",
                "src/gen/b.rs",
                "tests/t.rs"
            ]
        );
    }
}
