// A shared counter is shared mutable state too.
use std::sync::atomic::AtomicU64;

use isolate::{RequestScoped, Sealed};

#[derive(RequestScoped)]
struct Engine<'r> {
    #[isolate(shared)]
    next_run_id: &'r AtomicU64,
    _seal: Sealed<'r>,
}

fn main() {}
