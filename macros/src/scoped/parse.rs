//! Tokens to model: the struct, its `#[isolate(...)]` attributes and the role of every field.

use crate::types::is_named;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Expr, Fields, Generics, Ident, Type, Visibility};

/// A struct that derives `RequestScoped`.
pub struct ScopedInput {
    pub vis: Visibility,
    pub ident: Ident,
    pub generics: Generics,
    /// `#[isolate(factory = Name)]`.
    pub factory: Option<Ident>,
    pub fields: Vec<ScopedField>,
}

pub struct ScopedField {
    pub ident: Ident,
    pub ty: Type,
    pub role: Role,
}

/// Where a field's value comes from when the factory creates an instance.
pub enum Role {
    /// `#[isolate(shared)]`: a frozen dependency kept by the factory.
    Shared,
    /// `#[isolate(context)]`: `scope.context()`.
    Context,
    /// `#[isolate(emitter)]`: `scope.emitter()`.
    Emitter,
    /// `#[isolate(cancellation)]`: `scope.cancellation()`.
    Cancellation,
    /// `#[isolate(scope)]`: the request scope itself.
    Scope,
    /// Unmarked, `#[isolate(fresh)]` or `#[isolate(fresh = expr)]`: new for every request.
    Fresh(Option<Expr>),
    /// The `Sealed<'r>` token field.
    Seal,
}

const FIELD_ROLES: &str =
    "`shared`, `context`, `emitter`, `cancellation`, `scope`, `fresh` or `fresh = expr`";

pub fn parse(input: DeriveInput) -> syn::Result<ScopedInput> {
    let fields = match input.data {
        Data::Struct(data) => match data.fields {
            Fields::Named(named) => named.named,
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "`RequestScoped` needs named fields: `struct Engine<'r> { ... }`",
                ));
            }
        },
        Data::Enum(data) => {
            return Err(syn::Error::new_spanned(
                data.enum_token,
                "`RequestScoped` can only be derived for a struct",
            ));
        }
        Data::Union(data) => {
            return Err(syn::Error::new_spanned(
                data.union_token,
                "`RequestScoped` can only be derived for a struct",
            ));
        }
    };
    let factory = container_attributes(&input.attrs)?;
    let mut errors: Option<syn::Error> = None;
    let mut parsed = Vec::new();
    for field in fields {
        let Some(ident) = field.ident else {
            continue;
        };
        match field_role(&field.attrs, &field.ty) {
            Ok(role) => parsed.push(ScopedField {
                ident,
                ty: field.ty,
                role,
            }),
            Err(error) => combine(&mut errors, error),
        }
    }
    if let Some(errors) = errors {
        return Err(errors);
    }
    Ok(ScopedInput {
        vis: input.vis,
        ident: input.ident,
        generics: input.generics,
        factory,
        fields: parsed,
    })
}

pub fn combine(errors: &mut Option<syn::Error>, error: syn::Error) {
    match errors {
        Some(existing) => existing.combine(error),
        None => *errors = Some(error),
    }
}

fn container_attributes(attrs: &[Attribute]) -> syn::Result<Option<Ident>> {
    let mut factory = None;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("isolate")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("factory") {
                if factory.is_some() {
                    return Err(meta.error("duplicate `factory` name"));
                }
                factory = Some(meta.value()?.parse::<Ident>()?);
                Ok(())
            } else {
                Err(meta.error(format!(
                    "unknown `isolate` attribute `{}` on the struct; expected `factory = Name`",
                    path_text(&meta.path)
                )))
            }
        })?;
    }
    Ok(factory)
}

fn field_role(attrs: &[Attribute], ty: &Type) -> syn::Result<Role> {
    let mut chosen: Option<(Role, Span)> = None;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("isolate")) {
        attr.parse_nested_meta(|meta| {
            let span = meta.path.span();
            let role = if meta.path.is_ident("shared") {
                Role::Shared
            } else if meta.path.is_ident("context") {
                Role::Context
            } else if meta.path.is_ident("emitter") {
                Role::Emitter
            } else if meta.path.is_ident("cancellation") {
                Role::Cancellation
            } else if meta.path.is_ident("scope") {
                Role::Scope
            } else if meta.path.is_ident("fresh") {
                if meta.input.peek(syn::Token![=]) {
                    Role::Fresh(Some(meta.value()?.parse::<Expr>()?))
                } else {
                    Role::Fresh(None)
                }
            } else {
                return Err(meta.error(format!(
                    "unknown `isolate` attribute `{}`; expected one of {FIELD_ROLES}",
                    path_text(&meta.path)
                )));
            };
            if chosen.is_some() {
                return Err(syn::Error::new(
                    span,
                    "a field has exactly one role: remove one of its `isolate` attributes",
                ));
            }
            chosen = Some((role, span));
            Ok(())
        })?;
    }
    if is_named(ty, "Sealed") {
        if let Some((_, span)) = chosen {
            return Err(syn::Error::new(
                span,
                "the `Sealed` token field is filled by the factory and takes no `isolate` attribute",
            ));
        }
        return Ok(Role::Seal);
    }
    Ok(chosen.map_or(Role::Fresh(None), |(role, _)| role))
}

fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}
