use super::{GlobalView, Hit, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    id: "shared_mutable_map",
    default_level: Level::Deny,
    summary: "a global holding a collection behind a lock or cell, or a concurrent map (`DashMap`, ...), including through your own types and in `thread_local!`",
    doc: r#"# shared_mutable_map

## What it finds
A global (plain static, lazy static, `lazy_static!` item or `thread_local!`) whose type holds a
collection - `HashMap`, `BTreeMap`, `HashSet`, `Vec`, `VecDeque`, `IndexMap`, `Slab`,
`SmallVec`, `LruCache`, ... - behind interior mutability (`Mutex`, `RwLock`, `RefCell`,
parking_lot / tokio / async-std / spin locks, `ArcSwap`, ...), at any depth, including through
your own structs; or a concurrent map or set anywhere in its type (`DashMap`, `DashSet`,
papaya, scc, evmap, flurry, moka, ...). Thread-local maps are included: in an async server a
thread-local is shared by every request that runs on that thread.

## Why it is a cross-user leak and a race
This is how per-run state leaks between users: an engine keeps `active_runs` and
`run_history` in a process-wide map, every request reads and writes it, and a lookup by run id
alone returns another user's run. Under concurrency the shared lock also serialises users.

## Bad
```rust
static ACTIVE_RUNS: Lazy<Mutex<HashMap<RunId, Run>>> = Lazy::new(Default::default);

async fn start(run: RunId) {
    ACTIVE_RUNS.lock().unwrap().insert(run, Run::new()); // every user's runs in one map
}
```

## Good
```rust
#[derive(isolate::RequestScoped)]
struct Engine<'r> {
    #[isolate(context)]
    ctx: &'r isolate::RequestContext,
    active_runs: HashMap<RunId, Run>, // fresh for each request, dropped with it
    _seal: isolate::Sealed<'r>,
}

// once, at startup:  let engines = EngineFactory::new();
// per request:       runtime.run(ctx, async |scope| engines.create(scope).start()).await
```

## Fix
Keep the collection in a per-request engine built by an isolate factory
(`#[derive(isolate::RequestScoped)]`, a fresh field). If it must outlive a request (a registry
of active runs), key every entry by the authenticated user and expose it only through an API
that takes the caller's context, like `isolate::Runtime`'s run registry.
"#,
    global: Some(check),
    project: None,
};

pub(crate) fn check(v: &GlobalView) -> Option<Hit> {
    let s = v.shape;
    if !s.mutable_map() {
        return None;
    }
    let what = if s.concurrent_map {
        "a concurrent map"
    } else {
        "a collection behind interior mutability"
    };
    let scope = if v.is_thread_local() {
        "every request that runs on the same thread"
    } else {
        "every request of every user"
    };
    Some(Hit {
        message: format!(
            "`{}` holds {what} ({}) shared by {scope}",
            v.global.name,
            super::quoted_type(v.global)
        ),
        help: "keep the collection in a per-request engine (a fresh field of a \
               #[derive(isolate::RequestScoped)] struct); if it must outlive the request, key \
               every entry by the authenticated user"
            .into(),
        ..Hit::default()
    })
}
