// Without the Sealed token, anyone could build an Engine with a struct literal.
use isolate::{RequestContext, RequestScoped};

#[derive(RequestScoped)]
struct Engine<'r> {
    #[isolate(context)]
    ctx: &'r RequestContext,
    active_runs: Vec<String>,
}

fn main() {}
