//! Parse and validate on token input: each rule reports its error on the offending tokens.

use syn::{DeriveInput, parse_quote};

fn error_of(input: DeriveInput) -> String {
    match super::derive(input) {
        Ok(_) => String::from("<expanded>"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_complete_struct_expands_to_its_factory() {
    let input: DeriveInput = parse_quote! {
        struct Engine<'r> {
            #[isolate(shared)] config: &'r Config,
            #[isolate(context)] ctx: &'r RequestContext,
            runs: Vec<String>,
            _seal: Sealed<'r>,
        }
    };
    let tokens = super::derive(input).expect("valid input").to_string();
    assert!(tokens.contains("struct EngineFactory"));
    assert!(tokens.contains("fn create"));
    assert!(tokens.contains("config : Config"), "{tokens}");
}

#[test]
fn each_rule_is_reported() {
    assert!(
        error_of(parse_quote!(
            struct Engine {
                _seal: Sealed<'static>,
            }
        ))
        .contains("needs the request lifetime")
    );
    assert!(
        error_of(parse_quote!(
            struct Engine<'r, T> {
                _seal: Sealed<'r>,
                t: T,
            }
        ))
        .contains("only the request lifetime")
    );
    assert!(
        error_of(parse_quote!(
            struct Engine<'r> {
                runs: Vec<&'r str>,
            }
        ))
        .contains("needs a `_seal")
    );
    assert!(
        error_of(parse_quote!(
            struct Engine<'r>(Sealed<'r>);
        ))
        .contains("named fields")
    );
    assert!(
        error_of(parse_quote!(
            enum Engine<'r> {
                A(Sealed<'r>),
            }
        ))
        .contains("only be derived for a struct")
    );
    assert!(
        error_of(parse_quote!(
            struct Engine<'r> {
                #[isolate(context)]
                ctx: RequestContext,
                _seal: Sealed<'r>,
            }
        ))
        .contains("must be `&'r RequestContext`")
    );
    assert!(
        error_of(parse_quote!(
            struct Engine<'r> {
                #[isolate(shared)]
                name: &'r str,
                _seal: Sealed<'r>,
            }
        ))
        .contains("Arc<str>")
    );
    assert!(
        error_of(parse_quote!(
            struct Engine<'r> {
                #[isolate(shared)]
                v: Vec<&'r str>,
                _seal: Sealed<'r>,
            }
        ))
        .contains("cannot borrow from the request")
    );
    assert!(
        error_of(parse_quote!(
            struct Engine<'r> {
                #[isolate(shared, fresh)]
                v: u8,
                _seal: Sealed<'r>,
            }
        ))
        .contains("exactly one role")
    );
    assert!(
        error_of(parse_quote!(
            struct Engine<'r> {
                #[isolate(shared)]
                _seal: Sealed<'r>,
            }
        ))
        .contains("takes no `isolate` attribute")
    );
}

#[test]
fn request_values_are_never_shared_and_name_their_role() {
    let error = error_of(parse_quote! {
        struct Engine<'r> {
            #[isolate(shared)]
            events: &'r isolate::EventEmitter,
            _seal: Sealed<'r>,
        }
    });
    assert!(error.contains("#[isolate(emitter)]"), "{error}");
    let error = error_of(parse_quote! {
        struct Engine<'r> {
            #[isolate(shared)]
            ctx: &'r RequestContext,
            _seal: Sealed<'r>,
        }
    });
    assert!(error.contains("#[isolate(context)]"), "{error}");
}

#[test]
fn static_borrows_in_fresh_fields_and_shared_trait_objects_are_asserted() {
    let input: DeriveInput = parse_quote! {
        struct Engine<'r> {
            #[isolate(fresh = &RUNS)]
            runs: Option<&'static Mutex<Vec<String>>>,
            #[isolate(fresh = "label")]
            label: &'r str,
            #[isolate(shared)]
            store: Arc<dyn Store>,
            _seal: Sealed<'r>,
        }
    };
    let tokens = super::derive(input).expect("valid input").to_string();
    assert!(
        tokens.contains("assert_static_borrow_frozen :: < Mutex < Vec < String > > >"),
        "{tokens}"
    );
    assert!(
        !tokens.contains("assert_static_borrow_frozen :: < str >"),
        "{tokens}"
    );
    assert!(
        tokens.contains("assert_trait_object_frozen :: < dyn Store >"),
        "{tokens}"
    );
    assert!(
        tokens.contains("assert_frozen :: < Arc < :: isolate :: __private :: TraitObject > >"),
        "{tokens}"
    );
}
