//! Typed events: stamped by the runtime, numbered 1.. without gaps, bounded per run, never
//! blocking the request, non-critical losses counted and reported, critical ones never lost
//! silently.
#![cfg(not(loom))]

mod support;

use std::sync::{Arc, Mutex};

use isolate::events::{CloseReason, Delivery, EventSink};
use isolate::{
    EmitError, Envelope, EventEmitter, RequestContext, RequestScope, Runtime, RuntimeConfig,
};
use support::{collect, ctx, milestone, progress, text};

fn assert_send_sync<T: Send + Sync>() {}

/// Events per user in the concurrent tests (fewer under Miri, which interprets every step).
const EVENTS: usize = if cfg!(miri) { 10 } else { 100 };

/// Real time runs these tests; under Miri it passes a hundred times slower than the default
/// 30 s timeout assumes.
fn patient_runtime() -> Runtime {
    support::runtime(
        RuntimeConfig::builder()
            .timeout(std::time::Duration::from_secs(3600))
            .build()
            .unwrap(),
    )
}

fn runtime_with_capacity(capacity: usize) -> Runtime {
    support::runtime(
        RuntimeConfig::builder()
            .event_capacity(capacity)
            .build()
            .unwrap(),
    )
}

#[test]
fn shared_types_are_send_and_sync() {
    assert_send_sync::<RequestContext>();
    assert_send_sync::<RequestScope>();
    assert_send_sync::<EventEmitter>();
    assert_send_sync::<Runtime>();
    assert_send_sync::<Envelope>();
}

#[tokio::test(flavor = "current_thread")]
async fn envelopes_are_stamped_by_the_runtime_and_numbered_from_one() {
    let rt = support::default_runtime();
    let c = ctx("alice", "run-1");
    let expected = c.clone();
    let (mut rx, run) = rt.run_streaming(c, async |scope| {
        for i in 0..5 {
            assert_eq!(scope.emitter().emit(progress(format!("p{i}"))), Ok(i + 1));
        }
        scope.emitter().emitted()
    });
    assert_eq!(run.await, Ok(5));
    let (events, missed) = collect(&mut rx).await;
    assert_eq!(missed, 0);
    assert_eq!(events.len(), 5);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq(), i as u64 + 1);
        assert_eq!(e.user_id(), expected.user_id());
        assert_eq!(e.thread_id(), expected.thread_id());
        assert_eq!(e.run_id(), expected.run_id());
        assert_eq!(e.request_id(), expected.request_id());
        assert_eq!(text(e), format!("p{i}"));
        assert!(!e.critical());
    }
    assert_eq!(rx.close_reason(), Some(CloseReason::Finished));
}

#[tokio::test(flavor = "current_thread")]
async fn the_json_form_is_stable() {
    let rt = support::default_runtime();
    let (mut rx, run) = rt.run_streaming(ctx("alice", "run-1"), async |scope| {
        scope.emitter().emit(milestone("done")).unwrap();
    });
    run.await.unwrap();
    let (events, _) = collect(&mut rx).await;
    let json: serde_json::Value = serde_json::from_str(&events[0].to_json().unwrap()).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "critical",
            "event",
            "request_id",
            "run_id",
            "seq",
            "thread_id",
            "timestamp_ms",
            "user_id"
        ]
    );
    assert_eq!(json["seq"], 1);
    assert_eq!(json["user_id"], "alice");
    assert_eq!(json["critical"], true);
    assert_eq!(
        json["event"],
        serde_json::json!({"type": "milestone", "text": "done"})
    );
    assert!(json["timestamp_ms"].as_u64().unwrap() > 1_600_000_000_000);
}

/// A consumer that never reads: the request emits far past the capacity without blocking, the
/// queue never holds more than `event_capacity`, and the consumer is told exactly how many
/// non-critical events it missed, at the place they were lost.
#[tokio::test(flavor = "current_thread")]
async fn a_flood_is_bounded_and_the_losses_are_reported() {
    const CAPACITY: usize = 16;
    // Fewer under Miri, which interprets every step.
    const SENT: u64 = if cfg!(miri) { 1_000 } else { 100_000 };
    let rt = runtime_with_capacity(CAPACITY);
    let (mut rx, run) = rt.run_streaming(ctx("alice", "run-1"), async |scope| {
        for i in 0..SENT {
            // Never an error, never a wait: the request is not slowed by its consumer.
            assert_eq!(scope.emitter().emit(progress(i.to_string())), Ok(i + 1));
        }
        scope.emitter().emit(milestone("end")).unwrap()
    });
    // Not polled concurrently with the receiver: nothing is read while the run floods.
    assert_eq!(run.await, Ok(SENT + 1));
    assert_eq!(rx.len(), CAPACITY);
    let (events, missed) = collect(&mut rx).await;
    assert_eq!(events.len(), CAPACITY);
    assert_eq!(missed, SENT + 1 - CAPACITY as u64);
    assert_eq!(rx.dropped(), missed);
    // The critical end event took the place of the oldest non-critical one.
    let last = events.last().unwrap();
    assert_eq!((last.seq(), last.critical()), (SENT + 1, true));
    // Every event delivered or reported: sequence numbers plus losses cover 1..=SENT+1.
    let seqs: Vec<u64> = events.iter().map(Envelope::seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(events.len() as u64 + missed, SENT + 1);
}

/// Losses are reported where they happened: `Missed(n)` sits between the events around the gap
/// and `n` is the size of the gap in sequence numbers.
#[tokio::test(flavor = "current_thread")]
async fn missed_counts_match_the_sequence_gaps() {
    let rt = runtime_with_capacity(4);
    let (mut rx, run) = rt.run_streaming(ctx("alice", "run-1"), async |scope| {
        for i in 0..10 {
            scope.emitter().emit(progress(i.to_string())).unwrap();
        }
    });
    let consumer = async {
        let mut last_seq = 0;
        let mut deliveries = 0;
        let mut pending_gap = 0;
        while let Some(delivery) = rx.recv().await {
            deliveries += 1;
            match delivery {
                Delivery::Missed(n) => pending_gap += n,
                Delivery::Item(e) => {
                    assert_eq!(e.seq(), last_seq + 1 + pending_gap, "unexplained gap");
                    last_seq = e.seq();
                    pending_gap = 0;
                }
            }
        }
        assert_eq!(last_seq + pending_gap, 10);
        deliveries
    };
    let (result, deliveries) = tokio::join!(run, consumer);
    result.unwrap();
    assert!(deliveries >= 5);
}

/// A queue full of critical events: the next critical event is not dropped silently; the
/// consumer gets everything that was queued, then the end of the stream with the reason, and
/// the request learns that its event was not delivered.
#[tokio::test(flavor = "current_thread")]
async fn a_critical_event_that_cannot_be_queued_closes_the_consumer() {
    let rt = runtime_with_capacity(3);
    let (mut rx, run) = rt.run_streaming(ctx("alice", "run-1"), async |scope| {
        let emitter = scope.emitter();
        let queued: Vec<_> = (0..3)
            .map(|i| emitter.emit(milestone(i.to_string())))
            .collect();
        let refused = emitter.emit(milestone("fourth"));
        let after = emitter.emit(progress("after"));
        (queued, refused, after, emitter.emitted())
    });
    let (queued, refused, after, emitted) = run.await.unwrap();
    assert_eq!(queued, [Ok(1), Ok(2), Ok(3)]);
    let overflow = CloseReason::Overflow { capacity: 3 };
    assert_eq!(refused, Err(EmitError::Closed(overflow)));
    assert_eq!(after, Err(EmitError::Closed(overflow)));
    assert_eq!(emitted, 3, "undelivered events take no sequence number");
    let (events, missed) = collect(&mut rx).await;
    assert_eq!(
        events.iter().map(Envelope::seq).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(missed, 0);
    assert_eq!(rx.close_reason(), Some(overflow));
}

#[tokio::test(flavor = "current_thread")]
async fn a_gone_consumer_is_reported_to_the_request() {
    let rt = support::default_runtime();
    let (rx, run) = rt.run_streaming(ctx("alice", "run-1"), async |scope| {
        scope.emitter().emit(milestone("anyone?"))
    });
    drop(rx);
    assert_eq!(
        run.await,
        Ok(Err(EmitError::Closed(CloseReason::ReceiverGone)))
    );
}

/// Without a consumer (`run`), events are numbered and dropped: emitting never fails or grows.
#[tokio::test(flavor = "current_thread")]
async fn without_a_consumer_events_are_counted_and_dropped() {
    const EMITTED: u64 = if cfg!(miri) { 100 } else { 10_000 };
    let rt = support::default_runtime();
    let emitted = rt
        .run(ctx("alice", "run-1"), async |scope| {
            for _ in 0..EMITTED {
                scope.emitter().emit(milestone("x")).unwrap();
            }
            scope.emitter().emitted()
        })
        .await;
    assert_eq!(emitted, Ok(EMITTED));
}

/// An application sink (what a hub implements) receives each run's envelopes in order, stamped
/// with the run's own user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_gets_every_users_envelopes_in_order() {
    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, u64, String)>>, Mutex<Vec<String>>);
    impl EventSink for Recorder {
        fn run_ended(&self, context: &RequestContext) {
            let user = context.user_id().as_str().to_owned();
            self.1.lock().unwrap().push(user);
        }

        fn deliver(&self, envelope: Envelope) -> Result<(), CloseReason> {
            let entry = (
                envelope.user_id().as_str().to_owned(),
                envelope.seq(),
                text(&envelope).to_owned(),
            );
            self.0.lock().unwrap().push(entry);
            Ok(())
        }
    }
    let recorder = Arc::new(Recorder::default());
    let rt = patient_runtime();
    let mut tasks = tokio::task::JoinSet::new();
    for user in ["alice", "bob", "carol"] {
        let (rt, sink) = (rt.clone(), Arc::clone(&recorder) as Arc<dyn EventSink>);
        tasks.spawn(async move {
            rt.run_with_sink(ctx(user, "run-1"), sink, async |scope| {
                for i in 0..EVENTS {
                    scope
                        .emitter()
                        .emit(progress(format!("{user}-{i}")))
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
    let mut ended = recorder.1.lock().unwrap().clone();
    ended.sort();
    assert_eq!(
        ended,
        ["alice", "bob", "carol"],
        "each run's end is reported once"
    );
    let recorded = recorder.0.lock().unwrap();
    for user in ["alice", "bob", "carol"] {
        let mine: Vec<_> = recorded.iter().filter(|(u, _, _)| u == user).collect();
        assert_eq!(mine.len(), EVENTS);
        for (i, (_, seq, text)) in mine.iter().enumerate() {
            assert_eq!(*seq, i as u64 + 1);
            assert_eq!(*text, format!("{user}-{i}"));
        }
    }
}

/// Three users stream concurrently through their own queues: each receives only its own events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_events_never_cross_users() {
    let rt = patient_runtime();
    let mut tasks = tokio::task::JoinSet::new();
    for user in ["alice", "bob", "carol"] {
        let rt = rt.clone();
        tasks.spawn(async move {
            let (mut rx, run) = rt.run_streaming(ctx(user, "run-1"), async |scope| {
                for i in 0..EVENTS {
                    scope
                        .emitter()
                        .emit(progress(format!("{user}-{i}")))
                        .unwrap();
                    tokio::task::yield_now().await;
                }
            });
            let (result, (events, missed)) = tokio::join!(run, collect(&mut rx));
            result.unwrap();
            (user, events, missed)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (user, events, missed) = joined.unwrap();
        assert_eq!((events.len(), missed), (EVENTS, 0));
        for (n, e) in events.iter().enumerate() {
            assert_eq!(e.user_id().as_str(), user);
            assert_eq!(text(e), format!("{user}-{n}"));
            assert_eq!(e.seq(), n as u64 + 1);
        }
    }
    assert_eq!(rt.occupancy(), Default::default());
}

/// Standalone scopes (CLIs, tests) have an emitter with no consumer: events are numbered.
#[test]
fn standalone_scope_emits_into_nothing() {
    let emitted = RequestScope::with(ctx("alice", "run-1"), |scope| {
        assert_eq!(scope.emitter().emit(milestone("x")), Ok(1));
        assert_eq!(scope.emitter().emit(progress("y")), Ok(2));
        scope.emitter().emitted()
    });
    assert_eq!(emitted, 2);
}
