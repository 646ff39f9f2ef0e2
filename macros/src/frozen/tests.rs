//! Generic fields become bounds, concrete fields become spanned assertions, unions are refused.

use syn::{DeriveInput, parse_quote};

#[test]
fn generic_fields_are_bounded_and_concrete_fields_asserted() {
    let input: DeriveInput = parse_quote! {
        struct Catalog<T: Clone> where T: Send {
            entries: Vec<T>,
            name: String,
        }
    };
    let tokens = super::derive(input).expect("valid").to_string();
    assert!(
        tokens.contains("Vec < T > : :: isolate :: Frozen"),
        "{tokens}"
    );
    assert!(tokens.contains("T : Send"), "{tokens}");
    assert!(tokens.contains("assert_frozen :: < String >"), "{tokens}");
    assert!(
        !tokens.contains("assert_frozen :: < Vec < T > >"),
        "{tokens}"
    );
}

#[test]
fn unions_are_refused() {
    let input: DeriveInput = parse_quote!(
        union Bits {
            a: u32,
            b: f32,
        }
    );
    let error = super::derive(input).expect_err("unions cannot be checked");
    assert!(error.to_string().contains("union"));
}
