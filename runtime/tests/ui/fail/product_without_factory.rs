// An Engine cannot be built by hand: the Sealed token only comes from the factory.
use std::collections::HashMap;

use isolate::{RequestContext, RequestScope, RequestScoped, Sealed};

#[derive(RequestScoped)]
pub struct Engine<'r> {
    #[isolate(context)]
    ctx: &'r RequestContext,
    active_runs: HashMap<u64, String>,
    _seal: Sealed<'r>,
}

fn forge_without_token(scope: &RequestScope) -> Engine<'_> {
    Engine {
        ctx: scope.context(),
        active_runs: HashMap::new(),
    }
}

fn forge_with_default_token(scope: &RequestScope) -> Engine<'_> {
    Engine {
        ctx: scope.context(),
        active_runs: HashMap::new(),
        _seal: Default::default(),
    }
}

fn main() {
    let _ = (forge_without_token, forge_with_default_token);
}
