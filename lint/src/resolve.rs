//! The name resolver: what a path written in a module means, for types (classification) and
//! for values and functions (accessors, and the call graph to come) alike.
//!
//! Each module's scope holds its items (types, fns, globals, child modules) and its `use`
//! bindings (renames, globs, `pub use` re-exports, `extern crate`). A path starts at `crate`,
//! `self`, `super` or a name in scope; after the module's own items and named imports come its
//! globs, then the crates it can name (its dependencies and the other scanned crates by crate
//! name), then `std`/`core`/`alloc`. Visibility is ignored (a linter may over-approximate), and
//! items declared inside function bodies count as items of the enclosing module. A path whose
//! first segment is nowhere in scope but has more segments names an external crate.
//! Cycles (`pub use self::*` pairs, import loops) end in "unresolved", never in a loop.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::facts::{FileFacts, LocalModule, UseFact};
use crate::project::Project;
use crate::project::modules::{ModuleId, ModuleTree};
use crate::source::FileId;

/// A definition a path can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Def {
    /// `facts.types[i]` of a file.
    Type(FileId, usize),
    /// `facts.fns[i]`.
    Fn(FileId, usize),
    /// `facts.globals[i]`.
    Global(FileId, usize),
    Module(ModuleId),
}

/// What a path means.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Res {
    Def(Def),
    /// Something outside the scanned code, by its full path (`std::sync::Mutex`).
    External(Vec<String>),
}

/// A resolved path: the meanings of its longest resolvable prefix, and how many segments that
/// prefix has (`Type::new` resolves `Type` and leaves `new`, an associated item).
#[derive(Debug, Clone, Default)]
pub(crate) struct Resolution {
    pub res: Vec<Res>,
    pub consumed: usize,
}

#[derive(Default)]
struct Scope<'a> {
    items: HashMap<&'a str, Vec<Def>>,
    named: HashMap<&'a str, Vec<&'a UseFact>>,
    globs: Vec<&'a UseFact>,
}

/// Resolves paths across every scanned file.
pub(crate) struct Resolver<'a> {
    tree: &'a ModuleTree,
    project: &'a Project,
    facts: &'a [Option<&'a FileFacts>],
    scopes: RefCell<HashMap<ModuleId, Rc<Scope<'a>>>>,
    /// Per (module, for a first segment): name -> meaning.
    memo: RefCell<HashMap<(ModuleId, bool), Names>>,
    /// Per (crate, name): the crates the name can mean there.
    crates: RefCell<HashMap<(usize, String), CrateSet>>,
    /// Per crate: the crates its code can call into (its package's, and its dependencies',
    /// transitively); `None` for loose files, which can call anything.
    visible: RefCell<HashMap<usize, Option<Rc<HashSet<usize>>>>>,
    active: RefCell<HashSet<(ModuleId, String, bool)>>,
}

type Names = HashMap<String, Rc<[Res]>>;
type CrateSet = Rc<[usize]>;

const STD_CRATES: &[&str] = &["std", "core", "alloc", "proc_macro", "test"];

impl<'a> Resolver<'a> {
    /// A resolver over the tree and the facts (`facts[i]` is file `i`'s, `None` when it did
    /// not parse). A module's scope is built the first time a path is resolved in it: most
    /// modules of a large workspace are never asked.
    pub fn new(
        tree: &'a ModuleTree,
        project: &'a Project,
        facts: &'a [Option<&'a FileFacts>],
    ) -> Self {
        Resolver {
            tree,
            project,
            facts,
            scopes: RefCell::default(),
            memo: RefCell::default(),
            crates: RefCell::default(),
            visible: RefCell::default(),
            active: RefCell::default(),
        }
    }

    /// The items and imports of `module`.
    fn scope(&self, module: ModuleId) -> Rc<Scope<'a>> {
        if let Some(s) = self.scopes.borrow().get(&module) {
            return s.clone();
        }
        let data = &self.tree.modules[module as usize];
        let (file, local) = (data.file, data.local);
        let mut scope = Scope::default();
        if let Some(f) = self.facts[file.index()] {
            let mut add = |name: &'a str, def: Def| scope.items.entry(name).or_default().push(def);
            for (k, m) in f.modules.iter().enumerate().skip(1) {
                if m.parent == Some(local) {
                    let child = self
                        .tree
                        .canonical(self.tree.module_of(file, k as LocalModule));
                    add(m.name.as_str(), Def::Module(child));
                }
            }
            for (idx, t) in f
                .types
                .iter()
                .enumerate()
                .filter(|(_, t)| t.module == local)
            {
                add(t.name.as_str(), Def::Type(file, idx));
            }
            for (idx, g) in f
                .globals
                .iter()
                .enumerate()
                .filter(|(_, g)| g.module == local)
            {
                add(g.name.as_str(), Def::Global(file, idx));
            }
            for (idx, func) in f.fns.iter().enumerate() {
                if func.module == local && func.owner.is_none() {
                    add(&func.name, Def::Fn(file, idx));
                }
            }
            for u in f.uses.iter().filter(|u| u.module == local) {
                match &u.alias {
                    Some(alias) => scope.named.entry(alias.as_str()).or_default().push(u),
                    None => scope.globs.push(u),
                }
            }
        }
        let scope = Rc::new(scope);
        self.scopes.borrow_mut().insert(module, scope.clone());
        scope
    }

    /// The module of local module `local` of `file`.
    pub fn module(&self, file: FileId, local: LocalModule) -> ModuleId {
        self.tree.module_of(file, local)
    }

    /// Resolves `segments` as written in `module`.
    pub fn resolve(&self, module: ModuleId, segments: &[String]) -> Resolution {
        let Some(first) = segments.first() else {
            return Resolution::default();
        };
        let mut current: Vec<Res> = match first.as_str() {
            "crate" => self
                .tree
                .root_of(module)
                .map(|r| vec![Res::Def(Def::Module(r))])
                .unwrap_or_default(),
            "self" => vec![Res::Def(Def::Module(module))],
            "super" => {
                let mut m = Some(module);
                let mut n = 0;
                while segments.get(n).is_some_and(|s| s == "super") {
                    m = m.and_then(|m| self.tree.modules[m as usize].parent);
                    n += 1;
                }
                return match m {
                    Some(m) => self.walk(vec![Res::Def(Def::Module(m))], &segments[n..], n),
                    None => Resolution::default(),
                };
            }
            "Self" => return Resolution::default(),
            // `::name::..`: a crate, never a module or import in scope.
            "" => {
                let Some(name) = segments.get(1) else {
                    return Resolution::default();
                };
                let krate = self.tree.modules[module as usize].krate;
                let roots: Vec<Res> = self
                    .crates_named(krate, name)
                    .iter()
                    .filter_map(|&c| self.tree.crate_root.get(c).copied().flatten())
                    .map(|root| Res::Def(Def::Module(root)))
                    .collect();
                if roots.is_empty() {
                    return Resolution {
                        res: vec![Res::External(segments[1..].to_vec())],
                        consumed: segments.len(),
                    };
                }
                return self.walk(roots, &segments[2..], 2);
            }
            name => {
                let found = self.lookup(module, name, true);
                if found.is_empty() {
                    return if segments.len() > 1 || STD_CRATES.contains(&name) {
                        Resolution {
                            res: vec![Res::External(segments.to_vec())],
                            consumed: segments.len(),
                        }
                    } else {
                        Resolution::default()
                    };
                }
                found.to_vec()
            }
        };
        current.dedup();
        self.walk(current, &segments[1..], 1)
    }

    /// Follows `rest` from `current` (which resolved `consumed` segments).
    fn walk(&self, mut current: Vec<Res>, rest: &[String], mut consumed: usize) -> Resolution {
        for seg in rest {
            if current.is_empty()
                || current
                    .iter()
                    .any(|r| matches!(r, Res::Def(d) if !matches!(d, Def::Module(_))))
            {
                break;
            }
            let mut next = Vec::new();
            for r in &current {
                match r {
                    Res::Def(Def::Module(m)) => {
                        next.extend(self.lookup(*m, seg, false).iter().cloned())
                    }
                    Res::External(p) => {
                        let mut p = p.clone();
                        p.push(seg.clone());
                        next.push(Res::External(p));
                    }
                    Res::Def(_) => {}
                }
            }
            if next.is_empty() {
                break;
            }
            next.dedup();
            current = next;
            consumed += 1;
        }
        Resolution {
            res: current,
            consumed,
        }
    }

    /// What `name` means in `module`: its items and named imports, else its globs, else (when
    /// `extern_prelude`, i.e. for a path's first segment) the crates it can name.
    fn lookup(&self, module: ModuleId, name: &str, extern_prelude: bool) -> Rc<[Res]> {
        if let Some(hit) = self
            .memo
            .borrow()
            .get(&(module, extern_prelude))
            .and_then(|m| m.get(name))
        {
            return hit.clone();
        }
        let active_key = (module, name.to_string(), extern_prelude);
        if !self.active.borrow_mut().insert(active_key.clone()) {
            return Rc::from(Vec::new());
        }
        let scope = self.scope(module);
        let mut out: Vec<Res> = Vec::new();
        if let Some(defs) = scope.items.get(name) {
            out.extend(defs.iter().map(|d| Res::Def(*d)));
        }
        if let Some(uses) = scope.named.get(name) {
            for u in uses {
                let from = self.tree.module_of(self.file_of(module), u.module);
                let path = u.path.segments();
                let r = self.resolve(from, &path);
                if r.consumed == path.len() {
                    out.extend(r.res);
                }
            }
        }
        if out.is_empty() {
            let mut external = Vec::new();
            for g in &scope.globs {
                let from = self.tree.module_of(self.file_of(module), g.module);
                let path = g.path.segments();
                let r = self.resolve(from, &path);
                if r.consumed != path.len() {
                    continue;
                }
                for target in r.res {
                    match target {
                        Res::Def(Def::Module(m)) => {
                            out.extend(self.lookup(m, name, false).iter().cloned())
                        }
                        Res::External(mut p) => {
                            p.push(name.to_string());
                            external.push(Res::External(p));
                        }
                        Res::Def(_) => {}
                    }
                }
            }
            // A name from one external glob (`use std::sync::*`) is that crate's; from
            // several, nobody can tell. At a path's start, a crate the module can name
            // (`regex` in `regex::Regex` beside globs that reach `use some_crate::*`) wins
            // over such guesses.
            if extern_prelude && self.names_a_crate(module, name) {
                out.retain(|r| !matches!(r, Res::External(_)));
                external.clear();
            }
            if out.is_empty() && external.len() == 1 {
                out = external;
            }
        }
        if out.is_empty() && extern_prelude {
            let krate = self.tree.modules[module as usize].krate;
            for &c in self.crates_named(krate, name).iter() {
                if let Some(root) = self.tree.crate_root.get(c).copied().flatten() {
                    out.push(Res::Def(Def::Module(root)));
                }
            }
        }
        out.dedup();
        self.active.borrow_mut().remove(&active_key);
        let out: Rc<[Res]> = Rc::from(out);
        self.memo
            .borrow_mut()
            .entry((module, extern_prelude))
            .or_default()
            .insert(name.to_string(), out.clone());
        out
    }

    /// Whether `name` is a crate `module` can name: std/core/alloc or a dependency of its
    /// package (scanned or not).
    /// Whether code of crate `from` can call into crate `to`: the same package, or a
    /// dependency of any kind, transitively. Loose files (no package) on either side: yes.
    pub(crate) fn can_call_into(&self, from: usize, to: usize) -> bool {
        if from == to {
            return true;
        }
        let package_of = |k: usize| self.project.crates.get(k).and_then(|c| c.package);
        if package_of(to).is_none() {
            return true;
        }
        if let Some(hit) = self.visible.borrow().get(&from) {
            return hit.as_ref().is_none_or(|v| v.contains(&to));
        }
        let visible = package_of(from).map(|own| {
            let mut seen: HashSet<usize> = (0..self.project.crates.len())
                .filter(|&k| package_of(k) == Some(own))
                .collect();
            let mut stack: Vec<usize> = seen.iter().copied().collect();
            while let Some(k) = stack.pop() {
                let Some(p) = package_of(k) else { continue };
                for d in &self.project.packages[p].deps {
                    for &c in self.crates_named(k, &d.name).iter() {
                        if seen.insert(c) {
                            stack.push(c);
                        }
                    }
                }
            }
            Rc::new(seen)
        });
        let answer = visible.as_ref().is_none_or(|v| v.contains(&to));
        self.visible.borrow_mut().insert(from, visible);
        answer
    }

    /// The Cargo workspace (its root; a loose directory's own) that `file` belongs to.
    pub(crate) fn workspace_of(&self, file: FileId) -> Option<&'a std::path::Path> {
        let krate = *self.tree.file_crate.get(file.index())?;
        let c = self.project.crates.get(krate)?;
        Some(match c.package {
            Some(p) => &self.project.packages[p].workspace_root,
            None => &c.dir,
        })
    }

    fn names_a_crate(&self, module: ModuleId, name: &str) -> bool {
        if matches!(name, "std" | "core" | "alloc") {
            return true;
        }
        let krate = self.tree.modules[module as usize].krate;
        self.project.crates[krate]
            .package
            .is_some_and(|p| self.project.packages[p].deps.iter().any(|d| d.name == name))
    }

    fn crates_named(&self, krate: usize, name: &str) -> Rc<[usize]> {
        let key = (krate, name.to_string());
        if let Some(hit) = self.crates.borrow().get(&key) {
            return hit.clone();
        }
        let found: Rc<[usize]> = Rc::from(self.project.crates_named(krate, name));
        self.crates.borrow_mut().insert(key, found.clone());
        found
    }

    fn file_of(&self, module: ModuleId) -> FileId {
        self.tree.modules[module as usize].file
    }

    /// The module path of `module` from its crate root, with the crate's name first.
    pub fn canonical_module_path(&self, module: ModuleId) -> Vec<String> {
        let data = &self.tree.modules[module as usize];
        let mut out = vec![self.project.crates[data.krate].name.clone()];
        out.extend(data.path.iter().cloned());
        out
    }

    /// The name code uses for crate `krate`.
    pub fn crate_name(&self, krate: usize) -> &str {
        &self.project.crates[krate].name
    }

    /// The tree the resolver reads.
    pub fn tree(&self) -> &'a ModuleTree {
        self.tree
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::modules::FileInput;
    use std::path::PathBuf;

    struct Fixture {
        _dir: tempfile::TempDir,
        facts: Vec<FileFacts>,
        paths: Vec<PathBuf>,
        root: PathBuf,
    }

    fn fixture(files: &[(&str, &str)]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let mut facts = Vec::new();
        let mut paths = Vec::new();
        for (rel, text) in files {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            if rel.ends_with(".rs") {
                facts.push(crate::facts::collect(&syn::parse_file(text).unwrap()));
                paths.push(p);
            }
        }
        Fixture {
            _dir: dir,
            facts,
            paths,
            root,
        }
    }

    /// Resolves `path` in the top module of file `file` and names what it found.
    fn names(fx: &Fixture, file: usize, path: &str) -> Vec<String> {
        let inputs: Vec<FileInput> = fx
            .paths
            .iter()
            .zip(&fx.facts)
            .map(|(p, f)| FileInput {
                abs: p,
                scan_root: &fx.root,
                facts: Some(f),
            })
            .collect();
        let mut project = Project::default();
        let tree = ModuleTree::build(&mut project, &inputs);
        let facts: Vec<Option<&FileFacts>> = fx.facts.iter().map(Some).collect();
        let r = Resolver::new(&tree, &project, &facts);
        let segs: Vec<String> = path.split("::").map(String::from).collect();
        let res = r.resolve(r.module(FileId(file as u32), 0), &segs);
        res.res
            .iter()
            .map(|x| match x {
                Res::Def(Def::Type(f, i)) => {
                    format!("type {}#{}", fx.facts[f.index()].types[*i].name, f.0)
                }
                Res::Def(Def::Fn(f, i)) => {
                    format!("fn {}#{}", fx.facts[f.index()].fns[*i].name, f.0)
                }
                Res::Def(Def::Global(f, i)) => {
                    format!("global {}#{}", fx.facts[f.index()].globals[*i].name, f.0)
                }
                Res::Def(Def::Module(m)) => {
                    format!("mod {}", r.canonical_module_path(*m).join("::"))
                }
                Res::External(p) => format!("ext {}", p.join("::")),
            })
            .collect()
    }

    #[test]
    fn uses_renames_globs_reexports_and_relative_paths() {
        let fx = fixture(&[
            ("Cargo.toml", "[package]\nname = \"app\"\n"),
            (
                "src/lib.rs",
                "mod state; pub mod api; pub use state::Engine as PubEngine;\n\
                 use std::sync::Mutex as M; use crate::state::*;",
            ),
            (
                "src/state.rs",
                "pub struct Engine; pub static REGISTRY: u8 = 0; mod inner { use super::super::api::handler; }",
            ),
            (
                "src/api/mod.rs",
                "pub fn handler() {} use super::PubEngine; use self::handler as h;",
            ),
        ]);
        assert_eq!(names(&fx, 0, "PubEngine"), ["type Engine#1"]);
        assert_eq!(names(&fx, 0, "M"), ["ext std::sync::Mutex"]);
        assert_eq!(
            names(&fx, 0, "REGISTRY"),
            ["global REGISTRY#1"],
            "through the glob"
        );
        assert_eq!(names(&fx, 0, "crate::api::handler"), ["fn handler#2"]);
        assert_eq!(
            names(&fx, 2, "PubEngine"),
            ["type Engine#1"],
            "super:: and a re-export"
        );
        assert_eq!(names(&fx, 2, "h"), ["fn handler#2"]);
        assert_eq!(names(&fx, 2, "super::state::Engine"), ["type Engine#1"]);
        assert_eq!(names(&fx, 0, "serde::Serialize"), ["ext serde::Serialize"]);
        assert!(names(&fx, 0, "Nowhere").is_empty());
    }

    #[test]
    fn a_rooted_path_names_a_crate_and_external_globs_do_not_hide_dependencies() {
        let fx = fixture(&[
            (
                "Cargo.toml",
                "[package]\nname = \"app\"\n[dependencies]\nio_uring = \"1\"\nregex = \"1\"\nother = \"1\"\n",
            ),
            ("src/lib.rs", "mod io_uring; use other::prelude::*;\n"),
            ("src/io_uring/mod.rs", "mod pool; pub struct IoUring;\n"),
            (
                "src/io_uring/pool.rs",
                "use super::*; use ::io_uring::IoUring as Ring;\n",
            ),
        ]);
        // Module 2 is `io_uring::pool`: `::io_uring` is the crate, `super::IoUring` the module's.
        assert_eq!(names(&fx, 2, "Ring"), ["ext io_uring::IoUring"]);
        assert_eq!(names(&fx, 2, "IoUring"), ["type IoUring#1"]);
        // Beside the external glob `other::prelude::*`, `regex` is the dependency, not
        // `other::prelude::regex`; a name nothing else binds is still the glob's guess.
        assert_eq!(names(&fx, 0, "regex::Regex"), ["ext regex::Regex"]);
        assert_eq!(names(&fx, 0, "Thing"), ["ext other::prelude::Thing"]);
    }

    #[test]
    fn other_workspace_crates_by_crate_name() {
        let fx = fixture(&[
            ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
            (
                "crates/api/Cargo.toml",
                "[package]\nname = \"api\"\n[dependencies]\ncore-state = { path = \"../core\" }\n",
            ),
            (
                "crates/core/Cargo.toml",
                "[package]\nname = \"core-state\"\n",
            ),
            (
                "crates/api/src/lib.rs",
                "use core_state::registry::Registry; pub use core_state::*; mod web;",
            ),
            (
                "crates/core/src/lib.rs",
                "pub mod registry; pub fn init() {}",
            ),
            ("crates/core/src/registry.rs", "pub struct Registry;"),
            ("crates/api/src/web.rs", "use actix_web::web::*;"),
        ]);
        assert_eq!(names(&fx, 0, "Registry"), ["type Registry#2"]);
        assert_eq!(
            names(&fx, 3, "core_state::init"),
            ["fn init#1"],
            "a crate name is not taken for a member of an external glob"
        );
        assert_eq!(names(&fx, 0, "core_state::init"), ["fn init#1"]);
        assert_eq!(
            names(&fx, 0, "init"),
            ["fn init#1"],
            "through a glob re-export"
        );
    }

    #[test]
    fn cycles_end() {
        let fx = fixture(&[
            ("src/lib.rs", "mod a; mod b; pub use a::*;"),
            ("src/a.rs", "pub use super::b::*; pub use super::*;"),
            (
                "src/b.rs",
                "pub use super::a::*; pub use super::a::X as Y; pub use super::b::Y as X;",
            ),
        ]);
        assert!(names(&fx, 0, "X").is_empty());
        assert!(names(&fx, 0, "Missing").is_empty());
    }
}
