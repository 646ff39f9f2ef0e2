//! Every exit path (success, timeout, cancellation, panic, caller drop, duplicate, shutdown)
//! runs cleanups exactly once, in reverse order, and leaves permits and registry at zero.
#![cfg(not(loom))]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use isolate::{OverflowPolicy, RequestScope, RunError, RunId, Runtime, RuntimeConfig};
use tokio::time::sleep;

mod support;
use support::progress;

use support::ctx;

/// Registers two cleanups that append to `log` and bump `count`.
fn register_cleanups(
    scope: &RequestScope,
    log: &Arc<Mutex<Vec<&'static str>>>,
    count: &Arc<AtomicUsize>,
) {
    for name in ["registered-first", "registered-second"] {
        let (log, count) = (Arc::clone(log), Arc::clone(count));
        scope.on_cleanup(move || {
            log.lock().unwrap().push(name);
            count.fetch_add(1, SeqCst);
        });
    }
}

struct Probe {
    log: Arc<Mutex<Vec<&'static str>>>,
    count: Arc<AtomicUsize>,
}

impl Probe {
    fn new() -> Self {
        Self {
            log: Arc::default(),
            count: Arc::default(),
        }
    }

    fn assert_ran_once_in_reverse(&self) {
        assert_eq!(self.count.load(SeqCst), 2);
        assert_eq!(
            *self.log.lock().unwrap(),
            ["registered-second", "registered-first"]
        );
    }
}

fn short_timeout() -> Runtime {
    support::runtime(
        RuntimeConfig::builder()
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap(),
    )
}

#[tokio::test(start_paused = true)]
async fn success_runs_cleanups_once() {
    let rt = short_timeout();
    let p = Probe::new();
    let r = rt
        .run(ctx("alice", "run-1"), async |scope| {
            register_cleanups(scope, &p.log, &p.count);
            assert_eq!(p.count.load(SeqCst), 0, "cleanup ran early");
            42
        })
        .await;
    assert_eq!(r, Ok(42));
    p.assert_ran_once_in_reverse();
    assert_eq!(rt.occupancy(), Default::default());
}

#[tokio::test(start_paused = true)]
async fn timeout_cancels_token_and_cleans_up() {
    let rt = short_timeout();
    let p = Probe::new();
    let seen_cancel = Arc::new(AtomicUsize::new(0));
    let r = rt
        .run(ctx("alice", "run-1"), async |scope| {
            register_cleanups(scope, &p.log, &p.count);
            let token = scope.cancellation().clone();
            let seen = Arc::clone(&seen_cancel);
            scope.on_cleanup(move || {
                if token.is_cancelled() {
                    seen.fetch_add(1, SeqCst);
                }
            });
            sleep(Duration::from_secs(3600)).await;
        })
        .await;
    assert_eq!(r, Err(RunError::TimedOut(Duration::from_secs(1))));
    p.assert_ran_once_in_reverse();
    assert_eq!(
        seen_cancel.load(SeqCst),
        1,
        "token not cancelled on timeout"
    );
    assert_eq!(rt.occupancy(), Default::default());
    let m = rt.metrics();
    assert_eq!((m.timed_out, m.failed, m.active, m.in_flight), (1, 1, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn cancel_by_owner_only() {
    let rt = short_timeout();
    let p = Probe::new();
    let alice = support::user("alice");
    let bob = support::user("bob");
    let run = RunId::new("run-1").unwrap();
    let task = {
        let rt = rt.clone();
        let (log, count) = (Arc::clone(&p.log), Arc::clone(&p.count));
        tokio::spawn(async move {
            rt.run(ctx("alice", "run-1"), async |scope| {
                register_cleanups(scope, &log, &count);
                scope.cancellation().cancelled().await;
                "observed cancellation"
            })
            .await
        })
    };
    sleep(Duration::from_millis(10)).await;
    // Bob cannot see or cancel alice's run, even knowing its run id.
    assert!(rt.active_runs(&bob).is_empty());
    assert!(!rt.cancel(&bob, &run));
    assert_eq!(rt.active_runs(&alice).len(), 1);
    assert!(rt.cancel(&alice, &run));
    assert_eq!(task.await.unwrap(), Err(RunError::Cancelled));
    p.assert_ran_once_in_reverse();
    assert!(!rt.cancel(&alice, &run), "cancel after the run ended");
    assert_eq!(rt.occupancy(), Default::default());
    assert_eq!(rt.metrics().cancelled, 1);
}

#[tokio::test(start_paused = true)]
async fn a_waiting_run_can_be_cancelled() {
    let rt = support::runtime(RuntimeConfig::builder().per_user_limit(1).build().unwrap());
    let alice = support::user("alice");
    let holder = {
        let rt = rt.clone();
        tokio::spawn(async move {
            rt.run(ctx("alice", "run-1"), async |_| {
                sleep(Duration::from_secs(5)).await
            })
            .await
        })
    };
    let waiter = {
        let rt = rt.clone();
        tokio::spawn(async move { rt.run(ctx("alice", "run-2"), async |_| ()).await })
    };
    sleep(Duration::from_millis(10)).await;
    let runs = rt.active_runs(&alice);
    assert_eq!(
        runs.iter().map(|r| r.executing).collect::<Vec<_>>(),
        [true, false]
    );
    assert!(rt.cancel(&alice, &RunId::new("run-2").unwrap()));
    assert_eq!(waiter.await.unwrap(), Err(RunError::Cancelled));
    assert_eq!(holder.await.unwrap(), Ok(()));
    assert_eq!(rt.occupancy(), Default::default());
}

#[tokio::test(start_paused = true)]
async fn panic_is_contained_and_cleaned_up() {
    let rt = short_timeout();
    let p = Probe::new();
    let bystander = {
        let rt = rt.clone();
        tokio::spawn(async move {
            rt.run(ctx("bob", "run-1"), async |_| {
                sleep(Duration::from_millis(100)).await;
                "bob fine"
            })
            .await
        })
    };
    let r: Result<(), _> = rt
        .run(ctx("alice", "run-1"), async |scope| {
            register_cleanups(scope, &p.log, &p.count);
            sleep(Duration::from_millis(10)).await;
            panic!("tool exploded");
        })
        .await;
    assert_eq!(
        r,
        Err(RunError::Panicked {
            message: "tool exploded".into()
        })
    );
    p.assert_ran_once_in_reverse();
    assert_eq!(bystander.await.unwrap(), Ok("bob fine"));
    assert_eq!(rt.occupancy(), Default::default());
    assert_eq!(rt.metrics().panicked, 1);
    // The runtime keeps working for the same user.
    assert_eq!(rt.run(ctx("alice", "run-1"), async |_| 1).await, Ok(1));
}

#[tokio::test(start_paused = true)]
async fn a_panicking_cleanup_does_not_stop_the_others() {
    let rt = short_timeout();
    let count = Arc::new(AtomicUsize::new(0));
    let r = rt
        .run(ctx("alice", "run-1"), async |scope| {
            let c = Arc::clone(&count);
            scope.on_cleanup(move || {
                c.fetch_add(1, SeqCst);
            });
            scope.on_cleanup(|| panic!("cleanup failed"));
        })
        .await;
    assert_eq!(r, Ok(()));
    assert_eq!(count.load(SeqCst), 1);
    assert_eq!(rt.occupancy(), Default::default());
}

#[tokio::test(start_paused = true)]
async fn caller_dropping_the_future_cleans_up() {
    let rt = short_timeout();
    let p = Probe::new();
    let task = {
        let rt = rt.clone();
        let (log, count) = (Arc::clone(&p.log), Arc::clone(&p.count));
        tokio::spawn(async move {
            rt.run(ctx("alice", "run-1"), async |scope| {
                register_cleanups(scope, &log, &count);
                sleep(Duration::from_secs(100)).await;
            })
            .await
        })
    };
    sleep(Duration::from_millis(10)).await;
    assert_eq!(rt.occupancy().permits_held, 1);
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    p.assert_ran_once_in_reverse();
    assert_eq!(rt.occupancy(), Default::default());
    let m = rt.metrics();
    assert_eq!((m.cancelled, m.active, m.in_flight), (1, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn duplicate_run_of_same_user_is_refused_other_user_is_not() {
    let rt = support::runtime(
        RuntimeConfig::builder()
            .overflow(OverflowPolicy::Reject)
            .build()
            .unwrap(),
    );
    let first = {
        let rt = rt.clone();
        tokio::spawn(async move {
            rt.run(ctx("alice", "run-1"), async |_| {
                sleep(Duration::from_millis(50)).await
            })
            .await
        })
    };
    sleep(Duration::from_millis(1)).await;
    assert_eq!(
        rt.run(ctx("alice", "run-1"), async |_| ()).await,
        Err(RunError::AlreadyRunning {
            run_id: RunId::new("run-1").unwrap()
        })
    );
    // The same run id under another user is a different key.
    assert_eq!(rt.run(ctx("bob", "run-1"), async |_| ()).await, Ok(()));
    assert_eq!(first.await.unwrap(), Ok(()));
    // The refused duplicate did not remove the original's entry early: it's gone only now.
    assert_eq!(rt.occupancy(), Default::default());
}

#[tokio::test(start_paused = true)]
async fn shutdown_cancels_active_and_later_runs() {
    let rt = short_timeout();
    let active = {
        let rt = rt.clone();
        tokio::spawn(async move {
            rt.run(ctx("alice", "run-1"), async |_| {
                sleep(Duration::from_secs(100)).await
            })
            .await
        })
    };
    sleep(Duration::from_millis(1)).await;
    rt.shutdown();
    assert_eq!(active.await.unwrap(), Err(RunError::Cancelled));
    assert_eq!(
        rt.run(ctx("bob", "run-1"), async |_| ()).await,
        Err(RunError::Cancelled)
    );
    assert_eq!(rt.occupancy(), Default::default());
}

#[tokio::test(start_paused = true)]
async fn concurrent_requests_get_distinct_scopes_and_own_events() {
    let rt = short_timeout();
    let (mut rx_a, run_a) = rt.run_streaming(ctx("alice", "run-1"), async |scope| {
        scope.emitter().emit(progress("a1")).unwrap();
        sleep(Duration::from_millis(5)).await;
        scope.emitter().emit(progress("a2")).unwrap();
        scope as *const RequestScope as usize
    });
    let (mut rx_b, run_b) = rt.run_streaming(ctx("bob", "run-1"), async |scope| {
        scope.emitter().emit(progress("b1")).unwrap();
        sleep(Duration::from_millis(5)).await;
        scope as *const RequestScope as usize
    });
    let (a, b) = tokio::join!(run_a, run_b);
    let (addr_a, addr_b) = (a.unwrap(), b.unwrap());
    assert_ne!(addr_a, addr_b, "two requests shared a scope");
    let (events_a, _) = support::collect(&mut rx_a).await;
    let (events_b, _) = support::collect(&mut rx_b).await;
    assert_eq!(events_a.len(), 2);
    assert!(events_a.iter().all(|e| e.user_id().as_str() == "alice"));
    assert_eq!(events_b.len(), 1);
    assert!(events_b.iter().all(|e| e.user_id().as_str() == "bob"));
    assert_ne!(events_a[0].request_id(), events_b[0].request_id());
}
