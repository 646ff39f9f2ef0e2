use super::{GlobalView, Hit, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    id: "interior_mutable_static",
    default_level: Level::Warn,
    summary: "a plain static with interior mutability (`Mutex`, `Cell`, `Atomic*`, `ArcSwap`, channels, your own types holding them)",
    doc: r#"# interior_mutable_static

## What it finds
A plain (not lazy) `static` whose type has interior mutability: `Mutex`, `RwLock`, `Cell`,
`RefCell`, `UnsafeCell`, `Atomic*`, `ArcSwap`, crossbeam queues, channel senders - directly or
inside your own structs, enums and type aliases, resolved across every scanned file.

## Why it is a cross-user leak and a race
A static is one value for the process. Interior mutability lets every request change it
through a shared reference, so whatever one user's request stores - a counter, a "current"
value, a queue - is what the next user's request sees.

## Bad
```rust
static CURRENT_RUN: Mutex<Option<RunId>> = Mutex::new(None);
```

## Good
```rust
#[derive(isolate::RequestScoped)]
struct Engine<'r> {
    #[isolate(context)]
    ctx: &'r isolate::RequestContext,
    current_run: Option<RunId>, // fresh per request
    _seal: isolate::Sealed<'r>, // only the generated EngineFactory can build one
}
```

## Fix
Move the state into a per-request struct built by an isolate factory, or read it from the
`RequestContext`. Process-wide metrics counters that never feed back into a response are
legitimate: suppress them with a reason (`// isolate: allow(interior_mutable_static) --
metrics only`).
"#,
    global: Some(check),
    project: None,
};

pub(crate) fn check(v: &GlobalView) -> Option<Hit> {
    if v.is_thread_local() || v.is_lazy() || !v.shape.interior {
        return None;
    }
    Some(Hit {
        message: format!(
            "`{}` has interior mutability ({}) and is shared by every request of every user",
            v.global.name,
            super::quoted_type(v.global)
        ),
        help: "move the state into a per-request struct (#[derive(isolate::RequestScoped)]) or \
               the RequestContext"
            .into(),
        ..Hit::default()
    })
}
