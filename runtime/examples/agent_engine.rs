//! An agent engine built per request from frozen application dependencies, served by axum.
//!
//! The bug this replaces: one process-wide engine with `active_runs` / `run_history` maps that
//! every request wrote into, so under load one user's runs showed up in another's. Here the
//! application keeps only a frozen [`AgentEngineFactory`]; every request gets its own engine,
//! its own context (identity from the `Authorization` header, never from the path) and its own
//! event emitter.
//!
//! ```text
//! cargo run -p isolate --example agent_engine                # serve on 127.0.0.1:3000
//! cargo run -p isolate --example agent_engine -- --self-test # two users at once, checked
//! curl -H 'authorization: Bearer alice-token' -d 'hello' 127.0.0.1:3000/runs/run-1
//! ```
#![cfg_attr(loom, allow(dead_code))]

#[cfg(not(loom))]
fn main() -> std::process::ExitCode {
    app::main_with_args(std::env::args().skip(1).collect())
}

#[cfg(loom)]
fn main() {}

#[cfg(not(loom))]
pub mod app {
    use std::collections::{BTreeMap, HashMap};
    use std::net::SocketAddr;
    use std::process::ExitCode;
    use std::sync::Arc;

    use axum::Router;
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use isolate::{
        AuthenticatedUser, Authority, Configured, ContextError, EmitError, EventEmitter, Frozen,
        RequestContext, RequestScope, RequestScoped, RunError, RunId, Runtime, RuntimeConfig,
        Sealed, ThreadId, UserId,
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// Application dependencies: built once at startup, never changed, shared by all requests.
    #[derive(Frozen)]
    pub struct AgentConfig {
        pub model: String,
        pub system_prompt: String,
        pub tools: Vec<String>,
    }

    /// Demo authentication: bearer token -> user. Frozen like the rest of the app state; the
    /// ids in it are configuration, not a request's identity, hence `Configured`.
    #[derive(Frozen)]
    pub struct Tokens {
        users: BTreeMap<String, Configured<UserId>>,
    }

    /// What the engine reports while it works. `run_started` and `run_finished` are critical:
    /// a consumer may lose progress notes but never these.
    #[derive(Debug, serde::Serialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub enum AgentEvent {
        RunStarted { prompt: String },
        RunFinished { run: String },
    }

    impl isolate::Event for AgentEvent {
        fn critical(&self) -> bool {
            true
        }
    }

    /// One run's state inside one request's engine.
    #[derive(Debug, Default)]
    pub struct RunState {
        pub prompt: String,
        pub steps: Vec<String>,
    }

    /// The agent engine: one per request. `active_runs` and `run_history` used to be shared
    /// maps on a singleton; now they are fresh fields, so each request starts empty.
    #[derive(RequestScoped)]
    pub struct AgentEngine<'r> {
        #[isolate(shared)]
        config: &'r AgentConfig,
        #[isolate(context)]
        ctx: &'r RequestContext,
        #[isolate(emitter)]
        events: &'r EventEmitter,
        active_runs: HashMap<RunId, RunState>,
        run_history: Vec<String>,
        _seal: Sealed<'r>,
    }

    impl AgentEngine<'_> {
        /// Starts this request's run and reports what the engine holds afterwards.
        pub fn start(&mut self, prompt: &str) -> Result<String, EmitError> {
            let run = self.ctx.run_id().clone();
            let steps = self
                .config
                .tools
                .iter()
                .map(|tool| format!("{tool}({}; {prompt})", self.config.system_prompt))
                .collect();
            self.events.emit(AgentEvent::RunStarted {
                prompt: prompt.to_owned(),
            })?;
            self.active_runs.insert(
                run.clone(),
                RunState {
                    prompt: prompt.to_owned(),
                    steps,
                },
            );
            self.run_history.push(format!("{run}: {prompt}"));
            self.events.emit(AgentEvent::RunFinished {
                run: run.as_str().to_owned(),
            })?;
            Ok(self.report())
        }

        fn report(&self) -> String {
            let runs: Vec<String> = self
                .active_runs
                .iter()
                .map(|(run, state)| format!("{run}={} [{}]", state.prompt, state.steps.join(" ")))
                .collect();
            format!(
                "user={} model={} active_runs={} runs=[{}] history=[{}] events={}",
                self.ctx.user_id(),
                self.config.model,
                self.active_runs.len(),
                runs.join("; "),
                self.run_history.join("; "),
                self.events.emitted(),
            )
        }
    }

    /// The authentication layer: the only holder of the [`Authority`], so the only code that
    /// can turn a user id into an [`AuthenticatedUser`].
    pub struct Auth {
        tokens: Tokens,
        authority: Authority,
    }

    /// What the router shares: frozen data and the runtime, nothing per request.
    #[derive(Clone)]
    pub struct AppState {
        engines: Arc<AgentEngineFactory>,
        auth: Arc<Auth>,
        runtime: Runtime,
    }

    impl AppState {
        /// The demo app: two users, a small model and two tools.
        pub fn demo() -> Result<Self, ContextError> {
            let tokens = Tokens {
                users: BTreeMap::from([
                    (
                        "alice-token".to_owned(),
                        Configured::new(UserId::new("alice")?),
                    ),
                    ("bob-token".to_owned(), Configured::new(UserId::new("bob")?)),
                ]),
            };
            let config = AgentConfig {
                model: "small-agent".into(),
                system_prompt: "be brief".into(),
                tools: vec!["search".into(), "summarise".into()],
            };
            let authority = Authority::new();
            let runtime = Runtime::new(RuntimeConfig::default(), &authority);
            Ok(Self {
                engines: Arc::new(AgentEngineFactory::new(config)),
                auth: Arc::new(Auth { tokens, authority }),
                runtime,
            })
        }
    }

    /// Why a request failed, mapped onto an HTTP status.
    #[derive(Debug, thiserror::Error)]
    pub enum ApiError {
        #[error("missing or unknown bearer token")]
        Unauthenticated,
        #[error("invalid request: {0}")]
        BadRequest(#[from] ContextError),
        #[error("{0}")]
        Run(#[from] RunError),
        #[error("could not emit event: {0}")]
        Emit(#[from] EmitError),
    }

    impl IntoResponse for ApiError {
        fn into_response(self) -> Response {
            let status = match &self {
                Self::Unauthenticated => StatusCode::UNAUTHORIZED,
                Self::BadRequest(_) => StatusCode::BAD_REQUEST,
                Self::Run(RunError::AlreadyRunning { .. }) => StatusCode::CONFLICT,
                Self::Run(RunError::Rejected(_)) => StatusCode::TOO_MANY_REQUESTS,
                Self::Run(_) | Self::Emit(_) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            (status, self.to_string()).into_response()
        }
    }

    fn authenticate(auth: &Auth, headers: &HeaderMap) -> Result<AuthenticatedUser, ApiError> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated)?;
        let user = auth
            .tokens
            .users
            .get(token)
            .map(|user| user.get().clone())
            .ok_or(ApiError::Unauthenticated)?;
        // The token checked out: the one place where an id becomes a user who can act.
        Ok(auth.authority.vouch(user))
    }

    /// `POST /runs/{run}` with the prompt as body. The user comes from the token only.
    #[isolate::entry]
    async fn start_run(
        State(app): State<AppState>,
        Path(run): Path<String>,
        headers: HeaderMap,
        prompt: String,
    ) -> Result<String, ApiError> {
        let user = authenticate(&app.auth, &headers)?;
        let ctx = RequestContext::builder(
            user,
            ThreadId::new(format!("thread-{run}"))?,
            RunId::new(run)?,
        )
        .build()?;
        let engines = &app.engines;
        let report = app
            .runtime
            .run(ctx, async |scope: &RequestScope| {
                let mut engine = engines.create(scope);
                engine.start(&prompt)
            })
            .await??;
        Ok(report)
    }

    /// The router, ready to serve.
    pub fn router(state: AppState) -> Router {
        Router::new()
            .route("/runs/{run}", post(start_run))
            .with_state(state)
    }

    /// Why the self-test failed.
    #[derive(Debug, thiserror::Error)]
    pub enum SelfTestError {
        #[error("i/o: {0}")]
        Io(#[from] std::io::Error),
        #[error("setup: {0}")]
        Setup(#[from] ContextError),
        #[error("request task failed: {0}")]
        Join(#[from] tokio::task::JoinError),
        #[error("unexpected response for {user}: {response}")]
        Response { user: String, response: String },
    }

    /// Sends one HTTP/1.1 request and returns the raw response.
    async fn post_raw(
        addr: SocketAddr,
        path: &str,
        token: &str,
        body: &str,
    ) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(addr).await?;
        let request = format!(
            "POST {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
             content-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        Ok(response)
    }

    /// Serves on an ephemeral 127.0.0.1 port and has alice and bob start runs concurrently;
    /// every response must carry only its own user's data. Returns how many were checked.
    pub async fn self_test(rounds: usize) -> Result<usize, SelfTestError> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            axum::serve(listener, router(AppState::demo()?)).await?;
            Ok::<(), SelfTestError>(())
        });

        let mut requests = Vec::new();
        for round in 0..rounds {
            for (user, token) in [("alice", "alice-token"), ("bob", "bob-token")] {
                requests.push(tokio::spawn(async move {
                    let secret = format!("{user}-secret-{round}");
                    let path = format!("/runs/run-{round}");
                    let response = post_raw(addr, &path, token, &secret).await?;
                    Ok::<_, SelfTestError>((user, secret, response))
                }));
            }
        }
        let mut checked = 0;
        let mut secrets = Vec::new();
        let mut responses = Vec::new();
        for request in requests {
            let (user, secret, response) = request.await??;
            secrets.push(secret.clone());
            responses.push((user, secret, response));
        }
        for (user, secret, response) in &responses {
            let expected_head = format!("user={user} model=small-agent active_runs=1 ");
            let foreign = secrets
                .iter()
                .any(|other| other != secret && response.contains(other.as_str()));
            if !response.starts_with("HTTP/1.1 200")
                || !response.contains(&expected_head)
                || !response.contains(secret.as_str())
                || !response.contains("events=2")
                || foreign
            {
                return Err(SelfTestError::Response {
                    user: (*user).to_owned(),
                    response: response.clone(),
                });
            }
            checked += 1;
        }
        // Identity is never taken from the request body or path: no token, no run.
        let anonymous = post_raw(addr, "/runs/run-x", "nobody", "hi").await?;
        if !anonymous.starts_with("HTTP/1.1 401") {
            return Err(SelfTestError::Response {
                user: "nobody".into(),
                response: anonymous,
            });
        }
        server.abort();
        Ok(checked)
    }

    pub fn main_with_args(args: Vec<String>) -> ExitCode {
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
        if args.iter().any(|arg| arg == "--self-test") {
            return match runtime.block_on(self_test(10)) {
                Ok(checked) => {
                    println!(
                        "self-test passed: {checked} concurrent responses, each only its own user's data"
                    );
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("self-test failed: {error}");
                    ExitCode::FAILURE
                }
            };
        }
        let served = runtime.block_on(async {
            let listener = TcpListener::bind(("127.0.0.1", 3000)).await?;
            println!("listening on http://{}", listener.local_addr()?);
            axum::serve(listener, router(AppState::demo()?)).await?;
            Ok::<(), SelfTestError>(())
        });
        match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("server failed: {error}");
                ExitCode::FAILURE
            }
        }
    }
}
