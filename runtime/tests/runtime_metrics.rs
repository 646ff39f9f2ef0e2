//! Metrics match what happened, globally and per user.
#![cfg(not(loom))]

mod support;

use std::time::Duration;

use isolate::{MetricsSnapshot, OverflowPolicy, RuntimeConfig};
use tokio::time::sleep;

use support::ctx;

#[tokio::test(start_paused = true)]
async fn counts_match_a_known_history() {
    let rt = support::runtime(
        RuntimeConfig::builder()
            .per_user_limit(2)
            .overflow(OverflowPolicy::Reject)
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap(),
    );
    let long = async |_: &isolate::RequestScope| sleep(Duration::from_millis(100)).await;

    // alice: 2 concurrent completed + 1 rejected (3rd concurrent) + 1 duplicate run id.
    let (a1, a2, a3, dup) = tokio::join!(
        rt.run(ctx("alice", "run-1"), long),
        rt.run(ctx("alice", "run-2"), long),
        async {
            sleep(Duration::from_millis(1)).await;
            rt.run(ctx("alice", "run-3"), async |_| ()).await
        },
        async {
            sleep(Duration::from_millis(1)).await;
            rt.run(ctx("alice", "run-1"), async |_| ()).await
        },
    );
    assert!(a1.is_ok() && a2.is_ok() && a3.is_err() && dup.is_err());

    // bob: 1 completed, 1 timed out, 1 panicked, 1 cancelled.
    assert!(rt.run(ctx("bob", "run-1"), async |_| ()).await.is_ok());
    assert!(
        rt.run(ctx("bob", "run-2"), async |_| sleep(Duration::from_secs(5))
            .await)
            .await
            .is_err()
    );
    assert!(
        rt.run(ctx("bob", "run-3"), async |_| -> () { panic!("boom") })
            .await
            .is_err()
    );
    assert!(
        rt.run(ctx("bob", "run-4"), async |scope| {
            scope.cancellation().cancel();
            sleep(Duration::from_millis(1)).await;
        })
        .await
        .is_err()
    );

    let alice = rt.user_metrics(&support::user("alice")).unwrap();
    assert_eq!(
        alice,
        MetricsSnapshot {
            created: 4,
            active: 0,
            in_flight: 0,
            completed: 2,
            failed: 2,
            timed_out: 0,
            cancelled: 0,
            rejected: 1,
            panicked: 0,
            peak_concurrency: 2,
            contained_panics: 0,
            ..MetricsSnapshot::default()
        }
    );
    let bob = rt.user_metrics(&support::user("bob")).unwrap();
    assert_eq!(
        bob,
        MetricsSnapshot {
            created: 4,
            active: 0,
            in_flight: 0,
            completed: 1,
            failed: 3,
            timed_out: 1,
            cancelled: 1,
            rejected: 0,
            panicked: 1,
            peak_concurrency: 1,
            contained_panics: 0,
            ..MetricsSnapshot::default()
        }
    );
    let global = rt.metrics();
    assert_eq!(
        global,
        MetricsSnapshot {
            created: 8,
            active: 0,
            in_flight: 0,
            completed: 3,
            failed: 5,
            timed_out: 1,
            cancelled: 1,
            rejected: 1,
            panicked: 1,
            peak_concurrency: 2,
            contained_panics: 0,
            ..MetricsSnapshot::default()
        }
    );
    assert_eq!(rt.user_metrics(&support::user("carol")), None);
}

#[tokio::test]
async fn per_user_metrics_are_capped() {
    let rt = support::runtime(
        RuntimeConfig::builder()
            .max_tracked_users(8)
            .build()
            .unwrap(),
    );
    for i in 0..100 {
        rt.run(ctx(&format!("user-{i}"), "run-1"), async |_| ())
            .await
            .unwrap();
        assert!(rt.metrics_users() <= 8);
    }
    // The most recent user is always tracked; the oldest were forgotten.
    assert_eq!(
        rt.user_metrics(&support::user("user-99"))
            .map(|m| m.completed),
        Some(1)
    );
    assert_eq!(rt.user_metrics(&support::user("user-0")), None);
    assert_eq!(rt.metrics().completed, 100);
}
