//! Loom models of the hand-written synchronisation: limiter and registry (and metrics).
//!
//! Run with: `RUSTFLAGS="--cfg loom" cargo test -p isolate --release --test loom_core`
//! Without `--cfg loom` this file compiles to nothing.
#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::SeqCst;
use loom::thread;

use isolate::limiter::Limiter;
use isolate::metrics::{Metrics, Outcome};
use isolate::registry::Registry;
use isolate::{LimitKind, RunId, UserId};

fn user(name: &str) -> UserId {
    UserId::new(name).unwrap()
}

fn run(name: &str) -> RunId {
    RunId::new(name).unwrap()
}

/// Two threads race for the single per-user slot: exactly one wins while it is held, and after
/// both are done the user's entry is gone.
#[test]
fn limiter_per_user_slot_is_exclusive_and_pruned() {
    loom::model(|| {
        let limiter = Arc::new(Limiter::new(1, 10));
        // Holders of alice's slot right now: must never exceed 1.
        let inside = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                let inside = Arc::clone(&inside);
                thread::spawn(move || {
                    let alice = user("alice");
                    match limiter.try_acquire(&alice) {
                        Ok(permit) => {
                            assert_eq!(inside.fetch_add(1, SeqCst), 0, "two holders at once");
                            assert_eq!(limiter.active_for(&alice), 1);
                            inside.fetch_sub(1, SeqCst);
                            drop(permit);
                            true
                        }
                        Err(kind) => {
                            assert_eq!(kind, LimitKind::PerUser { limit: 1 });
                            false
                        }
                    }
                })
            })
            .collect();
        let wins: usize = handles
            .into_iter()
            .map(|h| h.join().unwrap() as usize)
            .sum();
        assert!(wins >= 1);
        assert_eq!(limiter.active(), 0);
        assert_eq!(limiter.tracked_users(), 0);
    });
}

/// Different users under a global limit of 1: never more than one permit in total; pruning of
/// one user's entry never loses another's count.
#[test]
fn limiter_global_limit_across_users() {
    loom::model(|| {
        let limiter = Arc::new(Limiter::new(2, 1));
        let a = {
            let limiter = Arc::clone(&limiter);
            thread::spawn(move || {
                let p = limiter.try_acquire(&user("alice"));
                if p.is_ok() {
                    assert_eq!(limiter.active(), 1);
                }
                p.is_ok()
            })
        };
        let bob = user("bob");
        let held = limiter.try_acquire(&bob);
        if held.is_ok() {
            assert!(limiter.active() <= 1);
        }
        let a_won = a.join().unwrap();
        // At least one of them got the slot; both only if alice's was released before bob tried
        // or vice versa.
        assert!(a_won || held.is_ok());
        assert_eq!(limiter.active_for(&bob), usize::from(held.is_ok()));
        drop(held);
        assert_eq!(limiter.active(), 0);
        assert_eq!(limiter.tracked_users(), 0);
    });
}

/// Concurrent insert/remove of two runs of the same user plus one of another user: nothing is
/// lost or duplicated and the maps are pruned to empty.
#[test]
fn registry_concurrent_insert_remove() {
    loom::model(|| {
        let registry: Arc<Registry<u32>> = Arc::new(Registry::new());
        let spawn = |u: &'static str, r: &'static str, v: u32| {
            let registry = Arc::clone(&registry);
            thread::spawn(move || {
                let (u, r) = (user(u), run(r));
                registry.insert(&u, &r, v).unwrap();
                assert_eq!(registry.with(&u, &r, |x| *x), Some(v));
                assert_eq!(registry.remove(&u, &r), Some(v));
            })
        };
        let t1 = spawn("alice", "run-1", 1);
        let t2 = spawn("alice", "run-2", 2);
        let bob = user("bob");
        registry.insert(&bob, &run("run-1"), 3).unwrap();
        // Alice's runs are never visible through bob.
        assert!(registry.list(&bob).iter().all(|(_, v)| *v == 3));
        assert_eq!(registry.remove(&bob, &run("run-1")), Some(3));
        t1.join().unwrap();
        t2.join().unwrap();
        assert!(registry.is_empty());
        assert_eq!(registry.users(), 0);
    });
}

/// Two threads insert the same (user, run): exactly one succeeds.
#[test]
fn registry_duplicate_key_has_one_winner() {
    loom::model(|| {
        let registry: Arc<Registry<u32>> = Arc::new(Registry::new());
        let other = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || registry.insert(&user("alice"), &run("run-1"), 1).is_ok())
        };
        let mine = registry.insert(&user("alice"), &run("run-1"), 2).is_ok();
        let theirs = other.join().unwrap();
        assert!(mine ^ theirs);
        assert_eq!(registry.len(), 1);
    });
}

/// Metrics stay consistent under concurrent start/finish.
#[test]
fn metrics_counts_are_consistent() {
    loom::model(|| {
        let metrics = Arc::new(Metrics::new(4));
        let t = {
            let metrics = Arc::clone(&metrics);
            thread::spawn(move || {
                let alice = user("alice");
                metrics.created(&alice);
                metrics.started(&alice);
                metrics.finished(&alice, Outcome::Completed, true);
            })
        };
        let alice = user("alice");
        metrics.created(&alice);
        metrics.finished(&alice, Outcome::Rejected, false);
        t.join().unwrap();
        let g = metrics.global();
        assert_eq!((g.created, g.completed, g.failed, g.rejected), (2, 1, 1, 1));
        assert_eq!((g.active, g.in_flight, g.peak_concurrency), (0, 0, 1));
        let u = metrics.user(&alice).unwrap();
        assert_eq!((u.created, u.active, u.in_flight), (2, 0, 0));
    });
}
