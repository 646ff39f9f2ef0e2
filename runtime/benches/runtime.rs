//! The runtime against the singleton it replaces, measured in one run (criterion).
//!
//! `cargo bench -p isolate --bench runtime` (release, a 2-worker tokio runtime). At the end it
//! prints each target of BENCHMARKS.md as a ratio of medians measured in this same run, each
//! with `[MET]` or `[MISSED]`, the load average before and after, and how many cores the
//! process actually got while the `per_op` benchmarks ran (its CPU time over their wall time),
//! then each `per_op` operation's CPU time per operation (every thread's, summed over its
//! samples): on a loaded machine wall time also counts waiting for a core, CPU time does not.
//!
//! The `per_op` operations are CPU-bound and their tasks never yield (nothing in them waits),
//! so with 16 tasks the two workers each run one task at a time, on disjoint users: each worker
//! reuses the global slot leased to its thread, so the runtime writes no location that the
//! other worker writes (except when two users share a shard); the singleton's one lock is
//! written by both. On an idle 2-core machine 16 tasks get two cores and one task
//! gets one, so a CPU-bound operation that does not contend should approach 2x the throughput;
//! on a shared machine the ratio cannot exceed the cores the process got, which is printed
//! next to it, with `DashMap`'s ratio from the same run as the control.
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

use std::collections::{BTreeMap, HashMap};
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

/// What one benchmark used in this process: wall time, CPU time and operations, summed over
/// its samples.
#[derive(Clone, Copy, Default)]
struct Usage {
    wall: Duration,
    cpu: Duration,
    ops: u64,
}

/// [`Usage`] of each `per_op` benchmark (keyed by its id), and which benchmarks ran in this
/// process (criterion's files may hold older runs of those filtered out).
static USAGE: LazyLock<Mutex<BTreeMap<String, Usage>>> =
    LazyLock::new(|| Mutex::new(BTreeMap::new()));

fn note_usage(id: &str, wall: Duration, cpu: Duration, ops: u64) {
    let mut usage = USAGE.lock().unwrap();
    let entry = usage.entry(id.to_owned()).or_default();
    entry.wall += wall;
    entry.cpu += cpu;
    entry.ops += ops;
}

/// CPU time of the whole process so far (every thread's, from `/proc/self/task/*/schedstat`,
/// in nanoseconds); zero where that is not available.
fn cpu_time() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let nanos: u64 = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
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
            let id = format!("per_op/{name}/{tasks}");
            group.bench_with_input(BenchmarkId::new(name, tasks), &tasks, |b, &tasks| {
                b.iter_custom(|iters| {
                    let cpu = cpu_time();
                    let wall = concurrent(rt, &fx, op, tasks, iters);
                    note_usage(&id, wall, cpu_time().saturating_sub(cpu), iters);
                    wall
                });
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
        // Here, not before: criterion calls this only when the benchmark is not filtered out.
        note_usage("scope_engine", Duration::ZERO, Duration::ZERO, 0);
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
        note_usage("emit_recv/isolate", Duration::ZERO, Duration::ZERO, 0);
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
        note_usage("emit_recv/tokio_mpsc", Duration::ZERO, Duration::ZERO, 0);
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

/// One target's line: `[MET]`/`[MISSED]`, what is compared, the ratio, the target, the figures.
fn verdict(met: Option<bool>, what: &str, value: String, target: &str, figures: String) {
    let tag = match met {
        Some(true) => "[MET]   ",
        Some(false) => "[MISSED]",
        None => "[n/a]   ",
    };
    println!("{tag} {what:<58} {value:>9} (target {target}) {figures}");
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn report(dir: &Path, load_before: &str) {
    let usage = USAGE.lock().unwrap().clone();
    // Medians of this run only: a benchmark filtered out of this run has no figure.
    let m = |id: &str| {
        usage
            .contains_key(id)
            .then(|| median_ns(dir, id))
            .flatten()
            .unwrap_or(f64::NAN)
    };
    let cores = |id: &str| {
        usage
            .get(id)
            .filter(|u| !u.wall.is_zero() && !u.cpu.is_zero())
            .map_or(f64::NAN, |u| u.cpu.as_secs_f64() / u.wall.as_secs_f64())
    };
    // CPU time per operation (all threads of the process, summed over every sample): what an
    // operation costs whatever the load, where wall time also counts waiting for a core.
    let cpu_per_op = |id: &str| {
        usage
            .get(id)
            .filter(|u| u.ops > 0 && !u.cpu.is_zero())
            .map_or(f64::NAN, |u| u.cpu.as_nanos() as f64 / u.ops as f64)
    };
    let known = |x: f64| (!x.is_nan()).then_some(());
    let [run1, run16, mutex1, mutex16, dash1, dash16] = [
        "per_op/run/1",
        "per_op/run/16",
        "per_op/mutex_hashmap/1",
        "per_op/mutex_hashmap/16",
        "per_op/dashmap/1",
        "per_op/dashmap/16",
    ]
    .map(m);
    let scope = m("scope_engine");
    let (emit, mpsc) = (m("emit_recv/isolate"), m("emit_recv/tokio_mpsc"));
    let ratio = |a: f64, b: f64| format!("{:.2}x", a / b);
    let at_most = |x: f64, limit: f64| known(x).map(|()| x <= limit);
    let at_least = |x: f64, limit: f64| known(x).map(|()| x >= limit);
    println!(
        "\n== targets: ratios of medians from this run (load average {load_before} before, {} after) ==",
        load_average()
    );
    verdict(
        at_most(run16 / mutex16, 1.0),
        "run / static Mutex<HashMap> insert+remove, 16 tasks",
        ratio(run16, mutex16),
        "<= 1.0x",
        format!("[{run16:.0} ns vs {mutex16:.0} ns]"),
    );
    verdict(
        at_most(run16 / dash16, 3.0),
        "run / DashMap insert+remove, 16 tasks",
        ratio(run16, dash16),
        "<= 3x",
        format!("[{run16:.0} ns vs {dash16:.0} ns]"),
    );
    verdict(
        at_most(scope, 200.0),
        "scope + engine create/drop",
        format!("{scope:.0} ns"),
        "<= 200 ns",
        String::new(),
    );
    verdict(
        at_least(run1 / run16, 1.5),
        "run throughput, 16 tasks / 1 task",
        ratio(run1, run16),
        ">= 1.5x",
        format!("[{run1:.0} ns vs {run16:.0} ns per run]"),
    );
    verdict(
        at_most(emit / mpsc, 1.2),
        "emit -> receive / tokio mpsc with the same envelope struct",
        ratio(emit, mpsc),
        "<= 1.2x",
        format!("[{emit:.0} ns vs {mpsc:.0} ns]"),
    );
    println!(
        "\n== scaling from 1 to 16 tasks on 2 workers, and the cores the process got (CPU time / wall time) =="
    );
    for (name, one, sixteen) in [
        ("run", run1, run16),
        ("DashMap (control)", dash1, dash16),
        ("static Mutex<HashMap>", mutex1, mutex16),
    ] {
        let id = match name {
            "run" => "run",
            "DashMap (control)" => "dashmap",
            _ => "mutex_hashmap",
        };
        let (c1, c16) = (
            cores(&format!("per_op/{id}/1")),
            cores(&format!("per_op/{id}/16")),
        );
        println!(
            "{name:<22} throughput x{:.2}; cores got: {c1:.2} at 1 task, {c16:.2} at 16 tasks; per core got: x{:.2}",
            one / sixteen,
            (one / sixteen) / (c16 / c1),
        );
    }
    let cpu = |op: &str, tasks: u32| cpu_per_op(&format!("per_op/{op}/{tasks}"));
    println!(
        "\n== CPU time per operation (every thread of the process; not a target, but what the load does not change) =="
    );
    for tasks in [1, 16] {
        let (run, mutex, dash) = (
            cpu("run", tasks),
            cpu("mutex_hashmap", tasks),
            cpu("dashmap", tasks),
        );
        println!(
            "{tasks:>2} task(s): run {run:.0} ns, static Mutex<HashMap> {mutex:.0} ns, DashMap {dash:.0} ns; run / Mutex<HashMap> {}, run / DashMap {}",
            ratio(run, mutex),
            ratio(run, dash),
        );
    }
    println!(
        "A CPU-bound operation gets one core at 1 task and, on an idle machine, two at 16 tasks; \
         when the 16-task runs got fewer than ~1.9 cores, the machine (not the code) capped the \
         throughput ratio: compare 'per core got' with DashMap's. Rerun on an idle machine \
         (load average below 1) for the ratio itself."
    );
}

fn main() {
    // `ISOLATE_PROFILE_RUNS=N`: only do N operations on one task and exit, for a profiler
    // (`valgrind --tool=callgrind`) to count instructions per operation; `ISOLATE_PROFILE_OP`
    // picks it: `run` (default), `mutex_hashmap` or `dashmap`; `ISOLATE_PROFILE_TASKS` shares
    // them among that many tasks (default 1).
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
        let tasks = std::env::var("ISOLATE_PROFILE_TASKS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let fx = fixture();
        let elapsed = concurrent(&rt, &fx, op, tasks, runs);
        eprintln!(
            "{runs} x {name} on {tasks} tasks in {elapsed:?} ({:.1} ns/op)",
            elapsed.as_nanos() as f64 / runs as f64
        );
        return;
    }
    let load_before = load_average();
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
    report(&dir, &load_before);
}
