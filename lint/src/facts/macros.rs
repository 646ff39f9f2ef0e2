//! Parsers for the bodies of `lazy_static!` and `thread_local!`, which syn leaves as tokens.

use syn::Token;
use syn::parse::{ParseStream, Result};

/// One `static` declared inside a macro body.
pub struct MacroStatic {
    pub attrs: Vec<syn::Attribute>,
    pub name: syn::Ident,
    pub ty: syn::Type,
    pub init: syn::Expr,
    /// The span of the first token after the attributes (visibility or `static`).
    pub start: proc_macro2::Span,
}

/// `$(#[attr])* $vis static ref NAME: TYPE = EXPR;` repeated.
pub fn parse_lazy_static(input: ParseStream) -> Result<Vec<MacroStatic>> {
    parse_items(input, true)
}

/// `$(#[attr])* $vis static NAME: TYPE = [const] EXPR;` repeated (last `;` optional).
pub fn parse_thread_local(input: ParseStream) -> Result<Vec<MacroStatic>> {
    parse_items(input, false)
}

fn parse_items(input: ParseStream, with_ref: bool) -> Result<Vec<MacroStatic>> {
    let mut items = Vec::new();
    while !input.is_empty() {
        let attrs = input.call(syn::Attribute::parse_outer)?;
        let start = input.span();
        let _vis: syn::Visibility = input.parse()?;
        input.parse::<Token![static]>()?;
        if with_ref {
            input.parse::<Token![ref]>()?;
        }
        let name: syn::Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let ty: syn::Type = input.parse()?;
        input.parse::<Token![=]>()?;
        let init: syn::Expr = input.parse()?;
        items.push(MacroStatic {
            attrs,
            name,
            ty,
            init,
            start,
        });
        if input.is_empty() {
            break;
        }
        input.parse::<Token![;]>()?;
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse::Parser;

    #[test]
    fn several_items_with_attributes_and_const_init() {
        let src = "#[doc = \"x\"] pub static A: Cell<u8> = const { Cell::new(0) };
                   static B: RefCell<Vec<u8>> = RefCell::new(Vec::new())";
        let items = parse_thread_local.parse_str(src).unwrap();
        let names: Vec<_> = items.iter().map(|i| i.name.to_string()).collect();
        assert_eq!(names, ["A", "B"]);
        assert_eq!(items[0].attrs.len(), 1);
    }

    #[test]
    fn lazy_static_refs() {
        let src = "pub(crate) static ref A: Mutex<u8> = Mutex::new(0); static ref B: u8 = 1;";
        let items = parse_lazy_static.parse_str(src).unwrap();
        assert_eq!(items.len(), 2);
    }
}
