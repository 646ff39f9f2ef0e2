//! Rules: generic field types become `where` bounds (checked where the type is used); every
//! other field is asserted right away, so its error points at that field.

use super::parse::FrozenInput;
use crate::types::mentions_type_param;
use syn::{Generics, Ident, Type};

pub struct FrozenPlan {
    pub ident: Ident,
    pub generics: Generics,
    /// Field types that use a type parameter: bounded on the impl.
    pub bounded: Vec<Type>,
    /// Field types without type parameters: asserted at the definition.
    pub asserted: Vec<Type>,
}

pub fn validate(input: FrozenInput) -> syn::Result<FrozenPlan> {
    let params: Vec<&Ident> = input
        .generics
        .type_params()
        .map(|param| &param.ident)
        .collect();
    let (bounded, asserted) = input
        .field_types
        .iter()
        .cloned()
        .partition(|ty| mentions_type_param(ty, &params));
    Ok(FrozenPlan {
        ident: input.ident,
        generics: input.generics,
        bounded,
        asserted,
    })
}
