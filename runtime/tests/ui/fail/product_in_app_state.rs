// A product stored as 'static application state (like axum's Router::with_state) would be
// shared by every request that follows.
use std::collections::HashMap;

use isolate::{RequestContext, RequestScope, RequestScoped, Sealed};

#[derive(RequestScoped)]
pub struct Engine<'r> {
    #[isolate(context)]
    ctx: &'r RequestContext,
    active_runs: HashMap<u64, String>,
    _seal: Sealed<'r>,
}

/// The shape of axum's `Router::with_state`: the state must be `'static`.
struct Router<S: Clone + Send + Sync + 'static> {
    state: Option<std::sync::Arc<S>>,
}

impl<S: Clone + Send + Sync + 'static> Router<S> {
    fn with_state(state: S) -> Self {
        Self { state: Some(std::sync::Arc::new(state)) }
    }
}

#[derive(Clone)]
struct AppState<'r> {
    engine: std::sync::Arc<Engine<'r>>,
}

fn handle(factory: &EngineFactory, scope: &RequestScope) {
    let engine = std::sync::Arc::new(factory.create(scope));
    let router = Router::with_state(AppState { engine });
    let _ = router.state.is_some();
}

fn main() {
    let _ = handle;
}
