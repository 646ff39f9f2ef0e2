//! Derives and attributes for the `isolate` runtime. Use them through the `isolate` crate,
//! which re-exports everything here and documents it with examples.
//!
//! Each macro is split into `parse` (tokens to a model), `validate` (rules the model must
//! follow) and `expand` (model to tokens). Every error is a `syn::Error` spanned on the
//! user's tokens; nothing here panics on user input.

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

mod allow;
mod entry;
mod frozen;
mod scoped;
mod types;

/// Implements `isolate::Frozen` after checking that every field is `Frozen`.
///
/// A field that is not gets a compile error on its type. Generic parameters are bounded per
/// field (`where Field<T>: Frozen`).
#[proc_macro_derive(Frozen)]
pub fn derive_frozen(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    frozen::derive(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Generates the per-request factory of a struct with a request lifetime.
///
/// Field roles come from `#[isolate(...)]`: `shared`, `context`, `emitter`, `scope`,
/// `cancellation`, `fresh` or `fresh = expr`; unmarked fields are fresh (`Default`). The
/// container attribute `#[isolate(factory = Name)]` renames the factory.
#[proc_macro_derive(RequestScoped, attributes(isolate))]
pub fn derive_request_scoped(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    scoped::derive(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Marks a request entry point for `cargo isolate`. Returns the function unchanged.
#[proc_macro_attribute]
pub fn entry(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::attribute(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A reviewed suppression of a `cargo isolate` rule: `#[isolate::allow(rule, reason = "...")]`.
///
/// Checks the syntax and returns the item unchanged.
#[proc_macro_attribute]
pub fn allow(args: TokenStream, item: TokenStream) -> TokenStream {
    allow::attribute(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
