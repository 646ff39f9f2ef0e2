// A struct that claims to be Frozen while holding a Cell: the error points at the Cell field.
use std::cell::Cell;

#[derive(isolate::Frozen)]
struct Config {
    name: String,
    hits: Cell<u64>,
}

fn main() {
    let _ = Config { name: String::new(), hits: Cell::new(0) };
}
