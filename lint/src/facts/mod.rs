//! Per-file facts: everything the later stages need from one source file, collected in a
//! single pass over its syntax tree. The tree is dropped afterwards; rules only read facts.
//!
//! Paths are kept as written, with the module they were written in, and resolved later across
//! files by [`crate::resolve`]: the facts of one file never depend on another file, so an
//! editor's change to one file re-collects that file alone.

mod collect;
mod init;
pub(crate) mod lexer;
mod macro_items;
mod macros;
mod routes;
pub(crate) mod types;

use crate::diagnostic::Loc;
use crate::suppress::Suppression;
pub(crate) use types::TypeExpr;

pub(crate) use collect::{collect, path_string};
pub(crate) use routes::call_kind as routing_call_kind;

/// A path as written, `::`-joined in one allocation (`crate::api::State`): the facts of a large
/// workspace hold millions of them (every path and call in every function body).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PathText(Box<str>);

impl PathText {
    pub fn new(segments: impl Iterator<Item = impl std::fmt::Display>) -> Self {
        use std::fmt::Write as _;
        let mut out = String::with_capacity(24);
        for (i, s) in segments.enumerate() {
            if i > 0 {
                out.push_str("::");
            }
            let _ = write!(out, "{s}");
        }
        PathText(out.into_boxed_str())
    }

    /// The path's segments.
    pub fn segments(&self) -> Vec<String> {
        self.0.split("::").map(String::from).collect()
    }

    /// The last segment.
    pub fn last(&self) -> &str {
        self.0.rsplit("::").next().unwrap_or_default()
    }

    /// The path as written, `::`-joined.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Index of a module within its file's [`FileFacts::modules`] (0 = the file itself).
pub(crate) type LocalModule = u32;

/// How a module's items are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModuleKind {
    /// The file itself.
    File,
    /// `mod x { ... }`.
    Inline,
    /// `mod x;`: its items are in another file, found by the module tree.
    OutOfLine,
}

/// A module declared in the file (and the file's own top level, at index 0).
#[derive(Debug, Clone)]
pub(crate) struct ModuleFact {
    pub name: String,
    pub parent: Option<LocalModule>,
    pub kind: ModuleKind,
    /// `#[path = "..."]` on the declaration.
    pub path_attr: Option<String>,
    /// Declared under `#[cfg(test)]` (on itself or an enclosing module): its items, and the
    /// file of an out-of-line module, are test code.
    pub in_test: bool,
    /// Declared under `#[cfg(any(test, feature = ".."))]` (on itself or an enclosing module):
    /// test code unless one of these features is enabled in a production build, which only the
    /// project model can tell (see `project/testonly.rs`).
    pub test_features: Option<TestFeatures>,
}

impl ModuleFact {
    /// A file's own top level: module 0 of every file's facts.
    pub const FILE: ModuleFact = ModuleFact {
        name: String::new(),
        parent: None,
        kind: ModuleKind::File,
        path_attr: None,
        in_test: false,
        test_features: None,
    };
}

/// The features of a `#[cfg(any(test, feature = "a", feature = "b"))]` gate.
pub(crate) type TestFeatures = Box<[Box<str>]>;

/// One binding made by a `use` item (or `extern crate`).
#[derive(Debug, Clone)]
pub(crate) struct UseFact {
    pub module: LocalModule,
    /// The name it binds; `None` for a glob (`use a::*`).
    pub alias: Option<String>,
    /// The path it names (the glob's module for a glob).
    pub path: PathText,
    /// `pub use`: a re-export (visibility is otherwise ignored: the linter over-approximates).
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "kept for the call graph's re-export chains (the execution-path issue)"
        )
    )]
    pub is_pub: bool,
}

/// How a global is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GlobalKind {
    /// `static NAME: T`.
    Static,
    /// `static mut NAME: T`.
    StaticMut,
    /// `static ref NAME: T` inside `lazy_static!`: lazily initialised by construction.
    LazyStatic,
    /// `static NAME: T` inside `thread_local!`.
    ThreadLocal,
}

/// One global item.
#[derive(Debug, Clone)]
pub(crate) struct Global {
    pub name: String,
    pub kind: GlobalKind,
    pub ty: TypeExpr,
    /// The type, printed normalised.
    pub ty_text: String,
    /// The item's name.
    pub loc: Loc,
    /// First line of the item including its attributes and doc comments.
    pub start_line: u32,
    /// For an item inside `thread_local!`/`lazy_static!`: the first line of the macro call
    /// (a suppression above the call covers every item in it).
    pub macro_start: Option<u32>,
    pub module: LocalModule,
    /// Declared under `#[cfg(test)]` or inside a `#[test]` function.
    pub in_test: bool,
    /// `#[no_mangle]`, `#[export_name]` or `#[used]`: handed to foreign code (a C plugin's
    /// descriptor).
    pub exported: bool,
    /// Declared under `#[cfg(any(test, feature = ".."))]` (see [`ModuleFact::test_features`]).
    pub test_features: Option<TestFeatures>,
    /// What the initialiser builds, when it says (`LazyLock::new(|| Mutex::new(Vec::new()))`
    /// is `LazyLock<Mutex<Vec<_>>>`): classifies a global whose declared type cannot be.
    pub init: Option<TypeExpr>,
}

/// What a user-defined type is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeDefKind {
    Struct,
    Enum,
    Union,
    Alias,
}

/// A struct, enum, union or type alias defined in the file.
#[derive(Debug, Clone)]
pub(crate) struct TypeDef {
    pub name: String,
    pub kind: TypeDefKind,
    /// Generic type parameter names, in order.
    pub params: Vec<String>,
    pub module: LocalModule,
    /// Field types (all variants for an enum); the aliased type for an alias.
    pub fields: Vec<TypeExpr>,
    /// Where the type's name is: (line, column), 1-based.
    pub pos: (u32, u32),
    /// The fields' names, in the order of `fields`, one allocation for all (see
    /// [`TypeDef::field_name`]).
    field_names: Box<str>,
    /// Where each field is (its name, or its type for a tuple field): (line, column).
    pub field_pos: Box<[(u32, u32)]>,
}

impl TypeDef {
    /// A definition; `names` are the fields' names (in the order of `fields`).
    pub fn new(
        name: String,
        kind: TypeDefKind,
        params: Vec<String>,
        module: LocalModule,
        pos: (u32, u32),
        fields: Vec<(String, (u32, u32), TypeExpr)>,
    ) -> Self {
        let mut names = String::new();
        let mut field_pos = Vec::with_capacity(fields.len());
        let mut types = Vec::with_capacity(fields.len());
        for (i, (n, p, t)) in fields.into_iter().enumerate() {
            if i > 0 {
                names.push('\n');
            }
            names.push_str(&n);
            field_pos.push(p);
            types.push(t);
        }
        TypeDef {
            name,
            kind,
            params,
            module,
            fields: types,
            pos,
            field_names: names.into_boxed_str(),
            field_pos: field_pos.into_boxed_slice(),
        }
    }

    /// The name of field `i` as messages show it: `sessions`, `0` for a tuple field,
    /// `Variant.name` / `Variant.0` in an enum; empty for an alias.
    pub fn field_name(&self, i: usize) -> &str {
        self.field_names.split('\n').nth(i).unwrap_or_default()
    }

    /// Where field `i` is declared: its name, or for a tuple field the start of its type (one
    /// character wide). Lines and columns only, as [`Loc::lines_of`] gives.
    pub fn field_loc(&self, i: usize) -> Option<Loc> {
        let &(line, column) = self.field_pos.get(i)?;
        let name = self.field_name(i);
        let own = name.rsplit('.').next().unwrap_or(name);
        let width = if own.bytes().all(|b| b.is_ascii_digit()) {
            1
        } else {
            own.chars().count() as u32
        };
        Some(Loc::on_line(line, column, width))
    }
}

/// A call in a function body, kept as written for the call graph to resolve.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Callee {
    /// `a::b::f(..)`, `Type::new(..)`, `Self::f(..)`.
    Path(PathText),
    /// `x.method(..)`, with what the syntax says about the receiver's type.
    Method { name: Box<str>, recv: Recv },
}

/// What the syntax says about the type of a method call's receiver.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Recv {
    /// Nothing: the call may reach every method of that name.
    Any,
    /// The receiver is a value of `ty` (`Self` for `self`), or its field `field`: `self.m()`,
    /// `self.engine.m()`, `e.m()` after `let e = Engine::new()` or with `e: &Engine`,
    /// `state.engine.m()` with `State(state): State<AppState>`.
    Typed {
        ty: PathText,
        field: Option<Box<str>>,
    },
}

/// A handler handed to a routing call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Handler {
    /// A path to a function, as written (`api::create`, `start_run::<Backend>` without the
    /// turbofish).
    Path(PathText),
    /// A closure, collected as its own function: `facts.fns[i]`.
    Closure(u32),
    /// The enclosing function's parameter at this index: the function wraps a routing call
    /// (`fn get_internal<H: Handler>(h: H) -> MethodRouter { get(h).layer(..) }`).
    Param(u32),
}

/// How a handler was handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteKind {
    /// A routing function: axum `get(h)` (and the other methods, `any`, `on`), actix
    /// `web::get()`, or a function whose name suggests it wraps one (`get_internal(h)`);
    /// resolved later to tell a real one from the scanned code's own `get`.
    Call,
    /// A method on a routing chain: `get(a).post(h)`, `web::get().to(h)`,
    /// `web::resource("/").to(h)`.
    Chain,
    /// `tower::service_fn(h)`, `fn_service(h)`, `.route_service(p, h)`, `.fallback(h)`.
    Service,
    /// Middleware: `middleware::from_fn(h)`, `from_fn_with_state(s, h)`, `map_request(h)`,
    /// actix `.wrap_fn(h)`.
    Middleware,
    /// A handler given its state: `h.with_state(s)`.
    WithState,
    /// A list macro: rocket `routes![a, b]`, `catchers![..]`, utoipa `routes!(a, b)`.
    List,
}

/// A handler handed to something that serves requests, in the body of `facts.fns[in_fn]`.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub in_fn: u32,
    pub kind: RouteKind,
    /// The routing call as written: the function (`post`, `web::get`, `service_fn`), the root of
    /// a chain (`get` for `get(a).post(h)`), the macro (`routes`).
    pub via: PathText,
    /// The method of a chain or a method form (`post`, `to`, `with_state`); empty otherwise.
    pub method: Box<str>,
    pub handler: Handler,
    /// The handler's position among the call's arguments.
    pub arg: u32,
    pub line: u32,
    pub column: u32,
}

/// How a value was made the application's shared state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateKind {
    /// axum `Router::with_state(s)` (or a handler's `.with_state(s)`).
    WithState,
    /// axum `.layer(Extension(s))`.
    Extension,
    /// actix `web::Data::new(s)` / `Data::from(arc)`.
    Data,
    /// actix `App::app_data(s)`.
    AppData,
    /// rocket `.manage(s)`.
    Manage,
    /// An `Arc<S>` (or `Box`, `Rc`) captured by a handler closure.
    Captured,
}

/// A value registered as shared application state, with its type as far as the syntax says.
#[derive(Debug, Clone)]
pub(crate) struct StateReg {
    pub in_fn: u32,
    pub kind: StateKind,
    /// The state's type, as written in the function's module (`AppState`, `state::Shared`).
    pub ty: PathText,
    pub line: u32,
    pub column: u32,
}

/// A function parameter that extracts shared state: `State(s): State<AppState>`,
/// `data: web::Data<AppState>`, `Extension(st): Extension<Storage>`, `st: &State<T>`.
#[derive(Debug, Clone)]
pub(crate) struct Extract {
    pub in_fn: u32,
    /// The extracted type as written (`AppState`).
    pub ty: PathText,
}

/// One distinct callee of a function, at its first call site (1-based line and column).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub callee: Callee,
    pub line: u32,
    pub column: u32,
}

/// An `impl` block, or a trait's own block of default methods.
#[derive(Debug, Clone)]
pub(crate) struct ImplFact {
    /// The self type, as written (`None` for a trait block or a non-path type).
    pub self_ty: Option<PathText>,
    /// The trait of `impl Trait for Type`, or the trait whose default methods these are.
    pub trait_path: Option<PathText>,
    /// A trait's own block, not an `impl`.
    pub is_trait: bool,
    /// Paths of the block's attributes (`tonic::async_trait`, `graphql_object`).
    pub attrs: Vec<String>,
}

/// A function or method.
#[derive(Debug, Clone)]
pub(crate) struct FnFact {
    pub name: Box<str>,
    pub module: LocalModule,
    /// The block it is a method of: an index into [`FileFacts::impls`].
    pub owner: Option<u32>,
    pub loc: Loc,
    #[allow(
        dead_code,
        reason = "for suppressions on functions (the call-graph rules of issue 7)"
    )]
    pub start_line: u32,
    /// The return type when it is `&'static T`, `Option<&'static T>` or `Result<&'static T,
    /// E>` (the only returns a rule reads), boxed: most functions have none, and the facts
    /// hold every function of the workspace.
    pub static_ret: Option<Box<StaticRet>>,
    /// Paths of the attributes on the fn (`get`, `tokio::main`, `isolate::entry`, ...), doc
    /// comments left out.
    pub attrs: Box<[Box<str>]>,
    /// Every path expression used in the body, as written, except the fn's own local bindings
    /// (sorted, deduplicated).
    pub uses: Box<[PathText]>,
    /// Each distinct callee at its first call site (sorted by callee), including calls written
    /// inside macro calls (`format!`, `tokio::select!`, `info!`).
    pub calls: Box<[Call]>,
    pub in_test: bool,
    /// For a closure handed to a routing call (collected as its own function): the function
    /// whose body holds it. Its name is `{closure}`.
    pub closure_of: Option<u32>,
    /// A method of a trait impl shaped like a gRPC service method: a `Request<..>` parameter
    /// and a return type naming `Response` or `Status`.
    pub grpc_shaped: bool,
}

impl FnFact {
    /// `Type::method` for methods (`_::method` when the self type is not a path), the plain name
    /// for free functions and trait default methods, `parent::{closure}` for a closure.
    pub fn qualified(&self, facts: &FileFacts) -> String {
        if let Some(parent) = self.closure_of.and_then(|i| facts.fns.get(i as usize)) {
            return format!("{}::{{closure}}", parent.qualified(facts));
        }
        match self.owner.and_then(|i| facts.impls.get(i as usize)) {
            Some(ImplFact {
                self_ty: Some(ty), ..
            }) => format!("{}::{}", ty.last(), self.name),
            Some(ImplFact {
                is_trait: false, ..
            }) => format!("_::{}", self.name),
            _ => self.name.to_string(),
        }
    }

    /// Whether the fn returns `&'static T`, `Option<&'static T>` or `Result<&'static T, E>`.
    pub fn returns_static_ref(&self) -> bool {
        self.static_ret.is_some()
    }

    /// The return type holding the `&'static T`, printed normalised (empty for other fns).
    pub fn ret_text(&self) -> &str {
        self.static_ret.as_ref().map_or("", |r| r.text.as_str())
    }
}

/// A return type holding a `&'static T`.
#[derive(Debug, Clone)]
pub(crate) struct StaticRet {
    /// The `&'static T` itself (unwrapped from an `Option`/`Result`).
    #[expect(dead_code, reason = "accessors of a type (the execution-path issue)")]
    pub ty: TypeExpr,
    /// The whole return type, printed normalised.
    pub text: String,
}

/// Everything the linter knows about one file after parsing it.
#[derive(Debug, Default, Clone)]
pub(crate) struct FileFacts {
    /// The file's top level (index 0), then every `mod` it declares, in order.
    pub modules: Vec<ModuleFact>,
    pub uses: Vec<UseFact>,
    /// `impl` blocks and trait blocks, which methods point into.
    pub impls: Vec<ImplFact>,
    pub globals: Vec<Global>,
    pub types: Vec<TypeDef>,
    pub fns: Vec<FnFact>,
    pub suppressions: Vec<Suppression>,
    /// Handlers handed to routing calls, in any function.
    pub registrations: Vec<Registration>,
    /// Values registered as shared application state.
    pub states: Vec<StateReg>,
    /// Parameters that extract shared state.
    pub extracts: Vec<Extract>,
    /// Line ranges (inclusive) of test-only items: `#[cfg(test)]` modules, `#[test]` fns.
    pub test_ranges: Vec<(u32, u32)>,
}

impl FileFacts {
    /// Whether `line` lies inside test-only code.
    pub fn in_test_code(&self, line: u32) -> bool {
        self.test_ranges
            .iter()
            .any(|&(a, b)| a <= line && line <= b)
    }
}
