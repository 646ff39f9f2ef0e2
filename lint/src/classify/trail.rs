//! The path from a global's type to the part that makes it what it is: "`WS_USERS`:
//! `WebSocketUsers.map` is a `DashMap<..>`". Found after classification, for findings only, by
//! walking the type again and descending only into fields whose (memoised) shape has the part
//! sought; the steps carry the fields' positions, so messages can point at them in any file.

use std::fmt::Write as _;

use super::known::{self, Known};
use super::{At, DefRef, Env, Node, Shape, TypeIndex, Visiting};
use crate::facts::{LocalModule, TypeDefKind, TypeExpr};
use crate::source::FileId;

/// The part of a type a message names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    ConcurrentMap,
    /// A collection behind interior mutability (the trail ends at the collection; the lock is
    /// [`Trail::lock`]).
    LockedCollection,
    Channel,
    Watch,
    Metric,
    /// Interior mutability over data (the trail ends at the lock or cell).
    LockedData,
    /// Any interior mutability (the trail ends at the lock, cell or atomic).
    Interior,
    /// A type the linter cannot see into.
    Unknown,
}

impl Target {
    fn in_shape(self, s: &Shape) -> bool {
        match self {
            Target::ConcurrentMap => s.concurrent_map,
            Target::LockedCollection => s.map_under_lock,
            Target::Channel => s.channel,
            Target::Watch => s.watch,
            Target::Metric => s.metric,
            Target::LockedData => s.locked_data,
            Target::Interior => s.interior,
            Target::Unknown => s.unknown,
        }
    }
}

/// One field (or type alias) on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    /// The type the field belongs to (or the alias's name).
    pub owner: String,
    /// The field's name (`sessions`, `0`, `Variant.name`); empty for an alias.
    pub field: String,
    pub file: FileId,
    /// (line, column) of the field (of the alias's name for an alias).
    pub pos: (u32, u32),
}

/// What [`TypeIndex::trail`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Trail {
    /// Fields and aliases from the global's type down to the part, outermost first.
    pub steps: Vec<Step>,
    /// The part itself, printed (`DashMap<String, Vec<Sender>>`).
    pub part: String,
    /// The full path of the part's type when it differs from how it is written
    /// (`moka::future::Cache` for a `Cache` imported by name).
    pub full: Option<String>,
    /// For a collection behind a lock that is not the field's own type: the innermost lock
    /// or cell above it, printed.
    pub lock: Option<String>,
}

impl Trail {
    /// `WebSocketUsers.map` / `Shared.state` then `State.entries`, joined: the fields only.
    pub fn field_path(&self) -> String {
        let mut out = String::new();
        let mut owner: Option<&str> = None;
        for s in self.steps.iter().filter(|s| !s.field.is_empty()) {
            if owner.is_none() {
                out.push_str(&s.owner);
            }
            let _ = write!(out, ".{}", s.field);
            owner = Some(&s.owner);
        }
        out
    }
}

struct Search {
    target: Target,
    steps: Vec<Step>,
    /// Locks and cells passed, with the number of steps taken when each was met.
    locks: Vec<(String, usize)>,
    /// User definitions being looked into (a cycle guard of its own: the classifier's is
    /// handed to [`TypeIndex::walk`] empty each time).
    seen: Visiting,
    /// The part, its full path if different, and the lock above it.
    found: Option<(String, Option<String>, Option<String>)>,
}

impl<'a> TypeIndex<'a> {
    /// The trail to the first part of `ty` (written in `module` of `file`) that `target`
    /// names, depth first in field order; `None` if there is none.
    pub fn trail(
        &self,
        ty: &TypeExpr,
        file: FileId,
        module: LocalModule,
        target: Target,
    ) -> Option<Trail> {
        let env = Env::new();
        let at = At {
            file,
            module: self.resolver.module(file, module),
            env: &env,
            under_lock: false,
            top: true,
        };
        let mut search = Search {
            target,
            steps: Vec::new(),
            locks: Vec::new(),
            seen: Vec::new(),
            found: None,
        };
        self.find(ty, at, &mut search);
        let (part, full, lock) = search.found?;
        Some(Trail {
            steps: search.steps,
            part,
            full,
            lock,
        })
    }

    /// Whether `ty` at `at` holds the target.
    fn holds(&self, ty: &TypeExpr, at: At, search: &mut Search) -> bool {
        let shape = self.walk(ty, at, &mut Vec::new());
        search.target.in_shape(&shape)
    }

    fn find(&self, ty: &TypeExpr, at: At, search: &mut Search) -> bool {
        match ty {
            TypeExpr::Path { segments, args } => self.find_path(ty, segments, args, at, search),
            TypeExpr::Tuple(items) => items
                .iter()
                .any(|t| self.descend(t, at.inner(at.under_lock), search)),
            TypeExpr::Array(inner) | TypeExpr::Ref { inner, .. } => {
                self.descend(inner, at.inner(at.under_lock), search)
            }
            TypeExpr::Traits(paths) => {
                // Into the types the scanned code implements the trait for (`dyn Hook` holding
                // a `Recording` with a locked list).
                let types = paths
                    .iter()
                    .filter(|p| !known::is_stateless_trait(p))
                    .filter_map(|p| self.implementor_types(p.last()?, at.file))
                    .flatten();
                for (file, module, t) in types {
                    let env = Env::new();
                    let inner = At {
                        file,
                        module,
                        env: &env,
                        under_lock: at.under_lock,
                        top: false,
                    };
                    if self.descend(&t, inner, search) {
                        return true;
                    }
                }
                // A library trait, a blanket impl: the trait object is the unknown part.
                if search.target == Target::Unknown {
                    search.found = Some((print(ty), None, None));
                    return true;
                }
                false
            }
            TypeExpr::Other => {
                if search.target == Target::Unknown {
                    search.found = Some((print(ty), None, None));
                    return true;
                }
                false
            }
            TypeExpr::Ptr(_) | TypeExpr::FnPtr => false,
        }
    }

    /// Looks into `ty` if it holds the target.
    fn descend(&self, ty: &TypeExpr, at: At, search: &mut Search) -> bool {
        self.holds(ty, at, search) && self.find(ty, at, search)
    }

    fn find_path(
        &self,
        ty: &TypeExpr,
        segments: &[String],
        args: &[TypeExpr],
        at: At,
        search: &mut Search,
    ) -> bool {
        let args_at = |under_lock: bool| at.inner(under_lock);
        let into_args = |under_lock: bool, search: &mut Search| {
            args.iter()
                .any(|a| self.descend(a, args_at(under_lock), search))
        };
        let node = self.node(segments, !args.is_empty(), at);
        let full = match &node {
            Node::Known(_, full) if full.as_slice() != segments => Some(full.join("::")),
            _ => None,
        };
        // Printed with the generic arguments bound where the type is written (an alias's
        // `Cache<(), T>` used as `CacheLock<GetSiteResponse>` prints `Cache<(), GetSiteResponse>`).
        let printed = print(&super::substitute(ty, at.env));
        let here = |search: &mut Search, lock: Option<(String, usize)>| {
            // A collection directly inside the lock that is the field's own type: name the
            // lock's type (`Mutex<HashMap<..>>`), not the collection behind it.
            match lock {
                Some((lock, depth)) if depth == search.steps.len() => {
                    search.found = Some((lock, None, None))
                }
                lock => search.found = Some((printed.clone(), full.clone(), lock.map(|(l, _)| l))),
            }
            true
        };
        match node {
            Node::Bound(Some(t)) => {
                let env = Env::new();
                self.find(t, At { env: &env, ..at }, search)
            }
            Node::Bound(None) | Node::Nothing | Node::Override(false) => false,
            Node::Override(true) => match search.target {
                Target::Interior | Target::LockedData => here(search, None),
                _ => {
                    search.locks.push((printed.clone(), search.steps.len()));
                    let hit = into_args(true, search);
                    search.locks.pop();
                    hit
                }
            },
            Node::Unknown => {
                if search.target == Target::Unknown {
                    return here(search, None);
                }
                into_args(at.under_lock, search)
            }
            Node::User(defs) => self.find_user(&defs, args, at, search),
            Node::Known(k, full) => {
                let t = search.target;
                match k {
                    Known::ConcurrentMap if t == Target::ConcurrentMap => here(search, None),
                    Known::Channel if t == Target::Channel => here(search, None),
                    Known::Watch if t == Target::Watch || t == Target::LockedData => {
                        here(search, None)
                    }
                    Known::Metric if t == Target::Metric || t == Target::Interior => {
                        here(search, None)
                    }
                    Known::Interior | Known::ConcurrentMap | Known::Channel | Known::Watch
                        if t == Target::Interior =>
                    {
                        here(search, None)
                    }
                    Known::Lazy if !at.top && t == Target::Interior => here(search, None),
                    Known::Interior
                        if t == Target::LockedData && !known::is_scalar_interior(&full) =>
                    {
                        // The lock itself, if what it guards is data; else deeper.
                        let inner = args.iter().fold(Shape::default(), |mut s, a| {
                            s.merge(self.walk(a, args_at(true), &mut Vec::new()));
                            s
                        });
                        if inner.data || inner.unknown {
                            here(search, None)
                        } else {
                            into_args(true, search)
                        }
                    }
                    Known::Collection | Known::UntrustedCollection
                        if t == Target::LockedCollection && at.under_lock =>
                    {
                        let lock = search.locks.last().cloned();
                        here(search, lock)
                    }
                    Known::Interior | Known::ConcurrentMap => {
                        search.locks.push((printed.clone(), search.steps.len()));
                        let hit = into_args(true, search);
                        search.locks.pop();
                        hit
                    }
                    Known::Lazy if !at.top => {
                        search.locks.push((printed.clone(), search.steps.len()));
                        let hit = into_args(at.under_lock, search);
                        search.locks.pop();
                        hit
                    }
                    Known::Channel | Known::Watch => into_args(false, search),
                    Known::Metric | Known::Immutable | Known::Scalar => false,
                    Known::UntrustedCollection if !at.under_lock => {
                        if t == Target::Unknown {
                            return here(search, None);
                        }
                        into_args(false, search)
                    }
                    _ => into_args(at.under_lock, search),
                }
            }
        }
    }

    fn find_user(
        &self,
        defs: &[DefRef<'a>],
        args: &[TypeExpr],
        at: At,
        search: &mut Search,
    ) -> bool {
        for d in defs {
            let key = (d.file, d.idx, at.under_lock);
            if search.seen.contains(&key) {
                continue;
            }
            let bound: Vec<Option<TypeExpr>> = (0..d.def.params.len())
                .map(|i| args.get(i).map(|a| super::substitute(a, at.env)))
                .collect();
            let env: Env = d.def.params.iter().cloned().zip(bound).collect();
            let alias = d.def.kind == TypeDefKind::Alias;
            let field_at = self.fields_at(d, at, &env);
            search.seen.push(key);
            for (i, field) in d.def.fields.iter().enumerate() {
                if !self.holds(field, field_at, search) {
                    continue;
                }
                // The scanned code's own `String` or `Vec` is named by its path, not mistaken
                // for std's in the message.
                let owner = if known::is_prelude(&d.def.name) {
                    let mut path = self.def_module_path(d);
                    if self.crate_of(d.file) == self.crate_of(at.file)
                        && let Some(first) = path.first_mut()
                    {
                        *first = "crate".into();
                    }
                    path.push(d.def.name.clone());
                    path.join("::")
                } else {
                    d.def.name.clone()
                };
                search.steps.push(Step {
                    owner,
                    field: d.def.field_name(i).to_string(),
                    file: d.file,
                    pos: if alias {
                        d.def.pos
                    } else {
                        d.def.field_pos.get(i).copied().unwrap_or(d.def.pos)
                    },
                });
                if self.find(field, field_at, search) {
                    search.seen.pop();
                    return true;
                }
                search.steps.pop();
            }
            search.seen.pop();
        }
        false
    }
}

/// A type as messages show it: paths as written, arguments included.
pub(crate) use crate::facts::types::print_expr as print;
