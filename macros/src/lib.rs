//! Derives and attributes for the `isolate` runtime. Use them through the `isolate` crate,
//! which re-exports everything here and documents it with examples.
//!
//! Each macro is split into `parse` (tokens to a model), `validate` (rules the model must
//! follow) and `expand` (model to tokens). Every error is a `syn::Error` spanned on the
//! user's tokens; nothing here panics on user input.

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

mod allow;
mod entry;
mod frozen;
mod frozen_check;
mod scoped;
mod types;

/// Implements `isolate::Frozen` after checking that every field is `Frozen`.
///
/// A field that is not gets a compile error on its type, with a message that says why
/// (interior mutability, a request's identity, a trait object without the `Frozen`
/// supertrait, a type without the derive) and what to do instead. Fields whose type uses a
/// generic parameter become `where Field<T>: Frozen` bounds; all other fields are asserted
/// where the type is defined. Unions are rejected. The generated impl is `unsafe impl`,
/// justified by those checks; it carries the macro's span, so the derive also works in a crate
/// with `#![forbid(unsafe_code)]`.
///
/// Recursive types are accepted: a field that names the type (`Option<Box<Self>>`,
/// `Vec<Tree<T>>`) is asserted under the impl's other bounds instead of becoming a bound
/// itself. Recursion through another generic type (`A<T>` holds `B<T>`, which holds `A<T>`)
/// cannot be seen from one type's tokens: mark that field `#[isolate(recursive)]`. Function
/// pointers (higher-ranked ones such as `fn(&str) -> bool` too) and tuples of any length are
/// accepted where they are written out in a field's type.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Arc;
/// use isolate::Frozen;
///
/// #[derive(Frozen)]
/// enum Backend {
///     Local { root: std::path::PathBuf },
///     Remote(String),
/// }
///
/// #[derive(Frozen)]
/// struct Catalog<T> {
///     entries: HashMap<String, Arc<T>>,
///     backend: Backend,
///     validate: fn(&str) -> bool,
/// }
///
/// #[derive(Frozen)]
/// enum Tree<T> {
///     Node(Vec<Tree<T>>),
///     Leaf(T),
/// }
///
/// #[derive(Frozen)]
/// struct Menu<T> {
///     #[isolate(recursive)] // reaches `Menu<T>` again through `Item<T>`
///     items: Vec<Item<T>>,
///     label: T,
/// }
///
/// #[derive(Frozen)]
/// struct Item<T> {
///     submenu: Option<Box<Menu<T>>>,
/// }
///
/// fn frozen<T: Frozen>() {}
/// frozen::<Catalog<u64>>();
/// frozen::<Tree<String>>();
/// frozen::<Menu<String>>();
/// ```
///
/// ```compile_fail
/// use isolate::Frozen;
///
/// #[derive(Frozen)]
/// struct Stats {
///     hits: std::sync::atomic::AtomicU64, // error: `AtomicU64` is not `Frozen`
/// }
/// ```
#[proc_macro_derive(Frozen, attributes(isolate))]
pub fn derive_frozen(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    frozen::derive(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Generates the per-request factory of a struct with a request lifetime.
///
/// The struct (`struct Engine<'r>`, exactly one lifetime, no type parameters) must have a
/// field of type `isolate::Sealed<'r>` (by convention `_seal`): only the factory can make one,
/// so a struct literal elsewhere does not compile. Each other field says where its value
/// comes from with `#[isolate(...)]`:
///
/// | attribute | field type | value in `create` |
/// |---|---|---|
/// | `shared` | `&'r T` or `T: Clone` | kept by the factory; lent (`&'r T`) or cloned. `T` must be `Frozen + Send + Sync + 'static` |
/// | `context` | `&'r RequestContext` | `scope.context()` |
/// | `emitter` | `&'r EventEmitter` | `scope.emitter()` |
/// | `cancellation` | `&'r CancellationToken` | `scope.cancellation()` |
/// | `scope` | `&'r RequestScope` | the scope itself |
/// | none, or `fresh` | any `Default` | `Default::default()`, new for every request |
/// | `fresh = expr` | any | `expr`, evaluated for every request; `scope` is in scope |
///
/// A shared field can be neither one of the request's own values (`RequestContext`,
/// `EventEmitter`, `CancellationToken`, `RequestScope`: the error names the role to use) nor
/// hold a request's identity (`UserId`, `RunId`, ... at any depth: they are not `Frozen`; ids
/// that are configuration go in `isolate::Configured`). A fresh field may borrow for
/// `'static` only what is `Frozen` (`&'static str` is fine, `&'static Mutex<..>` is the
/// singleton again).
///
/// `#[isolate(factory = Name)]` on the struct names the factory (default: `EngineFactory`
/// for `Engine`). The factory gets `new(shared fields in order)` and
/// `create<'r>(&'r self, scope: &'r RequestScope) -> Engine<'r>`; it is `Frozen`, `Send`,
/// `Sync`, `'static` and `Debug` (without its fields), so it can live in application state,
/// while the product borrows the request and so cannot be stored in a `static`, a
/// `thread_local!`, returned from `Runtime::run`, or moved into `tokio::spawn` /
/// `std::thread::spawn`. The generated code needs no `unsafe` of the user's crate: the derive
/// works under `#![forbid(unsafe_code)]` and strict lint sets (`clippy::pedantic`,
/// `clippy::nursery`, `missing_docs`, `unreachable_pub`, `unused_qualifications`).
///
/// ```
/// use std::collections::HashMap;
/// use isolate::{EventEmitter, Frozen, RequestContext, RequestScope, RequestScoped, RunId, Sealed};
/// # use isolate::{Authority, ThreadId, UserId};
///
/// #[derive(Frozen)]
/// struct AgentConfig {
///     model: String,
/// }
///
/// #[derive(RequestScoped)]
/// struct AgentEngine<'r> {
///     #[isolate(shared)]
///     config: &'r AgentConfig,
///     #[isolate(context)]
///     ctx: &'r RequestContext,
///     #[isolate(emitter)]
///     events: &'r EventEmitter,
///     active_runs: HashMap<RunId, String>,
///     #[isolate(fresh = Vec::with_capacity(4))]
///     run_history: Vec<String>,
///     _seal: Sealed<'r>,
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let factory = AgentEngineFactory::new(AgentConfig { model: "small".into() });
/// # let ctx = RequestContext::builder(Authority::new().vouch(UserId::new("alice")?), ThreadId::new("t-1")?, RunId::new("r-1")?).build()?;
/// // The scope is normally lent by `Runtime::run`; `RequestScope::with` lends one too.
/// RequestScope::with(ctx, |scope| {
///     let mut engine = factory.create(scope);
///     engine.active_runs.insert(engine.ctx.run_id().clone(), engine.config.model.clone());
///     assert_eq!(engine.events.emitted(), 0); // events: `engine.events.emit(my_event)`
///     assert!(factory.create(scope).active_runs.is_empty()); // every instance starts fresh
/// });
/// # Ok(())
/// # }
/// ```
///
/// An instance cannot outlive its request:
///
/// ```compile_fail
/// # use isolate::{RequestScope, RequestScoped, Sealed};
/// #[derive(RequestScoped)]
/// struct Engine<'r> {
///     runs: Vec<String>,
///     _seal: Sealed<'r>,
/// }
///
/// fn handle(factory: &EngineFactory, scope: &RequestScope) {
///     let engine = factory.create(scope);
///     std::thread::spawn(move || drop(engine)); // error: borrowed data escapes
/// }
/// ```
#[proc_macro_derive(RequestScoped, attributes(isolate))]
pub fn derive_request_scoped(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    scoped::derive(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Marks a request entry point for `cargo isolate`. Returns the function unchanged.
///
/// Takes no arguments and only goes on functions and methods.
///
/// ```
/// #[isolate::entry]
/// async fn start_run(prompt: String) -> usize {
///     prompt.len()
/// }
/// # drop(start_run(String::new()));
/// ```
#[proc_macro_attribute]
pub fn entry(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::attribute(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A reviewed suppression of `cargo isolate` rules:
/// `#[isolate::allow(rule_id, .., reason = "...")]`.
///
/// Checks the syntax - one or more rule ids, each bare or written `isolate::rule_id` as the
/// linter prints it, then a non-empty `reason` string - and returns the item unchanged; the
/// linter reads it like an `// isolate: allow(rule_id) -- reason` comment (and reports rule ids
/// it does not know). `cargo isolate rules` lists the ids.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// #[isolate::allow(interior_mutable_static, reason = "process-wide request counter for /metrics; holds no user data")]
/// static REQUESTS: AtomicU64 = AtomicU64::new(0);
/// # REQUESTS.fetch_add(1, Ordering::Relaxed);
/// # assert_eq!(REQUESTS.load(Ordering::Relaxed), 1);
/// ```
///
/// ```compile_fail
/// # use std::sync::atomic::AtomicU64;
/// #[isolate::allow(interior_mutable_static)] // error: needs a reason
/// static REQUESTS: AtomicU64 = AtomicU64::new(0);
/// ```
#[proc_macro_attribute]
pub fn allow(args: TokenStream, item: TokenStream) -> TokenStream {
    allow::attribute(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
