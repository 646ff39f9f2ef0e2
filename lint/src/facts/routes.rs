//! What the syntax of a function body says about request handling: which calls hand a handler
//! to a router (axum, actix-web, tower, rocket/utoipa lists), which values become shared
//! application state, what a method call's receiver is, and which calls and paths sit inside
//! macro calls that syn leaves as tokens. Only names are read here; whether `get` really is
//! axum's is decided later, by the resolver (`crate::paths::entries`).

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use super::PathText;

/// HTTP-method routing functions (axum `routing::*`, actix `web::*`) and their `_service`
/// forms.
const METHOD_FNS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "options", "trace", "connect", "any", "on",
];

/// Roots of an actix route chain besides the method functions: `web::route()`,
/// `web::resource(p)`, `web::method(m)`, `web::scope(p)`.
const CHAIN_ROOTS: &[&str] = &["route", "resource", "method", "scope"];

/// Methods that take a handler on a routing chain.
const CHAIN_METHODS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "options", "trace", "connect", "on", "to",
];

/// Free functions that take a service function.
const SERVICE_FNS: &[&str] = &["service_fn", "fn_service", "handler_fn"];

/// Free functions that take a middleware function.
const MIDDLEWARE_FNS: &[&str] = &[
    "from_fn",
    "from_fn_with_state",
    "map_request",
    "map_request_with_state",
    "map_response",
    "map_response_with_state",
];

/// Words that make a function look like a wrapper around a routing function
/// (`get_internal`, `post_json`, `route_handler`).
const WRAPPER_WORDS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "options", "route", "routes",
];

/// What a free call with this last segment may be, if anything.
pub(crate) fn call_kind(name: &str) -> Option<CallKind> {
    if METHOD_FNS.contains(&name)
        || name
            .strip_suffix("_service")
            .is_some_and(|m| METHOD_FNS.contains(&m))
    {
        Some(CallKind::Method)
    } else if SERVICE_FNS.contains(&name) {
        Some(CallKind::Service)
    } else if MIDDLEWARE_FNS.contains(&name) {
        Some(CallKind::Middleware)
    } else if name.contains('_') && name.split('_').any(|w| WRAPPER_WORDS.contains(&w)) {
        Some(CallKind::MaybeWrapper)
    } else {
        None
    }
}

/// What a free call with a routing-like name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    Method,
    Service,
    Middleware,
    MaybeWrapper,
}

impl CallKind {
    /// A routing function's own name, not a name that only suggests a wrapper.
    pub(crate) fn is_exact(self) -> bool {
        self != CallKind::MaybeWrapper
    }
}

/// Whether `name` takes a handler when called on a routing chain.
pub(super) fn is_chain_method(name: &str) -> bool {
    CHAIN_METHODS.contains(&name)
}

/// The path call a method chain starts from (`web::get` for `web::get().guard(g).to(h)`), if
/// it starts from a routing function.
pub(super) fn chain_root(mut expr: &syn::Expr) -> Option<&syn::Path> {
    loop {
        match expr {
            syn::Expr::MethodCall(m) => expr = &m.receiver,
            syn::Expr::Paren(p) => expr = &p.expr,
            syn::Expr::Call(c) => {
                let syn::Expr::Path(p) = &*c.func else {
                    return None;
                };
                let segs = &p.path.segments;
                let last = segs.last()?.ident.to_string();
                let routing = METHOD_FNS.contains(&last.as_str())
                    || CHAIN_ROOTS.contains(&last.as_str())
                    // `Resource::new(p)`, `Route::new()`
                    || (last == "new"
                        && segs.len() >= 2
                        && matches!(segs[segs.len() - 2].ident.to_string().as_str(), "Resource" | "Route"));
                return routing.then_some(&p.path);
            }
            _ => return None,
        }
    }
}

/// Strips references and the wrappers that hand their contents through (`Arc`, `Rc`, `Box`,
/// actix `Data`, axum `State`/`Extension`): the type whose fields a handler reaches.
pub(super) fn peel_type(mut ty: &syn::Type) -> Option<&syn::Path> {
    loop {
        match ty {
            syn::Type::Reference(r) => ty = &r.elem,
            syn::Type::Paren(p) => ty = &p.elem,
            syn::Type::Group(g) => ty = &g.elem,
            syn::Type::Path(p) if p.qself.is_none() => {
                let last = p.path.segments.last()?;
                let wrapper = matches!(
                    last.ident.to_string().as_str(),
                    "Arc" | "Rc" | "Box" | "Data" | "State" | "Extension"
                );
                match (&last.arguments, wrapper) {
                    (syn::PathArguments::AngleBracketed(a), true) => {
                        ty = a.args.iter().find_map(|g| match g {
                            syn::GenericArgument::Type(t) => Some(t),
                            _ => None,
                        })?;
                    }
                    _ => return Some(&p.path),
                }
            }
            _ => return None,
        }
    }
}

/// For an extractor parameter type (`State<T>`, `web::Data<T>`, `Extension<T>`, rocket's
/// `&State<T>`): `T`'s path.
pub(super) fn extracted(ty: &syn::Type) -> Option<&syn::Path> {
    let mut ty = ty;
    while let syn::Type::Reference(r) = ty {
        ty = &r.elem;
    }
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if !matches!(
        last.ident.to_string().as_str(),
        "State" | "Data" | "Extension"
    ) {
        return None;
    }
    peel_type(ty)
}

/// A trait-impl method shaped like a gRPC service method: a `Request<..>` parameter and a return
/// type naming `Response` or `Status` (`Result<Response<Reply>, Status>`).
pub(super) fn grpc_shaped(sig: &syn::Signature) -> bool {
    let request = sig.inputs.iter().any(|arg| match arg {
        syn::FnArg::Typed(t) => match &*t.ty {
            syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| {
                s.ident == "Request" && matches!(s.arguments, syn::PathArguments::AngleBracketed(_))
            }),
            _ => false,
        },
        syn::FnArg::Receiver(_) => false,
    });
    request
        && match &sig.output {
            syn::ReturnType::Type(_, ty) => type_mentions(ty, &["Response", "Status"]),
            syn::ReturnType::Default => false,
        }
}

fn type_mentions(ty: &syn::Type, names: &[&str]) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.segments.iter().any(|s| {
            names.iter().any(|n| s.ident == n)
                || match &s.arguments {
                    syn::PathArguments::AngleBracketed(a) => a.args.iter().any(|g| match g {
                        syn::GenericArgument::Type(t) => type_mentions(t, names),
                        _ => false,
                    }),
                    _ => false,
                }
        }),
        syn::Type::Paren(p) => type_mentions(&p.elem, names),
        syn::Type::Group(g) => type_mentions(&g.elem, names),
        syn::Type::ImplTrait(_) | syn::Type::TraitObject(_) => false,
        _ => false,
    }
}

/// Whether an identifier looks like a type (`AppState`, not `app_state` or `REGISTRY`).
pub(super) fn type_like(ident: &proc_macro2::Ident) -> bool {
    let text = ident.to_string();
    text.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && text.chars().any(|c| c.is_ascii_lowercase())
}

/// A path's text without turbofish arguments.
pub(super) fn path_text(path: &syn::Path) -> PathText {
    PathText::new(path.segments.iter().map(|s| &s.ident))
}

/// Rust keywords a token scan must not take for paths.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
    "mut", "pub", "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use",
    "where", "while", "yield",
];

/// What a token scan saw.
pub(super) enum Seen {
    /// A path not called: `GLOBAL`, `a::b`.
    Use(Vec<proc_macro2::Ident>),
    /// A path called: `a::b(..)`.
    Call(Vec<proc_macro2::Ident>),
    /// A method called: `.m(..)`, and whether its receiver is `self`.
    Method(proc_macro2::Ident, bool),
}

/// Scans a macro call's tokens for paths, calls and method calls, whatever the macro's own
/// syntax (`select! { x = f() => g(x) }`, `info!(%user, "..")`, `json!({"k": v()})`). String
/// literals are not looked into; nested macro calls are scanned too.
pub(super) fn scan_tokens(stream: TokenStream, out: &mut impl FnMut(Seen)) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Group(g) => {
                scan_tokens(g.stream(), out);
                i += 1;
            }
            TokenTree::Punct(p) if p.as_char() == '.' => {
                // `.method(` or `.method::<T>(`
                if let Some(TokenTree::Ident(name)) = tokens.get(i + 1) {
                    let mut j = i + 2;
                    j = skip_turbofish(&tokens, j);
                    if matches!(tokens.get(j), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
                    {
                        let on_self = matches!(i.checked_sub(1).and_then(|k| tokens.get(k)), Some(TokenTree::Ident(r)) if r == "self");
                        out(Seen::Method(name.clone(), on_self));
                    }
                    i += 2;
                } else {
                    i += 1;
                }
            }
            TokenTree::Ident(first) => {
                let preceded_by_dot = matches!(i.checked_sub(1).and_then(|k| tokens.get(k)), Some(TokenTree::Punct(p)) if p.as_char() == '.');
                let keyword = KEYWORDS.contains(&first.to_string().as_str());
                if preceded_by_dot || keyword {
                    i += 1;
                    continue;
                }
                let mut segs = vec![first.clone()];
                let mut j = i + 1;
                // `a::b::c`, with `::<T>` turbofish skipped.
                loop {
                    let colons = matches!(tokens.get(j), Some(TokenTree::Punct(p)) if p.as_char() == ':')
                        && matches!(tokens.get(j + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                    if !colons {
                        break;
                    }
                    match tokens.get(j + 2) {
                        Some(TokenTree::Ident(next)) => {
                            segs.push(next.clone());
                            j += 3;
                        }
                        Some(TokenTree::Punct(p)) if p.as_char() == '<' => {
                            j = skip_turbofish(&tokens, j);
                        }
                        _ => break,
                    }
                }
                match tokens.get(j) {
                    // A nested macro call: its name is not a path; its body is scanned next.
                    Some(TokenTree::Punct(p)) if p.as_char() == '!' => {}
                    _ if segs.len() == 1 && segs[0] == "self" => {}
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                        out(Seen::Call(segs))
                    }
                    _ => out(Seen::Use(segs)),
                }
                i = j;
            }
            _ => i += 1,
        }
    }
}

/// Skips `::<...>` at `j`, returning the index after it (or `j`).
fn skip_turbofish(tokens: &[TokenTree], j: usize) -> usize {
    let colons = matches!(tokens.get(j), Some(TokenTree::Punct(p)) if p.as_char() == ':')
        && matches!(tokens.get(j + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':')
        && matches!(tokens.get(j + 2), Some(TokenTree::Punct(p)) if p.as_char() == '<');
    if !colons {
        return j;
    }
    let mut depth = 0i32;
    let mut k = j + 2;
    while let Some(t) = tokens.get(k) {
        if let TokenTree::Punct(p) = t {
            match p.as_char() {
                '<' => depth += 1,
                '>' => {
                    depth -= 1;
                    if depth == 0 {
                        return k + 1;
                    }
                }
                _ => {}
            }
        }
        k += 1;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(src: &str) -> Vec<String> {
        let stream: TokenStream = src.parse().unwrap();
        let mut out = Vec::new();
        scan_tokens(stream, &mut |s| {
            out.push(match s {
                Seen::Use(p) => format!("use {}", join(&p)),
                Seen::Call(p) => format!("call {}", join(&p)),
                Seen::Method(m, on_self) => {
                    format!("method {m}{}", if on_self { " on self" } else { "" })
                }
            })
        });
        out
    }

    fn join(p: &[proc_macro2::Ident]) -> String {
        p.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("::")
    }

    #[test]
    fn token_scan_finds_calls_in_any_macro_syntax() {
        assert_eq!(
            scan("res = engine::start(x) => { self.notify(); REGISTRY.lock() }"),
            [
                "use res",
                "call engine::start",
                "use x",
                "method notify on self",
                "use REGISTRY",
                "method lock"
            ]
        );
        assert_eq!(
            scan("%user, \"started {}\", helper::<u8>(run).id, Vec::<u8>::new()"),
            ["use user", "call helper", "use run", "call Vec::new"]
        );
        assert_eq!(scan("format!(\"{}\", inner())"), ["call inner"]);
    }

    #[test]
    fn routing_names() {
        assert_eq!(call_kind("post"), Some(CallKind::Method));
        assert_eq!(call_kind("get_service"), Some(CallKind::Method));
        assert_eq!(call_kind("from_fn_with_state"), Some(CallKind::Middleware));
        assert_eq!(call_kind("get_internal"), Some(CallKind::MaybeWrapper));
        assert_eq!(call_kind("getter"), None);
        assert_eq!(call_kind("len"), None);
    }
}
