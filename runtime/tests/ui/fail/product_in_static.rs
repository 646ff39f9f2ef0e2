// A product parked in a static would be shared by every later request.
use std::collections::HashMap;

use isolate::{RequestContext, RequestScope, RequestScoped, Sealed};

#[derive(RequestScoped)]
pub struct Engine<'r> {
    #[isolate(context)]
    ctx: &'r RequestContext,
    active_runs: HashMap<u64, String>,
    _seal: Sealed<'r>,
}

static LAST_ENGINE: std::sync::OnceLock<Engine<'static>> = std::sync::OnceLock::new();

fn handle(factory: &EngineFactory, scope: &RequestScope) {
    let engine = factory.create(scope);
    let _ = LAST_ENGINE.set(engine);
}

fn main() {
    let _ = handle;
}
