//! Model to tokens: the item unchanged, preceded by the error if the arguments were wrong.

use super::parse::AllowArgs;
use proc_macro2::TokenStream;

pub fn expand(checked: syn::Result<AllowArgs>, item: TokenStream) -> TokenStream {
    match checked {
        Ok(_) => item,
        Err(error) => {
            let mut tokens = error.into_compile_error();
            tokens.extend(item);
            tokens
        }
    }
}
