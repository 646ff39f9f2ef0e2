// A RefCell kept by the factory would be written by one request and read by the next.
use std::cell::RefCell;

use isolate::{RequestScoped, Sealed};

#[derive(RequestScoped)]
struct Engine<'r> {
    #[isolate(shared)]
    run_history: &'r RefCell<Vec<String>>,
    _seal: Sealed<'r>,
}

fn main() {}
