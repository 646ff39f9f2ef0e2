//! File discovery: every `.rs` file under the scanned roots, respecting `.gitignore`, skipping
//! `target/`, hidden directories, configured excludes and (unless asked) test code directories.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Directories whose files are test code (skipped unless tests are included).
pub const TEST_DIRS: &[&str] = &["tests", "benches", "examples"];

/// One file to lint.
#[derive(Debug, Clone)]
pub struct SourcePath {
    /// Index of the root it was found under.
    pub root: usize,
    pub path: PathBuf,
    /// Relative to its root, `/`-separated.
    pub rel: String,
}

/// How to walk one root.
pub struct WalkOptions<'a> {
    pub include_tests: bool,
    pub exclude: &'a [String],
}

/// A problem found while walking (an unreadable directory, a broken symlink).
#[derive(Debug, Clone)]
pub struct WalkError {
    pub rel: String,
    pub message: String,
}

/// Lists the `.rs` files under `root` (a directory; `explicit_file` when the user named one
/// file, which is then linted whatever the filters say).
pub fn walk(
    root_idx: usize,
    root: &Path,
    explicit_file: Option<&Path>,
    opts: &WalkOptions,
) -> (Vec<SourcePath>, Vec<WalkError>) {
    if let Some(file) = explicit_file {
        let rel = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return (
            vec![SourcePath {
                root: root_idx,
                path: file.to_path_buf(),
                rel,
            }],
            Vec::new(),
        );
    }
    let excludes = build_excludes(opts.exclude);
    let include_tests = opts.include_tests;
    let root_owned = root.to_path_buf();
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
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            let rel = relative(&root_owned, entry.path());
            if rel.is_empty() {
                return true;
            }
            if is_dir {
                let name = entry.file_name().to_string_lossy();
                if name == "target" || (!include_tests && TEST_DIRS.contains(&name.as_ref())) {
                    return false;
                }
            }
            let excluded =
                excludes.is_match(&rel) || (is_dir && excludes.is_match(format!("{rel}/")));
            !excluded
        });
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for entry in builder.build() {
        match entry {
            Ok(e) => {
                let is_file = e.file_type().is_some_and(|t| t.is_file());
                if is_file && e.path().extension().is_some_and(|x| x == "rs") {
                    files.push(SourcePath {
                        root: root_idx,
                        rel: relative(root, e.path()),
                        path: e.into_path(),
                    });
                }
            }
            Err(err) => errors.push(WalkError {
                rel: err_path(&err)
                    .map(|p| relative(root, p))
                    .unwrap_or_default(),
                message: err.to_string(),
            }),
        }
    }
    (files, errors)
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

fn build_excludes(patterns: &[String]) -> GlobSet {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        // Patterns were validated with the config; a bad one here is skipped, not fatal.
        if let Ok(g) = GlobBuilder::new(p).literal_separator(true).build() {
            b.add(g);
        }
    }
    b.build().unwrap_or_else(|_| GlobSet::empty())
}

/// `path` relative to `root`, `/`-separated.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<_> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let exclude = ["src/gen/**".to_string()];
        let opts = WalkOptions {
            include_tests: false,
            exclude: &exclude,
        };
        let (files, errors) = walk(0, root, None, &opts);
        assert!(errors.is_empty());
        let rels: Vec<_> = files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["src/a.rs"]);
        let opts = WalkOptions {
            include_tests: true,
            exclude: &[],
        };
        let (files, _) = walk(0, root, None, &opts);
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
