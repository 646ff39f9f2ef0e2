//! Tokens to model: one or more rule ids (each bare or written `isolate::rule_id`), then
//! `, reason = "..."`, then an optional trailing comma. The linter reads the same rule list
//! (its `suppress/grammar.rs`); `forms.rs` is the table of forms both are tested against.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

pub struct AllowArgs {
    /// The rule ids as written (`static_mut`, `isolate::static_mut`).
    pub rules: Vec<String>,
    pub reason: Option<LitStr>,
    /// Where a missing reason is reported: the rule list.
    pub rule_span: Span,
}

impl AllowArgs {
    /// The rule list as written, for messages.
    pub fn rule_list(&self) -> String {
        self.rules.join(", ")
    }
}

/// One rule id: `ident` or `isolate::ident`.
fn rule_id(input: ParseStream) -> syn::Result<(String, Span)> {
    let first: Ident = input.parse().map_err(|error| {
        syn::Error::new(
            error.span(),
            "expected a rule id (an identifier such as `global_state`)",
        )
    })?;
    if !input.peek(Token![::]) {
        return Ok((first.to_string(), first.span()));
    }
    if first != "isolate" {
        return Err(syn::Error::new(
            first.span(),
            format!(
                "rule ids belong to isolate: write `isolate::rule_id` or `rule_id`, not `{first}::..`"
            ),
        ));
    }
    input.parse::<Token![::]>()?;
    let id: Ident = input.parse().map_err(|error| {
        syn::Error::new(
            error.span(),
            "expected a rule id (an identifier such as `global_state`)",
        )
    })?;
    let span = first.span().join(id.span()).unwrap_or(first.span());
    Ok((format!("isolate::{id}"), span))
}

impl Parse for AllowArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error(
                "expected a rule id: `#[isolate::allow(rule_id, reason = \"why this is safe\")]`",
            ));
        }
        let mut rules = Vec::new();
        let mut rule_span: Option<Span> = None;
        let mut reason = None;
        while !input.is_empty() {
            // `key = ..`: the reason (or a misspelt key), which ends the list.
            if input.peek(Ident) && input.peek2(Token![=]) {
                let key: Ident = input.parse()?;
                if key != "reason" {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown argument `{key}`: expected `reason = \"...\"`"),
                    ));
                }
                if rules.is_empty() {
                    return Err(syn::Error::new(
                        key.span(),
                        "expected a rule id before the reason: `#[isolate::allow(rule_id, reason = \"...\")]`",
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
                break;
            }
            let (id, span) = rule_id(input)?;
            rules.push(id);
            rule_span = Some(match rule_span {
                Some(first) => first.join(span).unwrap_or(first),
                None => span,
            });
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(Self {
            rules,
            reason,
            rule_span: rule_span.unwrap_or_else(Span::call_site),
        })
    }
}

pub fn parse(args: TokenStream) -> syn::Result<AllowArgs> {
    syn::parse2(args)
}
