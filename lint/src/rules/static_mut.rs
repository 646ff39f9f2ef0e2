use super::{GlobalView, Hit, Level, Rule};
use crate::facts::GlobalKind;

pub(crate) static RULE: Rule = Rule {
    id: "static_mut",
    default_level: Level::Deny,
    summary: "`static mut` items anywhere (module, fn body, method, inline module): unsynchronised state shared by every request",
    doc: r#"# static_mut

## What it finds
Every `static mut` item, wherever it is declared: at module level, in inline modules, inside
function and method bodies. Foreign `extern { static mut ... }` declarations are not reported.

## Why it is a cross-user leak and a race
A `static mut` is one value for the whole process. Every request on every thread reads and
writes the same memory without synchronisation: one user's data is visible to the next user's
request, and two concurrent requests race (undefined behaviour, not just a logic bug).

## Bad
```rust
static mut LAST_USER: Option<String> = None;

fn handle(user: &str) {
    unsafe { LAST_USER = Some(user.to_string()) } // every request overwrites it
}
```

## Good
```rust
#[derive(isolate::RequestScoped)]
struct Session<'r> {
    #[isolate(context)]
    ctx: &'r isolate::RequestContext,
    last_action: Option<String>, // fresh per request
    _seal: isolate::Sealed<'r>,
}
```

## Fix
Move the value into per-request state: a field of a struct built per request by an isolate
factory (`#[derive(isolate::RequestScoped)]`), or take it from the `RequestContext`. If the value
is really a constant, make it a `const` or an immutable `static`.
"#,
    global: Some(check),
    project: None,
};

pub(crate) fn check(v: &GlobalView) -> Option<Hit> {
    (v.global.kind == GlobalKind::StaticMut).then(|| Hit {
        message: format!(
            "`static mut {}` is unsynchronised mutable state shared by every request",
            v.global.name
        ),
        help: "move it into per-request state built by an isolate factory \
               (#[derive(isolate::RequestScoped)]), or make it a `const`"
            .into(),
        ..Hit::default()
    })
}
