// The original bug: a process-wide `Arc<RwLock<HashMap<..>>>` of runs shared by all users.
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use isolate::{RequestScoped, Sealed};

#[derive(RequestScoped)]
struct Engine<'r> {
    #[isolate(shared)]
    active_runs: Arc<RwLock<HashMap<String, String>>>,
    _seal: Sealed<'r>,
}

fn main() {}
