//! The `agent_server` example on 127.0.0.1, driven by real clients (raw HTTP/1.1 and
//! tokio-tungstenite): each user's connections get that user's events and no one else's, in
//! order, with every critical event; a stalled client cannot delay the others and is closed
//! with a reason before it loses a critical event; reconnecting with `last_seq` resumes with no
//! gap and no duplicate.
#![cfg(not(loom))]

mod server;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::json;
use server::{
    Event, Frame, Received, close, connect, connect_small_buffer, eventually, next_frame, options,
    ping, read_until_ended, start, start_run,
};

/// A secret no other run's payload contains; every secret starts with `zq-`.
fn secret(user: usize, run: usize) -> String {
    format!("zq-{user}-{run}-{}", uuid::Uuid::new_v4().simple())
}

/// The number of `zq-` secrets in `text` that are not `mine`.
fn foreign_secrets(text: &str, mine: &str) -> usize {
    text.matches("zq-").count() - text.matches(mine).count()
}

/// The `"type"`s of `events`, with how many times each came.
fn kinds<'a>(events: impl IntoIterator<Item = &'a Event>) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for e in events {
        *kinds.entry(e.kind.clone()).or_default() += 1;
    }
    kinds
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

/// What a run must have emitted, by event type.
#[derive(Debug, Clone)]
enum Expect {
    /// Exactly these counts.
    Exactly(BTreeMap<String, usize>),
    /// A run whose budget ran out during a tool call: started, thinking, then tool calls
    /// until the timeout (how many depends on the timers), then `agent_timeout`.
    TimedOut,
}

impl Expect {
    fn check(&self, what: &str, got: &BTreeMap<String, usize>) {
        match self {
            Self::Exactly(expected) => assert_eq!(got, expected, "{what}"),
            Self::TimedOut => {
                let n = |kind: &str| got.get(kind).copied().unwrap_or(0);
                let executed = n("tool_executing");
                assert_eq!(
                    (n("agent_started"), n("agent_thinking"), n("agent_timeout")),
                    (1, 1, 1),
                    "{what}: {got:?}"
                );
                assert!((1..=3).contains(&executed), "{what}: {got:?}");
                assert_eq!(n("tool_completed") + 1, executed, "{what}: {got:?}");
                assert_eq!(
                    got.values().sum::<usize>(),
                    3 + 2 * executed - 1,
                    "{what}: {got:?}"
                );
            }
        }
    }
}

/// The three runs each user starts: one completes, one fails at its second tool call, one runs
/// out of time during a tool call. Together they emit every agent event type.
fn tasks(user: usize) -> [(String, serde_json::Value, Expect); 3] {
    let (a, b, c) = (secret(user, 0), secret(user, 1), secret(user, 2));
    [
        (
            a.clone(),
            json!({ "prompt": a, "progress_updates": 2 }),
            Expect::Exactly(counts(&[
                ("agent_started", 1),
                ("agent_thinking", 1),
                ("progress_update", 2),
                ("tool_executing", 3),
                ("tool_completed", 3),
                ("agent_completed", 1),
            ])),
        ),
        (
            b.clone(),
            json!({ "prompt": b, "fail_at_tool": 2 }),
            Expect::Exactly(counts(&[
                ("agent_started", 1),
                ("agent_thinking", 1),
                ("tool_executing", 2),
                ("tool_completed", 1),
                ("agent_error", 1),
            ])),
        ),
        (
            c.clone(),
            // 10 ms per tool call and 3 calls: a 15 ms budget runs out during one of them.
            json!({ "prompt": c, "budget_ms": 15 }),
            Expect::TimedOut,
        ),
    ]
}

/// Checks what one connection of `user` received for its runs `(run_id, secret, expected)`:
/// exactly those runs, each numbered 1..=n in order with nothing missing (so every critical
/// event), stamped with the user, carrying the run's secret and no other.
fn check_own_runs(user: &str, got: &Received, runs: &[(String, String, Expect)]) {
    assert_eq!(got.closed, None, "{user}: connection stayed open");
    assert_eq!(got.missed, 0, "{user}: nothing missed");
    let run_ids: BTreeSet<&str> = runs.iter().map(|(id, _, _)| id.as_str()).collect();
    for event in &got.events {
        assert_eq!(event.user, user, "foreign event: {}", event.text);
        assert!(
            run_ids.contains(event.run.as_str()),
            "foreign run: {}",
            event.text
        );
    }
    for (run_id, secret, expected) in runs {
        let events = got.run(run_id);
        let n = events.len() as u64;
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (1..=n).collect::<Vec<_>>(),
            "{user}/{run_id}: 1..=n in order"
        );
        expected.check(&format!("{user}/{run_id}"), &kinds(events.iter().copied()));
        for event in events {
            assert!(event.text.contains(secret.as_str()) || !carries_text(&event.kind));
            assert_eq!(foreign_secrets(&event.text, secret), 0, "{}", event.text);
        }
        assert_eq!(
            got.ended[run_id],
            (n, "completed".to_owned()),
            "{user}/{run_id}"
        );
    }
}

/// Whether events of `kind` carry the run's prompt in the example.
fn carries_text(kind: &str) -> bool {
    !matches!(kind, "agent_error" | "agent_timeout")
}

/// The two 150-run tests take turns: the latency bound of the stalled-client test is about the
/// server, not about another test of this file competing for the same two cores.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// 50 users x 3 concurrent runs, one connection each: every user gets exactly its own runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_users_with_three_concurrent_runs_each_get_only_their_own_events() {
    let _turn = HEAVY.lock().await;
    const USERS: usize = 50;
    let server = start(options()).await;
    let addr = server.addr;
    let mut users = tokio::task::JoinSet::new();
    for u in 0..USERS {
        let token = server.token(&format!("user-{u}"));
        users.spawn(async move {
            let mut ws = connect(addr, &token, "").await;
            let mut runs = Vec::new();
            let started = tasks(u).map(|(secret, task, kinds)| {
                let token = token.clone();
                async move { (start_run(addr, &token, &task).await, secret, kinds) }
            });
            for run in futures_util::future::join_all(started).await {
                runs.push(run);
            }
            let got = read_until_ended(&mut ws, runs.len()).await;
            close(ws).await;
            (u, runs, got)
        });
    }
    let mut checked = 0;
    while let Some(done) = users.join_next().await {
        let (u, runs, got) = done.unwrap();
        check_own_runs(&format!("user-{u}"), &got, &runs);
        checked += 1;
    }
    assert_eq!(checked, USERS);
    // Nothing left behind: every run finished, every connection went.
    let runtime = server.server.runtime.clone();
    let hub = server.server.hub.clone();
    assert!(eventually(Duration::from_secs(5), || hub.stats().connections == 0).await);
    assert_eq!(runtime.occupancy(), Default::default());
    assert_eq!(hub.stats().live_runs, 0);
}

/// Two connections (two tabs) of one user each get every event of that user's runs, the same
/// frames in the same order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_connections_of_one_user_both_get_everything() {
    let server = start(options()).await;
    let token = server.token("alice");
    let mut tab1 = connect(server.addr, &token, "").await;
    let mut tab2 = connect(server.addr, &token, "").await;
    let mut runs = Vec::new();
    for (secret, task, kinds) in tasks(0) {
        runs.push((start_run(server.addr, &token, &task).await, secret, kinds));
    }
    let (one, two) = tokio::join!(
        read_until_ended(&mut tab1, 3),
        read_until_ended(&mut tab2, 3)
    );
    check_own_runs("alice", &one, &runs);
    check_own_runs("alice", &two, &runs);
    let texts = |got: &Received| {
        got.events
            .iter()
            .map(|e| e.text.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(texts(&one), texts(&two));
}

/// One user's client stops reading. The other 49 users keep receiving their events within
/// the stated bound: at most 500 ms from emit to receipt for every single event (observed
/// 50-150 ms in a debug build on 2 shared cores, with the other tests of this file running
/// alongside; the stalled client stays stalled until all of them are done, so a bridge that
/// waited on it would never deliver at all). The
/// stalled connection loses only non-critical events, then is closed with a reason (Close
/// 1013) before a critical event is lost; reconnecting with `last_seq` gives it everything it
/// had not received, with no duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_does_not_delay_others_and_is_closed_before_losing_a_critical_event() {
    let _turn = HEAVY.lock().await;
    const OTHERS: usize = 49;
    const BOUND_MS: u64 = 500;
    let mut opts = options();
    opts.hub = isolate::hub::HubConfig::builder()
        .connection_capacity(32)
        .replay_capacity(4096)
        .build()
        .unwrap();
    let server = server::start_with_small_send_buffers(opts).await;
    let addr = server.addr;
    let hub = server.server.hub.clone();

    // The stalled client: connected, then never reads (a tiny receive buffer so the server's
    // writes stall after a few KiB).
    let slow_token = server.token("slow-user");
    let mut slow = connect_small_buffer(addr, &slow_token).await;

    // The others, reading as they should, and recording their worst latency.
    let mut others = tokio::task::JoinSet::new();
    let (go_tx, go_rx) = tokio::sync::watch::channel(false);
    for u in 1..=OTHERS {
        let token = server.token(&format!("user-{u}"));
        let mut go = go_rx.clone();
        others.spawn(async move {
            let mut ws = connect(addr, &token, "").await;
            go.wait_for(|go| *go).await.unwrap();
            let mut runs = Vec::new();
            for (secret, task, kinds) in tasks(u) {
                runs.push((start_run(addr, &token, &task).await, secret, kinds));
            }
            let got = read_until_ended(&mut ws, 3).await;
            close(ws).await;
            (u, runs, got)
        });
    }

    // Fill the stalled connection: progress events until its queue is full and stays full.
    let flood = json!({ "prompt": "zq-flood", "progress_updates": 3000, "tools": 1 });
    let flood_run = start_run(addr, &slow_token, &flood).await;
    let slow_user = server
        .server
        .tokens
        .verify(&slow_token, std::time::SystemTime::now());
    assert!(slow_user.is_ok());
    let stalled = eventually(Duration::from_secs(10), || {
        let stats = hub.stats();
        stats.dropped > 0 && stats.live_runs == 0
    })
    .await;
    assert!(stalled, "the stalled connection's queue filled up");

    // Now the others start, and the stalled user starts runs whose events are all critical but
    // the one thinking note: 2 x 42 critical events cannot all wait in a queue of 32.
    go_tx.send(true).unwrap();
    let critical = json!({ "prompt": "zq-critical", "tools": 20 });
    let c1 = start_run(addr, &slow_token, &critical).await;
    let c2 = start_run(addr, &slow_token, &critical).await;
    assert!(
        eventually(Duration::from_secs(10), || hub.stats().kicked == 1).await,
        "the stalled connection was dropped"
    );

    let mut worst = 0;
    while let Some(done) = others.join_next().await {
        let (u, runs, got) = done.unwrap();
        check_own_runs(&format!("user-{u}"), &got, &runs);
        worst = worst.max(got.max_latency_ms);
    }
    eprintln!("other users' worst emit-to-receive latency with one client stalled: {worst} ms");
    assert!(worst <= BOUND_MS, "{worst} ms > {BOUND_MS} ms");

    // The stalled client reads again: what was queued for it, then the Close with its reason.
    let first = read_until_ended(&mut slow, usize::MAX).await;
    let close_frame = first
        .closed
        .clone()
        .expect("closed by the server")
        .expect("with a Close frame");
    assert_eq!(u16::from(close_frame.code), 1013);
    assert!(close_frame.reason.contains("overflow"), "{close_frame:?}");
    assert!(first.missed > 0, "it was told it missed progress events");
    for event in &first.events {
        assert_eq!(event.user, "slow-user");
    }

    // Reconnect with the last event of each run it has: the rest, then the ends.
    let runs = [flood_run, c1, c2];
    let query = format!(
        "?{}",
        runs.iter()
            .map(|run| format!("last_seq={run}:{}", first.last_seq(run)))
            .collect::<Vec<_>>()
            .join("&")
    );
    let mut again = connect(addr, &slow_token, &query).await;
    let rest = read_until_ended(&mut again, 3).await;
    assert_eq!(rest.closed, None);
    for run in &runs {
        let seen: Vec<&Event> = first.run(run).into_iter().chain(rest.run(run)).collect();
        let seqs: Vec<u64> = seen.iter().map(|e| e.seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "{run}: no duplicate, in order"
        );
        let (last, outcome) = &rest.ended[run];
        assert_eq!(outcome, "completed");
        // Only non-critical events may be absent: every critical one of the run arrived.
        let critical_kinds = kinds(seen.iter().copied().filter(|e| e.critical));
        let expected_tools = if run == &runs[0] { 1 } else { 20 };
        assert_eq!(
            critical_kinds,
            counts(&[
                ("agent_started", 1),
                ("tool_executing", expected_tools),
                ("tool_completed", expected_tools),
                ("agent_completed", 1),
            ]),
            "{run}"
        );
        // After the resume point, nothing is missing at all.
        let resumed: Vec<u64> = rest.run(run).iter().map(|e| e.seq).collect();
        let from = first.last_seq(run);
        assert_eq!(resumed, ((from + 1)..=*last).collect::<Vec<_>>(), "{run}");
    }
    close(again).await;
}

/// A client disconnects in the middle of a run, reconnects with `last_seq`, and ends up with
/// every event exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_mid_run_then_resume_has_no_gap_and_no_duplicate() {
    let mut opts = options();
    opts.agent.tool_delay_ms = 30;
    let server = start(opts).await;
    let token = server.token("alice");
    let mut ws = connect(server.addr, &token, "").await;
    let secret = secret(0, 0);
    let run = start_run(
        server.addr,
        &token,
        &json!({ "prompt": secret, "tools": 6, "progress_updates": 3 }),
    )
    .await;
    // Read the first few events, then drop the connection without a Close.
    let mut first = Vec::new();
    while first.len() < 4 {
        if let Frame::Event(event) = next_frame(&mut ws).await {
            first.push(event);
        }
    }
    drop(ws);
    // Let the run go on while nobody is connected.
    tokio::time::sleep(Duration::from_millis(70)).await;
    let last = first.last().unwrap().seq;
    let mut ws = connect(server.addr, &token, &format!("?last_seq={run}:{last}")).await;
    let rest = read_until_ended(&mut ws, 1).await;
    let seqs: Vec<u64> = first.iter().chain(&rest.events).map(|e| e.seq).collect();
    let n = 1 + 1 + 3 + 6 * 2 + 1;
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>());
    assert_eq!(rest.ended[&run], (n, "completed".to_owned()));
    assert!(
        rest.events
            .iter()
            .all(|e| e.user == "alice" && e.run == run)
    );
}

/// Answered pings; a closed connection leaves nothing in the hub.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_are_answered_and_closed_connections_are_cleaned_up() {
    let server = start(options()).await;
    let token = server.token("alice");
    let mut ws = connect(server.addr, &token, "").await;
    assert_eq!(ping(&mut ws, b"are you there").await, b"are you there");
    let hub = server.server.hub.clone();
    assert_eq!(hub.stats().connections, 1);
    close(ws).await;
    assert!(eventually(Duration::from_secs(5), || hub.stats().connections == 0).await);
    // A connection dropped without a Close goes too.
    let ws = connect(server.addr, &token, "").await;
    drop(ws);
    assert!(eventually(Duration::from_secs(5), || hub.stats() == Default::default()).await);
}

#[tokio::test(flavor = "current_thread")]
async fn the_page_is_served_without_credentials() {
    let server = start(options()).await;
    let reply = server::http(server.addr, "GET", "/", None, "").await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("isolate.bearer."));
    assert!(reply.headers["content-type"].starts_with("text/html"));
}

#[tokio::test(flavor = "current_thread")]
async fn bad_run_requests_are_refused_with_a_reason() {
    let server = start(options()).await;
    let token = server.token("alice");
    for (body, needle) in [
        ("not json", "invalid body"),
        (r#"{"prompt": ""}"#, "prompt"),
        (r#"{"prompt": "x", "tools": 0}"#, "tools"),
        (
            r#"{"prompt": "x", "progress_updates": 5001}"#,
            "progress_updates",
        ),
        // Identity is never taken from the body.
        (
            r#"{"prompt": "x", "user_id": "bob"}"#,
            "unknown field `user_id`",
        ),
    ] {
        let reply = server::http(server.addr, "POST", "/runs", Some(&token), body).await;
        assert_eq!(reply.status, 400, "{body}");
        assert!(
            reply.json()["error"].as_str().unwrap().contains(needle),
            "{reply:?}"
        );
        assert!(reply.headers.contains_key("x-request-id"));
    }
}

/// Frames larger than what the server accepts from clients (4 KiB) still go out whole: the
/// limit is on incoming messages only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_events_reach_the_client_whole() {
    let mut opts = options();
    opts.hub = isolate::hub::HubConfig::builder()
        .sanitizer(
            isolate::hub::Sanitizer::builder()
                .max_string_chars(4000)
                .build(),
        )
        .build()
        .unwrap();
    let server = start(opts).await;
    let token = server.token("alice");
    let mut ws = connect(server.addr, &token, "").await;
    let prompt = "€".repeat(2000); // 6,000 bytes of UTF-8
    let run = start_run(
        server.addr,
        &token,
        &json!({ "prompt": prompt, "tools": 1 }),
    )
    .await;
    let got = read_until_ended(&mut ws, 1).await;
    let started = &got.run(&run)[0];
    assert_eq!(started.kind, "agent_started");
    assert!(started.text.len() > 6000);
    assert!(started.text.contains(&prompt));
    assert_eq!(got.ended[&run].1, "completed");
}
