//! Application state is a singleton too: one value every request of every user shares. The
//! types registered with `Router::with_state(S)`, `.layer(Extension(S))`, `web::Data::new(S)`,
//! `App::app_data(..)`, rocket's `.manage(S)`, an `Arc<S>` captured by a handler closure, and
//! the self types of gRPC service impls are walked field by field (through `Arc`, `Rc`, `Box`,
//! `Option`, references and the scanned code's own structs): a field holding an interior-mutable
//! collection or a concurrent map is a `shared_mutable_map` finding at the field
//! (`AppState.inner.sessions`), any other interior-mutable field a `shared_state_field` finding.
//! The registration sites are related spans.

use std::collections::{BTreeMap, HashSet};

use crate::analysis::Analysis;
use crate::diagnostic::{Related, Span};
use crate::facts::{StateKind, TypeDefKind, TypeExpr};
use crate::levels::class_of;
use crate::paths::{Graph, Target, TypeKey, state_type};
use crate::rules::{self, Candidate, StateOf};
use crate::source::FileId;

/// A registered state type and where it was registered.
pub(crate) struct Registered {
    pub key: TypeKey,
    /// (file, line, column, how).
    pub sites: Vec<(FileId, u32, u32, &'static str)>,
}

/// Every registered state type, by type (sorted).
pub(crate) fn registered(g: &Graph) -> Vec<Registered> {
    let a = g.a;
    let mut by_type: BTreeMap<TypeKey, Vec<(FileId, u32, u32, &'static str)>> = BTreeMap::new();
    for i in 0..a.file_count() {
        let file = FileId(i as u32);
        let Some(f) = a.facts_of(file) else { continue };
        for s in &f.states {
            let in_test = f.fns.get(s.in_fn as usize).is_none_or(|x| x.in_test);
            if !a.linted(file, in_test) {
                continue;
            }
            let how = match s.kind {
                StateKind::WithState => "`.with_state(..)`",
                StateKind::Extension => "`.layer(Extension(..))`",
                StateKind::Data => "`web::Data`",
                StateKind::AppData => "`.app_data(..)`",
                StateKind::Manage => "`.manage(..)`",
                StateKind::Captured => "an `Arc` captured by a handler closure",
            };
            for key in state_type(g, file, s.in_fn, &s.ty) {
                by_type
                    .entry(key)
                    .or_default()
                    .push((file, s.line, s.column, how));
            }
        }
        // gRPC services: the impl's self type serves every call.
        for (idx, func) in f.fns.iter().enumerate() {
            if !func.grpc_shaped || !a.linted(file, func.in_test) {
                continue;
            }
            let Some(ty) = func
                .owner
                .and_then(|o| f.impls[o as usize].self_ty.as_ref())
            else {
                continue;
            };
            let _ = idx;
            for key in state_type(g, file, idx as u32, ty) {
                let sites = by_type.entry(key).or_default();
                if !sites.iter().any(|s| s.3 == "a gRPC service") {
                    sites.push((file, func.loc.line, func.loc.column, "a gRPC service"));
                }
            }
        }
    }
    by_type
        .into_iter()
        .map(|(key, sites)| Registered { key, sites })
        .collect()
}

/// The types whose use by a reached function makes the state reached: the registered types and
/// the structs on the way to their fields.
pub(crate) fn state_types(a: &Analysis, regs: &[Registered]) -> HashSet<TypeKey> {
    let mut out = HashSet::new();
    for r in regs {
        walk_structs(a, r.key, 0, &mut out);
    }
    out
}

fn walk_structs(a: &Analysis, key: TypeKey, depth: usize, out: &mut HashSet<TypeKey>) {
    if depth > 6 || !out.insert(key) {
        return;
    }
    for (_, ty, inner) in fields(a, key) {
        let _ = ty;
        if let Some(inner) = inner {
            walk_structs(a, inner, depth + 1, out);
        }
    }
}

/// The fields of struct `key`: (index, type, the scanned struct it leads to through
/// transparent wrappers, if any).
fn fields<'a>(a: &Analysis<'a>, key: TypeKey) -> Vec<(usize, &'a TypeExpr, Option<TypeKey>)> {
    let (file, idx) = key;
    let Some(def) = a.facts_of(file).and_then(|f| f.types.get(idx)) else {
        return Vec::new();
    };
    if def.kind != TypeDefKind::Struct {
        return Vec::new();
    }
    def.fields
        .iter()
        .enumerate()
        .map(|(i, ty)| {
            let inner = match crate::paths::graph::peel(ty, &["Option"]) {
                TypeExpr::Path { segments, .. } => {
                    let r = a.resolve(file, def.module, segments);
                    (r.consumed == segments.len())
                        .then(|| {
                            r.res.iter().find_map(|x| match x {
                                crate::resolve::Res::Def(crate::resolve::Def::Type(f, i)) => {
                                    let d = a.facts_of(*f)?.types.get(*i)?;
                                    (d.kind == TypeDefKind::Struct).then_some((*f, *i))
                                }
                                _ => None,
                            })
                        })
                        .flatten()
                }
                _ => None,
            };
            (i, ty, inner)
        })
        .collect()
}

/// The findings about registered state: one per mutable field, however many registrations
/// lead to it.
pub(crate) fn candidates(a: &Analysis, regs: &[Registered]) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut seen: HashSet<(TypeKey, usize)> = HashSet::new();
    for r in regs {
        let Some(root) = a.facts_of(r.key.0).and_then(|f| f.types.get(r.key.1)) else {
            continue;
        };
        let mut via = vec![r.key];
        walk(
            a,
            r,
            r.key,
            root.name.clone(),
            &mut via,
            &mut seen,
            &mut out,
        );
    }
    out
}

fn walk(
    a: &Analysis,
    reg: &Registered,
    key: TypeKey,
    item: String,
    via: &mut Vec<TypeKey>,
    seen: &mut HashSet<(TypeKey, usize)>,
    out: &mut Vec<Candidate>,
) {
    if via.len() > 6 {
        return;
    }
    let (file, idx) = key;
    let Some(f) = a.facts_of(file) else { return };
    let def = &f.types[idx];
    for (i, ty, inner) in fields(a, key) {
        let Some(place) = def.field_loc(i) else {
            continue;
        };
        let name = format!("{item}.{}", def.field_name(i));
        if let Some(inner) = inner {
            if !via.contains(&inner) {
                via.push(inner);
                walk(a, reg, inner, name, via, seen, out);
                via.pop();
            }
            continue;
        }
        let shape = a.types().classify(ty, file, def.module);
        if !(shape.interior || shape.mutable_map()) || !seen.insert((key, i)) {
            continue;
        }
        let state = crate::classify::state_of(crate::facts::GlobalKind::Static, &shape);
        let class = crate::levels::refine(class_of(None, shape, ty), state);
        let part = rules::describe::part_of(
            a.types(),
            ty,
            file,
            def.module,
            rules::describe::target_of(state),
        );
        let ty_text = crate::facts::types::print_expr(ty);
        let rule = if shape.mutable_map() {
            rules::SHARED_MUTABLE_MAP
        } else {
            rules::SHARED_STATE_FIELD
        };
        let hit = rules::state_field_hit(
            rule,
            &name,
            &ty_text,
            shape.concurrent_map,
            part,
            reg.sites.iter().map(|s| Related {
                span: Span {
                    file: s.0,
                    loc: crate::diagnostic::Loc::on_line(s.1, s.2, 1),
                },
                message: format!(
                    "`{}` is registered as application state here ({})",
                    name.split('.').next().unwrap_or_default(),
                    s.3
                ),
            }),
        );
        out.push(Candidate {
            rule,
            file,
            loc: place,
            start_line: place.line,
            macro_start: None,
            item: name,
            ty: ty_text,
            hit,
            global: None,
            fix: None,
            state: Some(StateOf::new(class, Target::State(via.clone()))),
        });
    }
}
