//! Cross-file type classification: what a global's type can do, decided from its syntax, the
//! known library types ([`known`]), the user's own type definitions in every scanned file
//! (transitively, with generics substituted and a cycle guard) and the configured overrides.

pub mod known;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use crate::facts::{FileFacts, TypeDef, TypeDefKind, TypeExpr};
use known::Known;

/// What a type is made of, as far as isolation is concerned.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// The outermost type is a lazy/once cell (through aliases).
    pub lazy: bool,
    /// Something inside is mutable through a shared reference.
    pub interior: bool,
    /// A collection sits somewhere below an interior-mutable wrapper.
    pub map_under_lock: bool,
    /// A concurrent map or set sits somewhere inside.
    pub concurrent_map: bool,
    /// Something inside is a type we cannot see into.
    pub unknown: bool,
}

impl Shape {
    fn merge(&mut self, o: Shape) {
        self.lazy |= o.lazy;
        self.interior |= o.interior;
        self.map_under_lock |= o.map_under_lock;
        self.concurrent_map |= o.concurrent_map;
        self.unknown |= o.unknown;
    }

    fn unknown() -> Shape {
        Shape {
            unknown: true,
            ..Shape::default()
        }
    }

    /// Holds a mutable map: a concurrent one, or a collection behind interior mutability.
    pub fn mutable_map(&self) -> bool {
        self.map_under_lock || self.concurrent_map
    }
}

/// Type paths the configuration declares mutable or immutable (`mutable_types`,
/// `immutable_types`), matched when the shorter path is a suffix of the longer.
#[derive(Debug, Default, Clone)]
pub struct TypeOverrides {
    pub mutable: Vec<Vec<String>>,
    pub immutable: Vec<Vec<String>>,
}

impl TypeOverrides {
    /// Parses `a::b::C` strings.
    pub fn new(mutable: &[String], immutable: &[String]) -> Self {
        let split = |v: &[String]| -> Vec<Vec<String>> {
            v.iter()
                .map(|s| {
                    s.trim_start_matches("::")
                        .split("::")
                        .map(str::to_string)
                        .collect()
                })
                .collect()
        };
        TypeOverrides {
            mutable: split(mutable),
            immutable: split(immutable),
        }
    }

    fn lookup(&self, segments: &[String]) -> Option<bool> {
        let matches = |entry: &Vec<String>| suffix_match(entry, strip_relative(segments));
        if self.mutable.iter().any(matches) {
            Some(true)
        } else if self.immutable.iter().any(matches) {
            Some(false)
        } else {
            None
        }
    }
}

fn strip_relative(segments: &[String]) -> &[String] {
    let skip = segments
        .iter()
        .take_while(|s| matches!(s.as_str(), "crate" | "self" | "super"))
        .count();
    &segments[skip..]
}

fn suffix_match(a: &[String], b: &[String]) -> bool {
    let n = a.len().min(b.len());
    n > 0 && a[a.len() - n..] == b[b.len() - n..]
}

/// How the scanned files group into crates.
#[derive(Debug, Clone, Default)]
pub struct Crates {
    /// The crate of each file.
    pub of: Vec<usize>,
    /// Each crate's import name.
    pub names: Vec<String>,
    /// Each crate's module names (from file paths and `mod` items).
    pub modules: Vec<HashSet<String>>,
    /// Each file's module path within its crate (`src/tz/db/mod.rs` -> `["tz", "db"]`).
    pub file_modules: Vec<Vec<String>>,
}

#[derive(Clone, Copy)]
struct DefRef<'a> {
    file: usize,
    idx: usize,
    krate: usize,
    def: &'a TypeDef,
}

impl DefRef<'_> {
    /// Whether the definition's module path (file modules, then inline modules) ends with
    /// `modules`.
    fn in_module(&self, file_modules: &[String], modules: &[String]) -> bool {
        let path: Vec<&String> = file_modules.iter().chain(&self.def.modules).collect();
        path.len() >= modules.len()
            && path[path.len() - modules.len()..]
                .iter()
                .zip(modules)
                .all(|(a, b)| *a == b)
    }
}

type Env = HashMap<String, Option<TypeExpr>>;

/// A definition (file, index), whether a lock is above it, whether it is the outermost type,
/// and the hash of its generic arguments.
type MemoKey = (usize, usize, bool, bool, u64);

fn args_hash(args: &[Option<TypeExpr>]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    args.hash(&mut h);
    h.finish()
}

/// Classifies types against every user type definition of the scan.
pub struct TypeIndex<'a> {
    defs: HashMap<&'a str, Vec<DefRef<'a>>>,
    file_crate: Vec<usize>,
    file_modules: Vec<Vec<String>>,
    crate_names: Vec<String>,
    crate_modules: Vec<HashSet<String>>,
    overrides: &'a TypeOverrides,
    memo: RefCell<HashMap<MemoKey, Shape>>,
    /// Members of a strongly connected component whose root has not finished yet.
    pending: RefCell<Vec<MemoKey>>,
    /// The lowest stack depth a cycle has reached back to in the current expansion (see
    /// `expand_user`); `usize::MAX` for none.
    lowest_cut: Cell<usize>,
}

impl<'a> TypeIndex<'a> {
    /// Indexes the type definitions of `files`. `crates.of[i]` is the crate of file `i`,
    /// `crates.names[c]` the name crate `c` is imported by (`my_crate`) and `crates.modules[c]`
    /// its module names, so that a name defined in several crates resolves to the right one.
    pub fn new(files: &'a [FileFacts], crates: &Crates, overrides: &'a TypeOverrides) -> Self {
        let mut defs: HashMap<&str, Vec<DefRef>> = HashMap::new();
        for (file, facts) in files.iter().enumerate() {
            for (idx, def) in facts.types.iter().enumerate() {
                defs.entry(def.name.as_str()).or_default().push(DefRef {
                    file,
                    idx,
                    krate: crates.of[file],
                    def,
                });
            }
        }
        TypeIndex {
            defs,
            file_crate: crates.of.clone(),
            file_modules: crates.file_modules.clone(),
            crate_names: crates.names.clone(),
            crate_modules: crates.modules.clone(),
            overrides,
            memo: RefCell::default(),
            pending: RefCell::default(),
            lowest_cut: Cell::new(usize::MAX),
        }
    }

    /// Classifies the declared type of a global in file `file`.
    pub fn classify(&self, ty: &TypeExpr, file: usize) -> Shape {
        let at = At {
            file,
            env: &Env::new(),
            under_lock: false,
            top: true,
        };
        self.walk(ty, at, &mut Vec::new())
    }

    /// Candidate definitions of a type path seen from `file`. A path that starts in this crate
    /// (a bare name, `crate::`/`self::`/`super::`, or one of the crate's module names) finds the
    /// definitions in the same file, else in the same crate, else - for a bare name, as a glob
    /// import from a sibling crate would leave it - the one definition of that name if it is
    /// unique across the scan. A path that starts with a scanned crate's name finds that crate's.
    /// Anything else (`std::`, `reqwest::`) is not a user type.
    fn candidates(&self, segments: &[String], file: usize) -> Vec<DefRef<'a>> {
        let Some(all) = segments.last().and_then(|n| self.defs.get(n.as_str())) else {
            return Vec::new();
        };
        let pick = |keep: &dyn Fn(&DefRef) -> bool| -> Vec<DefRef<'a>> {
            all.iter().copied().filter(|d| keep(d)).collect()
        };
        let krate = self.file_crate[file];
        let first = segments[0].as_str();
        let local = segments.len() == 1
            || matches!(first, "crate" | "self" | "super")
            || self
                .crate_modules
                .get(krate)
                .is_some_and(|m| m.contains(first));
        // The modules the path names, if any: `crate::api::State` -> `api`.
        let skip = segments
            .iter()
            .take_while(|s| matches!(s.as_str(), "crate" | "self" | "super"))
            .count()
            .max(usize::from(!local));
        let modules = &segments[skip.min(segments.len() - 1)..segments.len() - 1];
        let in_crate = |k: usize| -> Vec<DefRef<'a>> {
            let defs = pick(&|d| d.krate == k);
            if modules.is_empty() {
                return defs;
            }
            let exact: Vec<_> = defs
                .iter()
                .copied()
                .filter(|d| d.in_module(&self.file_modules[d.file], modules))
                .collect();
            if exact.is_empty() { defs } else { exact }
        };
        if local && !modules.is_empty() {
            let by_module = in_crate(krate);
            if !by_module.is_empty() {
                return by_module;
            }
        }
        if local {
            let same_file = pick(&|d| d.file == file);
            if !same_file.is_empty() {
                return same_file;
            }
            let same_crate = pick(&|d| d.krate == krate);
            if !same_crate.is_empty() || segments.len() > 1 {
                return same_crate;
            }
            let only = all[0].krate;
            return if all.iter().all(|d| d.krate == only) {
                all.clone()
            } else {
                Vec::new()
            };
        }
        match self.crate_names.iter().position(|n| n == first) {
            Some(k) => in_crate(k),
            None => Vec::new(),
        }
    }

    fn walk(&self, ty: &TypeExpr, at: At, visiting: &mut Vec<(usize, usize, bool)>) -> Shape {
        match ty {
            TypeExpr::Path { segments, args } => self.walk_path(segments, args, at, visiting),
            TypeExpr::Tuple(items) => {
                let mut s = Shape::default();
                for t in items {
                    s.merge(self.walk(t, at.inner(at.under_lock), visiting));
                }
                s
            }
            TypeExpr::Array(inner) | TypeExpr::Ref { inner, .. } => {
                self.walk(inner, at.inner(at.under_lock), visiting)
            }
            TypeExpr::Ptr(_) | TypeExpr::FnPtr => Shape::default(),
            TypeExpr::Traits(paths) => {
                if paths.iter().all(|p| known::is_stateless_trait(p)) {
                    Shape::default()
                } else {
                    Shape::unknown()
                }
            }
            TypeExpr::Other => Shape::unknown(),
        }
    }

    fn walk_path(
        &self,
        segments: &[String],
        args: &[TypeExpr],
        at: At,
        visiting: &mut Vec<(usize, usize, bool)>,
    ) -> Shape {
        if segments.is_empty() {
            return Shape::unknown();
        }
        let walk_args = |under_lock: bool, visiting: &mut Vec<(usize, usize, bool)>| {
            let mut s = Shape::default();
            for a in args {
                s.merge(self.walk(a, at.inner(under_lock), visiting));
            }
            s
        };
        if let [single] = segments {
            if let Some(bound) = at.env.get(single) {
                return match bound {
                    Some(t) => self.walk(
                        t,
                        At {
                            env: &Env::new(),
                            ..at
                        },
                        visiting,
                    ),
                    None => Shape::default(),
                };
            }
            if single == "Self" {
                return Shape::default();
            }
        }
        match self.overrides.lookup(segments) {
            Some(true) => {
                let mut s = walk_args(true, visiting);
                s.interior = true;
                return s;
            }
            Some(false) => return Shape::default(),
            None => {}
        }
        let local_first =
            segments.len() == 1 || matches!(segments[0].as_str(), "crate" | "self" | "super");
        if local_first && let Some(s) = self.expand_user(segments, args, at, visiting) {
            return s;
        }
        match known::lookup(segments, !args.is_empty()) {
            Some(Known::Lazy) => {
                let mut s = walk_args(at.under_lock, visiting);
                if at.top {
                    s.lazy = true;
                } else {
                    s.interior = true;
                }
                s
            }
            Some(Known::Interior) => {
                let mut s = walk_args(true, visiting);
                s.interior = true;
                s
            }
            Some(Known::ConcurrentMap) => {
                let mut s = walk_args(true, visiting);
                s.interior = true;
                s.concurrent_map = true;
                s
            }
            Some(Known::Collection) => {
                let mut s = walk_args(at.under_lock, visiting);
                s.map_under_lock |= at.under_lock;
                s
            }
            Some(Known::Transparent) => walk_args(at.under_lock, visiting),
            Some(Known::Immutable) => Shape::default(),
            None => self
                .expand_user(segments, args, at, visiting)
                .unwrap_or_else(|| {
                    let mut s = walk_args(at.under_lock, visiting);
                    s.unknown = true;
                    s
                }),
        }
    }

    /// Expands a user-defined type, or `None` when no definition of it was scanned. Results are
    /// memoised (per generic argument list) once final: a result cut short by a cycle to a
    /// definition further up depends on where the walk entered the cycle and is not kept.
    fn expand_user(
        &self,
        segments: &[String],
        args: &[TypeExpr],
        at: At,
        visiting: &mut Vec<(usize, usize, bool)>,
    ) -> Option<Shape> {
        let candidates = self.candidates(segments, at.file);
        if candidates.is_empty() {
            return None;
        }
        let mut shape = Shape::default();
        for d in candidates {
            let key = (d.file, d.idx, at.under_lock);
            if let Some(depth) = visiting.iter().position(|v| *v == key) {
                // A cycle: what this definition adds is being computed further up the stack.
                self.lowest_cut.set(self.lowest_cut.get().min(depth));
                continue;
            }
            // Generic definitions are memoised per argument list (after substitution), keyed
            // by its 64-bit hash: storing the lists themselves cost ~50 MB on the corpus.
            let bound: Vec<Option<TypeExpr>> = (0..d.def.params.len())
                .map(|i| args.get(i).map(|a| substitute(a, at.env)))
                .collect();
            let memo_key = (d.file, d.idx, at.under_lock, at.top, args_hash(&bound));
            if let Some(s) = self.memo.borrow().get(&memo_key) {
                shape.merge(*s);
                continue;
            }
            let inner_env: Env = d.def.params.iter().cloned().zip(bound).collect();
            let depth = visiting.len();
            let outer_cut = self.lowest_cut.replace(usize::MAX);
            let pending_from = self.pending.borrow().len();
            visiting.push(key);
            let mut s = Shape::default();
            let alias = d.def.kind == TypeDefKind::Alias;
            let field_at = At {
                file: d.file,
                env: &inner_env,
                under_lock: at.under_lock,
                top: at.top && alias,
            };
            for field in &d.def.fields {
                s.merge(self.walk(field, field_at, visiting));
            }
            visiting.pop();
            let cut = self.lowest_cut.get();
            // Tarjan's rule: a result is final at the root of its strongly connected component
            // (no cycle reached above it). Every member of the component reaches the same
            // definitions as its root, so the members waiting in `pending` share its result.
            if cut >= depth {
                let members = self.pending.borrow_mut().split_off(pending_from);
                let mut memo = self.memo.borrow_mut();
                for member in members {
                    let member_shape = Shape {
                        lazy: s.lazy && member.3,
                        ..s
                    };
                    memo.insert(member, member_shape);
                }
                memo.insert(memo_key, s);
            } else {
                self.pending.borrow_mut().push(memo_key);
            }
            self.lowest_cut.set(outer_cut.min(cut));
            shape.merge(s);
        }
        Some(shape)
    }
}

/// Where a walk is: the file whose imports and crate resolve names, the generic parameters in
/// scope, whether an interior-mutable wrapper is above, and whether this is still the
/// outermost type (only there does a lazy cell make the global lazy).
#[derive(Clone, Copy)]
struct At<'e> {
    file: usize,
    env: &'e Env,
    under_lock: bool,
    top: bool,
}

impl At<'_> {
    /// A type argument or element: no longer the outermost type.
    fn inner(self, under_lock: bool) -> Self {
        At {
            under_lock,
            top: false,
            ..self
        }
    }
}

/// Replaces generic parameters bound in `env` inside `ty`.
fn substitute(ty: &TypeExpr, env: &Env) -> TypeExpr {
    if env.is_empty() {
        return ty.clone();
    }
    match ty {
        TypeExpr::Path { segments, args } => {
            if let [single] = segments.as_slice()
                && let Some(bound) = env.get(single)
            {
                return bound.clone().unwrap_or(TypeExpr::Other);
            }
            TypeExpr::Path {
                segments: segments.clone(),
                args: args.iter().map(|a| substitute(a, env)).collect(),
            }
        }
        TypeExpr::Tuple(items) => {
            TypeExpr::Tuple(items.iter().map(|t| substitute(t, env)).collect())
        }
        TypeExpr::Array(inner) => TypeExpr::Array(Box::new(substitute(inner, env))),
        TypeExpr::Ptr(inner) => TypeExpr::Ptr(Box::new(substitute(inner, env))),
        TypeExpr::Ref {
            is_static,
            mutable,
            inner,
        } => TypeExpr::Ref {
            is_static: *is_static,
            mutable: *mutable,
            inner: Box::new(substitute(inner, env)),
        },
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts;

    fn shapes(files: &[&str], overrides: &TypeOverrides) -> Vec<(String, Shape)> {
        let facts: Vec<FileFacts> = files
            .iter()
            .map(|src| facts::collect(&syn::parse_file(src).unwrap(), src))
            .collect();
        let crates = Crates {
            of: vec![0; facts.len()],
            names: vec![String::new()],
            modules: vec![HashSet::new()],
            file_modules: vec![Vec::new(); facts.len()],
        };
        let index = TypeIndex::new(&facts, &crates, overrides);
        let mut out = Vec::new();
        for (i, f) in facts.iter().enumerate() {
            for g in &f.globals {
                out.push((g.name.clone(), index.classify(&g.ty, i)));
            }
        }
        out
    }

    #[test]
    fn user_types_across_files_generics_and_cycles() {
        let out = shapes(
            &[
                "struct Engine { active_runs: Mutex<HashMap<u32, Run>>, next: Option<Box<Engine>> }
                 type Shared<T> = Arc<RwLock<T>>;
                 struct Plain { name: String, tags: Vec<String> }",
                "static E: OnceLock<Engine> = OnceLock::new();
                 static S: Shared<Vec<u8>> = todo!();
                 static P: Lazy<Plain> = Lazy::new(|| todo!());
                 static C: Lazy<reqwest::Client> = Lazy::new(|| todo!());",
            ],
            &TypeOverrides::default(),
        );
        let get = |n: &str| out.iter().find(|(name, _)| name == n).unwrap().1;
        assert!(get("E").lazy && get("E").map_under_lock);
        assert!(get("S").interior && get("S").map_under_lock && !get("S").lazy);
        assert_eq!(
            get("P"),
            Shape {
                lazy: true,
                ..Shape::default()
            }
        );
        assert!(get("C").lazy && get("C").unknown);
    }

    #[test]
    fn a_cycle_cut_short_is_not_memoised() {
        // Classifying X walks A -> B -> (A: cut). B's partial result must not be reused for Y.
        let out = shapes(
            &["struct A { m: Mutex<Vec<u8>>, b: B }
               struct B { a: Option<Box<A>> }
               static X: A = todo!();
               static Y: Option<B> = todo!();"],
            &TypeOverrides::default(),
        );
        assert!(out[0].1.map_under_lock, "X: {:?}", out[0].1);
        assert!(out[1].1.map_under_lock, "Y: {:?}", out[1].1);
    }

    #[test]
    fn overrides_win() {
        let o = TypeOverrides::new(&["my::Handle".into()], &["reqwest::Client".into()]);
        let out = shapes(
            &["static C: Lazy<reqwest::Client> = x; static H: Handle = x;"],
            &o,
        );
        assert_eq!(
            out[0].1,
            Shape {
                lazy: true,
                ..Shape::default()
            }
        );
        assert!(out[1].1.interior);
    }
}
