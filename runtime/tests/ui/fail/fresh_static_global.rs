// A fresh field that borrows a global for `'static` is the singleton again: every request
// would get the same map. The referent must be `Frozen`, at any depth of the field's type.
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use isolate::{RequestScoped, Sealed};

static ACTIVE_RUNS: Mutex<Option<HashMap<String, String>>> = Mutex::new(None);
static NEXT_RUN: AtomicU64 = AtomicU64::new(0);

#[derive(RequestScoped)]
struct Engine<'r> {
    #[isolate(fresh = &ACTIVE_RUNS)]
    active_runs: &'static Mutex<Option<HashMap<String, String>>>,
    #[isolate(fresh = Some(&NEXT_RUN))]
    next_run: Option<&'static AtomicU64>,
    _seal: Sealed<'r>,
}

fn main() {}
