//! Cargo-style package selection: `--manifest-path`, `-p/--package`, `--workspace` and
//! `--exclude`, answered from the manifests (cargo is never run), the way cargo answers them:
//!
//! - the manifest is `--manifest-path`, else the nearest `Cargo.toml` at or above the current
//!   directory; its workspace is the one the project model finds for it;
//! - the members are the root package (if the root manifest has a `[package]`), the packages in
//!   the directories `workspace.members` globs name (less `workspace.exclude`), and the path
//!   dependencies of members that lie inside the workspace directory;
//! - `-p NAME` (repeatable; `*`/`?` globs; a `@version` suffix is accepted) selects members by
//!   name, `--workspace` selects every member less `--exclude` (also globs), and with neither
//!   the manifest's own package is selected - or, for a virtual manifest, `default-members`,
//!   else every member.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};

use super::{Project, globs_match, globs_match_prefix, manifest, normalize};

/// Which packages to lint, as cargo's flags say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageSelection {
    /// `--manifest-path`: a `Cargo.toml` (default: the nearest at or above the current
    /// directory).
    pub manifest_path: Option<PathBuf>,
    /// `-p/--package`: member names or globs.
    pub packages: Vec<String>,
    /// `--workspace`: every member.
    pub workspace: bool,
    /// `--exclude`: member names or globs left out of `--workspace`.
    pub exclude: Vec<String>,
}

/// One selected package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedPackage {
    pub name: String,
    /// Its directory (absolute).
    pub dir: PathBuf,
}

/// Why a selection cannot be made (the command line exits with 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("manifest path `{}` does not exist", .0.display())]
    ManifestNotFound(PathBuf),
    #[error("the manifest path must be a path to a Cargo.toml file: `{}`", .0.display())]
    NotAManifest(PathBuf),
    #[error("could not find `Cargo.toml` in `{}` or any parent directory", .0.display())]
    NoManifest(PathBuf),
    #[error("cannot parse manifest `{}`", .0.display())]
    BadManifest(PathBuf),
    #[error("--exclude can only be used together with --workspace")]
    ExcludeWithoutWorkspace,
    #[error("invalid package pattern `{0}`: {1}")]
    BadPattern(String, String),
    #[error("package `{spec}` is not a member of the workspace at `{}`{}", root.display(), suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownPackage {
        spec: String,
        root: PathBuf,
        suggestion: Option<String>,
    },
    #[error("no package selected (the workspace at `{}` has no members left)", .0.display())]
    Empty(PathBuf),
}

impl PackageSelection {
    /// Whether any of the flags was given (without them the linter walks PATHs instead).
    pub fn is_active(&self) -> bool {
        self.manifest_path.is_some()
            || !self.packages.is_empty()
            || self.workspace
            || !self.exclude.is_empty()
    }

    /// The selected packages, sorted by directory.
    pub fn resolve(&self, cwd: &Path) -> Result<Vec<SelectedPackage>, SelectError> {
        if !self.exclude.is_empty() && !self.workspace {
            return Err(SelectError::ExcludeWithoutWorkspace);
        }
        let manifest_path = match &self.manifest_path {
            Some(p) => {
                let abs = crate::source::absolute(cwd, p);
                if !abs.exists() {
                    return Err(SelectError::ManifestNotFound(p.clone()));
                }
                if !abs.is_file() || abs.file_name().is_none_or(|n| n != "Cargo.toml") {
                    return Err(SelectError::NotAManifest(p.clone()));
                }
                abs
            }
            None => find_manifest(cwd).ok_or_else(|| SelectError::NoManifest(cwd.into()))?,
        };
        let dir = manifest_path.parent().map(normalize).unwrap_or_default();
        let m = manifest::read(&manifest_path)
            .ok_or_else(|| SelectError::BadManifest(manifest_path.clone()))?;
        let mut project = Project::default();
        let own = project
            .package_of_dir(&dir)
            .filter(|&p| project.packages[p].dir == dir);
        let root = match (&m.workspace, own) {
            (Some(_), _) | (None, None) => dir.clone(),
            (None, Some(p)) => project.packages[p].workspace_root.clone(),
        };
        let members = members(&mut project, &root);
        let chosen: Vec<&SelectedPackage> = if !self.packages.is_empty() {
            let mut chosen = Vec::new();
            for spec in &self.packages {
                let matcher = pattern(spec)?;
                let hits: Vec<_> = members
                    .iter()
                    .filter(|p| matcher.is_match(&p.name))
                    .collect();
                if hits.is_empty() {
                    return Err(SelectError::UnknownPackage {
                        spec: spec.clone(),
                        root,
                        suggestion: closest(spec, &members),
                    });
                }
                chosen.extend(hits);
            }
            chosen
        } else if self.workspace {
            let excluded = self
                .exclude
                .iter()
                .map(|s| pattern(s))
                .collect::<Result<Vec<_>, _>>()?;
            members
                .iter()
                .filter(|p| !excluded.iter().any(|m| m.is_match(&p.name)))
                .collect()
        } else if let Some(p) = own {
            // A package manifest: that package (a root package without its members, as cargo).
            members
                .iter()
                .filter(|s| s.dir == project.packages[p].dir)
                .collect()
        } else {
            // A virtual manifest: `default-members`, else every member.
            let defaults = m
                .workspace
                .as_ref()
                .map(|w| w.default_members.clone())
                .unwrap_or_default();
            members
                .iter()
                .filter(|s| {
                    defaults.is_empty()
                        || globs_match(&defaults, &crate::source::relative(&root, &s.dir))
                })
                .collect()
        };
        let mut out: Vec<SelectedPackage> = chosen.into_iter().cloned().collect();
        out.sort_by(|a, b| a.dir.cmp(&b.dir));
        out.dedup();
        if out.is_empty() {
            return Err(SelectError::Empty(root));
        }
        Ok(out)
    }
}

/// `name`, `name@version` or a glob over names.
fn pattern(spec: &str) -> Result<GlobMatcher, SelectError> {
    let name = spec.split_once('@').map_or(spec, |(n, _)| n);
    Glob::new(name)
        .map(|g| g.compile_matcher())
        .map_err(|e| SelectError::BadPattern(spec.to_string(), e.kind().to_string()))
}

fn closest(spec: &str, members: &[SelectedPackage]) -> Option<String> {
    members
        .iter()
        .map(|p| (strsim::jaro_winkler(spec, &p.name), &p.name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n.clone())
}

/// The nearest `Cargo.toml` at or above `dir`.
fn find_manifest(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join("Cargo.toml"))
        .find(|p| p.is_file())
}

/// The members of the workspace rooted at `root`, by directory.
fn members(project: &mut Project, root: &Path) -> Vec<SelectedPackage> {
    let Some(m) = project.manifest(root) else {
        return Vec::new();
    };
    let (patterns, exclude) = m
        .workspace
        .as_ref()
        .map(|w| (w.members.clone(), w.exclude.clone()))
        .unwrap_or_default();
    let mut dirs: Vec<PathBuf> = Vec::new();
    if m.package.is_some() {
        dirs.push(root.to_path_buf());
    }
    for p in &patterns {
        dirs.extend(expand(root, p));
    }
    let mut found: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut queue = dirs;
    while let Some(dir) = queue.pop() {
        let rel = crate::source::relative(root, &dir);
        if found.contains_key(&dir) || (!rel.is_empty() && globs_match_prefix(&exclude, &rel)) {
            continue;
        }
        let Some(p) = project.package_of_dir(&dir) else {
            continue;
        };
        let pkg = &project.packages[p];
        if pkg.dir != dir {
            continue;
        }
        found.insert(dir.clone(), pkg.name.clone());
        // Path dependencies inside the workspace directory are members too.
        queue.extend(
            pkg.deps
                .iter()
                .filter_map(|d| d.path.clone())
                .filter(|d| d.starts_with(root)),
        );
    }
    found
        .into_iter()
        .map(|(dir, name)| SelectedPackage { name, dir })
        .collect()
}

/// The directories below `root` a `members` entry names (globs in any component).
fn expand(root: &Path, pattern: &str) -> Vec<PathBuf> {
    let pattern = pattern.trim_end_matches('/');
    let is_glob = |s: &str| s.contains(['*', '?', '[', '{']);
    if !is_glob(pattern) {
        return vec![normalize(&root.join(pattern))];
    }
    let literal: Vec<&str> = pattern.split('/').take_while(|c| !is_glob(c)).collect();
    let base = normalize(&root.join(literal.join("/")));
    let depth = if pattern.contains("**") {
        usize::MAX
    } else {
        pattern.split('/').count() - literal.len()
    };
    let mut out = Vec::new();
    let mut stack = vec![(base, 0usize)];
    while let Some((dir, d)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name();
            let name = name.to_string_lossy();
            if !e.file_type().is_ok_and(|t| t.is_dir()) || name.starts_with('.') || name == "target"
            {
                continue;
            }
            let rel = crate::source::relative(root, &path);
            if globs_match(&[pattern.to_string()], &rel) {
                out.push(path.clone());
            }
            if d + 1 < depth {
                stack.push((path, d + 1));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::tests::tree;

    fn names(sel: &PackageSelection, cwd: &Path) -> Result<Vec<String>, SelectError> {
        sel.resolve(cwd)
            .map(|v| v.into_iter().map(|p| p.name).collect())
    }

    #[test]
    fn members_globs_excludes_and_path_deps() {
        let dir = tree(&[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/*\", \"tools/cli\"]\nexclude = [\"crates/old\"]\ndefault-members = [\"crates/api\"]\n",
            ),
            (
                "crates/api/Cargo.toml",
                "[package]\nname = \"api\"\n[dependencies]\nshared = { path = \"../../libs/shared\" }\n",
            ),
            (
                "crates/core/Cargo.toml",
                "[package]\nname = \"core-state\"\n",
            ),
            ("crates/old/Cargo.toml", "[package]\nname = \"old\"\n"),
            ("crates/notes/README.md", ""),
            ("tools/cli/Cargo.toml", "[package]\nname = \"cli\"\n"),
            ("libs/shared/Cargo.toml", "[package]\nname = \"shared\"\n"),
        ]);
        let root = dir.path();
        let all = PackageSelection {
            workspace: true,
            ..Default::default()
        };
        assert_eq!(
            names(&all, root).unwrap(),
            ["api", "core-state", "shared", "cli"]
        );
        let excluded = PackageSelection {
            workspace: true,
            exclude: vec!["c*".into()],
            ..Default::default()
        };
        assert_eq!(names(&excluded, root).unwrap(), ["api", "shared"]);
        // A virtual manifest without flags: default-members.
        let none = PackageSelection {
            manifest_path: Some(root.join("Cargo.toml")),
            ..Default::default()
        };
        assert_eq!(names(&none, &root.join("tools")).unwrap(), ["api"]);
        // In a member: that member alone; -p from anywhere in the workspace.
        assert_eq!(
            names(&PackageSelection::default(), &root.join("crates/core")).unwrap(),
            ["core-state"]
        );
        let p = PackageSelection {
            packages: vec!["cli".into(), "api@0.1.0".into()],
            ..Default::default()
        };
        assert_eq!(
            names(&p, &root.join("crates/core")).unwrap(),
            ["api", "cli"]
        );
        let typo = PackageSelection {
            packages: vec!["core_state".into()],
            ..Default::default()
        };
        let err = names(&typo, root).unwrap_err().to_string();
        assert!(err.contains("did you mean `core-state`"), "{err}");
        let old = PackageSelection {
            packages: vec!["old".into()],
            ..Default::default()
        };
        assert!(matches!(
            names(&old, root),
            Err(SelectError::UnknownPackage { .. })
        ));
        let bad = PackageSelection {
            exclude: vec!["x".into()],
            ..Default::default()
        };
        assert_eq!(names(&bad, root), Err(SelectError::ExcludeWithoutWorkspace));
        let missing = PackageSelection {
            manifest_path: Some(root.join("nope/Cargo.toml")),
            ..Default::default()
        };
        assert!(matches!(
            names(&missing, root),
            Err(SelectError::ManifestNotFound(_))
        ));
    }

    #[test]
    fn a_root_package_without_flags_is_itself() {
        let dir = tree(&[
            (
                "Cargo.toml",
                "[package]\nname = \"app\"\n[workspace]\nmembers = [\"plugins/**\"]\n",
            ),
            ("plugins/a/Cargo.toml", "[package]\nname = \"a\"\n"),
            ("plugins/group/b/Cargo.toml", "[package]\nname = \"b\"\n"),
        ]);
        let root = dir.path();
        assert_eq!(names(&PackageSelection::default(), root).unwrap(), ["app"]);
        let all = PackageSelection {
            workspace: true,
            ..Default::default()
        };
        assert_eq!(names(&all, root).unwrap(), ["app", "a", "b"]);
    }
}
