// A Mutex kept by the factory would be one registry for every request.
use std::sync::Mutex;

use isolate::{RequestContext, RequestScoped, Sealed};

#[derive(RequestScoped)]
struct Engine<'r> {
    #[isolate(shared)]
    active_runs: &'r Mutex<Vec<String>>,
    #[isolate(context)]
    ctx: &'r RequestContext,
    _seal: Sealed<'r>,
}

fn main() {}
