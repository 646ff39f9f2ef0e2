//! No panic of the request's code escapes `Runtime::run`: not in the body, not in a cleanup, not
//! in a `Drop` on any exit path (completion, timeout, cancellation, the caller dropping the run),
//! and each outcome is counted as what it was. Each run is spawned, as a server would, so an
//! escaped panic would surface as a `JoinError`.
#![cfg(not(loom))]

mod support;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use isolate::events::CloseReason;
use isolate::{Envelope, EventSink, MetricsSnapshot, RunError, Runtime, RuntimeConfig};
use support::{ctx, milestone};
use tokio::time::sleep;

/// Panics when dropped.
struct PanicsOnDrop(&'static str);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("{} dropped", self.0);
    }
}

fn runtime() -> Runtime {
    support::runtime(
        RuntimeConfig::builder()
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap(),
    )
}

/// Spawns `run` and returns its result; fails the test if a panic escaped it.
async fn spawned<T: Send + 'static>(
    run: impl Future<Output = Result<T, RunError>> + Send + 'static,
) -> Result<T, RunError> {
    tokio::spawn(run)
        .await
        .expect("a panic escaped Runtime::run")
}

fn assert_clean(rt: &Runtime) {
    assert_eq!(rt.occupancy(), Default::default());
    let m = rt.metrics();
    assert_eq!((m.active, m.in_flight), (0, 0));
    assert_eq!(m.created, m.completed + m.failed);
}

fn counts(m: MetricsSnapshot) -> [u64; 6] {
    [
        m.completed,
        m.timed_out,
        m.cancelled,
        m.panicked,
        m.failed,
        m.contained_panics,
    ]
}

#[tokio::test(start_paused = true)]
async fn a_panicking_body_is_panicked() {
    let rt = runtime();
    let r = rt.clone();
    let result = spawned(async move {
        r.run(ctx("alice", "run-1"), async |_| -> u32 {
            sleep(Duration::from_millis(10)).await;
            panic!("tool exploded")
        })
        .await
    })
    .await;
    assert_eq!(
        result,
        Err(RunError::Panicked {
            message: "tool exploded".into()
        })
    );
    assert_eq!(counts(rt.metrics()), [0, 0, 0, 1, 1, 0]);
    assert_clean(&rt);
}

/// The case: a value whose `Drop` panics is alive when the run times out. The timeout is
/// counted as a timeout, the drop's panic is contained and counted, and nothing escapes.
#[tokio::test(start_paused = true)]
async fn a_drop_panicking_on_timeout_stays_a_timeout() {
    let rt = runtime();
    let cleaned = Arc::new(AtomicUsize::new(0));
    let (r, c) = (rt.clone(), Arc::clone(&cleaned));
    let result = spawned(async move {
        r.run(ctx("alice", "run-1"), async move |scope| {
            scope.on_cleanup(move || {
                c.fetch_add(1, SeqCst);
            });
            let _guard = PanicsOnDrop("timeout guard");
            sleep(Duration::from_secs(3600)).await;
        })
        .await
    })
    .await;
    assert_eq!(result, Err(RunError::TimedOut(Duration::from_secs(1))));
    assert_eq!(cleaned.load(SeqCst), 1, "cleanup ran once");
    assert_eq!(counts(rt.metrics()), [0, 1, 0, 0, 1, 1]);
    assert_clean(&rt);
}

#[tokio::test(start_paused = true)]
async fn a_drop_panicking_on_cancel_stays_a_cancel() {
    let rt = runtime();
    let r = rt.clone();
    let run = tokio::spawn(async move {
        r.run(ctx("alice", "run-1"), async |_| {
            let _guard = PanicsOnDrop("cancel guard");
            sleep(Duration::from_secs(3600)).await;
        })
        .await
    });
    sleep(Duration::from_millis(10)).await;
    assert!(rt.cancel(&support::user("alice"), &support::run("run-1")));
    let result = run.await.expect("a panic escaped Runtime::run");
    assert_eq!(result, Err(RunError::Cancelled));
    assert_eq!(counts(rt.metrics()), [0, 0, 1, 0, 1, 1]);
    assert_clean(&rt);
}

/// The caller gives up on the run (a client disconnects and its handler future is dropped): the
/// request's drop panics inside that drop, and still nothing escapes to the caller.
#[tokio::test(start_paused = true)]
async fn a_drop_panicking_when_the_caller_abandons_the_run_is_contained() {
    let rt = runtime();
    let r = rt.clone();
    let caller = tokio::spawn(async move {
        let run = r.run(ctx("alice", "run-1"), async |_| {
            let _guard = PanicsOnDrop("abandoned guard");
            sleep(Duration::from_secs(3600)).await;
        });
        // Gives up after 10 ms: the run future is dropped mid-flight.
        tokio::time::timeout(Duration::from_millis(10), run).await
    });
    let outcome = caller.await.expect("a panic escaped the dropped run");
    assert!(outcome.is_err(), "the caller's own timeout fired");
    assert_eq!(counts(rt.metrics()), [0, 0, 1, 0, 1, 1]);
    assert_clean(&rt);
}

/// A drop that panics after the body completed (a value returned into the scope's cleanup, here)
/// does not turn a completed request into a failure.
#[tokio::test(start_paused = true)]
async fn panicking_cleanups_are_contained_and_the_result_kept() {
    let rt = runtime();
    let ran = Arc::new(AtomicUsize::new(0));
    let (r, ran2) = (rt.clone(), Arc::clone(&ran));
    let result = spawned(async move {
        r.run(ctx("alice", "run-1"), async move |scope| {
            let ran = Arc::clone(&ran2);
            scope.on_cleanup(move || {
                ran.fetch_add(1, SeqCst);
            });
            scope.on_cleanup(|| panic!("cleanup failed"));
            let guard = PanicsOnDrop("cleanup-owned guard");
            scope.on_cleanup(move || drop(guard));
            42
        })
        .await
    })
    .await;
    assert_eq!(result, Ok(42));
    assert_eq!(ran.load(SeqCst), 1, "the other cleanup still ran");
    assert_eq!(counts(rt.metrics()), [1, 0, 0, 0, 0, 2]);
    assert_clean(&rt);
}

/// Code that runs before the request's future exists: a closure that panics when called, and
/// captures whose drop panics when the run is refused and the closure is never called.
#[tokio::test(start_paused = true)]
async fn panics_around_the_closure_are_contained() {
    let rt = runtime();
    let r = rt.clone();
    let result = spawned(async move {
        #[allow(clippy::unused_async)]
        async fn never() {}
        r.run(ctx("alice", "run-1"), |_scope: &isolate::RequestScope| {
            panic!("before the future");
            #[allow(unreachable_code)]
            never()
        })
        .await
    })
    .await;
    assert_eq!(
        result,
        Err(RunError::Panicked {
            message: "before the future".into()
        })
    );

    // A duplicate run is refused before its closure is called; dropping the closure panics.
    let (r, blocker) = (rt.clone(), rt.clone());
    let holder = tokio::spawn(async move {
        blocker
            .run(ctx("alice", "run-2"), async |_| {
                sleep(Duration::from_millis(50)).await
            })
            .await
    });
    sleep(Duration::from_millis(1)).await;
    let guard = PanicsOnDrop("captured by a refused run");
    let refused = spawned(async move {
        r.run(ctx("alice", "run-2"), async move |_| drop(guard))
            .await
    })
    .await;
    assert!(matches!(refused, Err(RunError::AlreadyRunning { .. })));
    holder.await.unwrap().unwrap();
    assert_clean(&rt);
}

/// A non-string payload, and a sink (application code) that panics while delivering.
#[tokio::test(start_paused = true)]
async fn odd_payloads_and_panicking_sinks_are_contained() {
    struct Exploding;
    impl EventSink for Exploding {
        fn deliver(&self, _: Envelope) -> Result<(), CloseReason> {
            panic!("sink exploded")
        }
    }
    let rt = runtime();
    let r = rt.clone();
    let result = spawned(async move {
        r.run(ctx("alice", "run-1"), async |_| {
            std::panic::panic_any(7_u32)
        })
        .await
    })
    .await;
    assert_eq!(
        result,
        Err(RunError::Panicked {
            message: "non-string panic payload".into()
        })
    );
    let r = rt.clone();
    let result = spawned(async move {
        r.run_with_sink(ctx("alice", "run-1"), Arc::new(Exploding), async |scope| {
            scope.emitter().emit(milestone("boom")).unwrap();
        })
        .await
    })
    .await;
    assert_eq!(
        result,
        Err(RunError::Panicked {
            message: "sink exploded".into()
        })
    );
    assert_eq!(rt.metrics().panicked, 2);
    assert_clean(&rt);
}

/// A sink whose end-of-run hook panics, for a run that completes and for one refused before it
/// starts: the completed run keeps its result, the refused one its error.
#[tokio::test(start_paused = true)]
async fn a_sink_panicking_at_the_end_of_a_run_is_contained() {
    struct EndsBadly;
    impl EventSink for EndsBadly {
        fn deliver(&self, _: Envelope) -> Result<(), CloseReason> {
            Ok(())
        }
        fn run_ended(&self, _: &isolate::RequestContext) {
            panic!("hub exploded")
        }
    }
    let rt = runtime();
    let r = rt.clone();
    let result = spawned(async move {
        r.run_with_sink(ctx("alice", "run-1"), Arc::new(EndsBadly), async |scope| {
            scope.emitter().emit(milestone("done")).unwrap()
        })
        .await
    })
    .await;
    assert_eq!(result, Ok(1));
    assert_eq!(counts(rt.metrics()), [1, 0, 0, 0, 0, 1]);
    let r = rt.clone();
    let foreign = isolate::Authority::new().vouch(isolate::UserId::new("alice").unwrap());
    let refused = spawned(async move {
        let ctx = isolate::RequestContext::builder(
            foreign,
            isolate::ThreadId::new("thread-1").unwrap(),
            support::run("run-2"),
        )
        .build()
        .unwrap();
        r.run_with_sink(ctx, Arc::new(EndsBadly), async |_| ())
            .await
    })
    .await;
    assert_eq!(refused, Err(RunError::NotAuthenticated));
    assert_clean(&rt);
}
