//! [`IsolateLayer`]: authenticates every request, gives it a request id, and hands handlers an
//! [`Isolated`] through the request's extensions.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::axum::http::header::WWW_AUTHENTICATE;
use ::axum::http::{HeaderName, HeaderValue, Request, StatusCode};
use ::axum::response::{IntoResponse, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::auth::{Authenticate, query_has_credentials};
use super::extract::Isolated;
use super::ws::StreamConfig;
use crate::auth::Authority;
use crate::hub::Hub;
use crate::ids::RequestId;
use crate::runtime::Runtime;

/// The response header carrying the request's id (on every response, `401` included).
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A tower [`Layer`] that authenticates each request with an [`Authenticate`] implementation,
/// mints the [`AuthenticatedUser`](crate::AuthenticatedUser) with the application's
/// [`Authority`], gives the request a fresh [`RequestId`] (echoed in
/// [`x-request-id`](REQUEST_ID_HEADER)), and hands handlers an [`Isolated`].
///
/// A request is answered `401` (with `WWW-Authenticate: Bearer`, the request id and an empty
/// body) and never reaches a handler if the authenticator refuses it, or if its query string
/// carries a parameter named like a credential (`token`, `access_token`, `api_key`, ...):
/// credentials in URLs leak into logs.
///
/// The layer owns the `Authority`: give it the authority the [`Runtime`] and [`Hub`] were
/// made with, and nothing else in the application can mint a user.
///
/// ```
/// use std::sync::Arc;
/// use axum::{Router, routing::{get, post}};
/// use isolate::axum::{HmacTokens, IsolateLayer, Isolated, event_stream};
/// use isolate::hub::{HubConfig, LocalHub};
/// use isolate::{Authority, Runtime, RuntimeConfig};
///
/// async fn whoami(isolated: Isolated) -> String {
///     isolated.user_id().to_string()
/// }
///
/// let authority = Authority::new();
/// let runtime = Runtime::new(RuntimeConfig::default(), &authority);
/// let hub = Arc::new(LocalHub::new(HubConfig::default(), &authority));
/// let tokens = HmacTokens::new(b"a server secret of at least 32 bytes!").unwrap();
/// let app: Router = Router::new()
///     .route("/whoami", get(whoami))
///     .route("/ws", get(event_stream))
///     .layer(IsolateLayer::new(tokens, authority, runtime, hub));
/// ```
pub struct IsolateLayer<A> {
    shared: Arc<Shared<A>>,
    stream: Arc<StreamConfig>,
}

struct Shared<A> {
    authenticator: A,
    authority: Authority,
    runtime: Runtime,
    hub: Arc<dyn Hub>,
}

impl<A: Authenticate> IsolateLayer<A> {
    /// A layer authenticating with `authenticator`, minting users with `authority`, running
    /// requests in `runtime` with their events going to `hub`.
    pub fn new(
        authenticator: A,
        authority: Authority,
        runtime: Runtime,
        hub: Arc<dyn Hub>,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                authenticator,
                authority,
                runtime,
                hub,
            }),
            stream: Arc::new(StreamConfig::default()),
        }
    }

    /// Sets how [`event_stream`](super::event_stream) connections behave.
    #[must_use]
    pub fn stream_config(mut self, config: StreamConfig) -> Self {
        self.stream = Arc::new(config);
        self
    }
}

impl<A> Clone for IsolateLayer<A> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            stream: Arc::clone(&self.stream),
        }
    }
}

impl<A> std::fmt::Debug for IsolateLayer<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsolateLayer").finish_non_exhaustive()
    }
}

impl<S, A> Layer<S> for IsolateLayer<A> {
    type Service = IsolateService<S, A>;

    fn layer(&self, inner: S) -> Self::Service {
        IsolateService {
            inner,
            shared: Arc::clone(&self.shared),
            stream: Arc::clone(&self.stream),
        }
    }
}

/// The service [`IsolateLayer`] wraps around each route.
pub struct IsolateService<S, A> {
    inner: S,
    shared: Arc<Shared<A>>,
    stream: Arc<StreamConfig>,
}

impl<S: Clone, A> Clone for IsolateService<S, A> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
            stream: Arc::clone(&self.stream),
        }
    }
}

impl<S, A> std::fmt::Debug for IsolateService<S, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsolateService").finish_non_exhaustive()
    }
}

impl<S, A, B> Service<Request<B>> for IsolateService<S, A>
where
    S: Service<Request<B>, Error = Infallible> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
    A: Authenticate,
    B: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone is not ready; the ready one goes with this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        let stream = Arc::clone(&self.stream);
        Box::pin(async move {
            let request_id = RequestId::generate();
            let credentials_in_url = request.uri().query().is_some_and(query_has_credentials);
            let user = if credentials_in_url {
                None
            } else {
                shared
                    .authenticator
                    .authenticate(request.headers())
                    .await
                    .ok()
                    .map(|user| shared.authority.vouch(user))
            };
            let mut response = match user {
                None => unauthorized(),
                Some(user) => {
                    request.extensions_mut().insert(Isolated::new(
                        user,
                        request_id.clone(),
                        shared.runtime.clone(),
                        Arc::clone(&shared.hub),
                        stream,
                    ));
                    match inner.call(request).await {
                        Ok(response) => response.into_response(),
                        Err(never) => match never {},
                    }
                }
            };
            if let Ok(value) = HeaderValue::from_str(request_id.as_str()) {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            Ok(response)
        })
    }
}

/// `401`, `WWW-Authenticate: Bearer`, no body: nothing about why.
fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
    )
        .into_response()
}
