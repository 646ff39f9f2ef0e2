//! `#[isolate::allow(rule, .., reason = "...")]`: the attribute form of a linter suppression.
//! It changes nothing in the item; it only insists on rule ids and a reason a reviewer can
//! read. Which rule ids exist is the linter's business: it reports unknown ones.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

pub fn attribute(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let checked = parse::parse(args).and_then(validate::validate);
    Ok(expand::expand(checked, item))
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;

    macro_rules! allow_forms {
        (accepted: [$([$($ok:tt)*]),* $(,)?], rejected: [$([$($bad:tt)*]),* $(,)?] $(,)?) => {
            const ACCEPTED: &[&str] = &[$(stringify!($($ok)*)),*];
            const REJECTED: &[&str] = &[$(stringify!($($bad)*)),*];
        };
    }
    include!("forms.rs");

    fn check(args: &str) -> syn::Result<()> {
        let args: TokenStream = args.parse().expect("the table holds tokens");
        super::parse::parse(args)
            .and_then(super::validate::validate)
            .map(|_| ())
    }

    #[test]
    fn the_shared_table_of_forms() {
        assert!(ACCEPTED.len() >= 5 && REJECTED.len() >= 10);
        for form in ACCEPTED {
            if let Err(e) = check(form) {
                panic!("`#[isolate::allow({form})]` was refused: {e}");
            }
        }
        for form in REJECTED {
            assert!(
                check(form).is_err(),
                "`#[isolate::allow({form})]` was accepted"
            );
        }
    }

    #[test]
    fn errors_name_the_rules_and_keep_the_item() {
        let e = check("static_mut, isolate::lazy_singleton").unwrap_err();
        assert_eq!(
            e.to_string(),
            "`#[isolate::allow(static_mut, isolate::lazy_singleton)]` needs a reason: add `reason = \"why this is safe\"`"
        );
        let item: TokenStream = "static A: u8 = 0;".parse().unwrap();
        let out = super::attribute("static_mut".parse().unwrap(), item.clone()).unwrap();
        let text = out.to_string();
        assert!(
            text.contains("compile_error") && text.ends_with(&item.to_string()),
            "{text}"
        );
    }
}
