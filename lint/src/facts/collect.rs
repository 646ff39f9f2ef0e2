//! The single syntax-tree pass that turns a parsed file into [`FileFacts`].
//!
//! It never asks syn for the span of a whole item (`Spanned::span` turns the item back into
//! tokens, which costs as much as parsing it again): item ends come from their closing tokens.

use syn::visit::{self, Visit};

use super::macros::{MacroStatic, parse_lazy_static, parse_thread_local};
use super::routes::{self, CallKind, Seen};
use super::types::{self, from_syn};
use super::{
    Call, Callee, Extract, FileFacts, FnFact, Global, GlobalKind, Handler, ImplFact, LocalModule,
    ModuleFact, ModuleKind, PathText, Recv, Registration, RouteKind, StateKind, StateReg,
    StaticRet, TestFeatures, TypeDef, TypeDefKind, UseFact,
};
use crate::diagnostic::Loc;
use crate::suppress;

/// Collects the facts of one parsed file.
pub(crate) fn collect(file: &syn::File) -> FileFacts {
    let mut c = Collector {
        facts: FileFacts::default(),
        test_depth: 0,
        fn_stack: Vec::new(),
        spare: Vec::new(),
        module: 0,
        impl_stack: Vec::new(),
        macro_start: None,
        gate: None,
    };
    c.facts.modules.push(ModuleFact::FILE);
    c.visit_file(file);
    let mut f = c.facts;
    // The facts of every file stay in memory: no growth slack.
    f.modules.shrink_to_fit();
    f.uses.shrink_to_fit();
    f.impls.shrink_to_fit();
    f.globals.shrink_to_fit();
    f.types.shrink_to_fit();
    f.fns.shrink_to_fit();
    f.suppressions.shrink_to_fit();
    f.test_ranges.shrink_to_fit();
    f
}

struct FnFrame<'ast> {
    uses: Vec<PathText>,
    calls: Vec<Call>,
    /// The names bound by the fn's patterns so far (parameters, `let`, closures, `match`
    /// arms), borrowed from the tree: a use of one of them is a local, not worth a string.
    locals: Vec<&'ast proc_macro2::Ident>,
    /// Its function's index in `facts.fns`.
    index: u32,
    /// A handler closure collected as its own function: names it uses that the enclosing
    /// function binds are captures, not uses.
    closure: bool,
    /// Captured names (closures only).
    captured: Vec<&'ast proc_macro2::Ident>,
    /// Parameters and `let`s with what the syntax says of their type, latest last.
    bindings: Vec<Binding<'ast>>,
}

/// A name bound by a parameter or a `let`.
#[derive(Clone, Copy)]
struct Binding<'ast> {
    ident: &'ast proc_macro2::Ident,
    /// The parameter's position (receiver not counted).
    param: Option<u32>,
    /// The declared type (for `State(x): State<T>`, the whole `State<T>`).
    ty: Option<&'ast syn::Type>,
    init: Option<&'ast syn::Expr>,
}

impl<'ast> FnFrame<'ast> {
    fn new(index: u32, closure: bool) -> Self {
        FnFrame {
            uses: Vec::new(),
            calls: Vec::new(),
            locals: Vec::new(),
            index,
            closure,
            captured: Vec::new(),
            bindings: Vec::new(),
        }
    }

    fn binding(&self, ident: &proc_macro2::Ident) -> Option<Binding<'ast>> {
        self.bindings
            .iter()
            .rev()
            .find(|b| b.ident == ident)
            .copied()
    }

    /// What the body collected, sorted and deduplicated in exact-size vectors; the frame keeps
    /// its (emptied) buffers for the next function.
    fn take(&mut self) -> (Box<[PathText]>, Box<[Call]>) {
        self.locals.clear();
        self.captured.clear();
        self.bindings.clear();
        self.uses.sort_unstable();
        self.uses.dedup();
        let uses: Box<[PathText]> = self.uses.drain(..).collect();
        // Each callee at its first call site.
        self.calls
            .sort_by(|a, b| (&a.callee, a.line, a.column).cmp(&(&b.callee, b.line, b.column)));
        self.calls
            .dedup_by(|later, first| later.callee == first.callee);
        let calls: Box<[Call]> = self.calls.drain(..).collect();
        (uses, calls)
    }
}

struct Collector<'ast> {
    facts: FileFacts,
    test_depth: usize,
    fn_stack: Vec<FnFrame<'ast>>,
    /// Emptied frames, kept for their buffers: most functions reuse them.
    spare: Vec<FnFrame<'ast>>,
    /// The module items are being collected into.
    module: LocalModule,
    /// The enclosing `impl`/trait blocks, as indexes into `facts.impls`.
    impl_stack: Vec<u32>,
    /// First line of the `thread_local!`/`lazy_static!` call being read.
    macro_start: Option<u32>,
    /// The features of the enclosing `#[cfg(any(test, feature = ..))]` gates, if any.
    gate: Option<Vec<Box<str>>>,
}

impl<'ast> Collector<'ast> {
    fn in_test(&self) -> bool {
        self.test_depth > 0
    }

    /// The test gate of an item with `attrs` inside the current gates.
    fn gate_of(&self, attrs: &[syn::Attribute]) -> Option<TestFeatures> {
        let own = attrs.iter().find_map(test_features);
        if own.is_none() && self.gate.is_none() {
            return None;
        }
        let all: Vec<Box<str>> = self
            .gate
            .iter()
            .flatten()
            .cloned()
            .chain(own.into_iter().flatten())
            .collect();
        Some(all.into_boxed_slice())
    }

    /// Whether `ident` is a local of a function enclosing frame `depth`.
    fn lookup_local(&self, depth: usize, ident: &proc_macro2::Ident) -> bool {
        self.fn_stack[..depth]
            .iter()
            .rev()
            .any(|f| f.locals.contains(&ident))
    }

    fn push_global(
        &mut self,
        name: &syn::Ident,
        kind: GlobalKind,
        ty: &syn::Type,
        start: proc_macro2::Span,
        attrs: &[syn::Attribute],
        init: Option<&syn::Expr>,
    ) {
        let in_test = self.in_test() || attrs.iter().any(is_test_attr);
        self.push_attr_suppressions(attrs);
        let test_features = self.gate_of(attrs);
        self.facts.globals.push(Global {
            test_features,
            init: init.and_then(super::init::sketch),
            name: name.to_string(),
            kind,
            ty: from_syn(ty),
            ty_text: types::print(ty),
            loc: Loc::of(name.span()),
            start_line: start_line(attrs, start),
            macro_start: self.macro_start,
            module: self.module,
            in_test,
            exported: attrs.iter().any(is_export_attr),
        });
    }

    fn push_macro_static(&mut self, item: &MacroStatic, kind: GlobalKind) {
        self.push_global(
            &item.name,
            kind,
            &item.ty,
            item.start,
            &item.attrs,
            Some(&item.init),
        );
    }

    /// `#[isolate::allow(..)]` attributes: the attribute form of a suppression.
    fn push_attr_suppressions(&mut self, attrs: &[syn::Attribute]) {
        self.facts
            .suppressions
            .extend(attrs.iter().filter_map(suppress::from_attribute));
    }

    /// Runs `f` with the test depth raised if `attrs` mark test code; `end` is the item's last
    /// token (its range is recorded as test code).
    fn with_test_attrs(
        &mut self,
        attrs: &[syn::Attribute],
        first: proc_macro2::Span,
        end: proc_macro2::Span,
        f: impl FnOnce(&mut Self),
    ) {
        let test = attrs.iter().any(is_test_attr);
        if test {
            let start = start_line(attrs, first);
            self.facts.test_ranges.push((start, end.end().line as u32));
        }
        let gate = attrs.iter().find_map(test_features);
        let outer_gate = match gate {
            Some(features) => {
                let mut all = self.gate.clone().unwrap_or_default();
                all.extend(features);
                self.gate.replace(all)
            }
            None => self.gate.clone(),
        };
        self.test_depth += usize::from(test);
        f(self);
        self.test_depth -= usize::from(test);
        self.gate = outer_gate;
    }

    /// Visits a macro call in item or statement position, remembering where it starts (for
    /// suppressions above `thread_local! {`) and whether its attributes make it test code.
    fn in_macro_call(
        &mut self,
        attrs: &[syn::Attribute],
        mac: &syn::Macro,
        f: impl FnOnce(&mut Self),
    ) {
        let first = mac
            .path
            .segments
            .first()
            .map_or(mac.bang_token.span, |s| s.ident.span());
        let end = delimiter_close(&mac.delimiter);
        let outer = self.macro_start.replace(start_line(attrs, first));
        self.with_test_attrs(attrs, first, end, f);
        self.macro_start = outer;
    }

    fn visit_fn(
        &mut self,
        attrs: &'ast [syn::Attribute],
        sig: &'ast syn::Signature,
        start: proc_macro2::Span,
        body: &'ast syn::Block,
    ) {
        self.push_attr_suppressions(attrs);
        self.with_test_attrs(attrs, start, body.brace_token.span.close(), |c| {
            let owner = c.impl_stack.last().copied();
            // Only `&'static T` returns matter (singleton accessors); only they get a byte
            // range too (its conversion from characters is the costly part of a position).
            let static_ret = match &sig.output {
                syn::ReturnType::Type(_, ty) => static_ref_in(ty).map(|r| (&**ty, r)),
                syn::ReturnType::Default => None,
            };
            let in_trait_impl = owner
                .and_then(|i| c.facts.impls.get(i as usize))
                .is_some_and(|i| !i.is_trait && i.trait_path.is_some());
            // The fact is pushed before the body is read, so closures and registrations in the
            // body can name it by index.
            let index = c.facts.fns.len() as u32;
            c.facts.fns.push(FnFact {
                name: sig.ident.to_string().into_boxed_str(),
                module: c.module,
                owner,
                loc: match static_ret {
                    Some(_) => Loc::of(sig.ident.span()),
                    None => Loc::lines_of(sig.ident.span()),
                },
                start_line: start_line(attrs, start),
                static_ret: static_ret.map(|(ty, r)| {
                    Box::new(StaticRet {
                        ty: from_syn(r),
                        text: types::print(ty),
                    })
                }),
                // Doc comments are attributes too, and the most numerous: leave them out.
                attrs: attrs
                    .iter()
                    .filter(|a| !a.path().is_ident("doc"))
                    .map(|a| path_string(a.path()).into_boxed_str())
                    .collect(),
                uses: Box::default(),
                calls: Box::default(),
                in_test: c.in_test(),
                closure_of: None,
                grpc_shaped: in_trait_impl && routes::grpc_shaped(sig),
            });
            let mut frame = c.spare.pop().unwrap_or_else(|| FnFrame::new(index, false));
            frame.index = index;
            frame.closure = false;
            c.fn_stack.push(frame);
            c.bind_params(sig, index);
            // Items inside a fn body belong to no impl.
            let impls = std::mem::take(&mut c.impl_stack);
            visit::visit_signature(c, sig);
            c.visit_block(body);
            c.impl_stack = impls;
            let mut frame = c.fn_stack.pop().expect("pushed above");
            let (uses, calls) = frame.take();
            c.spare.push(frame);
            let f = &mut c.facts.fns[index as usize];
            f.uses = uses;
            f.calls = calls;
        });
    }

    /// Records the parameters' names and types, and the extractors among them.
    fn bind_params(&mut self, sig: &'ast syn::Signature, index: u32) {
        let mut position = 0u32;
        for arg in &sig.inputs {
            let syn::FnArg::Typed(t) = arg else { continue };
            let ident = match &*t.pat {
                syn::Pat::Ident(i) => Some(&i.ident),
                // `State(state): State<AppState>`, `Data(d): Data<T>`
                syn::Pat::TupleStruct(ts) if ts.elems.len() == 1 => match ts.elems.first() {
                    Some(syn::Pat::Ident(i)) => Some(&i.ident),
                    _ => None,
                },
                _ => None,
            };
            if let Some(ident) = ident
                && let Some(frame) = self.fn_stack.last_mut()
            {
                frame.bindings.push(Binding {
                    ident,
                    param: Some(position),
                    ty: Some(&t.ty),
                    init: None,
                });
            }
            if let Some(path) = routes::extracted(&t.ty) {
                self.facts.extracts.push(Extract {
                    in_fn: index,
                    ty: routes::path_text(path),
                });
            }
            position += 1;
        }
    }

    /// A closure handed to a routing call, collected as its own function (a closure handler is
    /// an entry point of its own: its body is not the enclosing function's).
    fn visit_handler_closure(&mut self, closure: &'ast syn::ExprClosure) -> u32 {
        let parent = self.fn_stack.last().map_or(0, |f| f.index);
        let owner = self.facts.fns.get(parent as usize).and_then(|f| f.owner);
        let index = self.facts.fns.len() as u32;
        let at = closure.or1_token.span;
        self.facts.fns.push(FnFact {
            name: "{closure}".into(),
            module: self.module,
            owner,
            loc: Loc::lines_of(at),
            start_line: at.start().line as u32,
            static_ret: None,
            attrs: Box::default(),
            uses: Box::default(),
            calls: Box::default(),
            in_test: self.in_test(),
            closure_of: Some(parent),
            grpc_shaped: false,
        });
        let mut frame = self
            .spare
            .pop()
            .unwrap_or_else(|| FnFrame::new(index, true));
        frame.index = index;
        frame.closure = true;
        self.fn_stack.push(frame);
        visit::visit_expr_closure(self, closure);
        let mut frame = self.fn_stack.pop().expect("pushed above");
        // An `Arc` (or `Box`, `Rc`) of application state captured by the handler.
        let captured: Vec<PathText> = frame
            .captured
            .iter()
            .filter_map(|ident| self.captured_state(ident))
            .collect();
        let (uses, calls) = frame.take();
        self.spare.push(frame);
        let f = &mut self.facts.fns[index as usize];
        f.uses = uses;
        f.calls = calls;
        let start = at.start();
        for ty in captured {
            self.facts.states.push(StateReg {
                in_fn: index,
                kind: StateKind::Captured,
                ty,
                line: start.line as u32,
                column: start.column as u32 + 1,
            });
        }
        index
    }

    /// The state type behind a name the enclosing function bound to `Arc::new(S { .. })`,
    /// `Arc::clone(&s)`, `s.clone()` of such, or declared `Arc<S>`.
    fn captured_state(&self, ident: &proc_macro2::Ident) -> Option<PathText> {
        // The closure's own frame is already off the stack.
        let depth = self.fn_stack.len();
        let b = self.lookup(depth, ident)?;
        let shared = |e: &syn::Expr| shared_pointer_expr(e, 0, &|i| self.lookup(depth, i));
        let declared = b.ty.is_some_and(|t| match t {
            syn::Type::Path(p) => p
                .path
                .segments
                .last()
                .is_some_and(|s| matches!(s.ident.to_string().as_str(), "Arc" | "Rc" | "Box")),
            _ => false,
        });
        if !declared && !b.init.is_some_and(shared) {
            return None;
        }
        self.type_of_binding(depth, b, 0)
    }

    /// The binding of `ident` seen from frame `depth` (and the frames that enclose it).
    fn lookup(&self, depth: usize, ident: &proc_macro2::Ident) -> Option<Binding<'ast>> {
        self.fn_stack[..depth.min(self.fn_stack.len())]
            .iter()
            .rev()
            .find_map(|f| f.binding(ident))
    }

    fn type_of_binding(&self, depth: usize, b: Binding<'ast>, n: u8) -> Option<PathText> {
        if let Some(ty) = b.ty {
            return routes::peel_type(ty).map(routes::path_text);
        }
        self.type_of(depth, b.init?, n + 1)
    }

    /// What the syntax says of an expression's type: a struct literal, `Type::assoc(..)` (taken
    /// to return `Type`), through `Arc::new`/`Box::new`/`Data::new`/`Extension(..)`, `.clone()`,
    /// `&`, `?`, `.await`, and names bound earlier.
    fn type_of(&self, depth: usize, expr: &'ast syn::Expr, n: u8) -> Option<PathText> {
        if n > 8 {
            return None;
        }
        match expr {
            syn::Expr::Struct(s) => Some(routes::path_text(&s.path)),
            syn::Expr::Paren(p) => self.type_of(depth, &p.expr, n + 1),
            syn::Expr::Reference(r) => self.type_of(depth, &r.expr, n + 1),
            syn::Expr::Try(t) => self.type_of(depth, &t.expr, n + 1),
            syn::Expr::Await(a) => self.type_of(depth, &a.base, n + 1),
            syn::Expr::MethodCall(m) if m.method == "clone" && m.args.is_empty() => {
                self.type_of(depth, &m.receiver, n + 1)
            }
            syn::Expr::Path(p) if p.qself.is_none() => {
                let segs = &p.path.segments;
                if segs.len() == 1 {
                    let ident = &segs[0].ident;
                    if let Some(b) = self.lookup(depth, ident) {
                        // Earlier bindings only: `let s = s.clone()` names the outer `s`.
                        let earlier = self.fn_stack[..depth.min(self.fn_stack.len())]
                            .iter()
                            .rev()
                            .flat_map(|f| f.bindings.iter().rev())
                            .filter(|x| x.ident == ident)
                            .find(|x| !x.init.is_some_and(|i| std::ptr::eq(i, expr)));
                        return self.type_of_binding(depth, earlier.copied().unwrap_or(b), n + 1);
                    }
                }
                // A unit struct value.
                segs.last()
                    .is_some_and(|s| routes::type_like(&s.ident))
                    .then(|| routes::path_text(&p.path))
            }
            syn::Expr::Call(c) => {
                let syn::Expr::Path(p) = &*c.func else {
                    return None;
                };
                let segs = &p.path.segments;
                let last = segs.last()?.ident.to_string();
                let owner = (segs.len() >= 2).then(|| segs[segs.len() - 2].ident.to_string());
                let through = matches!(last.as_str(), "Extension" | "Some")
                    || (matches!(last.as_str(), "new" | "from" | "clone")
                        && matches!(owner.as_deref(), Some("Arc" | "Rc" | "Box" | "Data")));
                if through {
                    return self.type_of(depth, c.args.first()?, n + 1);
                }
                if segs.len() >= 2 && routes::type_like(&segs[segs.len() - 2].ident) {
                    return Some(PathText::new(
                        segs.iter().take(segs.len() - 1).map(|s| &s.ident),
                    ));
                }
                None
            }
            _ => None,
        }
    }

    /// What a method call's receiver is, as far as the syntax says.
    fn receiver(&self, expr: &'ast syn::Expr) -> Recv {
        let depth = self.fn_stack.len();
        let mut e = expr;
        while let syn::Expr::Paren(p) = e {
            e = &p.expr;
        }
        let (base, field) = match e {
            syn::Expr::Field(f) => match &f.member {
                syn::Member::Named(name) => (&*f.base, Some(name.to_string().into_boxed_str())),
                syn::Member::Unnamed(i) => (&*f.base, Some(i.index.to_string().into_boxed_str())),
            },
            other => (other, None),
        };
        let ty = match base {
            syn::Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
                let ident = &p.path.segments[0].ident;
                if ident == "self" {
                    Some(PathText::new(std::iter::once("Self")))
                } else {
                    self.lookup(depth, ident)
                        .and_then(|b| self.type_of_binding(depth, b, 0))
                }
            }
            // `Type::global().m()`, `Type::new().m()`
            syn::Expr::Call(_) | syn::Expr::Struct(_) if field.is_none() => {
                self.type_of(depth, base, 0)
            }
            _ => None,
        };
        match ty {
            Some(ty) => Recv::Typed { ty, field },
            None => Recv::Any,
        }
    }

    /// Records handlers among `args` of a routing call (and collects closures among them as
    /// their own functions); visits the other arguments as usual.
    fn route_args(
        &mut self,
        args: impl Iterator<Item = &'ast syn::Expr>,
        kind: RouteKind,
        via: PathText,
        method: &str,
        at: proc_macro2::LineColumn,
    ) {
        for (position, arg) in args.enumerate() {
            let handler = match self.handler_of(arg) {
                Some(h) => h,
                None => {
                    self.visit_expr(arg);
                    continue;
                }
            };
            let in_fn = self.fn_stack.last().map_or(0, |f| f.index);
            self.facts.registrations.push(Registration {
                in_fn,
                kind,
                via: via.clone(),
                method: method.into(),
                handler,
                arg: position as u32,
                line: at.line as u32,
                column: at.column as u32 + 1,
            });
        }
    }

    /// A handler argument: a path, a parameter of the enclosing fn, a closure (collected now),
    /// or a block ending in a closure (`get({ let s = s.clone(); move || h(s) })`).
    fn handler_of(&mut self, arg: &'ast syn::Expr) -> Option<Handler> {
        match arg {
            syn::Expr::Closure(c) => Some(Handler::Closure(self.visit_handler_closure(c))),
            syn::Expr::Block(b)
                if b.block
                    .stmts
                    .last()
                    .is_some_and(|s| matches!(s, syn::Stmt::Expr(syn::Expr::Closure(_), None))) =>
            {
                let (tail, rest) = b.block.stmts.split_last()?;
                for stmt in rest {
                    self.visit_stmt(stmt);
                }
                let syn::Stmt::Expr(syn::Expr::Closure(c), None) = tail else {
                    return None;
                };
                Some(Handler::Closure(self.visit_handler_closure(c)))
            }
            syn::Expr::Path(p) if p.qself.is_none() => {
                let segs = &p.path.segments;
                if segs.len() == 1 {
                    let frame = self.fn_stack.last()?;
                    let ident = &segs[0].ident;
                    if let Some(b) = frame.binding(ident) {
                        // A parameter: the fn wraps a routing call. Another local: unknown.
                        let param = b.param?;
                        self.visit_expr(arg);
                        return Some(Handler::Param(param));
                    }
                    if frame.locals.contains(&ident) {
                        return None;
                    }
                }
                self.visit_expr(arg);
                Some(Handler::Path(routes::path_text(&p.path)))
            }
            // A newtype around the handler: `.to(SeqHandler(create_index))`.
            syn::Expr::Call(c) if newtype_call(c) => self.handler_of(c.args.first()?),
            _ => None,
        }
    }

    /// A value registered as application state.
    fn push_state(&mut self, kind: StateKind, expr: &'ast syn::Expr, at: proc_macro2::LineColumn) {
        let depth = self.fn_stack.len();
        let Some(ty) = self.type_of(depth, expr, 0) else {
            return;
        };
        let in_fn = self.fn_stack.last().map_or(0, |f| f.index);
        self.facts.states.push(StateReg {
            in_fn,
            kind,
            ty,
            line: at.line as u32,
            column: at.column as u32 + 1,
        });
    }

    /// Calls, method calls and paths written inside a macro call in a function body.
    fn scan_macro(&mut self, mac: &'ast syn::Macro) {
        let Some(frame) = self.fn_stack.last_mut() else {
            return;
        };
        let locals = &frame.locals;
        let mut uses = Vec::new();
        let mut calls = Vec::new();
        routes::scan_tokens(mac.tokens.clone(), &mut |seen| match seen {
            Seen::Use(segs) => {
                if !(segs.len() == 1 && (segs[0] == "self" || locals.contains(&&segs[0]))) {
                    uses.push(PathText::new(segs.iter()));
                }
            }
            Seen::Call(segs) => {
                let at = segs[0].span().start();
                if !(segs.len() == 1 && locals.contains(&&segs[0])) {
                    calls.push((Callee::Path(PathText::new(segs.iter())), at));
                }
            }
            Seen::Method(name, on_self) => {
                let at = name.span().start();
                let recv = if on_self {
                    Recv::Typed {
                        ty: PathText::new(std::iter::once("Self")),
                        field: None,
                    }
                } else {
                    Recv::Any
                };
                calls.push((
                    Callee::Method {
                        name: name.to_string().into_boxed_str(),
                        recv,
                    },
                    at,
                ));
            }
        });
        frame.uses.append(&mut uses);
        for (callee, at) in calls {
            push_call(frame, callee, Some(at));
        }
    }

    /// `routes![a, b]` (rocket), `catchers![..]`, `routes!(a, b)` (utoipa-axum): every path
    /// named is a handler.
    fn route_list(&mut self, mac: &'ast syn::Macro) -> bool {
        let Some(last) = mac.path.segments.last() else {
            return false;
        };
        if !(last.ident == "routes" || last.ident == "catchers") || self.fn_stack.is_empty() {
            return false;
        }
        let Ok(paths) = mac.parse_body_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        ) else {
            return false;
        };
        let in_fn = self.fn_stack.last().map_or(0, |f| f.index);
        let via = routes::path_text(&mac.path);
        for (position, p) in paths.iter().enumerate() {
            let at = p
                .segments
                .first()
                .map_or(last.ident.span(), |s| s.ident.span())
                .start();
            self.facts.registrations.push(Registration {
                in_fn,
                kind: RouteKind::List,
                via: via.clone(),
                method: "".into(),
                handler: Handler::Path(routes::path_text(p)),
                arg: position as u32,
                line: at.line as u32,
                column: at.column as u32 + 1,
            });
        }
        true
    }

    fn push_type(
        &mut self,
        name: &syn::Ident,
        kind: TypeDefKind,
        generics: &syn::Generics,
        fields: Vec<(String, (u32, u32), super::TypeExpr)>,
    ) {
        self.facts.types.push(TypeDef::new(
            name.to_string(),
            kind,
            generics
                .type_params()
                .map(|p| p.ident.to_string())
                .collect(),
            self.module,
            pos(name.span()),
            fields,
        ));
    }

    /// Collects items parsed out of a macro body into the current module, as if written there.
    fn visit_macro_items(&mut self, branches: &[super::macro_items::Branch]) {
        for b in branches {
            if b.test {
                self.facts.test_ranges.push(b.lines);
            }
            let mut nested = Collector {
                facts: std::mem::take(&mut self.facts),
                test_depth: self.test_depth + usize::from(b.test),
                fn_stack: Vec::new(),
                spare: Vec::new(),
                module: self.module,
                impl_stack: Vec::new(),
                macro_start: None,
                gate: self.gate.clone(),
            };
            for item in &b.items {
                nested.visit_item(item);
            }
            self.facts = nested.facts;
        }
    }

    fn push_use(&mut self, alias: Option<String>, path: PathText, is_pub: bool) {
        self.facts.uses.push(UseFact {
            module: self.module,
            alias,
            path,
            is_pub,
        });
    }

    /// Records `use` bindings: `use a::b::{C, D as E}` binds `C -> a::b::C` and `E -> a::b::D`.
    /// `rooted`: the `use` starts with `::` (`use ::io_uring::IoUring;`), so its first segment is
    /// a crate, never a module in scope; the path is then recorded with an empty first segment.
    fn add_use_tree(
        &mut self,
        prefix: &mut Vec<&'ast syn::Ident>,
        tree: &'ast syn::UseTree,
        is_pub: bool,
        rooted: bool,
    ) {
        let path = |prefix: &[&syn::Ident], last: Option<&syn::Ident>| {
            let idents = prefix.iter().copied().chain(last).map(ToString::to_string);
            PathText::new(rooted.then(String::new).into_iter().chain(idents))
        };
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(&p.ident);
                self.add_use_tree(prefix, &p.tree, is_pub, rooted);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                if n.ident != "self" {
                    self.push_use(
                        Some(n.ident.to_string()),
                        path(prefix, Some(&n.ident)),
                        is_pub,
                    );
                } else if let Some(last) = prefix.last() {
                    self.push_use(Some(last.to_string()), path(prefix, None), is_pub);
                }
            }
            syn::UseTree::Rename(r) => {
                if r.rename == "_" {
                    return;
                }
                let last = (r.ident != "self").then_some(&r.ident);
                self.push_use(Some(r.rename.to_string()), path(prefix, last), is_pub);
            }
            syn::UseTree::Group(g) => g
                .items
                .iter()
                .for_each(|t| self.add_use_tree(prefix, t, is_pub, rooted)),
            syn::UseTree::Glob(_) => self.push_use(None, path(prefix, None), is_pub),
        }
    }
}

/// Field names, positions and types, leaving out fields that exist only in test, miri or loom
/// builds (`#[cfg(miri)] map: Mutex<..>`): production code never has them. Enum fields are
/// named after their variant (`Variant.name`, `Variant.0`).
fn fields_of<'f>(
    variant: Option<&'f syn::Ident>,
    fields: &'f syn::Fields,
) -> impl Iterator<Item = (String, (u32, u32), super::TypeExpr)> + 'f {
    fields
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.attrs.iter().any(|a| cfg_attr_requires(a, TOOLING_CFGS)))
        .map(move |(i, f)| {
            let (name, at) = match &f.ident {
                Some(id) => (id.to_string(), pos(id.span())),
                None => (i.to_string(), type_pos(&f.ty)),
            };
            let name = match variant {
                Some(v) => format!("{v}.{name}"),
                None => name,
            };
            (name, at, from_syn(&f.ty))
        })
}

/// (line, column), 1-based, of a span's start.
fn pos(span: proc_macro2::Span) -> (u32, u32) {
    let at = span.start();
    (at.line as u32, at.column as u32 + 1)
}

/// Where a type starts, found without turning it back into tokens.
fn type_pos(ty: &syn::Type) -> (u32, u32) {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .first()
            .map_or((0, 0), |s| pos(s.ident.span())),
        syn::Type::Reference(r) => pos(r.and_token.span),
        syn::Type::Tuple(t) => pos(t.paren_token.span.open()),
        syn::Type::Array(a) => pos(a.bracket_token.span.open()),
        syn::Type::Slice(a) => pos(a.bracket_token.span.open()),
        syn::Type::Ptr(p) => pos(p.star_token.span),
        syn::Type::Paren(p) => pos(p.paren_token.span.open()),
        syn::Type::TraitObject(t) => t.dyn_token.map_or((0, 0), |d| pos(d.span)),
        syn::Type::ImplTrait(t) => pos(t.impl_token.span),
        syn::Type::BareFn(f) => pos(f.fn_token.span),
        _ => (0, 0),
    }
}

/// The `&'static T` a function returns: alone, or as `Option<&'static T>` /
/// `Result<&'static T, E>` (any path ending in `Option` or `Result`).
fn static_ref_in(ty: &syn::Type) -> Option<&syn::Type> {
    match ty {
        syn::Type::Reference(r) if r.lifetime.as_ref().is_some_and(|l| l.ident == "static") => {
            Some(ty)
        }
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if last.ident != "Option" && last.ident != "Result" {
                return None;
            }
            let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
                return None;
            };
            match a.args.first()? {
                syn::GenericArgument::Type(t @ syn::Type::Reference(r))
                    if r.lifetime.as_ref().is_some_and(|l| l.ident == "static") =>
                {
                    Some(t)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// cfg names under which code is never part of a production build.
const TOOLING_CFGS: &[&str] = &["test", "miri", "loom"];

fn is_pub(vis: &syn::Visibility) -> bool {
    !matches!(vis, syn::Visibility::Inherited)
}

impl<'ast> Visit<'ast> for Collector<'ast> {
    // Types, generics and attributes hold nothing the facts need from the visitor (types are
    // converted where they are read, attributes where they matter); not walking them saves
    // a good part of the pass.
    fn visit_type(&mut self, _: &'ast syn::Type) {}

    fn visit_generics(&mut self, _: &'ast syn::Generics) {}

    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        let kind = match item.mutability {
            syn::StaticMutability::Mut(_) => GlobalKind::StaticMut,
            _ => GlobalKind::Static,
        };
        let first = item.static_token.span;
        self.push_global(
            &item.ident,
            kind,
            &item.ty,
            first,
            &item.attrs,
            Some(&item.expr),
        );
        self.with_test_attrs(&item.attrs, first, item.semi_token.span, |c| {
            visit::visit_expr(c, &item.expr)
        });
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        let end = match &item.content {
            Some((brace, _)) => brace.span.close(),
            None => item.semi.map_or(item.ident.span(), |s| s.span),
        };
        let first = item.mod_token.span;
        self.with_test_attrs(&item.attrs, first, end, |c| {
            let path_attr = item.attrs.iter().find_map(|a| match &a.meta {
                syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            });
            let index = c.facts.modules.len() as LocalModule;
            c.facts.modules.push(ModuleFact {
                name: item.ident.to_string(),
                parent: Some(c.module),
                kind: if item.content.is_some() {
                    ModuleKind::Inline
                } else {
                    ModuleKind::OutOfLine
                },
                path_attr,
                in_test: c.in_test(),
                test_features: c.gate.clone().map(Vec::into_boxed_slice),
            });
            let outer = std::mem::replace(&mut c.module, index);
            visit::visit_item_mod(c, item);
            c.module = outer;
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
        let self_ty = match &*item.self_ty {
            syn::Type::Path(p) if p.qself.is_none() => Some(path_text(&p.path)),
            _ => None,
        };
        let trait_path = item.trait_.as_ref().map(|(_, p, _)| path_text(p));
        let first = item.impl_token.span;
        let index = self.facts.impls.len() as u32;
        self.facts.impls.push(ImplFact {
            self_ty,
            trait_path,
            is_trait: false,
            attrs: item
                .attrs
                .iter()
                .filter(|a| !a.path().is_ident("doc"))
                .map(|a| path_string(a.path()))
                .collect(),
        });
        self.with_test_attrs(&item.attrs, first, item.brace_token.span.close(), |c| {
            c.impl_stack.push(index);
            visit::visit_item_impl(c, item);
            c.impl_stack.pop();
        });
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        // Default methods of a trait: named plainly, with the trait kept for the call graph.
        let index = self.facts.impls.len() as u32;
        self.facts.impls.push(ImplFact {
            self_ty: None,
            trait_path: Some(PathText::new(std::iter::once(&item.ident))),
            is_trait: true,
            attrs: Vec::new(),
        });
        self.impl_stack.push(index);
        visit::visit_item_trait(self, item);
        self.impl_stack.pop();
    }

    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        self.push_type(
            &item.ident,
            TypeDefKind::Struct,
            &item.generics,
            fields_of(None, &item.fields).collect(),
        );
        visit::visit_item_struct(self, item);
    }

    fn visit_item_enum(&mut self, item: &'ast syn::ItemEnum) {
        let fields = item
            .variants
            .iter()
            .flat_map(|v| fields_of(Some(&v.ident), &v.fields))
            .collect();
        self.push_type(&item.ident, TypeDefKind::Enum, &item.generics, fields);
        visit::visit_item_enum(self, item);
    }

    fn visit_item_union(&mut self, item: &'ast syn::ItemUnion) {
        let fields = item
            .fields
            .named
            .iter()
            .map(|f| {
                let name = f
                    .ident
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let at = f.ident.as_ref().map_or((0, 0), |i| pos(i.span()));
                (name, at, from_syn(&f.ty))
            })
            .collect();
        self.push_type(&item.ident, TypeDefKind::Union, &item.generics, fields);
        visit::visit_item_union(self, item);
    }

    fn visit_item_type(&mut self, item: &'ast syn::ItemType) {
        self.push_type(
            &item.ident,
            TypeDefKind::Alias,
            &item.generics,
            vec![(String::new(), type_pos(&item.ty), from_syn(&item.ty))],
        );
        visit::visit_item_type(self, item);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        let rooted = item.leading_colon.is_some();
        self.add_use_tree(&mut prefix, &item.tree, is_pub(&item.vis), rooted);
    }

    fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
        let name = item.ident.to_string();
        let alias = item
            .rename
            .as_ref()
            .map_or_else(|| name.clone(), |(_, r)| r.to_string());
        if alias != "_" && name != "self" {
            self.push_use(
                Some(alias),
                PathText::new(std::iter::once(&item.ident)),
                is_pub(&item.vis),
            );
        }
    }

    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        self.in_macro_call(&item.attrs, &item.mac, |c| visit::visit_item_macro(c, item));
        // Items inside other item-position calls (`cfg_if!`, `cfg_select!`, ...); not
        // `macro_rules!` definitions, whose bodies are templates.
        let known = item
            .mac
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "lazy_static" || s.ident == "thread_local");
        if item.ident.is_none() && !known {
            let branches = super::macro_items::branches(&item.mac);
            if !branches.is_empty() {
                self.with_test_attrs(
                    &item.attrs,
                    item.mac.bang_token.span,
                    delimiter_close(&item.mac.delimiter),
                    |c| c.visit_macro_items(&branches),
                );
            }
        }
    }

    fn visit_stmt_macro(&mut self, stmt: &'ast syn::StmtMacro) {
        self.in_macro_call(&stmt.attrs, &stmt.mac, |c| visit::visit_stmt_macro(c, stmt));
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let Some(last) = mac.path.segments.last() else {
            return;
        };
        // In a function body: handler lists, or the calls and paths in the tokens.
        if !self.fn_stack.is_empty() && last.ident != "thread_local" && last.ident != "lazy_static"
        {
            if !self.route_list(mac) {
                self.scan_macro(mac);
            }
            return;
        }
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
        if let Some(frame) = self.fn_stack.last_mut() {
            let path = &expr.path;
            let local = expr.qself.is_none()
                && path.leading_colon.is_none()
                && path.segments.len() == 1
                && {
                    let ident = &path.segments[0].ident;
                    ident == "self" || frame.locals.contains(&ident)
                };
            if !local {
                let depth = self.fn_stack.len() - 1;
                let captured = self.fn_stack[depth].closure
                    && expr.qself.is_none()
                    && path.segments.len() == 1
                    && self.lookup_local(depth, &path.segments[0].ident);
                let frame = &mut self.fn_stack[depth];
                if captured {
                    frame.captured.push(&path.segments[0].ident);
                } else {
                    frame.uses.push(path_text(path));
                }
            }
        }
        visit::visit_expr_path(self, expr);
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        let (ident, ty) = match &local.pat {
            syn::Pat::Ident(i) => (Some(&i.ident), None),
            syn::Pat::Type(t) => match &*t.pat {
                syn::Pat::Ident(i) => (Some(&i.ident), Some(&*t.ty)),
                _ => (None, None),
            },
            _ => (None, None),
        };
        if let Some(ident) = ident
            && let Some(frame) = self.fn_stack.last_mut()
        {
            frame.bindings.push(Binding {
                ident,
                param: None,
                ty,
                init: local.init.as_ref().map(|i| &*i.expr),
            });
        }
        visit::visit_local(self, local);
    }

    fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
        if let Some(frame) = self.fn_stack.last_mut() {
            frame.locals.push(&pat.ident);
        }
        visit::visit_pat_ident(self, pat);
    }

    fn visit_expr_call(&mut self, expr: &'ast syn::ExprCall) {
        let syn::Expr::Path(p) = &*expr.func else {
            visit::visit_expr_call(self, expr);
            return;
        };
        let Some(frame) = self.fn_stack.last_mut() else {
            visit::visit_expr_call(self, expr);
            return;
        };
        let first = p.path.segments.first().map(|s| s.ident.span().start());
        push_call(frame, Callee::Path(path_text(&p.path)), first);
        let last = p.path.segments.last().map(|s| s.ident.to_string());
        let at = first.unwrap_or(proc_macro2::LineColumn { line: 0, column: 0 });
        // `web::Data::new(state)`, `Data::from(arc)`
        let segs = &p.path.segments;
        if matches!(last.as_deref(), Some("new" | "from"))
            && segs.len() >= 2
            && segs[segs.len() - 2].ident == "Data"
            && let Some(arg) = expr.args.first()
        {
            self.push_state(StateKind::Data, arg, at);
        }
        let handler_like = expr.args.iter().any(|a| match a {
            syn::Expr::Path(_) | syn::Expr::Closure(_) | syn::Expr::Block(_) => true,
            syn::Expr::Call(c) => newtype_call(c),
            _ => false,
        });
        let kind = match last.as_deref().and_then(routes::call_kind) {
            Some(CallKind::Middleware) => RouteKind::Middleware,
            Some(CallKind::Service) => RouteKind::Service,
            Some(CallKind::Method | CallKind::MaybeWrapper) => RouteKind::Call,
            None => {
                visit::visit_expr_call(self, expr);
                return;
            }
        };
        if !handler_like {
            visit::visit_expr_call(self, expr);
            return;
        }
        self.visit_expr(&expr.func);
        self.route_args(expr.args.iter(), kind, path_text(&p.path), "", at);
    }

    fn visit_expr_method_call(&mut self, expr: &'ast syn::ExprMethodCall) {
        if self.fn_stack.is_empty() {
            visit::visit_expr_method_call(self, expr);
            return;
        }
        let recv = self.receiver(&expr.receiver);
        let at = expr.method.span().start();
        let name = expr.method.to_string();
        if let Some(frame) = self.fn_stack.last_mut() {
            push_call(
                frame,
                Callee::Method {
                    name: name.clone().into_boxed_str(),
                    recv,
                },
                Some(at),
            );
        }
        match name.as_str() {
            "with_state" => {
                if let Some(arg) = expr.args.first() {
                    self.push_state(StateKind::WithState, arg, at);
                }
                // A handler given its state: `handler.with_state(s)`.
                if let syn::Expr::Path(p) = &*expr.receiver
                    && p.qself.is_none()
                {
                    let path = path_text(&p.path);
                    self.route_args(
                        std::iter::once(&*expr.receiver),
                        RouteKind::WithState,
                        path,
                        "with_state",
                        at,
                    );
                    for arg in &expr.args {
                        self.visit_expr(arg);
                    }
                    return;
                }
            }
            "layer" => {
                if let Some(syn::Expr::Call(c)) = expr.args.first()
                    && let syn::Expr::Path(p) = &*c.func
                    && p.path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == "Extension")
                    && let Some(arg) = c.args.first()
                {
                    self.push_state(StateKind::Extension, arg, at);
                }
            }
            "app_data" => {
                // `app_data(web::Data::new(s))` is recorded by the `Data::new` call itself.
                if let Some(arg) = expr.args.first()
                    && !matches!(arg, syn::Expr::Call(c) if matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.iter().any(|s| s.ident == "Data")))
                {
                    self.push_state(StateKind::AppData, arg, at);
                }
            }
            "manage" => {
                if let Some(arg) = expr.args.first() {
                    self.push_state(StateKind::Manage, arg, at);
                }
            }
            "route_service" | "fallback" | "fallback_service" | "wrap_fn" => {
                let kind = if name == "wrap_fn" {
                    RouteKind::Middleware
                } else {
                    RouteKind::Service
                };
                self.visit_expr(&expr.receiver);
                let via = PathText::new(std::iter::once(name.as_str()));
                self.route_args(expr.args.iter(), kind, via, &name, at);
                return;
            }
            m if routes::is_chain_method(m) => {
                if let Some(root) = routes::chain_root(&expr.receiver) {
                    let via = path_text(root);
                    self.visit_expr(&expr.receiver);
                    self.route_args(expr.args.iter(), RouteKind::Chain, via, &name, at);
                    return;
                }
            }
            _ => {}
        }
        visit::visit_expr_method_call(self, expr);
    }
}

/// Whether `expr` makes or clones a shared pointer: `Arc::new(..)`, `Rc::new`, `Box::new`,
/// `Arc::clone(&x)`, or `x.clone()` of a name bound to one.
fn shared_pointer_expr<'ast>(
    expr: &'ast syn::Expr,
    n: u8,
    lookup: &dyn Fn(&proc_macro2::Ident) -> Option<Binding<'ast>>,
) -> bool {
    if n > 8 {
        return false;
    }
    match expr {
        syn::Expr::Call(c) => match &*c.func {
            syn::Expr::Path(p) => {
                let segs = &p.path.segments;
                segs.len() >= 2
                    && matches!(
                        segs[segs.len() - 2].ident.to_string().as_str(),
                        "Arc" | "Rc" | "Box"
                    )
                    && matches!(
                        segs[segs.len() - 1].ident.to_string().as_str(),
                        "new" | "clone" | "from"
                    )
            }
            _ => false,
        },
        syn::Expr::MethodCall(m) if m.method == "clone" => match &*m.receiver {
            syn::Expr::Path(p) if p.path.segments.len() == 1 => lookup(&p.path.segments[0].ident)
                .and_then(|b| b.init)
                .is_some_and(|init| {
                    !std::ptr::eq(init, expr) && shared_pointer_expr(init, n + 1, lookup)
                }),
            _ => false,
        },
        syn::Expr::Paren(p) => shared_pointer_expr(&p.expr, n + 1, lookup),
        _ => false,
    }
}

fn push_call(frame: &mut FnFrame, callee: Callee, at: Option<proc_macro2::LineColumn>) {
    let at = at.unwrap_or(proc_macro2::LineColumn { line: 0, column: 0 });
    frame.calls.push(Call {
        callee,
        line: at.line as u32,
        column: at.column as u32 + 1,
    });
}

/// `SeqHandler(h)`: a type-like name called with one argument, a newtype around a handler.
fn newtype_call(c: &syn::ExprCall) -> bool {
    c.args.len() == 1
        && matches!(&*c.func, syn::Expr::Path(f)
            if f.path.segments.last().is_some_and(|s| routes::type_like(&s.ident)))
}

fn delimiter_close(d: &syn::MacroDelimiter) -> proc_macro2::Span {
    match d {
        syn::MacroDelimiter::Paren(p) => p.span.close(),
        syn::MacroDelimiter::Brace(b) => b.span.close(),
        syn::MacroDelimiter::Bracket(b) => b.span.close(),
    }
}

fn path_text(path: &syn::Path) -> PathText {
    PathText::new(path.segments.iter().map(|s| &s.ident))
}

pub(crate) fn path_string(path: &syn::Path) -> String {
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

/// `#[no_mangle]`, `#[export_name = ".."]` (also inside `#[unsafe(..)]`) and `#[used]`: the item
/// is handed to foreign code or the linker.
fn is_export_attr(attr: &syn::Attribute) -> bool {
    let named = |path: &syn::Path| {
        path.is_ident("no_mangle") || path.is_ident("export_name") || path.is_ident("used")
    };
    if named(attr.path()) {
        return true;
    }
    attr.path().is_ident("unsafe")
        && attr
            .parse_args::<syn::Meta>()
            .is_ok_and(|m| named(m.path()))
}

/// `#[test]`, `#[tokio::test]`, ... and `#[cfg(test)]` (also inside `all(..)`).
pub(crate) fn is_test_attr(attr: &syn::Attribute) -> bool {
    let path = attr.path();
    if path.segments.last().is_some_and(|s| s.ident == "test") {
        return true;
    }
    cfg_attr_requires(attr, &["test"])
}

/// The features of a `#[cfg(feature = "a")]` or `#[cfg(any(test, feature = "a", ..))]` gate (every
/// alternative is `test` or a feature; also inside `all(..)`): the item is test code unless one of
/// these features is on in a production build.
fn test_features(attr: &syn::Attribute) -> Option<Vec<Box<str>>> {
    if !attr.path().is_ident("cfg") {
        return None;
    }
    let meta = attr.parse_args::<syn::Meta>().ok()?;
    gate_features(&meta)
}

fn gate_features(meta: &syn::Meta) -> Option<Vec<Box<str>>> {
    let list = match meta {
        // `#[cfg(feature = "testing")]`: test code when only tests enable the feature.
        syn::Meta::NameValue(nv) if nv.path.is_ident("feature") => {
            return feature_name(&nv.value).map(|f| vec![f]);
        }
        syn::Meta::List(list) => list,
        _ => return None,
    };
    let nested = list
        .parse_args_with(syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
        .ok()?;
    if list.path.is_ident("all") {
        return nested.iter().find_map(gate_features);
    }
    if !list.path.is_ident("any") {
        return None;
    }
    let mut features = Vec::new();
    for m in &nested {
        match m {
            syn::Meta::Path(p) if p.is_ident("test") => {}
            syn::Meta::NameValue(nv) if nv.path.is_ident("feature") => {
                features.push(feature_name(&nv.value)?)
            }
            _ => return None,
        }
    }
    (!features.is_empty()).then_some(features)
}

fn feature_name(value: &syn::Expr) -> Option<Box<str>> {
    match value {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value().into_boxed_str()),
        _ => None,
    }
}

/// Whether `attr` is a `#[cfg(..)]` that can only hold when one of `names` is set.
fn cfg_attr_requires(attr: &syn::Attribute, names: &[&str]) -> bool {
    attr.path().is_ident("cfg")
        && attr
            .parse_args::<syn::Meta>()
            .is_ok_and(|m| cfg_requires(&m, names))
}

pub(crate) fn cfg_requires(meta: &syn::Meta, names: &[&str]) -> bool {
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
    use crate::facts::TypeExpr;

    fn facts(src: &str) -> FileFacts {
        collect(&syn::parse_file(src).unwrap())
    }

    #[test]
    fn types_are_kept_as_written_and_uses_recorded() {
        let f = facts(
            "use std::sync::{Mutex as M, RwLock}; pub use crate::a::*; extern crate alloc as al;\n\
             mod inner { use super::M; static B: M<u8> = M::new(0); }\n\
             static A: M<u8> = M::new(0);",
        );
        assert_eq!(
            f.globals[1].ty,
            TypeExpr::Path {
                segments: vec!["M".into()],
                args: vec![TypeExpr::Path {
                    segments: vec!["u8".into()],
                    args: vec![]
                }],
            }
        );
        assert_eq!(f.globals[1].ty_text, "M<u8>");
        assert_eq!((f.globals[0].module, f.globals[1].module), (1, 0));
        let uses: Vec<_> = f
            .uses
            .iter()
            .map(|u| {
                (
                    u.module,
                    u.alias.as_deref(),
                    u.path.as_str().to_string(),
                    u.is_pub,
                )
            })
            .collect();
        assert_eq!(
            uses,
            [
                (0, Some("M"), "std::sync::Mutex".into(), false),
                (0, Some("RwLock"), "std::sync::RwLock".into(), false),
                (0, None, "crate::a".into(), true),
                (0, Some("al"), "alloc".into(), false),
                (1, Some("M"), "super::M".into(), false),
            ]
        );
    }

    #[test]
    fn modules_paths_and_test_modules() {
        let f = facts(
            "#[cfg(test)] mod tests;\n#[path = \"sys/unix.rs\"] mod imp;\n\
             mod a { mod b; #[cfg(test)] mod c { mod d; } }",
        );
        let mods: Vec<_> = f
            .modules
            .iter()
            .map(|m| {
                (
                    m.name.as_str(),
                    m.parent,
                    m.kind,
                    m.path_attr.as_deref(),
                    m.in_test,
                )
            })
            .collect();
        assert_eq!(
            mods,
            [
                ("", None, ModuleKind::File, None, false),
                ("tests", Some(0), ModuleKind::OutOfLine, None, true),
                (
                    "imp",
                    Some(0),
                    ModuleKind::OutOfLine,
                    Some("sys/unix.rs"),
                    false
                ),
                ("a", Some(0), ModuleKind::Inline, None, false),
                ("b", Some(3), ModuleKind::OutOfLine, None, false),
                ("c", Some(3), ModuleKind::Inline, None, true),
                ("d", Some(5), ModuleKind::OutOfLine, None, true),
            ]
        );
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
            .map(|g| (g.name.as_str(), g.in_test, g.module))
            .collect();
        assert_eq!(
            names,
            [
                ("I", false, 0),
                ("T", true, 1),
                ("U", true, 0),
                ("V", false, 0),
                ("W", true, 0)
            ]
        );
        assert_eq!(f.fns[0].qualified(&f), "E::instance");
        assert!(f.fns[0].returns_static_ref());
        assert_eq!(f.fns[0].ret_text(), "&'static E");
        assert!(f.fns[0].uses.iter().any(|u| u.as_str() == "I"));
        let owner = f.fns[0].owner.expect("a method");
        assert_eq!(
            f.impls[owner as usize]
                .self_ty
                .as_ref()
                .map(PathText::as_str),
            Some("E")
        );
        let callees: Vec<_> = f.fns[0].calls.iter().map(|c| &c.callee).collect();
        assert_eq!(
            callees,
            [
                &Callee::Path(PathText("OnceLock::new".into())),
                &Callee::Method {
                    name: "get_or_init".into(),
                    recv: Recv::Any
                }
            ]
        );
        assert_eq!(f.test_ranges, [(2, 2), (3, 3), (5, 5)]);
    }

    #[test]
    fn calls_keep_paths_and_first_positions() {
        let f = facts(
            "fn h(arg: u8) {\n    a::b(1);\n    Self::c(); a::b(2);\n    x.m(); x.m();\n\
             let local = arg; let f = |y| y + local + GLOBAL; match arg { n => n + crate::N }\n}",
        );
        let calls: Vec<_> = f.fns[0]
            .calls
            .iter()
            .map(|c| (c.callee.clone(), c.line, c.column))
            .collect();
        assert_eq!(
            calls,
            [
                (Callee::Path(PathText("Self::c".into())), 3, 5),
                (Callee::Path(PathText("a::b".into())), 2, 5),
                (
                    Callee::Method {
                        name: "m".into(),
                        recv: Recv::Any
                    },
                    4,
                    7
                ),
            ]
        );
        let uses: Vec<_> = f.fns[0].uses.iter().map(PathText::as_str).collect();
        assert_eq!(
            uses,
            ["GLOBAL", "Self::c", "a::b", "crate::N", "x"],
            "locals, parameters and bindings dropped"
        );
    }

    #[test]
    fn macro_items_know_the_macro_line() {
        let f = facts(
            "// c\nthread_local! {\n    static A: Cell<u8> = Cell::new(0);\n}\nstatic B: u8 = 0;",
        );
        assert_eq!(f.globals[0].macro_start, Some(2));
        assert_eq!(f.globals[1].macro_start, None);
    }

    #[test]
    fn fields_only_in_tooling_builds_are_left_out() {
        let f = facts(
            "struct D<T> { #[cfg(miri)] map: Mutex<BTreeMap<usize, T>>, #[cfg(unix)] fd: i32, p: PhantomData<T> }",
        );
        let names: Vec<_> = f.types[0].fields.iter().filter_map(|t| t.name()).collect();
        assert_eq!(names, ["i32", "PhantomData"]);
    }

    fn regs(f: &FileFacts) -> Vec<String> {
        f.registrations
            .iter()
            .map(|r| {
                let h = match &r.handler {
                    Handler::Path(p) => p.as_str().to_string(),
                    Handler::Closure(i) => f.fns[*i as usize].qualified(f),
                    Handler::Param(i) => format!("param {i}"),
                };
                format!(
                    "{}: {:?} {}{}{} -> {h}",
                    f.fns[r.in_fn as usize].qualified(f),
                    r.kind,
                    r.via.as_str(),
                    if r.method.is_empty() { "" } else { "." },
                    r.method
                )
            })
            .collect()
    }

    #[test]
    fn routing_calls_record_their_handlers() {
        let f = facts(
            "fn router() -> Router {\n\
               Router::new()\n\
                 .route(\"/a\", get(api::list).post(create))\n\
                 .route(\"/b\", axum::routing::delete(|| async { engine::stop() }))\n\
                 .route_service(\"/c\", tower::service_fn(svc))\n\
                 .layer(middleware::from_fn(auth::check))\n\
                 .route(\"/d\", get_internal(pages::home))\n\
                 .fallback(not_found)\n\
             }\n\
             fn actix(cfg: &mut ServiceConfig) {\n\
               cfg.service(web::resource(\"/x\").route(web::get().to(show::<B>)));\n\
               cfg.route(\"/y\", get().to(|| async { 1 }));\n\
             }\n\
             fn get_internal<H>(handler: H) -> MethodRouter { get(handler).layer(x) }\n\
             fn rocket() { rocket::build().mount(\"/\", routes![index, api::show]); }\n\
             fn not_routes(map: HashMap<u8, u8>, key: u8) { map.get(key); items.iter().any(|x| x.ok()); get(key); }",
        );
        assert_eq!(
            regs(&f),
            [
                "router: Call get -> api::list",
                "router: Chain get.post -> create",
                "router: Call axum::routing::delete -> router::{closure}",
                "router: Service tower::service_fn -> svc",
                "router: Middleware middleware::from_fn -> auth::check",
                "router: Call get_internal -> pages::home",
                "router: Service fallback.fallback -> not_found",
                "actix: Chain web::get.to -> show",
                "actix: Chain get.to -> actix::{closure}",
                "get_internal: Call get -> param 0",
                "rocket: List routes -> index",
                "rocket: List routes -> api::show",
                // A parameter handed to something named `get`: a wrapper candidate, decided
                // when `get` is resolved.
                "not_routes: Call get -> param 1",
            ]
        );
        // The closure handler is its own function: its calls are not `router`'s.
        let closure = f.fns.iter().find(|x| x.closure_of.is_some()).unwrap();
        assert!(
            closure
                .calls
                .iter()
                .any(|c| c.callee == Callee::Path(PathText("engine::stop".into())))
        );
        let router = &f.fns[0];
        assert!(
            !router
                .calls
                .iter()
                .any(|c| c.callee == Callee::Path(PathText("engine::stop".into())))
        );
    }

    #[test]
    fn state_registrations_and_extractors() {
        let f = facts(
            "async fn main() {\n\
               let shared = Arc::new(AppState { runs: Default::default() });\n\
               let app = Router::new().route(\"/\", get({ let s = Arc::clone(&shared); move || handle(s) }))\n\
                 .with_state(state::Global::new())\n\
                 .layer(Extension(Storage::open()?));\n\
               let data = web::Data::new(Engine { x: 1 });\n\
               App::new().app_data(data.clone()).app_data(web::Data::new(Other::default()));\n\
               rocket::build().manage(pool);\n\
             }\n\
             async fn h(State(st): State<AppState>, d: web::Data<Engine>, x: &State<Cfg>) { st.engine.start(); d.run(); }",
        );
        let states: Vec<_> = f
            .states
            .iter()
            .map(|s| (format!("{:?}", s.kind), s.ty.as_str().to_string()))
            .collect();
        assert_eq!(
            states,
            [
                // Outermost method call first: `.layer(..)` is read before its receiver.
                ("Extension".into(), "Storage".to_string()),
                ("WithState".into(), "state::Global".into()),
                ("Captured".into(), "AppState".into()),
                ("Data".into(), "Engine".into()),
                ("AppData".into(), "Engine".into()),
                ("Data".into(), "Other".into()),
            ]
        );
        let extracts: Vec<_> = f.extracts.iter().map(|e| e.ty.as_str()).collect();
        assert_eq!(extracts, ["AppState", "Engine", "Cfg"]);
        let h = f.fns.iter().find(|x| &*x.name == "h").unwrap();
        let methods: Vec<_> = h
            .calls
            .iter()
            .map(|c| match &c.callee {
                Callee::Method {
                    name,
                    recv: Recv::Typed { ty, field },
                } => {
                    format!(
                        "{name} on {}{}",
                        ty.as_str(),
                        field
                            .as_deref()
                            .map(|f| format!(".{f}"))
                            .unwrap_or_default()
                    )
                }
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(methods, ["run on Engine", "start on AppState.engine"]);
    }

    #[test]
    fn macro_bodies_are_scanned_and_grpc_methods_marked() {
        let f = facts(
            "#[tonic::async_trait]\n\
             impl Greeter for MyGreeter {\n\
               async fn say(&self, req: Request<Hello>) -> Result<Response<Reply>, Status> {\n\
                 tokio::select! { r = engine::run() => info!(%r, \"{}\", self.log(REGISTRY.len())) }\n\
                 Ok(Response::new(Reply {}))\n\
               }\n\
               fn helper(&self) {}\n\
             }",
        );
        assert_eq!(f.impls[0].attrs, ["tonic::async_trait"]);
        assert!(f.fns[0].grpc_shaped && !f.fns[1].grpc_shaped);
        let calls: Vec<_> = f.fns[0]
            .calls
            .iter()
            .map(|c| format!("{:?}", c.callee))
            .collect();
        assert!(calls.iter().any(|c| c.contains("engine::run")), "{calls:?}");
        assert!(calls.iter().any(|c| c.contains("\"log\"")), "{calls:?}");
        assert!(f.fns[0].uses.iter().any(|u| u.as_str() == "REGISTRY"));
    }

    #[test]
    fn struct_fields_have_names_and_places() {
        let f = facts(
            "struct S {\n  a: u8,\n  #[cfg(test)] t: u8,\n  sessions: Mutex<u8>,\n}\nstruct T(Arc<Inner>);",
        );
        let t = &f.types[0];
        let names: Vec<_> = (0..t.fields.len())
            .map(|i| {
                (
                    t.field_name(i),
                    t.field_loc(i).map(|l| (l.line, l.column, l.end_column)),
                )
            })
            .collect();
        assert_eq!(
            names,
            [("a", Some((2, 3, 4))), ("sessions", Some((4, 3, 11)))]
        );
        assert_eq!(f.types[1].field_name(0), "0");
    }
}
