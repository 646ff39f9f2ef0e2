//! JSON-RPC over stdio: `Content-Length` framed messages, read and written on their own
//! threads. Unlike `lsp_server::Connection::stdio`, whose reader stops at the first payload it
//! cannot parse (and the server with it), a malformed frame or payload is handed to the
//! server as [`Incoming::Malformed`] and reading goes on: an editor plugin's bug must not cost
//! the user the server.

use std::io::{self, BufRead, Read, Write};
use std::thread;

use crossbeam_channel::{Receiver, Sender, unbounded};
use lsp_server::{Message, RequestId};

/// The largest message read; a longer one is skipped and reported (a hostile
/// `Content-Length` must not make the server allocate it).
pub(crate) const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// What the reader hands the server.
#[derive(Debug)]
pub(crate) enum Incoming {
    Message(Message),
    /// A frame or payload that is not a message: why, and the request id when the payload
    /// had one (the error response goes to it; JSON-RPC's `null` id otherwise).
    Malformed {
        why: String,
        id: Option<RequestId>,
    },
}

/// The two channels and the threads behind them.
pub(crate) struct Transport {
    pub incoming: Receiver<Incoming>,
    pub outgoing: Sender<Outgoing>,
    writer: thread::JoinHandle<()>,
}

/// What the writer writes: a message, or an error response to a request whose id could not
/// be read (JSON-RPC's `"id": null`, which `lsp_server::Response` cannot express).
#[derive(Debug)]
pub(crate) enum Outgoing {
    Message(Message),
    ErrorWithoutId { code: i32, message: String },
}

impl From<Message> for Outgoing {
    fn from(m: Message) -> Self {
        Outgoing::Message(m)
    }
}

impl Transport {
    /// Reads stdin and writes stdout.
    pub fn stdio() -> io::Result<Transport> {
        Transport::new(io::BufReader::new(io::stdin()), io::stdout())
    }

    /// Reads `input` and writes `output` on two threads.
    pub fn new(
        input: impl BufRead + Send + 'static,
        output: impl Write + Send + 'static,
    ) -> io::Result<Transport> {
        let (in_tx, in_rx) = unbounded();
        let (out_tx, out_rx) = unbounded::<Outgoing>();
        thread::Builder::new()
            .name("isolate-lsp-reader".into())
            .spawn(move || read_loop(input, &in_tx))?;
        let writer = thread::Builder::new()
            .name("isolate-lsp-writer".into())
            .spawn(move || {
                let mut output = output;
                for m in out_rx {
                    if write_one(&mut output, &m).is_err() {
                        // The client is gone; the server notices when its input ends.
                        return;
                    }
                }
            })?;
        Ok(Transport {
            incoming: in_rx,
            outgoing: out_tx,
            writer,
        })
    }

    /// Flushes what was sent and stops the writer. The reader is left alone: it may be
    /// blocked on an input the client never closes, and the process is about to end.
    pub fn finish(self) {
        drop(self.outgoing);
        let _ = self.writer.join();
    }
}

fn write_one(out: &mut impl Write, m: &Outgoing) -> io::Result<()> {
    match m {
        Outgoing::Message(m) => m.write(out),
        Outgoing::ErrorWithoutId { code, message } => {
            let body = serde_json::json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": {"code": code, "message": message},
            })
            .to_string();
            write!(out, "Content-Length: {}\r\n\r\n{body}", body.len())?;
            out.flush()
        }
    }
}

/// One frame as read.
#[derive(Debug, PartialEq)]
enum Frame {
    Body(Vec<u8>),
    /// Headers without a usable `Content-Length`, or a body over [`MAX_MESSAGE`] (skipped).
    Bad(String),
    Eof,
}

fn read_loop(mut input: impl BufRead, tx: &Sender<Incoming>) {
    loop {
        let frame = match read_frame(&mut input) {
            Ok(f) => f,
            // A read error (not a bad frame) means stdin is unusable: treat it as its end.
            Err(_) => Frame::Eof,
        };
        let incoming = match frame {
            Frame::Eof => return,
            Frame::Bad(why) => Incoming::Malformed { why, id: None },
            Frame::Body(bytes) => parse(&bytes),
        };
        let exit =
            matches!(&incoming, Incoming::Message(Message::Notification(n)) if n.method == "exit");
        if tx.send(incoming).is_err() || exit {
            return;
        }
    }
}

/// A payload as a message, or why it is not one.
fn parse(bytes: &[u8]) -> Incoming {
    let value: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return Incoming::Malformed {
                why: format!("not JSON ({e}): {}", excerpt(bytes)),
                id: None,
            };
        }
    };
    let id = value
        .get("id")
        .and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok());
    match serde_json::from_value::<Message>(value) {
        Ok(m) => Incoming::Message(m),
        Err(e) => Incoming::Malformed {
            why: format!("not a JSON-RPC message ({e}): {}", excerpt(bytes)),
            id,
        },
    }
}

/// The start of a payload, for a log line.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    let more = if bytes.len() > 200 { "..." } else { "" };
    format!("{text}{more}")
}

/// Reads one frame: header lines up to an empty line, then `Content-Length` bytes. Header
/// lines may end in `\r\n` or `\n`; a `Content-Length:` after garbage on its line is still
/// found, so the stream resynchronises after a broken frame.
fn read_frame(input: &mut impl BufRead) -> io::Result<Frame> {
    let mut length: Option<Result<usize, String>> = None;
    let mut line = Vec::new();
    let mut any = false;
    loop {
        line.clear();
        // Header lines are short; a line that never ends is cut (and is garbage anyway).
        let n = input
            .by_ref()
            .take(64 * 1024)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(if any {
                Frame::Bad("input ended inside a header".into())
            } else {
                Frame::Eof
            });
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if !any {
                continue; // stray blank lines between frames
            }
            break;
        }
        any = true;
        let lower = text.to_ascii_lowercase();
        if let Some(at) = lower.find("content-length:") {
            let value = text[at + "content-length:".len()..].trim();
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| format!("bad Content-Length {value:?}")),
            );
        }
    }
    let size = match length {
        None => return Ok(Frame::Bad("a message without Content-Length".into())),
        Some(Err(why)) => return Ok(Frame::Bad(why)),
        Some(Ok(n)) => n,
    };
    if size > MAX_MESSAGE {
        io::copy(&mut input.by_ref().take(size as u64), &mut io::sink())?;
        return Ok(Frame::Bad(format!(
            "a message of {size} bytes (more than {MAX_MESSAGE}) was skipped"
        )));
    }
    let mut body = Vec::with_capacity(size);
    input.by_ref().take(size as u64).read_to_end(&mut body)?;
    if body.len() < size {
        return Ok(Frame::Bad("input ended inside a message".into()));
    }
    Ok(Frame::Body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Frame> {
        let mut r = io::BufReader::new(input);
        let mut out = Vec::new();
        loop {
            let f = read_frame(&mut r).unwrap();
            if f == Frame::Eof {
                return out;
            }
            out.push(f);
        }
    }

    #[test]
    fn frames_resynchronise_after_garbage() {
        let good = br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        let mut input = Vec::new();
        input.extend_from_slice(format!("Content-Length: {}\r\n\r\n", good.len()).as_bytes());
        input.extend_from_slice(good);
        input.extend_from_slice(b"Content-Type: x\r\n\r\n");
        input.extend_from_slice(b"Content-Length: lots\r\n\r\n");
        input.extend_from_slice(format!("garbage content-length: {}\n\n", good.len()).as_bytes());
        input.extend_from_slice(good);
        input.extend_from_slice(b"Content-Length: 99999999999\r\n\r\n{}");
        let got = frames(&input);
        assert_eq!(got.len(), 5, "{got:?}");
        assert_eq!(got[0], Frame::Body(good.to_vec()));
        assert!(matches!(&got[1], Frame::Bad(w) if w.contains("without Content-Length")));
        assert!(matches!(&got[2], Frame::Bad(w) if w.contains("lots")));
        assert_eq!(got[3], Frame::Body(good.to_vec()));
        assert!(matches!(&got[4], Frame::Bad(w) if w.contains("skipped")));
    }

    #[test]
    fn payloads_that_are_not_messages_keep_their_id() {
        assert!(matches!(parse(b"{]"), Incoming::Malformed { id: None, .. }));
        let Incoming::Malformed { id, why } = parse(br#"{"id":7,"method":3}"#) else {
            panic!("accepted")
        };
        assert_eq!(id, Some(RequestId::from(7)));
        assert!(why.contains("not a JSON-RPC message"), "{why}");
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","id":"a","method":"shutdown"}"#),
            Incoming::Message(Message::Request(_))
        ));
    }
}
