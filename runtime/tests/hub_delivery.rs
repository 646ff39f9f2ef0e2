//! The in-process hub: each user's connections get that user's events and no one else's, in
//! order; slow connections lose only non-critical events or are closed with a reason; replay
//! after a reconnect has no gap and no duplicate; every map is bounded and emptied.
#![cfg(not(loom))]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use isolate::agent::AgentEvent;
use isolate::events::{CloseReason, EventSink};
use isolate::hub::{
    Hub, HubConfig, HubError, HubStats, LocalHub, OpenRun, Push, Resume, RunOutcome, Sanitizer,
    Subscription,
};
use isolate::{Authority, EmitError, RequestContext, RunError, RunId, Runtime, RuntimeConfig};
use serde_json::{Value, json};
use support::{ctx, milestone, progress, user};

fn hub(config: HubConfig) -> LocalHub {
    LocalHub::new(config, support::authority())
}

fn config() -> isolate::hub::HubConfigBuilder {
    HubConfig::builder()
}

fn run_id(run: &str) -> RunId {
    RunId::new(run).unwrap()
}

fn json(frame: &Push) -> Value {
    serde_json::from_str(&frame.to_json()).unwrap()
}

/// Every push ready now.
fn drain(sub: &mut Subscription) -> Vec<Push> {
    std::iter::from_fn(|| sub.try_next()).collect()
}

/// Pushes until `runs` runs have ended (bounded by a timeout).
async fn until_ended(sub: &mut Subscription, runs: usize) -> Vec<Push> {
    let mut pushes = Vec::new();
    let mut ended = 0;
    tokio::time::timeout(Duration::from_secs(20), async {
        while ended < runs {
            let push = sub.next().await.expect("stream open until the runs end");
            ended += usize::from(matches!(push, Push::RunEnded { .. }));
            pushes.push(push);
        }
    })
    .await
    .expect("runs end in time");
    pushes
}

/// The events of `pushes` by run: (seq, JSON) in arrival order.
fn by_run(pushes: &[Push]) -> BTreeMap<String, Vec<(u64, Value)>> {
    let mut runs: BTreeMap<String, Vec<(u64, Value)>> = BTreeMap::new();
    for push in pushes {
        if let Push::Event(frame) = push {
            let value: Value = serde_json::from_str(frame.json()).unwrap();
            runs.entry(frame.run_id().to_string())
                .or_default()
                .push((frame.seq(), value));
        }
    }
    runs
}

async fn emit_run(runtime: &Runtime, hub: &LocalHub, ctx: RequestContext, events: Vec<AgentEvent>) {
    emit_paced(runtime, hub, ctx, events, Duration::ZERO).await;
}

/// Emits `events`, waiting `pace` after each (a reading connection then keeps up even when
/// the test machine is busy).
async fn emit_paced(
    runtime: &Runtime,
    hub: &LocalHub,
    ctx: RequestContext,
    events: Vec<AgentEvent>,
    pace: Duration,
) {
    OpenRun::open(runtime, hub, ctx)
        .unwrap()
        .run(async |scope| {
            for event in events {
                scope.emitter().emit(event).unwrap();
                if pace.is_zero() {
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(pace).await;
                }
            }
        })
        .await
        .unwrap();
}

fn agent_run(secret: &str, tools: usize) -> Vec<AgentEvent> {
    let mut events = vec![
        AgentEvent::started("tester", json!({ "prompt": secret })),
        AgentEvent::thinking(format!("thinking about {secret}")),
    ];
    for t in 0..tools {
        events.push(AgentEvent::tool_executing(format!("tool-{t}"), secret));
        events.push(AgentEvent::progress(t as u64, tools as u64, secret));
        events.push(AgentEvent::tool_completed(
            format!("tool-{t}"),
            secret,
            Duration::from_millis(1),
        ));
    }
    events.push(AgentEvent::completed(json!({ "answer": secret })));
    events
}

/// 20 users x 3 concurrent runs, each user with two connections: each connection receives
/// exactly its user's runs, in order, from seq 1 without gaps, and nothing of anyone else (by
/// user id and by a secret each run carries).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_connection_gets_exactly_its_own_users_runs() {
    const USERS: usize = 20;
    const RUNS: usize = 3;
    let runtime = support::default_runtime();
    let hub = hub(HubConfig::default());
    let mut subs = Vec::new();
    for u in 0..USERS {
        let me = user(&format!("user-{u}"));
        subs.push((
            u,
            hub.subscribe(&me, &[]).unwrap(),
            hub.subscribe(&me, &[]).unwrap(),
        ));
    }
    let mut runs = tokio::task::JoinSet::new();
    for u in 0..USERS {
        for r in 0..RUNS {
            let (runtime, hub) = (runtime.clone(), hub.clone());
            runs.spawn(async move {
                let secret = format!("secret-{u}-{r}");
                let ctx = ctx(&format!("user-{u}"), &format!("run-{r}"));
                emit_run(&runtime, &hub, ctx, agent_run(&secret, 3)).await;
            });
        }
    }
    let mut readers = tokio::task::JoinSet::new();
    for (u, mut a, mut b) in subs {
        readers.spawn(async move {
            let first = until_ended(&mut a, RUNS).await;
            let second = until_ended(&mut b, RUNS).await;
            (u, first, second)
        });
    }
    while let Some(done) = runs.join_next().await {
        done.unwrap();
    }
    while let Some(done) = readers.join_next().await {
        let (u, first, second) = done.unwrap();
        assert_eq!(first, second, "both connections get the same pushes");
        let runs = by_run(&first);
        assert_eq!(runs.len(), RUNS);
        for (r, (run, events)) in runs.iter().enumerate() {
            assert_eq!(run, &format!("run-{r}"));
            let secret = format!("secret-{u}-{r}");
            let seqs: Vec<u64> = events.iter().map(|(s, _)| *s).collect();
            assert_eq!(seqs, (1..=12).collect::<Vec<_>>());
            for (_, event) in events {
                assert_eq!(event["user_id"], format!("user-{u}"));
                let text = event.to_string();
                assert!(text.contains(&secret));
                // Any other run's secret would contain "secret-" followed by other numbers.
                assert_eq!(
                    text.matches("secret-").count(),
                    text.matches(&secret).count()
                );
            }
        }
        let ends: Vec<_> = first
            .iter()
            .filter_map(|p| match p {
                Push::RunEnded {
                    last_seq, outcome, ..
                } => Some((*last_seq, *outcome)),
                _ => None,
            })
            .collect();
        assert_eq!(ends, vec![(12, RunOutcome::Completed); RUNS]);
    }
    assert_eq!(hub.stats().connections, 0, "every subscription was dropped");
}

/// A connection that does not read: non-critical events are dropped and counted (reported as
/// `missed` where they were lost); a critical event that finds the queue full of critical
/// events closes the connection with `Overflow` instead of being lost. The run is not slowed
/// or failed, the user's other connection and other users get everything, and resuming from
/// the last event the slow connection got gives it the rest with no gap and no duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_connection_is_closed_before_a_critical_event_is_lost() {
    let runtime = support::default_runtime();
    let hub = hub(config().connection_capacity(32).build().unwrap());
    let alice = user("alice");
    let mut slow = hub.subscribe(&alice, &[]).unwrap();
    let mut fast = hub.subscribe(&alice, &[]).unwrap();
    let mut bob = hub.subscribe(&user("bob"), &[]).unwrap();
    let fast_reader = tokio::spawn(async move { until_ended(&mut fast, 1).await });
    let bob_reader = tokio::spawn(async move { until_ended(&mut bob, 1).await });

    let mut events = Vec::new();
    for i in 0..50 {
        events.push(AgentEvent::progress(i, 50, "p"));
    }
    for t in 0..40 {
        events.push(AgentEvent::tool_executing(format!("tool-{t}"), "args"));
    }
    events.push(AgentEvent::completed("done"));
    let pace = Duration::from_millis(1);
    emit_paced(&runtime, &hub, ctx("alice", "run-1"), events, pace).await;
    emit_paced(
        &runtime,
        &hub,
        ctx("bob", "run-1"),
        agent_run("bob", 2),
        pace,
    )
    .await;

    assert!(
        slow.kicked().is_cancelled(),
        "the slow connection was dropped"
    );
    assert_eq!(
        slow.close_reason(),
        Some(CloseReason::Overflow { capacity: 32 })
    );
    let got = drain(&mut slow);
    assert!(slow.next().await.is_none(), "then the stream ends");
    // What it got: its queue filled with progress events 1..=32 (33..=50 were dropped), then
    // each critical event evicted the oldest progress event, until the queue held 32 critical
    // events (51..=82); the next one (83) closed it.
    let missed: u64 = got
        .iter()
        .map(|p| if let Push::Missed(n) = p { *n } else { 0 })
        .sum();
    let seqs: Vec<u64> = got
        .iter()
        .filter_map(|p| {
            if let Push::Event(f) = p {
                Some(f.seq())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(seqs, (51..=82).collect::<Vec<_>>());
    assert_eq!(missed, 50, "every lost progress event is reported");
    assert!(
        got.iter()
            .all(|p| !matches!(p, Push::Event(f) if !f.critical()))
    );

    // The other connection of alice and bob's got everything.
    let fast = fast_reader.await.unwrap();
    assert_eq!(by_run(&fast)["run-1"].len(), 91);
    let bob = bob_reader.await.unwrap();
    assert_eq!(by_run(&bob)["run-1"].len(), 9);
    assert!(bob.iter().all(|p| !p.to_json().contains("\"alice\"")));

    // Reconnect from the last event it got: the rest, then the end.
    let mut again = hub
        .subscribe(&alice, &[Resume::new(run_id("run-1"), 82)])
        .unwrap();
    let rest = until_ended(&mut again, 1).await;
    let seqs: Vec<u64> = by_run(&rest)["run-1"].iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (83..=91).collect::<Vec<_>>());
    assert!(matches!(
        rest.last(),
        Some(Push::RunEnded {
            last_seq: 91,
            outcome: RunOutcome::Completed,
            ..
        })
    ));
    assert_eq!(hub.stats().kicked, 1);
}

/// A client that drops its connection every few events while a run is emitting, and resumes
/// each time from the last event it got: across all its connections it sees 1..=n exactly
/// once, in order. (Every event is critical, so none may be skipped; if the client falls
/// behind and is closed, it resumes the same way.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_with_last_seq_has_no_gap_and_no_duplicate() {
    const EVENTS: u64 = 300;
    let runtime = support::default_runtime();
    let hub = hub(config()
        .replay_capacity(EVENTS as usize)
        .connection_capacity(16)
        .build()
        .unwrap());
    let alice = user("alice");
    let mut sub = hub.subscribe(&alice, &[]).unwrap();
    let emitter = {
        let (runtime, hub) = (runtime.clone(), hub.clone());
        tokio::spawn(async move {
            let events = (0..EVENTS)
                .map(|i| AgentEvent::tool_executing("t", i))
                .collect();
            emit_run(&runtime, &hub, ctx("alice", "run-1"), events).await;
        })
    };
    let mut seen = Vec::new();
    let mut reconnects = 0;
    'outer: while reconnects < 1_000 {
        for _ in 0..7 {
            let push = tokio::time::timeout(Duration::from_secs(10), sub.next())
                .await
                .expect("no stall");
            match push {
                Some(Push::Event(frame)) => seen.push(frame.seq()),
                Some(Push::RunEnded { last_seq, .. }) => {
                    assert_eq!(last_seq, EVENTS);
                    break 'outer;
                }
                // Closed for falling behind: resume like after a disconnect.
                None => break,
                Some(other) => panic!("unexpected {other:?}"),
            }
        }
        // Abrupt disconnect, then a new connection resuming from what this client has.
        drop(sub);
        reconnects += 1;
        let resume: Vec<Resume> = match seen.last() {
            Some(&last) => vec![Resume::new(run_id("run-1"), last)],
            None => Vec::new(),
        };
        sub = hub.subscribe(&alice, &resume).unwrap();
    }
    emitter.await.unwrap();
    assert!(reconnects > 10);
    assert_eq!(seen, (1..=EVENTS).collect::<Vec<_>>());
}

/// Resuming another user's run looks exactly like resuming a run that never existed, and
/// yields nothing of it.
#[tokio::test(flavor = "current_thread")]
async fn another_users_run_cannot_be_resumed() {
    let runtime = support::default_runtime();
    let hub = hub(HubConfig::default());
    emit_run(
        &runtime,
        &hub,
        ctx("bob", "run-bob"),
        agent_run("bob-secret", 1),
    )
    .await;
    let alice = user("alice");
    let theirs = hub.subscribe(&alice, &[Resume::new(run_id("run-bob"), 0)]);
    let nobodys = hub.subscribe(&alice, &[Resume::new(run_id("run-never"), 0)]);
    assert_eq!(
        theirs.unwrap_err(),
        HubError::UnknownRun {
            run_id: run_id("run-bob")
        }
    );
    assert!(matches!(nobodys, Err(HubError::UnknownRun { .. })));
    // Refusals leave nothing behind for alice.
    assert_eq!(hub.user_stats(&alice), None);
    // Bob can.
    let mut sub = hub
        .subscribe(&user("bob"), &[Resume::new(run_id("run-bob"), 0)])
        .unwrap();
    assert_eq!(by_run(&drain(&mut sub))["run-bob"].len(), 6);
}

#[tokio::test(flavor = "current_thread")]
async fn bad_resume_points_are_refused() {
    let runtime = support::default_runtime();
    let hub = hub(HubConfig::default());
    emit_run(&runtime, &hub, ctx("alice", "run-1"), agent_run("s", 1)).await;
    let alice = user("alice");
    assert_eq!(
        hub.subscribe(&alice, &[Resume::new(run_id("run-1"), 7)])
            .unwrap_err(),
        HubError::ResumeAhead {
            run_id: run_id("run-1"),
            last_seq: 7,
            latest: 6
        }
    );
    // Twice the same run would replay it twice.
    let twice = [
        Resume::new(run_id("run-1"), 0),
        Resume::new(run_id("run-1"), 3),
    ];
    assert!(matches!(
        hub.subscribe(&alice, &twice),
        Err(HubError::DuplicateResume { .. })
    ));
    for bad in [
        "run-1",
        "run-1:",
        "run-1:x",
        "run-1:-1",
        ":3",
        "run-1:99999999999999999999999",
    ] {
        assert!(bad.parse::<Resume>().is_err(), "{bad}");
    }
    assert_eq!(
        "run:with:colons:4".parse::<Resume>().unwrap(),
        Resume::new(run_id("run:with:colons"), 4)
    );
}

/// The replay buffer keeps the last `replay_capacity` events; resuming from before them says
/// exactly which events cannot be replayed.
#[tokio::test(flavor = "current_thread")]
async fn a_resume_point_older_than_the_buffer_reports_the_gap() {
    let runtime = support::default_runtime();
    let hub = hub(config().replay_capacity(5).build().unwrap());
    let events = (0..20)
        .map(|i| AgentEvent::tool_executing("t", i))
        .collect();
    emit_run(&runtime, &hub, ctx("alice", "run-1"), events).await;
    let mut sub = hub
        .subscribe(&user("alice"), &[Resume::new(run_id("run-1"), 3)])
        .unwrap();
    let pushes = drain(&mut sub);
    assert_eq!(
        pushes[0],
        Push::Gap {
            run_id: run_id("run-1"),
            from_seq: 4,
            to_seq: 15
        }
    );
    assert_eq!(
        json(&pushes[0]),
        json!({"type": "replay_gap", "run_id": "run-1", "from_seq": 4, "to_seq": 15})
    );
    let seqs: Vec<u64> = by_run(&pushes)["run-1"].iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, [16, 17, 18, 19, 20]);
    assert_eq!(
        json(pushes.last().unwrap()),
        json!({"type": "run_ended", "run_id": "run-1", "last_seq": 20, "outcome": "completed"})
    );
}

/// Ended runs are freed `retention` after they end; an entry goes with its user's last
/// connection and last run.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn ended_runs_are_freed_after_retention_and_entries_go_with_their_last_use() {
    let runtime = support::default_runtime();
    let hub = hub(config().retention(Duration::from_secs(30)).build().unwrap());
    let alice = user("alice");
    let sub = hub.subscribe(&alice, &[]).unwrap();
    emit_run(&runtime, &hub, ctx("alice", "run-1"), agent_run("s", 1)).await;
    let stats = hub.stats();
    assert_eq!(
        (stats.users, stats.connections, stats.runs, stats.live_runs),
        (1, 1, 1, 0)
    );
    assert_eq!(stats.retained_events, 6);
    tokio::time::sleep(Duration::from_secs(29)).await;
    assert_eq!(hub.stats().runs, 1, "kept for the retention");
    assert!(
        hub.subscribe(&alice, &[Resume::new(run_id("run-1"), 0)])
            .is_ok()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(hub.stats().runs, 0, "freed after it");
    assert!(matches!(
        hub.subscribe(&alice, &[Resume::new(run_id("run-1"), 0)]),
        Err(HubError::UnknownRun { .. })
    ));
    drop(sub);
    assert_eq!(
        hub.stats(),
        HubStats {
            events: 6,
            queued: 7,
            ..HubStats::default()
        },
        "nothing left"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn connections_runs_and_users_are_bounded() {
    let authority = Authority::new();
    let runtime = Runtime::new(RuntimeConfig::default(), &authority);
    let hub = LocalHub::new(
        config()
            .max_connections_per_user(2)
            .max_runs_per_user(2)
            .max_users(2)
            .build()
            .unwrap(),
        &authority,
    );
    let vouch = |name: &str| authority.vouch(isolate::UserId::new(name).unwrap());
    let ctx = |name: &str, run: &str| {
        RequestContext::builder(
            vouch(name),
            isolate::ThreadId::new("thread-1").unwrap(),
            run_id(run),
        )
        .build()
        .unwrap()
    };
    let alice = vouch("alice");
    let _a = hub.subscribe(&alice, &[]).unwrap();
    let _b = hub.subscribe(&alice, &[]).unwrap();
    assert_eq!(
        hub.subscribe(&alice, &[]).unwrap_err(),
        HubError::TooManyConnections { max: 2 }
    );
    // Two live runs fill alice's runs; a third is refused while both are live.
    let one = OpenRun::open(&runtime, &hub, ctx("alice", "run-1")).unwrap();
    let two = OpenRun::open(&runtime, &hub, ctx("alice", "run-2")).unwrap();
    assert_eq!(
        OpenRun::open(&runtime, &hub, ctx("alice", "run-3")).unwrap_err(),
        HubError::TooManyRuns { max: 2 }
    );
    // Once one ended, the oldest ended run makes room.
    one.run(async |_| ()).await.unwrap();
    let three = OpenRun::open(&runtime, &hub, ctx("alice", "run-3")).unwrap();
    let runs: Vec<String> = hub
        .user_stats(&alice)
        .unwrap()
        .runs
        .iter()
        .map(|r| r.run_id.to_string())
        .collect();
    assert_eq!(runs, ["run-2", "run-3"]);
    drop((two, three));
    let _bob = hub.subscribe(&vouch("bob"), &[]).unwrap();
    assert_eq!(
        hub.subscribe(&vouch("carol"), &[]).unwrap_err(),
        HubError::TooManyUsers { max: 2 }
    );
    assert_eq!(
        OpenRun::open(&runtime, &hub, ctx("carol", "run-1")).unwrap_err(),
        HubError::TooManyUsers { max: 2 }
    );
    drop(_bob);
    assert!(hub.subscribe(&vouch("carol"), &[]).is_ok());
}

/// A sink opened for alice's run, handed to bob's run by mistake, refuses bob's events rather
/// than file them under alice; bob's request learns it at `emit`.
#[tokio::test(flavor = "current_thread")]
async fn a_run_sink_refuses_another_runs_envelopes() {
    let runtime = support::default_runtime();
    let hub = hub(HubConfig::default());
    let mut alice = hub.subscribe(&user("alice"), &[]).unwrap();
    let sink = hub.open_run(&ctx("alice", "run-1")).unwrap();
    let result = runtime
        .run_with_sink(
            ctx("bob", "run-1"),
            sink.clone() as Arc<dyn EventSink>,
            async |scope| scope.emitter().emit(milestone("bob's")),
        )
        .await
        .unwrap();
    assert_eq!(result, Err(EmitError::Closed(CloseReason::ReceiverGone)));
    drop(sink);
    let pushes = drain(&mut alice);
    assert!(matches!(
        pushes.as_slice(),
        [Push::RunEnded {
            last_seq: 0,
            outcome: RunOutcome::Unknown,
            ..
        }]
    ));
}

#[tokio::test(flavor = "current_thread")]
async fn users_of_another_authority_are_refused() {
    let hub = hub(HubConfig::default());
    let forged = Authority::new().vouch(isolate::UserId::new("alice").unwrap());
    assert_eq!(
        hub.subscribe(&forged, &[]).unwrap_err(),
        HubError::NotAuthenticated
    );
    let forged_ctx = RequestContext::builder(
        forged.clone(),
        isolate::ThreadId::new("thread-1").unwrap(),
        run_id("run-1"),
    )
    .build()
    .unwrap();
    assert_eq!(
        hub.open_run(&forged_ctx).err(),
        Some(HubError::NotAuthenticated)
    );
    assert_eq!(hub.user_stats(&forged), None);
    assert_eq!(hub.stats().users, 0);
}

/// Every way a run can end reaches its user's connections, after its last event.
#[tokio::test(flavor = "current_thread")]
async fn the_run_end_carries_the_runtime_outcome() {
    let runtime = support::runtime(
        RuntimeConfig::builder()
            .timeout(Duration::from_millis(50))
            .build()
            .unwrap(),
    );
    let hub = hub(HubConfig::default());
    let mut sub = hub.subscribe(&user("alice"), &[]).unwrap();
    let open = |run: &str| OpenRun::open(&runtime, &hub, ctx("alice", run)).unwrap();
    let r = open("run-slow")
        .run(async |scope| {
            scope.emitter().emit(milestone("start")).unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
    assert!(matches!(r, Err(RunError::TimedOut(_))));
    let r = open("run-panic")
        .run(async |scope| {
            scope.emitter().emit(progress("about to fail")).unwrap();
            panic!("tool exploded");
        })
        .await;
    assert!(matches!(r, Err(RunError::Panicked { .. })));
    let r = open("run-ok").run(async |_| 42).await;
    assert_eq!(r, Ok(42));
    let ends: Vec<(String, u64, RunOutcome)> = drain(&mut sub)
        .into_iter()
        .filter_map(|p| match p {
            Push::RunEnded {
                run_id,
                last_seq,
                outcome,
            } => Some((run_id.to_string(), last_seq, outcome)),
            _ => None,
        })
        .collect();
    assert_eq!(
        ends,
        [
            ("run-slow".to_owned(), 1, RunOutcome::TimedOut),
            ("run-panic".to_owned(), 1, RunOutcome::Panicked),
            ("run-ok".to_owned(), 0, RunOutcome::Completed),
        ]
    );
}

/// Denied keys are redacted and long strings cut before an event reaches a connection or the
/// replay buffer; the stamp is the runtime's.
#[tokio::test(flavor = "current_thread")]
async fn payloads_are_sanitised_before_they_leave() {
    let runtime = support::default_runtime();
    let sanitizer = Sanitizer::builder()
        .deny_key("customer_ssn")
        .max_string_chars(10)
        .build();
    let hub = hub(config().sanitizer(sanitizer).build().unwrap());
    let mut live = hub.subscribe(&user("alice"), &[]).unwrap();
    let event = AgentEvent::started(
        "agent",
        json!({
            "system_prompt": "never show this",
            "InternalReasoning": "nor this",
            "customerSSN": "123-45-6789",
            "question": "what is the weather like in Lisbon today?",
        }),
    );
    emit_run(&runtime, &hub, ctx("alice", "run-1"), vec![event]).await;
    let mut replayed = hub
        .subscribe(&user("alice"), &[Resume::new(run_id("run-1"), 0)])
        .unwrap();
    for push in [drain(&mut live).remove(0), drain(&mut replayed).remove(0)] {
        let v = json(&push);
        assert_eq!(v["user_id"], "alice");
        assert_eq!(v["seq"], 1);
        assert_eq!(
            v["event"],
            json!({
                "type": "agent_started",
                "agent": "agent",
                "input": {
                    "system_prompt": "[redacted]",
                    "InternalReasoning": "[redacted]",
                    "customerSSN": "[redacted]",
                    "question": "what is th…[+31 chars]",
                },
            })
        );
        assert!(!push.to_json().contains("never show"));
    }
}

/// 20,000 events with a connection that never reads: the run is never slowed or failed, the
/// queue and the replay buffer stay at their capacities, and everything lost is counted.
#[tokio::test(flavor = "current_thread")]
async fn a_flood_without_a_reader_stays_bounded() {
    const SENT: u64 = 20_000;
    let runtime = support::default_runtime();
    let hub = hub(config()
        .connection_capacity(16)
        .replay_capacity(32)
        .build()
        .unwrap());
    let alice = user("alice");
    let mut idle = hub.subscribe(&alice, &[]).unwrap();
    let emitted = OpenRun::open(&runtime, &hub, ctx("alice", "run-1"))
        .unwrap()
        .run(async |scope| {
            for i in 0..SENT {
                scope
                    .emitter()
                    .emit(AgentEvent::progress(i, SENT, "p"))
                    .unwrap();
            }
            scope.emitter().emitted()
        })
        .await;
    assert_eq!(emitted, Ok(SENT));
    let stats = hub.stats();
    assert_eq!(stats.retained_events, 32);
    assert_eq!(stats.events, SENT);
    assert_eq!(stats.dropped, SENT - 16);
    assert!(idle.pending() <= 17, "16 events and the run's end");
    let pushes = drain(&mut idle);
    let missed: u64 = pushes
        .iter()
        .map(|p| if let Push::Missed(n) = p { *n } else { 0 })
        .sum();
    let events = pushes
        .iter()
        .filter(|p| matches!(p, Push::Event(_)))
        .count() as u64;
    assert_eq!(events + missed, SENT);
}

/// An application that keeps a clone of a run's sink after the run cannot keep the run live:
/// the run ends in the hub when its emitter goes, its buffer is freed after the retention,
/// and the user's runs do not fill up with leaked ones.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_leaked_sink_does_not_keep_its_run_alive() {
    let runtime = support::default_runtime();
    let hub = hub(config()
        .retention(Duration::from_secs(10))
        .max_runs_per_user(2)
        .build()
        .unwrap());
    let alice = user("alice");
    let mut leaked = Vec::new();
    for run in ["run-1", "run-2", "run-3"] {
        let sink = hub.open_run(&ctx("alice", run)).unwrap();
        runtime
            .run_with_sink(
                ctx("alice", run),
                sink.clone() as Arc<dyn EventSink>,
                async |scope| scope.emitter().emit(milestone("x")).unwrap(),
            )
            .await
            .unwrap();
        leaked.push(sink); // never finished, never dropped
    }
    let stats = hub.user_stats(&alice).unwrap();
    assert_eq!(stats.runs.len(), 2, "the oldest ended run made room");
    assert!(stats.runs.iter().all(|r| !r.live));
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(hub.user_stats(&alice), None, "freed after the retention");
    // Telling the hub afterwards is harmless.
    for sink in &leaked {
        sink.finish(RunOutcome::Completed);
    }
    drop(leaked);
    assert_eq!(hub.stats().users, 0);
}
