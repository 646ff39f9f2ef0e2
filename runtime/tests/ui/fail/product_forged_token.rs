// The Sealed token itself cannot be written as a literal: its field is private.
use std::collections::HashMap;

use isolate::{RequestContext, RequestScope, RequestScoped, Sealed};

#[derive(RequestScoped)]
pub struct Engine<'r> {
    #[isolate(context)]
    ctx: &'r RequestContext,
    active_runs: HashMap<u64, String>,
    _seal: Sealed<'r>,
}

fn forge_with_literal_token(scope: &RequestScope) -> Engine<'_> {
    Engine {
        ctx: scope.context(),
        active_runs: HashMap::new(),
        _seal: Sealed { _request: std::marker::PhantomData },
    }
}

fn main() {
    let _ = forge_with_literal_token;
}
