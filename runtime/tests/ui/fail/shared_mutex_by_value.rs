// A shared field holding a Mutex by value: the factory would keep one lock for all requests.
use std::sync::Mutex;

use isolate::{RequestScoped, Sealed};

#[derive(RequestScoped)]
struct Engine<'r> {
    #[isolate(shared)]
    active_runs: Mutex<Vec<String>>,
    _seal: Sealed<'r>,
}

fn main() {}
