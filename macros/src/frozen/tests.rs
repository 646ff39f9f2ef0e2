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

#[test]
fn fields_naming_the_type_are_asserted_not_bounded() {
    let input: DeriveInput = parse_quote! {
        enum Tree<T> {
            Node(Vec<Tree<T>>),
            Boxed(Option<Box<Self>>),
            Leaf(T),
        }
    };
    let tokens = super::derive(input).expect("valid").to_string();
    assert!(tokens.contains("T : :: isolate :: Frozen"), "{tokens}");
    assert!(
        !tokens.contains("Vec < Tree < T > > : :: isolate"),
        "{tokens}"
    );
    assert!(
        tokens.contains("assert_frozen :: < Vec < Tree < T > > >"),
        "{tokens}"
    );
    assert!(
        tokens.contains("assert_frozen :: < Option < Box < Tree < T > > > >"),
        "{tokens}"
    );
}

#[test]
fn marked_fields_are_asserted_and_unknown_marks_refused() {
    let input: DeriveInput = parse_quote! {
        struct Menu<T> {
            #[isolate(recursive)]
            items: Vec<Item<T>>,
            label: T,
        }
    };
    let tokens = super::derive(input).expect("valid").to_string();
    assert!(
        !tokens.contains("Vec < Item < T > > : :: isolate"),
        "{tokens}"
    );
    assert!(
        tokens.contains("assert_frozen :: < Vec < Item < T > > >"),
        "{tokens}"
    );
    let input: DeriveInput = parse_quote! {
        struct Menu {
            #[isolate(shared)]
            items: Vec<u8>,
        }
    };
    let error = super::derive(input).expect_err("`shared` is not a Frozen field mark");
    assert!(
        error.to_string().contains("expected `recursive`"),
        "{error}"
    );
}
