//! Bounded queues and fair waking, at test scale of the figures (5,000 queued runs made
//! 4,841 registry entries; draining 20,000 queued runs cost 18.9 s of CPU because every release
//! woke every waiter; another user's latency rose 4-10x). Everything is asserted on counts and
//! on tokio's paused clock, never on wall time.
#![cfg(not(loom))]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use isolate::{LimitKind, RunError, Runtime, RuntimeConfig};
use support::ctx;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep};

fn runtime(per_user: usize, global: usize, queue: usize) -> Runtime {
    support::runtime(
        RuntimeConfig::builder()
            .per_user_limit(per_user)
            .global_limit(global)
            .max_queued_per_user(queue)
            .timeout(Duration::from_secs(3600))
            .build()
            .unwrap(),
    )
}

/// Spawns runs `runs` of `user`, each working `work`, recording its start order in `order`.
fn spawn_runs(
    set: &mut JoinSet<Result<(), RunError>>,
    rt: &Runtime,
    user: &'static str,
    runs: impl IntoIterator<Item = usize>,
    work: Duration,
    order: &Arc<Mutex<Vec<String>>>,
) {
    for r in runs {
        let (rt, order) = (rt.clone(), Arc::clone(order));
        set.spawn(async move {
            rt.run(ctx(user, &format!("run-{r}")), async |_| {
                order.lock().unwrap().push(format!("{user}/{r}"));
                sleep(work).await;
            })
            .await
        });
    }
}

/// 5,000 runs of one user: 5 execute, 64 wait, the rest are refused at once with a typed error
/// and never reach the registry.
#[tokio::test(start_paused = true)]
async fn a_flood_of_one_user_is_bounded_before_the_registry() {
    let rt = runtime(5, 256, 64);
    let order = Arc::default();
    let mut set = JoinSet::new();
    spawn_runs(
        &mut set,
        &rt,
        "alice",
        0..5_000,
        Duration::from_secs(1),
        &order,
    );
    // Let every task reach the runtime.
    sleep(Duration::from_millis(1)).await;
    let occupancy = rt.occupancy();
    assert_eq!(occupancy.registered_runs, 5 + 64);
    assert_eq!(occupancy.waiting_runs, 64);
    assert_eq!(occupancy.permits_held, 5);
    assert_eq!(rt.active_runs(&support::user("alice")).len(), 69);
    let mut refused = 0;
    let mut completed = 0;
    while let Some(joined) = set.join_next().await {
        match joined.unwrap() {
            Ok(()) => completed += 1,
            Err(RunError::Rejected(LimitKind::Queue { limit: 64 })) => refused += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((completed, refused), (69, 5_000 - 69));
    let m = rt.metrics();
    assert_eq!((m.rejected, m.queued), (5_000 - 69, 64));
    assert_eq!(rt.occupancy(), Default::default());
}

/// 2,000 queued runs drained through one slot: each release wakes exactly one waiter, so the
/// waiting runs are polled O(N) times in all (it was O(N^2) with a broadcast wake-up), and
/// they start in the order they queued.
#[tokio::test(start_paused = true)]
async fn draining_a_queue_wakes_one_waiter_per_slot_in_order() {
    const N: usize = 2_000;
    let rt = runtime(1, 256, N);
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut set = JoinSet::new();
    for r in 0..N {
        spawn_runs(
            &mut set,
            &rt,
            "alice",
            [r],
            Duration::from_millis(1),
            &order,
        );
        // Queue them one after another so their arrival order is known.
        tokio::task::yield_now().await;
    }
    while let Some(joined) = set.join_next().await {
        joined.unwrap().unwrap();
    }
    let started = order.lock().unwrap().clone();
    let expected: Vec<String> = (0..N).map(|r| format!("alice/{r}")).collect();
    assert_eq!(started, expected, "runs did not start in arrival order");
    let m = rt.metrics();
    assert_eq!(m.queued, N as u64 - 1);
    // A first poll that queues, and the one after the wake that hands over the slot.
    assert!(
        m.wait_polls <= 2 * m.queued + 2,
        "{} polls for {} waiting runs",
        m.wait_polls,
        m.queued
    );
    assert_eq!(rt.occupancy(), Default::default());
}

/// While alice has a full queue, bob's run starts at once and takes only its own time.
#[tokio::test(start_paused = true)]
async fn another_users_latency_is_unaffected_by_a_flood() {
    let rt = runtime(5, 256, 64);
    let order = Arc::default();
    let mut set = JoinSet::new();
    spawn_runs(
        &mut set,
        &rt,
        "alice",
        0..1_000,
        Duration::from_secs(1),
        &order,
    );
    sleep(Duration::from_millis(1)).await;
    let before = rt.metrics().queued;
    let start = Instant::now();
    let bob = rt
        .run(ctx("bob", "run-1"), async |_| {
            sleep(Duration::from_millis(400)).await;
            start.elapsed()
        })
        .await
        .unwrap();
    assert_eq!(bob, Duration::from_millis(400), "bob waited for alice");
    let m = rt.metrics();
    assert_eq!(m.queued, before, "bob's run queued");
    assert!(
        m.wait_polls <= 2 * 64,
        "alice's waiters were woken while bob ran"
    );
    while set.join_next().await.is_some() {}
    assert_eq!(rt.occupancy(), Default::default());
}

/// The global limit is FIFO across users: bob, arriving after alice's flood, waits for the next
/// released global slot, not behind all of alice's queued runs.
#[tokio::test(start_paused = true)]
async fn global_slots_go_to_the_oldest_waiter_of_any_user() {
    let rt = runtime(2, 2, 64);
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut set = JoinSet::new();
    spawn_runs(
        &mut set,
        &rt,
        "alice",
        0..50,
        Duration::from_millis(100),
        &order,
    );
    sleep(Duration::from_millis(1)).await;
    let start = Instant::now();
    let bob = rt
        .run(ctx("bob", "run-0"), async |_| {
            order.lock().unwrap().push("bob/0".to_owned());
            start.elapsed()
        })
        .await
        .unwrap();
    while let Some(joined) = set.join_next().await {
        joined.unwrap().unwrap();
    }
    // Alice's two runs free both global slots at 100 ms: the first goes to bob, whose claim
    // is older than that of alice's next runs, which were waiting for alice's own slots.
    assert_eq!(bob, Duration::from_millis(99));
    let order = order.lock().unwrap();
    let bob_at = order.iter().position(|s| s == "bob/0").unwrap();
    assert!(bob_at <= 3, "{order:?}");
    assert_eq!(rt.occupancy(), Default::default());
}

/// A waiter that gives up (cancelled, timed out or dropped) leaves the queue and the slot goes
/// to the next one: nothing is lost or held forever.
#[tokio::test(start_paused = true)]
async fn waiters_that_leave_do_not_lose_slots() {
    let rt = runtime(1, 256, 10);
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut set = JoinSet::new();
    spawn_runs(
        &mut set,
        &rt,
        "alice",
        0..4,
        Duration::from_millis(100),
        &order,
    );
    sleep(Duration::from_millis(1)).await;
    assert_eq!(rt.occupancy().waiting_runs, 3);
    // Runs 1 and 2 wait; cancel run 1, and let a caller abandon a fifth run.
    assert!(rt.cancel(&support::user("alice"), &support::run("run-1")));
    let abandoned = tokio::time::timeout(
        Duration::from_millis(10),
        rt.run(ctx("alice", "run-9"), async |_| ()),
    )
    .await;
    assert!(abandoned.is_err());
    let mut results = Vec::new();
    while let Some(joined) = set.join_next().await {
        results.push(joined.unwrap());
    }
    assert_eq!(
        results
            .iter()
            .filter(|r| **r == Err(RunError::Cancelled))
            .count(),
        1
    );
    assert_eq!(*order.lock().unwrap(), ["alice/0", "alice/2", "alice/3"]);
    assert_eq!(rt.occupancy(), Default::default());
}
