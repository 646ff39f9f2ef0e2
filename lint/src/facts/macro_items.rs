//! Items written inside item-position macro calls: `cfg_if! { if #[cfg(..)] { items } else {
//! items } }`, `cfg_select! { pred => { items } _ => { items } }` and any other call whose body
//! (or a braced group at its top level) parses as items. Every branch is read: the linter does
//! not evaluate `cfg`, so a static declared for one platform is seen whichever it is built for.
//! A branch whose condition can only hold in test builds is test code.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};

/// One group of items found in a macro body.
pub(crate) struct Branch {
    pub items: Vec<syn::Item>,
    /// Its condition requires `cfg(test)`.
    pub test: bool,
    /// The lines of its braces (for the file's test ranges).
    pub lines: (u32, u32),
}

fn items(input: ParseStream) -> syn::Result<Vec<syn::Item>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        out.push(input.parse()?);
    }
    Ok(out)
}

/// The items of `mac`'s body: the whole body if it parses as items, else each braced group at
/// its top level that does (with the condition written before it). Empty when nothing parses.
pub(crate) fn branches(mac: &syn::Macro) -> Vec<Branch> {
    if may_start_an_item(&mac.tokens)
        && let Ok(found) = items.parse2(mac.tokens.clone())
        && !found.is_empty()
    {
        return vec![Branch {
            items: found,
            test: false,
            lines: (0, 0),
        }];
    }
    let mut out = Vec::new();
    let mut condition = TokenStream::new();
    for tt in mac.tokens.clone() {
        match tt {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                if may_start_an_item(&g.stream())
                    && let Ok(found) = items.parse2(g.stream())
                    && !found.is_empty()
                {
                    out.push(Branch {
                        items: found,
                        test: requires_test(&condition),
                        lines: (
                            g.span_open().start().line as u32,
                            g.span_close().end().line as u32,
                        ),
                    });
                }
                condition = TokenStream::new();
            }
            other => condition.extend([other]),
        }
    }
    out
}

/// Whether `tokens` can begin with an item: an attribute, a keyword that starts one, or a path
/// (a macro call). Parsing builds a buffer of every token before it looks at the first, so
/// bodies that cannot be items (`impl_op!(Add, add, +)`, a table of literals) are skipped
/// before that cost; every body syn would accept still passes.
fn may_start_an_item(tokens: &TokenStream) -> bool {
    let mut it = tokens.clone().into_iter();
    match (it.next(), it.next()) {
        (Some(TokenTree::Punct(p)), _) => matches!(p.as_char(), '#' | ':'),
        (Some(TokenTree::Ident(i)), next) => {
            let word = i.to_string();
            matches!(
                word.as_str(),
                "pub"
                    | "crate"
                    | "fn"
                    | "struct"
                    | "enum"
                    | "union"
                    | "static"
                    | "const"
                    | "use"
                    | "mod"
                    | "impl"
                    | "trait"
                    | "type"
                    | "extern"
                    | "unsafe"
                    | "async"
                    | "auto"
                    | "default"
                    | "safe"
                    | "macro_rules"
            ) || matches!(next, Some(TokenTree::Punct(p)) if matches!(p.as_char(), '!' | ':'))
        }
        _ => false,
    }
}

/// Whether the tokens before a branch (`if #[cfg(test)]`, `else if #[cfg(all(test, unix))]`,
/// `test =>`, `any(test, miri) =>`) make it test-only.
fn requires_test(condition: &TokenStream) -> bool {
    let tokens: Vec<TokenTree> = condition.clone().into_iter().collect();
    // `#[cfg(..)]` (cfg_if).
    for w in tokens.windows(2) {
        if let (TokenTree::Punct(p), TokenTree::Group(g)) = (&w[0], &w[1])
            && p.as_char() == '#'
            && g.delimiter() == Delimiter::Bracket
            && let Ok(meta) = syn::parse2::<syn::Meta>(g.stream())
            && meta.path().is_ident("cfg")
            && let syn::Meta::List(list) = &meta
            && let Ok(pred) = list.parse_args::<syn::Meta>()
        {
            return super::collect::cfg_requires(&pred, &["test"]);
        }
    }
    // `pred =>` (cfg_select).
    let before_arrow: TokenStream = tokens
        .iter()
        .take_while(|t| !matches!(t, TokenTree::Punct(p) if p.as_char() == '='))
        .cloned()
        .collect();
    syn::parse2::<syn::Meta>(before_arrow)
        .is_ok_and(|pred| super::collect::cfg_requires(&pred, &["test"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(src: &str) -> syn::Macro {
        match syn::parse_str::<syn::Item>(src).unwrap() {
            syn::Item::Macro(m) => m.mac,
            _ => panic!("not a macro: {src}"),
        }
    }

    fn shape(src: &str) -> Vec<(usize, bool)> {
        branches(&mac(src))
            .iter()
            .map(|b| (b.items.len(), b.test))
            .collect()
    }

    #[test]
    fn cfg_if_and_cfg_select_branches() {
        assert_eq!(
            shape(
                "cfg_if::cfg_if! { if #[cfg(unix)] { static A: u8 = 0; type B = u8; } \
                 else if #[cfg(test)] { static C: u8 = 0; } else { } }"
            ),
            [(2, false), (1, true)]
        );
        assert_eq!(
            shape(
                "cfg_select! { feature = \"full\" => { use a::B; pub type C<T> = B<T>; } \
                 all(test, unix) => { static T: u8 = 0; } _ => {} }"
            ),
            [(2, false), (1, true)]
        );
        assert_eq!(
            shape("pin_project! { pub struct S { a: u8 } }"),
            [(1, false)]
        );
        assert!(shape("impl_thing!(Foo, u8);").is_empty());
        assert!(shape("table! { 1, 2, 3 }").is_empty());
        assert_eq!(
            shape("wrap! { #[cfg(unix)] static A: u8 = 0; }"),
            [(1, false)]
        );
        assert_eq!(shape("wrap! { other::m! { x } }"), [(1, false)]);
        assert_eq!(shape("wrap! { ::m! { x } }"), [(1, false)]);
        assert_eq!(shape("wrap! { unsafe impl Send for A {} }"), [(1, false)]);
        assert!(shape("bitflags! { pub struct F: u32 { const A = 1; } }").is_empty());
    }
}
