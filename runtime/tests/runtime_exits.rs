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

/// The registry's entries point into the runs' own futures. Listing, cancelling and shutting
/// down race here with runs that finish at once, yield, wait for a slot, observe their token or
/// are dropped by their caller mid-run, on three worker threads: no query may reach a run that
/// has gone (Miri runs this test and would report a use after free), every outcome is counted,
/// and nothing is left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn registry_queries_race_with_runs_ending() {
    let rt = support::runtime(
        RuntimeConfig::builder()
            .per_user_limit(2)
            .global_limit(3)
            .build()
            .unwrap(),
    );
    let rounds = if cfg!(miri) { 12 } else { 600 };
    let users = ["alice", "bob", "carol"];
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut observers = Vec::new();
    for name in users {
        let (rt, done) = (rt.clone(), Arc::clone(&done));
        observers.push(tokio::spawn(async move {
            let me = support::user(name);
            let mut cancelled = 0_usize;
            while !done.load(SeqCst) {
                for info in rt.active_runs(&me) {
                    assert!(!info.request_id.as_str().is_empty());
                    if info.run_id.as_str().ends_with('0') && rt.cancel(&me, &info.run_id) {
                        cancelled += 1;
                    }
                }
                tokio::task::yield_now().await;
            }
            cancelled
        }));
    }
    let mut workers = Vec::new();
    for name in users {
        let rt = rt.clone();
        workers.push(tokio::spawn(async move {
            for i in 0..rounds {
                let run = format!("run-{}", i % 4);
                let ctx = ctx(name, &run);
                match i % 4 {
                    0 => {
                        let _ = rt
                            .run(ctx, async |scope| {
                                let token = scope.cancellation().clone();
                                tokio::select! {
                                    () = token.cancelled() => {}
                                    () = sleep(Duration::from_micros(200)) => {}
                                }
                            })
                            .await;
                    }
                    1 => {
                        let _ = rt.run(ctx, async |_| ()).await;
                    }
                    2 => {
                        let _ = rt.run(ctx, async |_| tokio::task::yield_now().await).await;
                    }
                    _ => {
                        // Dropped by its caller while it runs (or waits for a slot).
                        let _ = tokio::time::timeout(
                            Duration::from_micros(50),
                            rt.run(ctx, async |_| sleep(Duration::from_millis(5)).await),
                        )
                        .await;
                    }
                }
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    done.store(true, SeqCst);
    for observer in observers {
        observer.await.unwrap();
    }
    assert_eq!(rt.occupancy(), Default::default());
    let m = rt.metrics();
    assert_eq!(m.created, (rounds * users.len()) as u64);
    assert_eq!(m.created, m.completed + m.failed);
    assert_eq!((m.active, m.in_flight), (0, 0));
    // Shutting down races with runs starting and finishing: every run ends, none is left.
    let mut runs = Vec::new();
    for (i, name) in users.into_iter().enumerate() {
        let rt = rt.clone();
        runs.push(tokio::spawn(async move {
            for r in 0..rounds / 4 {
                let ctx = ctx(name, &format!("late-{i}-{r}"));
                let _ = rt.run(ctx, async |_| tokio::task::yield_now().await).await;
            }
        }));
    }
    tokio::task::yield_now().await;
    rt.shutdown();
    for run in runs {
        run.await.unwrap();
    }
    assert_eq!(rt.occupancy(), Default::default());
    assert_eq!(
        rt.run(ctx("alice", "after"), async |_| ()).await,
        Err(RunError::Cancelled)
    );
}

/// A caller that polls a run once and then forgets its (boxed, pinned) future leaks it: the run
/// stays registered, and listing, cancelling and shutting down still reach it (its memory is
/// never freed, by `Pin`'s contract), they do not read freed memory. Not under Miri, which
/// reports the deliberate leak.
#[test]
#[cfg_attr(miri, ignore)]
fn a_forgotten_run_stays_reachable() {
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let _in_tokio = tokio_rt.enter(); // for the run's timer
    let rt = support::default_runtime();
    let mut future = Box::pin(rt.run(ctx("alice", "run-1"), async |_| {
        std::future::pending::<()>().await
    }));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_pending());
    std::mem::forget(future);
    let alice = support::user("alice");
    let runs = rt.active_runs(&alice);
    assert_eq!(runs.len(), 1);
    assert!(runs[0].executing);
    assert!(rt.cancel(&alice, &runs[0].run_id));
    rt.shutdown();
    assert_eq!(rt.occupancy().registered_runs, 1);
}

/// `RunInfo::started_at` and `RequestContext::created_at` are the wall-clock times of accepting
/// and building, to within the coarse clock's tick (a few ms; 50 ms allowed here).
#[tokio::test]
async fn started_at_is_when_the_run_was_accepted() {
    use std::time::SystemTime;
    let tick = Duration::from_millis(50);
    let rt = support::default_runtime();
    let before = SystemTime::now();
    let ctx = ctx("alice", "run-1");
    assert!(ctx.created_at() + tick >= before && ctx.created_at() <= SystemTime::now() + tick);
    let runs = rt
        .run(ctx, async |scope| rt.active_runs(scope.context().user()))
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].started_at + tick >= before);
    assert!(runs[0].started_at <= SystemTime::now() + tick);
}
