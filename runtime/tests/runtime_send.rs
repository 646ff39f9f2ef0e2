//! `Runtime::run` futures are `Send` (axum handlers and `tokio::spawn` need that).
#![cfg(not(loom))]

use std::sync::Arc;

mod support;

fn assert_send<T: Send>(t: T) -> T {
    t
}

use support::ctx;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_can_be_spawned() {
    let runtime = Arc::new(support::default_runtime());
    let rt = Arc::clone(&runtime);
    let handle = tokio::spawn(async move {
        rt.run(ctx("alice", "run-1"), async |scope| {
            tokio::task::yield_now().await;
            scope.emitter().emit(support::progress("one")).unwrap();
            tokio::task::yield_now().await;
            scope.emitter().emitted()
        })
        .await
    });
    assert_eq!(handle.await.unwrap(), Ok(1));
    let fut = assert_send(runtime.run(ctx("bob", "run-1"), async |scope| {
        tokio::task::yield_now().await;
        scope.context().user_id().clone()
    }));
    assert_eq!(fut.await.unwrap().as_str(), "bob");
}
