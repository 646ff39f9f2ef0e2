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
