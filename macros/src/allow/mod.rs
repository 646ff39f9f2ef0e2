//! `#[isolate::allow(rule, reason = "...")]`: the attribute form of a linter suppression.
//! It changes nothing in the item; it only insists on a rule id and a reason a reviewer can
//! read.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

pub fn attribute(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let checked = parse::parse(args).and_then(validate::validate);
    Ok(expand::expand(checked, item))
}
