//! Singleton accessors: functions that hand out a global as `&'static T` (also inside
//! `Option<&'static T>` / `Result<&'static T, E>`): `fn instance() -> &'static Self`,
//! `fn global() -> Option<&'static Arc<Cache>>`. An accessor is not a finding of its own: a
//! global and its accessor are one problem, reported once at the global with the accessor as a
//! related span. The call graph reads the same list: calling an accessor uses its global.

use std::collections::HashMap;

use crate::analysis::Analysis;
use crate::diagnostic::{Related, Span};
use crate::resolve::{Def, Res};
use crate::rules::Candidate;
use crate::source::FileId;

/// A function (`facts.fns[func]` of `file`) that hands out `global` as a `&'static` reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accessor {
    pub file: FileId,
    pub func: usize,
    pub global: (FileId, usize),
}

/// The accessors of `globals`, in file and function order. A function's paths are resolved in
/// its module; a path the resolver cannot follow matches one of `globals` of that name in the
/// function's own file, else its own crate.
pub(crate) fn find(a: &Analysis, globals: &[(FileId, usize)]) -> Vec<Accessor> {
    let wanted: std::collections::HashSet<(FileId, usize)> = globals.iter().copied().collect();
    let mut by_file: HashMap<(FileId, &str), (FileId, usize)> = HashMap::new();
    let mut by_crate: HashMap<(usize, &str), (FileId, usize)> = HashMap::new();
    let mut sorted: Vec<(FileId, usize)> = globals.to_vec();
    sorted.sort();
    for &(file, idx) in sorted.iter().rev() {
        let name = a.global(file, idx).name.as_str();
        by_file.insert((file, name), (file, idx));
        by_crate.insert((a.crate_of(file), name), (file, idx));
    }
    let mut out = Vec::new();
    for (file, facts) in a.files() {
        for (func, f) in facts.fns.iter().enumerate() {
            if !f.returns_static_ref() || !a.linted(file, f.in_test) {
                continue;
            }
            let mut resolved = None;
            let mut by_name = None;
            for text in f.uses.iter() {
                let path = text.segments();
                let r = a.resolve(file, f.module, &path);
                let named: Vec<(FileId, usize)> = if r.consumed == path.len() {
                    r.res
                        .iter()
                        .filter_map(|x| match x {
                            Res::Def(Def::Global(gf, gi)) => Some((*gf, *gi)),
                            _ => None,
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                if named.is_empty() {
                    let name = path.last().map_or("", String::as_str);
                    if by_name.is_none() {
                        by_name = by_file
                            .get(&(file, name))
                            .or_else(|| by_crate.get(&(a.crate_of(file), name)))
                            .copied();
                    }
                } else if resolved.is_none() {
                    resolved = named.into_iter().find(|g| wanted.contains(g));
                }
            }
            if let Some(global) = resolved.or(by_name) {
                out.push(Accessor { file, func, global });
            }
        }
    }
    out
}

/// Adds each global finding's accessors to it as related spans.
pub(crate) fn attach(a: &Analysis, found: &mut [Candidate]) {
    let globals: Vec<(FileId, usize)> = found.iter().filter_map(|c| c.global).collect();
    let mut index: HashMap<(FileId, usize), usize> = HashMap::new();
    for (i, c) in found.iter().enumerate() {
        if let Some(g) = c.global {
            index.entry(g).or_insert(i);
        }
    }
    for acc in find(a, &globals) {
        let Some(&i) = index.get(&acc.global) else {
            continue;
        };
        let facts = a.facts(acc.file);
        let f = &facts.fns[acc.func];
        found[i].hit.related.push(Related {
            span: Span {
                file: acc.file,
                loc: f.loc,
            },
            message: format!(
                "`{}` hands it out as `{}`",
                f.qualified(facts),
                f.ret_text()
            ),
        });
    }
}
