// The request's own values are lent by the scope, never kept by the factory: marking one
// `shared` would give every request the first request's context (or emitter) back.
use isolate::{EventEmitter, RequestContext, RequestScoped, Sealed};

#[derive(RequestScoped)]
struct ByContext<'r> {
    #[isolate(shared)]
    ctx: &'r RequestContext,
    _seal: Sealed<'r>,
}

#[derive(RequestScoped)]
struct ByEmitter<'r> {
    #[isolate(shared)]
    events: &'r EventEmitter,
    _seal: Sealed<'r>,
}

fn main() {}
