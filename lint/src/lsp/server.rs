//! The lifecycle and the main loop: initialize, then messages, analyses and workspace loads
//! until `exit`.
//!
//! One thread owns all state. The workspace is loaded on a background thread (at initialize,
//! and again when a config file or the set of files changes) while the loop keeps answering;
//! until the first load is in, documents are only recorded. After that, a change marks its
//! document dirty, and once every waiting message is handled and the debounce window has
//! passed, the dirty documents' texts go to the workspace (one file re-parsed each), the
//! analysis runs, and every file whose findings differ from what the client has is published
//! (an empty list clears a file).

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError, never, select};
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{InitializeParams, MessageType, Url};
use serde_json::Value;

use super::Options;
use super::convert::{self, Encoding};
use super::debounce::Debounce;
use super::docs::Documents;
use super::handlers;
use super::transport::{Incoming, Outgoing, Transport};
use crate::report::Report;
use crate::{LoadError, Workspace, WorkspaceOptions};

/// Config files: saving one reloads the workspace.
pub(super) const CONFIG_FILES: &[&str] = &["isolate.toml", "Cargo.toml"];

/// A request's failure: a JSON-RPC error code and message.
pub(super) type Failure = (ErrorCode, String);

/// Sends to the client.
pub(super) struct Out {
    tx: crossbeam_channel::Sender<Outgoing>,
}

impl Out {
    pub fn send(&self, m: impl Into<Message>) {
        // A closed channel means the client is gone; the loop ends on its input.
        let _ = self.tx.send(Outgoing::Message(m.into()));
    }

    pub fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        self.send(Notification::new(N::METHOD.to_string(), params));
    }

    pub fn respond(&self, id: RequestId, result: Result<Value, Failure>) {
        self.send(match result {
            Ok(v) => Response::new_ok(id, v),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        });
    }

    /// A line in the client's log (`window/logMessage`) and on stderr, which editors keep in
    /// their language-server log too.
    pub fn log(&self, typ: MessageType, message: impl Into<String>) {
        let message = message.into();
        eprintln!("isolate lsp: {message}");
        self.notify::<lsp_types::notification::LogMessage>(lsp_types::LogMessageParams {
            typ,
            message,
        });
    }

    /// Answers input that is not a message: an error response (to its id if it had one) and
    /// a log line.
    fn malformed(&self, why: String, id: Option<RequestId>, may_log: bool) {
        let message = format!("ignored malformed input: {why}");
        match id {
            Some(id) => self.respond(id, Err((ErrorCode::InvalidRequest, message.clone()))),
            None => {
                let _ = self.tx.send(Outgoing::ErrorWithoutId {
                    code: ErrorCode::ParseError as i32,
                    message: message.clone(),
                });
            }
        }
        if may_log {
            self.log(MessageType::WARNING, message);
        } else {
            eprintln!("isolate lsp: {message}");
        }
    }
}

/// Serves the client behind `t`; returns the process exit code.
pub(super) fn serve(t: &Transport, options: Options) -> i32 {
    let out = Out {
        tx: t.outgoing.clone(),
    };
    // Before `initialize`: requests are refused, notifications dropped, `exit` ends.
    let (id, params) = loop {
        let Ok(incoming) = t.incoming.recv() else {
            return 1;
        };
        match incoming {
            Incoming::Malformed { why, id } => out.malformed(why, id, false),
            Incoming::Message(Message::Request(r)) if r.method == "initialize" => {
                match serde_json::from_value::<InitializeParams>(r.params) {
                    Ok(p) => break (r.id, p),
                    Err(e) => out.respond(
                        r.id,
                        Err((
                            ErrorCode::InvalidParams,
                            format!("bad initialize params: {e}"),
                        )),
                    ),
                }
            }
            Incoming::Message(Message::Request(r)) => out.respond(
                r.id,
                Err((
                    ErrorCode::ServerNotInitialized,
                    format!("`{}` before `initialize`", r.method),
                )),
            ),
            Incoming::Message(Message::Notification(n)) if n.method == "exit" => return 1,
            Incoming::Message(_) => {}
        }
    };
    let mut server = Server::new(out, options, &params);
    server.out.respond(
        id,
        Ok(serde_json::to_value(server.capabilities()).unwrap_or_default()),
    );
    server.start_load();
    server.run(&t.incoming)
}

/// What a background load sends back.
type Loaded = (Result<Workspace, LoadError>, Duration);

pub(super) struct Server {
    pub out: Out,
    pub enc: Encoding,
    /// The workspace folders (absolute); empty for a client without any.
    folders: Vec<PathBuf>,
    /// The client can be asked to watch files for us.
    can_watch: bool,
    pub ws: Workspace,
    /// The first load is in: analyses may run.
    ready: bool,
    loading: Option<Receiver<Loaded>>,
    /// Another load was asked for while one ran.
    reload_again: bool,
    pub docs: Documents,
    pub debounce: Debounce,
    /// The last analysis.
    pub report: Report,
    /// What the client has, by file.
    published: HashMap<Url, Vec<lsp_types::Diagnostic>>,
    /// The document version each open file was last analysed at.
    analysed_version: HashMap<PathBuf, i32>,
    /// A config file that stopped the last load, as a diagnostic in it.
    config_error: Option<(Url, lsp_types::Diagnostic)>,
    /// The last parse error logged per file (logged again only when it changes).
    parse_errors: HashMap<PathBuf, String>,
    shutdown: bool,
    next_id: i32,
}

impl Server {
    fn new(out: Out, options: Options, params: &InitializeParams) -> Server {
        let caps = &params.capabilities;
        let enc = Encoding::negotiate(
            caps.general
                .as_ref()
                .and_then(|g| g.position_encodings.as_deref()),
        );
        let mut folders: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| convert::path_of(&f.uri))
            .collect();
        #[allow(deprecated, reason = "rootPath is what old clients send")]
        if folders.is_empty() {
            folders.extend(
                params
                    .root_uri
                    .as_ref()
                    .and_then(convert::path_of)
                    .or_else(|| params.root_path.as_ref().map(PathBuf::from)),
            );
        }
        folders.retain(|f| f.is_absolute());
        let can_watch = caps
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        Server {
            out,
            enc,
            can_watch,
            ws: Workspace::new(workspace_options(&folders)),
            folders,
            ready: false,
            loading: None,
            reload_again: false,
            docs: Documents::default(),
            debounce: Debounce::new(options.debounce),
            report: Report::default(),
            published: HashMap::new(),
            analysed_version: HashMap::new(),
            config_error: None,
            parse_errors: HashMap::new(),
            shutdown: false,
            next_id: 0,
        }
    }

    fn capabilities(&self) -> lsp_types::InitializeResult {
        use lsp_types::*;
        InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(self.enc.kind()),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        will_save: None,
                        will_save_wait_until: None,
                        save: Some(SaveOptions::default().into()),
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        resolve_provider: Some(false),
                        work_done_progress_options: WorkDoneProgressOptions::default(),
                    },
                )),
                workspace: Some(WorkspaceServerCapabilities {
                    workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                        supported: Some(true),
                        change_notifications: Some(OneOf::Left(true)),
                    }),
                    file_operations: None,
                }),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "isolate".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        }
    }

    /// The loop; returns the exit code.
    fn run(&mut self, incoming: &Receiver<Incoming>) -> i32 {
        loop {
            // Every waiting message first: changes queued behind an analysis coalesce.
            match incoming.try_recv() {
                Ok(m) => {
                    if let Some(code) = self.guarded_handle(m) {
                        return code;
                    }
                    continue;
                }
                Err(TryRecvError::Disconnected) => return self.closed_code(),
                Err(TryRecvError::Empty) => {}
            }
            let timer = match self.debounce.due() {
                Some(due) if self.ready => crossbeam_channel::at(due),
                _ => never(),
            };
            let loading = self.loading.clone().unwrap_or_else(never);
            select! {
                recv(incoming) -> m => match m {
                    Ok(m) => {
                        if let Some(code) = self.guarded_handle(m) {
                            return code;
                        }
                    }
                    Err(_) => return self.closed_code(),
                },
                recv(loading) -> loaded => match loaded {
                    Ok(loaded) => self.loaded(loaded),
                    Err(_) => {
                        self.loading = None;
                        self.ready = true;
                        self.out.log(MessageType::ERROR, "loading the workspace failed (the loader thread stopped)");
                    }
                },
                recv(timer) -> _ => {
                    if self.debounce.take(Instant::now()) {
                        self.guarded(|s| s.analyse());
                    }
                }
            }
        }
    }

    /// The client closed its end: as `exit` would.
    fn closed_code(&self) -> i32 {
        if self.shutdown { 0 } else { 1 }
    }

    /// Runs `f`, turning a panic (a bug, never expected) into a log line: one bad buffer or
    /// request must not take the server down with the user's other files.
    fn guarded<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> Option<R> {
        match catch_unwind(AssertUnwindSafe(|| f(self))) {
            Ok(r) => Some(r),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("a panic");
                self.out.log(
                    MessageType::ERROR,
                    format!("internal error (please report it): {what}"),
                );
                None
            }
        }
    }

    fn guarded_handle(&mut self, m: Incoming) -> Option<i32> {
        let id = match &m {
            Incoming::Message(Message::Request(r)) => Some(r.id.clone()),
            _ => None,
        };
        match self.guarded(|s| s.handle(m)) {
            Some(code) => code,
            None => {
                if let Some(id) = id {
                    self.out.respond(
                        id,
                        Err((
                            ErrorCode::InternalError,
                            "internal error; see the log".into(),
                        )),
                    );
                }
                None
            }
        }
    }

    /// One message; `Some(code)` when the server must exit.
    fn handle(&mut self, m: Incoming) -> Option<i32> {
        match m {
            Incoming::Malformed { why, id } => self.out.malformed(why, id, true),
            Incoming::Message(Message::Request(r)) => self.request(r),
            Incoming::Message(Message::Notification(n)) => return self.notification(n),
            Incoming::Message(Message::Response(r)) => {
                if let Err(e) = &r.response_result {
                    self.out.log(
                        MessageType::WARNING,
                        format!("the client refused request {}: {}", r.id, e.message),
                    );
                }
            }
        }
        None
    }

    fn request(&mut self, r: Request) {
        use lsp_types::request::*;
        if self.shutdown {
            let failure = (
                ErrorCode::InvalidRequest,
                format!("`{}` after `shutdown`", r.method),
            );
            return self.out.respond(r.id, Err(failure));
        }
        let result = match r.method.as_str() {
            Shutdown::METHOD => {
                self.shutdown = true;
                Ok(Value::Null)
            }
            Initialize::METHOD => Err((ErrorCode::InvalidRequest, "already initialized".into())),
            HoverRequest::METHOD => params(r.params).and_then(|p| handlers::hover(self, p)),
            CodeActionRequest::METHOD => {
                params(r.params).and_then(|p| handlers::code_actions(self, p))
            }
            other => Err((
                ErrorCode::MethodNotFound,
                format!("`{other}` is not supported"),
            )),
        };
        self.out.respond(r.id, result);
    }

    fn notification(&mut self, n: Notification) -> Option<i32> {
        use lsp_types::notification::*;
        if n.method == Exit::METHOD {
            return Some(self.closed_code());
        }
        if self.shutdown {
            return None;
        }
        let result = match n.method.as_str() {
            Initialized::METHOD => {
                self.watch_files();
                Ok(())
            }
            DidOpenTextDocument::METHOD => params(n.params).map(|p| handlers::did_open(self, p)),
            DidChangeTextDocument::METHOD => {
                params(n.params).map(|p| handlers::did_change(self, p))
            }
            DidSaveTextDocument::METHOD => params(n.params).map(|p| handlers::did_save(self, p)),
            DidCloseTextDocument::METHOD => params(n.params).map(|p| handlers::did_close(self, p)),
            DidChangeWatchedFiles::METHOD => {
                params(n.params).map(|p| handlers::watched_files_changed(self, p))
            }
            DidChangeWorkspaceFolders::METHOD => params(n.params).map(|p| self.folders_changed(p)),
            // `$/cancelRequest` (requests are answered in order, at once), `$/setTrace`,
            // configuration changes (settings live in isolate.toml) and anything else.
            _ => Ok(()),
        };
        if let Err((_, why)) = result {
            self.out.log(
                MessageType::WARNING,
                format!("ignored `{}`: {why}", n.method),
            );
        }
        None
    }

    /// Asks the client to tell us about `.rs` and config files changed on disk (by git, a
    /// formatter, another editor), where it can.
    fn watch_files(&mut self) {
        use lsp_types::*;
        if !self.can_watch {
            return;
        }
        let watchers = ["**/*.rs", "**/isolate.toml", "**/Cargo.toml"]
            .into_iter()
            .map(|g| FileSystemWatcher {
                glob_pattern: GlobPattern::String(g.into()),
                kind: None,
            })
            .collect();
        let params = RegistrationParams {
            registrations: vec![Registration {
                id: "isolate-watched-files".into(),
                method: notification::DidChangeWatchedFiles::METHOD.into(),
                register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions {
                    watchers,
                })
                .ok(),
            }],
        };
        self.next_id += 1;
        self.out.send(Request::new(
            RequestId::from(format!("isolate-{}", self.next_id)),
            request::RegisterCapability::METHOD.into(),
            params,
        ));
    }

    fn folders_changed(&mut self, p: lsp_types::DidChangeWorkspaceFoldersParams) {
        let removed: Vec<PathBuf> = p
            .event
            .removed
            .iter()
            .filter_map(|f| convert::path_of(&f.uri))
            .collect();
        self.folders.retain(|f| !removed.contains(f));
        for added in p
            .event
            .added
            .iter()
            .filter_map(|f| convert::path_of(&f.uri))
        {
            if !self.folders.contains(&added) {
                self.folders.push(added);
            }
        }
        self.start_load();
    }

    /// Loads the workspace folders on a background thread (the current workspace serves until
    /// the new one is in).
    pub fn start_load(&mut self) {
        if self.loading.is_some() {
            self.reload_again = true;
            return;
        }
        let folders: Vec<PathBuf> = self
            .folders
            .iter()
            .filter(|f| f.is_dir())
            .cloned()
            .collect();
        let (tx, rx) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new()
            .name("isolate-lsp-load".into())
            .spawn(move || {
                let started = Instant::now();
                let loaded = load(&folders);
                let _ = tx.send((loaded, started.elapsed()));
            });
        match spawned {
            Ok(_) => self.loading = Some(rx),
            Err(e) => {
                self.out.log(
                    MessageType::WARNING,
                    format!("cannot start a loader thread ({e}); loading on the main thread"),
                );
                let started = Instant::now();
                let loaded = load(&self.folders);
                self.loaded((loaded, started.elapsed()));
            }
        }
    }

    fn loaded(&mut self, (result, took): Loaded) {
        self.loading = None;
        self.ready = true;
        self.config_error = None;
        match result {
            Ok(ws) => {
                self.out.log(
                    MessageType::INFO,
                    format!(
                        "loaded {} files from {} in {:.2} s",
                        ws.sources().len(),
                        shown(&self.folders),
                        took.as_secs_f64()
                    ),
                );
                self.ws = ws;
                self.analysed_version.clear();
            }
            Err(LoadError::Config(failure)) => {
                let message = failure.to_string();
                self.out.log(
                    MessageType::ERROR,
                    format!("{message}; the previous configuration stays in use"),
                );
                self.config_error = convert::config_diagnostic(&failure, self.enc);
            }
            Err(e) => self.out.log(
                MessageType::ERROR,
                format!("cannot load the workspace: {e}"),
            ),
        }
        // Open documents' texts win over the disk's.
        self.docs.mark_all_dirty();
        self.debounce.now(Instant::now());
        if std::mem::take(&mut self.reload_again) {
            self.start_load();
        }
    }

    /// Analyses now if a document changed since the last analysis (before answering a request
    /// about findings, so that it sees the text the client sees).
    pub fn flush(&mut self) {
        if self.ready && (self.docs.any_dirty() || self.debounce.pending()) {
            self.analyse();
        }
    }

    /// Whether an open document is linted: known to the workspace, or outside every folder (a
    /// loose file), but not a new file under a folder in a place the walk skips (`target/`,
    /// hidden directories).
    fn lints(&self, path: &Path) -> bool {
        if self.ws.file_id(path).is_some() {
            return true;
        }
        let Some(folder) = self.folders.iter().find(|f| path.starts_with(f)) else {
            return true;
        };
        let rel = path.strip_prefix(folder).unwrap_or(path);
        !rel.parent()
            .into_iter()
            .flat_map(Path::components)
            .any(|c| {
                let c = c.as_os_str().to_string_lossy();
                c == "target" || c.starts_with('.')
            })
    }

    /// Hands the changed documents to the workspace, analyses, and publishes what changed.
    pub fn analyse(&mut self) {
        let dirty: Vec<(PathBuf, String)> = self
            .docs
            .take_dirty()
            .into_iter()
            .map(|(p, t)| (p, t.to_string()))
            .collect();
        for (path, text) in dirty {
            if !self.lints(&path) {
                continue;
            }
            match self.ws.update_file_text(&path, &text) {
                Ok(_) => {
                    if let Some(d) = self.docs.get(&path) {
                        self.analysed_version.insert(path.clone(), d.version);
                    }
                    self.parse_errors.remove(&path);
                }
                Err(why) => {
                    if self.parse_errors.get(&path) != Some(&why) {
                        self.out.log(
                            MessageType::INFO,
                            format!(
                                "{}: {why} (its findings are those of its last text that parsed)",
                                path.display()
                            ),
                        );
                        self.parse_errors.insert(path, why);
                    }
                }
            }
        }
        let report = self.ws.analyse();
        self.publish(&report);
        self.report = report;
        self.debounce.ran(Instant::now());
    }

    fn publish(&mut self, report: &Report) {
        let mut next: HashMap<Url, Vec<lsp_types::Diagnostic>> = HashMap::new();
        let mut texts = convert::Texts::new(&self.ws);
        for d in &report.diagnostics {
            let Some(uri) = convert::uri_of(&self.ws.sources().path(d.primary.file).abs) else {
                continue;
            };
            let diagnostic = convert::diagnostic(d, &mut texts, self.enc);
            next.entry(uri).or_default().push(diagnostic);
        }
        if let Some((uri, d)) = &self.config_error {
            next.entry(uri.clone()).or_default().push(d.clone());
        }
        let mut uris: Vec<&Url> = next.keys().chain(self.published.keys()).collect();
        uris.sort();
        uris.dedup();
        for uri in uris {
            let now = next.get(uri);
            if now == self.published.get(uri) {
                continue;
            }
            let version =
                convert::path_of(uri).and_then(|p| self.analysed_version.get(&p).copied());
            self.out
                .notify::<lsp_types::notification::PublishDiagnostics>(
                    lsp_types::PublishDiagnosticsParams {
                        uri: uri.clone(),
                        diagnostics: now.cloned().unwrap_or_default(),
                        version,
                    },
                );
        }
        self.published = next;
    }
}

/// The workspace options for `folders`.
fn workspace_options(folders: &[PathBuf]) -> WorkspaceOptions {
    WorkspaceOptions {
        paths: folders.to_vec(),
        cwd: folders.first().cloned(),
        ..WorkspaceOptions::default()
    }
}

/// Reads `folders` from disk (an empty workspace when there are none, or no `.rs` file in
/// them: documents opened later are added one by one).
fn load(folders: &[PathBuf]) -> Result<Workspace, LoadError> {
    let opts = workspace_options(folders);
    if folders.is_empty() {
        return Ok(Workspace::new(opts));
    }
    match Workspace::load(opts.clone(), &|_, _| {}) {
        Err(LoadError::NoFiles(_)) => Ok(Workspace::new(opts)),
        other => other,
    }
}

fn shown(folders: &[PathBuf]) -> String {
    if folders.is_empty() {
        return "no workspace folder".into();
    }
    let shown: Vec<String> = folders.iter().map(|f| f.display().to_string()).collect();
    shown.join(", ")
}

/// A message's params, or an `InvalidParams` failure.
fn params<P: serde::de::DeserializeOwned>(v: Value) -> Result<P, Failure> {
    serde_json::from_value(v).map_err(|e| (ErrorCode::InvalidParams, format!("bad params: {e}")))
}
