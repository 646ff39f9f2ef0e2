//! `#[derive(RequestScoped)]`: a struct with a request lifetime gets a factory that is built
//! once from frozen dependencies and creates a fresh instance for every request scope.

mod expand;
mod parse;
mod validate;

#[cfg(test)]
mod tests;

pub fn derive(input: syn::DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let parsed = parse::parse(input)?;
    let plan = validate::validate(parsed)?;
    Ok(expand::expand(&plan))
}
