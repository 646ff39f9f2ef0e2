//! What the derives ask the compiler about a type they keep across requests, and the tokens
//! that ask it.
//!
//! A field type is checked for `Frozen` as written, with three rewrites the trait impls alone
//! cannot express:
//! - `Self` becomes the type being derived (a field `Option<Box<Self>>` cannot be named in a
//!   free function otherwise);
//! - a function pointer becomes `__private::FnPointer`: every function pointer is immutable,
//!   but higher-ranked ones (`fn(&str) -> bool`) cannot be named by a trait impl;
//! - a tuple longer than 16 (the longest with a trait impl) becomes nested tuples of at most
//!   16, which hold the same elements.
//!
//! A trait object right behind a pointer whose `Frozen` impl is exactly "the pointee is
//! `Frozen`" (`&` but not `&mut`, `Box`, `Arc`, `Rc`, `Weak`) can also be taken out and asserted on its own,
//! so that a refused one gets the advice that fits it (make `Frozen` a supertrait). Elsewhere
//! (`Shared<dyn Client>`, whose impl asks for `SharedClient`) it stays where it is.

use proc_macro2::TokenStream;
use quote::quote_spanned;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::visit_mut::{self, VisitMut};
use syn::{Lifetime, Type, TypeReference, TypeTuple, parse_quote_spanned};

/// The longest tuple `isolate::Frozen` is implemented for.
const MAX_TUPLE: usize = 16;

/// Pointers whose `Frozen` impl asks exactly that the pointee be `Frozen`.
const POINTERS: [&str; 4] = ["Box", "Arc", "Rc", "Weak"];

/// A type to assert `Frozen`, and the trait objects taken out of it.
pub struct FrozenCheck {
    pub ty: Type,
    pub trait_objects: Vec<Type>,
}

impl FrozenCheck {
    /// `ty`, rewritten; `self_ty` replaces `Self`. Trait objects stay in place.
    pub fn whole(ty: &Type, self_ty: Option<&Type>) -> Self {
        Self::build(ty, self_ty, false)
    }

    /// `ty`, rewritten, with the trait objects that decide alone whether it is `Frozen` (at the
    /// top or right behind `&`, `Box`, `Arc`, `Rc`, `Weak`) taken out to be asserted on their own.
    pub fn split(ty: &Type, self_ty: Option<&Type>) -> Self {
        Self::build(ty, self_ty, true)
    }

    fn build(ty: &Type, self_ty: Option<&Type>, split: bool) -> Self {
        let mut rewrite = Rewrite {
            self_ty,
            split,
            trait_objects: Vec::new(),
        };
        let mut ty = ty.clone();
        rewrite.visit_type_mut(&mut ty);
        if split {
            // The assertion itself asks exactly that `ty` be `Frozen`, like a pointer would.
            rewrite.take_trait_object(&mut ty);
        }
        Self {
            ty,
            trait_objects: rewrite.trait_objects,
        }
    }

    /// Statements that fail to compile, spanned on `span`'s tokens, unless the type may be
    /// kept across requests; `assert` names the `__private` function that asks.
    pub fn assertions(&self, assert: &str, span: proc_macro2::Span) -> TokenStream {
        let assert = syn::Ident::new(assert, span);
        let ty = &self.ty;
        let mut tokens = quote_spanned!(span=> ::isolate::__private::#assert::<#ty>(););
        for object in &self.trait_objects {
            tokens.extend(quote_spanned!(object.span()=>
                ::isolate::__private::assert_trait_object_frozen::<#object>();
            ));
        }
        tokens
    }
}

struct Rewrite<'a> {
    self_ty: Option<&'a Type>,
    split: bool,
    trait_objects: Vec<Type>,
}

impl VisitMut for Rewrite<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        let span = ty.span();
        match ty {
            Type::Path(path) if path.qself.is_none() && path.path.is_ident("Self") => {
                if let Some(self_ty) = self.self_ty {
                    *ty = self_ty.clone();
                }
            }
            Type::BareFn(_) => {
                *ty = parse_quote_spanned!(span=> ::isolate::__private::FnPointer);
            }
            Type::Reference(reference) if self.split && reference.mutability.is_none() => {
                visit_mut::visit_type_reference_mut(self, reference);
                self.take_trait_object(&mut reference.elem);
            }
            Type::Path(path) if self.split && path.qself.is_none() => {
                visit_mut::visit_type_path_mut(self, path);
                if let Some(segment) = path.path.segments.last_mut()
                    && POINTERS.iter().any(|pointer| segment.ident == pointer)
                    && let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments
                    && args.args.len() == 1
                    && let Some(syn::GenericArgument::Type(pointee)) = args.args.first_mut()
                {
                    self.take_trait_object(pointee);
                }
            }
            Type::Tuple(tuple) if tuple.elems.len() > MAX_TUPLE => {
                visit_mut::visit_type_tuple_mut(self, tuple);
                let elems: Vec<Type> = std::mem::take(&mut tuple.elems).into_iter().collect();
                *ty = nest(elems, span);
            }
            _ => visit_mut::visit_type_mut(self, ty),
        }
    }
}

impl Rewrite<'_> {
    /// Moves `ty` to `trait_objects` if it is a trait object, leaving a placeholder.
    fn take_trait_object(&mut self, ty: &mut Type) {
        if let Type::TraitObject(_) = ty {
            let span = ty.span();
            self.trait_objects.push(ty.clone());
            *ty = parse_quote_spanned!(span=> ::isolate::__private::TraitObject);
        }
    }
}

/// A tuple of `elems` built from tuples of at most `MAX_TUPLE` elements.
fn nest(mut elems: Vec<Type>, span: proc_macro2::Span) -> Type {
    while elems.len() > MAX_TUPLE {
        elems = elems
            .chunks(MAX_TUPLE)
            .map(|chunk| tuple(chunk.to_vec(), span))
            .collect();
    }
    tuple(elems, span)
}

fn tuple(elems: Vec<Type>, span: proc_macro2::Span) -> Type {
    let mut elems: Punctuated<Type, syn::Token![,]> = elems.into_iter().collect();
    if elems.len() == 1 {
        elems.push_punct(syn::Token![,](span));
    }
    Type::Tuple(TypeTuple {
        paren_token: syn::token::Paren(span),
        elems,
    })
}

/// The referents of every `&'static T` (not `&'static mut`) in `ty`, outside function pointers.
pub fn static_referents(ty: &Type) -> Vec<&Type> {
    struct Finder<'ast> {
        found: Vec<&'ast Type>,
    }
    impl<'ast> Visit<'ast> for Finder<'ast> {
        fn visit_type_reference(&mut self, reference: &'ast TypeReference) {
            let is_static = reference
                .lifetime
                .as_ref()
                .is_some_and(|lifetime: &Lifetime| lifetime.ident == "static");
            if is_static && reference.mutability.is_none() {
                self.found.push(&reference.elem);
            } else {
                visit::visit_type_reference(self, reference);
            }
        }
        fn visit_type_bare_fn(&mut self, _: &'ast syn::TypeBareFn) {}
    }
    let mut finder = Finder { found: Vec::new() };
    finder.visit_type(ty);
    finder.found
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;
    use syn::parse_quote;

    fn text(ty: &Type) -> String {
        ty.to_token_stream().to_string()
    }

    #[test]
    fn replaces_self_function_pointers_and_long_tuples() {
        let self_ty: Type = parse_quote!(Tree<T>);
        let check = FrozenCheck::whole(&parse_quote!(Option<Box<Self>>), Some(&self_ty));
        assert_eq!(text(&check.ty), "Option < Box < Tree < T > > >");
        let check = FrozenCheck::whole(&parse_quote!(Vec<fn(&str) -> bool>), None);
        assert_eq!(
            text(&check.ty),
            "Vec < :: isolate :: __private :: FnPointer >"
        );
        let long: Type = parse_quote!((
            u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, String
        ));
        let check = FrozenCheck::whole(&long, None);
        assert_eq!(
            text(&check.ty),
            "((u8 , u8 , u8 , u8 , u8 , u8 , u8 , u8 , u8 , u8 , u8 , u8 , u8 , u8 , u8 , u8) , (String ,))"
        );
        let short: Type = parse_quote!((u8, String));
        assert_eq!(text(&FrozenCheck::whole(&short, None).ty), text(&short));
    }

    #[test]
    fn nests_very_long_tuples_in_levels_of_at_most_sixteen() {
        let elems: Vec<Type> = (0..200).map(|_| parse_quote!(u8)).collect();
        let nested = nest(elems, proc_macro2::Span::call_site());
        fn widest(ty: &Type) -> usize {
            match ty {
                Type::Tuple(tuple) => tuple
                    .elems
                    .iter()
                    .map(widest)
                    .max()
                    .unwrap_or(0)
                    .max(tuple.elems.len()),
                _ => 0,
            }
        }
        assert!(widest(&nested) <= MAX_TUPLE);
        assert_eq!(text(&nested).matches("u8").count(), 200);
    }

    #[test]
    fn splits_out_trait_objects_only_when_asked() {
        let ty: Type = parse_quote!(Arc<dyn Store + Send + Sync>);
        let whole = FrozenCheck::whole(&ty, None);
        assert!(whole.trait_objects.is_empty());
        assert_eq!(text(&whole.ty), text(&ty));
        let split = FrozenCheck::split(&ty, None);
        assert_eq!(
            text(&split.ty),
            "Arc < :: isolate :: __private :: TraitObject >"
        );
        assert_eq!(split.trait_objects.len(), 1);
        assert_eq!(text(&split.trait_objects[0]), "dyn Store + Send + Sync");
        let nested: Type = parse_quote!(Vec<(&'static dyn Store, Box<dyn Fn(&str)>)>);
        let split = FrozenCheck::split(&nested, None);
        assert_eq!(split.trait_objects.len(), 2);
        // `&mut T` is never `Frozen`; its error should name the real type.
        let unique: Type = parse_quote!(&'static mut dyn Store);
        assert!(FrozenCheck::split(&unique, None).trait_objects.is_empty());
        assert_eq!(
            FrozenCheck::split(&parse_quote!(dyn Store), None)
                .trait_objects
                .len(),
            1
        );
        // `Shared<dyn Client>` is `Frozen` through `SharedClient`, not through the pointee.
        let shared: Type = parse_quote!(Shared<dyn Client>);
        let split = FrozenCheck::split(&shared, None);
        assert!(split.trait_objects.is_empty());
        assert_eq!(text(&split.ty), text(&shared));
    }

    #[test]
    fn finds_static_borrows_but_not_request_borrows_or_function_arguments() {
        let ty: Type = parse_quote!(Option<(&'static Mutex<u8>, &'r Cell<u8>, fn(&'static str))>);
        let found: Vec<String> = static_referents(&ty).into_iter().map(text).collect();
        assert_eq!(found, ["Mutex < u8 >"]);
        assert!(static_referents(&parse_quote!(&'static mut Vec<u8>)).is_empty());
    }
}
