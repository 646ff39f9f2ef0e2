// A product belongs to its request: it cannot be handed out of `Runtime::run`, which ends the
// request (and its scope) before returning.
use isolate::{RequestContext, RequestScope, RequestScoped, Runtime, Sealed};

#[derive(RequestScoped)]
pub struct Engine<'r> {
    #[isolate(context)]
    ctx: &'r RequestContext,
    runs: Vec<String>,
    _seal: Sealed<'r>,
}

async fn handle(runtime: &Runtime, factory: &EngineFactory, ctx: RequestContext) -> usize {
    let engine = runtime
        .run(ctx, async |scope: &RequestScope| factory.create(scope))
        .await
        .unwrap();
    engine.runs.len()
}

fn main() {
    let _ = handle;
}
