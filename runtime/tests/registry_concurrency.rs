//! Registry under concurrency: 100 users x 10 runs, registered and removed concurrently.
#![cfg(not(loom))]

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use isolate::registry::Registry;
use isolate::{RequestContext, RunId, Runtime, RuntimeConfig, ThreadId, UserId};

const USERS: usize = 100;
const RUNS: usize = 10;

fn user(i: usize) -> UserId {
    UserId::new(format!("user-{i:03}")).unwrap()
}

fn run(j: usize) -> RunId {
    RunId::new(format!("run-{j:02}")).unwrap()
}

/// 8 OS threads insert all 1000 (user, run) pairs interleaved, check the full picture at a
/// barrier, then remove them all: nothing lost, nothing duplicated, nothing left.
#[test]
fn registry_has_no_lost_or_duplicated_entries() {
    const THREADS: usize = 8;
    let registry: Arc<Registry<(usize, usize)>> = Arc::new(Registry::new());
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let registry = Arc::clone(&registry);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                // Thread t owns every pair whose index is t modulo THREADS: users are shared
                // between threads, so per-user inner maps are contended.
                let mine: Vec<(usize, usize)> = (0..USERS * RUNS)
                    .filter(|k| k % THREADS == t)
                    .map(|k| (k % USERS, k / USERS))
                    .collect();
                for &(u, r) in &mine {
                    assert!(registry.insert(&user(u), &run(r), (u, r)).is_ok());
                    // A second insert of the same key must fail.
                    assert_eq!(registry.insert(&user(u), &run(r), (0, 0)), Err((0, 0)));
                }
                barrier.wait();
                assert_eq!(registry.len(), USERS * RUNS);
                barrier.wait();
                for &(u, r) in &mine {
                    assert_eq!(registry.remove(&user(u), &run(r)), Some((u, r)));
                    assert_eq!(registry.remove(&user(u), &run(r)), None);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(registry.is_empty());
    assert_eq!(registry.len(), 0);
    assert_eq!(registry.users(), 0);
}

#[test]
fn listing_returns_only_the_callers_entries() {
    let registry = Registry::new();
    for u in 0..5 {
        for r in 0..3 {
            registry.insert(&user(u), &run(r), u).unwrap();
        }
    }
    for u in 0..5 {
        let listed = registry.list(&user(u));
        assert_eq!(listed.len(), 3);
        assert!(listed.iter().all(|(_, owner)| *owner == u));
        assert_eq!(registry.len_for(&user(u)), 3);
    }
    assert!(registry.list(&user(99)).is_empty());
}

/// The same through the runtime: 1000 concurrent runs on a multi-threaded tokio runtime, all in
/// flight at once; each user sees exactly its own 10 runs; afterwards everything is empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn runtime_registry_under_concurrency() {
    let runtime = Runtime::new(
        RuntimeConfig::builder()
            .per_user_limit(RUNS)
            .global_limit(USERS * RUNS)
            .build()
            .unwrap(),
    );
    let all_in = Arc::new(tokio::sync::Barrier::new(USERS * RUNS + 1));
    let release = Arc::new(tokio::sync::Barrier::new(USERS * RUNS + 1));
    let mut tasks = tokio::task::JoinSet::new();
    for u in 0..USERS {
        for r in 0..RUNS {
            let runtime = runtime.clone();
            let (all_in, release) = (Arc::clone(&all_in), Arc::clone(&release));
            tasks.spawn(async move {
                let ctx =
                    RequestContext::builder(user(u), ThreadId::new("thread-1").unwrap(), run(r))
                        .build()
                        .unwrap();
                let expected = ctx.request_id().clone();
                runtime
                    .run(ctx, async |scope| {
                        all_in.wait().await;
                        release.wait().await;
                        assert_eq!(scope.context().request_id(), &expected);
                    })
                    .await
            });
        }
    }
    all_in.wait().await;
    let occ = runtime.occupancy();
    assert_eq!(occ.registered_runs, USERS * RUNS);
    assert_eq!(occ.registered_users, USERS);
    assert_eq!(occ.permits_held, USERS * RUNS);
    for u in 0..USERS {
        let runs = runtime.active_runs(&user(u));
        let ids: BTreeSet<String> = runs.iter().map(|i| i.run_id.to_string()).collect();
        let expected: BTreeSet<String> = (0..RUNS).map(|r| run(r).to_string()).collect();
        assert_eq!(ids, expected, "user {u}");
        assert!(runs.iter().all(|i| i.executing));
    }
    release.wait().await;
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }
    assert_eq!(runtime.occupancy(), Default::default());
    let m = runtime.metrics();
    assert_eq!((m.created, m.completed, m.failed), (1000, 1000, 0));
    assert_eq!(m.peak_concurrency, 1000);
}
