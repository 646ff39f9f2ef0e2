// A product parked in a thread_local would be seen by the next request on that thread.
use std::collections::HashMap;

use isolate::{RequestContext, RequestScope, RequestScoped, Sealed};

#[derive(RequestScoped)]
pub struct Engine<'r> {
    #[isolate(context)]
    ctx: &'r RequestContext,
    active_runs: HashMap<u64, String>,
    _seal: Sealed<'r>,
}

thread_local! {
    static CURRENT: std::cell::RefCell<Option<Engine<'static>>> = const { std::cell::RefCell::new(None) };
}

fn handle(factory: &EngineFactory, scope: &RequestScope) {
    let engine = factory.create(scope);
    CURRENT.with(|current| *current.borrow_mut() = Some(engine));
}

fn main() {
    let _ = handle;
}
