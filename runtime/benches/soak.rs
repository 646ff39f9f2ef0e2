//! Soak: 1,000,000 requests through one `Runtime` (2 tokio workers, 16 concurrent tasks,
//! 10,000 distinct users), resident memory sampled every 100,000 runs. After warm-up it must
//! stay flat: nothing per request or per user may accumulate.
//!
//! `cargo bench -p isolate --bench soak` (`ISOLATE_SOAK_RUNS=N` for another count).
#![cfg(not(loom))]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use isolate::{
    Authority, Event, EventEmitter, Frozen, RequestContext, RequestScoped, RunId, Runtime,
    RuntimeConfig, Sealed, ThreadId, UserId,
};

#[derive(Frozen)]
struct AgentConfig {
    model: String,
}

#[derive(RequestScoped)]
struct AgentEngine<'r> {
    #[isolate(shared)]
    config: &'r AgentConfig,
    #[isolate(emitter)]
    events: &'r EventEmitter,
    active_runs: HashMap<RunId, String>,
    _seal: Sealed<'r>,
}

#[derive(Debug, serde::Serialize)]
struct Step(u64);

impl Event for Step {
    fn critical(&self) -> bool {
        false
    }
}

const TASKS: usize = 16;
const USERS: usize = 10_000;
const SAMPLE_EVERY: usize = 100_000;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let runs: usize = std::env::var("ISOLATE_SOAK_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let authority = Authority::new();
    let runtime = Runtime::new(RuntimeConfig::default(), &authority);
    let users: Arc<Vec<_>> = Arc::new(
        (0..USERS)
            .map(|u| authority.vouch(UserId::new(format!("user-{u}")).unwrap()))
            .collect(),
    );
    let factory = Arc::new(AgentEngineFactory::new(AgentConfig {
        model: "small".into(),
    }));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let thread = ThreadId::new("thread-1").unwrap();
    let batches = runs.div_ceil(SAMPLE_EVERY);
    let mut samples = Vec::new();
    let start = Instant::now();
    for batch in 0..batches {
        rt.block_on(async {
            let tasks: Vec<_> = (0..TASKS)
                .map(|t| {
                    let (runtime, users, factory, thread) = (
                        runtime.clone(),
                        Arc::clone(&users),
                        Arc::clone(&factory),
                        thread.clone(),
                    );
                    tokio::spawn(async move {
                        for i in (t..SAMPLE_EVERY).step_by(TASKS) {
                            let n = batch * SAMPLE_EVERY + i;
                            let user = users[n % USERS].clone();
                            let run = RunId::new(format!("run-{n}")).unwrap();
                            let ctx = RequestContext::builder(user, thread.clone(), run)
                                .build()
                                .unwrap();
                            let result = runtime
                                .run(ctx, async |scope| {
                                    let mut engine = factory.create(scope);
                                    engine.active_runs.insert(
                                        scope.context().run_id().clone(),
                                        engine.config.model.clone(),
                                    );
                                    engine.events.emit(Step(n as u64)).unwrap();
                                    scope.on_cleanup(|| {});
                                    if n.is_multiple_of(64) {
                                        tokio::task::yield_now().await;
                                    }
                                    black_box(engine.active_runs.len())
                                })
                                .await;
                            assert_eq!(result, Ok(1));
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
        let done = (batch + 1) * SAMPLE_EVERY;
        let rss = rss_kib();
        samples.push(rss);
        println!(
            "{done:>9} runs  rss {:>7.1} MiB  {:>6.0} runs/s",
            rss as f64 / 1024.0,
            done as f64 / start.elapsed().as_secs_f64()
        );
    }
    assert_eq!(runtime.occupancy(), Default::default());
    let m = runtime.metrics();
    assert_eq!(m.completed as usize, batches * SAMPLE_EVERY);
    let warm = samples.len().min(2).saturating_sub(1);
    let after_warm_up = &samples[warm..];
    let (low, high) = after_warm_up
        .iter()
        .fold((u64::MAX, 0), |(lo, hi), &s| (lo.min(s), hi.max(s)));
    println!(
        "after warm-up ({} runs): rss between {:.1} and {:.1} MiB (spread {:.1} MiB, {:.1}%); per-user metrics kept: {}",
        (warm + 1) * SAMPLE_EVERY,
        low as f64 / 1024.0,
        high as f64 / 1024.0,
        (high - low) as f64 / 1024.0,
        (high - low) as f64 * 100.0 / low.max(1) as f64,
        runtime.metrics_users(),
    );
}
