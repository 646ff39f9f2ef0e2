// Type-erasing a product into Box<dyn Any> needs 'static, which a product never is.
use std::collections::HashMap;

use isolate::{RequestContext, RequestScope, RequestScoped, Sealed};

#[derive(RequestScoped)]
pub struct Engine<'r> {
    #[isolate(context)]
    ctx: &'r RequestContext,
    active_runs: HashMap<u64, String>,
    _seal: Sealed<'r>,
}

fn handle(factory: &EngineFactory, scope: &RequestScope) -> Box<dyn std::any::Any + Send> {
    Box::new(factory.create(scope))
}

fn main() {
    let _ = handle;
}
