use super::{GlobalView, Hit, Level, Rule};
use crate::facts::FnFact;

pub const RULE: Rule = Rule {
    id: "lazy_singleton",
    default_level: Level::Warn,
    summary: "a lazily initialised global instance (lazy_static!, Lazy, OnceLock, ...) or its accessor",
    doc: r#"# lazy_singleton

## What it finds
A lazily initialised global instance: `lazy_static!` items, `once_cell::{sync,unsync}::{Lazy,
OnceCell}`, `std::sync::{OnceLock, LazyLock}`, `std::cell::{OnceCell, LazyCell}`, `OnceBox`, in
statics; and singleton accessors - a function or method returning `&'static T` out of such a
global (`fn instance() -> &'static Self`, `fn global()`, `get_instance()`), reported at the
accessor. A lazy global whose contents are known to be immutable (`Regex`, `String`, numbers,
an immutable lookup table, your own type without interior mutability) is a constant and is not
reported; one whose type the linter cannot see into (a library client) is.

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
};

pub fn check(v: &GlobalView) -> Option<Hit> {
    if v.is_thread_local() || !v.is_lazy() {
        return None;
    }
    let s = v.shape;
    if !s.interior && !s.unknown {
        return None;
    }
    let why = if s.interior {
        "holds mutable state"
    } else {
        "holds a type that cannot be shown to be immutable"
    };
    Some(Hit {
        message: format!(
            "`{}` is a lazily initialised singleton ({}) that {why}; every request of every \
             user shares the first instance",
            v.global.name,
            super::quoted_type(v.global)
        ),
        help: "build it per request with an isolate factory (#[derive(isolate::RequestScoped)]); \
               pass request-agnostic clients explicitly as isolate::Shared<T>"
            .into(),
    })
}

/// A singleton accessor: `f` returns `&'static T` and reads `global`, which is reported.
pub fn accessor_hit(f: &FnFact, global: &str) -> Hit {
    Hit {
        message: format!(
            "`{}` hands out the process-wide singleton `{global}` as a `&'static` reference",
            f.qualified
        ),
        help: "take the instance as a parameter built per request (an isolate factory's product) \
               instead of reaching for a global"
            .into(),
    }
}
