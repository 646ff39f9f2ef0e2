//! The module tree: from each crate's root file, `mod x;` declarations lead to `x.rs` or
//! `x/mod.rs` (or a `#[path]`), and every module gets an id, a crate and a path from the crate
//! root. A file reached only through `#[cfg(test)] mod x;` - and everything below it - is test
//! code, as is every file of a test, bench or example target. Files that no tree reaches are
//! still linted: they get their package's crate (or a loose crate) and a module path made from
//! their location below `src/`.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use super::{CrateId, Project, normalize};
use crate::facts::{FileFacts, LocalModule, ModuleKind};
use crate::source::FileId;

/// Index into [`ModuleTree::modules`].
pub(crate) type ModuleId = u32;

/// One module.
#[derive(Debug, Clone)]
pub(crate) struct ModuleData {
    /// The file holding its items, and the module's index in that file's facts.
    pub file: FileId,
    pub local: LocalModule,
    pub parent: Option<ModuleId>,
    pub krate: CrateId,
    /// Module names from the crate root (empty for the root).
    pub path: Vec<String>,
    pub in_test: bool,
}

/// One file as the tree builder sees it.
pub(crate) struct FileInput<'a> {
    pub abs: &'a Path,
    pub scan_root: &'a Path,
    pub facts: Option<&'a FileFacts>,
}

/// Every module of the scanned files.
#[derive(Debug, Default)]
pub(crate) struct ModuleTree {
    pub modules: Vec<ModuleData>,
    /// Per file: the id of its first local module (module `k` is `block + k`).
    block: Vec<ModuleId>,
    /// Per file reached through `mod x;`: the declaring module, which holds the file's items.
    link: Vec<Option<ModuleId>>,
    /// Per file: its crate.
    pub file_crate: Vec<CrateId>,
    /// Per file: all of it is test code.
    pub file_test: Vec<bool>,
    /// Per crate: its root module, if its root file was scanned.
    pub crate_root: Vec<Option<ModuleId>>,
    /// `mod x;` declarations of a file another declaration reached first: they name the same
    /// module (`#[path = "../util/lazy.rs"] mod lazy;` in several files).
    alias: HashMap<ModuleId, ModuleId>,
}

const UNSET: CrateId = CrateId::MAX;

impl ModuleTree {
    /// The module of local module `local` of `file`.
    pub fn module_of(&self, file: FileId, local: LocalModule) -> ModuleId {
        if local == 0 {
            self.link[file.index()].unwrap_or(self.block[file.index()])
        } else {
            self.block[file.index()] + local
        }
    }

    /// The module `module` stands for (itself, unless it declares a file reached first by
    /// another declaration).
    pub fn canonical(&self, module: ModuleId) -> ModuleId {
        self.alias.get(&module).copied().unwrap_or(module)
    }

    /// The root module of `krate`'s crate.
    pub fn root_of(&self, module: ModuleId) -> Option<ModuleId> {
        self.crate_root
            .get(self.modules[module as usize].krate)
            .copied()
            .flatten()
    }

    /// Builds the tree for `files` (indexed by [`FileId`]).
    pub fn build(project: &mut Project, files: &[FileInput]) -> ModuleTree {
        let by_path: HashMap<&Path, usize> =
            files.iter().enumerate().map(|(i, f)| (f.abs, i)).collect();
        let mut t = ModuleTree::default();
        for (i, f) in files.iter().enumerate() {
            t.block.push(t.modules.len() as ModuleId);
            t.link.push(None);
            t.file_crate.push(UNSET);
            t.file_test.push(false);
            let locals = f.facts.map_or(&[][..], |x| &x.modules[..]);
            let base = t.modules.len() as ModuleId;
            for m in locals
                .iter()
                .chain(locals.is_empty().then_some(&crate::facts::ModuleFact::FILE))
            {
                t.modules.push(ModuleData {
                    file: FileId(i as u32),
                    local: 0,
                    parent: m.parent.map(|p| base + p),
                    krate: UNSET,
                    path: Vec::new(),
                    in_test: m.in_test,
                });
            }
            for (k, m) in t.modules[base as usize..].iter_mut().enumerate() {
                m.local = k as LocalModule;
            }
            // Packages and crates (loose ones too) come into being as their files are seen.
            if project.package_of_file(f.abs).is_none() {
                project.fallback_crate(f.abs, f.scan_root);
            }
        }
        t.crate_root = vec![None; project.crates.len()];

        // Walk every crate from its root file.
        let mut queue: VecDeque<(usize, CrateId, PathBuf)> = VecDeque::new();
        for (c, data) in project.crates.iter().enumerate() {
            let Some(&file) = data.root.as_deref().and_then(|r| by_path.get(r)) else {
                continue;
            };
            if t.file_crate[file] != UNSET {
                continue;
            }
            t.crate_root[c] = Some(t.module_of(FileId(file as u32), 0));
            let dir = files[file]
                .abs
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            t.file_crate[file] = c;
            queue.push_back((file, c, dir));
        }
        while let Some((file, krate, children_dir)) = queue.pop_front() {
            let Some(facts) = files[file].facts else {
                continue;
            };
            let top = t.module_of(FileId(file as u32), 0);
            let top_path = t.modules[top as usize].path.clone();
            let top_test = t.modules[top as usize].in_test || project.crate_is_test(krate);
            t.modules[top as usize].in_test = top_test;
            for (k, m) in facts.modules.iter().enumerate().skip(1) {
                let id = t.block[file] + k as ModuleId;
                let parent = m
                    .parent
                    .map_or(top, |p| t.module_of(FileId(file as u32), p));
                let mut path = t.modules[parent as usize].path.clone();
                path.push(m.name.clone());
                let in_test = m.in_test
                    || t.modules[parent as usize].in_test
                    || m.test_features
                        .as_deref()
                        .is_some_and(|fs| project.gate_is_test(krate, fs));
                let data = &mut t.modules[id as usize];
                data.parent = Some(parent);
                data.path = path;
                data.in_test = in_test;
                if m.kind != ModuleKind::OutOfLine {
                    continue;
                }
                for candidate in decl_targets(files[file].abs, &children_dir, facts, k) {
                    let Some(&target) = by_path.get(candidate.as_path()) else {
                        continue;
                    };
                    if t.file_crate[target] != UNSET {
                        let reached = t.module_of(FileId(target as u32), 0);
                        if reached != id {
                            t.alias.insert(id, reached);
                        }
                        break;
                    }
                    t.link[target] = Some(id);
                    t.file_crate[target] = krate;
                    let is_mod_rs = candidate.file_name().is_some_and(|n| n == "mod.rs")
                        || m.path_attr.is_some();
                    let dir = if is_mod_rs {
                        candidate
                            .parent()
                            .map(Path::to_path_buf)
                            .unwrap_or_default()
                    } else {
                        candidate.with_extension("")
                    };
                    // The declaring slot now stands for the target file's top level.
                    t.modules[id as usize].file = FileId(target as u32);
                    t.modules[id as usize].local = 0;
                    queue.push_back((target, krate, dir));
                    break;
                }
            }
            // Crate and test-ness for every module of the file.
            let f = FileId(file as u32);
            for k in 0..facts.modules.len() as LocalModule {
                let id = t.module_of(f, k) as usize;
                t.modules[id].krate = krate;
                if k == 0 {
                    t.modules[id].path = top_path.clone();
                }
            }
            t.file_test[file] = t.modules[top as usize].in_test;
        }

        // Files no tree reached.
        for (i, f) in files.iter().enumerate() {
            if t.file_crate[i] != UNSET {
                continue;
            }
            let krate = project.fallback_crate(f.abs, f.scan_root);
            if t.crate_root.len() < project.crates.len() {
                t.crate_root.resize(project.crates.len(), None);
            }
            t.file_crate[i] = krate;
            let base_path = path_modules(f.abs, &project.crates[krate].dir);
            let test = project.crate_is_test(krate);
            let fid = FileId(i as u32);
            let count = f.facts.map_or(1, |x| x.modules.len());
            for k in 0..count as LocalModule {
                let id = t.module_of(fid, k) as usize;
                t.modules[id].krate = krate;
                let mut path = base_path.clone();
                let mut chain = Vec::new();
                let mut cur = Some(id as ModuleId);
                while let Some(m) = cur.filter(|&m| {
                    t.modules[m as usize].file == fid && t.modules[m as usize].local != 0
                }) {
                    let local = t.modules[m as usize].local as usize;
                    if let Some(facts) = f.facts {
                        chain.push(facts.modules[local].name.clone());
                    }
                    cur = t.modules[m as usize].parent;
                }
                chain.reverse();
                path.extend(chain);
                t.modules[id].path = path;
                t.modules[id].in_test |= test;
            }
            t.file_test[i] = t.modules[t.module_of(fid, 0) as usize].in_test;
            for k in 1..count as LocalModule {
                let id = t.module_of(fid, k) as usize;
                if let Some(p) = t.modules[id].parent {
                    let parent_test = t.modules[p as usize].in_test;
                    t.modules[id].in_test |= parent_test;
                }
                let gate = f
                    .facts
                    .and_then(|x| x.modules[k as usize].test_features.as_deref());
                if gate.is_some_and(|fs| project.gate_is_test(krate, fs)) {
                    t.modules[id].in_test = true;
                }
            }
        }
        t
    }
}

/// Where `mod x;` (module `k` of a file at `file`, whose own modules live in `children_dir`)
/// may be: `#[path]`, else `x.rs` and `x/mod.rs`, below the directories of the inline modules
/// that enclose the declaration.
fn decl_targets(file: &Path, children_dir: &Path, facts: &FileFacts, k: usize) -> Vec<PathBuf> {
    let m = &facts.modules[k];
    let mut chain = Vec::new();
    let mut p = m.parent;
    while let Some(i) = p.filter(|&i| i != 0) {
        chain.push(&facts.modules[i as usize]);
        p = facts.modules[i as usize].parent;
    }
    chain.reverse();
    let mut dir = children_dir.to_path_buf();
    for inline in &chain {
        match &inline.path_attr {
            Some(pa) => dir.push(pa),
            None => dir.push(&inline.name),
        }
    }
    match &m.path_attr {
        Some(pa) if chain.is_empty() => {
            vec![normalize(&file.parent().unwrap_or(Path::new("")).join(pa))]
        }
        Some(pa) => vec![normalize(&dir.join(pa))],
        None => vec![
            dir.join(format!("{}.rs", m.name)),
            dir.join(&m.name).join("mod.rs"),
        ],
    }
}

/// A module path from a file's location: the directories and file stem below the last `src/`
/// under `crate_dir` (`src/tz/db/mod.rs` -> `["tz", "db"]`).
fn path_modules(file: &Path, crate_dir: &Path) -> Vec<String> {
    let rel = crate::source::relative(crate_dir, file);
    let inner = match rel.rfind("src/") {
        Some(i) if i == 0 || rel.as_bytes()[i - 1] == b'/' => &rel[i + 4..],
        _ => rel.as_str(),
    };
    inner
        .split('/')
        .map(|part| part.strip_suffix(".rs").unwrap_or(part))
        .filter(|stem| !matches!(*stem, "mod" | "lib" | "main" | ""))
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(src: &str) -> FileFacts {
        crate::facts::collect(&syn::parse_file(src).unwrap())
    }

    #[test]
    fn trees_follow_mod_declarations() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let files = [
            ("Cargo.toml", "[package]\nname = \"app\"\n"),
            (
                "src/lib.rs",
                "mod api; #[cfg(test)] mod tests; #[path = \"sys/unix.rs\"] mod imp; mod inline { mod deep; }",
            ),
            ("src/api/mod.rs", "mod v1;"),
            ("src/api/v1.rs", "struct S;"),
            ("src/tests.rs", "mod helpers;"),
            ("src/tests/helpers.rs", ""),
            ("src/sys/unix.rs", ""),
            ("src/inline/deep.rs", ""),
            ("src/stray.rs", ""),
        ];
        for (rel, text) in files {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let rs: Vec<(PathBuf, FileFacts)> = files[1..]
            .iter()
            .map(|(rel, text)| (root.join(rel), facts(text)))
            .collect();
        let inputs: Vec<FileInput> = rs
            .iter()
            .map(|(p, f)| FileInput {
                abs: p,
                scan_root: root,
                facts: Some(f),
            })
            .collect();
        let mut project = Project::default();
        let t = ModuleTree::build(&mut project, &inputs);
        let path_of = |i: usize| {
            t.modules[t.module_of(FileId(i as u32), 0) as usize]
                .path
                .join("::")
        };
        assert_eq!(path_of(1), "api");
        assert_eq!(path_of(2), "api::v1");
        assert_eq!(path_of(3), "tests");
        assert_eq!(path_of(4), "tests::helpers");
        assert_eq!(path_of(5), "imp");
        assert_eq!(path_of(6), "inline::deep");
        assert_eq!(path_of(7), "stray", "unreached: from its location");
        let tests: Vec<bool> = (0..8).map(|i| t.file_test[i]).collect();
        assert_eq!(
            tests,
            [false, false, false, true, true, false, false, false]
        );
        assert!(t.file_crate.iter().all(|&c| c == t.file_crate[0]));
        assert_eq!(project.crates[t.file_crate[0]].name, "app");
    }
}
