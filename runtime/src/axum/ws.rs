//! [`event_stream`]: the WebSocket handler that streams the authenticated user's events.
//!
//! One connection = one [`Subscription`] to the user's hub entry: one bounded queue and one
//! writer (this handler's task). The protocol, server to client, JSON text frames only:
//!
//! - first `{"type":"subscribed","user_id":..,"connection_id":..}`;
//! - then each event as its envelope (`{"seq":..,"user_id":..,"run_id":..,"event":{..},..}`),
//!   and the hub's control frames: `missed`, `replay_gap`, `run_ended` (see [`Push`]);
//! - if the connection fell behind on critical events, what was queued and then a Close frame
//!   `1013` with the reason; reconnect with `last_seq` to get the rest.
//!
//! Client to server: pings are answered, a Close ends the connection, anything else is
//! ignored. `GET /ws?last_seq=RUN:SEQ` (repeatable) resumes runs after a reconnect.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::time::Duration;

use ::axum::extract::RawQuery;
use ::axum::extract::ws::{
    CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code,
};
use ::axum::http::StatusCode;
use ::axum::response::{IntoResponse, Response};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};

use super::extract::Isolated;
use crate::events::CloseReason;
use crate::hub::{HubError, Push, Resume, Subscription};

/// The WebSocket subprotocol the server selects. Browsers offer it together with their token
/// (`new WebSocket(url, ["isolate.v1", "isolate.bearer." + token])`); it is never the token.
pub const PROTOCOL: &str = "isolate.v1";

/// Most `last_seq` resume points one connection may ask for.
pub const MAX_RESUME_POINTS: usize = 64;

/// How [`event_stream`] connections behave; set on the layer with
/// [`IsolateLayer::stream_config`](super::IsolateLayer::stream_config).
///
/// ```
/// use std::time::Duration;
/// use isolate::axum::StreamConfig;
///
/// let config = StreamConfig::default().close_grace(Duration::from_secs(2));
/// assert_eq!(config.grace(), Duration::from_secs(2));
/// ```
#[derive(Debug, Clone)]
pub struct StreamConfig {
    close_grace: Duration,
    max_message_bytes: usize,
    batch: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            close_grace: Duration::from_secs(5),
            max_message_bytes: 4096,
            batch: 64,
        }
    }
}

impl StreamConfig {
    /// How long a connection the hub dropped (it fell behind) gets to take what was queued
    /// and the Close frame before the socket is dropped (default 5 s).
    #[must_use]
    pub fn close_grace(mut self, grace: Duration) -> Self {
        self.close_grace = grace;
        self
    }

    /// Largest message accepted from a client (default 4 KiB; clients only need pings).
    #[must_use]
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes.max(125);
        self
    }

    /// Most frames written before one flush (default 64).
    #[must_use]
    pub fn batch(mut self, frames: usize) -> Self {
        self.batch = frames.max(1);
        self
    }

    /// The close grace.
    pub fn grace(&self) -> Duration {
        self.close_grace
    }
}

/// `GET` handler streaming the authenticated user's events over a WebSocket. Put it behind the
/// [`IsolateLayer`](super::IsolateLayer).
///
/// `?last_seq=RUN:SEQ` (repeatable, at most [`MAX_RESUME_POINTS`]) resumes a run: every
/// retained event after `SEQ`, then live events, no duplicate, no gap. The subscription is
/// made before the upgrade is answered, so nothing emitted in between is lost. Refusals, with
/// a JSON `{"error": ..}` body and no upgrade: `400` for a malformed or duplicate resume point
/// or one ahead of the run, `404` for a run the user has no events of (another user's run
/// looks the same), `429` past the user's connection limit, `503` past the hub's user limit.
pub async fn event_stream(
    isolated: Isolated,
    upgrade: WebSocketUpgrade,
    RawQuery(query): RawQuery,
) -> Response {
    let resume = match resume_points(query.as_deref().unwrap_or("")) {
        Ok(resume) => resume,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, &message),
    };
    let subscription = match isolated.hub().subscribe(isolated.user(), &resume) {
        Ok(subscription) => subscription,
        Err(error) => return refuse(status_of(&error), &error.to_string()),
    };
    let config = isolated.stream_config().clone();
    upgrade
        .protocols([PROTOCOL])
        .max_message_size(config.max_message_bytes)
        .max_frame_size(config.max_message_bytes)
        // The library zero-fills its read buffer up to this size on every read attempt, and
        // clients only send pings: the default 128 KiB cost more CPU than the events did.
        .read_buffer_size(config.max_message_bytes)
        .on_upgrade(move |socket| serve(socket, subscription, config))
}

fn resume_points(query: &str) -> Result<Vec<Resume>, String> {
    let mut points = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name != "last_seq" {
            continue;
        }
        if points.len() == MAX_RESUME_POINTS {
            return Err(format!("at most {MAX_RESUME_POINTS} last_seq parameters"));
        }
        let point = value
            .parse::<Resume>()
            .map_err(|e| format!("last_seq={value:?}: {e}"))?;
        points.push(point);
    }
    Ok(points)
}

fn status_of(error: &HubError) -> StatusCode {
    match error {
        HubError::UnknownRun { .. } => StatusCode::NOT_FOUND,
        HubError::ResumeAhead { .. } | HubError::DuplicateResume { .. } => StatusCode::BAD_REQUEST,
        HubError::TooManyConnections { .. } => StatusCode::TOO_MANY_REQUESTS,
        HubError::NotAuthenticated => StatusCode::UNAUTHORIZED,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message }).to_string();
    (
        status,
        [(::axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// Serves one connection until the client goes, or the hub drops it.
async fn serve(socket: WebSocket, mut subscription: Subscription, config: StreamConfig) {
    let (sink, mut incoming) = socket.split();
    let mut out = Writer::new(sink);
    let hello = serde_json::json!({
        "type": "subscribed",
        "user_id": subscription.user_id().as_str(),
        "connection_id": subscription.connection_id(),
    });
    out.queue(hello.to_string());
    let kicked = subscription.kicked().clone();
    let reason = loop {
        // Write what is queued; stop waiting for a client that does not read once the hub
        // has dropped the connection (the unsent frames stay in `out`).
        tokio::select! {
            written = out.flush() => if written.is_err() { return },
            () = kicked.cancelled() => break subscription.close_reason(),
        }
        tokio::select! {
            push = subscription.next() => {
                let Some(push) = push else { break subscription.close_reason() };
                out.queue_push(&push);
                while out.pending.len() < config.batch {
                    match subscription.try_next() {
                        Some(push) => out.queue_push(&push),
                        None => break,
                    }
                }
            }
            message = incoming.next() => if !still_open(message) { return },
        }
    };
    // The hub dropped this connection (or shut down): give the client what was queued, then
    // the reason, within the grace period; then drop the socket either way.
    let _ = tokio::time::timeout(config.close_grace, async {
        while let Some(push) = subscription.next().await {
            out.queue_push(&push);
        }
        out.queue_message(Message::Close(Some(close_frame(reason))));
        out.flush().await
    })
    .await;
    drop(incoming);
}

/// Whether the client is still there after `message`; pings are answered by the WebSocket
/// library as they are read.
fn still_open(message: Option<Result<Message, ::axum::Error>>) -> bool {
    matches!(message, Some(Ok(message)) if !matches!(message, Message::Close(_)))
}

fn close_frame(reason: Option<CloseReason>) -> CloseFrame {
    match reason {
        Some(CloseReason::Overflow { .. }) => CloseFrame {
            code: close_code::AGAIN,
            reason: Utf8Bytes::from_static(
                "overflow: fell behind on critical events; reconnect with last_seq",
            ),
        },
        _ => CloseFrame {
            code: close_code::AWAY,
            reason: Utf8Bytes::from_static("the event stream ended"),
        },
    }
}

/// The write half with the messages not yet handed to it. Cancel-safe: a message leaves
/// `pending` only once the socket has taken it, so an interrupted flush loses nothing.
struct Writer {
    sink: SplitSink<WebSocket, Message>,
    pending: VecDeque<Message>,
}

impl Writer {
    fn new(sink: SplitSink<WebSocket, Message>) -> Self {
        Self {
            sink,
            pending: VecDeque::new(),
        }
    }

    fn queue(&mut self, text: String) {
        self.queue_message(Message::Text(text.into()));
    }

    fn queue_push(&mut self, push: &Push) {
        self.queue(push.to_json().into_owned());
    }

    fn queue_message(&mut self, message: Message) {
        self.pending.push_back(message);
    }

    async fn flush(&mut self) -> Result<(), ::axum::Error> {
        while !self.pending.is_empty() {
            poll_fn(|cx| self.sink.poll_ready_unpin(cx)).await?;
            if let Some(message) = self.pending.pop_front() {
                self.sink.start_send_unpin(message)?;
            }
        }
        poll_fn(|cx| self.sink.poll_flush_unpin(cx)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_points_parse_and_are_bounded() {
        assert_eq!(resume_points("").unwrap(), []);
        let points = resume_points("last_seq=run-a:3&x=1&last_seq=run%3Ab:0").unwrap();
        assert_eq!(
            points.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["run-a:3", "run:b:0"]
        );
        assert!(resume_points("last_seq=run-a").is_err());
        assert!(resume_points("last_seq=run-a:x").is_err());
        let many = vec!["last_seq=run-a:1"; MAX_RESUME_POINTS + 1].join("&");
        assert!(resume_points(&many).is_err());
    }
}
