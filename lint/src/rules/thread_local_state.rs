use super::{GlobalView, Hit, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    id: "thread_local_state",
    default_level: Level::Warn,
    summary: "mutable `thread_local!` state (not maps): an async runtime runs many users' requests on one thread",
    doc: r#"# thread_local_state

## What it finds
`thread_local!` items whose contents are mutable (`Cell`, `RefCell`, `OnceCell`, atomics, your
own types holding them) and are not collections (those are `shared_mutable_map`).
Immutable thread-locals and thread-locals of types the linter cannot see into are not reported.

## Why it is a cross-user leak and a race
A thread-local is per thread, not per request. An async runtime runs many requests of many
users on the same worker thread, and moves one request between threads at every `.await`: a
"current user" stored in a thread-local is read by whichever request runs next on that thread,
and a request can find a different value after an `.await` than it stored before it.

## Bad
```rust
thread_local! {
    static CURRENT_USER: RefCell<Option<UserId>> = const { RefCell::new(None) };
}
```

## Good
```rust
async fn handler(ctx: isolate::RequestContext) {
    let user = ctx.user_id(); // identity travels with the request
}
```

## Fix
Pass the value explicitly: put identity in the `RequestContext` and per-request state in a
struct built by an isolate factory. Thread-locals are fine for per-thread caches that hold
nothing user-specific; suppress those with a reason.
"#,
    global: Some(check),
    project: None,
};

pub(crate) fn check(v: &GlobalView) -> Option<Hit> {
    let s = v.shape;
    if !v.is_thread_local() || !(s.interior || s.lazy) {
        return None;
    }
    Some(Hit {
        message: format!(
            "thread-local `{}` ({}) is mutable state shared by every request that runs on the \
             same thread",
            v.global.name,
            super::quoted_type(v.global)
        ),
        help: "an async runtime runs many users' requests on one thread: pass the value in the \
               RequestContext or a per-request struct instead"
            .into(),
        ..Hit::default()
    })
}
