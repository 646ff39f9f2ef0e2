//! A factory gives every creation its own fresh state, shares only its frozen dependencies and
//! keeps nothing from the requests it served.
#![cfg(not(loom))]

use std::collections::HashMap;
use std::sync::Arc;

use isolate::{
    EventEmitter, Frozen, RequestContext, RequestScope, RequestScoped, RunId, Sealed, ThreadId,
};

mod support;

#[derive(Frozen)]
struct AgentConfig {
    model: String,
}

#[derive(RequestScoped)]
struct AgentEngine<'r> {
    #[isolate(shared)]
    config: &'r AgentConfig,
    #[isolate(shared)]
    tools: Arc<Vec<String>>,
    #[isolate(context)]
    ctx: &'r RequestContext,
    #[isolate(emitter)]
    events: &'r EventEmitter,
    active_runs: HashMap<RunId, String>,
    run_history: Vec<String>,
    _seal: Sealed<'r>,
}

impl AgentEngine<'_> {
    fn start_run(&mut self, secret: &str) {
        let run = self.ctx.run_id().clone();
        self.active_runs.insert(run, secret.to_owned());
        self.run_history
            .push(format!("{}: {secret}", self.config.model));
    }
}

fn context(user: &str, run: &str) -> RequestContext {
    RequestContext::builder(
        support::user(user),
        ThreadId::new(format!("thread-{user}")).expect("valid thread"),
        RunId::new(run).expect("valid run"),
    )
    .build()
    .expect("valid context")
}

fn tools() -> Arc<Vec<String>> {
    Arc::new(vec!["search".to_owned(), "shell".to_owned()])
}

#[test]
fn fifteen_creations_are_fifteen_independent_instances() {
    let tools = tools();
    let factory = AgentEngineFactory::new(
        AgentConfig {
            model: "small".into(),
        },
        Arc::clone(&tools),
    );
    RequestScope::with(context("alice", "run-1"), |scope| {
        let mut engines: Vec<AgentEngine<'_>> = (0..15).map(|_| factory.create(scope)).collect();
        for (i, engine) in engines.iter_mut().enumerate() {
            engine.start_run(&format!("secret-{i}"));
        }

        // Every instance sees only its own write.
        for (i, engine) in engines.iter().enumerate() {
            assert_eq!(engine.active_runs.len(), 1);
            assert_eq!(engine.run_history, [format!("small: secret-{i}")]);
        }
        // Fresh state lives at 15 distinct places; shared dependencies are one and the same.
        let mut maps: Vec<usize> = engines
            .iter()
            .map(|e| std::ptr::from_ref(&e.active_runs) as usize)
            .collect();
        let mut histories: Vec<usize> = engines
            .iter()
            .map(|e| e.run_history.as_ptr() as usize)
            .collect();
        maps.sort_unstable();
        maps.dedup();
        histories.sort_unstable();
        histories.dedup();
        assert_eq!(maps.len(), 15);
        assert_eq!(histories.len(), 15);
        for engine in &engines {
            assert!(Arc::ptr_eq(&engine.tools, &tools));
            assert!(std::ptr::eq(engine.config, engines[0].config));
            assert!(std::ptr::eq(engine.ctx, scope.context()));
            assert!(std::ptr::eq(engine.events, scope.emitter()));
        }
        // The test's handle, the factory's and one per engine.
        assert_eq!(Arc::strong_count(&tools), 2 + 15);

        drop(engines);
        // Nothing of those requests stays behind in the factory.
        assert_eq!(Arc::strong_count(&tools), 2);
        let next = factory.create(scope);
        assert!(next.active_runs.is_empty());
        assert!(next.run_history.is_empty());
    });
}

#[tokio::test(flavor = "current_thread")]
async fn fifteen_requests_through_the_runtime_start_empty() {
    fn assert_app_state<T: Frozen + Send + Sync + 'static>(_: &T) {}

    let tools = tools();
    let factory = AgentEngineFactory::new(
        AgentConfig {
            model: "small".into(),
        },
        Arc::clone(&tools),
    );
    assert_app_state(&factory);
    let runtime = support::default_runtime();

    for i in 0..15 {
        let (mut events, run) = runtime.run_streaming(
            context(&format!("user-{i}"), &format!("run-{i}")),
            async |scope: &RequestScope| {
                let mut engine = factory.create(scope);
                let before = (engine.active_runs.len(), engine.run_history.len());
                engine.start_run(&format!("secret-{i}"));
                engine
                    .events
                    .emit(support::milestone(engine.run_history.join(",")))
                    .expect("emit");
                before
            },
        );
        let (runs_before, history_before) = run.await.expect("request runs");
        let (events, _) = support::collect(&mut events).await;
        assert_eq!(
            (runs_before, history_before),
            (0, 0),
            "request {i} saw stale state"
        );
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].user_id().as_str(), format!("user-{i}"));
        assert_eq!(support::text(&events[0]), format!("small: secret-{i}"));
    }
    assert_eq!(Arc::strong_count(&tools), 2);
}
