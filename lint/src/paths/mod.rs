//! Execution paths: which functions serve requests ([`entries`]), what they call ([`graph`]),
//! and, for each finding, the shortest chain of calls from an entry point to the function that
//! uses the state.
//!
//! One breadth-first search runs from every entry point at once (in node order, callees in node
//! order), so the first function found to use a global is one of the nearest, and the chain to
//! it is the same on every run. A node's callees are resolved only when the search reaches it;
//! its uses are resolved only for names some finding is about. Cycles end: a node is visited
//! once.

pub(crate) mod entries;
pub(crate) mod graph;
pub(crate) mod pattern;

use std::collections::{HashMap, HashSet};

use crate::diagnostic::{Loc, PathStep, Related, Span};
use crate::levels::Reach;
use crate::resolve::{Def, Res};
use crate::source::FileId;
pub(crate) use entries::Entry;
pub(crate) use graph::{Graph, Node, TypeKey};

/// What a finding is about, for reachability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A global: reached when a reached function names it.
    Global(FileId, usize),
    /// Application state of these types (the registered type and the types on the way to the
    /// field): reached when a reached function extracts one (`State<T>`, `Data<T>`,
    /// `Extension<T>`), is a method of one, or is a handler closure that captured it.
    State(Vec<TypeKey>),
}

const UNSEEN: u32 = u32::MAX;
const ROOT: u32 = u32::MAX - 1;

/// The outcome of the search.
pub(crate) struct Reachability<'g, 'a> {
    pub graph: Graph<'g, 'a>,
    pub entries: Vec<Entry>,
    /// Per node: the node it was reached from (`ROOT` for an entry, `UNSEEN` if not reached).
    parent: Vec<u32>,
    /// Per node: where its parent calls it (line, column in the parent's file).
    site: Vec<(u32, u32)>,
    global_user: HashMap<(FileId, usize), Node>,
    state_user: HashMap<TypeKey, Node>,
}

/// What the search needs to know of the findings: the names of the globals they are about, and
/// the state types.
pub(crate) struct Wanted<'w> {
    pub global_names: HashSet<&'w str>,
    pub state_types: HashSet<TypeKey>,
}

impl<'g, 'a> Reachability<'g, 'a> {
    /// Finds the entry points and, if there are any, searches from them.
    pub fn new(graph: Graph<'g, 'a>, wanted: &Wanted) -> Self {
        let entries = entries::find(&graph);
        let mut r = Reachability {
            parent: Vec::new(),
            site: Vec::new(),
            global_user: HashMap::new(),
            state_user: HashMap::new(),
            entries,
            graph,
        };
        if !r.entries.is_empty() {
            r.search(wanted);
        }
        r
    }

    fn search(&mut self, wanted: &Wanted) {
        let g = &self.graph;
        self.parent = vec![UNSEEN; g.len()];
        self.site = vec![(0, 0); g.len()];
        let mut queue = std::collections::VecDeque::new();
        for e in &self.entries {
            if self.parent[e.node as usize] == UNSEEN {
                self.parent[e.node as usize] = ROOT;
                queue.push_back(e.node);
            }
        }
        let entry_set: HashSet<Node> = self.entries.iter().map(|e| e.node).collect();
        while let Some(node) = queue.pop_front() {
            self.record_uses(node, wanted);
            let g = &self.graph;
            let mut next = g.callees(node);
            // Closures collected out of the body (unless they are entries of their own).
            for &c in g.closures_of(node) {
                if !entry_set.contains(&c) {
                    let (f, func) = g.facts(c);
                    let _ = f;
                    next.push((c, func.loc.line, func.loc.column));
                }
            }
            next.sort_unstable();
            next.dedup_by_key(|x| x.0);
            for (callee, line, column) in next {
                if self.parent[callee as usize] == UNSEEN {
                    self.parent[callee as usize] = node;
                    self.site[callee as usize] = (line, column);
                    queue.push_back(callee);
                }
            }
        }
    }

    /// Notes the globals and state types `node` uses, if nobody nearer did.
    fn record_uses(&mut self, node: Node, wanted: &Wanted) {
        let g = &self.graph;
        let (file, idx) = g.locate(node);
        let (f, func) = g.facts(node);
        for text in &func.uses {
            if !wanted.global_names.contains(text.last()) {
                continue;
            }
            let segs = text.segments();
            let r = g.a.resolve(file, func.module, &segs);
            let mut hit = false;
            if r.consumed == segs.len() {
                for res in &r.res {
                    if let Res::Def(Def::Global(gf, gi)) = res {
                        self.global_user.entry((*gf, *gi)).or_insert(node);
                        hit = true;
                    }
                }
            }
            if !hit && segs.len() == 1 {
                // A name the resolver cannot follow (a global made by a macro the facts do not
                // see through): a global of that name in the same file.
                for (gi, gl) in f.globals.iter().enumerate() {
                    if gl.name == segs[0] {
                        self.global_user.entry((file, gi)).or_insert(node);
                    }
                }
            }
        }
        if wanted.state_types.is_empty() {
            return;
        }
        let touch = |key: TypeKey, map: &mut HashMap<TypeKey, Node>| {
            if wanted.state_types.contains(&key) {
                map.entry(key).or_insert(node);
            }
        };
        for x in f.extracts.iter().filter(|x| x.in_fn as usize == idx) {
            for key in g.types_named(file, func.module, &x.ty) {
                touch(key, &mut self.state_user);
            }
        }
        for s in f.states.iter().filter(|s| s.in_fn as usize == idx) {
            if s.kind == crate::facts::StateKind::Captured {
                for key in state_type(g, file, s.in_fn, &s.ty) {
                    touch(key, &mut self.state_user);
                }
            }
        }
        if let Some(owner) = func.owner {
            for &key in g.impl_self_types(file, owner, func).iter() {
                touch(key, &mut self.state_user);
            }
        }
    }

    /// How many functions the search reached.
    pub fn visited(&self) -> usize {
        self.parent.iter().filter(|&&p| p != UNSEEN).count()
    }

    /// Whether the scan has entry points at all.
    pub fn has_entries(&self) -> bool {
        !self.entries.is_empty()
    }

    /// How `target` is reached: the chain of nodes (entry first), or why not.
    pub fn reach(&self, target: &Target) -> (Reach, Vec<Node>) {
        if !self.has_entries() {
            return (Reach::NoEntryPoints, Vec::new());
        }
        let last = match target {
            Target::Global(f, i) => self.global_user.get(&(*f, *i)).copied(),
            Target::State(types) => types
                .iter()
                .filter_map(|t| self.state_user.get(t).copied())
                .min_by_key(|&n| (self.depth(n), n)),
        };
        match last {
            Some(n) => (Reach::Reached, self.chain(n)),
            None => (Reach::NotReached, Vec::new()),
        }
    }

    fn depth(&self, mut n: Node) -> usize {
        let mut d = 0;
        while self.parent[n as usize] != ROOT && self.parent[n as usize] != UNSEEN {
            n = self.parent[n as usize];
            d += 1;
        }
        d
    }

    /// The chain from an entry point to `node`, entry first.
    pub fn chain(&self, mut node: Node) -> Vec<Node> {
        let mut out = vec![node];
        while let Some(&p) = self.parent.get(node as usize) {
            if p == ROOT || p == UNSEEN {
                break;
            }
            out.push(p);
            node = p;
        }
        out.reverse();
        out
    }

    /// The function's place (its name).
    pub fn span(&self, node: Node) -> Span {
        let (file, _) = self.graph.locate(node);
        let (_, func) = self.graph.facts(node);
        Span {
            file,
            loc: func.loc,
        }
    }

    /// A chain as [`PathStep`]s, one related span per step (the entry point, then each call),
    /// and the sentence that says so (`reached from handler `a` -> `b``).
    pub fn describe(&self, chain: &[Node]) -> (Vec<PathStep>, Vec<Related>, String) {
        let mut steps = Vec::new();
        let mut related = Vec::new();
        let names: Vec<String> = chain.iter().map(|&n| self.graph.name(n)).collect();
        for (i, &n) in chain.iter().enumerate() {
            steps.push(PathStep {
                function: names[i].clone(),
                span: self.span(n),
            });
            if i == 0 {
                let how = self
                    .entries
                    .iter()
                    .find(|e| e.node == n)
                    .map_or("", |e| e.how.as_str());
                related.push(Related {
                    span: self.span(n),
                    message: format!("entry point `{}` ({how})", names[0]),
                });
            } else {
                let (file, _) = self.graph.locate(chain[i - 1]);
                let (line, column) = self.site[n as usize];
                let width = names[i]
                    .rsplit("::")
                    .next()
                    .map_or(1, |s| s.chars().count()) as u32;
                related.push(Related {
                    span: Span {
                        file,
                        loc: Loc::on_line(line, column, width),
                    },
                    message: format!("`{}` calls `{}`", names[i - 1], names[i]),
                });
            }
        }
        let text = format!(
            "reached from handler {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" -> ")
        );
        (steps, related, text)
    }
}

/// The scanned types a state registration's type names (through aliases is not followed).
pub(crate) fn state_type(
    g: &Graph,
    file: FileId,
    in_fn: u32,
    ty: &crate::facts::PathText,
) -> Vec<TypeKey> {
    match g.a.facts_of(file).and_then(|f| f.fns.get(in_fn as usize)) {
        Some(func) => g.types_named(file, func.module, ty),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::TypeOverrides;

    /// Each global's chain from the entry points (`-` when not reached), as `name: a -> b`.
    fn chains(files: &[(&str, &str)]) -> Vec<String> {
        crate::analysis::testing::with_analysis(files, TypeOverrides::default(), |a, _| {
            let mut names = HashSet::new();
            let mut globals = Vec::new();
            for (file, f) in a.files() {
                for (i, g) in f.globals.iter().enumerate() {
                    names.insert(g.name.as_str());
                    globals.push((g.name.clone(), file, i));
                }
            }
            let wanted = Wanted {
                global_names: names,
                state_types: HashSet::new(),
            };
            let r = Reachability::new(Graph::new(a), &wanted);
            globals.sort();
            globals
                .into_iter()
                .map(|(name, file, i)| {
                    let (_, chain) = r.reach(&Target::Global(file, i));
                    let shown: Vec<String> = chain.iter().map(|&n| r.graph.name(n)).collect();
                    if shown.is_empty() {
                        format!("{name}: -")
                    } else {
                        format!("{name}: {}", shown.join(" -> "))
                    }
                })
                .collect()
        })
    }

    #[test]
    fn paths_through_modules_renames_globs_and_reexports() {
        let out = chains(&[
            ("Cargo.toml", "[package]\nname = \"app\"\n"),
            (
                "src/main.rs",
                "mod api; mod engine; mod util;\n\
                 pub use engine::core::start as begin;\n\
                 fn main() {}",
            ),
            (
                "src/api.rs",
                "use crate::engine::*; use crate::util::helper as h;\n\
                 #[isolate::entry] fn create() { crate::begin(); h(); stop(); nested::deep(); }\n\
                 mod nested { pub fn deep() { super::super::util::leaf(); } }",
            ),
            (
                "src/engine/mod.rs",
                "pub mod core; pub fn stop() { STOPPED.lock(); }\nstatic STOPPED: Mutex<Vec<u8>> = todo!();",
            ),
            (
                "src/engine/core.rs",
                "pub fn start() { STARTED.lock(); }\nstatic STARTED: Mutex<Vec<u8>> = todo!();",
            ),
            (
                "src/util.rs",
                "pub fn helper() { HELPED.lock(); } pub fn leaf() { LEAF.lock(); } pub fn unused() { UNUSED.lock(); }\n\
                 static HELPED: Mutex<Vec<u8>> = todo!(); static LEAF: Mutex<Vec<u8>> = todo!(); static UNUSED: Mutex<Vec<u8>> = todo!();",
            ),
        ]);
        assert_eq!(
            out,
            [
                "HELPED: create -> helper",
                "LEAF: create -> deep -> leaf",
                "STARTED: create -> start",
                "STOPPED: create -> stop",
                "UNUSED: -",
            ],
            "`mod x;` in x.rs and x/mod.rs, `pub use` renames, globs, `super::super`, nested modules"
        );
    }

    #[test]
    fn methods_are_narrowed_where_the_receiver_is_known_and_wide_where_not() {
        let out = chains(&[(
            "src/lib.rs",
            "struct Engine; struct Other; trait Store { fn put(&self); } struct A; struct B;\n\
             impl Engine { fn run(&self) { ENGINE.lock(); } fn make() -> Engine { Self::boot(); Engine } fn boot() { BOOT.lock(); } }\n\
             impl Other { fn run(&self) { OTHER.lock(); } }\n\
             impl Store for A { fn put(&self) { PUT_A.lock(); } }\n\
             impl Store for B { fn put(&self) { PUT_B.lock(); } }\n\
             #[isolate::entry] fn typed(e: &Engine, s: Box<dyn Store>) { e.run(); Engine::make(); s.put(); }\n\
             #[isolate::entry] fn untyped(x: T) { x.clone(); }\n\
             static ENGINE: Mutex<Vec<u8>> = todo!(); static OTHER: Mutex<Vec<u8>> = todo!();\n\
             static BOOT: Mutex<Vec<u8>> = todo!(); static PUT_A: Mutex<Vec<u8>> = todo!(); static PUT_B: Mutex<Vec<u8>> = todo!();",
        )]);
        assert_eq!(
            out,
            [
                "BOOT: typed -> Engine::make -> Engine::boot",
                "ENGINE: typed -> Engine::run",
                "OTHER: -",
                "PUT_A: typed -> A::put",
                "PUT_B: typed -> B::put",
            ]
        );
        let wide = chains(&[(
            "src/lib.rs",
            "struct Engine; struct Other;\n\
             impl Engine { fn run(&self) { ENGINE.lock(); } }\n\
             impl Other { fn run(&self) { OTHER.lock(); } }\n\
             #[isolate::entry] fn untyped(x: T) { x.run(); }\n\
             static ENGINE: Mutex<Vec<u8>> = todo!(); static OTHER: Mutex<Vec<u8>> = todo!();",
        )]);
        assert_eq!(
            wide,
            [
                "ENGINE: untyped -> Engine::run",
                "OTHER: untyped -> Other::run"
            ],
            "an unknown receiver reaches every method of that name"
        );
        // Five types with a `run` and std's `get`: from an unknown receiver, guesses.
        let guessed = chains(&[(
            "src/lib.rs",
            "struct A; struct B; struct C; struct D; struct E;\n\
             impl A { fn run(&self) { RUN.lock(); } fn get(&self) { GET.lock(); } }\n\
             impl B { fn run(&self) {} } impl C { fn run(&self) {} }\n\
             impl D { fn run(&self) {} } impl E { fn run(&self) {} }\n\
             #[isolate::entry] fn untyped(x: T, m: U) { x.run(); m.get(1); }\n\
             #[isolate::entry] fn typed(a: A) { a.get(); }\n\
             static RUN: Mutex<Vec<u8>> = todo!(); static GET: Mutex<Vec<u8>> = todo!();",
        )]);
        assert_eq!(guessed, ["GET: typed -> A::get", "RUN: -"]);
    }

    #[test]
    fn a_method_is_found_whatever_name_its_impl_writes_the_type_with() {
        // The lookup by the impl's last segment must not lose impls written through a rename,
        // local or re-exported, nor one whose path ends in the type's own name.
        let out = chains(&[
            ("Cargo.toml", "[package]\nname = \"app\"\n"),
            (
                "src/lib.rs",
                "mod core; mod alias; mod reexport; mod other;\n\
                 pub use crate::core::Engine as Motor;\n\
                 #[isolate::entry] fn h(e: &core::Engine, o: &other::Engine) { e.start(); e.stop(); e.pause(); o.start(); }",
            ),
            ("src/core.rs", "pub struct Engine;"),
            (
                "src/alias.rs",
                "use crate::core::Engine as E;\nimpl E { pub fn start(&self) { STARTED.lock(); } }\n\
                 static STARTED: Mutex<Vec<u8>> = todo!();",
            ),
            (
                "src/reexport.rs",
                "use crate::Motor;\nimpl Motor { pub fn stop(&self) { STOPPED.lock(); } }\n\
                 impl crate::core::Engine { pub fn pause(&self) { PAUSED.lock(); } }\n\
                 static STOPPED: Mutex<Vec<u8>> = todo!(); static PAUSED: Mutex<Vec<u8>> = todo!();",
            ),
            (
                "src/other.rs",
                "pub struct Engine;\nimpl Engine { pub fn start(&self) { OTHER.lock(); } pub fn stop(&self) { NOT_CALLED.lock(); } }\n\
                 static OTHER: Mutex<Vec<u8>> = todo!(); static NOT_CALLED: Mutex<Vec<u8>> = todo!();",
            ),
        ]);
        assert_eq!(
            out,
            [
                "NOT_CALLED: -",
                "OTHER: h -> Engine::start",
                "PAUSED: h -> Engine::pause",
                "STARTED: h -> E::start",
                "STOPPED: h -> Motor::stop",
            ]
        );
    }

    #[test]
    fn a_known_receiver_without_the_method_is_followed_like_an_unknown_one() {
        // `Engine` has no `lock` or `start`: the call goes through `Deref` or a blanket impl.
        // std's names are not followed, nor a name five scanned types define; a rarer one is.
        let out = chains(&[(
            "src/lib.rs",
            "struct Engine; struct Store; struct A; struct B; struct C; struct D; struct E;\n\
             impl Store { fn lock(&self) { LOCKED.lock(); } fn flush(&self) { FLUSHED.lock(); } }\n\
             impl A { fn start(&self) { STARTED.lock(); } } impl B { fn start(&self) {} }\n\
             impl C { fn start(&self) {} } impl D { fn start(&self) {} } impl E { fn start(&self) {} }\n\
             #[isolate::entry] fn h(e: &Engine) { e.lock(); e.start(); e.flush(); }\n\
             static LOCKED: Mutex<Vec<u8>> = todo!(); static STARTED: Mutex<Vec<u8>> = todo!();\n\
             static FLUSHED: Mutex<Vec<u8>> = todo!();",
        )]);
        assert_eq!(
            out,
            ["FLUSHED: h -> Store::flush", "LOCKED: -", "STARTED: -"]
        );
    }

    #[test]
    fn recursion_ends_and_the_shortest_chain_wins() {
        let out = chains(&[(
            "src/lib.rs",
            "fn a() { b(); } fn b() { a(); c(); } fn c() { b(); G.lock(); }\n\
             fn short() { G.lock(); }\n\
             #[isolate::entry] fn far() { a(); }\n\
             #[isolate::entry] fn near() { short(); }\n\
             static G: Mutex<Vec<u8>> = todo!();",
        )]);
        assert_eq!(out, ["G: near -> short"]);
    }

    #[test]
    fn calls_in_macros_and_closures_belong_to_their_function() {
        let out = chains(&[(
            "src/lib.rs",
            "fn fmt_me() -> u8 { FMT.lock(); 1 } async fn spawned() { SPAWNED.lock(); } fn mapped(x: u8) -> u8 { MAPPED.lock(); x }\n\
             #[isolate::entry] async fn h(v: Vec<u8>) {\n\
                 tracing::info!(n = fmt_me(), \"x\");\n\
                 tokio::spawn(async move { spawned().await });\n\
                 let _: Vec<u8> = v.into_iter().map(|x| mapped(x)).collect();\n\
             }\n\
             static FMT: Mutex<Vec<u8>> = todo!(); static SPAWNED: Mutex<Vec<u8>> = todo!(); static MAPPED: Mutex<Vec<u8>> = todo!();",
        )]);
        assert_eq!(
            out,
            [
                "FMT: h -> fmt_me",
                "MAPPED: h -> mapped",
                "SPAWNED: h -> spawned"
            ]
        );
    }

    #[test]
    fn a_scan_without_entry_points_reaches_nothing() {
        crate::analysis::testing::with_analysis(
            &[(
                "src/lib.rs",
                "fn f() { G.lock(); } static G: Mutex<Vec<u8>> = todo!();",
            )],
            TypeOverrides::default(),
            |a, _| {
                let r = Reachability::new(
                    Graph::new(a),
                    &Wanted {
                        global_names: HashSet::from(["G"]),
                        state_types: HashSet::new(),
                    },
                );
                assert!(!r.has_entries());
                let (file, _) = a.files().next().unwrap();
                assert_eq!(r.reach(&Target::Global(file, 0)).0, Reach::NoEntryPoints);
            },
        );
    }
}
