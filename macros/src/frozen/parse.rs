//! Tokens to model: the item and the types of all its fields.

use syn::{Data, DeriveInput, Fields, Generics, Ident, Type};

/// A struct or enum that derives `Frozen`.
pub struct FrozenInput {
    pub ident: Ident,
    pub generics: Generics,
    /// Every field type, of every variant, in declaration order.
    pub field_types: Vec<Type>,
}

pub fn parse(input: DeriveInput) -> syn::Result<FrozenInput> {
    let field_types = match input.data {
        Data::Struct(data) => field_types(data.fields),
        Data::Enum(data) => data
            .variants
            .into_iter()
            .flat_map(|variant| field_types(variant.fields))
            .collect(),
        Data::Union(data) => {
            return Err(syn::Error::new_spanned(
                data.union_token,
                "`Frozen` cannot be derived for a union: the compiler cannot check which field is live",
            ));
        }
    };
    Ok(FrozenInput {
        ident: input.ident,
        generics: input.generics,
        field_types,
    })
}

fn field_types(fields: Fields) -> Vec<Type> {
    fields.into_iter().map(|field| field.ty).collect()
}
