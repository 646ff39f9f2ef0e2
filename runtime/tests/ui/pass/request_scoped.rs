// The intended use: a factory built once from frozen dependencies, shared by all threads, that
// gives every request its own engine with its own context, emitter and fresh state.
use std::collections::HashMap;
use std::sync::Arc;

use isolate::{
    Authority, CancellationToken, EventEmitter, Frozen, RequestContext, RequestScope,
    RequestScoped, RunId, Sealed, Shared, SharedClient, ThreadId, UserId,
};

#[derive(Frozen)]
struct ModelConfig {
    name: String,
    max_steps: u32,
}

struct Database;

// SAFETY: reviewed: stands for an internally synchronised pool.
unsafe impl SharedClient for Database {}

#[derive(RequestScoped)]
#[isolate(factory = AgentEngines)]
pub struct AgentEngine<'r> {
    #[isolate(shared)]
    config: &'r ModelConfig,
    #[isolate(shared)]
    prompts: Arc<Vec<String>>,
    #[isolate(shared)]
    db: Shared<Database>,
    #[isolate(context)]
    ctx: &'r RequestContext,
    #[isolate(emitter)]
    events: &'r EventEmitter,
    #[isolate(cancellation)]
    cancel: &'r CancellationToken,
    #[isolate(scope)]
    scope: &'r RequestScope,
    active_runs: HashMap<RunId, String>,
    #[isolate(fresh)]
    run_history: Vec<String>,
    #[isolate(fresh = vec![scope.context().user_id().as_str().to_owned()])]
    owners: Vec<String>,
    _seal: Sealed<'r>,
}

#[derive(RequestScoped)]
struct Minimal<'a> {
    steps: u32,
    _seal: Sealed<'a>,
}

fn assert_app_state<T: Frozen + Send + Sync + 'static>() {}

fn handle(factory: &AgentEngines, scope: &RequestScope) -> usize {
    let mut engine = factory.create(scope);
    engine
        .active_runs
        .insert(engine.ctx.run_id().clone(), engine.config.name.clone());
    engine.run_history.push(engine.prompts.join(","));
    let _ = (&engine.db, engine.events, engine.cancel.is_cancelled(), engine.scope);
    engine.active_runs.len() + engine.owners.len() + engine.config.max_steps as usize
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    assert_app_state::<AgentEngines>();
    assert_app_state::<MinimalFactory>();
    let factory = AgentEngines::new(
        ModelConfig { name: "small".into(), max_steps: 3 },
        Arc::new(vec!["be brief".into()]),
        Shared::new(Database),
    );
    let ctx = RequestContext::builder(
        Authority::new().vouch(UserId::new("alice")?),
        ThreadId::new("thread-1")?,
        RunId::new("run-1")?,
    )
    .build()?;
    RequestScope::with(ctx, |scope| {
        assert_eq!(handle(&factory, scope), 5);
        assert_eq!(MinimalFactory::new().create(scope).steps, 0);
    });
    Ok(())
}
