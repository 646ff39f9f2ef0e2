//! Bounded memory: 200,000 sequential requests (each from a distinct user) leave the registry
//! and limiter maps empty and per-user metrics within their cap.
#![cfg(not(loom))]

use std::time::Instant;

use isolate::{RequestContext, RunError, RunId, RuntimeConfig, ThreadId};

mod support;

const REQUESTS: usize = 200_000;

#[tokio::test]
async fn two_hundred_thousand_requests_leave_nothing_behind() {
    let rt = support::runtime(
        RuntimeConfig::builder()
            .max_tracked_users(1_000)
            .build()
            .unwrap(),
    );
    let thread = ThreadId::new("thread-1").unwrap();
    let run = RunId::new("run-1").unwrap();
    let started = Instant::now();
    for i in 0..REQUESTS {
        let user = support::user(&format!("user-{i}"));
        let ctx = RequestContext::builder(user, thread.clone(), run.clone())
            .build()
            .unwrap();
        let cancel_self = i % 10 == 0;
        let result = rt
            .run(ctx, async |scope| {
                scope.on_cleanup(|| {});
                scope.emitter().emit(support::milestone("done")).unwrap();
                if cancel_self {
                    scope.cancellation().cancel();
                    tokio::task::yield_now().await;
                }
                i
            })
            .await;
        if cancel_self {
            assert_eq!(result, Err(RunError::Cancelled));
        } else {
            assert_eq!(result, Ok(i));
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(rt.occupancy(), Default::default());
    assert!(rt.metrics_users() <= 1_000, "{}", rt.metrics_users());
    let m = rt.metrics();
    assert_eq!(m.created, REQUESTS as u64);
    assert_eq!(m.cancelled, (REQUESTS / 10) as u64);
    assert_eq!(m.completed + m.failed, m.created);
    assert_eq!((m.active, m.in_flight, m.peak_concurrency), (0, 0, 1));
    eprintln!("{REQUESTS} requests in {elapsed:?}");
}
