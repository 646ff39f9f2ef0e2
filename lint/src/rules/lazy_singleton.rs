use std::collections::HashMap;

use super::{Candidate, GlobalView, Hit, Level, Rule, StateOf};
use crate::analysis::Analysis;
use crate::diagnostic::{Related, Span};
use crate::paths::Target;
use crate::resolve::{Def, Res};
use crate::source::FileId;

pub(crate) static RULE: Rule = Rule {
    id: "lazy_singleton",
    default_level: Level::Warn,
    summary: "a lazily initialised global (`lazy_static!`, `Lazy`, `OnceLock`, `LazyLock`, `OnceCell`, `OnceBox`) whose contents are not provably immutable, or a `&'static` accessor handing it out",
    doc: r#"# lazy_singleton

## What it finds
A lazily initialised global instance: `lazy_static!` items, `once_cell::{sync,unsync}::{Lazy,
OnceCell}`, `std::sync::{OnceLock, LazyLock}`, `std::cell::{OnceCell, LazyCell}`, `OnceBox`, in
statics; and singleton accessors - a function or method returning `&'static T` out of such a
global (`fn instance() -> &'static Self`, `fn global()`, `get_instance()`), reported at the
accessor. A lazy global whose contents are known to be immutable (`Regex`, `String`, numbers,
an immutable lookup table, your own type without interior mutability) is a constant and is not
reported; one whose type the linter cannot see into (a library client) is.

## Why it is a cross-user leak and a race
The first request to touch the singleton decides what it holds, and every later request of
every user gets that same instance. Singletons that cache managers, emitters or connections per
"current" user hand one user's objects to the next; falling back to the shared instance on an
error turns a failure into a leak.

## Bad
```rust
static BRIDGE: OnceLock<WebSocketBridge> = OnceLock::new();

impl WebSocketBridge {
    pub fn instance() -> &'static Self {
        BRIDGE.get_or_init(WebSocketBridge::new)
    }
}
```

## Good
```rust
#[derive(isolate::RequestScoped)]
struct Bridge<'r> {
    #[isolate(emitter)]
    events: &'r isolate::EventEmitter, // per-request, bound to this user
    _seal: isolate::Sealed<'r>,
}
```

## Fix
Build the instance per request with an isolate factory (`#[derive(isolate::RequestScoped)]`)
from frozen application dependencies. A request-agnostic, internally synchronised client (a
connection pool, an HTTP client) is passed in explicitly as `isolate::Shared<T>` rather than
fetched from a global; if it really must stay global, suppress with a reason:
`// isolate: allow(lazy_singleton) -- stateless HTTP client`.
"#,
    global: Some(check),
    project: Some(accessors),
};

pub(crate) fn check(v: &GlobalView) -> Option<Hit> {
    if v.is_thread_local() || !v.is_lazy() {
        return None;
    }
    let s = v.shape;
    if !s.interior && !s.unknown {
        return None;
    }
    let why = if s.interior {
        "holds mutable state"
    } else {
        "holds a type that cannot be shown to be immutable"
    };
    Some(Hit {
        message: format!(
            "`{}` is a lazily initialised singleton ({}) that {why}; every request of every \
             user shares the first instance",
            v.global.name,
            super::quoted_type(v.global)
        ),
        help: "build it per request with an isolate factory (#[derive(isolate::RequestScoped)]); \
               pass request-agnostic clients explicitly as isolate::Shared<T>"
            .into(),
        ..Hit::default()
    })
}

/// Singleton accessors: fns returning `&'static T` that read a reported lazy global. The
/// fn's paths are resolved in its module; a path the resolver cannot follow matches a
/// reported global of that name in the fn's own file, else its own crate.
pub(crate) fn accessors(a: &Analysis, found: &[Candidate]) -> Vec<Candidate> {
    let lazy: HashMap<(FileId, usize), &Candidate> = found
        .iter()
        .filter(|c| c.lazy)
        .filter_map(|c| c.global.map(|g| (g, c)))
        .collect();
    let mut by_file: HashMap<(FileId, &str), (FileId, usize)> = HashMap::new();
    let mut by_crate: HashMap<(usize, &str), (FileId, usize)> = HashMap::new();
    for &(file, idx) in lazy.keys() {
        let name = a.global(file, idx).name.as_str();
        let key_file = (file, name);
        let key_crate = (a.crate_of(file), name);
        let keep_first = |slot: Option<&(FileId, usize)>| slot.is_none_or(|s| (file, idx) < *s);
        if keep_first(by_file.get(&key_file)) {
            by_file.insert(key_file, (file, idx));
        }
        if keep_first(by_crate.get(&key_crate)) {
            by_crate.insert(key_crate, (file, idx));
        }
    }
    let mut out = Vec::new();
    for (file, facts) in a.files() {
        for (fi, f) in facts
            .fns
            .iter()
            .enumerate()
            .filter(|(_, f)| f.returns_static_ref() && a.linted(file, f.in_test))
        {
            let mut resolved = None;
            let mut by_name = None;
            for text in &f.uses {
                let path = text.segments();
                let r = a.resolve(file, f.module, &path);
                let globals: Vec<(FileId, usize)> = if r.consumed == path.len() {
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
                if globals.is_empty() {
                    let name = path.last().map_or("", String::as_str);
                    if by_name.is_none() {
                        by_name = by_file
                            .get(&(file, name))
                            .or_else(|| by_crate.get(&(a.crate_of(file), name)))
                            .copied();
                    }
                } else if resolved.is_none() {
                    resolved = globals
                        .into_iter()
                        .find(|g| lazy.contains_key(g) && a.crate_of(g.0) == a.crate_of(file));
                }
            }
            let Some((gf, gi)) = resolved.or(by_name) else {
                continue;
            };
            let global = a.global(gf, gi);
            let mut hit = Hit {
                message: format!(
                    "`{}` hands out the process-wide singleton `{}` as a `&'static` reference",
                    f.qualified(facts),
                    global.name
                ),
                help: "take the instance as a parameter built per request (an isolate factory's \
                       product) instead of reaching for a global"
                    .into(),
                ..Hit::default()
            };
            hit.related.push(Related {
                span: Span {
                    file: gf,
                    loc: global.loc,
                },
                message: format!("`{}` is declared here", global.name),
            });
            out.push(Candidate {
                rule: &RULE,
                file,
                loc: f.loc,
                start_line: f.start_line,
                macro_start: None,
                item: f.qualified(facts),
                ty: f.ret_text().to_string(),
                hit,
                global: None,
                lazy: false,
                fix: None,
                // As risky as the global it hands out, reached when the accessor is.
                state: lazy
                    .get(&(gf, gi))
                    .and_then(|c| c.state.as_ref())
                    .map(|s| StateOf::new(s.class, Target::Fn(file, fi))),
            });
        }
    }
    out
}
