//! The runtime against the singleton it replaces, measured in one run (criterion).
//!
//! `cargo bench -p isolate --bench runtime` (release, a 2-worker tokio runtime). At the end it
//! prints each target of BENCHMARKS.md as a ratio of medians measured in this same run.
//!
//! - `per_op/<what>/<tasks>`: one operation's share of the wall time when `tasks` tasks do them
//!   concurrently: `mutex_hashmap` (a `static Mutex<HashMap>` insert + remove: the singleton),
//!   `dashmap` (insert + remove), `run` (build a context, `Runtime::run` an empty request that
//!   creates one derived engine).
//! - `scope_engine`: `RequestScope::with` + engine create and drop, one thread.
//! - `emit_recv/<what>`: one event from emit to receive: `isolate` (emitter + bounded queue) and
//!   `tokio_mpsc` (a bounded tokio channel carrying an envelope struct with the same fields,
//!   stamped the same way).
#![cfg(not(loom))]

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime};

use criterion::{BenchmarkId, Criterion};
use dashmap::DashMap;
use isolate::events::{Delivery, EventReceiver};
use isolate::{
    AuthenticatedUser, Authority, Envelope, Event, EventEmitter, Frozen, RequestContext,
    RequestScope, RequestScoped, RunId, Runtime, RuntimeConfig, Sealed, ThreadId, UserId,
};

#[derive(Frozen)]
struct AgentConfig {
    model: String,
}

#[derive(RequestScoped)]
struct AgentEngine<'r> {
    #[isolate(shared)]
    config: &'r AgentConfig,
    #[isolate(context)]
    ctx: &'r RequestContext,
    #[isolate(emitter)]
    events: &'r EventEmitter,
    active_runs: HashMap<RunId, u64>,
    history: Vec<String>,
    _seal: Sealed<'r>,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AgentEvent {
    ToolExecuting { tool: &'static str, step: u64 },
}

impl Event for AgentEvent {
    fn critical(&self) -> bool {
        true
    }
}

/// What the singleton kept per run.
#[allow(dead_code)]
#[derive(Clone)]
struct RunState {
    user: UserId,
    started: u64,
}

static ACTIVE_RUNS: LazyLock<Mutex<HashMap<RunId, RunState>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Per-task identities, built once (a server gets them from authentication).
struct Identity {
    user: AuthenticatedUser,
    thread: ThreadId,
    run: RunId,
}

struct Fixture {
    runtime: Runtime,
    factory: AgentEngineFactory,
    identities: Vec<Identity>,
    dashmap: DashMap<RunId, RunState>,
}

fn fixture() -> Arc<Fixture> {
    let authority = Authority::new();
    let identities = (0..16)
        .map(|t| Identity {
            user: authority.vouch(UserId::new(format!("user-{t}")).unwrap()),
            thread: ThreadId::new(format!("thread-{t}")).unwrap(),
            run: RunId::new(format!("run-{t}")).unwrap(),
        })
        .collect();
    Arc::new(Fixture {
        runtime: Runtime::new(RuntimeConfig::default(), &authority),
        factory: AgentEngineFactory::new(AgentConfig {
            model: "small".into(),
        }),
        identities,
        dashmap: DashMap::new(),
    })
}

#[derive(Clone, Copy)]
enum Op {
    MutexHashMap,
    DashMap,
    Run,
}

impl Op {
    const ALL: [(Op, &'static str); 3] = [
        (Op::MutexHashMap, "mutex_hashmap"),
        (Op::DashMap, "dashmap"),
        (Op::Run, "run"),
    ];
}

async fn one(op: Op, fx: &Fixture, id: &Identity, i: u64) {
    match op {
        Op::MutexHashMap => {
            let state = RunState {
                user: id.user.user_id().clone(),
                started: i,
            };
            ACTIVE_RUNS.lock().unwrap().insert(id.run.clone(), state);
            black_box(ACTIVE_RUNS.lock().unwrap().remove(&id.run));
        }
        Op::DashMap => {
            let state = RunState {
                user: id.user.user_id().clone(),
                started: i,
            };
            fx.dashmap.insert(id.run.clone(), state);
            black_box(fx.dashmap.remove(&id.run));
        }
        Op::Run => {
            let ctx = RequestContext::builder(id.user.clone(), id.thread.clone(), id.run.clone())
                .build()
                .unwrap();
            let factory = &fx.factory;
            let result = fx
                .runtime
                .run(ctx, async |scope| {
                    let engine = factory.create(scope);
                    black_box((
                        &engine.active_runs,
                        &engine.history,
                        engine.config.model.len(),
                    ));
                    black_box((engine.ctx, engine.events));
                })
                .await;
            debug_assert!(result.is_ok());
            black_box(result).ok();
        }
    }
}

/// `iters` operations shared by `tasks` tasks on the 2-worker runtime; returns the wall time.
fn concurrent(
    rt: &tokio::runtime::Runtime,
    fx: &Arc<Fixture>,
    op: Op,
    tasks: usize,
    iters: u64,
) -> Duration {
    let per_task = iters.div_ceil(tasks as u64);
    rt.block_on(async {
        let start = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|t| {
                let fx = Arc::clone(fx);
                tokio::spawn(async move {
                    let id = &fx.identities[t];
                    for i in 0..per_task {
                        one(op, &fx, id, i).await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        start
            .elapsed()
            .mul_f64(iters as f64 / (per_task * tasks as u64) as f64)
    })
}

fn per_op(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let fx = fixture();
    let mut group = c.benchmark_group("per_op");
    for tasks in [1, 16] {
        for (op, name) in Op::ALL {
            group.bench_with_input(BenchmarkId::new(name, tasks), &tasks, |b, &tasks| {
                b.iter_custom(|iters| concurrent(rt, &fx, op, tasks, iters));
            });
        }
    }
    group.finish();
    assert_eq!(fx.runtime.occupancy(), Default::default());
}

fn scope_engine(c: &mut Criterion) {
    let fx = fixture();
    let id = &fx.identities[0];
    let ctx = RequestContext::builder(id.user.clone(), id.thread.clone(), id.run.clone())
        .build()
        .unwrap();
    c.bench_function("scope_engine", |b| {
        b.iter(|| {
            RequestScope::with(ctx.clone(), |scope| {
                let engine = fx.factory.create(scope);
                black_box(&engine);
            })
        });
    });
}

/// The same fields as an [`Envelope`], stamped the same way, for the raw-channel baseline.
#[allow(dead_code)]
struct RawEnvelope {
    context: RequestContext,
    seq: u64,
    timestamp: SystemTime,
    critical: bool,
    event: Arc<dyn Event>,
}

fn emit_recv(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let fx = fixture();
    let id = &fx.identities[0];
    let ctx = || {
        RequestContext::builder(id.user.clone(), id.thread.clone(), id.run.clone())
            .build()
            .unwrap()
    };
    let event = AgentEvent::ToolExecuting {
        tool: "search",
        step: 0,
    };
    let mut group = c.benchmark_group("emit_recv");
    group.bench_function("isolate", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let parked: Mutex<Option<EventReceiver<Envelope>>> = Mutex::new(None);
                let (receiver, run) = fx.runtime.run_streaming(ctx(), async |scope| {
                    let mut rx = parked.lock().unwrap().take().unwrap();
                    let start = Instant::now();
                    for _ in 0..iters {
                        scope.emitter().emit(event.clone()).unwrap();
                        match rx.try_recv() {
                            Some(Delivery::Item(envelope)) => drop(black_box(envelope)),
                            other => panic!("{other:?}"),
                        }
                    }
                    start.elapsed()
                });
                *parked.lock().unwrap() = Some(receiver);
                run.await.unwrap()
            })
        });
    });
    group.bench_function("tokio_mpsc", |b| {
        b.iter_custom(|iters| {
            let context = ctx();
            let (tx, mut rx) = tokio::sync::mpsc::channel::<RawEnvelope>(4096);
            let start = Instant::now();
            for seq in 0..iters {
                let envelope = RawEnvelope {
                    context: context.clone(),
                    seq: seq + 1,
                    timestamp: SystemTime::now(),
                    critical: event.critical(),
                    event: Arc::new(event.clone()),
                };
                tx.try_send(envelope).ok().unwrap();
                drop(black_box(rx.try_recv().unwrap()));
            }
            start.elapsed()
        });
    });
    group.finish();
}

fn median_ns(dir: &Path, id: &str) -> Option<f64> {
    let path: PathBuf = dir.join(id).join("new").join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn report(dir: &Path) {
    let m = |id: &str| median_ns(dir, id).unwrap_or(f64::NAN);
    let run16 = m("per_op/run/16");
    let run1 = m("per_op/run/1");
    let mutex16 = m("per_op/mutex_hashmap/16");
    let dash16 = m("per_op/dashmap/16");
    let scope = m("scope_engine");
    let emit = m("emit_recv/isolate");
    let mpsc = m("emit_recv/tokio_mpsc");
    println!("\n== targets (ratios of medians from this run) ==");
    println!(
        "run (16 tasks) / static Mutex<HashMap> insert+remove (16 tasks): {:.2}x (target <= 1.0x) [{run16:.0} ns vs {mutex16:.0} ns]",
        run16 / mutex16
    );
    println!(
        "run (16 tasks) / DashMap insert+remove (16 tasks):               {:.2}x (target <= 3x) [{run16:.0} ns vs {dash16:.0} ns]",
        run16 / dash16
    );
    println!(
        "scope + engine create/drop:                                      {scope:.0} ns (target <= 200 ns)"
    );
    println!(
        "throughput 16 tasks / 1 task:                                     {:.2}x (target >= 1.5x) [{run1:.0} ns vs {run16:.0} ns per run]",
        run1 / run16
    );
    println!(
        "emit -> receive / tokio mpsc with the same envelope struct:       {:.2}x (target <= 1.2x) [{emit:.0} ns vs {mpsc:.0} ns]",
        emit / mpsc
    );
}

fn main() {
    // `ISOLATE_PROFILE_RUNS=N`: only do N operations on one task and exit, for a profiler
    // (`valgrind --tool=callgrind`) to count instructions per operation; `ISOLATE_PROFILE_OP`
    // picks it: `run` (default), `mutex_hashmap` or `dashmap`.
    if let Some(runs) = std::env::var("ISOLATE_PROFILE_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        let name = std::env::var("ISOLATE_PROFILE_OP").unwrap_or_else(|_| "run".into());
        let op = Op::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map_or(Op::Run, |(op, _)| *op);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let fx = fixture();
        let elapsed = concurrent(&rt, &fx, op, 1, runs);
        eprintln!("{runs} x {name} in {elapsed:?}");
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("criterion");
    let mut c = Criterion::default()
        .output_directory(&dir)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    per_op(&mut c, &rt);
    scope_engine(&mut c);
    emit_recv(&mut c, &rt);
    c.final_summary();
    report(&dir);
}
