//! Rules: one request lifetime and nothing else generic; exactly one `Sealed<'r>` token;
//! request-bound fields are `&'r ...`; shared fields do not borrow from the request and are
//! not one of the request's own values; what a fresh field borrows for `'static` is checked
//! like a shared field, since it is one global for every request.

use super::parse::{Role, ScopedField, ScopedInput, combine};
use crate::frozen_check::{FrozenCheck, static_referents};
use crate::types::{is_named, is_unsized, mentions_lifetime, request_ref};
use quote::format_ident;
use syn::spanned::Spanned;
use syn::{Expr, GenericParam, Generics, Ident, Lifetime, Type, Visibility};

pub struct ScopedPlan {
    pub vis: Visibility,
    pub ident: Ident,
    pub lifetime: Lifetime,
    pub factory: Ident,
    pub fields: Vec<PlannedField>,
}

pub struct PlannedField {
    pub ident: Ident,
    pub ty: Type,
    pub source: Source,
    /// Types that must be `Frozen`, each with the `__private` function that asserts it: a
    /// shared field's stored type; the referent of every `&'static` in a fresh field's type.
    pub frozen: Vec<(&'static str, FrozenCheck)>,
}

pub enum Source {
    /// Kept by the factory as `stored`; lent as `&self.field` when `borrowed`, cloned otherwise.
    Shared {
        stored: Type,
        borrowed: bool,
    },
    Context,
    Emitter,
    Cancellation,
    Scope,
    /// New for every request, from the expression or `Default`.
    Fresh(Option<Expr>),
    Seal,
}

/// The request's own values, which a field takes from the scope with a role, never shares.
const REQUEST_VALUES: [(&str, &str); 4] = [
    ("RequestContext", "context"),
    ("EventEmitter", "emitter"),
    ("CancellationToken", "cancellation"),
    ("RequestScope", "scope"),
];

pub fn validate(input: ScopedInput) -> syn::Result<ScopedPlan> {
    let lifetime = request_lifetime(&input.ident, &input.generics)?;
    let mut errors = None;
    let mut fields = Vec::new();
    let mut seal: Option<&ScopedField> = None;
    for field in &input.fields {
        if matches!(field.role, Role::Seal) {
            if seal.is_some() {
                combine(
                    &mut errors,
                    syn::Error::new(field.ty.span(), "only one `Sealed` token field is needed"),
                );
            }
            seal = Some(field);
        }
        match plan_field(field, &lifetime) {
            Ok(planned) => fields.push(planned),
            Err(error) => combine(&mut errors, error),
        }
    }
    if seal.is_none() {
        combine(
            &mut errors,
            syn::Error::new(
                input.ident.span(),
                format!(
                    "`{}` needs a `_seal: isolate::Sealed<{lifetime}>` field, so that instances can only be created by its factory",
                    input.ident
                ),
            ),
        );
    }
    if let Some(errors) = errors {
        return Err(errors);
    }
    let factory = input
        .factory
        .unwrap_or_else(|| format_ident!("{}Factory", input.ident));
    Ok(ScopedPlan {
        vis: input.vis,
        ident: input.ident,
        lifetime,
        factory,
        fields,
    })
}

fn request_lifetime(ident: &Ident, generics: &Generics) -> syn::Result<Lifetime> {
    let mut lifetimes = Vec::new();
    for param in &generics.params {
        match param {
            GenericParam::Lifetime(param) => lifetimes.push(param),
            GenericParam::Type(param) => {
                return Err(syn::Error::new(
                    param.ident.span(),
                    "`RequestScoped` structs take only the request lifetime; make shared dependencies concrete types",
                ));
            }
            GenericParam::Const(param) => {
                return Err(syn::Error::new(
                    param.ident.span(),
                    "`RequestScoped` structs take only the request lifetime",
                ));
            }
        }
    }
    match lifetimes.as_slice() {
        [param] if param.bounds.is_empty() => Ok(param.lifetime.clone()),
        [param] => Err(syn::Error::new(
            param.bounds.span(),
            "the request lifetime takes no bounds",
        )),
        [] => Err(syn::Error::new(
            ident.span(),
            format!(
                "`{ident}` needs the request lifetime: declare it as `struct {ident}<'r>` and borrow the request through it (`_seal: isolate::Sealed<'r>`), so an instance cannot outlive its request"
            ),
        )),
        [_, extra, ..] => Err(syn::Error::new(
            extra.lifetime.span(),
            "`RequestScoped` structs take exactly one lifetime: the request lifetime",
        )),
    }
}

fn plan_field(field: &ScopedField, lifetime: &Lifetime) -> syn::Result<PlannedField> {
    let source = match &field.role {
        Role::Shared => {
            let (stored, borrowed) = match request_ref(&field.ty, lifetime) {
                Some(referent) if is_unsized(referent) => {
                    return Err(syn::Error::new_spanned(
                        referent,
                        "the factory stores a shared field by value, so a borrowed `str`, slice or `dyn` cannot be lent from it: use an owned type such as `Arc<str>`, `Arc<[T]>`, or `Arc<dyn Store>` where the trait has `Frozen` as a supertrait (`trait Store: isolate::Frozen + Send + Sync`)",
                    ));
                }
                Some(referent) => (referent.clone(), true),
                None => (field.ty.clone(), false),
            };
            if mentions_lifetime(&stored, lifetime) {
                return Err(syn::Error::new(
                    field.ty.span(),
                    format!(
                        "a shared field is kept by the factory across requests, so it cannot borrow from the request: remove `{lifetime}` from its type or make the field fresh"
                    ),
                ));
            }
            if let Some((name, role)) = REQUEST_VALUES
                .iter()
                .find(|(name, _)| is_named(&stored, name))
            {
                return Err(syn::Error::new_spanned(
                    &field.ty,
                    format!(
                        "`{name}` belongs to one request, so the factory cannot keep one for every request: mark this field `#[isolate({role})]` (type `&{lifetime} {name}`) to get the current request's own"
                    ),
                ));
            }
            Source::Shared { stored, borrowed }
        }
        Role::Context => request_bound(
            field,
            lifetime,
            "context",
            "RequestContext",
            Source::Context,
        )?,
        Role::Emitter => {
            request_bound(field, lifetime, "emitter", "EventEmitter", Source::Emitter)?
        }
        Role::Cancellation => request_bound(
            field,
            lifetime,
            "cancellation",
            "CancellationToken",
            Source::Cancellation,
        )?,
        Role::Scope => request_bound(field, lifetime, "scope", "RequestScope", Source::Scope)?,
        Role::Fresh(init) => Source::Fresh(init.clone()),
        Role::Seal => Source::Seal,
    };
    let frozen = match &source {
        Source::Shared { stored, .. } => vec![("assert_frozen", FrozenCheck::split(stored, None))],
        Source::Fresh(_) => static_referents(&field.ty)
            .into_iter()
            .map(|referent| {
                (
                    "assert_static_borrow_frozen",
                    FrozenCheck::split(referent, None),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(PlannedField {
        ident: field.ident.clone(),
        ty: field.ty.clone(),
        source,
        frozen,
    })
}

fn request_bound(
    field: &ScopedField,
    lifetime: &Lifetime,
    role: &str,
    target: &str,
    source: Source,
) -> syn::Result<Source> {
    match request_ref(&field.ty, lifetime) {
        Some(_) => Ok(source),
        None => Err(syn::Error::new(
            field.ty.span(),
            format!(
                "a `{role}` field borrows from the request: its type must be `&{lifetime} {target}`"
            ),
        )),
    }
}
