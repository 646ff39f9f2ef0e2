//! Registry under concurrency: 100 users x 10 runs, registered and removed concurrently.
#![cfg(not(loom))]

mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use isolate::admission::{Admission, Limits, Refusal, Stage};
use isolate::metrics::Outcome;
use isolate::{RequestContext, RunId, RuntimeConfig, ThreadId, UserId};

const USERS: usize = 100;
const RUNS: usize = 10;

fn user(i: usize) -> UserId {
    UserId::new(format!("user-{i:03}")).unwrap()
}

fn run(j: usize) -> RunId {
    RunId::new(format!("run-{j:02}")).unwrap()
}

fn admission() -> Admission<(usize, usize)> {
    Admission::new(Limits {
        per_user: RUNS,
        global: USERS * RUNS,
        max_queued: 0,
        max_tracked_users: USERS,
    })
}

/// 8 OS threads admit all 1000 (user, run) pairs interleaved, check the full picture at a
/// barrier, then remove them all: nothing lost, nothing duplicated, nothing left.
#[test]
fn registry_has_no_lost_or_duplicated_entries() {
    const THREADS: usize = 8;
    let admission = Arc::new(admission());
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let admission = Arc::clone(&admission);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                // Thread t owns every pair whose index is t modulo THREADS: users are shared
                // between threads, so their shards are contended.
                let mine: Vec<(usize, usize)> = (0..USERS * RUNS)
                    .filter(|k| k % THREADS == t)
                    .map(|k| (k % USERS, k / USERS))
                    .collect();
                let mut stages = Vec::new();
                for &(u, r) in &mine {
                    let stage = admission
                        .enter(&user(u), &run(r), |_| (u, r), true)
                        .unwrap();
                    assert!(matches!(stage, Stage::Running));
                    stages.push(stage);
                    // A second entry of the same key must fail.
                    let again = admission.enter(&user(u), &run(r), |_| (0, 0), true);
                    assert_eq!(again.unwrap_err(), Refusal::Duplicate);
                }
                barrier.wait();
                assert_eq!(admission.registered(), USERS * RUNS);
                assert_eq!(admission.active(), USERS * RUNS);
                barrier.wait();
                for (&(u, r), stage) in mine.iter().zip(stages) {
                    assert_eq!(admission.with(&user(u), &run(r), |v| *v), Some((u, r)));
                    admission.leave(&user(u), &run(r), stage, Outcome::Completed);
                    assert_eq!(admission.with(&user(u), &run(r), |v| *v), None);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(admission.registered(), 0);
    assert_eq!(admission.users(), 0);
    assert_eq!(admission.active(), 0);
    let m = admission.metrics();
    assert_eq!((m.created, m.completed, m.failed), (2000, 1000, 1000));
}

#[test]
fn listing_returns_only_the_callers_entries() {
    let admission = admission();
    let mut stages = Vec::new();
    for u in 0..5 {
        for r in 0..3 {
            stages.push(
                admission
                    .enter(&user(u), &run(r), |_| (u, r), true)
                    .unwrap(),
            );
        }
    }
    for u in 0..5 {
        let listed = admission.list(&user(u));
        assert_eq!(listed.len(), 3);
        assert!(listed.iter().all(|(_, (owner, _))| *owner == u));
        assert_eq!(admission.held_by(&user(u)), 3);
    }
    assert!(admission.list(&user(99)).is_empty());
    for (k, stage) in stages.into_iter().enumerate() {
        admission.leave(&user(k / 3), &run(k % 3), stage, Outcome::Completed);
    }
    assert_eq!(admission.users(), 0);
}

/// The same through the runtime: 1000 concurrent runs on a multi-threaded tokio runtime, all in
/// flight at once; each user sees exactly its own 10 runs; afterwards everything is empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn runtime_registry_under_concurrency() {
    let runtime = support::runtime(
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
                let ctx = RequestContext::builder(
                    support::user(user(u).as_str()),
                    ThreadId::new("thread-1").unwrap(),
                    run(r),
                )
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
        let runs = runtime.active_runs(&support::user(user(u).as_str()));
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
