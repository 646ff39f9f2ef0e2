//! `cargo isolate lsp`: the linter as a language server over stdio, for editors.
//!
//! - [`transport`]: JSON-RPC framing on stdin/stdout, tolerant of malformed input;
//! - [`server`]: the lifecycle (initialize, shutdown, exit), the main loop, loading the
//!   workspace folders (once, in the background; again when a config file changes), analysing
//!   and publishing what changed;
//! - [`handlers`]: one function per notification and request (documents, saves, watched files,
//!   hover, code actions);
//! - [`docs`]: the open documents, their unsaved texts and incremental edits;
//! - [`convert`]: position encodings (UTF-16 by default, UTF-8 or UTF-32 when the client
//!   offers them), line indexes, URIs, findings as LSP diagnostics;
//! - [`debounce`]: when a change is analysed.
//!
//! The workspace is read from disk once, at initialize; after that an open document's text only
//! ever comes from the editor ([`crate::Workspace::set_file_text`]), and a change re-parses that
//! one file before the cross-file analysis runs again over the facts in memory.

mod convert;
mod debounce;
mod docs;
mod handlers;
mod server;
mod transport;

use std::time::Duration;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The debounce window: a change within it of the last analysis waits until no change came
    /// for this long (an isolated change is analysed at once; see `debounce.rs`).
    pub debounce: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            debounce: Duration::from_millis(DEFAULT_DEBOUNCE_MS),
        }
    }
}

/// The default debounce window, in milliseconds.
pub const DEFAULT_DEBOUNCE_MS: u64 = 50;

/// Serves one client on stdin/stdout until it says `exit` or goes away, and returns the exit
/// code: 0 after `shutdown` then `exit`, 1 when the client exits without asking to shut down
/// first or closes the connection (as the protocol says).
pub fn run_stdio(options: Options) -> i32 {
    let transport = match transport::Transport::stdio() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot start the language server's I/O threads: {e}");
            return 2;
        }
    };
    let code = server::serve(&transport, options);
    transport.finish();
    code
}
