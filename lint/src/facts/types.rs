//! A small, owned model of Rust types: enough to classify a global without keeping the syn tree.

use serde::{Deserialize, Serialize};

/// A type as written in the source, with `use` imports already applied to the leading segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TypeExpr {
    /// A path such as `std::sync::Mutex<Vec<T>>`: its segments and its generic type arguments
    /// (the arguments of the last segment, and of `<T as Trait>` qualified paths, flattened).
    Path {
        segments: Vec<String>,
        args: Vec<TypeExpr>,
    },
    /// `(A, B, C)`; the unit type is an empty tuple.
    Tuple(Vec<TypeExpr>),
    /// `[T; N]` and `[T]`.
    Array(Box<TypeExpr>),
    /// `&'a T` / `&'a mut T`; `is_static` records a `'static` lifetime.
    Ref {
        is_static: bool,
        mutable: bool,
        inner: Box<TypeExpr>,
    },
    /// `*const T` / `*mut T`.
    Ptr(Box<TypeExpr>),
    /// `fn(A) -> B`: immutable.
    FnPtr,
    /// `dyn Trait` / `impl Trait`: the traits' paths.
    Traits(Vec<Vec<String>>),
    /// `_`, `!`, macros in type position and anything else we do not model.
    Other,
}

impl TypeExpr {
    /// The last path segment (`Mutex` for `std::sync::Mutex<T>`), if this is a path.
    #[cfg(test)]
    pub fn name(&self) -> Option<&str> {
        match self {
            TypeExpr::Path { segments, .. } => segments.last().map(String::as_str),
            _ => None,
        }
    }
}

/// Converts a syn type into a [`TypeExpr`]. Never fails: unknown shapes become `Other`.
pub fn from_syn(ty: &syn::Type) -> TypeExpr {
    match ty {
        syn::Type::Path(p) => {
            let mut out = path_expr(&p.path);
            if let (Some(q), TypeExpr::Path { args, .. }) = (&p.qself, &mut out) {
                args.insert(0, from_syn(&q.ty));
            }
            out
        }
        syn::Type::Reference(r) => TypeExpr::Ref {
            is_static: r.lifetime.as_ref().is_some_and(|l| l.ident == "static"),
            mutable: r.mutability.is_some(),
            inner: Box::new(from_syn(&r.elem)),
        },
        syn::Type::Array(a) => TypeExpr::Array(Box::new(from_syn(&a.elem))),
        syn::Type::Slice(s) => TypeExpr::Array(Box::new(from_syn(&s.elem))),
        syn::Type::Tuple(t) => TypeExpr::Tuple(t.elems.iter().map(from_syn).collect()),
        syn::Type::Paren(p) => from_syn(&p.elem),
        syn::Type::Group(g) => from_syn(&g.elem),
        syn::Type::Ptr(p) => TypeExpr::Ptr(Box::new(from_syn(&p.elem))),
        syn::Type::BareFn(_) => TypeExpr::FnPtr,
        syn::Type::TraitObject(t) => TypeExpr::Traits(bound_paths(&t.bounds)),
        syn::Type::ImplTrait(t) => TypeExpr::Traits(bound_paths(&t.bounds)),
        _ => TypeExpr::Other,
    }
}

fn path_expr(path: &syn::Path) -> TypeExpr {
    let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let mut args = Vec::new();
    for seg in &path.segments {
        if let syn::PathArguments::AngleBracketed(a) = &seg.arguments {
            for arg in &a.args {
                match arg {
                    syn::GenericArgument::Type(t) => args.push(from_syn(t)),
                    syn::GenericArgument::AssocType(t) => args.push(from_syn(&t.ty)),
                    _ => {}
                }
            }
        }
    }
    TypeExpr::Path { segments, args }
}

fn bound_paths(
    bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>,
) -> Vec<Vec<String>> {
    bounds
        .iter()
        .filter_map(|b| match b {
            syn::TypeParamBound::Trait(t) => Some(
                t.path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

/// Prints a type normalised, whatever its layout in the source: `LazyLock<RwLock<HashMap<String,
/// Options>>>` written over several lines, with comments or a trailing comma prints as
/// `LazyLock<RwLock<HashMap<String, Options>>>`.
pub fn print(ty: &syn::Type) -> String {
    let mut out = String::new();
    write_type(&mut out, ty);
    out
}

/// Prints a [`TypeExpr`] the way [`print`] prints the syntax it came from (lifetimes other
/// than `'static`, array lengths and bounds' arguments are not kept).
pub fn print_expr(ty: &TypeExpr) -> String {
    let mut out = String::new();
    write_expr(&mut out, ty);
    out
}

fn write_expr(out: &mut String, ty: &TypeExpr) {
    match ty {
        TypeExpr::Path { segments, args } => {
            out.push_str(&segments.join("::"));
            if !args.is_empty() {
                out.push('<');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_expr(out, a);
                }
                out.push('>');
            }
        }
        TypeExpr::Tuple(items) => {
            out.push('(');
            for (i, a) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, a);
            }
            out.push(')');
        }
        TypeExpr::Array(inner) => {
            out.push('[');
            write_expr(out, inner);
            out.push(']');
        }
        TypeExpr::Ref {
            is_static,
            mutable,
            inner,
        } => {
            out.push('&');
            if *is_static {
                out.push_str("'static ");
            }
            if *mutable {
                out.push_str("mut ");
            }
            write_expr(out, inner);
        }
        TypeExpr::Ptr(inner) => {
            out.push_str("*const ");
            write_expr(out, inner);
        }
        TypeExpr::FnPtr => out.push_str("fn(..)"),
        TypeExpr::Traits(paths) => {
            out.push_str("dyn ");
            let names: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
            out.push_str(&names.join(" + "));
        }
        TypeExpr::Other => out.push('_'),
    }
}

fn write_type(out: &mut String, ty: &syn::Type) {
    match ty {
        syn::Type::Path(p) => write_path(out, p.qself.as_ref(), &p.path),
        syn::Type::Reference(r) => {
            out.push('&');
            if let Some(l) = &r.lifetime {
                out.push_str(&format!("'{} ", l.ident));
            }
            if r.mutability.is_some() {
                out.push_str("mut ");
            }
            write_type(out, &r.elem);
        }
        syn::Type::Ptr(p) => {
            out.push_str(if p.mutability.is_some() {
                "*mut "
            } else {
                "*const "
            });
            write_type(out, &p.elem);
        }
        syn::Type::Slice(s) => {
            out.push('[');
            write_type(out, &s.elem);
            out.push(']');
        }
        syn::Type::Array(a) => {
            out.push('[');
            write_type(out, &a.elem);
            out.push_str("; ");
            write_tokens(out, &a.len);
            out.push(']');
        }
        syn::Type::Tuple(t) => {
            out.push('(');
            write_list(out, &t.elems, write_type);
            if t.elems.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        syn::Type::Paren(p) => {
            out.push('(');
            write_type(out, &p.elem);
            out.push(')');
        }
        syn::Type::Group(g) => write_type(out, &g.elem),
        syn::Type::Never(_) => out.push('!'),
        syn::Type::Infer(_) => out.push('_'),
        syn::Type::TraitObject(t) => {
            out.push_str("dyn ");
            write_bounds(out, &t.bounds);
        }
        syn::Type::ImplTrait(t) => {
            out.push_str("impl ");
            write_bounds(out, &t.bounds);
        }
        syn::Type::BareFn(f) => {
            if f.unsafety.is_some() {
                out.push_str("unsafe ");
            }
            if let Some(abi) = &f.abi {
                out.push_str("extern ");
                if let Some(name) = &abi.name {
                    out.push_str(&format!("{:?} ", name.value()));
                }
            }
            out.push_str("fn(");
            write_list(out, &f.inputs, |out, arg| write_type(out, &arg.ty));
            out.push(')');
            if let syn::ReturnType::Type(_, ret) = &f.output {
                out.push_str(" -> ");
                write_type(out, ret);
            }
        }
        other => write_tokens(out, other),
    }
}

fn write_path(out: &mut String, qself: Option<&syn::QSelf>, path: &syn::Path) {
    let mut segments = path.segments.iter().enumerate().peekable();
    if let Some(q) = qself {
        out.push('<');
        write_type(out, &q.ty);
        if q.position > 0 {
            out.push_str(" as ");
            if path.leading_colon.is_some() {
                out.push_str("::");
            }
            while let Some((i, seg)) = segments.next_if(|(i, _)| *i < q.position) {
                if i > 0 {
                    out.push_str("::");
                }
                write_segment(out, seg);
            }
        }
        out.push('>');
        for (_, seg) in segments {
            out.push_str("::");
            write_segment(out, seg);
        }
        return;
    }
    if path.leading_colon.is_some() {
        out.push_str("::");
    }
    for (i, seg) in segments {
        if i > 0 {
            out.push_str("::");
        }
        write_segment(out, seg);
    }
}

fn write_segment(out: &mut String, seg: &syn::PathSegment) {
    out.push_str(&seg.ident.to_string());
    match &seg.arguments {
        syn::PathArguments::None => {}
        syn::PathArguments::AngleBracketed(a) => {
            out.push('<');
            write_list(out, &a.args, write_generic_arg);
            out.push('>');
        }
        syn::PathArguments::Parenthesized(p) => {
            out.push('(');
            write_list(out, &p.inputs, write_type);
            out.push(')');
            if let syn::ReturnType::Type(_, ret) = &p.output {
                out.push_str(" -> ");
                write_type(out, ret);
            }
        }
    }
}

fn write_generic_arg(out: &mut String, arg: &syn::GenericArgument) {
    match arg {
        syn::GenericArgument::Lifetime(l) => out.push_str(&format!("'{}", l.ident)),
        syn::GenericArgument::Type(t) => write_type(out, t),
        syn::GenericArgument::AssocType(a) => {
            out.push_str(&a.ident.to_string());
            out.push_str(" = ");
            write_type(out, &a.ty);
        }
        other => write_tokens(out, other),
    }
}

fn write_bounds(
    out: &mut String,
    bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>,
) {
    for (i, b) in bounds.iter().enumerate() {
        if i > 0 {
            out.push_str(" + ");
        }
        match b {
            syn::TypeParamBound::Trait(t) => {
                if matches!(t.modifier, syn::TraitBoundModifier::Maybe(_)) {
                    out.push('?');
                }
                write_path(out, None, &t.path);
            }
            syn::TypeParamBound::Lifetime(l) => out.push_str(&format!("'{}", l.ident)),
            other => write_tokens(out, other),
        }
    }
}

fn write_list<T, P>(
    out: &mut String,
    items: &syn::punctuated::Punctuated<T, P>,
    mut each: impl FnMut(&mut String, &T),
) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        each(out, item);
    }
}

/// Anything else (array lengths, const arguments, macros in type position): its tokens, with
/// spaces only where they separate words.
fn write_tokens(out: &mut String, tokens: &impl quote::ToTokens) {
    let text = tokens.to_token_stream().to_string();
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            let next = chars.peek().copied();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            let tight_after = matches!(prev, Some('(' | '[' | '<' | '&' | '!' | ':'));
            let tight_before = matches!(next, Some(')' | ']' | '>' | ',' | ';' | ':' | '(' | '!'));
            if (word(prev) && word(next)) || !(tight_after || tight_before) {
                out.push(' ');
            }
            continue;
        }
        out.push(c);
        prev = Some(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> TypeExpr {
        from_syn(&syn::parse_str::<syn::Type>(s).unwrap())
    }

    #[test]
    fn nested_generics_are_kept() {
        let t = parse("::std::sync::Arc<RwLock<HashMap<String, Vec<u8>>>>");
        let TypeExpr::Path { segments, args } = t else {
            panic!("not a path")
        };
        assert_eq!(segments, ["std", "sync", "Arc"]);
        assert_eq!(args[0].name(), Some("RwLock"));
    }

    #[test]
    fn types_print_normalised() {
        for (written, printed) in [
            (
                "LazyLock<\n    RwLock<\n        HashMap<String, Options>,\n    >,\n>",
                "LazyLock<RwLock<HashMap<String, Options>>>",
            ),
            (
                "::std::sync::Mutex< Vec < u8 > /* why */ >",
                "::std::sync::Mutex<Vec<u8>>",
            ),
            ("&'static  mut [ (u8 , ) ; 4 ]", "&'static mut [(u8,); 4]"),
            (
                "Box<dyn Fn(&str) -> Result<(), E> + Send + 'static>",
                "Box<dyn Fn(&str) -> Result<(), E> + Send + 'static>",
            ),
            ("<T as Iterator>::Item", "<T as Iterator>::Item"),
            ("[u8; N * 2]", "[u8; N * 2]"),
            ("Option<fn(u8) -> u8>", "Option<fn(u8) -> u8>"),
            ("*const  c_void", "*const c_void"),
            (
                "Cell<[u64; mem::size_of::<usize>()]>",
                "Cell<[u64; mem::size_of::<usize>()]>",
            ),
        ] {
            let ty: syn::Type = syn::parse_str(written).unwrap();
            assert_eq!(print(&ty), printed, "{written:?}");
        }
    }

    #[test]
    fn references_record_static() {
        assert!(matches!(
            parse("&'static Self"),
            TypeExpr::Ref {
                is_static: true,
                ..
            }
        ));
        assert!(matches!(
            parse("&'a T"),
            TypeExpr::Ref {
                is_static: false,
                ..
            }
        ));
    }
}
