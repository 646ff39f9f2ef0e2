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
    pub fn name(&self) -> Option<&str> {
        match self {
            TypeExpr::Path { segments, .. } => segments.last().map(String::as_str),
            _ => None,
        }
    }

    /// Calls `f` on every path in the type, outermost first.
    pub fn for_each_path_mut(&mut self, f: &mut impl FnMut(&mut Vec<String>)) {
        match self {
            TypeExpr::Path { segments, args } => {
                f(segments);
                for a in args {
                    a.for_each_path_mut(f);
                }
            }
            TypeExpr::Tuple(items) => items.iter_mut().for_each(|t| t.for_each_path_mut(f)),
            TypeExpr::Array(inner) | TypeExpr::Ptr(inner) | TypeExpr::Ref { inner, .. } => {
                inner.for_each_path_mut(f)
            }
            TypeExpr::Traits(paths) => paths.iter_mut().for_each(f),
            TypeExpr::FnPtr | TypeExpr::Other => {}
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
