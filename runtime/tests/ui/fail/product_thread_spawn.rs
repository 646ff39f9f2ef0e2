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

impl Engine<'_> {
    fn remember(mut self, secret: &str) {
        let user = self.ctx.user_id().as_str().to_owned();
        self.active_runs.insert(0, format!("{user}: {secret}"));
    }
}

fn handle(factory: &EngineFactory, scope: &RequestScope) {
    let engine = factory.create(scope);
    std::thread::spawn(move || {
        engine.remember("secret");
    });
}

fn main() {
    let _ = handle;
}
