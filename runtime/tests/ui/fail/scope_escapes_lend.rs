// The lending helpers and `Runtime::run` only lend the scope to a closure: neither the scope nor
// a product made from it can leave the closure, be parked in a global, or outlive the request.
use std::sync::Mutex;

use isolate::{RequestContext, RequestScope, RequestScoped, Runtime, Sealed};

#[derive(RequestScoped)]
pub struct Engine<'r> {
    #[isolate(context)]
    ctx: &'r RequestContext,
    runs: Vec<String>,
    _seal: Sealed<'r>,
}

static LAST_ENGINE: Mutex<Option<Engine<'static>>> = Mutex::new(None);

fn keep_scope(ctx: RequestContext) -> &'static RequestScope {
    RequestScope::with(ctx, |scope| scope)
}

fn keep_engine<'a>(factory: &'a EngineFactory, ctx: RequestContext) -> Engine<'a> {
    RequestScope::with(ctx, |scope| factory.create(scope))
}

async fn park_engine(runtime: &Runtime, factory: &'static EngineFactory, ctx: RequestContext) {
    let _ = runtime
        .run(ctx, async |scope| {
            *LAST_ENGINE.lock().unwrap() = Some(factory.create(scope));
        })
        .await;
}

fn main() {
    let _ = (keep_scope, keep_engine, park_engine);
}
