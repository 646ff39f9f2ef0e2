//! `#[isolate::entry]`: a marker the linter reads. Parse: no arguments and a function item;
//! validate: nothing more; expand: the item, unchanged.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ItemFn;

pub fn attribute(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let parsed = parse(args, item.clone());
    // On error keep the item so the rest of the crate still resolves it.
    match parsed {
        Ok(()) => Ok(item),
        Err(error) => {
            let mut tokens = error.into_compile_error();
            tokens.extend(item);
            Ok(tokens)
        }
    }
}

fn parse(args: TokenStream, item: TokenStream) -> syn::Result<()> {
    if let Some(first) = args.into_iter().next() {
        return Err(syn::Error::new_spanned(
            first.into_token_stream(),
            "`#[isolate::entry]` takes no arguments",
        ));
    }
    syn::parse2::<ItemFn>(item).map_err(|error| {
        syn::Error::new(
            error.span(),
            "`#[isolate::entry]` marks a request entry point: put it on a function or method",
        )
    })?;
    Ok(())
}
