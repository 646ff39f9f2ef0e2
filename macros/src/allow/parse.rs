//! Tokens to model: `rule` then `, reason = "..."`.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

pub struct AllowArgs {
    pub rule: Ident,
    pub reason: Option<LitStr>,
    /// Where a missing reason is reported: the rule.
    pub rule_span: Span,
}

impl Parse for AllowArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error(
                "expected a rule id: `#[isolate::allow(rule_id, reason = \"why this is safe\")]`",
            ));
        }
        let rule: Ident = input.call(syn::ext::IdentExt::parse_any).map_err(|error| {
            syn::Error::new(
                error.span(),
                "expected a rule id (an identifier such as `global_state`)",
            )
        })?;
        let rule_span = rule.span();
        let mut reason = None;
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
            if !input.is_empty() {
                let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
                if key != "reason" {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown argument `{key}`: expected `reason = \"...\"`"),
                    ));
                }
                input.parse::<Token![=]>()?;
                let value: LitStr = input.parse().map_err(|error| {
                    syn::Error::new(error.span(), "the reason must be a string literal")
                })?;
                reason = Some(value);
                let _ = input.parse::<Option<Token![,]>>()?;
                if !input.is_empty() {
                    return Err(input.error("unexpected tokens after the reason"));
                }
            }
        }
        Ok(Self {
            rule,
            reason,
            rule_span,
        })
    }
}

pub fn parse(args: TokenStream) -> syn::Result<AllowArgs> {
    syn::parse2(args)
}
