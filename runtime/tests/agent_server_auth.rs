//! Hostile clients of the `agent_server` example: forged, expired, malformed and tampered
//! tokens, tokens in the URL, and another user's run id are each refused, and nothing is
//! delivered to anyone because of them.
#![cfg(not(loom))]

mod server;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use isolate::UserId;
use isolate::axum::{HmacTokens, Isolated};
use serde_json::json;
use server::{Frame, Ws, connect, http, next_frame, options, read_until_ended, start, start_run};
use tokio_tungstenite::tungstenite;

/// The status of a refused WebSocket upgrade (panics if it was accepted).
async fn ws_refusal(addr: SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    match tokio_tungstenite::connect_async(server::ws_request(addr, path, token)).await {
        Ok(_) => panic!("upgrade to {path} accepted"),
        Err(tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            (response.status().as_u16(), body)
        }
        Err(other) => panic!("unexpected error {other}"),
    }
}

/// Nothing arrives on `ws` for `quiet`.
async fn assert_silent(ws: &mut Ws, quiet: Duration) {
    let frame = tokio::time::timeout(quiet, next_frame(ws)).await;
    assert!(frame.is_err(), "unexpected frame {:?}", frame.unwrap());
}

fn forged_tokens(server: &server::Running) -> Vec<(&'static str, String)> {
    let now = SystemTime::now();
    let alice = UserId::new("alice").unwrap();
    let good = server.token("alice");
    let other_secret = HmacTokens::new(b"not the server's secret, 32 bytes..").unwrap();
    let (payload, signature) = good.rsplit_once('.').unwrap();
    let (_, expiry) = payload.rsplit_once('.').unwrap();
    let swapped_user = format!("v1.{}.{expiry}.{signature}", URL_SAFE_NO_PAD.encode("bob"));
    let later_expiry = format!(
        "{}.{}.{signature}",
        payload.rsplit_once('.').unwrap().0,
        expiry.parse::<u64>().unwrap() + 10_000
    );
    vec![
        (
            "signed with another secret",
            other_secret.issue(&alice, now + Duration::from_secs(600)),
        ),
        ("user swapped", swapped_user),
        ("expiry extended", later_expiry),
        ("signature truncated", good[..good.len() - 2].to_owned()),
        (
            "expired",
            server
                .server
                .tokens
                .issue(&alice, now - Duration::from_secs(1)),
        ),
        ("not a token", "hello".to_owned()),
        ("empty parts", "v1...".to_owned()),
        ("huge", "v1.".to_owned() + &"A".repeat(100_000)),
        ("unknown version", good.replacen("v1.", "v2.", 1)),
    ]
}

/// Forged, tampered, expired and malformed tokens: `401` with nothing else (no body, no
/// reason), on the API and on the WebSocket, and nothing reaches alice's real connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_malformed_tokens_get_401_and_nothing_is_delivered() {
    let server = start(options()).await;
    let addr = server.addr;
    let mut alice = connect(addr, &server.token("alice"), "").await;
    let task = json!({ "prompt": "zq-forged" }).to_string();
    for (what, token) in forged_tokens(&server) {
        let reply = http(addr, "POST", "/runs", Some(&token), &task).await;
        assert_eq!(reply.status, 401, "{what}");
        assert_eq!(reply.body, "", "{what}: nothing else");
        assert_eq!(reply.headers["www-authenticate"], "Bearer", "{what}");
        assert!(reply.headers["x-request-id"].starts_with("req-"), "{what}");
        let reply = http(addr, "DELETE", "/runs/run-1", Some(&token), "").await;
        assert_eq!(reply.status, 401, "{what}");
        let (status, body) = ws_refusal(addr, "/ws", Some(&token)).await;
        assert_eq!((status, body.as_str()), (401, ""), "{what}");
    }
    // No credentials at all, or another scheme.
    assert_eq!(http(addr, "POST", "/runs", None, &task).await.status, 401);
    assert_eq!(ws_refusal(addr, "/ws", None).await.0, 401);
    let mut basic = server::ws_request(addr, "/ws", None);
    basic
        .headers_mut()
        .insert("authorization", "Basic YWxpY2U6cHc=".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(basic).await.is_err());

    assert_silent(&mut alice, Duration::from_millis(300)).await;
    let stats = server.server.hub.stats();
    assert_eq!((stats.runs, stats.events, stats.connections), (0, 0, 1));
    assert_eq!(server.server.runtime.metrics().completed, 0);
}

/// A token in the query string is refused, even when the header carries a valid one:
/// credentials in URLs end up in logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_in_the_query_string_is_refused() {
    let server = start(options()).await;
    let addr = server.addr;
    let token = server.token("alice");
    let mut alice = connect(addr, &token, "").await;
    for name in [
        "token",
        "access_token",
        "Access-Token",
        "%74oken",
        "jwt",
        "api_key",
    ] {
        let path = format!("/ws?{name}={token}");
        assert_eq!(ws_refusal(addr, &path, None).await.0, 401, "{name}");
        assert_eq!(ws_refusal(addr, &path, Some(&token)).await.0, 401, "{name}");
        let path = format!("/runs?{name}={token}");
        let task = json!({ "prompt": "zq-query" }).to_string();
        assert_eq!(http(addr, "POST", &path, None, &task).await.status, 401);
        assert_eq!(
            http(addr, "POST", &path, Some(&token), &task).await.status,
            401
        );
    }
    assert_silent(&mut alice, Duration::from_millis(300)).await;
    assert_eq!(server.server.hub.stats().runs, 0);
}

/// Alice names bob's run: resuming it and cancelling it both answer exactly as for a run
/// that does not exist, bob's run is untouched and bob gets all of it, and alice gets none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_run_id_is_refused_and_nothing_is_delivered() {
    let mut opts = options();
    opts.agent.tool_delay_ms = 60;
    let server = start(opts).await;
    let addr = server.addr;
    let (alice_token, bob_token) = (server.token("alice"), server.token("bob"));
    let mut alice = connect(addr, &alice_token, "").await;
    let mut bob = connect(addr, &bob_token, "").await;
    let bobs_run = start_run(addr, &bob_token, &json!({ "prompt": "zq-bob-private" })).await;
    // Wait until bob's run has emitted something, so it has a replay buffer to steal from.
    let Frame::Event(first) = next_frame(&mut bob).await else {
        panic!("bob's first event")
    };
    assert_eq!(first.seq, 1);

    let (status, body) = ws_refusal(
        addr,
        &format!("/ws?last_seq={bobs_run}:0"),
        Some(&alice_token),
    )
    .await;
    let (nostatus, nobody) = ws_refusal(
        addr,
        "/ws?last_seq=run-does-not-exist:0",
        Some(&alice_token),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(nostatus, 404);
    assert_eq!(
        body.replace(&bobs_run, "RUN"),
        nobody.replace("run-does-not-exist", "RUN"),
        "indistinguishable from a run that never existed"
    );
    assert!(!body.contains("bob"));
    let cancel = http(
        addr,
        "DELETE",
        &format!("/runs/{bobs_run}"),
        Some(&alice_token),
        "",
    )
    .await;
    assert_eq!(cancel.status, 404);
    let missing = http(
        addr,
        "DELETE",
        "/runs/run-does-not-exist",
        Some(&alice_token),
        "",
    )
    .await;
    assert_eq!(missing.status, 404);

    // Bob's run completes untouched, and bob gets every event of it.
    let rest = read_until_ended(&mut bob, 1).await;
    assert_eq!(rest.ended[&bobs_run], (9, "completed".to_owned()));
    let seqs: Vec<u64> = rest.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (2..=9).collect::<Vec<_>>());
    // Alice got nothing.
    assert_silent(&mut alice, Duration::from_millis(200)).await;
    // Bob can cancel his own runs.
    let long = start_run(
        addr,
        &bob_token,
        &json!({ "prompt": "zq-long", "tools": 20 }),
    )
    .await;
    let cancel = http(
        addr,
        "DELETE",
        &format!("/runs/{long}"),
        Some(&bob_token),
        "",
    )
    .await;
    assert_eq!(cancel.status, 202);
    let ended = read_until_ended(&mut bob, 1).await;
    assert_eq!(ended.ended[&long].1, "cancelled");
}

/// Browsers send the token as a WebSocket subprotocol entry; the server selects
/// `isolate.v1` and never echoes the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_subprotocol_token_is_accepted_and_never_echoed() {
    let server = start(options()).await;
    let token = server.token("alice");
    let mut request = server::ws_request(server.addr, "/ws", None);
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("isolate.v1, isolate.bearer.{token}")
            .parse()
            .unwrap(),
    );
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "isolate.v1");
    assert!(
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .starts_with("req-")
    );
    let Frame::Control(hello) = next_frame(&mut ws).await else {
        panic!("hello")
    };
    assert_eq!(hello["user_id"], "alice");
    for (what, forged) in forged_tokens(&server) {
        let mut request = server::ws_request(server.addr, "/ws", None);
        request.headers_mut().insert(
            "sec-websocket-protocol",
            format!("isolate.v1, isolate.bearer.{forged}")
                .parse()
                .unwrap_or_else(|_| "isolate.v1, isolate.bearer.x".parse().unwrap()),
        );
        let refused = tokio_tungstenite::connect_async(request).await;
        assert!(
            matches!(refused, Err(tungstenite::Error::Http(ref r)) if r.status() == 401),
            "{what}"
        );
    }
}

/// A handler taking `Isolated` on a route without the layer never runs: the request fails
/// closed with 500.
#[tokio::test(flavor = "current_thread")]
async fn a_route_without_the_layer_fails_closed() {
    async fn handler(isolated: Isolated) -> String {
        panic!("ran for {}", isolated.user_id())
    }
    let router = Router::new().route("/oops", get(handler));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let reply = http(addr, "GET", "/oops", None, "").await;
    assert_eq!(reply.status, 500);
    assert!(reply.body.contains("not behind the isolate layer"));
    task.abort();
}

/// A user cannot open connections without limit (the 9th is refused with 429 until one
/// closes), a client that sends an oversized message is disconnected and unsubscribed, and a
/// request id sent by the client is not echoed: the server makes its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_bounded_and_oversized_messages_disconnect() {
    use futures_util::SinkExt;
    let server = start(options()).await;
    let addr = server.addr;
    let token = server.token("alice");
    let mut tabs = Vec::new();
    for _ in 0..8 {
        tabs.push(connect(addr, &token, "").await);
    }
    let (status, body) = ws_refusal(addr, "/ws", Some(&token)).await;
    assert_eq!(status, 429, "{body}");
    // Another user is not affected by alice's limit.
    let _bob = connect(addr, &server.token("bob"), "").await;
    // An oversized message from a client ends that connection, and frees its place.
    let mut big = tabs.pop().unwrap();
    big.send(tungstenite::Message::Text("x".repeat(64 * 1024).into()))
        .await
        .unwrap();
    assert!(matches!(next_frame(&mut big).await, Frame::Closed(_)));
    let hub = server.server.hub.clone();
    assert!(server::eventually(Duration::from_secs(5), || hub.stats().connections == 8).await);
    let again = connect(addr, &token, "").await;
    drop(again);

    let reply = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let body = json!({ "prompt": "zq-id" }).to_string();
        let raw = format!(
            "POST /runs HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
             x-request-id: req-chosen-by-the-client\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(raw.as_bytes()).await.unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await.unwrap();
        reply
    };
    assert!(reply.starts_with("HTTP/1.1 202"), "{reply}");
    assert!(reply.contains("x-request-id: req-"));
    assert!(!reply.contains("req-chosen-by-the-client"));
}
