// Shapes `#[derive(Frozen)]` accepts beyond plain fields: recursive types (through `Self` or
// by name, generic or not; mutually recursive with `#[isolate(recursive)]`), function pointers
// (higher-ranked too), tuples longer than 16 (and up to 16 through an alias), trait objects
// whose trait has `Frozen` as a supertrait, and user ids that are configuration
// (`Configured<UserId>`). Each is then usable as a shared dependency.
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use isolate::{
    Configured, Frozen, RequestContext, RequestScope, RequestScoped, Sealed, Shared, SharedClient,
    UserId,
};

#[derive(Frozen)]
struct List {
    value: u32,
    next: Option<Box<Self>>,
}

#[derive(Frozen)]
enum Tree<T> {
    Node(Vec<Tree<T>>),
    Leaf(T),
}

#[derive(Frozen)]
enum Expr {
    Literal(i64),
    Add(Box<Expr>, Box<Expr>),
    Call { name: String, args: Vec<Self> },
}

#[derive(Frozen)]
struct Department {
    name: String,
    teams: Vec<Team>,
}

#[derive(Frozen)]
struct Team {
    lead: String,
    parent: Option<Arc<Department>>,
}

#[derive(Frozen)]
struct Menu<T> {
    #[isolate(recursive)]
    items: Vec<Item<T>>,
    label: T,
}

#[derive(Frozen)]
struct Item<T> {
    submenu: Option<Box<Menu<T>>>,
}

#[derive(Frozen)]
struct Hooks<T> {
    validate: fn(&str) -> bool,
    parse: fn(String) -> Result<u32, String>,
    pick: for<'a> fn(&'a [T]) -> Option<&'a T>,
    table: Vec<(&'static str, fn(&str, &str) -> String)>,
}

type Wide = (u8, u16, u32, u64, i8, i16, i32, i64, bool, char, String, f32, f64, usize, u8, u8);

#[derive(Frozen)]
struct Layout {
    wide: Wide,
    inline: (u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8),
}

trait Prompts: Frozen + Send + Sync {
    fn system(&self) -> &str;
}

#[derive(Frozen)]
struct FixedPrompts(String);

impl Prompts for FixedPrompts {
    fn system(&self) -> &str {
        &self.0
    }
}

/// A client reached through a trait object: shared through `Shared`, not through `Frozen`.
trait Search: SharedClient {
    fn hits(&self, query: &str) -> usize;
}

struct Index;

// SAFETY: reviewed: stands for an internally synchronised, request-agnostic index.
unsafe impl SharedClient for Index {}

impl Search for Index {
    fn hits(&self, query: &str) -> usize {
        query.len()
    }
}

#[derive(Frozen)]
struct Access {
    admins: HashSet<Configured<UserId>>,
    by_token: BTreeMap<String, Configured<UserId>>,
}

#[derive(RequestScoped)]
struct Engine<'r> {
    #[isolate(shared)]
    expr: &'r Expr,
    #[isolate(shared)]
    hooks: &'r Hooks<u8>,
    #[isolate(shared)]
    prompts: Arc<dyn Prompts>,
    #[isolate(shared)]
    access: &'r Access,
    #[isolate(shared)]
    layout: Arc<Layout>,
    #[isolate(shared)]
    search: Shared<dyn Search>,
    #[isolate(context)]
    ctx: &'r RequestContext,
    #[isolate(fresh = "static text is fine")]
    label: &'static str,
    _seal: Sealed<'r>,
}

fn frozen<T: Frozen + Send + Sync + 'static>() {}

fn depth(list: &List) -> u32 {
    list.value + list.next.as_deref().map_or(0, depth)
}

fn leaves<T>(tree: &Tree<T>) -> usize {
    match tree {
        Tree::Node(children) => children.iter().map(leaves).sum(),
        Tree::Leaf(_) => 1,
    }
}

fn eval(expr: &Expr) -> i64 {
    match expr {
        Expr::Literal(n) => *n,
        Expr::Add(a, b) => eval(a) + eval(b),
        Expr::Call { name, args } => name.len() as i64 + args.iter().map(eval).sum::<i64>(),
    }
}

fn handle(factory: &EngineFactory, scope: &RequestScope) -> bool {
    let engine = factory.create(scope);
    let admin = engine.access.admins.contains(engine.ctx.user_id())
        || engine.access.by_token.values().any(|user| user == engine.ctx.user_id());
    admin
        && (engine.hooks.validate)(engine.prompts.system())
        && (engine.hooks.pick)(&[1, 2]).is_some()
        && eval(engine.expr) > 0
        && !engine.label.is_empty()
        && engine.layout.wide.10.is_empty()
        && engine.layout.inline.25 == 0
        && engine.hooks.table.iter().all(|(name, join)| !join(name, "x").is_empty())
        && (engine.hooks.parse)(String::from("7")).is_ok()
        && engine.search.hits("q") == 1
}

fn main() {
    frozen::<List>();
    frozen::<Tree<String>>();
    frozen::<Expr>();
    frozen::<Department>();
    frozen::<Menu<String>>();
    frozen::<Item<u8>>();
    frozen::<Hooks<u8>>();
    frozen::<Layout>();
    frozen::<Access>();
    frozen::<EngineFactory>();
    let list = List { value: 1, next: Some(Box::new(List { value: 2, next: None })) };
    assert_eq!(depth(&list), 3);
    assert_eq!(leaves(&Tree::Node(vec![Tree::Leaf(1), Tree::Node(vec![Tree::Leaf(2)])])), 2);
    let team = Team { lead: String::from("ada"), parent: None };
    let department = Department { name: String::from("research"), teams: vec![team] };
    assert_eq!(department.teams.len() + department.name.len(), 9);
    assert!(department.teams[0].parent.is_none() && !department.teams[0].lead.is_empty());
    let menu = Menu { items: vec![Item { submenu: None }], label: "file" };
    assert!(menu.items[0].submenu.is_none() && menu.label == "file");
    let _ = handle;
    let search: Shared<dyn Search> = Shared::from_arc(Arc::new(Index));
    assert_eq!(search.hits("abc"), 3);
}
