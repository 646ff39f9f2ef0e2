//! Cross-file type classification: what a global's type can do, decided from its syntax, the
//! known library types ([`known`]), the user's own type definitions in every scanned file
//! (transitively, with generics substituted and a cycle guard) and the configured overrides.

pub(crate) mod known;
mod state;
pub(crate) mod trail;

pub(crate) use state::{StateKind, state_of};

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use crate::facts::{FileFacts, Global, LocalModule, TypeDef, TypeDefKind, TypeExpr};
use crate::project::modules::ModuleId;
use crate::resolve::{Def, Res, Resolver};
use crate::source::FileId;
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
    /// A concurrent map, set or cache sits somewhere inside.
    pub concurrent_map: bool,
    /// Something inside is a type we cannot see into.
    pub unknown: bool,
    /// Something inside can carry request data: text, bytes, keys, collections of them, user
    /// types holding them - anything but numbers, flags, ids and durations.
    pub data: bool,
    /// Interior mutability over data or over a type we cannot see into (`Mutex<Option<T>>`,
    /// `RefCell<Session>`), not only over scalars (`Mutex<bool>`, atomics).
    pub locked_data: bool,
    /// A collection behind interior mutability whose elements carry data (`RefCell<Vec<String>>`),
    /// as opposed to a buffer of numbers (`RefCell<Vec<f64>>`).
    pub data_collection: bool,
    /// A channel or queue sits somewhere inside.
    pub channel: bool,
    /// A `watch` channel end (a shared value replaced by its sender) sits somewhere inside.
    pub watch: bool,
    /// A metrics instrument sits somewhere inside.
    pub metric: bool,
}

impl Shape {
    fn merge(&mut self, o: Shape) {
        self.lazy |= o.lazy;
        self.interior |= o.interior;
        self.map_under_lock |= o.map_under_lock;
        self.concurrent_map |= o.concurrent_map;
        self.unknown |= o.unknown;
        self.data |= o.data;
        self.locked_data |= o.locked_data;
        self.data_collection |= o.data_collection;
        self.channel |= o.channel;
        self.watch |= o.watch;
        self.metric |= o.metric;
    }

    /// Marks interior mutability over `inner`.
    fn set_interior_over(&mut self, inner: Shape) {
        self.interior = true;
        self.locked_data |= inner.data || inner.unknown;
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
pub(crate) struct TypeOverrides {
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

/// What a path names (see [`TypeIndex::node`]).
enum Node<'a, 'e> {
    /// A generic parameter, bound to a type (or to nothing).
    Bound(Option<&'e TypeExpr>),
    /// `Self`, or nothing to look at.
    Nothing,
    /// `mutable_types` (true) or `immutable_types` (false) in the configuration.
    Override(bool),
    /// The user's own definitions (several when the path is ambiguous).
    User(Vec<DefRef<'a>>),
    /// A known library type, and the full path it was found by.
    Known(Known, Vec<String>),
    /// Something the linter cannot see into.
    Unknown,
}

#[derive(Clone, Copy)]
struct DefRef<'a> {
    file: FileId,
    idx: usize,
    def: &'a TypeDef,
}

type Env = HashMap<String, Option<TypeExpr>>;

/// A definition (file, index), whether a lock is above it, whether it is the outermost type,
/// and the hash of its generic arguments.
type MemoKey = (FileId, usize, bool, bool, u64);

fn args_hash(args: &[Option<TypeExpr>]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    args.hash(&mut h);
    h.finish()
}

/// A trait object's memo key: the trait's name, whether it sits under a lock, and the Cargo
/// workspace it is written in (implementors are matched within it).
type DynKey<'a> = (String, bool, Option<&'a std::path::Path>);

/// Classifies types against every user type definition of the scan.
pub(crate) struct TypeIndex<'a> {
    resolver: &'a Resolver<'a>,
    facts: &'a [Option<&'a FileFacts>],
    /// Every type definition by name, for paths the resolver cannot follow.
    /// (name, file, index), sorted by name: one flat list, no allocation per name.
    by_name: Vec<(&'a str, FileId, usize)>,
    /// The configured overrides that apply to types written in each file.
    overrides: &'a [&'a TypeOverrides],
    memo: RefCell<HashMap<MemoKey, Shape>>,
    /// What each of the scanned code's traits can hold as a trait object (`None` while it is
    /// being worked out; see [`Self::implementors`]).
    dyn_memo: RefCell<HashMap<DynKey<'a>, Option<Shape>>>,
    /// Members of a strongly connected component whose root has not finished yet.
    pending: RefCell<Vec<MemoKey>>,
    /// The lowest stack depth a cycle has reached back to in the current expansion (see
    /// `expand_user`); `usize::MAX` for none.
    lowest_cut: Cell<usize>,
}

type Visiting = Vec<(FileId, usize, bool)>;

impl<'a> TypeIndex<'a> {
    /// Indexes the type definitions of `facts` (by [`FileId`]); `overrides[i]` applies to the
    /// types written in file `i`.
    pub fn new(
        resolver: &'a Resolver<'a>,
        facts: &'a [Option<&'a FileFacts>],
        overrides: &'a [&'a TypeOverrides],
    ) -> Self {
        let mut by_name: Vec<(&str, FileId, usize)> = Vec::new();
        for (i, f) in facts.iter().enumerate() {
            let Some(f) = f else { continue };
            for (idx, def) in f.types.iter().enumerate() {
                by_name.push((def.name.as_str(), FileId(i as u32), idx));
            }
        }
        by_name.sort_unstable();
        TypeIndex {
            resolver,
            facts,
            by_name,
            overrides,
            memo: RefCell::default(),
            dyn_memo: RefCell::default(),
            pending: RefCell::default(),
            lowest_cut: Cell::new(usize::MAX),
        }
    }

    /// Classifies the declared type of a global written in module `module` of `file`.
    pub fn classify(&self, ty: &TypeExpr, file: FileId, module: LocalModule) -> Shape {
        let at = At {
            file,
            module: self.resolver.module(file, module),
            env: &Env::new(),
            under_lock: false,
            top: true,
        };
        self.walk(ty, at, &mut Vec::new())
    }

    /// How a global is classified: by its declared type, or, when that names nothing the
    /// linter can see into and says nothing else (an alias from a crate the scan does not
    /// hold), by what its initialiser builds (`LazyLock::new(..)`, `Mutex::new(Vec::new())`).
    /// The second value says which was used.
    pub fn classify_global(&self, g: &Global, file: FileId) -> (Shape, bool) {
        let declared = self.classify(&g.ty, file, g.module);
        let says_nothing = declared.unknown
            && !declared.lazy
            && !declared.interior
            && !declared.mutable_map()
            && !declared.channel
            && !declared.metric;
        if let (true, Some(init)) = (says_nothing, &g.init) {
            let mut built = self.classify(init, file, g.module);
            if built.lazy || built.interior || built.mutable_map() {
                built.unknown |= declared.unknown;
                return (built, true);
            }
        }
        (declared, false)
    }

    /// Whether a `use` in `file` binds `name` by name (not through a glob).
    fn imports_name(&self, file: FileId, name: &str) -> bool {
        self.facts[file.index()]
            .is_some_and(|f| f.uses.iter().any(|u| u.alias.as_deref() == Some(name)))
    }

    fn crate_of(&self, file: FileId) -> usize {
        self.resolver.tree().file_crate[file.index()]
    }

    fn def_ref(&self, file: FileId, idx: usize) -> Option<DefRef<'a>> {
        let def = self.facts[file.index()]?.types.get(idx)?;
        Some(DefRef { file, idx, def })
    }

    /// The module path of a definition, crate name first (`my_crate::db::Pool` without the
    /// name).
    fn def_module_path(&self, d: &DefRef) -> Vec<String> {
        let m = self.resolver.module(d.file, d.def.module);
        self.resolver.canonical_module_path(m)
    }

    /// Definitions for a path the resolver could not follow, found by name as the linter did
    /// before it had a resolver: in the same file, else the same crate (preferring the modules
    /// the path names), else - for a bare name - the one crate that defines it, or in the crate
    /// the path's first segment names.
    fn by_name_fallback(&self, segments: &[String], file: FileId, local: bool) -> Vec<DefRef<'a>> {
        let Some(name) = segments.last() else {
            return Vec::new();
        };
        let from = self.by_name.partition_point(|(n, _, _)| *n < name.as_str());
        let all: Vec<DefRef<'a>> = self.by_name[from..]
            .iter()
            .take_while(|(n, _, _)| *n == name.as_str())
            .filter_map(|&(_, file, idx)| self.def_ref(file, idx))
            .collect();
        if all.is_empty() {
            return Vec::new();
        }
        let relative = segments
            .iter()
            .take_while(|s| matches!(s.as_str(), "crate" | "self" | "super"))
            .count();
        let prefer_modules = |defs: Vec<DefRef<'a>>, modules: &[String]| -> Vec<DefRef<'a>> {
            if modules.is_empty() {
                return defs;
            }
            let exact: Vec<_> = defs
                .iter()
                .copied()
                .filter(|d| self.def_module_path(d).ends_with(modules))
                .collect();
            if exact.is_empty() { defs } else { exact }
        };
        let krate = self.crate_of(file);
        if local {
            let same_file: Vec<_> = all.iter().copied().filter(|d| d.file == file).collect();
            if !same_file.is_empty() {
                return same_file;
            }
            let same_crate: Vec<_> = all
                .iter()
                .copied()
                .filter(|d| self.crate_of(d.file) == krate)
                .collect();
            let modules = &segments[relative.min(segments.len() - 1)..segments.len() - 1];
            if !same_crate.is_empty() || segments.len() > 1 {
                return prefer_modules(same_crate, modules);
            }
            let only = self.crate_of(all[0].file);
            return if all.iter().all(|d| self.crate_of(d.file) == only) {
                all.clone()
            } else {
                Vec::new()
            };
        }
        let first = segments[0].as_str();
        let in_first: Vec<_> = all
            .iter()
            .copied()
            .filter(|d| self.resolver.crate_name(self.crate_of(d.file)) == first)
            .collect();
        prefer_modules(in_first, &segments[1..segments.len() - 1])
    }

    fn walk(&self, ty: &TypeExpr, at: At, visiting: &mut Visiting) -> Shape {
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
                let mut shape = Shape::default();
                for p in paths.iter().filter(|p| !known::is_stateless_trait(p)) {
                    shape.merge(self.implementors(p, at, visiting));
                }
                shape
            }
            TypeExpr::Other => Shape::unknown(),
        }
    }

    /// What a `dyn Trait` can hold: every type the scanned code implements `Trait` for (matched
    /// by the trait's name), when the trait is the scanned code's own and every implementor is
    /// a named type (kanidm's `Box<dyn ValueSetT>` over its value sets). Unknown otherwise: a
    /// library trait, a blanket `impl<T> Trait for T`, or a trait whose implementors hold
    /// `dyn Trait` again.
    fn implementors(&self, trait_path: &[String], at: At, visiting: &mut Visiting) -> Shape {
        let Some(name) = trait_path.last() else {
            return Shape::unknown();
        };
        let key = (
            name.clone(),
            at.under_lock,
            self.resolver.workspace_of(at.file),
        );
        if let Some(done) = self.dyn_memo.borrow().get(&key) {
            return done.unwrap_or_else(Shape::unknown);
        }
        let Some(types) = self.implementor_types(name, at.file) else {
            self.dyn_memo
                .borrow_mut()
                .insert(key, Some(Shape::unknown()));
            return Shape::unknown();
        };
        // In progress: the trait's implementors hold the trait object again.
        self.dyn_memo.borrow_mut().insert(key.clone(), None);
        let depth = visiting.len();
        let outer_cut = self.lowest_cut.replace(usize::MAX);
        let mut shape = Shape::default();
        for (file, module, ty) in &types {
            let inner = At {
                file: *file,
                module: *module,
                env: &Env::new(),
                under_lock: at.under_lock,
                top: false,
            };
            shape.merge(self.walk(ty, inner, visiting));
        }
        // A cycle cut short at a type outside this search (an implementor holding its own
        // trait object) leaves a partial answer: not kept for other globals.
        let cut = self.lowest_cut.get();
        if cut < depth {
            self.dyn_memo.borrow_mut().remove(&key);
        } else {
            self.dyn_memo.borrow_mut().insert(key, Some(shape));
        }
        self.lowest_cut.set(outer_cut.min(cut));
        shape
    }

    /// The types the code of `from`'s Cargo workspace implements trait `name` for, each with
    /// where its impl is written; `None` when the trait is not that workspace's, when it has no
    /// implementor, or when an implementor is not a named type (`impl<T> Trait for T`). Matched
    /// by name within one workspace only: a scan of many unrelated packages (a vendored
    /// corpus) must not make rustls's `dyn Hash` every `Hash` implementor of the scan.
    pub(crate) fn implementor_types(
        &self,
        name: &str,
        from: FileId,
    ) -> Option<Vec<(FileId, ModuleId, TypeExpr)>> {
        let workspace = self.resolver.workspace_of(from);
        let all = || {
            self.facts
                .iter()
                .enumerate()
                .filter_map(|(i, f)| f.map(|f| (FileId(i as u32), f)))
                .filter(move |(file, _)| self.resolver.workspace_of(*file) == workspace)
        };
        let defined = all().any(|(_, f)| {
            f.impls
                .iter()
                .any(|i| i.is_trait && i.trait_path.as_ref().is_some_and(|t| t.last() == name))
        });
        if !defined {
            return None;
        }
        let mut out = Vec::new();
        for (file, f) in all() {
            for (idx, imp) in f.impls.iter().enumerate() {
                if imp.is_trait || imp.trait_path.as_ref().is_none_or(|t| t.last() != name) {
                    continue;
                }
                let self_ty = imp.self_ty.as_ref()?;
                // The impl's module: the one its methods are in.
                let module = f
                    .fns
                    .iter()
                    .find(|func| func.owner == Some(idx as u32))
                    .map_or(0, |func| func.module);
                let ty = TypeExpr::Path {
                    segments: self_ty.segments(),
                    args: Vec::new(),
                };
                out.push((file, self.resolver.module(file, module), ty));
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// What a path names where it is written: a generic parameter, a configured override, the
    /// user's own definitions, a known library type (by the full path it resolves to), or
    /// something the linter cannot see into. Shared by [`Self::walk`] and the trail search.
    fn node<'e>(&self, segments: &[String], has_args: bool, at: At<'e>) -> Node<'a, 'e> {
        if segments.is_empty() {
            return Node::Unknown;
        }
        if let [single] = segments {
            if let Some(bound) = at.env.get(single) {
                return Node::Bound(bound.as_ref());
            }
            if single == "Self" {
                return Node::Nothing;
            }
        }
        // What the path names: user definitions, an external path, or nothing we can follow.
        let resolved = self.resolver.resolve(at.module, segments);
        let complete = resolved.consumed == segments.len();
        let mut defs: Vec<DefRef<'a>> = Vec::new();
        let mut external: Option<&Vec<String>> = None;
        if complete {
            for r in &resolved.res {
                match r {
                    Res::Def(Def::Type(f, i)) => defs.extend(self.def_ref(*f, *i)),
                    Res::External(p) => external = external.or(Some(p)),
                    Res::Def(_) => {}
                }
            }
        }
        // A prelude name (`bool`, `String`) that only an external glob could bind (`use
        // chrono::prelude::*;` in a fn body) is the prelude's: the glob's contents are a guess,
        // and such crates do not export prelude names. A named import (`use evil::String;`)
        // still wins.
        if let [single] = segments
            && defs.is_empty()
            && external.is_some()
            && known::is_prelude(single)
            && !self.imports_name(at.file, single)
        {
            external = None;
        }
        let full: Vec<String> = match (defs.first(), external) {
            (Some(d), _) => {
                let mut p = self.def_module_path(d);
                p.push(d.def.name.clone());
                p
            }
            (None, Some(p)) => p.clone(),
            (None, None) => segments.to_vec(),
        };
        let overrides = self.overrides[at.file.index()];
        if let Some(mutable) = overrides
            .lookup(&full)
            .or_else(|| overrides.lookup(segments))
        {
            return Node::Override(mutable);
        }
        // A definition in the path's own crate is the user's type, whatever its name; one in
        // another scanned crate (a vendored `once_cell`, `parking_lot`) is first looked up
        // among the known library types, by its full path.
        let own_crate = self.crate_of(at.file);
        let origin = if defs.is_empty() && external.is_none() {
            known::Origin::Unresolved
        } else {
            known::Origin::Full
        };
        let known = || known::lookup(&full, has_args, origin);
        if !defs.is_empty() {
            if defs.iter().any(|d| self.crate_of(d.file) == own_crate) {
                return Node::User(defs);
            }
            return match known() {
                Some(k) => Node::Known(k, full),
                None => Node::User(defs),
            };
        }
        // The first segment named a module of this crate, but the rest could not be followed
        // (a module filled by a macro, or by a cfg we do not evaluate).
        let in_own_module = resolved.consumed >= 1
            && !complete
            && resolved.res.iter().any(|r| {
                matches!(r, Res::Def(Def::Module(m)) if self.resolver.tree().modules[*m as usize].krate == own_crate)
            });
        let local_first = segments.len() == 1
            || matches!(segments[0].as_str(), "crate" | "self" | "super")
            || in_own_module;
        let prelude = matches!(segments, [single] if known::is_prelude(single));
        if external.is_none() && local_first && !prelude {
            // Only a name nothing in scope defines is matched by name: first against the
            // user's types (a bare prelude name is the prelude's), then the library lists.
            let found = self.by_name_fallback(segments, at.file, true);
            if !found.is_empty() {
                return Node::User(found);
            }
        }
        if let Some(k) = known() {
            return Node::Known(k, full);
        }
        if external.is_none() && !local_first {
            let found = self.by_name_fallback(segments, at.file, false);
            if !found.is_empty() {
                return Node::User(found);
            }
        }
        Node::Unknown
    }

    fn walk_path(
        &self,
        segments: &[String],
        args: &[TypeExpr],
        at: At,
        visiting: &mut Visiting,
    ) -> Shape {
        let walk_args = |under_lock: bool, visiting: &mut Visiting| {
            let mut s = Shape::default();
            for a in args {
                s.merge(self.walk(a, at.inner(under_lock), visiting));
            }
            s
        };
        match self.node(segments, !args.is_empty(), at) {
            Node::Bound(Some(t)) => self.walk(
                t,
                At {
                    env: &Env::new(),
                    ..at
                },
                visiting,
            ),
            Node::Bound(None) | Node::Nothing => Shape::default(),
            Node::Override(true) => {
                let mut s = walk_args(true, visiting);
                s.set_interior_over(s);
                s
            }
            Node::Override(false) => Shape::default(),
            Node::User(defs) => self.expand_user(defs, args, at, visiting),
            Node::Unknown => {
                let mut s = walk_args(at.under_lock, visiting);
                s.unknown = true;
                s
            }
            Node::Known(k, full) => match k {
                Known::Lazy if at.top => {
                    let mut s = walk_args(at.under_lock, visiting);
                    s.lazy = true;
                    s
                }
                Known::Lazy => {
                    // A once-cell inside a value: set once (by whichever request comes first),
                    // then only read; what it holds is not behind a lock.
                    let inner = walk_args(at.under_lock, visiting);
                    let mut s = inner;
                    s.set_interior_over(inner);
                    s
                }
                Known::Interior => {
                    let inner = walk_args(true, visiting);
                    let mut s = inner;
                    if known::is_scalar_interior(&full) {
                        s.interior = true;
                    } else {
                        s.set_interior_over(inner);
                    }
                    s
                }
                Known::ConcurrentMap => {
                    let mut s = walk_args(true, visiting);
                    s.interior = true;
                    s.concurrent_map = true;
                    s.data = true;
                    s
                }
                Known::Channel => {
                    // Messages pass through; they are not a collection behind a lock.
                    let mut s = walk_args(false, visiting);
                    s.interior = true;
                    s.channel = true;
                    s
                }
                Known::Watch => {
                    // One shared value, replaced whole: not a collection behind a lock.
                    let inner = walk_args(false, visiting);
                    let mut s = inner;
                    s.watch = true;
                    s.set_interior_over(inner);
                    s
                }
                Known::Metric => Shape {
                    interior: true,
                    metric: true,
                    ..Shape::default()
                },
                Known::Collection => self.collection(walk_args(at.under_lock, visiting), at),
                Known::UntrustedCollection if at.under_lock => {
                    self.collection(walk_args(true, visiting), at)
                }
                Known::UntrustedCollection => {
                    let mut s = walk_args(false, visiting);
                    s.unknown = true;
                    s
                }
                Known::Transparent => walk_args(at.under_lock, visiting),
                Known::Immutable => Shape {
                    data: true,
                    ..Shape::default()
                },
                Known::Scalar => Shape::default(),
            },
        }
    }

    /// A collection whose elements have shape `elements`.
    fn collection(&self, elements: Shape, at: At) -> Shape {
        let mut s = elements;
        if at.under_lock {
            s.map_under_lock = true;
            s.data_collection |= elements.data || elements.unknown;
        }
        s
    }

    /// Expands user-defined types (several when the path is ambiguous: their shapes merge).
    /// Results are memoised (per generic argument list) once final: a result cut short by a
    /// cycle to a definition further up depends on where the walk entered the cycle and is not
    /// kept.
    fn expand_user(
        &self,
        candidates: Vec<DefRef<'a>>,
        args: &[TypeExpr],
        at: At,
        visiting: &mut Visiting,
    ) -> Shape {
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
            let field_at = self.fields_at(&d, at, &inner_env);
            for field in &d.def.fields {
                s.merge(self.walk(field, field_at, visiting));
            }
            // A type of the user's own with fields is a domain value (`UserId(u64)`, a
            // session): it can carry request data even when made of numbers. Unit-only enums
            // (modes, flags) cannot.
            if !alias && !d.def.fields.is_empty() {
                s.data = true;
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
        shape
    }
}

/// Where a walk is: the file whose imports and crate resolve names, the generic parameters in
/// scope, whether an interior-mutable wrapper is above, and whether this is still the
/// outermost type (only there does a lazy cell make the global lazy).
#[derive(Clone, Copy)]
struct At<'e> {
    file: FileId,
    module: ModuleId,
    env: &'e Env,
    under_lock: bool,
    top: bool,
}

impl<'a> TypeIndex<'a> {
    /// Where `d`'s fields are read: its file and module, with its parameters bound to `env`,
    /// under the same lock as `d`; an alias's target is still the outermost type when `d` was.
    fn fields_at<'e>(&self, d: &DefRef, at: At, env: &'e Env) -> At<'e> {
        At {
            file: d.file,
            module: self.resolver.module(d.file, d.def.module),
            env,
            under_lock: at.under_lock,
            top: at.top && d.def.kind == TypeDefKind::Alias,
        }
    }
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

    fn shapes(files: &[&str], overrides: &TypeOverrides) -> Vec<(String, Shape)> {
        let named: Vec<(String, &str)> = files
            .iter()
            .enumerate()
            .map(|(i, src)| (format!("src/f{i}.rs"), *src))
            .collect();
        let named: Vec<(&str, &str)> = named.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        crate::analysis::testing::with_analysis(&named, overrides.clone(), |a, _| {
            let mut out = Vec::new();
            for (file, f) in a.files() {
                for g in &f.globals {
                    out.push((g.name.clone(), a.types().classify(&g.ty, file, g.module)));
                }
            }
            out
        })
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
        let p = get("P");
        assert!(p.lazy && p.data && !p.interior && !p.unknown, "{p:?}");
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
