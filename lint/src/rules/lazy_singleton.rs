use super::{GlobalView, Hit, Level, Rule, describe};
use crate::classify::StateKind;

pub(crate) static RULE: Rule = Rule {
    id: "lazy_singleton",
    default_level: Level::Warn,
    summary: "a lazily initialised global (`lazy_static!`, `Lazy`, `OnceLock`, `LazyLock`, `OnceCell`, `OnceBox`) whose contents are not provably immutable (its `&'static` accessors shown with it)",
    doc: r#"# lazy_singleton

## What it finds
A lazily initialised global instance: `lazy_static!` items, `once_cell::{sync,unsync}::{Lazy,
OnceCell}`, `std::sync::{OnceLock, LazyLock}`, `std::cell::{OnceCell, LazyCell}`, `OnceBox`, in
statics. Its singleton accessors - functions or methods returning `&'static T` (or
`Option<&'static T>`, `Result<&'static T, E>`) out of it (`fn instance() -> &'static Self`,
`fn global()`, `get_instance()`) - are shown with the finding as related spans: a global and
its accessor are one problem, reported once, at the global (this holds for the accessors of
every rule's globals).

A lazy global whose contents are known to be immutable is a constant and is never reported:
`String`, numbers, `Regex`, `Url`, chrono/time values, JWT keys and headers, markdown parsers,
syntax sets, compiled queries, `serde_json::Value`, an immutable lookup table, your own type
without interior mutability. Library types are trusted by the crate they come from (through
`use` renames and re-exports), never by a name alone. One whose type the linter cannot see
into (a library client) is reported, naming the part it could not see into; metrics
instruments (Prometheus, `metrics`, OpenTelemetry) are reported as such, with metrics help.

## Why it is a cross-user leak and a race
The first request to touch the singleton decides what it holds, and every later request of
every user gets that same instance. Singletons that cache managers, emitters or connections per
"current" user hand one user's objects to the next; falling back to the shared instance on an
error turns a failure into a leak.

## Bad
```rust
static BRIDGE: OnceLock<WebSocketBridge> = OnceLock::new();

impl WebSocketBridge {
    pub fn instance() -> &'static Self {
        BRIDGE.get_or_init(WebSocketBridge::new)
    }
}
```

## Good
```rust
#[derive(isolate::RequestScoped)]
struct Bridge<'r> {
    #[isolate(emitter)]
    events: &'r isolate::EventEmitter, // per-request, bound to this user
    _seal: isolate::Sealed<'r>,
}
```

## Fix
Build the instance per request with an isolate factory (`#[derive(isolate::RequestScoped)]`)
from frozen application dependencies. A request-agnostic, internally synchronised client (a
connection pool, an HTTP client) is passed in explicitly as `isolate::Shared<T>` rather than
fetched from a global; if it really must stay global, suppress with a reason:
`// isolate: allow(lazy_singleton) -- stateless HTTP client`.
"#,
    global: Some(check),
    project: None,
};

pub(crate) fn check(v: &GlobalView) -> Option<Hit> {
    if v.is_thread_local() || !v.is_lazy() {
        return None;
    }
    let s = v.shape;
    if !s.interior && !s.unknown {
        return None;
    }
    let part = describe::part(v, describe::target_of(v.state));
    let name = &v.global.name;
    let ty = super::quoted_type(v.global);
    let message = match v.state {
        StateKind::Metric => format!(
            "`{name}` is a process-wide metrics instrument ({ty}){}: every request of every \
             user counts into it",
            part.detail
        ),
        StateKind::Watch => format!(
            "`{name}` is a lazily initialised singleton ({ty}) holding a watched configuration \
             value{}; every request reads the value last sent",
            part.detail
        ),
        StateKind::Channel => format!(
            "`{name}` is a lazily initialised singleton ({ty}) holding a channel{}; every \
             request of every user uses the same queue",
            part.detail
        ),
        StateKind::UnknownContents => format!(
            "`{name}` is a lazily initialised singleton ({ty}) that holds a type that cannot be \
             shown to be immutable{}; every request of every user shares the first instance",
            part.detail
        ),
        _ => format!(
            "`{name}` is a lazily initialised singleton ({ty}) that holds mutable state{}; \
             every request of every user shares the first instance",
            part.detail
        ),
    };
    Some(Hit {
        message,
        help: describe::help(v, v.state, RULE.id, &part),
        related: part.related,
        ..Hit::default()
    })
}
