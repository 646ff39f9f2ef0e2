//! Rules: the reason is present and says something.

use super::parse::AllowArgs;

pub fn validate(args: AllowArgs) -> syn::Result<AllowArgs> {
    match &args.reason {
        None => Err(syn::Error::new(
            args.rule_span,
            format!(
                "`#[isolate::allow({})]` needs a reason: add `reason = \"why this is safe\"`",
                args.rule_list()
            ),
        )),
        Some(reason) if reason.value().trim().is_empty() => Err(syn::Error::new(
            reason.span(),
            "the reason must not be empty: say why this suppression is safe",
        )),
        Some(_) => Ok(args),
    }
}
