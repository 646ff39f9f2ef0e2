//! Per-file facts: everything the later stages need from one source file, collected in a
//! single pass over its syntax tree. The tree is dropped afterwards; rules only read facts.
//!
//! Facts are deliberately richer than today's rules need (functions, calls, uses, attributes):
//! the cross-file call graph and entry-point analysis are built from them.

mod collect;
pub mod lexer;
mod macros;
mod suppress;
pub mod types;

use serde::{Deserialize, Serialize};
pub use types::TypeExpr;

pub use collect::collect;
pub use suppress::{scan_suppressions, suppressions_in};

/// A source range: 1-based lines and columns (columns count characters; `end_column` is
/// exclusive), plus the byte range for snippet rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loc {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub byte_start: u32,
    pub byte_end: u32,
}

impl Loc {
    pub(crate) fn of(span: proc_macro2::Span) -> Loc {
        let (start, end) = (span.start(), span.end());
        let bytes = span.byte_range();
        Loc {
            line: start.line as u32,
            column: start.column as u32 + 1,
            end_line: end.line as u32,
            end_column: end.column as u32 + 1,
            byte_start: bytes.start as u32,
            byte_end: bytes.end as u32,
        }
    }
}

/// How a global is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GlobalKind {
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Global {
    pub name: String,
    pub kind: GlobalKind,
    pub ty: TypeExpr,
    /// The type as written, whitespace-normalised.
    pub ty_text: String,
    /// The item's name.
    pub loc: Loc,
    /// First line of the item including its attributes and doc comments.
    pub start_line: u32,
    /// Enclosing scope within the file: inline modules, impl types and fns, `::`-joined.
    pub scope: String,
    /// Declared under `#[cfg(test)]` or inside a `#[test]` function.
    pub in_test: bool,
}

/// What a user-defined type is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TypeDefKind {
    Struct,
    Enum,
    Union,
    Alias,
}

/// A struct, enum, union or type alias defined in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TypeDef {
    pub name: String,
    pub kind: TypeDefKind,
    /// Generic type parameter names, in order.
    pub params: Vec<String>,
    /// The inline modules it is declared in, outermost first.
    pub modules: Vec<String>,
    /// Field types (all variants for an enum); the aliased type for an alias.
    pub fields: Vec<TypeExpr>,
}

/// A function or method.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FnFact {
    pub name: String,
    /// `Type::method` for methods, the plain name otherwise.
    pub qualified: String,
    pub scope: String,
    pub loc: Loc,
    pub start_line: u32,
    /// The return type, if any, and as written.
    pub ret: Option<TypeExpr>,
    pub ret_text: String,
    /// Paths of the attributes on the fn (`get`, `tokio::main`, `isolate::entry`, ...).
    pub attrs: Vec<String>,
    /// Last segments of every path expression used in the body (sorted, deduplicated).
    pub uses: Vec<String>,
    /// Callees: `a::b` for path calls, `.name` for method calls (sorted, deduplicated).
    pub calls: Vec<String>,
    pub in_test: bool,
}

impl FnFact {
    /// Whether the fn returns `&'static T`.
    pub fn returns_static_ref(&self) -> bool {
        matches!(
            self.ret,
            Some(TypeExpr::Ref {
                is_static: true,
                ..
            })
        )
    }
}

/// An `// isolate: allow(rule, ...) -- reason` comment or `#[isolate::allow]` attribute.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suppression {
    pub loc: Loc,
    /// A comment after code on its line: it covers that line only.
    pub trailing: bool,
    /// The first line after the comment that is not itself a `//` comment line: the comment
    /// reaches an item that starts on or before it.
    pub reach: u32,
    pub rules: Vec<String>,
    pub reason: Option<String>,
}

/// Everything the linter knows about one file after parsing it.
#[derive(Debug, Default, Clone)]
pub struct FileFacts {
    pub globals: Vec<Global>,
    pub types: Vec<TypeDef>,
    pub fns: Vec<FnFact>,
    pub suppressions: Vec<Suppression>,
    /// Names of the inline and out-of-line modules declared in the file (`mod a;`, `mod b {}`).
    pub modules: Vec<String>,
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
