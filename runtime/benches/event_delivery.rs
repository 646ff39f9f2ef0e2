//! Load benchmark of per-user event delivery: N WebSocket clients (default 1,000 users) on
//! 127.0.0.1, each user with runs emitting M events through the runtime, the hub and the
//! axum WebSocket stream. Reports events/s delivered, emit-to-receive latency (p50, p99,
//! max), peak memory, and events lost (critical: must be 0).
//!
//! ```text
//! cargo bench -p isolate --bench event_delivery
//! cargo bench -p isolate --bench event_delivery -- --users 1000 --runs 1 --events 100 --rate 10000
//! ```
//!
//! Other options: `--critical-every K` (every K-th event and the last are critical; 4),
//! `--workers N` (2), `--replay N` (events kept per run for reconnects; the hub's 256),
//! `--no-baseline`, `--no-flat-out`.
//!
//! Every scenario runs twice in the same process: through `isolate` (layer, runtime, hub,
//! bounded queues, replay, sanitiser), and through a baseline "singleton bridge" (one global
//! map of user -> unbounded channels, no runtime, no bounds: the design `isolate` replaces).
//! Scenarios: `paced` (events spread evenly at `--rate` events/s in all) and `flat out`
//! (every run emits as fast as it can). Server and clients share one process and one tokio
//! runtime of `--workers` threads (default 2), so the figures include the clients' own work.
//! Clients that the hub closes for falling behind reconnect with `last_seq`, as a real client
//! would; a critical event counts as lost only if no connection of its user ever received it.
//! Latency: each event carries the microsecond it was emitted at (one process clock).
//! Memory: the process's peak RSS (VmHWM, reset before each scenario).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message as ServerMessage, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use isolate::axum::{Authenticate, HmacTokens, IsolateLayer, event_stream};
use isolate::hub::{HubConfig, LocalHub, OpenRun};
use isolate::{
    AuthenticatedUser, Authority, Event, RequestContext, RunId, Runtime, RuntimeConfig, ThreadId,
    UserId,
};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const SECRET: &[u8] = b"bench-secret-bench-secret-bench-secret";
const TEXT: &str =
    "search returned 3 results, ranked by price and departure time; the cheapest is 89 EUR";

#[derive(Debug, Clone)]
struct Args {
    users: usize,
    runs: usize,
    events: u64,
    rate: u64,
    critical_every: u64,
    workers: usize,
    baseline: bool,
    flat_out: bool,
    /// Events kept per run for reconnects (the hub's `replay_capacity`).
    replay: usize,
    /// Set in the child processes: the one scenario to run.
    scenario: Option<String>,
}

impl Args {
    fn parse() -> Result<Self, String> {
        let mut args = Self {
            users: 1000,
            runs: 1,
            events: 100,
            rate: 10_000,
            critical_every: 4,
            workers: 2,
            baseline: true,
            flat_out: true,
            replay: HubConfig::default().replay_capacity(),
            scenario: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = |name: &str| -> Result<u64, String> {
                it.next()
                    .and_then(|v| v.parse().ok())
                    .ok_or(format!("{name} takes a number"))
            };
            match flag.as_str() {
                "--users" => args.users = value("--users")? as usize,
                "--runs" => args.runs = value("--runs")? as usize,
                "--events" => args.events = value("--events")?,
                "--rate" => args.rate = value("--rate")?,
                "--critical-every" => args.critical_every = value("--critical-every")?.max(1),
                "--workers" => args.workers = (value("--workers")? as usize).max(1),
                "--no-baseline" => args.baseline = false,
                "--no-flat-out" => args.flat_out = false,
                "--scenario" => args.scenario = it.next(),
                "--replay" => args.replay = (value("--replay")? as usize).max(1),
                // What `cargo bench` passes to every bench target.
                "--bench" => {}
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        if args.users == 0 || args.runs == 0 || args.events == 0 || args.rate == 0 {
            return Err("--users, --runs, --events and --rate must be at least 1".into());
        }
        Ok(args)
    }

    fn critical(&self, n: u64) -> bool {
        n.is_multiple_of(self.critical_every) || n == self.events
    }
}

/// The event the load runs emit: ~100 bytes of text like a tool summary, and when it left.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename = "load_tick")]
struct LoadTick {
    n: u64,
    sent_us: u64,
    text: &'static str,
    #[serde(skip)]
    critical: bool,
}

impl Event for LoadTick {
    fn critical(&self) -> bool {
        self.critical
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Server {
    Isolate,
    Bridge,
}

/// How each run paces its events: every `period` from `start + phase`, or flat out.
#[derive(Clone, Copy)]
struct Pace {
    start: tokio::time::Instant,
    period: Option<Duration>,
    slots: usize,
}

impl Pace {
    fn ticker(&self, slot: usize) -> Option<tokio::time::Interval> {
        self.period.map(|period| {
            let phase = period.mul_f64(slot as f64 / self.slots as f64);
            tokio::time::interval_at(self.start + phase, period)
        })
    }
}

// ---- the isolate server ----

struct IsolateServer {
    addr: SocketAddr,
    runtime: Runtime,
    hub: LocalHub,
    users: Vec<AuthenticatedUser>,
    task: tokio::task::JoinHandle<()>,
}

async fn start_isolate(args: &Args) -> IsolateServer {
    let authority = Authority::new();
    let concurrent = args.users * args.runs;
    let runtime = Runtime::new(
        RuntimeConfig::builder()
            .per_user_limit(args.runs.max(5))
            .global_limit(concurrent + 16)
            .timeout(Duration::from_secs(600))
            .max_tracked_users(args.users.max(10_000))
            .build()
            .unwrap(),
        &authority,
    );
    let hub = LocalHub::new(
        HubConfig::builder()
            .max_users(args.users * 2)
            .replay_capacity(args.replay)
            .build()
            .unwrap(),
        &authority,
    );
    let users = (0..args.users)
        .map(|u| authority.vouch(UserId::new(format!("user-{u}")).unwrap()))
        .collect();
    let tokens = HmacTokens::new(SECRET).unwrap();
    let layer = IsolateLayer::new(tokens, authority, runtime.clone(), Arc::new(hub.clone()));
    let router = Router::new().route("/ws", get(event_stream)).layer(layer);
    let (addr, task) = serve(router).await;
    IsolateServer {
        addr,
        runtime,
        hub,
        users,
        task,
    }
}

async fn isolate_run(
    server: &IsolateServer,
    user: usize,
    run: usize,
    args: Args,
    pace: Pace,
    origin: Instant,
) {
    let ctx = RequestContext::builder(
        server.users[user].clone(),
        ThreadId::new(format!("thread-{user}")).unwrap(),
        RunId::new(format!("run-{user}-{run}")).unwrap(),
    )
    .build()
    .unwrap();
    let mut ticker = pace.ticker(user * args.runs + run);
    OpenRun::open(&server.runtime, &server.hub, ctx)
        .unwrap()
        .run(async |scope| {
            for n in 1..=args.events {
                match &mut ticker {
                    Some(ticker) => {
                        ticker.tick().await;
                    }
                    None => tokio::task::yield_now().await,
                }
                let tick = LoadTick {
                    n,
                    sent_us: origin.elapsed().as_micros() as u64,
                    text: TEXT,
                    critical: args.critical(n),
                };
                scope.emitter().emit(tick).unwrap();
            }
        })
        .await
        .unwrap();
}

// ---- the baseline: a singleton bridge ----

/// The design being replaced: one process-wide map from user to that user's sockets, with
/// unbounded channels and no runtime around the runs.
struct Bridge {
    tokens: HmacTokens,
    connections: Mutex<HashMap<String, Vec<mpsc::UnboundedSender<String>>>>,
}

async fn bridge_ws(
    State(bridge): State<Arc<Bridge>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Ok(user) = bridge.tokens.authenticate(&headers).await else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    // The same read buffer as isolate's stream (tungstenite zero-fills it on every read).
    upgrade
        .read_buffer_size(4096)
        .on_upgrade(move |socket| async move {
            let (tx, mut rx) = mpsc::unbounded_channel();
            bridge
                .connections
                .lock()
                .unwrap()
                .entry(user.to_string())
                .or_default()
                .push(tx);
            let (mut sink, mut incoming) = socket.split();
            let hello = serde_json::json!({"type": "subscribed", "user_id": user.as_str()});
            if sink
                .send(ServerMessage::Text(hello.to_string().into()))
                .await
                .is_err()
            {
                return;
            }
            loop {
                tokio::select! {
                    message = rx.recv() => {
                        let Some(message) = message else { return };
                        if sink.send(ServerMessage::Text(message.into())).await.is_err() {
                            return;
                        }
                    }
                    incoming = incoming.next() => if !matches!(incoming, Some(Ok(_))) { return },
                }
            }
        })
}

async fn bridge_run(
    bridge: Arc<Bridge>,
    user: usize,
    run: usize,
    args: Args,
    pace: Pace,
    origin: Instant,
) {
    let (user_id, run_id) = (format!("user-{user}"), format!("run-{user}-{run}"));
    let mut ticker = pace.ticker(user * args.runs + run);
    for n in 1..=args.events {
        match &mut ticker {
            Some(ticker) => {
                ticker.tick().await;
            }
            None => tokio::task::yield_now().await,
        }
        let millis = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let frame = serde_json::json!({
            "seq": n, "user_id": user_id, "thread_id": format!("thread-{user}"),
            "run_id": run_id, "timestamp_ms": millis, "critical": args.critical(n),
            "event": {"type": "load_tick", "n": n, "sent_us": origin.elapsed().as_micros() as u64, "text": TEXT},
        })
        .to_string();
        let connections = bridge.connections.lock().unwrap();
        for tx in connections.get(&user_id).into_iter().flatten() {
            let _ = tx.send(frame.clone());
        }
    }
}

async fn serve(router: Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (addr, task)
}

// ---- the clients ----

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: SocketAddr, token: &str, query: &str) -> Option<Ws> {
    let mut request = format!("ws://{addr}/ws{query}")
        .into_client_request()
        .ok()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().ok()?);
    // A small read buffer: tungstenite zero-fills it up to this size on every read.
    let config = WebSocketConfig::default().read_buffer_size(16 * 1024);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), false)
        .await
        .ok()?;
    // Wait for the hello: from here on, every event of the user reaches this connection.
    loop {
        match ws.next().await? {
            Ok(Message::Text(text)) if text.contains("\"subscribed\"") => return Some(ws),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

#[derive(Deserialize)]
struct WireFrame<'a> {
    #[serde(default)]
    seq: u64,
    #[serde(default)]
    critical: bool,
    #[serde(borrow, default)]
    run_id: Option<&'a str>,
    #[serde(default)]
    event: Option<WireEvent>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<&'a str>,
    #[serde(default)]
    count: u64,
}

#[derive(Deserialize)]
struct WireEvent {
    sent_us: u64,
}

#[derive(Default)]
struct RunTrack {
    seen: Vec<bool>,
    last_seq: u64,
}

#[derive(Default)]
struct ClientStats {
    latencies_us: Vec<u32>,
    received: u64,
    duplicates: u64,
    missed: u64,
    reconnects: u64,
    critical_received: u64,
    done: bool,
}

async fn client(
    mut ws: Ws,
    addr: SocketAddr,
    token: String,
    args: Args,
    origin: Instant,
    deadline: tokio::time::Instant,
) -> ClientStats {
    let mut stats = ClientStats::default();
    let mut runs: HashMap<String, RunTrack> = HashMap::new();
    let complete = |runs: &HashMap<String, RunTrack>| {
        runs.len() == args.runs && runs.values().all(|r| r.last_seq == args.events)
    };
    while tokio::time::Instant::now() < deadline && !complete(&runs) {
        let message = tokio::time::timeout_at(deadline, ws.next()).await;
        let text = match message {
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(
                Message::Ping(_) | Message::Pong(_) | Message::Binary(_) | Message::Frame(_),
            ))) => {
                continue;
            }
            Err(_) => break,
            // Closed (the hub dropped a slow connection, with a reason): resume as a client
            // would, from the last event of each run it has.
            Ok(_) => {
                let query: Vec<String> = runs
                    .iter()
                    .filter(|(_, r)| r.last_seq > 0)
                    .map(|(run, r)| format!("last_seq={run}:{}", r.last_seq))
                    .collect();
                let query = if query.is_empty() {
                    String::new()
                } else {
                    format!("?{}", query.join("&"))
                };
                stats.reconnects += 1;
                match connect(addr, &token, &query).await {
                    Some(again) => {
                        ws = again;
                        continue;
                    }
                    None => break,
                }
            }
        };
        let Ok(frame) = serde_json::from_str::<WireFrame>(&text) else {
            continue;
        };
        if let (Some(event), Some(run)) = (frame.event, frame.run_id) {
            let now = origin.elapsed().as_micros() as u64;
            stats
                .latencies_us
                .push(u32::try_from(now.saturating_sub(event.sent_us)).unwrap_or(u32::MAX));
            stats.received += 1;
            let track = runs.entry(run.to_owned()).or_insert_with(|| RunTrack {
                seen: vec![false; args.events as usize + 1],
                last_seq: 0,
            });
            let seq = frame.seq as usize;
            if seq < track.seen.len() {
                if track.seen[seq] {
                    stats.duplicates += 1;
                } else {
                    track.seen[seq] = true;
                    stats.critical_received += u64::from(frame.critical);
                }
            }
            track.last_seq = track.last_seq.max(frame.seq);
        } else if frame.kind == Some("missed") {
            stats.missed += frame.count;
        }
    }
    stats.done = complete(&runs);
    let _ = ws.close(None).await;
    stats
}

// ---- measuring ----

fn proc_status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse().ok())
        })
        .unwrap_or(0)
}

fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[derive(Serialize, Deserialize)]
struct Outcome {
    name: String,
    delivered: u64,
    expected: u64,
    seconds: f64,
    p50_us: u32,
    p99_us: u32,
    max_us: u32,
    critical_lost: u64,
    missed: u64,
    duplicates: u64,
    reconnects: u64,
    incomplete: usize,
    peak_rss_mb: f64,
    base_rss_mb: f64,
    /// Process CPU time (user + system) from the first emit to the last receipt, per event.
    cpu_us_per_event: f64,
}

/// User + system CPU time of this process so far, in microseconds (`/proc/self/stat`, in
/// clock ticks of 1/100 s, Linux's `USER_HZ`).
fn cpu_time_us() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may contain spaces).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    fields.iter().sum::<u64>() * 10_000
}

async fn scenario(server_kind: Server, args: &Args, paced: bool) -> Outcome {
    let name = format!(
        "{} {}",
        match server_kind {
            Server::Isolate => "isolate",
            Server::Bridge => "singleton bridge (baseline)",
        },
        if paced {
            format!("paced {} ev/s", args.rate)
        } else {
            "flat out".to_owned()
        }
    );
    eprintln!("scenario: {name}");
    let tokens = HmacTokens::new(SECRET).unwrap();
    let (addr, isolate, bridge, task) = match server_kind {
        Server::Isolate => {
            let server = start_isolate(args).await;
            let (addr, task) = (server.addr, server.task.abort_handle());
            (addr, Some(Arc::new(server)), None, task)
        }
        Server::Bridge => {
            let bridge = Arc::new(Bridge {
                tokens: tokens.clone(),
                connections: Mutex::new(HashMap::new()),
            });
            let router = Router::new()
                .route("/ws", get(bridge_ws))
                .with_state(Arc::clone(&bridge));
            let (addr, task) = serve(router).await;
            (addr, None, Some(bridge), task.abort_handle())
        }
    };
    // Connect every user first (64 handshakes at a time).
    let expiry = SystemTime::now() + Duration::from_secs(3600);
    let user_tokens: Vec<String> = (0..args.users)
        .map(|u| tokens.issue(&UserId::new(format!("user-{u}")).unwrap(), expiry))
        .collect();
    let gate = Arc::new(tokio::sync::Semaphore::new(64));
    let mut handshakes = tokio::task::JoinSet::new();
    for (u, token) in user_tokens.iter().enumerate() {
        let (gate, token) = (Arc::clone(&gate), token.clone());
        handshakes.spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            (u, connect(addr, &token, "").await.expect("connect"))
        });
    }
    let mut sockets: Vec<Option<Ws>> = (0..args.users).map(|_| None).collect();
    while let Some(done) = handshakes.join_next().await {
        let (u, ws) = done.unwrap();
        sockets[u] = Some(ws);
    }

    let base_rss_mb = proc_status("VmRSS:") as f64 / 1024.0;
    let cpu_before = cpu_time_us();
    let origin = Instant::now();
    let runs_total = args.users * args.runs;
    let pace = Pace {
        start: tokio::time::Instant::now() + Duration::from_millis(50),
        period: paced.then(|| Duration::from_secs_f64(runs_total as f64 / args.rate as f64)),
        slots: runs_total,
    };
    let expected_seconds = if paced {
        args.events as f64 * runs_total as f64 / args.rate as f64
    } else {
        10.0
    };
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs_f64(expected_seconds * 3.0 + 60.0);
    let mut clients = tokio::task::JoinSet::new();
    for (u, ws) in sockets.into_iter().enumerate() {
        let (token, args) = (user_tokens[u].clone(), args.clone());
        clients.spawn(client(ws.unwrap(), addr, token, args, origin, deadline));
    }
    let mut runs = tokio::task::JoinSet::new();
    for u in 0..args.users {
        for r in 0..args.runs {
            let args = args.clone();
            match (&isolate, &bridge) {
                (Some(server), _) => {
                    let server = Arc::clone(server);
                    runs.spawn(async move { isolate_run(&server, u, r, args, pace, origin).await });
                }
                (_, Some(bridge)) => {
                    let bridge = Arc::clone(bridge);
                    runs.spawn(bridge_run(bridge, u, r, args, pace, origin));
                }
                _ => unreachable!(),
            }
        }
    }
    while let Some(done) = runs.join_next().await {
        done.unwrap();
    }
    let mut latencies = Vec::with_capacity(runs_total * args.events as usize);
    let mut out = Outcome {
        name,
        delivered: 0,
        expected: runs_total as u64 * args.events,
        seconds: 0.0,
        p50_us: 0,
        p99_us: 0,
        max_us: 0,
        critical_lost: 0,
        missed: 0,
        duplicates: 0,
        reconnects: 0,
        incomplete: 0,
        peak_rss_mb: 0.0,
        base_rss_mb,
        cpu_us_per_event: 0.0,
    };
    while let Some(done) = clients.join_next().await {
        let stats = done.unwrap();
        out.delivered += stats.received;
        out.missed += stats.missed;
        out.duplicates += stats.duplicates;
        out.reconnects += stats.reconnects;
        out.incomplete += usize::from(!stats.done);
        out.critical_lost += {
            let per_run = (1..=args.events).filter(|&n| args.critical(n)).count() as u64;
            (per_run * args.runs as u64).saturating_sub(stats.critical_received)
        };
        latencies.extend(stats.latencies_us);
    }
    out.seconds = origin.elapsed().as_secs_f64();
    out.cpu_us_per_event = (cpu_time_us() - cpu_before) as f64 / out.delivered.max(1) as f64;
    out.peak_rss_mb = proc_status("VmHWM:") as f64 / 1024.0;
    latencies.sort_unstable();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    (out.p50_us, out.p99_us) = (pick(0.50), pick(0.99));
    out.max_us = latencies.last().copied().unwrap_or(0);
    if let Some(server) = &isolate {
        let stats = server.hub.stats();
        eprintln!(
            "  hub: {} events, {} queued, {} dropped for slow connections, {} connections closed for falling behind, {} kept for replay",
            stats.events, stats.queued, stats.dropped, stats.kicked, stats.retained_events
        );
    }
    task.abort();
    out
}

/// The scenarios, each run in a process of its own (so each one's peak RSS is its own).
fn plan(args: &Args) -> Vec<(Server, bool)> {
    let mut plan = vec![(Server::Isolate, true)];
    if args.baseline {
        plan.push((Server::Bridge, true));
    }
    if args.flat_out {
        plan.push((Server::Isolate, false));
        if args.baseline {
            plan.push((Server::Bridge, false));
        }
    }
    plan
}

fn scenario_flag(server: Server, paced: bool) -> String {
    format!(
        "{}-{}",
        match server {
            Server::Isolate => "isolate",
            Server::Bridge => "bridge",
        },
        if paced { "paced" } else { "flat-out" }
    )
}

/// In a child process: runs one scenario and prints its outcome as one JSON line.
fn run_child(args: &Args, which: &str) {
    let Some((server, paced)) = [Server::Isolate, Server::Bridge]
        .into_iter()
        .flat_map(|s| [(s, true), (s, false)])
        .find(|&(s, p)| scenario_flag(s, p) == which)
    else {
        eprintln!("unknown scenario {which:?}");
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers)
        .enable_all()
        .build()
        .unwrap();
    let outcome = runtime.block_on(scenario(server, args, paced));
    println!("RESULT {}", serde_json::to_string(&outcome).unwrap());
}

fn main() {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(usage) => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    // Two descriptors per user (client and server side), plus the runtime's.
    let needed = args.users as u64 * 2 + 64;
    if let Some(limit) = open_files_limit()
        && limit < needed
    {
        eprintln!(
            "{} users need about {needed} open files; the limit is {limit} (raise it: ulimit -n {needed})",
            args.users
        );
        std::process::exit(2);
    }
    if let Some(which) = &args.scenario {
        run_child(&args, which);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut outcomes: Vec<Outcome> = Vec::new();
    for (server, paced) in plan(&args) {
        let child = std::process::Command::new(&exe)
            .args(std::env::args().skip(1))
            .args(["--scenario", &scenario_flag(server, paced)])
            .stderr(std::process::Stdio::inherit())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&child.stdout);
        let Some(line) = stdout.lines().find_map(|l| l.strip_prefix("RESULT ")) else {
            eprintln!(
                "scenario {} failed: {}",
                scenario_flag(server, paced),
                child.status
            );
            std::process::exit(1);
        };
        outcomes.push(serde_json::from_str(line).unwrap());
    }
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "\n{} users x {} run(s) x {} events ({} critical per run), {} tokio workers, {cpus} CPUs\n",
        args.users,
        args.runs,
        args.events,
        (1..=args.events).filter(|&n| args.critical(n)).count(),
        args.workers
    );
    println!(
        "| scenario | delivered | events/s | p50 ms | p99 ms | max ms | critical lost | non-critical missed | duplicates | reconnects | peak RSS MB (at start) | CPU µs/event |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for o in &outcomes {
        println!(
            "| {} | {}/{}{} | {:.0} | {:.2} | {:.2} | {:.1} | {} | {} | {} | {} | {:.0} ({:.0}) | {:.1} |",
            o.name,
            o.delivered,
            o.expected,
            if o.incomplete > 0 {
                format!(" ({} clients incomplete)", o.incomplete)
            } else {
                String::new()
            },
            o.delivered as f64 / o.seconds,
            o.p50_us as f64 / 1000.0,
            o.p99_us as f64 / 1000.0,
            o.max_us as f64 / 1000.0,
            o.critical_lost,
            o.missed,
            o.duplicates,
            o.reconnects,
            o.peak_rss_mb,
            o.base_rss_mb,
            o.cpu_us_per_event,
        );
    }
    if let [isolate, bridge, ..] = &outcomes[..]
        && args.baseline
    {
        println!(
            "\npaced, isolate / bridge: p50 {:.2}x, p99 {:.2}x, peak RSS {:.2}x, CPU per event {:.2}x",
            isolate.p50_us as f64 / bridge.p50_us.max(1) as f64,
            isolate.p99_us as f64 / bridge.p99_us.max(1) as f64,
            isolate.peak_rss_mb / bridge.peak_rss_mb.max(1.0),
            isolate.cpu_us_per_event / bridge.cpu_us_per_event.max(0.001),
        );
    }
    if outcomes
        .iter()
        .any(|o| o.critical_lost > 0 && o.name.starts_with("isolate"))
    {
        eprintln!("critical events were lost");
        std::process::exit(1);
    }
}
