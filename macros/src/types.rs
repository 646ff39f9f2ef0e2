//! Questions about field types shared by the derives.

use syn::visit::{self, Visit};
use syn::{Ident, Lifetime, Type, TypePath};

/// Whether `ty` names one of `params` (a generic type parameter of the item).
pub fn mentions_type_param(ty: &Type, params: &[&Ident]) -> bool {
    struct Finder<'a> {
        params: &'a [&'a Ident],
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_type_path(&mut self, path: &'ast TypePath) {
            if path.qself.is_none()
                && let Some(first) = path.path.segments.first()
                && self.params.iter().any(|param| **param == first.ident)
            {
                self.found = true;
            }
            visit::visit_type_path(self, path);
        }
    }
    let mut finder = Finder {
        params,
        found: false,
    };
    finder.visit_type(ty);
    finder.found
}

/// Whether `ty` names a type called `name` anywhere (`Tree<T>`, `crate::Tree<T>`).
pub fn mentions_type_named(ty: &Type, name: &Ident) -> bool {
    struct Finder<'a> {
        name: &'a Ident,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_type_path(&mut self, path: &'ast TypePath) {
            if path
                .path
                .segments
                .last()
                .is_some_and(|segment| segment.ident == *self.name)
            {
                self.found = true;
            }
            visit::visit_type_path(self, path);
        }
    }
    let mut finder = Finder { name, found: false };
    finder.visit_type(ty);
    finder.found
}

/// Whether `ty` uses the lifetime `lifetime` anywhere.
pub fn mentions_lifetime(ty: &Type, lifetime: &Lifetime) -> bool {
    struct Finder<'a> {
        lifetime: &'a Lifetime,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_lifetime(&mut self, lifetime: &'ast Lifetime) {
            if lifetime.ident == self.lifetime.ident {
                self.found = true;
            }
        }
    }
    let mut finder = Finder {
        lifetime,
        found: false,
    };
    finder.visit_type(ty);
    finder.found
}

/// The referent of `&'lifetime T` (shared, with exactly that lifetime), if `ty` is one.
pub fn request_ref<'t>(ty: &'t Type, lifetime: &Lifetime) -> Option<&'t Type> {
    match ty {
        Type::Reference(reference)
            if reference.mutability.is_none()
                && reference
                    .lifetime
                    .as_ref()
                    .is_some_and(|found| found.ident == lifetime.ident) =>
        {
            Some(&reference.elem)
        }
        Type::Group(group) => request_ref(&group.elem, lifetime),
        Type::Paren(paren) => request_ref(&paren.elem, lifetime),
        _ => None,
    }
}

/// Whether `ty` is a path whose last segment is `name` (`Sealed`, `isolate::Sealed<'r>`, ...).
pub fn is_named(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == name),
        Type::Group(group) => is_named(&group.elem, name),
        Type::Paren(paren) => is_named(&paren.elem, name),
        _ => false,
    }
}

/// Whether `ty` is visibly unsized: `str`, a slice or a trait object.
pub fn is_unsized(ty: &Type) -> bool {
    match ty {
        Type::Slice(_) | Type::TraitObject(_) => true,
        Type::Path(path) => path.qself.is_none() && path.path.is_ident("str"),
        Type::Group(group) => is_unsized(&group.elem),
        Type::Paren(paren) => is_unsized(&paren.elem),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn finds_type_params_at_any_depth_but_not_lookalike_paths() {
        let t: Ident = parse_quote!(T);
        let params = [&t];
        assert!(mentions_type_param(&parse_quote!(Vec<Option<T>>), &params));
        assert!(mentions_type_param(&parse_quote!(T::Assoc), &params));
        assert!(!mentions_type_param(&parse_quote!(Vec<u8>), &params));
        assert!(!mentions_type_param(&parse_quote!(module::T), &params));
    }

    #[test]
    fn finds_a_type_by_name_at_any_depth() {
        let tree: Ident = parse_quote!(Tree);
        assert!(mentions_type_named(&parse_quote!(Vec<Tree<T>>), &tree));
        assert!(mentions_type_named(
            &parse_quote!(Option<Box<crate::Tree>>),
            &tree
        ));
        assert!(!mentions_type_named(&parse_quote!(Vec<Trees>), &tree));
    }

    #[test]
    fn recognises_request_references_only_with_the_request_lifetime() {
        let r: Lifetime = parse_quote!('r);
        let ty: Type = parse_quote!(&'r RequestContext);
        assert!(request_ref(&ty, &r).is_some());
        assert!(request_ref(&parse_quote!(&'static RequestContext), &r).is_none());
        assert!(request_ref(&parse_quote!(&'r mut RequestContext), &r).is_none());
        assert!(request_ref(&parse_quote!(RequestContext), &r).is_none());
        assert!(mentions_lifetime(&parse_quote!(Vec<&'r str>), &r));
        assert!(!mentions_lifetime(&parse_quote!(Vec<&'static str>), &r));
    }

    #[test]
    fn names_and_sizes() {
        assert!(is_named(&parse_quote!(isolate::Sealed<'r>), "Sealed"));
        assert!(!is_named(&parse_quote!(SealedBox<'r>), "Sealed"));
        assert!(is_unsized(&parse_quote!(str)));
        assert!(is_unsized(&parse_quote!([u8])));
        assert!(is_unsized(&parse_quote!(dyn Send)));
        assert!(!is_unsized(&parse_quote!(String)));
    }
}
