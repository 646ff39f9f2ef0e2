//! Per-user and global limits: Wait and Reject, and users never blocking each other.
//! All timing uses tokio's paused clock, so these tests take no real time.
#![cfg(not(loom))]

mod support;

use std::time::Duration;

use isolate::{LimitKind, OverflowPolicy, RunError, Runtime, RuntimeConfig};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep};

const WORK: Duration = Duration::from_millis(400);

use support::ctx;

fn runtime(policy: OverflowPolicy) -> Runtime {
    support::runtime(RuntimeConfig::builder().overflow(policy).build().unwrap())
}

/// Spawns `runs` runs of `user`, each doing `work` of simulated work; returns each run's
/// finishing time relative to `start`.
fn spawn_runs(
    set: &mut JoinSet<(String, Result<Duration, RunError>)>,
    rt: &Runtime,
    user: &str,
    runs: usize,
    work: Duration,
    start: Instant,
) {
    for r in 0..runs {
        let rt = rt.clone();
        let user = user.to_owned();
        set.spawn(async move {
            let result = rt
                .run(ctx(&user, &format!("run-{r}")), async |_scope| {
                    sleep(work).await;
                    start.elapsed()
                })
                .await;
            (user, result)
        });
    }
}

#[tokio::test(start_paused = true)]
async fn users_never_block_each_other() {
    let rt = runtime(OverflowPolicy::Wait);
    let start = Instant::now();
    let mut set = JoinSet::new();
    for u in 0..10 {
        spawn_runs(&mut set, &rt, &format!("user-{u}"), 5, WORK, start);
    }
    let mut finished = 0;
    while let Some(joined) = set.join_next().await {
        let (_, result) = joined.unwrap();
        let at = result.unwrap();
        assert!(
            at >= WORK && at < WORK + Duration::from_millis(50),
            "{at:?}"
        );
        finished += 1;
    }
    assert_eq!(finished, 50);
    assert!(start.elapsed() < WORK + Duration::from_millis(50));
    assert_eq!(rt.metrics().peak_concurrency, 50);
    assert_eq!(rt.occupancy(), Default::default());
}

#[tokio::test(start_paused = true)]
async fn sixth_run_waits_while_other_users_proceed() {
    let rt = runtime(OverflowPolicy::Wait);
    let start = Instant::now();
    let mut set = JoinSet::new();
    spawn_runs(&mut set, &rt, "alice", 6, WORK, start);
    // Let all six register and five of them start.
    tokio::task::yield_now().await;
    sleep(Duration::from_millis(1)).await;
    let alice = support::user("alice");
    let runs = rt.active_runs(&alice);
    assert_eq!(runs.len(), 6);
    assert_eq!(runs.iter().filter(|r| r.executing).count(), 5);
    assert_eq!(rt.user_metrics(&alice).unwrap().active, 5);

    // Bob is not held up by alice's queue.
    let bob = rt
        .run(ctx("bob", "run-0"), async |_| {
            sleep(WORK).await;
            start.elapsed()
        })
        .await
        .unwrap();
    assert!(bob < WORK + Duration::from_millis(50), "{bob:?}");

    let mut times = Vec::new();
    while let Some(joined) = set.join_next().await {
        times.push(joined.unwrap().1.unwrap());
    }
    times.sort();
    // Five in the first wave, the sixth after one of them released its slot.
    assert!(times[4] < WORK + Duration::from_millis(50), "{times:?}");
    assert!(times[5] >= WORK * 2, "{times:?}");
    assert!(times[5] < WORK * 2 + Duration::from_millis(50), "{times:?}");
    assert_eq!(rt.user_metrics(&alice).unwrap().peak_concurrency, 5);
    assert_eq!(rt.occupancy(), Default::default());
}

#[tokio::test(start_paused = true)]
async fn sixth_run_is_rejected_while_other_users_proceed() {
    let rt = runtime(OverflowPolicy::Reject);
    let start = Instant::now();
    let mut set = JoinSet::new();
    spawn_runs(&mut set, &rt, "alice", 5, WORK, start);
    sleep(Duration::from_millis(1)).await;
    let sixth = rt
        .run(ctx("alice", "run-5"), async |_| start.elapsed())
        .await;
    assert_eq!(
        sixth,
        Err(RunError::Rejected(LimitKind::PerUser { limit: 5 }))
    );
    // The rejected run left no registry entry behind.
    assert_eq!(rt.active_runs(&support::user("alice")).len(), 5);
    let bob = rt.run(ctx("bob", "run-0"), async |_| 7).await;
    assert_eq!(bob, Ok(7));
    while let Some(joined) = set.join_next().await {
        joined.unwrap().1.unwrap();
    }
    let m = rt.metrics();
    assert_eq!((m.created, m.completed, m.rejected, m.failed), (7, 6, 1, 1));
    assert_eq!(rt.occupancy(), Default::default());
    // Once alice's slots are free she can run again.
    assert_eq!(rt.run(ctx("alice", "run-5"), async |_| 1).await, Ok(1));
}

#[tokio::test(start_paused = true)]
async fn global_limit_rejects_or_queues_across_users() {
    let rt = support::runtime(
        RuntimeConfig::builder()
            .global_limit(2)
            .overflow(OverflowPolicy::Reject)
            .build()
            .unwrap(),
    );
    let start = Instant::now();
    let mut set = JoinSet::new();
    spawn_runs(&mut set, &rt, "alice", 1, WORK, start);
    spawn_runs(&mut set, &rt, "bob", 1, WORK, start);
    sleep(Duration::from_millis(1)).await;
    assert_eq!(
        rt.run(ctx("carol", "run-0"), async |_| ()).await,
        Err(RunError::Rejected(LimitKind::Global { limit: 2 }))
    );
    while let Some(joined) = set.join_next().await {
        joined.unwrap().1.unwrap();
    }

    // Wait mode: 4 users, global limit 2 -> two waves.
    let rt = support::runtime(RuntimeConfig::builder().global_limit(2).build().unwrap());
    let start = Instant::now();
    let mut set = JoinSet::new();
    for u in ["alice", "bob", "carol", "dave"] {
        spawn_runs(&mut set, &rt, u, 1, WORK, start);
    }
    let mut times = Vec::new();
    while let Some(joined) = set.join_next().await {
        times.push(joined.unwrap().1.unwrap());
    }
    times.sort();
    assert!(times[1] < WORK + Duration::from_millis(50), "{times:?}");
    assert!(times[2] >= WORK * 2, "{times:?}");
    assert_eq!(rt.metrics().peak_concurrency, 2);
    assert_eq!(rt.occupancy(), Default::default());
}

#[tokio::test(start_paused = true)]
async fn waiting_counts_against_the_timeout() {
    let rt = support::runtime(
        RuntimeConfig::builder()
            .per_user_limit(1)
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap(),
    );
    let start = Instant::now();
    let mut set = JoinSet::new();
    spawn_runs(&mut set, &rt, "alice", 1, WORK, start);
    sleep(Duration::from_millis(1)).await;
    // Would get the slot at 400 ms and need 400 ms more: times out at 500 ms.
    let second = rt
        .run(ctx("alice", "run-late"), async |_| sleep(WORK).await)
        .await;
    assert_eq!(second, Err(RunError::TimedOut(Duration::from_millis(500))));
    assert!(start.elapsed() >= Duration::from_millis(500));
    set.join_next().await.unwrap().unwrap().1.unwrap();
    assert_eq!(rt.occupancy(), Default::default());
    assert_eq!(rt.metrics().timed_out, 1);
}

/// A thread that ran a request keeps its global slot leased for its next one; that slot is still
/// free for every other thread: with a global limit of 1, requests on three threads one after the
/// other are all admitted at once (Reject policy), none waits, and afterwards nothing is held.
#[test]
fn a_global_slot_leased_by_one_thread_serves_requests_on_others() {
    let rt = support::runtime(
        RuntimeConfig::builder()
            .global_limit(1)
            .overflow(OverflowPolicy::Reject)
            .build()
            .unwrap(),
    );
    for t in 0..3 {
        let shared = rt.clone();
        let result = std::thread::spawn(move || {
            let rt = shared;
            let local = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            local.block_on(async {
                let first = rt.run(ctx("alice", &format!("run-{t}")), async |_| ());
                let first = first.await;
                // The same thread again: its lease serves it.
                let again = rt.run(ctx("bob", &format!("run-{t}")), async |_| ());
                (first, again.await)
            })
        })
        .join()
        .unwrap();
        assert_eq!(result, (Ok(()), Ok(())), "thread {t}");
        assert_eq!(rt.occupancy(), Default::default(), "thread {t}");
    }
    let m = rt.metrics();
    assert_eq!((m.completed, m.rejected, m.queued), (6, 0, 0));
    assert_eq!((m.active, m.peak_concurrency), (0, 1));
}
