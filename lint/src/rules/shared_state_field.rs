use super::{Hit, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    id: "shared_state_field",
    default_level: Level::Warn,
    summary: "an interior-mutable field (not a collection) of application state: a type registered with `with_state`, `Extension`, `web::Data`, `app_data`, `manage`, captured by a handler closure, or a gRPC service",
    doc: r#"# shared_state_field

## What it finds
A field of application state that is mutable through a shared reference and is not a
collection (collections are `shared_mutable_map`): `Mutex<Option<T>>`, `RwLock<Config>`,
`RefCell<T>`, atomics, channel ends, your own types holding them - at any depth below a type
registered as shared state: axum `Router::with_state(S)` and `.layer(Extension(S))`, actix
`web::Data::new(S)` and `App::app_data(..)`, rocket `.manage(S)`, an `Arc<S>` captured by a
handler closure, or the self type of a gRPC service impl. Fields are followed through `Arc`,
`Rc`, `Box`, `Option`, references and your own structs; the finding names the path
(`AppState.engine.last_user`) and points at the field, with the registration as a related
location.

## Why it is a cross-user leak and a race
Application state is one value for the process: every request of every user gets the same
`AppState`, so a "current" or "last" value stored in one of its fields by one user's request is
what the next user's request reads. It is a singleton without a `static`.

## Bad
```rust
struct AppState {
    last_user: Mutex<Option<UserId>>, // whoever wrote last
}
let app = Router::new().route("/runs", post(start_run)).with_state(Arc::new(AppState { .. }));
```

## Good
```rust
#[derive(Clone)]
struct AppState {
    engines: Arc<EngineFactory>, // frozen: builds a fresh engine per request
}
#[derive(isolate::RequestScoped)]
struct Engine<'r> {
    #[isolate(context)]
    ctx: &'r isolate::RequestContext,
    last_user: Option<UserId>, // per request
    _seal: isolate::Sealed<'r>,
}
```

## Fix
Keep per-request values in a struct built per request by an isolate factory and only frozen
dependencies in the state. A process-wide value that really must be shared (a rate limiter, a
metrics counter, a connection pool) stays, with a suppression that says why:
`// isolate: allow(shared_state_field) -- process-wide rate limiter, keyed by IP`.
"#,
    global: None,
    project: None,
};

/// The finding about a mutable field of application state (`item` = `AppState.sessions`), for
/// `shared_mutable_map` (collections) or `shared_state_field` (the rest).
pub(crate) fn hit(
    rule: &'static Rule,
    item: &str,
    ty: &str,
    concurrent: bool,
    part: super::describe::Part,
    registrations: impl Iterator<Item = crate::diagnostic::Related>,
) -> Hit {
    // `AppState.keys` holds .. (`ty`), or with the path to the part when it is deeper:
    // `AppState.keys`: `Store.cache` is a `HashMap<..>` behind `RwLock<..>`, ..
    let said = if part.detail.is_empty() {
        format!(" (`{ty}`)")
    } else {
        part.detail.clone()
    };
    let (message, help) = if rule.id == RULE.id {
        (
            if part.detail.is_empty() {
                format!(
                    "`{item}` is mutable (`{ty}`) and part of application state shared by every \
                     request of every user"
                )
            } else {
                format!(
                    "`{item}`{said}, mutable and part of application state shared by every \
                     request of every user"
                )
            },
            "keep per-request values in a struct built per request by an isolate factory \
             (#[derive(isolate::RequestScoped)]); application state should hold only frozen \
             dependencies"
                .to_string(),
        )
    } else {
        let what = if concurrent {
            "a concurrent map"
        } else {
            "a collection behind interior mutability"
        };
        (
            if part.detail.is_empty() {
                format!(
                    "`{item}` holds {what}{said} in application state shared by every request \
                     of every user"
                )
            } else {
                format!(
                    "`{item}`{said}, {what} in application state shared by every request of \
                     every user"
                )
            },
            "keep the collection in a per-request engine (a fresh field of a \
             #[derive(isolate::RequestScoped)] struct); if it must outlive the request, key every \
             entry by the authenticated user"
                .to_string(),
        )
    };
    Hit {
        message,
        help,
        notes: Vec::new(),
        related: registrations.chain(part.related).collect(),
    }
}
