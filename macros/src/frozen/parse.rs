//! Tokens to model: the item, the types of all its fields and their `#[isolate(recursive)]`
//! marks.

use syn::{Attribute, Data, DeriveInput, Fields, Generics, Ident, Type};

/// A struct or enum that derives `Frozen`.
pub struct FrozenInput {
    pub ident: Ident,
    pub generics: Generics,
    /// Every field, of every variant, in declaration order.
    pub fields: Vec<FrozenField>,
}

pub struct FrozenField {
    pub ty: Type,
    /// `#[isolate(recursive)]`: the field reaches this type again through another type
    /// (mutual recursion), so it must not become a bound.
    pub recursive: bool,
}

pub fn parse(input: DeriveInput) -> syn::Result<FrozenInput> {
    let fields = match input.data {
        Data::Struct(data) => fields(data.fields)?,
        Data::Enum(data) => {
            let mut all = Vec::new();
            for variant in data.variants {
                all.extend(fields(variant.fields)?);
            }
            all
        }
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
        fields,
    })
}

fn fields(fields: Fields) -> syn::Result<Vec<FrozenField>> {
    fields
        .into_iter()
        .map(|field| {
            Ok(FrozenField {
                recursive: recursive_mark(&field.attrs)?,
                ty: field.ty,
            })
        })
        .collect()
}

fn recursive_mark(attrs: &[Attribute]) -> syn::Result<bool> {
    let mut recursive = false;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("isolate")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("recursive") {
                recursive = true;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown `isolate` attribute on a `Frozen` field; expected `recursive` (for a field that reaches this type again through another type)",
                ))
            }
        })?;
    }
    Ok(recursive)
}
