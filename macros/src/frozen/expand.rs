//! Model to tokens.

use super::validate::FrozenPlan;
use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;

pub fn expand(plan: &FrozenPlan) -> TokenStream {
    let ident = &plan.ident;
    let (impl_generics, type_generics, _) = plan.generics.split_for_impl();
    let mut bounded = plan.generics.clone();
    let predicates = &mut bounded.make_where_clause().predicates;
    for ty in &plan.bounded {
        predicates.push(syn::parse_quote_spanned!(ty.span()=> #ty: ::isolate::Frozen));
    }
    let (_, _, impl_where_clause) = bounded.split_for_impl();
    let assertions = plan
        .asserted
        .iter()
        .map(|(field, check)| check.assertions("assert_frozen", field.span()));
    // `unsafe` carries the macro's own span, not the user's: the promise is the derive's, so
    // `#![forbid(unsafe_code)]` in the user's crate does not apply to it.
    quote! {
        // SAFETY: every field is `Frozen`: generic fields through the bounds below, the others
        // through the assertions in the block after this impl, which fail to compile otherwise.
        #[automatically_derived]
        unsafe impl #impl_generics ::isolate::Frozen for #ident #type_generics
        #impl_where_clause
        {
        }

        const _: () = {
            #[allow(dead_code, clippy::extra_unused_type_parameters, clippy::extra_unused_lifetimes)]
            fn __isolate_assert_fields_frozen #impl_generics () #impl_where_clause {
                #(#assertions)*
            }
        };
    }
}
