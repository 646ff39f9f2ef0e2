//! Loom models of the hand-written synchronisation: the admission core (limits, FIFO hand-off of
//! slots to waiters, the registry, counters), the bounded event queue and the recycling of
//! context allocations.
//!
//! Run with: `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p isolate --release --test loom_core`
//! Without `--cfg loom` this file compiles to nothing.
#![cfg(loom)]

use std::future::poll_fn;

use loom::sync::Arc;
use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::SeqCst;
use loom::thread;

use isolate::admission::{Admission, Limits, Refusal, Stage};
use isolate::events::{Classified, CloseReason, Delivery, channel};
use isolate::metrics::Outcome;
use isolate::{Authority, LimitKind, RequestContext, RunId, ThreadId, UserId};

fn user(name: &str) -> UserId {
    UserId::new(name).unwrap()
}

fn run(name: &str) -> RunId {
    RunId::new(name).unwrap()
}

fn limits(per_user: usize, global: usize, max_queued: usize) -> Limits {
    Limits {
        per_user,
        global,
        max_queued,
        max_tracked_users: 4,
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// Waits (by parking the loom thread) until a queued stage is granted, then moves it on, until
/// it runs. A lost wake-up shows up as a deadlock, which loom reports.
fn wait_until_running(admission: &Admission<u32>, who: &UserId, mut stage: Stage) -> Stage {
    loop {
        let slot = match &stage {
            Stage::Running => return stage,
            Stage::WaitingForUser(slot) | Stage::WaitingForGlobal(slot) => {
                std::sync::Arc::clone(slot)
            }
        };
        loom::future::block_on(poll_fn(|cx| slot.poll(cx)));
        stage = admission.resume(who, stage);
    }
}

/// Two threads race for the single per-user slot without waiting: exactly one holds it at a time,
/// and afterwards the user's entry is gone.
#[test]
fn per_user_slot_is_exclusive_and_pruned() {
    model(|| {
        let admission = Arc::new(Admission::<u32>::new(limits(1, 10, 0)));
        let inside = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let (admission, inside) = (Arc::clone(&admission), Arc::clone(&inside));
                thread::spawn(move || {
                    let (alice, r) = (user("alice"), run(["run-1", "run-2"][i]));
                    match admission.enter(&alice, &r, |_| 0, false) {
                        Ok(stage) => {
                            assert_eq!(inside.fetch_add(1, SeqCst), 0, "two holders at once");
                            inside.fetch_sub(1, SeqCst);
                            admission.leave(&alice, &r, stage, Outcome::Completed);
                            true
                        }
                        Err(refusal) => {
                            assert_eq!(refusal, Refusal::Limit(LimitKind::PerUser { limit: 1 }));
                            false
                        }
                    }
                })
            })
            .collect();
        let wins: usize = handles
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum();
        assert!(wins >= 1);
        assert_eq!(
            (
                admission.active(),
                admission.users(),
                admission.registered()
            ),
            (0, 0, 0)
        );
    });
}

/// A run queued for alice's only slot while the holder leaves: the slot is handed over (never
/// lost, never doubled) and the waiter is woken.
#[test]
fn a_released_user_slot_is_handed_to_the_waiter() {
    model(|| {
        let admission = Arc::new(Admission::<u32>::new(limits(1, 10, 1)));
        let alice = user("alice");
        let first = admission.enter(&alice, &run("run-1"), |_| 1, true).unwrap();
        assert!(matches!(first, Stage::Running));
        let holder = {
            let admission = Arc::clone(&admission);
            thread::spawn(move || {
                admission.leave(&user("alice"), &run("run-1"), first, Outcome::Completed);
            })
        };
        let second = admission.enter(&alice, &run("run-2"), |_| 2, true).unwrap();
        let second = wait_until_running(&admission, &alice, second);
        assert_eq!(admission.held_by(&alice), 1);
        admission.leave(&alice, &run("run-2"), second, Outcome::Completed);
        holder.join().unwrap();
        assert_eq!(
            (admission.active(), admission.users(), admission.waiting()),
            (0, 0, 0)
        );
    });
}

/// Bob queues for the only global slot while alice's run leaves: the global slot reaches bob
/// whichever way the race between queueing and releasing goes.
#[test]
fn a_released_global_slot_reaches_the_queued_run() {
    model(|| {
        let admission = Arc::new(Admission::<u32>::new(limits(1, 1, 1)));
        let first = admission
            .enter(&user("alice"), &run("run-1"), |_| 1, true)
            .unwrap();
        let holder = {
            let admission = Arc::clone(&admission);
            thread::spawn(move || {
                admission.leave(&user("alice"), &run("run-1"), first, Outcome::Completed);
            })
        };
        let bob = user("bob");
        let stage = admission.enter(&bob, &run("run-1"), |_| 2, true).unwrap();
        let stage = wait_until_running(&admission, &bob, stage);
        assert_eq!(admission.active(), 1);
        admission.leave(&bob, &run("run-1"), stage, Outcome::Completed);
        holder.join().unwrap();
        assert_eq!(
            (admission.active(), admission.users(), admission.waiting()),
            (0, 0, 0)
        );
    });
}

/// A waiter gives up at the same time as the holder hands it the slot: the slot is neither lost
/// nor kept, so a later run gets it at once.
#[test]
fn a_waiter_leaving_during_the_hand_off_loses_no_slot() {
    model(|| {
        let admission = Arc::new(Admission::<u32>::new(limits(1, 1, 1)));
        let alice = user("alice");
        let first = admission.enter(&alice, &run("run-1"), |_| 1, true).unwrap();
        let waiting = admission.enter(&alice, &run("run-2"), |_| 2, true).unwrap();
        assert!(matches!(waiting, Stage::WaitingForUser(_)));
        let holder = {
            let admission = Arc::clone(&admission);
            thread::spawn(move || {
                admission.leave(&user("alice"), &run("run-1"), first, Outcome::Completed);
            })
        };
        admission.leave(&alice, &run("run-2"), waiting, Outcome::Cancelled);
        holder.join().unwrap();
        assert_eq!(
            (admission.active(), admission.users(), admission.waiting()),
            (0, 0, 0)
        );
        let later = admission
            .enter(&alice, &run("run-3"), |_| 3, false)
            .unwrap();
        assert!(matches!(later, Stage::Running));
        admission.leave(&alice, &run("run-3"), later, Outcome::Completed);
        let m = admission.metrics();
        assert_eq!(
            (m.created, m.completed, m.cancelled, m.in_flight),
            (3, 2, 1, 0)
        );
    });
}

/// The same race for a global slot: bob gives up while alice's release hands him the slot.
#[test]
fn a_global_waiter_leaving_during_the_hand_off_loses_no_slot() {
    model(|| {
        let admission = Arc::new(Admission::<u32>::new(limits(1, 1, 1)));
        let first = admission
            .enter(&user("alice"), &run("run-1"), |_| 1, true)
            .unwrap();
        let bob = user("bob");
        let waiting = admission.enter(&bob, &run("run-1"), |_| 2, true).unwrap();
        assert!(matches!(waiting, Stage::WaitingForGlobal(_)));
        let holder = {
            let admission = Arc::clone(&admission);
            thread::spawn(move || {
                admission.leave(&user("alice"), &run("run-1"), first, Outcome::Completed);
            })
        };
        admission.leave(&bob, &run("run-1"), waiting, Outcome::TimedOut);
        holder.join().unwrap();
        assert_eq!(
            (admission.active(), admission.users(), admission.waiting()),
            (0, 0, 0)
        );
        let later = admission.enter(&bob, &run("run-2"), |_| 3, false).unwrap();
        assert!(matches!(later, Stage::Running));
        admission.leave(&bob, &run("run-2"), later, Outcome::Completed);
    });
}

/// A run that ended on another thread left its global slot leased to that thread: a run refused
/// rather than queued still gets it (the leases of other threads are free slots), and the slot
/// counts as held only while a run holds it.
#[test]
fn a_slot_leased_by_another_thread_is_not_lost() {
    model(|| {
        let admission = Arc::new(Admission::<u32>::new(limits(1, 1, 0)));
        let other = {
            let admission = Arc::clone(&admission);
            thread::spawn(move || {
                let stage = admission
                    .enter(&user("alice"), &run("run-1"), |_| 1, false)
                    .ok();
                if let Some(stage) = stage {
                    admission.leave(&user("alice"), &run("run-1"), stage, Outcome::Completed);
                }
            })
        };
        let bob = user("bob");
        let mine = admission.enter(&bob, &run("run-1"), |_| 2, false);
        if let Ok(stage) = mine {
            assert_eq!(admission.active(), 1);
            admission.leave(&bob, &run("run-1"), stage, Outcome::Completed);
        }
        other.join().unwrap();
        assert_eq!((admission.active(), admission.waiting()), (0, 0));
        // Whatever happened above, the only slot is free now, wherever it is leased.
        let later = admission.enter(&bob, &run("run-2"), |_| 3, false).unwrap();
        assert_eq!(admission.active(), 1);
        admission.leave(&bob, &run("run-2"), later, Outcome::Completed);
        assert_eq!(admission.metrics().peak_concurrency, 1);
    });
}

/// Two threads, two users, one global slot, each thread running two requests one after the
/// other and waiting for the slot: leases, the queue and the reclaiming of leases for waiters
/// never let two runs hold the slot at once and never lose a wake-up (loom reports a deadlock).
#[test]
fn leases_and_waiters_share_one_global_slot() {
    model(|| {
        let admission = Arc::new(Admission::<u32>::new(limits(1, 1, 1)));
        let inside = Arc::new(AtomicUsize::new(0));
        let runs = |admission: Arc<Admission<u32>>, inside: Arc<AtomicUsize>, who: &str| {
            let who = user(who);
            for r in ["run-1", "run-2"] {
                let stage = admission.enter(&who, &run(r), |_| 0, true).unwrap();
                let stage = wait_until_running(&admission, &who, stage);
                assert_eq!(inside.fetch_add(1, SeqCst), 0, "two holders of one slot");
                inside.fetch_sub(1, SeqCst);
                admission.leave(&who, &run(r), stage, Outcome::Completed);
            }
        };
        let other = {
            let (admission, inside) = (Arc::clone(&admission), Arc::clone(&inside));
            thread::spawn(move || runs(admission, inside, "alice"))
        };
        runs(Arc::clone(&admission), Arc::clone(&inside), "bob");
        other.join().unwrap();
        assert_eq!(
            (admission.active(), admission.users(), admission.waiting()),
            (0, 0, 0)
        );
        assert_eq!(admission.metrics().completed, 4);
    });
}

/// Two threads register the same (user, run): exactly one succeeds.
#[test]
fn duplicate_key_has_one_winner() {
    model(|| {
        let admission = Arc::new(Admission::<u32>::new(limits(2, 10, 0)));
        let other = {
            let admission = Arc::clone(&admission);
            thread::spawn(move || {
                admission
                    .enter(&user("alice"), &run("run-1"), |_| 1, false)
                    .ok()
            })
        };
        let mine = admission
            .enter(&user("alice"), &run("run-1"), |_| 2, false)
            .ok();
        let theirs = other.join().unwrap();
        assert!(mine.is_some() ^ theirs.is_some());
        assert_eq!(admission.registered(), 1);
        let stage = mine.or(theirs).unwrap();
        admission.leave(&user("alice"), &run("run-1"), stage, Outcome::Completed);
        assert_eq!(admission.registered(), 0);
    });
}

#[derive(Debug, PartialEq)]
struct Item(u32, bool);

impl Classified for Item {
    fn critical(&self) -> bool {
        self.1
    }
}

/// A sender and a receiver race on a queue of one: the receiver is woken for every item, ends
/// when the sender goes, and every item is either received or reported missed.
#[test]
fn event_queue_loses_nothing_unreported() {
    model(|| {
        let (tx, mut rx) = channel::<Item>(1);
        let sender = thread::spawn(move || {
            let a = tx.send(Item(1, false));
            let b = tx.send(Item(2, true));
            (a.is_ok(), b.is_ok())
        });
        let (mut received, mut missed) = (Vec::new(), 0);
        loom::future::block_on(async {
            while let Some(delivery) = rx.recv().await {
                match delivery {
                    Delivery::Item(item) => received.push(item.0),
                    Delivery::Missed(n) => missed += n,
                }
            }
        });
        assert_eq!(sender.join().unwrap(), (true, true));
        // The critical item always arrives; the other one arrives or is reported.
        assert_eq!(received.last(), Some(&2));
        assert_eq!(received.len() as u64 + missed, 2);
        assert_eq!(rx.close_reason(), Some(CloseReason::Finished));
    });
}

/// A context's allocation goes back to its thread's free list when its last handle drops, and
/// the next context built on that thread reuses it. Two handles are dropped on two threads at
/// once, then each thread builds a new context: the value is dropped once, after every read of
/// it (loom checks that the reads happen before the drop and the rewrite), and a reused
/// allocation shows only its new context.
#[test]
fn context_allocations_are_reused_only_after_their_last_reader() {
    model(|| {
        let authority = Authority::new();
        let build = |name: &str| {
            RequestContext::builder(
                authority.vouch(user(name)),
                ThreadId::new("thread-1").unwrap(),
                run("run-1"),
            )
            .build()
            .unwrap()
        };
        let ctx = build("alice");
        let clone = ctx.clone();
        let bob = authority.vouch(user("bob"));
        let other = thread::spawn(move || {
            assert_eq!(clone.user_id().as_str(), "alice");
            drop(clone);
            let next =
                RequestContext::builder(bob, ThreadId::new("thread-2").unwrap(), run("run-2"))
                    .build()
                    .unwrap();
            assert_eq!(
                (next.user_id().as_str(), next.run_id().as_str()),
                ("bob", "run-2")
            );
        });
        assert_eq!(ctx.run_id().as_str(), "run-1");
        drop(ctx);
        let mine = build("carol");
        assert_eq!(mine.user_id().as_str(), "carol");
        assert_eq!(mine.thread_id().as_str(), "thread-1");
        other.join().unwrap();
    });
}
