//! The call graph over every function of the scan, built from facts and resolved lazily: a
//! node's callees are resolved when the search reaches it, never for the rest.
//!
//! Nodes are dense ids (file by file, in each file's function order). A call resolves with the
//! shared resolver:
//!
//! - `f()`, `a::b::f()`, `crate::`/`super::`/`self::` paths, imports and renames, other
//!   workspace crates by crate name: the functions the path names;
//! - `Type::assoc()`, `Self::f()`: the methods of that name of the type's impls (and trait
//!   default methods of that name);
//! - `Trait::m(x)` for a trait defined in the scan: every impl's `m` and the default;
//! - `x.m()`: every method named `m` in the scan - **an over-approximation** - narrowed to the
//!   receiver's type where the syntax says it (`self`, `self.field`, a parameter or `let` with a
//!   written type or an evident constructor, `Type::new().m()`): to that type's methods when it
//!   is a scanned type that has one, to nothing when it is a library type (`String::len`), and
//!   left wide when the type is a generic parameter or unknown (or a scanned type without such
//!   a method: a blanket impl or `Deref` provides it). Unnarrowed calls of the methods
//!   of std's derivable, conversion and formatting traits (`clone`, `eq`, `fmt`, `into`,
//!   `from`, `default`, `drop`, `deref`, ...) are not followed: nearly every value is cloned or
//!   compared, and following them to every impl would connect everything to everything; the
//!   same holds for std's most common inherent methods (`get`, `insert`, `push`, `iter`,
//!   `lock`, `read`, `write`, `unwrap`, ...), and for a name more than
//!   [`MAX_GUESSED_METHODS`] scanned types define (`run`, `new`, `handle`): from an unknown
//!   receiver these are guesses, and on real servers they made chains through unrelated code;
//! - a closure handed to a routing call is its own function: an edge from its enclosing
//!   function unless the closure is an entry point itself.
//!
//! External functions (std, dependencies not in the scan) end the path.

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::analysis::Analysis;
use crate::facts::{Callee, FileFacts, FnFact, PathText, Recv, TypeExpr};
use crate::resolve::{Def, Res};
use crate::source::FileId;

/// A function (or collected closure) of the scan.
pub(crate) type Node = u32;

/// A type definition: (file, index into its `types`).
pub(crate) type TypeKey = (FileId, usize);

/// Methods of std traits (and std's most common inherent methods) not followed from a call
/// whose receiver type is unknown.
const STD_TRAIT_METHODS: &[&str] = &[
    "clone",
    "clone_from",
    "fmt",
    "eq",
    "ne",
    "cmp",
    "partial_cmp",
    "lt",
    "le",
    "gt",
    "ge",
    "hash",
    "drop",
    "deref",
    "deref_mut",
    "as_ref",
    "as_mut",
    "borrow",
    "borrow_mut",
    "into",
    "from",
    "try_from",
    "try_into",
    "to_string",
    "to_owned",
    "default",
    "into_iter",
    "index",
    "index_mut",
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "not",
    "from_str",
    "serialize",
    "deserialize",
    // Methods of std's collections, locks, `Option`/`Result` and iterators: on a receiver of
    // unknown type, these are std's far more often than the scanned code's (a chain through
    // every project `get` for each `map.get(k)` is noise, not evidence).
    "get",
    "get_mut",
    "insert",
    "remove",
    "push",
    "pop",
    "len",
    "is_empty",
    "contains",
    "contains_key",
    "entry",
    "extend",
    "clear",
    "iter",
    "iter_mut",
    "keys",
    "values",
    "next",
    "map",
    "and_then",
    "unwrap",
    "unwrap_or",
    "unwrap_or_default",
    "expect",
    "ok",
    "collect",
    "filter",
    "first",
    "last",
    "take",
    "lock",
    "read",
    "write",
    "try_lock",
    "try_read",
    "try_write",
];

/// At most this many methods of one name are followed from a receiver of unknown type.
const MAX_GUESSED_METHODS: usize = 4;

/// What a type path means for narrowing a method call.
enum TypeTarget {
    /// Types defined in the scan.
    Scanned(Vec<TypeKey>),
    /// A library type: its methods are not in the scan.
    External,
    /// A generic parameter, or nothing the resolver knows.
    Unknown,
}

/// The call graph (see the module docs).
pub(crate) struct Graph<'g, 'a> {
    pub a: &'g Analysis<'a>,
    /// Per file: its first node.
    offsets: Vec<Node>,
    total: Node,
    /// Built on first use: a scan without entry points never needs it.
    index: OnceCell<Index<'a>>,
    /// Per impl block (file, impl index): the scanned types its self type names.
    self_types: RefCell<SelfTypes>,
    /// Per method name, built on first use: its methods by the scanned self types of their
    /// impl blocks, so a call on a known receiver looks its type up instead of checking every
    /// method of that name in the scan (thousands of `new`s in a large workspace).
    methods_by_type: RefCell<HashMap<String, Rc<MethodsByType<'a>>>>,
}

/// The methods of one name: those of trait blocks (any receiver), and the others by the last
/// segment of their impl's self type as written (`Engine` for `impl crate::core::Engine`).
/// A self type that resolves to a scanned type `T` ends in `T`'s own name or in a `use .. as`
/// rename, so a lookup for `T` resolves only the impls written with one of those names, not
/// every impl with a method of this name (thousands of `new`s in a large workspace).
#[derive(Default)]
struct MethodsByType<'a> {
    any: Vec<Node>,
    by_last: HashMap<&'a str, Vec<Node>>,
    /// Those whose self type is written with a rename.
    renamed: Vec<Node>,
}

/// Per impl block (file, impl index): the scanned types its self type names.
type SelfTypes = HashMap<(FileId, u32), Rc<[TypeKey]>>;

#[derive(Default)]
struct Index<'a> {
    /// Methods (and trait default methods) by name.
    methods: HashMap<&'a str, Vec<Node>>,
    /// Collected closures by enclosing function.
    closures: HashMap<Node, Vec<Node>>,
    /// Names of the traits defined in the scan.
    traits: HashSet<&'a str>,
    /// The names `use .. as NAME` renames bind anywhere in the scan (`NAME` differs from the
    /// path's last segment): an impl's self type written with one of them may be any type.
    renames: HashSet<&'a str>,
}

impl<'g, 'a> Graph<'g, 'a> {
    pub fn new(a: &'g Analysis<'a>) -> Self {
        let mut offsets = Vec::with_capacity(a.file_count());
        let mut total: Node = 0;
        for i in 0..a.file_count() {
            offsets.push(total);
            if let Some(f) = a.facts_of(FileId(i as u32)) {
                total += f.fns.len() as Node;
            }
        }
        Graph {
            a,
            offsets,
            total,
            index: OnceCell::new(),
            self_types: RefCell::default(),
            methods_by_type: RefCell::default(),
        }
    }

    fn index(&self) -> &Index<'a> {
        self.index.get_or_init(|| {
            let mut ix = Index::default();
            for (i, &base) in self.offsets.iter().enumerate() {
                let Some(f) = self.a.facts_of(FileId(i as u32)) else {
                    continue;
                };
                for (k, func) in f.fns.iter().enumerate() {
                    let node = base + k as Node;
                    if let Some(parent) = func.closure_of {
                        ix.closures.entry(base + parent).or_default().push(node);
                    } else if func.owner.is_some() {
                        ix.methods.entry(&*func.name).or_default().push(node);
                    }
                }
                for u in &f.uses {
                    if let Some(alias) = u.alias.as_deref()
                        && alias != u.path.last()
                    {
                        ix.renames.insert(alias);
                    }
                }
                for imp in f.impls.iter().filter(|i| i.is_trait) {
                    if let Some(t) = &imp.trait_path {
                        ix.traits.insert(t.last());
                    }
                }
            }
            ix
        })
    }

    /// How many nodes there are.
    pub fn len(&self) -> usize {
        self.total as usize
    }

    pub fn node(&self, file: FileId, idx: usize) -> Node {
        self.offsets[file.index()] + idx as Node
    }

    /// The file and function index of `node`.
    pub fn locate(&self, node: Node) -> (FileId, usize) {
        let file = self.offsets.partition_point(|&o| o <= node) - 1;
        // Files without functions share their offset with the next: take the last.
        (FileId(file as u32), (node - self.offsets[file]) as usize)
    }

    pub fn facts(&self, node: Node) -> (&'a FileFacts, &'a FnFact) {
        let (file, idx) = self.locate(node);
        let f = self.a.facts_of(file).expect("a node's file parsed");
        (f, &f.fns[idx])
    }

    /// The function's name as shown in chains (`Engine::start`, `main::{closure}`).
    pub fn name(&self, node: Node) -> String {
        let (f, func) = self.facts(node);
        func.qualified(f)
    }

    /// Closures collected out of `node`'s body.
    pub fn closures_of(&self, node: Node) -> &[Node] {
        self.index().closures.get(&node).map_or(&[], Vec::as_slice)
    }

    /// The nodes `path`, written in `node`'s module, can call (see the module docs).
    pub fn resolve_path(&self, node: Node, path: &PathText) -> Vec<Node> {
        let (file, _) = self.locate(node);
        let (_, func) = self.facts(node);
        let segs = path.segments();
        let mut out = Vec::new();
        if segs.len() == 2 && segs[0] == "Self" {
            let target = self.self_target(node);
            self.methods_on(&target, &segs[1], &mut out);
            return out;
        }
        let r = self.a.resolve(file, func.module, &segs);
        if r.consumed == segs.len() {
            for res in &r.res {
                if let Res::Def(Def::Fn(f, i)) = res {
                    out.push(self.node(*f, *i));
                }
            }
        } else if r.consumed + 1 == segs.len() && r.consumed > 0 {
            let types = scanned_types(&r.res);
            if !types.is_empty() {
                self.methods_on(&TypeTarget::Scanned(types), &segs[segs.len() - 1], &mut out);
            }
        }
        if out.is_empty()
            && segs.len() >= 2
            && self.index().traits.contains(segs[segs.len() - 2].as_str())
        {
            // `Trait::m(x)`: every impl's `m`.
            let trait_name = &segs[segs.len() - 2];
            for &m in self
                .index()
                .methods
                .get(segs[segs.len() - 1].as_str())
                .into_iter()
                .flatten()
            {
                let (f, func) = self.facts(m);
                let imp = func.owner.and_then(|o| f.impls.get(o as usize));
                if imp
                    .and_then(|i| i.trait_path.as_ref())
                    .is_some_and(|t| t.last() == trait_name)
                {
                    out.push(m);
                }
            }
        }
        out
    }

    /// The nodes a method call can reach.
    pub fn resolve_method(&self, node: Node, name: &str, recv: &Recv) -> Vec<Node> {
        let mut out = Vec::new();
        let target = match recv {
            Recv::Any => TypeTarget::Unknown,
            Recv::Typed { ty, field } => {
                let base = if ty.as_str() == "Self" {
                    self.self_target(node)
                } else {
                    let (file, _) = self.locate(node);
                    let (_, func) = self.facts(node);
                    self.type_target(file, func.module, &ty.segments())
                };
                match (base, field) {
                    (t, None) => t,
                    (TypeTarget::Scanned(types), Some(field)) => self.field_target(&types, field),
                    (_, Some(_)) => TypeTarget::Unknown,
                }
            }
        };
        match target {
            TypeTarget::Scanned(_) => {
                self.methods_on(&target, name, &mut out);
                if out.is_empty() {
                    // A method from a blanket impl, or through `Deref`: as from an unknown
                    // receiver.
                    self.guess_methods(name, &mut out);
                }
            }
            TypeTarget::External => {}
            TypeTarget::Unknown => self.guess_methods(name, &mut out),
        }
        out
    }

    /// A call on a receiver of unknown type: every scanned method of that name, unless the
    /// name is std's (see [`STD_TRAIT_METHODS`]) or so common in the scan that following all
    /// of them would be a guess, not evidence (`run`, `new`, `handle` on ten types).
    fn guess_methods(&self, name: &str, out: &mut Vec<Node>) {
        if STD_TRAIT_METHODS.contains(&name) {
            return;
        }
        let start = out.len();
        self.all_methods(name, out);
        if out.len() - start > MAX_GUESSED_METHODS {
            out.truncate(start);
        }
    }

    fn all_methods(&self, name: &str, out: &mut Vec<Node>) {
        out.extend(
            self.index()
                .methods
                .get(name)
                .into_iter()
                .flatten()
                .copied(),
        );
    }

    /// Methods named `name` whose impl's self type is one of `target`'s, and trait default
    /// methods of that name.
    fn methods_on(&self, target: &TypeTarget, name: &str, out: &mut Vec<Node>) {
        let TypeTarget::Scanned(types) = target else {
            if matches!(target, TypeTarget::Unknown) {
                self.guess_methods(name, out);
            }
            return;
        };
        let by = self.methods_by_type(name);
        let start = out.len();
        out.extend(&by.any);
        for &t in types {
            let own = self
                .a
                .facts_of(t.0)
                .and_then(|f| f.types.get(t.1))
                .map(|d| d.name.as_str());
            let named = own.and_then(|n| by.by_last.get(n)).into_iter().flatten();
            for &m in named.chain(&by.renamed) {
                let (file, _) = self.locate(m);
                let (_, func) = self.facts(m);
                let owner = func.owner.expect("indexed methods have an owner");
                if self.impl_self_types(file, owner, func).contains(&t) {
                    out.push(m);
                }
            }
        }
        // In the scan's order, once each, as a walk over all the name's methods gives them.
        out[start..].sort_unstable();
        let mut kept = start;
        for i in start..out.len() {
            if kept == start || out[kept - 1] != out[i] {
                out[kept] = out[i];
                kept += 1;
            }
        }
        out.truncate(kept);
    }

    fn methods_by_type(&self, name: &str) -> Rc<MethodsByType<'a>> {
        if let Some(hit) = self.methods_by_type.borrow().get(name) {
            return hit.clone();
        }
        let mut by = MethodsByType::default();
        for &m in self.index().methods.get(name).into_iter().flatten() {
            let (f, func) = self.facts(m);
            let Some(owner) = func.owner else { continue };
            let imp = &f.impls[owner as usize];
            if imp.is_trait {
                by.any.push(m);
            } else if let Some(ty) = &imp.self_ty {
                by.by_last.entry(ty.last()).or_default().push(m);
                if self.index().renames.contains(ty.last()) {
                    by.renamed.push(m);
                }
            }
        }
        let by = Rc::new(by);
        self.methods_by_type
            .borrow_mut()
            .insert(name.to_string(), by.clone());
        by
    }

    /// The scanned types the self type of `node`'s impl names.
    fn self_target(&self, node: Node) -> TypeTarget {
        let (file, _) = self.locate(node);
        let (f, func) = self.facts(node);
        match func.owner {
            Some(o) if !f.impls[o as usize].is_trait && f.impls[o as usize].self_ty.is_some() => {
                let types = self.impl_self_types(file, o, func);
                if types.is_empty() {
                    TypeTarget::Unknown
                } else {
                    TypeTarget::Scanned(types.to_vec())
                }
            }
            _ => TypeTarget::Unknown,
        }
    }

    pub fn impl_self_types(&self, file: FileId, owner: u32, func: &FnFact) -> Rc<[TypeKey]> {
        if let Some(hit) = self.self_types.borrow().get(&(file, owner)) {
            return hit.clone();
        }
        let f = self.a.facts_of(file).expect("parsed");
        let found: Vec<TypeKey> = match &f.impls[owner as usize].self_ty {
            Some(ty) => match self.type_target(file, func.module, &ty.segments()) {
                TypeTarget::Scanned(t) => t,
                _ => Vec::new(),
            },
            None => Vec::new(),
        };
        let found: Rc<[TypeKey]> = Rc::from(found);
        self.self_types
            .borrow_mut()
            .insert((file, owner), found.clone());
        found
    }

    /// The scanned types `path`, written in `module` of `file`, names (nothing unless the whole
    /// path resolves).
    pub fn types_named(&self, file: FileId, module: u32, path: &PathText) -> Vec<TypeKey> {
        let segs = path.segments();
        let r = self.a.resolve(file, module, &segs);
        if r.consumed == segs.len() {
            scanned_types(&r.res)
        } else {
            Vec::new()
        }
    }

    fn type_target(&self, file: FileId, module: u32, segs: &[String]) -> TypeTarget {
        let r = self.a.resolve(file, module, segs);
        if r.consumed != segs.len() || r.res.is_empty() {
            return TypeTarget::Unknown;
        }
        let scanned = scanned_types(&r.res);
        if !scanned.is_empty() {
            TypeTarget::Scanned(scanned)
        } else if r.res.iter().all(|x| matches!(x, Res::External(_))) {
            TypeTarget::External
        } else {
            TypeTarget::Unknown
        }
    }

    /// The type of field `field` of `types`, through `Arc`, `Rc`, `Box` and references.
    fn field_target(&self, types: &[TypeKey], field: &str) -> TypeTarget {
        for &(file, idx) in types {
            let Some(def) = self.a.facts_of(file).and_then(|f| f.types.get(idx)) else {
                continue;
            };
            let Some(pos) = (0..def.fields.len()).position(|i| def.field_name(i) == field) else {
                continue;
            };
            let Some(TypeExpr::Path { segments, .. }) = def.fields.get(pos).map(|t| peel(t, &[]))
            else {
                return TypeTarget::Unknown;
            };
            return self.type_target(file, def.module, segments);
        }
        TypeTarget::Unknown
    }

    /// Every node a call in `node`'s body can reach, with the call's position, sorted and
    /// deduplicated by node.
    pub fn callees(&self, node: Node) -> Vec<(Node, u32, u32)> {
        let (_, func) = self.facts(node);
        let mut out: Vec<(Node, u32, u32)> = Vec::new();
        for call in &func.calls {
            let targets = match &call.callee {
                Callee::Path(p) => self.resolve_path(node, p),
                Callee::Method { name, recv } => {
                    let mut targets = self.resolve_method(node, name, recv);
                    // A method call cannot land in a crate the caller's crate does not depend
                    // on, unless through a trait object (a trait impl may live anywhere).
                    let (file, _) = self.locate(node);
                    let from = self.a.crate_of(file);
                    targets.retain(|&t| {
                        let (f, func) = self.facts(t);
                        let in_trait_impl = func
                            .owner
                            .is_some_and(|o| f.impls[o as usize].trait_path.is_some());
                        in_trait_impl
                            || self
                                .a
                                .can_call_into(from, self.a.crate_of(self.locate(t).0))
                    });
                    targets
                }
            };
            out.extend(targets.into_iter().map(|t| (t, call.line, call.column)));
        }
        out.sort_unstable();
        out.dedup_by_key(|x| x.0);
        out
    }
}

/// The scanned type definitions among a path's meanings.
fn scanned_types(res: &[Res]) -> Vec<TypeKey> {
    res.iter()
        .filter_map(|x| match x {
            Res::Def(Def::Type(f, i)) => Some((*f, *i)),
            _ => None,
        })
        .collect()
}

/// A type without the pointers and references that hand their contents through (`Arc`, `Rc`,
/// `Box`, `&`), and without any other single-argument wrapper named in `also` (app state looks
/// through `Option` too).
pub(crate) fn peel<'t>(ty: &'t TypeExpr, also: &[&str]) -> &'t TypeExpr {
    match ty {
        TypeExpr::Ref { inner, .. } => peel(inner, also),
        TypeExpr::Path { segments, args }
            if args.len() == 1
                && segments.last().is_some_and(|s| {
                    matches!(s.as_str(), "Arc" | "Rc" | "Box") || also.contains(&s.as_str())
                }) =>
        {
            peel(&args[0], also)
        }
        other => other,
    }
}
