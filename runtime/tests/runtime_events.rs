//! Per-request emitters and standalone scopes.
#![cfg(not(loom))]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use isolate::{
    EmitError, EventEmitter, RequestContext, RequestScope, RunId, Runtime, RuntimeConfig, ThreadId,
    UserId,
};

fn ctx(user: &str, run: &str) -> RequestContext {
    RequestContext::builder(
        UserId::new(user).unwrap(),
        ThreadId::new("thread-1").unwrap(),
        RunId::new(run).unwrap(),
    )
    .build()
    .unwrap()
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn shared_types_are_send_and_sync() {
    assert_send_sync::<RequestContext>();
    assert_send_sync::<RequestScope>();
    assert_send_sync::<EventEmitter>();
    assert_send_sync::<Runtime>();
}

#[test]
fn events_are_stamped_with_the_emitters_context() {
    let c = ctx("alice", "run-1");
    let child = c.child("tool").unwrap();
    let emitter = EventEmitter::new(child.clone());
    assert_eq!(emitter.emit("a", "1"), Ok(0));
    assert_eq!(emitter.emit("b", "2"), Ok(1));
    let events = emitter.events();
    assert_eq!(events.len(), 2);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq(), i as u64);
        assert_eq!(e.user_id(), c.user_id());
        assert_eq!(e.thread_id(), c.thread_id());
        assert_eq!(e.run_id(), c.run_id());
        assert_eq!(e.request_id(), child.request_id());
    }
    assert_eq!(events[1].kind(), "b");
    assert_eq!(events[1].payload(), "2");
    assert_eq!(emitter.drain().len(), 2);
    assert!(emitter.is_empty());
    // Sequence numbers keep increasing after a drain.
    assert_eq!(emitter.emit("c", ""), Ok(2));
}

#[test]
fn buffer_is_bounded_and_kinds_validated() {
    let emitter = EventEmitter::with_capacity(ctx("alice", "run-1"), 2);
    emitter.emit("a", "").unwrap();
    emitter.emit("a", "").unwrap();
    assert_eq!(
        emitter.emit("a", ""),
        Err(EmitError::BufferFull { capacity: 2 })
    );
    emitter.drain();
    assert!(emitter.emit("a", "").is_ok());
    assert!(matches!(
        emitter.emit("", ""),
        Err(EmitError::InvalidKind { .. })
    ));
    assert!(matches!(
        emitter.emit("a\nb", ""),
        Err(EmitError::InvalidKind { .. })
    ));
    assert!(matches!(
        emitter.emit(&"k".repeat(129), ""),
        Err(EmitError::InvalidKind { .. })
    ));
}

#[test]
fn a_scope_refuses_an_emitter_of_another_request() {
    let alice = ctx("alice", "run-1");
    let bob = ctx("bob", "run-1");
    assert!(RequestScope::try_with_emitter(alice.clone(), EventEmitter::new(bob)).is_none());
    let other_request_same_user = ctx("alice", "run-1");
    assert!(
        RequestScope::try_with_emitter(alice.clone(), EventEmitter::new(other_request_same_user))
            .is_none()
    );
    let scope = RequestScope::try_with_emitter(alice.clone(), EventEmitter::new(alice.clone()))
        .expect("matching emitter");
    assert_eq!(scope.emitter().context().request_id(), alice.request_id());
}

#[test]
fn standalone_scope_runs_cleanups_once_on_drop() {
    let count = Arc::new(AtomicUsize::new(0));
    let scope = RequestScope::new(ctx("alice", "run-1"));
    for _ in 0..3 {
        let c = Arc::clone(&count);
        scope.on_cleanup(move || {
            c.fetch_add(1, SeqCst);
        });
    }
    assert_eq!(count.load(SeqCst), 0);
    drop(scope);
    assert_eq!(count.load(SeqCst), 3);
}

/// Two users stream concurrently through their own channels: each receives only its own events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_events_never_cross_users() {
    let rt = Runtime::new(RuntimeConfig::default());
    let mut tasks = tokio::task::JoinSet::new();
    let mut receivers = Vec::new();
    for user in ["alice", "bob", "carol"] {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        receivers.push((user, rx));
        let rt = rt.clone();
        tasks.spawn(async move {
            rt.run_streaming(ctx(user, "run-1"), tx, async |scope| {
                for i in 0..100 {
                    scope
                        .emitter()
                        .emit("token", format!("{user}-{i}"))
                        .unwrap();
                    tokio::task::yield_now().await;
                }
            })
            .await
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    for (user, mut rx) in receivers {
        let mut n = 0;
        while let Ok(e) = rx.try_recv() {
            assert_eq!(e.user_id().as_str(), user);
            assert_eq!(e.payload(), format!("{user}-{n}"));
            assert_eq!(e.seq(), n);
            n += 1;
        }
        assert_eq!(n, 100);
    }
    assert_eq!(rt.occupancy(), Default::default());
}
