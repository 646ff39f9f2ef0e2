//! The single syntax-tree pass that turns a parsed file into [`FileFacts`].

use std::collections::{BTreeSet, HashMap};

use syn::spanned::Spanned;
use syn::visit::{self, Visit};

use super::macros::{MacroStatic, parse_lazy_static, parse_thread_local};
use super::types::{TypeExpr, from_syn};
use super::{FileFacts, FnFact, Global, GlobalKind, Loc, Suppression, TypeDef, TypeDefKind};

/// Collects the facts of one parsed file. `source` is the text the file was parsed from (for
/// type snippets).
pub fn collect(file: &syn::File, source: &str) -> FileFacts {
    let mut c = Collector {
        source,
        facts: FileFacts::default(),
        imports: HashMap::new(),
        scope: Vec::new(),
        test_depth: 0,
        fn_stack: Vec::new(),
        module_stack: Vec::new(),
    };
    c.visit_file(file);
    let Collector {
        mut facts, imports, ..
    } = c;
    let mut resolve = |segments: &mut Vec<String>| resolve_import(&imports, segments);
    for g in &mut facts.globals {
        g.ty.for_each_path_mut(&mut resolve);
    }
    for t in &mut facts.types {
        t.fields
            .iter_mut()
            .for_each(|f| f.for_each_path_mut(&mut resolve));
    }
    for f in &mut facts.fns {
        if let Some(ret) = &mut f.ret {
            ret.for_each_path_mut(&mut resolve);
        }
    }
    facts
}

/// Replaces an imported leading segment with the path it was imported from
/// (`M` -> `std::sync::Mutex` after `use std::sync::Mutex as M`).
fn resolve_import(imports: &HashMap<String, Vec<String>>, segments: &mut Vec<String>) {
    let relative = segments
        .iter()
        .take_while(|s| matches!(s.as_str(), "crate" | "self" | "super"))
        .count();
    if relative > 0 {
        // `super::super::Name` naming an import of this file (imports are file-wide here).
        if let [name] = &segments[relative..]
            && let Some(full) = imports.get(name)
        {
            *segments = full.clone();
        }
        return;
    }
    if let Some(full) = segments.first().and_then(|first| imports.get(first)) {
        let mut resolved = full.clone();
        resolved.extend(segments.drain(1..));
        *segments = resolved;
    }
}

struct FnFrame {
    uses: BTreeSet<String>,
    calls: BTreeSet<String>,
}

struct Collector<'s> {
    source: &'s str,
    facts: FileFacts,
    /// Local name -> full path, from every `use` in the file (scoping is ignored: collisions
    /// between modules of one file are rare and only affect type names).
    imports: HashMap<String, Vec<String>>,
    scope: Vec<String>,
    test_depth: usize,
    fn_stack: Vec<FnFrame>,
    module_stack: Vec<String>,
}

impl Collector<'_> {
    fn in_test(&self) -> bool {
        self.test_depth > 0
    }

    fn scope_string(&self) -> String {
        self.scope.join("::")
    }

    fn type_text(&self, ty: &syn::Type) -> String {
        let range = ty.span().byte_range();
        let raw = self.source.get(range).unwrap_or_default();
        let mut out = String::with_capacity(raw.len());
        for word in raw.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        out
    }

    fn push_global(
        &mut self,
        name: &syn::Ident,
        kind: GlobalKind,
        ty: &syn::Type,
        start: proc_macro2::Span,
        attrs: &[syn::Attribute],
    ) {
        let in_test = self.in_test() || attrs.iter().any(is_test_attr);
        self.push_attr_suppressions(attrs);
        self.facts.globals.push(Global {
            name: name.to_string(),
            kind,
            ty: from_syn(ty),
            ty_text: self.type_text(ty),
            loc: Loc::of(name.span()),
            start_line: start_line(attrs, start),
            scope: self.scope_string(),
            in_test,
        });
    }

    fn push_macro_static(&mut self, item: &MacroStatic, kind: GlobalKind) {
        self.push_global(&item.name, kind, &item.ty, item.start, &item.attrs);
    }

    /// `#[isolate::allow(rule, ..., reason = "...")]`: the attribute form of a suppression.
    /// It sits between the item's first line and its name, so it covers that item.
    fn push_attr_suppressions(&mut self, attrs: &[syn::Attribute]) {
        for attr in attrs {
            let segs: Vec<_> = attr
                .path()
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            if segs != ["isolate", "allow"] {
                continue;
            }
            let Ok(items) = attr.parse_args_with(
                syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
            ) else {
                continue;
            };
            let mut rules = Vec::new();
            let mut reason = None;
            for meta in items {
                match meta {
                    syn::Meta::Path(p) => rules.push(path_string(&p)),
                    syn::Meta::NameValue(nv) if nv.path.is_ident("reason") => {
                        if let syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) = &nv.value
                        {
                            reason = Some(s.value()).filter(|r| !r.trim().is_empty());
                        }
                    }
                    _ => {}
                }
            }
            self.facts.suppressions.push(Suppression {
                loc: Loc::of(attr.span()),
                trailing: false,
                reach: attr.span().end().line as u32 + 1,
                rules,
                reason,
            });
        }
    }

    /// Runs `f` with the test depth raised if `attrs` mark test code; `end` is the item's last
    /// token (its range is recorded as test code).
    fn with_test_attrs(
        &mut self,
        attrs: &[syn::Attribute],
        end: proc_macro2::Span,
        f: impl FnOnce(&mut Self),
    ) {
        let test = attrs.iter().any(is_test_attr);
        if test {
            let start = start_line(attrs, end);
            self.facts.test_ranges.push((start, end.end().line as u32));
        }
        self.test_depth += usize::from(test);
        f(self);
        self.test_depth -= usize::from(test);
    }

    fn visit_fn(
        &mut self,
        attrs: &[syn::Attribute],
        sig: &syn::Signature,
        start: proc_macro2::Span,
        body: &syn::Block,
    ) {
        self.push_attr_suppressions(attrs);
        self.with_test_attrs(attrs, body.span(), |c| {
            let name = sig.ident.to_string();
            let qualified = match c.scope.last() {
                Some(s) if s.starts_with('<') => format!("{}::{name}", s.trim_matches(['<', '>'])),
                _ => name.clone(),
            };
            c.fn_stack.push(FnFrame {
                uses: BTreeSet::new(),
                calls: BTreeSet::new(),
            });
            c.scope.push(name.clone());
            visit::visit_signature(c, sig);
            c.visit_block(body);
            c.scope.pop();
            let frame = c.fn_stack.pop().expect("pushed above");
            let (ret, ret_text) = match &sig.output {
                syn::ReturnType::Type(_, ty) => (Some(from_syn(ty)), c.type_text(ty)),
                syn::ReturnType::Default => (None, String::new()),
            };
            c.facts.fns.push(FnFact {
                name,
                qualified,
                scope: c.scope_string(),
                loc: Loc::of(sig.ident.span()),
                start_line: start_line(attrs, start),
                ret,
                ret_text,
                attrs: attrs.iter().map(|a| path_string(a.path())).collect(),
                uses: frame.uses.into_iter().collect(),
                calls: frame.calls.into_iter().collect(),
                in_test: c.in_test(),
            });
        });
    }

    fn push_type(
        &mut self,
        name: &syn::Ident,
        kind: TypeDefKind,
        generics: &syn::Generics,
        fields: Vec<TypeExpr>,
    ) {
        self.facts.types.push(TypeDef {
            name: name.to_string(),
            kind,
            params: generics
                .type_params()
                .map(|p| p.ident.to_string())
                .collect(),
            modules: self.module_stack.clone(),
            fields,
        });
    }
}

/// Field types, leaving out fields that exist only in test, miri or loom builds
/// (`#[cfg(miri)] map: Mutex<..>`): production code never has them.
fn fields_of(fields: &syn::Fields) -> impl Iterator<Item = TypeExpr> + '_ {
    fields
        .iter()
        .filter(|f| !f.attrs.iter().any(|a| cfg_attr_requires(a, TOOLING_CFGS)))
        .map(|f| from_syn(&f.ty))
}

/// cfg names under which code is never part of a production build.
const TOOLING_CFGS: &[&str] = &["test", "miri", "loom"];

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        let kind = match item.mutability {
            syn::StaticMutability::Mut(_) => GlobalKind::StaticMut,
            _ => GlobalKind::Static,
        };
        self.push_global(
            &item.ident,
            kind,
            &item.ty,
            item.static_token.span,
            &item.attrs,
        );
        self.with_test_attrs(&item.attrs, item.span(), |c| {
            visit::visit_expr(c, &item.expr)
        });
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.facts.modules.push(item.ident.to_string());
        self.with_test_attrs(&item.attrs, item.span(), |c| {
            c.scope.push(item.ident.to_string());
            c.module_stack.push(item.ident.to_string());
            visit::visit_item_mod(c, item);
            c.module_stack.pop();
            c.scope.pop();
        });
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        let start = item.sig.fn_token.span;
        self.visit_fn(&item.attrs, &item.sig, start, &item.block);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        let start = item.sig.fn_token.span;
        self.visit_fn(&item.attrs, &item.sig, start, &item.block);
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        match &item.default {
            Some(body) => self.visit_fn(&item.attrs, &item.sig, item.sig.fn_token.span, body),
            None => visit::visit_trait_item_fn(self, item),
        }
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let self_name = match &*item.self_ty {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        self.with_test_attrs(&item.attrs, item.span(), |c| {
            c.scope
                .push(format!("<{}>", self_name.as_deref().unwrap_or("_")));
            visit::visit_item_impl(c, item);
            c.scope.pop();
        });
    }

    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        self.push_type(
            &item.ident,
            TypeDefKind::Struct,
            &item.generics,
            fields_of(&item.fields).collect(),
        );
        visit::visit_item_struct(self, item);
    }

    fn visit_item_enum(&mut self, item: &'ast syn::ItemEnum) {
        let fields = item
            .variants
            .iter()
            .flat_map(|v| fields_of(&v.fields))
            .collect();
        self.push_type(&item.ident, TypeDefKind::Enum, &item.generics, fields);
        visit::visit_item_enum(self, item);
    }

    fn visit_item_union(&mut self, item: &'ast syn::ItemUnion) {
        let fields = item.fields.named.iter().map(|f| from_syn(&f.ty)).collect();
        self.push_type(&item.ident, TypeDefKind::Union, &item.generics, fields);
        visit::visit_item_union(self, item);
    }

    fn visit_item_type(&mut self, item: &'ast syn::ItemType) {
        self.push_type(
            &item.ident,
            TypeDefKind::Alias,
            &item.generics,
            vec![from_syn(&item.ty)],
        );
        visit::visit_item_type(self, item);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        add_use_tree(&mut self.imports, &mut prefix, &item.tree);
    }

    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        self.with_test_attrs(&item.attrs, item.span(), |c| {
            visit::visit_item_macro(c, item)
        });
    }

    fn visit_stmt_macro(&mut self, stmt: &'ast syn::StmtMacro) {
        self.with_test_attrs(&stmt.attrs, stmt.span(), |c| {
            visit::visit_stmt_macro(c, stmt)
        });
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let Some(last) = mac.path.segments.last() else {
            return;
        };
        let (parsed, kind) = if last.ident == "lazy_static" {
            (
                mac.parse_body_with(parse_lazy_static),
                GlobalKind::LazyStatic,
            )
        } else if last.ident == "thread_local" {
            (
                mac.parse_body_with(parse_thread_local),
                GlobalKind::ThreadLocal,
            )
        } else {
            return;
        };
        // A body that does not parse is left alone: it is not the macro we know.
        for item in parsed.unwrap_or_default() {
            self.push_macro_static(&item, kind);
        }
    }

    fn visit_expr_path(&mut self, expr: &'ast syn::ExprPath) {
        if let (Some(frame), Some(last)) = (self.fn_stack.last_mut(), expr.path.segments.last()) {
            frame.uses.insert(last.ident.to_string());
        }
        visit::visit_expr_path(self, expr);
    }

    fn visit_expr_call(&mut self, expr: &'ast syn::ExprCall) {
        if let (Some(frame), syn::Expr::Path(p)) = (self.fn_stack.last_mut(), &*expr.func) {
            frame.calls.insert(path_string(&p.path));
        }
        visit::visit_expr_call(self, expr);
    }

    fn visit_expr_method_call(&mut self, expr: &'ast syn::ExprMethodCall) {
        if let Some(frame) = self.fn_stack.last_mut() {
            frame.calls.insert(format!(".{}", expr.method));
        }
        visit::visit_expr_method_call(self, expr);
    }
}

/// Records `use` bindings: `use a::b::{C, D as E}` binds `C -> a::b::C` and `E -> a::b::D`.
fn add_use_tree(
    imports: &mut HashMap<String, Vec<String>>,
    prefix: &mut Vec<String>,
    tree: &syn::UseTree,
) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            add_use_tree(imports, prefix, &p.tree);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            if n.ident != "self" {
                let mut full = prefix.clone();
                full.push(n.ident.to_string());
                imports.insert(n.ident.to_string(), full);
            } else if let Some(last) = prefix.last() {
                imports.insert(last.clone(), prefix.clone());
            }
        }
        syn::UseTree::Rename(r) => {
            if r.rename == "_" {
                return;
            }
            let mut full = prefix.clone();
            if r.ident != "self" {
                full.push(r.ident.to_string());
            }
            imports.insert(r.rename.to_string(), full);
        }
        syn::UseTree::Group(g) => g
            .items
            .iter()
            .for_each(|t| add_use_tree(imports, prefix, t)),
        syn::UseTree::Glob(_) => {}
    }
}

fn path_string(path: &syn::Path) -> String {
    let mut out = String::new();
    for (i, seg) in path.segments.iter().enumerate() {
        if i > 0 {
            out.push_str("::");
        }
        out.push_str(&seg.ident.to_string());
    }
    out
}

/// The first line of an item: its first attribute (doc comments are attributes) or `start`.
fn start_line(attrs: &[syn::Attribute], start: proc_macro2::Span) -> u32 {
    attrs
        .iter()
        .map(|a| a.pound_token.span.start().line)
        .chain([start.start().line])
        .min()
        .unwrap_or(0) as u32
}

/// `#[test]`, `#[tokio::test]`, ... and `#[cfg(test)]` (also inside `all(..)`).
pub(crate) fn is_test_attr(attr: &syn::Attribute) -> bool {
    let path = attr.path();
    if path.segments.last().is_some_and(|s| s.ident == "test") {
        return true;
    }
    cfg_attr_requires(attr, &["test"])
}

/// Whether `attr` is a `#[cfg(..)]` that can only hold when one of `names` is set.
fn cfg_attr_requires(attr: &syn::Attribute, names: &[&str]) -> bool {
    attr.path().is_ident("cfg")
        && attr
            .parse_args::<syn::Meta>()
            .is_ok_and(|m| cfg_requires(&m, names))
}

fn cfg_requires(meta: &syn::Meta, names: &[&str]) -> bool {
    match meta {
        syn::Meta::Path(p) => names.iter().any(|n| p.is_ident(n)),
        syn::Meta::List(list) => {
            let nested = list
                .parse_args_with(
                    syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                )
                .unwrap_or_default();
            if list.path.is_ident("all") {
                nested.iter().any(|m| cfg_requires(m, names))
            } else if list.path.is_ident("any") {
                !nested.is_empty() && nested.iter().all(|m| cfg_requires(m, names))
            } else {
                false
            }
        }
        syn::Meta::NameValue(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(src: &str) -> FileFacts {
        collect(&syn::parse_file(src).unwrap(), src)
    }

    #[test]
    fn imports_and_renames_resolve() {
        let f = facts("use std::sync::{Mutex as M, RwLock}; static A: M<u8> = M::new(0);");
        assert_eq!(
            f.globals[0].ty,
            TypeExpr::Path {
                segments: vec!["std".into(), "sync".into(), "Mutex".into()],
                args: vec![TypeExpr::Path {
                    segments: vec!["u8".into()],
                    args: vec![]
                }],
            }
        );
        assert_eq!(f.globals[0].ty_text, "M<u8>");
    }

    #[test]
    fn nested_statics_and_test_code() {
        let f = facts(
            "impl E { fn instance() -> &'static E { static I: OnceLock<E> = OnceLock::new(); I.get_or_init(E::new) } }
             #[cfg(test)] mod tests { static mut T: u8 = 0; }
             #[cfg(all(test, unix))] static U: u8 = 0;
             #[cfg(not(test))] static V: u8 = 0;
             fn f() { #[cfg(all(test, loom))] lazy_static! { static ref W: u8 = 1; } }",
        );
        let names: Vec<_> = f
            .globals
            .iter()
            .map(|g| (g.name.as_str(), g.in_test, g.scope.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("I", false, "<E>::instance"),
                ("T", true, "tests"),
                ("U", true, ""),
                ("V", false, ""),
                ("W", true, "f")
            ]
        );
        assert_eq!(f.fns[0].qualified, "E::instance");
        assert!(f.fns[0].returns_static_ref());
        assert!(f.fns[0].uses.contains(&"I".to_string()));
        assert_eq!(f.test_ranges, [(2, 2), (3, 3), (5, 5)]);
    }

    #[test]
    fn fields_only_in_tooling_builds_are_left_out() {
        let f = facts(
            "struct D<T> { #[cfg(miri)] map: Mutex<BTreeMap<usize, T>>, #[cfg(unix)] fd: i32, p: PhantomData<T> }",
        );
        let names: Vec<_> = f.types[0].fields.iter().filter_map(|t| t.name()).collect();
        assert_eq!(names, ["i32", "PhantomData"]);
    }

    #[test]
    fn attribute_suppressions() {
        let f = facts(
            "#[isolate::allow(static_mut, lazy_singleton, reason = \"legacy\")]\nstatic mut A: u8 = 0;\n\
             #[isolate::allow(static_mut)] static mut B: u8 = 0;",
        );
        assert_eq!(f.suppressions.len(), 2);
        assert_eq!(f.suppressions[0].rules, ["static_mut", "lazy_singleton"]);
        assert_eq!(f.suppressions[0].reason.as_deref(), Some("legacy"));
        assert_eq!(f.suppressions[1].reason, None);
        assert_eq!(f.suppressions[1].loc.line, 3);
    }
}
