//! Acting for a user takes a capability that only the runtime's authority mints. A hostile
//! handler that builds another user's id - the only thing a string gives it - cannot start,
//! list, cancel or read the counters of that user's runs. (The compile-time side: a `UserId`
//! is refused where an `AuthenticatedUser` is needed, see `ui/fail/auth_*.rs`.)
#![cfg(not(loom))]

mod support;

use std::time::Duration;

use isolate::{Authority, RequestContext, RunError, RunId, RuntimeConfig, ThreadId, UserId};
use support::{ctx, run, user};
use tokio::time::sleep;

/// What a handler can make on its own: its own authority, vouching for whoever it likes.
fn forged(name: &str) -> isolate::AuthenticatedUser {
    Authority::new().vouch(UserId::new(name).unwrap())
}

#[tokio::test(start_paused = true)]
async fn a_handler_cannot_act_on_another_users_runs() {
    let rt = support::runtime(RuntimeConfig::default());
    let r = rt.clone();
    let alices = tokio::spawn(async move {
        r.run(ctx("alice", "run-secret"), async |_| {
            sleep(Duration::from_secs(5)).await;
            "alice finished"
        })
        .await
    });
    sleep(Duration::from_millis(1)).await;

    // Bob's handler, with bob properly authenticated, and knowing alice's run id.
    let bob_result = rt
        .run(ctx("bob", "run-1"), async |scope| {
            let bob = scope.context().user();
            let alice_run = run("run-secret");
            // Its own capability reaches only bob's runs.
            let mine = rt.active_runs(bob);
            assert_eq!(mine.len(), 1);
            assert_eq!(mine[0].run_id, run("run-1"));
            assert!(!rt.cancel(bob, &alice_run));
            // A capability for "alice" from an authority of its own is refused everywhere.
            let fake_alice = forged("alice");
            assert!(rt.active_runs(&fake_alice).is_empty());
            assert!(!rt.cancel(&fake_alice, &alice_run));
            assert_eq!(rt.user_metrics(&fake_alice), None);
            // Nor can it start a run as alice.
            let as_alice = RequestContext::builder(
                fake_alice,
                ThreadId::new("thread-1").unwrap(),
                RunId::new("run-evil").unwrap(),
            )
            .build()
            .unwrap();
            let started = rt.run(as_alice, async |_| ()).await;
            assert_eq!(started, Err(RunError::NotAuthenticated));
            "bob done"
        })
        .await;
    assert_eq!(bob_result, Ok("bob done"));
    // Alice's run was never touched.
    assert_eq!(alices.await.unwrap(), Ok("alice finished"));
    let alice = user("alice");
    assert_eq!(rt.user_metrics(&alice).unwrap().completed, 1);
    assert_eq!(rt.user_metrics(&alice).unwrap().created, 1);
    assert_eq!(rt.occupancy(), Default::default());
}

/// The owner, through its own scope or the capability its authentication layer gave it, can.
#[tokio::test(start_paused = true)]
async fn the_owner_can_list_and_cancel() {
    let rt = support::runtime(RuntimeConfig::default());
    let r = rt.clone();
    let long = tokio::spawn(async move {
        r.run(ctx("alice", "run-long"), async |_| {
            sleep(Duration::from_secs(3600)).await
        })
        .await
    });
    sleep(Duration::from_millis(1)).await;
    let cancelled = rt
        .run(ctx("alice", "run-2"), async |scope| {
            let me = scope.context().user();
            assert_eq!(rt.active_runs(me).len(), 2);
            rt.cancel(me, &run("run-long"))
        })
        .await;
    assert_eq!(cancelled, Ok(true));
    assert_eq!(long.await.unwrap(), Err(RunError::Cancelled));
    // A second capability for alice from the same authority is equally good (and equal).
    assert_eq!(user("alice"), user("alice"));
    assert!(rt.active_runs(&user("alice")).is_empty());
}

/// Two runtimes with two authorities do not honour each other's users.
#[tokio::test(flavor = "current_thread")]
async fn authorities_do_not_mix() {
    let (a, b) = (Authority::new(), Authority::new());
    let rt_a = isolate::Runtime::new(RuntimeConfig::default(), &a);
    let alice_b = b.vouch(UserId::new("alice").unwrap());
    assert!(a.vouched_for(&a.vouch(UserId::new("alice").unwrap())));
    assert!(!a.vouched_for(&alice_b));
    let ctx = RequestContext::builder(
        alice_b,
        ThreadId::new("thread-1").unwrap(),
        RunId::new("run-1").unwrap(),
    )
    .build()
    .unwrap();
    assert_eq!(
        rt_a.run(ctx, async |_| ()).await,
        Err(RunError::NotAuthenticated)
    );
    assert_eq!(
        rt_a.metrics().created,
        0,
        "a refused identity is not admitted"
    );
}
