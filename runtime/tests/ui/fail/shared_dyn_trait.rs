// A trait object can hide any implementor, including one with a lock inside: it is shared
// only when its trait has `Frozen` as a supertrait, and the error says so.
use std::sync::Arc;

use isolate::{RequestScoped, Sealed};

trait Store: Send + Sync {
    fn get(&self, key: &str) -> Option<String>;
}

#[derive(RequestScoped)]
struct Owned<'r> {
    #[isolate(shared)]
    store: Arc<dyn Store + Send + Sync>,
    _seal: Sealed<'r>,
}

#[derive(RequestScoped)]
struct Borrowed<'r> {
    #[isolate(shared)]
    store: &'r dyn Store,
    _seal: Sealed<'r>,
}

fn main() {}
