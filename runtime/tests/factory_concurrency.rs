//! 12, 25 and 50 users run at the same time, each writing a secret into its own agent engine
//! through the `Runtime`: every engine ends up holding only its user's data.
#![cfg(not(loom))]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use isolate::{
    EventEmitter, Frozen, RequestContext, RequestScope, RequestScoped, RunId, Sealed, ThreadId,
};
use tokio::sync::Barrier;

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
        let owner = self.ctx.user_id().as_str().to_owned();
        self.active_runs.insert(run, format!("{owner}|{secret}"));
        self.run_history
            .push(format!("{}|{owner}|{secret}", self.config.model));
    }
}

/// What one user's request saw at its end.
struct Outcome {
    user: String,
    secret: String,
    engine_addr: usize,
    shares_tools: bool,
    state: Vec<String>,
    event_users: Vec<String>,
}

async fn run_users(users: usize) {
    let tools = Arc::new(vec!["search".to_owned()]);
    let factory = Arc::new(AgentEngineFactory::new(
        AgentConfig {
            model: "small".into(),
        },
        Arc::clone(&tools),
    ));
    let runtime = support::default_runtime();
    // Every engine is alive at the same time: nobody leaves before all have written.
    let barrier = Arc::new(Barrier::new(users));

    let tasks: Vec<_> = (0..users)
        .map(|i| {
            let (factory, runtime, barrier, tools) = (
                Arc::clone(&factory),
                runtime.clone(),
                Arc::clone(&barrier),
                Arc::clone(&tools),
            );
            tokio::spawn(async move {
                let user = format!("user-{i:02}");
                let secret = format!("secret-{i:02}-{:x}", i * 7919 + users);
                let ctx = RequestContext::builder(
                    support::user(&user),
                    ThreadId::new(format!("thread-{i}")).expect("thread"),
                    RunId::new(format!("run-{i}")).expect("run"),
                )
                .build()
                .expect("context");
                let (mut events, run) = runtime.run_streaming(ctx, async |scope: &RequestScope| {
                    let mut engine = factory.create(scope);
                    engine.start_run(&secret);
                    engine
                        .events
                        .emit(support::milestone(secret.clone()))
                        .expect("emit");
                    // Taken while every engine is alive, so equal addresses would mean one
                    // engine shared by two users.
                    let engine_addr = std::ptr::from_ref(&engine.active_runs) as usize;
                    barrier.wait().await;
                    tokio::task::yield_now().await;
                    let mut state: Vec<String> = engine.active_runs.values().cloned().collect();
                    state.extend(engine.run_history.iter().cloned());
                    (engine_addr, Arc::ptr_eq(&engine.tools, &tools), state)
                });
                let (result, (envelopes, _)) = tokio::join!(run, support::collect(&mut events));
                let (engine_addr, shares_tools, mut state) = result.expect("request runs");
                state.extend(envelopes.iter().map(|e| support::text(e).to_owned()));
                Outcome {
                    user: user.clone(),
                    secret: secret.clone(),
                    engine_addr,
                    shares_tools,
                    state,
                    event_users: envelopes
                        .iter()
                        .map(|e| e.user_id().as_str().to_owned())
                        .collect(),
                }
            })
        })
        .collect();

    let mut outcomes = Vec::with_capacity(users);
    for task in tasks {
        let outcome = tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .expect("users run concurrently (barrier reached)")
            .expect("task did not panic");
        outcomes.push(outcome);
    }

    let secrets: Vec<String> = outcomes.iter().map(|o| o.secret.clone()).collect();
    for outcome in &outcomes {
        assert!(outcome.shares_tools, "shared dependency is one instance");
        assert_eq!(
            outcome.state.len(),
            3,
            "{}: run, history, event",
            outcome.user
        );
        for entry in &outcome.state {
            assert!(
                entry.contains(&outcome.secret),
                "{} holds foreign data: {entry}",
                outcome.user
            );
            for other in secrets.iter().filter(|s| **s != outcome.secret) {
                assert!(
                    !entry.contains(other.as_str()),
                    "{} sees another user's secret {other}",
                    outcome.user
                );
            }
        }
        assert_eq!(outcome.event_users, std::slice::from_ref(&outcome.user));
    }
    let mut addrs: Vec<usize> = outcomes.iter().map(|o| o.engine_addr).collect();
    addrs.sort_unstable();
    addrs.dedup();
    assert_eq!(addrs.len(), users, "every live engine is its own instance");
    // All requests are over: the factory kept nothing of them.
    assert_eq!(Arc::strong_count(&tools), 2);
    assert_eq!(runtime.occupancy(), Default::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_concurrent_users_stay_apart() {
    run_users(12).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_five_concurrent_users_stay_apart() {
    run_users(25).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_users_stay_apart() {
    run_users(50).await;
}
