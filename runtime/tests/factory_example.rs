//! The axum example serves on 127.0.0.1 and two users hitting it at once each get back only
//! their own engine's data (the example's `--self-test`, run as part of the suite).
#![cfg(not(loom))]

#[path = "../examples/agent_engine.rs"]
#[allow(dead_code)]
mod example;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_at_once_get_only_their_own_engine_data() {
    let checked = example::app::self_test(10)
        .await
        .expect("every response carries only its own user's data");
    assert_eq!(checked, 20);
}
