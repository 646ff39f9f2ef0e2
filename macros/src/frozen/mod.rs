//! `#[derive(Frozen)]`: parse the fields, sort them into generic and concrete, expand to an
//! `unsafe impl Frozen` plus one assertion per concrete field.

mod expand;
mod parse;
mod validate;

#[cfg(test)]
mod tests;

pub fn derive(input: syn::DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let parsed = parse::parse(input)?;
    let checked = validate::validate(parsed)?;
    Ok(expand::expand(&checked))
}
