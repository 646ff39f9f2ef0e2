//! Entry points: the functions that serve a request, found from the facts.
//!
//! - handlers handed to routing calls: axum `get(h)` .. `on(f, h)` (also chained,
//!   `get(a).post(b)`, and `*_service`), `route_service`, `fallback`, `tower::service_fn`,
//!   `handler.with_state(s)`; actix `web::resource(..).to(h)`, `.route(.., web::get().to(h))`
//!   (also `get().to(h)` after `use actix_web::web::*`), `wrap_fn`; middleware `from_fn(f)`,
//!   `from_fn_with_state(s, f)`, `map_request(f)`; rocket `routes![..]` / `catchers![..]` and
//!   utoipa `routes!(..)` lists; a closure handed over is an entry of its own;
//! - the scanned code's own functions that pass a parameter to a routing call
//!   (`fn get_internal<H>(h: H) -> MethodRouter { get(h).layer(..) }`): what is handed to them;
//! - attribute routes `#[get(..)]`, `#[post]`, `#[put]`, `#[delete]`, `#[patch]`, `#[head]`,
//!   `#[options]`, `#[route]`, `#[handler]`, `#[catch]`, with or without a crate prefix
//!   (actix-web, rocket, poem, salvo, ntex), `#[utoipa::path]`, `#[debug_handler]`;
//! - gRPC: methods of `impl Trait for Type` blocks shaped like a service method (a
//!   `Request<..>` parameter, a `Response`/`Status` return), with or without
//!   `#[tonic::async_trait]`; GraphQL resolvers (`#[graphql_object]`, `#[Object]`);
//! - explicit: `#[isolate::entry]`, and the configuration's `entry_points` patterns.
//!
//! A routing name counts only when the resolver does not find it among the scanned code's own
//! functions (a project's own `get(key)` is not axum's), unless that function is a wrapper.

use std::collections::{HashMap, HashSet};

use super::graph::{Graph, Node};
use crate::diagnostic::{Loc, Span};
use crate::facts::{Handler, Registration, RouteKind};
use crate::resolve::{Def, Res};
use crate::source::FileId;

/// One entry point and how it was found.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub node: Node,
    pub how: String,
    /// Where a handler is handed to the router.
    pub site: Option<Span>,
}

/// Route attributes (last segment).
const ROUTE_ATTRS: &[&str] = &[
    "get",
    "post",
    "put",
    "delete",
    "patch",
    "head",
    "options",
    "trace",
    "connect",
    "route",
    "routes",
    "handler",
    "catch",
    "debug_handler",
];

/// Crates whose route attributes are recognised with a prefix.
const FRAMEWORKS: &[&str] = &[
    "actix_web",
    "rocket",
    "poem",
    "salvo",
    "ntex",
    "web",
    "axum",
    "axum_macros",
    "poem_openapi",
];

/// Crates whose routing functions (`get`, `trace`, `service_fn`, `from_fn`, ...) register
/// handlers. A routing name imported from any other crate (`backtrace::trace(|f| ..)`,
/// `std::iter::from_fn`) is not a route; one the resolver cannot follow (a glob import of an
/// external module) still is.
const ROUTING_CRATES: &[&str] = &[
    "axum",
    "axum_extra",
    "actix_web",
    "actix_service",
    "actix_http",
    "rocket",
    "poem",
    "salvo",
    "ntex",
    "tower",
    "tower_http",
    "hyper",
    "hyper_util",
    "warp",
    "tide",
    "tonic",
    "utoipa_axum",
    "aide",
    "dropshot",
    "gotham",
    "trillium",
    "viz",
    "loco_rs",
    "web",
    "routing",
];

/// Impl attributes whose methods are GraphQL resolvers.
const GRAPHQL_ATTRS: &[&str] = &["graphql_object", "Object", "Subscription", "ComplexObject"];

/// Every entry point of the scan, one per function, sorted by node.
pub(crate) fn find(g: &Graph) -> Vec<Entry> {
    let a = g.a;
    let mut found: HashMap<Node, (String, Option<Span>)> = HashMap::new();
    let mut add = |node: Node, how: String, site: Option<Span>| {
        found.entry(node).or_insert((how, site));
    };
    let mut regs: Vec<(FileId, &Registration)> = Vec::new();
    for i in 0..a.file_count() {
        let file = FileId(i as u32);
        let Some(f) = a.facts_of(file) else { continue };
        let patterns = &a.settings(file).config.entry_points;
        for (idx, func) in f.fns.iter().enumerate() {
            if !a.linted(file, func.in_test) {
                continue;
            }
            let node = g.node(file, idx);
            if let Some(how) = attribute_entry(g, file, &func.attrs, func.module) {
                add(node, how, None);
            }
            let imp = func.owner.and_then(|o| f.impls.get(o as usize));
            if let Some(imp) = imp.filter(|i| !i.is_trait) {
                let trait_name = imp.trait_path.as_ref().map(|t| t.as_str());
                let self_name = imp.self_ty.as_ref().map_or("_", |t| t.last());
                if func.grpc_shaped {
                    add(
                        node,
                        format!(
                            "gRPC method of `impl {} for {self_name}`",
                            trait_name.unwrap_or("_")
                        ),
                        None,
                    );
                }
                if let Some(attr) = imp
                    .attrs
                    .iter()
                    .find(|x| GRAPHQL_ATTRS.contains(&x.rsplit("::").next().unwrap_or_default()))
                {
                    add(
                        node,
                        format!("GraphQL resolver (`#[{attr}] impl {self_name}`)"),
                        None,
                    );
                }
            }
            if !patterns.is_empty() && func.closure_of.is_none() {
                let mut path = a.module_path(file, func.module);
                if let Some(ty) = imp.and_then(|i| i.self_ty.as_ref()) {
                    path.push(ty.last().to_string());
                }
                path.push(func.name.to_string());
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                if let Some(p) = patterns.iter().find(|p| p.matches(&path)) {
                    add(node, format!("config entry_points `{}`", p.text), None);
                }
            }
        }
        for r in &f.registrations {
            let in_test = f.fns.get(r.in_fn as usize).is_none_or(|x| x.in_test);
            if a.linted(file, in_test) {
                regs.push((file, r));
            }
        }
    }
    let wrappers = wrappers(g, &regs);
    for (file, r) in regs {
        let Some(how) = registration(g, file, r, &wrappers) else {
            continue;
        };
        let site = Span {
            file,
            loc: Loc::on_line(r.line, r.column, 1),
        };
        for node in handler_nodes(g, file, r) {
            add(node, how.clone(), Some(site));
        }
    }
    let mut out: Vec<Entry> = found
        .into_iter()
        .map(|(node, (how, site))| Entry { node, how, site })
        .collect();
    out.sort_by_key(|e| e.node);
    out
}

/// `#[isolate::entry]` and route attributes.
fn attribute_entry(g: &Graph, file: FileId, attrs: &[Box<str>], module: u32) -> Option<String> {
    for attr in attrs.iter().map(|a| &**a) {
        let segs: Vec<&str> = attr.split("::").collect();
        let last = *segs.last()?;
        if attr == "isolate::entry" {
            return Some("`#[isolate::entry]`".into());
        }
        if attr == "entry" {
            // `use isolate::entry;` then `#[entry]`.
            let r = g.a.resolve(file, module, &["entry".to_string()]);
            if r.res
                .iter()
                .any(|x| matches!(x, Res::External(p) if p.first().is_some_and(|c| c == "isolate")))
            {
                return Some("`#[isolate::entry]`".into());
            }
            continue;
        }
        let route =
            ROUTE_ATTRS.contains(&last) && (segs.len() == 1 || FRAMEWORKS.contains(&segs[0]));
        if route || attr == "utoipa::path" {
            return Some(format!("attribute `#[{attr}]`"));
        }
    }
    None
}

/// The scanned functions that hand one of their parameters to a routing call, with the
/// parameters' positions (a fixed point: a wrapper may call another wrapper).
fn wrappers(g: &Graph, regs: &[(FileId, &Registration)]) -> HashMap<Node, HashSet<u32>> {
    let mut out: HashMap<Node, HashSet<u32>> = HashMap::new();
    for _ in 0..4 {
        let mut changed = false;
        for &(file, r) in regs {
            let Handler::Param(p) = r.handler else {
                continue;
            };
            if matches!(r.kind, RouteKind::WithState | RouteKind::List) {
                continue;
            }
            if registration(g, file, r, &out).is_some() {
                changed |= out
                    .entry(g.node(file, r.in_fn as usize))
                    .or_default()
                    .insert(p);
            }
        }
        if !changed {
            break;
        }
    }
    out
}

/// Whether a registration really hands a handler to a router, and how to say so.
fn registration(
    g: &Graph,
    file: FileId,
    r: &Registration,
    wrappers: &HashMap<Node, HashSet<u32>>,
) -> Option<String> {
    let handler = match &r.handler {
        Handler::Path(p) => p.as_str().to_string(),
        Handler::Closure(_) => "|..| ..".to_string(),
        Handler::Param(_) => "..".to_string(),
    };
    let via = r.via.as_str();
    let method_form = !r.method.is_empty();
    match r.kind {
        RouteKind::List => return Some(format!("listed in `{via}![..]`")),
        RouteKind::WithState => return Some(format!("handler `{handler}.with_state(..)`")),
        RouteKind::Service | RouteKind::Middleware if method_form => {
            let what = if r.kind == RouteKind::Middleware {
                "middleware"
            } else {
                "service"
            };
            return Some(format!("{what} `.{}({handler})`", r.method));
        }
        _ => {}
    }
    // A free routing call, or the root of a chain: not the scanned code's own function of
    // that name, unless that function is a wrapper.
    let f = g.a.facts_of(file)?;
    let module = f.fns.get(r.in_fn as usize)?.module;
    let segs = r.via.segments();
    let res = g.a.resolve(file, module, &segs);
    let own: Vec<Node> = if res.consumed == segs.len() {
        res.res
            .iter()
            .filter_map(|x| match x {
                Res::Def(Def::Fn(f, i)) => Some(g.node(*f, *i)),
                _ => None,
            })
            .collect()
    } else {
        Vec::new()
    };
    // `std::iter::from_fn(|| ..)`, `array::from_fn`, `core::future::poll_fn`: the standard
    // library's, not a framework's.
    let std_lib = |p: &[String]| {
        p.first()
            .is_some_and(|c| matches!(c.as_str(), "std" | "core" | "alloc"))
    };
    let externals: Vec<&Vec<String>> = res
        .res
        .iter()
        .filter_map(|x| match x {
            Res::External(p) => Some(p),
            _ => None,
        })
        .collect();
    // Any segment: a path guessed through an external glob import keeps the glob's prefix
    // (`chrono::prelude::..::actix_web::web::get` after `use chrono::prelude::*`).
    let routing_crate = |p: &&Vec<String>| p.iter().any(|c| ROUTING_CRATES.contains(&c.as_str()));
    if std_lib(&segs)
        || segs
            .iter()
            .rev()
            .nth(1)
            .is_some_and(|m| matches!(m.as_str(), "iter" | "array" | "future" | "task"))
        || externals.iter().any(|p| std_lib(p))
        // Resolved only to other crates (a glob import can add guesses: one routing crate
        // among them is enough).
        || (!externals.is_empty() && !externals.iter().any(routing_crate))
    {
        return None;
    }
    let what = match r.kind {
        RouteKind::Middleware => "middleware",
        RouteKind::Service => "service",
        _ => "route",
    };
    if r.kind == RouteKind::Chain {
        if !own.is_empty() {
            return None;
        }
        return Some(format!("{what} `{via}(..).{}({handler})`", r.method));
    }
    if !own.is_empty() {
        let wraps = own
            .iter()
            .any(|n| wrappers.get(n).is_some_and(|ps| ps.contains(&r.arg)));
        return wraps.then(|| format!("{what} `{via}({handler})` (a wrapper of a routing call)"));
    }
    let last = segs.last().map_or("", String::as_str);
    let exact = crate::facts::routing_call_kind(last).is_some_and(|k| k.is_exact());
    exact.then(|| format!("{what} `{via}({handler})`"))
}

/// The functions a registration's handler names.
fn handler_nodes(g: &Graph, file: FileId, r: &Registration) -> Vec<Node> {
    match &r.handler {
        Handler::Closure(i) => vec![g.node(file, *i as usize)],
        Handler::Param(_) => Vec::new(),
        Handler::Path(p) => g.resolve_path(g.node(file, r.in_fn as usize), p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::TypeOverrides;

    fn entries(src: &str) -> Vec<String> {
        crate::analysis::testing::with_analysis(
            &[("src/lib.rs", src)],
            TypeOverrides::default(),
            |a, _| {
                let g = Graph::new(a);
                find(&g)
                    .into_iter()
                    .map(|e| format!("{}: {}", g.name(e.node), e.how))
                    .collect()
            },
        )
    }

    #[test]
    fn the_standard_librarys_from_fn_is_not_middleware() {
        assert_eq!(
            entries(
                "use std::iter::from_fn; use std::array;\n\
                 fn a() { from_fn(|| None::<u8>); }\n\
                 fn b() { std::iter::from_fn(|| None::<u8>); }\n\
                 fn c() { let _: [u8; 2] = array::from_fn(|i| i as u8); }\n\
                 fn d() { core::array::from_fn::<u8, 2, _>(|i| i as u8); iter::from_fn(|| None::<u8>); }\n\
                 fn e() { axum::middleware::from_fn(auth); } async fn auth() {}\n\
                 fn f() { backtrace::trace(|frame| true); }\n\
                 mod m { use chrono::prelude::*; use actix_web::web; async fn h() {}\n\
                   fn g() { web::post().to(h); } }"
            ),
            [
                "auth: middleware `axum::middleware::from_fn(auth)`",
                "h: route `web::post(..).to(h)`"
            ]
        );
    }

    #[test]
    fn the_scanned_codes_own_get_is_not_a_router() {
        assert!(
            entries(
                "fn get<F: Fn()>(f: F) { f() } fn cleanup() {}\n\
                 fn run() { get(cleanup); get().to(cleanup); }"
            )
            .is_empty()
        );
    }

    #[test]
    fn wrappers_of_wrappers_and_test_code() {
        assert_eq!(
            entries(
                "use axum::routing::get;\n\
                 fn get_inner<H>(h: H) -> MethodRouter { get(h) }\n\
                 fn route_outer<H>(h: H) -> MethodRouter { get_inner(h).layer(x) }\n\
                 fn home() {}\n\
                 fn app() -> Router { Router::new().route(\"/\", route_outer(home)) }\n\
                 #[cfg(test)] mod tests { fn t() { axum::routing::get(super::home2); } }\n\
                 fn home2() {}"
            ),
            ["home: route `route_outer(home)` (a wrapper of a routing call)"]
        );
    }
}
