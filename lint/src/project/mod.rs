//! The project layer: which package, crate and workspace each file belongs to, read from
//! `Cargo.toml` files (see [`manifest`] for why they are parsed directly rather than through
//! `cargo metadata`).
//!
//! - A file's package is the nearest directory above it (or its own) with a `Cargo.toml`
//!   that has a `[package]`.
//! - A package's workspace root is the nearest `Cargo.toml` above it with a `[workspace]`
//!   whose `members` globs name the package (and whose `exclude` does not), or the one named by
//!   `package.workspace`; else the package is its own root.
//! - Each package has crates: its targets (lib, bins including `src/bin/*`, examples, tests,
//!   benches, the build script), with their crate names (`[lib] name`, else the package name
//!   with `-` as `_`) and root files, and its dependencies, dev-dependencies and
//!   build-dependencies.
//! - Files under no manifest (a directory of loose `.rs` files) get pseudo-crates, grouped by
//!   the directory above their last `src/` (the directory itself when there is none).
//!
//! Nothing here runs cargo, build scripts or proc macros.

pub(crate) mod manifest;
pub(crate) mod modules;
pub(crate) mod select;
pub(crate) mod walk;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSetBuilder};

use manifest::{DepSpec, Manifest};

/// Index into [`Project::packages`].
pub(crate) type PackageId = usize;
/// Index into [`Project::crates`].
pub(crate) type CrateId = usize;

/// What a crate is built as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TargetKind {
    Lib,
    Bin,
    Example,
    Test,
    Bench,
    Build,
    /// Files under no manifest.
    Loose,
}

impl TargetKind {
    /// Whether all of the crate's code is test code (tests, benches, examples).
    pub fn is_test(self) -> bool {
        matches!(
            self,
            TargetKind::Test | TargetKind::Bench | TargetKind::Example
        )
    }
}

/// How a package depends on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DepKind {
    Normal,
    Dev,
    Build,
}

/// One dependency of a package.
#[derive(Debug, Clone)]
pub(crate) struct Dependency {
    /// The name code uses for it (`use core_lib::..`): the key, with `-` as `_`.
    pub name: String,
    /// The package it names (`package = ".."`, else the key).
    pub package: String,
    pub kind: DepKind,
    /// The directory of a path dependency.
    pub path: Option<PathBuf>,
}

/// A `[package]`.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    pub name: String,
    /// `version` (inherited from `[workspace.package]` when asked); `0.0.0` when absent.
    pub version: String,
    /// `edition`, likewise; `2015` when absent, as cargo reads it.
    pub edition: String,
    pub dir: PathBuf,
    /// The directory of the workspace root manifest (the package's own for a lone package).
    pub workspace_root: PathBuf,
    pub deps: Vec<Dependency>,
    /// Its targets, lib first.
    pub crates: Vec<CrateId>,
}

/// A crate: one target of a package, or a pseudo-crate of loose files.
#[derive(Debug, Clone)]
pub(crate) struct CrateData {
    /// The name code refers to it by (`my_crate`).
    pub name: String,
    pub kind: TargetKind,
    /// Its root file, when there is one.
    pub root: Option<PathBuf>,
    pub package: Option<PackageId>,
    /// For loose crates: the directory holding its `src/` (or the files).
    pub dir: PathBuf,
}

/// What the linter knows about the packages, crates and workspaces of the scanned files.
#[derive(Debug, Default)]
pub(crate) struct Project {
    pub packages: Vec<Package>,
    pub crates: Vec<CrateData>,
    /// Directory -> the package it lies in (cached walk-ups).
    dir_package: HashMap<PathBuf, Option<PackageId>>,
    /// Parsed manifests by directory (`None`: no `Cargo.toml`, or not a manifest).
    manifests: HashMap<PathBuf, Option<std::sync::Arc<Manifest>>>,
    /// Loose crates by their directory.
    loose: HashMap<PathBuf, CrateId>,
    /// Lib and loose crates by name, built on first use after the last crate was added.
    by_name: std::sync::OnceLock<HashMap<String, Vec<CrateId>>>,
}

impl Project {
    fn manifest(&mut self, dir: &Path) -> Option<std::sync::Arc<Manifest>> {
        if let Some(m) = self.manifests.get(dir) {
            return m.clone();
        }
        let path = dir.join("Cargo.toml");
        let m = if path.is_file() {
            manifest::read(&path).map(std::sync::Arc::new)
        } else {
            None
        };
        self.manifests.insert(dir.to_path_buf(), m.clone());
        m
    }

    /// Whether `dir` holds a `Cargo.toml` (parsable or not): where walks for loose files stop.
    pub fn has_manifest(&mut self, dir: &Path) -> bool {
        self.manifest(dir).is_some() || dir.join("Cargo.toml").is_file()
    }

    /// The package whose directory is `dir` or the nearest above it.
    pub fn package_of_dir(&mut self, dir: &Path) -> Option<PackageId> {
        if let Some(p) = self.dir_package.get(dir) {
            return *p;
        }
        let found = match self.manifest(dir) {
            Some(m) if m.package.is_some() => Some(self.add_package(dir, &m)),
            _ => dir.parent().and_then(|p| self.package_of_dir(p)),
        };
        self.dir_package.insert(dir.to_path_buf(), found);
        found
    }

    /// The package a file is in.
    pub fn package_of_file(&mut self, file: &Path) -> Option<PackageId> {
        file.parent().and_then(|d| self.package_of_dir(d))
    }

    fn add_package(&mut self, dir: &Path, m: &Manifest) -> PackageId {
        let pkg = m.package.as_ref().expect("checked by the caller");
        let name = pkg.name.clone().unwrap_or_else(|| {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let workspace_root = self.find_workspace_root(dir, m);
        let inherited = self
            .manifest(&workspace_root)
            .and_then(|w| w.workspace.as_ref().and_then(|ws| ws.package.clone()))
            .unwrap_or_default();
        let version = manifest::inheritable(pkg.version.as_ref(), inherited.version.as_ref())
            .unwrap_or_else(|| "0.0.0".into());
        let edition = manifest::inheritable(pkg.edition.as_ref(), inherited.edition.as_ref())
            .unwrap_or_else(|| "2015".into());
        let ws_deps = if workspace_root != dir {
            self.manifest(&workspace_root)
                .and_then(|w| {
                    w.workspace.as_ref().map(|ws| {
                        ws.dependencies
                            .iter()
                            .map(|(k, v)| (k.clone(), v.detail().and_then(|d| d.package.clone())))
                            .collect::<HashMap<_, _>>()
                    })
                })
                .unwrap_or_default()
        } else {
            m.workspace
                .as_ref()
                .map(|ws| {
                    ws.dependencies
                        .iter()
                        .map(|(k, v)| (k.clone(), v.detail().and_then(|d| d.package.clone())))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut deps = Vec::new();
        let mut add = |table: &std::collections::BTreeMap<String, DepSpec>, kind: DepKind| {
            for (key, spec) in table {
                let detail = spec.detail();
                let package = detail
                    .and_then(|d| d.package.clone())
                    .or_else(|| {
                        detail
                            .filter(|d| d.workspace)
                            .and_then(|_| ws_deps.get(key).cloned().flatten())
                    })
                    .unwrap_or_else(|| key.clone());
                deps.push(Dependency {
                    name: key.replace('-', "_"),
                    package,
                    kind,
                    path: detail
                        .and_then(|d| d.path.as_ref())
                        .map(|p| normalize(&dir.join(p))),
                });
            }
        };
        add(&m.dependencies, DepKind::Normal);
        add(&m.dev_dependencies, DepKind::Dev);
        add(&m.build_dependencies, DepKind::Build);
        for platform in m.target.values() {
            add(&platform.dependencies, DepKind::Normal);
            add(&platform.dev_dependencies, DepKind::Dev);
            add(&platform.build_dependencies, DepKind::Build);
        }
        let id = self.packages.len();
        self.packages.push(Package {
            name: name.clone(),
            version,
            edition,
            dir: dir.to_path_buf(),
            workspace_root,
            deps,
            crates: Vec::new(),
        });
        let targets = targets(dir, &name, m);
        for (crate_name, kind, root) in targets {
            let cid = self.push_crate(CrateData {
                name: crate_name,
                kind,
                root: Some(root),
                package: Some(id),
                dir: dir.to_path_buf(),
            });
            self.packages[id].crates.push(cid);
        }
        id
    }

    /// The workspace root of the package in `dir` (see the module docs).
    fn find_workspace_root(&mut self, dir: &Path, m: &Manifest) -> PathBuf {
        if m.workspace.is_some() {
            return dir.to_path_buf();
        }
        if let Some(explicit) = m.package.as_ref().and_then(|p| p.workspace.as_ref()) {
            return normalize(&dir.join(explicit));
        }
        let mut up = dir.parent();
        while let Some(candidate) = up {
            if let Some(ws) = self.manifest(candidate).and_then(|m| {
                m.workspace
                    .as_ref()
                    .map(|w| (w.members.clone(), w.exclude.clone()))
            }) {
                let rel = dir.strip_prefix(candidate).unwrap_or(dir);
                let rel = crate::source::slashed(rel);
                return if globs_match(&ws.0, &rel) && !globs_match_prefix(&ws.1, &rel) {
                    candidate.to_path_buf()
                } else {
                    dir.to_path_buf()
                };
            }
            up = candidate.parent();
        }
        dir.to_path_buf()
    }

    /// The crate a file belongs to when no module tree reaches it: its package's lib (or first
    /// target), or a loose crate.
    pub fn fallback_crate(&mut self, file: &Path, scan_root: &Path) -> CrateId {
        if let Some(p) = self.package_of_file(file) {
            let pkg = &self.packages[p];
            let in_test_dir = file
                .strip_prefix(&pkg.dir)
                .ok()
                .and_then(|r| r.components().next())
                .is_some_and(|c| {
                    matches!(
                        c.as_os_str().to_str(),
                        Some("tests" | "benches" | "examples")
                    )
                });
            if let Some(&first) = pkg.crates.first()
                && !in_test_dir
            {
                return first;
            }
            if pkg.crates.is_empty() || in_test_dir {
                // A package without targets, or a test-directory file no target names: a
                // crate of its own under the package's name.
                let name = pkg.name.replace('-', "_");
                let dir = pkg.dir.clone();
                let cid = self.push_crate(CrateData {
                    name,
                    kind: if in_test_dir {
                        TargetKind::Test
                    } else {
                        TargetKind::Lib
                    },
                    root: None,
                    package: Some(p),
                    dir,
                });
                self.packages[p].crates.push(cid);
                return cid;
            }
        }
        self.loose_crate(file, scan_root)
    }

    /// The pseudo-crate of a loose file: everything below the directory above its last `src/`
    /// (relative to the scanned root; the root itself when there is no `src/`).
    fn loose_crate(&mut self, file: &Path, scan_root: &Path) -> CrateId {
        let rel = crate::source::relative(scan_root, file);
        let key = match rel.rfind("src/") {
            Some(i) if i == 0 || rel.as_bytes()[i - 1] == b'/' => &rel[..i],
            _ => "",
        };
        let dir = normalize(&scan_root.join(key));
        if let Some(&id) = self.loose.get(&dir) {
            return id;
        }
        let dir_name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let root = ["src/lib.rs", "src/main.rs"]
            .iter()
            .map(|r| dir.join(r))
            .find(|p| p.is_file());
        let id = self.push_crate(CrateData {
            name: crate_name_from_dir(&dir_name),
            kind: TargetKind::Loose,
            root,
            package: None,
            dir: dir.clone(),
        });
        self.loose.insert(dir, id);
        id
    }

    /// The lib crates that `name` (as written in code) can mean from `krate`: its dependency
    /// of that name when it is scanned, else any scanned lib crate of that name.
    pub fn crates_named(&self, krate: CrateId, name: &str) -> Vec<CrateId> {
        let libs_of = |pkg: PackageId| -> Vec<CrateId> {
            self.packages[pkg]
                .crates
                .iter()
                .copied()
                .filter(|&c| self.crates[c].kind == TargetKind::Lib)
                .collect()
        };
        let data = &self.crates[krate];
        if let Some(pkg) = data.package {
            // A bin, test, example or bench sees its own package's lib by name.
            if data.kind != TargetKind::Lib {
                let own: Vec<_> = libs_of(pkg)
                    .into_iter()
                    .filter(|&c| self.crates[c].name == name)
                    .collect();
                if !own.is_empty() {
                    return own;
                }
            }
            for dep in self.packages[pkg].deps.iter().filter(|d| d.name == name) {
                let hits: Vec<CrateId> = self
                    .packages
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| match &dep.path {
                        Some(path) => &p.dir == path,
                        None => p.name == dep.package,
                    })
                    .flat_map(|(i, _)| libs_of(i))
                    .collect();
                if !hits.is_empty() {
                    return hits;
                }
            }
        }
        let index = self.by_name.get_or_init(|| {
            let mut map: HashMap<String, Vec<CrateId>> = HashMap::new();
            for (i, c) in self.crates.iter().enumerate() {
                if matches!(c.kind, TargetKind::Lib | TargetKind::Loose) {
                    map.entry(c.name.clone()).or_default().push(i);
                }
            }
            map
        });
        index.get(name).cloned().unwrap_or_default()
    }

    fn push_crate(&mut self, data: CrateData) -> CrateId {
        self.by_name = std::sync::OnceLock::new();
        self.crates.push(data);
        self.crates.len() - 1
    }
}

/// A package's targets: (crate name, kind, root file), lib first, in cargo's order.
fn targets(dir: &Path, package: &str, m: &Manifest) -> Vec<(String, TargetKind, PathBuf)> {
    let pkg = m.package.as_ref();
    let auto = |flag: Option<bool>| flag.unwrap_or(true);
    let underscored = |s: &str| s.replace('-', "_");
    let mut out = Vec::new();
    let lib_path = m
        .lib
        .as_ref()
        .and_then(|l| l.path.as_ref())
        .map(|p| dir.join(p))
        .or_else(|| {
            let p = dir.join("src/lib.rs");
            (auto(pkg.and_then(|p| p.autolib)) && p.is_file()).then_some(p)
        });
    if let Some(path) = lib_path {
        let name = m
            .lib
            .as_ref()
            .and_then(|l| l.name.clone())
            .unwrap_or_else(|| package.to_string());
        out.push((underscored(&name), TargetKind::Lib, normalize(&path)));
    }
    let add_kind = |tables: &[manifest::TargetTable],
                    kind: TargetKind,
                    auto_dir: &str,
                    auto_on: bool,
                    out: &mut Vec<(String, TargetKind, PathBuf)>| {
        let mut seen = Vec::new();
        for t in tables {
            let name = t.name.clone().unwrap_or_else(|| package.to_string());
            let path = match &t.path {
                Some(p) => dir.join(p),
                None if kind == TargetKind::Bin && name == package => dir.join("src/main.rs"),
                None => {
                    let single = dir.join(auto_dir).join(format!("{name}.rs"));
                    if single.is_file() {
                        single
                    } else {
                        dir.join(auto_dir).join(&name).join("main.rs")
                    }
                }
            };
            let path = normalize(&path);
            seen.push(path.clone());
            out.push((underscored(&name), kind, path));
        }
        if !auto_on {
            return;
        }
        if kind == TargetKind::Bin {
            let main = dir.join("src/main.rs");
            if main.is_file() && !seen.contains(&main) {
                seen.push(main.clone());
                out.push((underscored(package), kind, main));
            }
        }
        for (name, path) in auto_targets(&dir.join(auto_dir)) {
            if !seen.contains(&path) {
                out.push((underscored(&name), kind, path));
            }
        }
    };
    add_kind(
        &m.bin,
        TargetKind::Bin,
        "src/bin",
        auto(pkg.and_then(|p| p.autobins)),
        &mut out,
    );
    add_kind(
        &m.example,
        TargetKind::Example,
        "examples",
        auto(pkg.and_then(|p| p.autoexamples)),
        &mut out,
    );
    add_kind(
        &m.test,
        TargetKind::Test,
        "tests",
        auto(pkg.and_then(|p| p.autotests)),
        &mut out,
    );
    add_kind(
        &m.bench,
        TargetKind::Bench,
        "benches",
        auto(pkg.and_then(|p| p.autobenches)),
        &mut out,
    );
    let build = match pkg.and_then(|p| p.build.as_ref()) {
        Some(toml::Value::String(s)) => Some(dir.join(s)),
        Some(toml::Value::Boolean(false)) => None,
        _ => Some(dir.join("build.rs")).filter(|p| p.is_file()),
    };
    if let Some(b) = build {
        out.push((
            "build_script_build".into(),
            TargetKind::Build,
            normalize(&b),
        ));
    }
    out
}

/// `dir/*.rs` and `dir/*/main.rs`, sorted: cargo's automatic targets.
fn auto_targets(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let path = e.path();
            let name = path.file_stem()?.to_string_lossy().into_owned();
            if path.is_file() && path.extension().is_some_and(|x| x == "rs") {
                Some((name, path))
            } else if path.join("main.rs").is_file() {
                let main = path.join("main.rs");
                Some((e.file_name().to_string_lossy().into_owned(), main))
            } else {
                None
            }
        })
        .collect();
    out.sort();
    out
}

fn globs_match(patterns: &[String], rel: &str) -> bool {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        if let Ok(g) = GlobBuilder::new(p.trim_end_matches('/'))
            .literal_separator(true)
            .build()
        {
            b.add(g);
        }
    }
    b.build().is_ok_and(|set| set.is_match(rel))
}

/// `exclude` entries name directories: a package at or below one is excluded.
fn globs_match_prefix(patterns: &[String], rel: &str) -> bool {
    let mut prefix = String::new();
    for part in rel.split('/') {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(part);
        if globs_match(patterns, &prefix) {
            return true;
        }
    }
    false
}

/// `serde-json-1.0.1` -> `serde_json`: drop a version suffix, `-` becomes `_`.
pub(crate) fn crate_name_from_dir(dir: &str) -> String {
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

pub(crate) use crate::source::normalize;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A temporary directory holding `files` (relative path, text).
    pub(crate) fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn workspace_members_targets_and_deps() {
        let dir = tree(&[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/*\"]\nexclude = [\"crates/old\"]\n",
            ),
            (
                "crates/api/Cargo.toml",
                "[package]\nname = \"api-server\"\n[dependencies]\ncore-state = { path = \"../core\" }\n",
            ),
            ("crates/api/src/main.rs", ""),
            ("crates/api/src/lib.rs", ""),
            ("crates/api/src/bin/admin.rs", ""),
            ("crates/api/src/bin/tool/main.rs", ""),
            ("crates/api/tests/it.rs", ""),
            (
                "crates/core/Cargo.toml",
                "[package]\nname = \"core-state\"\n[lib]\nname = \"state\"\n",
            ),
            ("crates/core/src/lib.rs", ""),
            ("crates/old/Cargo.toml", "[package]\nname = \"old\"\n"),
            ("crates/old/src/lib.rs", ""),
        ]);
        let root = dir.path();
        let mut p = Project::default();
        let api = p.package_of_dir(&root.join("crates/api/src/bin")).unwrap();
        let core = p
            .package_of_file(&root.join("crates/core/src/lib.rs"))
            .unwrap();
        let old = p.package_of_dir(&root.join("crates/old")).unwrap();
        assert_eq!(p.packages[api].workspace_root, root);
        assert_eq!(p.packages[core].workspace_root, root);
        assert_eq!(p.packages[old].workspace_root, root.join("crates/old"));
        let names: Vec<_> = p.packages[api]
            .crates
            .iter()
            .map(|&c| (p.crates[c].name.as_str(), p.crates[c].kind))
            .collect();
        assert_eq!(
            names,
            [
                ("api_server", TargetKind::Lib),
                ("api_server", TargetKind::Bin),
                ("admin", TargetKind::Bin),
                ("tool", TargetKind::Bin),
                ("it", TargetKind::Test),
            ]
        );
        let lib = p.packages[api].crates[0];
        assert_eq!(
            p.crates_named(lib, "core_state"),
            vec![p.packages[core].crates[0]]
        );
        assert_eq!(p.crates[p.packages[core].crates[0]].name, "state");
        // The bin sees its own lib by name.
        let bin = p.packages[api].crates[1];
        assert_eq!(p.crates_named(bin, "api_server"), vec![lib]);
        assert!(p.package_of_dir(root).is_none());
    }

    #[test]
    fn loose_files_group_by_src() {
        let dir = tree(&[("a/src/lib.rs", ""), ("a/src/m/x.rs", ""), ("b.rs", "")]);
        let root = dir.path();
        let mut p = Project::default();
        let a = p.fallback_crate(&root.join("a/src/m/x.rs"), root);
        assert_eq!(p.fallback_crate(&root.join("a/src/lib.rs"), root), a);
        assert_eq!(p.crates[a].name, "a");
        assert_eq!(p.crates[a].root, Some(root.join("a/src/lib.rs")));
        let b = p.fallback_crate(&root.join("b.rs"), root);
        assert_ne!(a, b);
    }

    #[test]
    fn crate_names_from_directories() {
        assert_eq!(crate_name_from_dir("serde-json-1.0.1"), "serde_json");
        assert_eq!(crate_name_from_dir("hashbrown-0.14.5"), "hashbrown");
        assert_eq!(crate_name_from_dir("tokio-util"), "tokio_util");
        assert_eq!(crate_name_from_dir("x-2"), "x_2");
    }
}
