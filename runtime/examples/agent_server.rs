//! A live agent server: each user starts simulated agent runs and watches their own events
//! stream in over a WebSocket. Nobody else's.
//!
//! The system this replaces kept one WebSocket bridge for the whole process and sent every
//! run's events to whoever was connected. Here identity comes only from a signed bearer token
//! (HMAC-SHA256), each request gets its own agent built by a per-request factory
//! (`#[derive(RequestScoped)]`), its own emitter, and its events go to the hub entry of the
//! user the runtime stamped on them.
//!
//! ```text
//! cargo run -p isolate --features axum --example agent_server
//! ```
//!
//! It listens on 127.0.0.1:3000 (`--port N` to change; `0` picks a free port) and prints a
//! link per demo user (alice, bob) with a token in the URL fragment, which the browser never
//! sends to the server. Open both, start runs, and watch each page show only its own events.
//! `AGENT_SERVER_SECRET` (at least 32 bytes) fixes the signing secret; otherwise a random one
//! is used and tokens last as long as the process.
//!
//! Routes: `GET /` (the page), `POST /runs` (`{"prompt": ..}` -> `202 {"run_id": ..}`),
//! `DELETE /runs/{run}` (cancel one of your runs), `GET /ws` (your events;
//! `?last_seq=RUN:SEQ` resumes after a reconnect).
#![cfg_attr(loom, allow(dead_code))]

#[cfg(not(loom))]
fn main() -> std::process::ExitCode {
    app::main_with_args(std::env::args().skip(1).collect())
}

#[cfg(loom)]
fn main() {}

#[cfg(not(loom))]
pub mod app {
    use std::process::ExitCode;
    use std::sync::Arc;
    use std::time::{Duration, Instant, SystemTime};

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::{Path, State};
    use axum::http::{StatusCode, header};
    use axum::response::{Html, IntoResponse, Response};
    use axum::routing::{delete, get, post};
    use isolate::agent::AgentEvent;
    use isolate::axum::{HmacTokens, IsolateLayer, Isolated, StreamConfig, event_stream};
    use isolate::hub::{HubConfig, HubError, LocalHub};
    use isolate::{
        Authority, ContextError, EmitError, EventEmitter, Frozen, RequestContext, RequestScope,
        RequestScoped, RunId, Runtime, RuntimeConfig, Sealed, ThreadId, UserId,
    };
    use serde::Deserialize;
    use serde_json::json;
    use tokio::net::TcpListener;

    /// The page: a token, a prompt, a start button and the live event list.
    pub const PAGE: &str = include_str!("agent_server.html");

    /// The demo users the server prints links for.
    pub const DEMO_USERS: [&str; 2] = ["alice", "bob"];

    /// How the simulated agent behaves: built once, never changed, shared by every request.
    #[derive(Frozen, Debug)]
    pub struct AgentSettings {
        /// The agent's name, in `agent_started`.
        pub name: String,
        /// The tools it calls, in turn.
        pub tools: Vec<String>,
        /// How long each tool call takes.
        pub tool_delay_ms: u64,
        /// How long a run may take before the agent gives up with `agent_timeout`.
        pub budget_ms: u64,
    }

    impl Default for AgentSettings {
        fn default() -> Self {
            Self {
                name: "travel-agent".into(),
                tools: vec!["search".into(), "compare".into(), "summarise".into()],
                tool_delay_ms: 400,
                budget_ms: 60_000,
            }
        }
    }

    /// What `POST /runs` takes. Unknown fields are refused: a `user_id` in the body is an
    /// error, not an identity.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Task {
        /// What to work on (1 to 2,000 characters).
        pub prompt: String,
        /// Tool calls to make (1 to 20; default 3).
        #[serde(default = "Task::default_tools")]
        pub tools: usize,
        /// `progress_update` events to emit while thinking (0 to 5,000; default 0).
        #[serde(default)]
        pub progress_updates: u64,
        /// Make this tool call (1-based) fail with `agent_error`.
        #[serde(default)]
        pub fail_at_tool: Option<usize>,
        /// Give up with `agent_timeout` after this long (at most the server's budget).
        #[serde(default)]
        pub budget_ms: Option<u64>,
    }

    impl Task {
        fn default_tools() -> usize {
            3
        }

        /// Parses and checks a request body.
        pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
            let task: Self = serde_json::from_slice(body)
                .map_err(|e| ApiError::BadRequest(format!("invalid body: {e}")))?;
            let chars = task.prompt.chars().count();
            if !(1..=2000).contains(&chars) {
                return Err(ApiError::BadRequest(
                    "prompt must have 1 to 2000 characters".into(),
                ));
            }
            if !(1..=20).contains(&task.tools) {
                return Err(ApiError::BadRequest("tools must be 1 to 20".into()));
            }
            if task.progress_updates > 5000 {
                return Err(ApiError::BadRequest(
                    "progress_updates must be at most 5000".into(),
                ));
            }
            Ok(task)
        }
    }

    /// The simulated agent: one per request, made by its factory from the frozen settings,
    /// this request's context and this request's emitter. `transcript` used to be a shared
    /// `run_history`; now it starts empty for every run.
    #[derive(RequestScoped)]
    pub struct SimulatedAgent<'r> {
        #[isolate(shared)]
        settings: &'r AgentSettings,
        #[isolate(context)]
        ctx: &'r RequestContext,
        #[isolate(emitter)]
        events: &'r EventEmitter,
        transcript: Vec<String>,
        _seal: Sealed<'r>,
    }

    impl SimulatedAgent<'_> {
        /// Works on `task` within the agent's budget: thinking, then tool calls with short
        /// delays, then the answer; `agent_timeout` if the budget runs out.
        pub async fn run(&mut self, task: &Task) -> Result<(), EmitError> {
            let budget = Duration::from_millis(
                task.budget_ms
                    .unwrap_or(self.settings.budget_ms)
                    .min(self.settings.budget_ms),
            );
            match tokio::time::timeout(budget, self.work(task)).await {
                Ok(result) => result,
                Err(_) => self.events.emit(AgentEvent::timeout(budget)).map(drop),
            }
        }

        async fn work(&mut self, task: &Task) -> Result<(), EmitError> {
            let prompt = task.prompt.as_str();
            self.events.emit(AgentEvent::started(
                self.settings.name.as_str(),
                json!({ "prompt": prompt, "run_id": self.ctx.run_id().as_str() }),
            ))?;
            self.events
                .emit(AgentEvent::thinking(format!("Planning: {prompt}")))?;
            for step in 1..=task.progress_updates {
                self.events.emit(AgentEvent::progress(
                    step,
                    task.progress_updates,
                    format!("reading sources for {prompt}"),
                ))?;
                // Emitting never waits; a long burst still lets other requests run.
                if step.is_multiple_of(64) {
                    tokio::task::yield_now().await;
                }
            }
            let delay = Duration::from_millis(self.settings.tool_delay_ms);
            for call in 1..=task.tools {
                let tool = &self.settings.tools[(call - 1) % self.settings.tools.len()];
                self.events.emit(AgentEvent::tool_executing(
                    tool.as_str(),
                    json!({ "query": prompt, "call": call }),
                ))?;
                let started = Instant::now();
                tokio::time::sleep(delay).await;
                if task.fail_at_tool == Some(call) {
                    self.events
                        .emit(AgentEvent::error(format!("{tool} failed on call {call}")))?;
                    return Ok(());
                }
                let summary = format!("{tool} found 3 results for {prompt}");
                self.transcript.push(summary.clone());
                self.events.emit(AgentEvent::tool_completed(
                    tool.as_str(),
                    json!({ "summary": summary }),
                    started.elapsed(),
                ))?;
            }
            self.events.emit(AgentEvent::completed(json!({
                "answer": format!("Done: {prompt}"),
                "steps": self.transcript.len(),
            })))?;
            Ok(())
        }
    }

    /// Why a request failed, as an HTTP status and a JSON `{"error": ..}`.
    #[derive(Debug, thiserror::Error)]
    pub enum ApiError {
        /// The body or an id is malformed.
        #[error("{0}")]
        BadRequest(String),
        /// An id did not validate.
        #[error("invalid request: {0}")]
        Context(#[from] ContextError),
        /// The hub refused the run.
        #[error("{0}")]
        Hub(#[from] HubError),
    }

    impl IntoResponse for ApiError {
        fn into_response(self) -> Response {
            let status = match &self {
                Self::BadRequest(_) | Self::Context(_) => StatusCode::BAD_REQUEST,
                Self::Hub(HubError::RunActive { .. }) => StatusCode::CONFLICT,
                Self::Hub(HubError::TooManyRuns { .. }) => StatusCode::TOO_MANY_REQUESTS,
                Self::Hub(HubError::NotAuthenticated) => StatusCode::UNAUTHORIZED,
                Self::Hub(_) => StatusCode::SERVICE_UNAVAILABLE,
            };
            json_response(status, &json!({ "error": self.to_string() }))
        }
    }

    fn json_response(status: StatusCode, value: &serde_json::Value) -> Response {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            value.to_string(),
        )
            .into_response()
    }

    /// What the handlers share: frozen data only. The runtime, the hub and the authority
    /// live in the layer.
    #[derive(Clone)]
    pub struct AppState {
        agents: Arc<SimulatedAgentFactory>,
    }

    /// `POST /runs`: starts a simulated agent for the caller (the token's user, never the
    /// body's) and answers at once with its run id; the events go to the caller's `/ws`.
    #[isolate::entry]
    async fn start_run(
        State(app): State<AppState>,
        isolated: Isolated,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        let task = Task::parse(&body)?;
        let run_id = Isolated::new_run_id();
        let thread = ThreadId::new(format!("thread-{run_id}"))?;
        let run = isolated.open(isolated.context(thread, run_id.clone()).build()?)?;
        let agents = Arc::clone(&app.agents);
        tokio::spawn(async move {
            // The outcome reaches the user's connections as `run_ended`.
            let _ = run
                .run(async |scope: &RequestScope| {
                    let mut agent = agents.create(scope);
                    agent.run(&task).await
                })
                .await;
        });
        Ok(json_response(
            StatusCode::ACCEPTED,
            &json!({ "run_id": run_id.as_str() }),
        ))
    }

    /// `DELETE /runs/{run}`: cancels one of the caller's own runs; `404` for any other run.
    #[isolate::entry]
    async fn cancel_run(isolated: Isolated, Path(run): Path<String>) -> StatusCode {
        match RunId::new(run) {
            Ok(run) if isolated.runtime().cancel(isolated.user(), &run) => StatusCode::ACCEPTED,
            _ => StatusCode::NOT_FOUND,
        }
    }

    async fn page() -> Html<&'static str> {
        Html(PAGE)
    }

    /// Everything the server is made of, configurable for tests.
    pub struct Options {
        /// The token signing secret (at least 32 bytes).
        pub secret: Vec<u8>,
        /// The simulated agent.
        pub agent: AgentSettings,
        /// The runtime's limits.
        pub runtime: RuntimeConfig,
        /// The hub's bounds.
        pub hub: HubConfig,
        /// The event stream's behaviour.
        pub stream: StreamConfig,
    }

    impl Options {
        /// The defaults with `secret`.
        pub fn new(secret: Vec<u8>) -> Self {
            Self {
                secret,
                agent: AgentSettings::default(),
                runtime: RuntimeConfig::default(),
                hub: HubConfig::default(),
                stream: StreamConfig::default(),
            }
        }
    }

    /// A built server: the router to serve, and handles for tests and monitoring.
    pub struct Server {
        /// The application.
        pub router: Router,
        /// Its hub (for stats).
        pub hub: LocalHub,
        /// Its runtime (for stats).
        pub runtime: Runtime,
        /// Issues tokens the server accepts.
        pub tokens: HmacTokens,
    }

    /// Builds the server.
    pub fn build(options: Options) -> Result<Server, String> {
        let tokens = HmacTokens::new(&options.secret).map_err(|e| e.to_string())?;
        if options.agent.tools.is_empty() {
            return Err("the agent needs at least one tool".into());
        }
        // The authority goes to the layer only: nothing else can mint a user.
        let authority = Authority::new();
        let runtime = Runtime::new(options.runtime, &authority);
        let hub = LocalHub::new(options.hub, &authority);
        let layer = IsolateLayer::new(
            tokens.clone(),
            authority,
            runtime.clone(),
            Arc::new(hub.clone()),
        )
        .stream_config(options.stream);
        let state = AppState {
            agents: Arc::new(SimulatedAgentFactory::new(options.agent)),
        };
        let api = Router::new()
            .route("/runs", post(start_run))
            .route("/runs/{run}", delete(cancel_run))
            .route("/ws", get(event_stream))
            .layer(layer)
            .with_state(state);
        let router = Router::new().route("/", get(page)).merge(api);
        Ok(Server {
            router,
            hub,
            runtime,
            tokens,
        })
    }

    /// A token for `user`, valid for `ttl`.
    pub fn token(tokens: &HmacTokens, user: &str, ttl: Duration) -> Result<String, ContextError> {
        Ok(tokens.issue(&UserId::new(user)?, SystemTime::now() + ttl))
    }

    fn secret_from_env() -> Result<Vec<u8>, String> {
        match std::env::var("AGENT_SERVER_SECRET") {
            Ok(secret) if secret.len() >= HmacTokens::MIN_SECRET_LEN => Ok(secret.into_bytes()),
            Ok(_) => Err(format!(
                "AGENT_SERVER_SECRET must be at least {} bytes",
                HmacTokens::MIN_SECRET_LEN
            )),
            Err(_) => {
                let mut secret = uuid::Uuid::new_v4().as_bytes().to_vec();
                secret.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
                Ok(secret)
            }
        }
    }

    fn port(args: &[String]) -> Result<u16, String> {
        match args {
            [] => Ok(3000),
            [flag, port] if flag == "--port" => port
                .parse()
                .map_err(|_| format!("--port takes a number from 0 to 65535, got {port:?}")),
            _ => Err("usage: agent_server [--port N]".into()),
        }
    }

    async fn serve(port: u16) -> Result<(), String> {
        let server = build(Options::new(secret_from_env()?))?;
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("agent_server listening on http://{addr}");
        println!("open one link per user (tokens valid 24 h):");
        for user in DEMO_USERS {
            let token = token(&server.tokens, user, Duration::from_secs(24 * 3600))
                .map_err(|e| e.to_string())?;
            println!("  {user:5}  http://{addr}/#token={token}");
        }
        axum::serve(listener, server.router)
            .await
            .map_err(|e| format!("server failed: {e}"))
    }

    /// Exit codes: 0 after a clean shutdown, 1 if serving failed, 2 for a usage error.
    pub fn main_with_args(args: Vec<String>) -> ExitCode {
        let port = match port(&args) {
            Ok(port) => port,
            Err(usage) => {
                eprintln!("{usage}");
                return ExitCode::from(2);
            }
        };
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                eprintln!("cannot start tokio: {error}");
                return ExitCode::FAILURE;
            }
        };
        match runtime.block_on(serve(port)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("{error}");
                ExitCode::FAILURE
            }
        }
    }
}
