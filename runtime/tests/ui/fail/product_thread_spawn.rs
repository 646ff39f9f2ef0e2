// A product moved into a detached thread would outlive its request.
use std::collections::HashMap;

use isolate::{RequestContext, RequestScope, RequestScoped, Sealed};

#[derive(RequestScoped)]
pub struct Engine<'r> {
    #[isolate(context)]
    ctx: &'r RequestContext,
    active_runs: HashMap<u64, String>,
    _seal: Sealed<'r>,
}

fn handle(factory: &EngineFactory, scope: &RequestScope) {
    let engine = factory.create(scope);
    std::thread::spawn(move || {
        let _ = engine.active_runs.len();
    });
}

fn main() {
    let _ = handle;
}
