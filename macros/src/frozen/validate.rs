//! Rules: generic field types become `where` bounds (checked where the type is used); every
//! other field is asserted right away, so its error points at that field. A field that names
//! the type itself (`Option<Box<Self>>`, `Vec<Tree<T>>`) is never a bound, which would make
//! the impl depend on itself: it is asserted under the impl's bounds instead, which proves it
//! for every instance the impl covers. The derive cannot see recursion through another type
//! (`A<T>` holds `B<T>` holds `A<T>`); `#[isolate(recursive)]` on the field says so.

use super::parse::FrozenInput;
use crate::frozen_check::FrozenCheck;
use crate::types::{mentions_type_named, mentions_type_param};
use quote::quote;
use syn::{Generics, Ident, Type};

pub struct FrozenPlan {
    pub ident: Ident,
    pub generics: Generics,
    /// Field types that use a type parameter and not the type itself: bounded on the impl.
    pub bounded: Vec<Type>,
    /// Every other field: asserted under the impl's bounds, spanned on the field's type.
    pub asserted: Vec<(Type, FrozenCheck)>,
}

pub fn validate(input: FrozenInput) -> syn::Result<FrozenPlan> {
    let params: Vec<&Ident> = input
        .generics
        .type_params()
        .map(|param| &param.ident)
        .collect();
    let ident = &input.ident;
    let (_, type_generics, _) = input.generics.split_for_impl();
    let self_ty: Type = syn::parse2(quote!(#ident #type_generics))?;
    let mut bounded = Vec::new();
    let mut asserted = Vec::new();
    for field in &input.fields {
        let ty = &field.ty;
        let whole = FrozenCheck::whole(ty, Some(&self_ty));
        let recursive = field.recursive || mentions_type_named(&whole.ty, ident);
        if mentions_type_param(&whole.ty, &params) && !recursive {
            bounded.push(whole.ty);
        } else {
            asserted.push((ty.clone(), FrozenCheck::split(ty, Some(&self_ty))));
        }
    }
    Ok(FrozenPlan {
        ident: input.ident,
        generics: input.generics,
        bounded,
        asserted,
    })
}
