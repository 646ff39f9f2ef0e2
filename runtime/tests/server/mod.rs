//! Helpers for the tests (and the load benchmark) that run the `agent_server` example on
//! 127.0.0.1 port 0 and talk to it as real clients: raw HTTP/1.1 and tokio-tungstenite.
#![allow(dead_code)]

#[path = "../../examples/agent_server.rs"]
#[allow(dead_code)]
pub mod example;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use example::app::{Options, Server};

/// The secret every test server signs tokens with.
pub const SECRET: &[u8] = b"test-secret-test-secret-test-secret!";

/// A server running on an ephemeral loopback port; stops when dropped.
pub struct Running {
    pub addr: SocketAddr,
    pub server: Server,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    /// A token for `user`, valid for an hour.
    pub fn token(&self, user: &str) -> String {
        example::app::token(&self.server.tokens, user, Duration::from_secs(3600)).unwrap()
    }
}

/// Test options: fast tool calls.
pub fn options() -> Options {
    let mut options = Options::new(SECRET.to_vec());
    options.agent.tool_delay_ms = 10;
    options
}

/// Builds the example's server from `options` and serves it on 127.0.0.1:0.
pub async fn start(options: Options) -> Running {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    serve(options, listener)
}

/// Like [`start`], with the smallest send buffers the kernel allows on every accepted
/// connection (Linux copies them from the listening socket): a client that stops reading
/// stalls the server's writes after a few KiB instead of megabytes.
pub async fn start_with_small_send_buffers(options: Options) -> Running {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(1024).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    serve(options, socket.listen(1024).unwrap())
}

fn serve(options: Options, listener: tokio::net::TcpListener) -> Running {
    let server = example::app::build(options).expect("valid options");
    let addr = listener.local_addr().unwrap();
    let router = server.router.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Running { addr, server, task }
}

/// An HTTP response: status, headers (lowercased names) and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// One HTTP/1.1 request with `connection: close`; `token` goes in `Authorization: Bearer`.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\n{auth}content-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("reply in time")
        .unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// Starts a run for `token`'s user; returns its id.
pub async fn start_run(addr: SocketAddr, token: &str, task: &Value) -> String {
    let reply = http(addr, "POST", "/runs", Some(token), &task.to_string()).await;
    assert_eq!(reply.status, 202, "{reply:?}");
    reply.json()["run_id"].as_str().unwrap().to_owned()
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket request to `path` with `token` in `Authorization` (if any).
pub fn ws_request(
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
) -> tungstenite::handshake::client::Request {
    let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    request
}

/// The clients' WebSocket settings: a 16 KiB read buffer (tungstenite zero-fills the buffer
/// up to this size on every read; its 128 KiB default costs more than the events).
pub fn client_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(16 * 1024)
}

/// Connects to `/ws` (plus `query`) as `token`'s user and waits for `subscribed`.
pub async fn connect(addr: SocketAddr, token: &str, query: &str) -> Ws {
    let path = format!("/ws{query}");
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(
        ws_request(addr, &path, Some(token)),
        Some(client_config()),
        false,
    )
    .await
    .expect("upgrade");
    match next_frame(&mut ws).await {
        Frame::Control(v) if v["type"] == "subscribed" => ws,
        other => panic!("expected subscribed, got {other:?}"),
    }
}

/// Like [`connect`], over a socket whose receive buffer is as small as the kernel allows: a
/// client that stops reading stalls the server's writes after a few KiB instead of megabytes.
pub async fn connect_small_buffer(addr: SocketAddr, token: &str) -> Ws {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(1024).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(
        ws_request(addr, "/ws", Some(token)),
        MaybeTlsStream::Plain(stream),
        Some(client_config()),
    )
    .await
    .expect("upgrade");
    match next_frame(&mut ws).await {
        Frame::Control(v) if v["type"] == "subscribed" => ws,
        other => panic!("expected subscribed, got {other:?}"),
    }
}

/// What a client reads.
#[derive(Debug, Clone)]
pub enum Frame {
    /// An event envelope.
    Event(Event),
    /// `subscribed`, `missed`, `replay_gap`, `run_ended`.
    Control(Value),
    /// The server closed the connection (with its Close frame, if it sent one).
    Closed(Option<CloseFrame>),
}

/// One event as a client sees it.
#[derive(Debug, Clone)]
pub struct Event {
    pub user: String,
    pub run: String,
    pub seq: u64,
    pub critical: bool,
    pub kind: String,
    pub timestamp_ms: u64,
    /// The whole frame's text.
    pub text: String,
}

/// The next frame (a 20 s bound: a stalled stream fails the test rather than hang it).
pub async fn next_frame(ws: &mut Ws) -> Frame {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a frame within 20 s");
        match message {
            Some(Ok(Message::Text(text))) => return parse(&text),
            Some(Ok(Message::Close(frame))) => return Frame::Closed(frame),
            Some(Ok(_)) => {}
            None | Some(Err(_)) => return Frame::Closed(None),
        }
    }
}

pub fn parse(text: &str) -> Frame {
    let v: Value = serde_json::from_str(text).expect("JSON text frames");
    if v.get("event").is_some() {
        Frame::Event(Event {
            user: v["user_id"].as_str().unwrap().to_owned(),
            run: v["run_id"].as_str().unwrap().to_owned(),
            seq: v["seq"].as_u64().unwrap(),
            critical: v["critical"].as_bool().unwrap(),
            kind: v["event"]["type"].as_str().unwrap().to_owned(),
            timestamp_ms: v["timestamp_ms"].as_u64().unwrap(),
            text: text.to_owned(),
        })
    } else {
        Frame::Control(v)
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// What one connection received until `runs` runs ended (or it was closed).
#[derive(Debug, Default, Clone)]
pub struct Received {
    pub events: Vec<Event>,
    pub controls: Vec<Value>,
    pub missed: u64,
    pub ended: BTreeMap<String, (u64, String)>,
    pub closed: Option<Option<CloseFrame>>,
    /// Largest emit-to-receive latency seen, in ms.
    pub max_latency_ms: u64,
}

impl Received {
    /// The events of `run`, in arrival order.
    pub fn run(&self, run: &str) -> Vec<&Event> {
        self.events.iter().filter(|e| e.run == run).collect()
    }

    /// The last event of `run` received.
    pub fn last_seq(&self, run: &str) -> u64 {
        self.run(run).last().map_or(0, |e| e.seq)
    }
}

/// Reads until `runs` distinct runs have ended or the server closes the connection.
pub async fn read_until_ended(ws: &mut Ws, runs: usize) -> Received {
    let mut got = Received::default();
    while got.ended.len() < runs {
        match next_frame(ws).await {
            Frame::Event(event) => {
                got.max_latency_ms = got
                    .max_latency_ms
                    .max(now_ms().saturating_sub(event.timestamp_ms));
                got.events.push(event);
            }
            Frame::Control(v) => {
                match v["type"].as_str() {
                    Some("missed") => got.missed += v["count"].as_u64().unwrap(),
                    Some("run_ended") => {
                        got.ended.insert(
                            v["run_id"].as_str().unwrap().to_owned(),
                            (
                                v["last_seq"].as_u64().unwrap(),
                                v["outcome"].as_str().unwrap().to_owned(),
                            ),
                        );
                    }
                    _ => {}
                }
                got.controls.push(v);
            }
            Frame::Closed(frame) => {
                got.closed = Some(frame);
                break;
            }
        }
    }
    got
}

/// Closes `ws` politely.
pub async fn close(mut ws: Ws) {
    let _ = ws.close(None).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

/// Sends a ping and returns the payload of the pong that answers it.
pub async fn ping(ws: &mut Ws, payload: &'static [u8]) -> Vec<u8> {
    ws.send(Message::Ping(payload.into())).await.unwrap();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("pong in time")
            .expect("open")
            .unwrap();
        if let Message::Pong(data) = message {
            return data.to_vec();
        }
    }
}

/// Polls `check` every 10 ms until it holds (at most `limit`).
pub async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    check()
}
