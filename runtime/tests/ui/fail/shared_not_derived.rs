// A type the compiler knows nothing about (no `#[derive(Frozen)]`) is not assumed immutable;
// the message says how to make it `Frozen` or where its state belongs instead.
use isolate::{RequestScoped, Sealed};

struct Limits {
    max_steps: u32,
}

#[derive(RequestScoped)]
struct Engine<'r> {
    #[isolate(shared)]
    limits: &'r Limits,
    _seal: Sealed<'r>,
}

fn main() {
    let _ = Limits { max_steps: 3 }.max_steps;
}
