//! [`TokenLayer`] and its service: the core's endpoint wrapped around any tower service.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum_core::body::Body;
use axum_core::extract::FromRequestParts;
use bytes::Bytes;
use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use cometgate::endpoint::Endpoint;
use cometgate::vend::{Gate, NoIdentity};
use cometgate::{Identity, Principal, Rejection};

use crate::auth::{Authenticate, ByExtractor, ByIdentity, IntoPrincipal};
use crate::body::{self, ResponseBody};
use crate::view::PartsView;

pub use cometgate::endpoint::{
    DEFAULT_BODY_LIMIT, DEFAULT_READ_TIMEOUT, DEFAULT_TOKEN_PATH as DEFAULT_PATH, InvalidPath,
};

pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// A tower [`Layer`] that adds the CometChat token endpoint to an existing service or axum
/// [`Router`], and passes every other request to it untouched.
///
/// It wraps any tower [`Service`] over `http::Request<B>` (an axum `Router`, a bare `hyper`
/// `service_fn`, any tower stack) and answers with [`ResponseBody`], which carries either its own
/// answers or the wrapped service's body untouched. The routes and their answers are the core's
/// ([`cometgate::endpoint`]): `POST {path}` (default [`DEFAULT_PATH`]) answers `200
/// {"authToken": "...", "uid": "..."}` with `Cache-Control: no-store`, or an RFC 9457
/// `application/problem+json` error. Requests to other paths reach the wrapped service exactly
/// as they came in (method, headers, extensions, body).
///
/// `I` is the [`Identity`] of the cometgate [`Gate`] that vends the tokens; `A` is how the
/// caller is identified: [`ByIdentity`] (the gate's own identity, via [`TokenLayer::new`]) or
/// [`ByExtractor`] (an axum extractor, via [`TokenLayer::from_extractor`]).
///
/// Add it with `Router::layer` **after** your routes (axum only wraps routes that already
/// exist) and **before** (inside) your auth layer, so that the auth layer runs first.
///
/// # Example
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use cometgate_axum::TokenLayer;
/// use http::{Request, StatusCode};
/// use tower::ServiceExt; // `oneshot`
/// # include!("../../cometgate/doc_stub.rs");
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// # let (_fake, gate) = demo_gate().await; // in an app: cometgate's `Gate`
///
/// let app = Router::new()
///     .route("/todos", get(|| async { "[]" }))
///     .layer(TokenLayer::new(gate));
///
/// // The token endpoint.
/// let response = app
///     .clone()
///     .oneshot(
///         Request::post("/cometchat-token")
///             .header("authorization", "Bearer alice")
///             .body(Body::empty())
///             .unwrap(),
///     )
///     .await
///     .unwrap();
/// assert_eq!(response.status(), StatusCode::OK);
///
/// // Only POST.
/// let response = app
///     .clone()
///     .oneshot(Request::get("/cometchat-token").body(Body::empty()).unwrap())
///     .await
///     .unwrap();
/// assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
/// assert_eq!(response.headers()["allow"], "POST");
///
/// // Everything else is the app's.
/// let response = app
///     .oneshot(Request::get("/todos").body(Body::empty()).unwrap())
///     .await
///     .unwrap();
/// assert_eq!(response.status(), StatusCode::OK);
/// # }
/// ```
pub struct TokenLayer<I = NoIdentity, A = ByIdentity> {
    endpoint: Endpoint<I>,
    auth: Arc<A>,
}

impl<I, A> Clone for TokenLayer<I, A> {
    fn clone(&self) -> Self {
        Self {
            endpoint: self.endpoint.clone(),
            auth: Arc::clone(&self.auth),
        }
    }
}

impl<I, A> fmt::Debug for TokenLayer<I, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenLayer")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl<I: Identity> TokenLayer<I, ByIdentity> {
    /// A layer that identifies callers with the gate's own [`Identity`], which reads the
    /// request head through a [`PartsView`](crate::PartsView). A gate built without
    /// `.identity(...)` does not compile here: use [`from_extractor`](TokenLayer::from_extractor).
    /// See the [type docs](TokenLayer) for an example.
    ///
    /// ```compile_fail
    /// # include!("../../cometgate/doc_stub.rs");
    /// # fn main() {
    /// let gate = offline_gate(); // built without `.identity(...)`
    /// let layer = cometgate_axum::TokenLayer::new(gate); // error: `NoIdentity: Identity` is not satisfied
    /// # }
    /// ```
    pub fn new(gate: Gate<I>) -> Self {
        Self::with_auth(gate, ByIdentity)
    }

    /// A layer around an [`Endpoint`] configured in the core (path, limits, allowed origins,
    /// problem base), identifying callers with its gate's own [`Identity`].
    pub fn from_endpoint(endpoint: Endpoint<I>) -> Self {
        Self {
            endpoint,
            auth: Arc::new(ByIdentity),
        }
    }
}

impl<I: Send + Sync + 'static> TokenLayer<I, ByExtractor<()>> {
    /// A layer that identifies callers with the app's own axum extractor `E` (for example its
    /// verified-claims type, `axum::Extension<Claims>`, or axum-login's `AuthSession`), converted
    /// with [`IntoPrincipal`]. `E` must extract without app state (`FromRequestParts<()>`, true
    /// of extractors generic over the state); otherwise use
    /// [`from_extractor_with_state`](TokenLayer::from_extractor_with_state).
    ///
    /// Put the layer that feeds the extractor (session, JWT middleware) **after** this one in
    /// the builder chain so that it runs first; if it is missing, requests get a 500 problem
    /// and the log names the extractor (see [`ByExtractor`]).
    ///
    /// ```
    /// use axum::{Extension, Router, body::Body, middleware::{self, Next}, extract::Request};
    /// use cometgate::{Principal, Rejection};
    /// use cometgate_axum::{IntoPrincipal, TokenLayer};
    /// use http::StatusCode;
    /// use tower::ServiceExt;
    /// # include!("../../cometgate/doc_stub.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let (_fake, gate) = demo_gate().await;
    ///
    /// /// What the app's auth middleware stores after verifying a session.
    /// #[derive(Clone)]
    /// struct SessionUser { id: u64 }
    ///
    /// impl IntoPrincipal for SessionUser {
    ///     fn into_principal(self) -> Result<Principal, Rejection> {
    ///         Ok(Principal::new("https://myapp.example", self.id.to_string()))
    ///     }
    /// }
    ///
    /// async fn sessions(mut request: Request, next: Next) -> axum::response::Response {
    ///     // ... look the session cookie up ...
    ///     request.extensions_mut().insert(SessionUser { id: 7 });
    ///     next.run(request).await
    /// }
    ///
    /// let app = Router::new()
    ///     .layer(TokenLayer::from_extractor::<Extension<SessionUser>>(gate))
    ///     .layer(middleware::from_fn(sessions)); // added later, so it runs first
    ///
    /// let response = app
    ///     .oneshot(Request::post("/cometchat-token").body(Body::empty()).unwrap())
    ///     .await
    ///     .unwrap();
    /// assert_eq!(response.status(), StatusCode::OK);
    /// # }
    /// ```
    pub fn from_extractor<E>(gate: Gate<I>) -> TokenLayer<I, ByExtractor<E>>
    where
        E: FromRequestParts<()> + IntoPrincipal + 'static,
    {
        TokenLayer::with_auth(gate, ByExtractor::new((), E::into_principal as _))
    }

    /// Like [`from_extractor`](TokenLayer::from_extractor), for an extractor that needs the
    /// app's state `S` (a layer does not see the router's state, so it is passed here).
    ///
    /// ```
    /// use axum::{Router, extract::FromRequestParts};
    /// use cometgate::{Principal, Rejection};
    /// use cometgate_axum::{IntoPrincipal, TokenLayer};
    /// use http::{StatusCode, request::Parts};
    /// # include!("../../cometgate/doc_stub.rs");
    /// # fn main() {
    /// # let gate = offline_gate();
    ///
    /// #[derive(Clone)]
    /// struct AppState { admins_only: bool }
    ///
    /// struct Admin(String);
    ///
    /// impl FromRequestParts<AppState> for Admin {
    ///     type Rejection = StatusCode;
    ///     async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, StatusCode> {
    ///         if state.admins_only { Ok(Admin("root".into())) } else { Err(StatusCode::FORBIDDEN) }
    ///     }
    /// }
    ///
    /// impl IntoPrincipal for Admin {
    ///     fn into_principal(self) -> Result<Principal, Rejection> {
    ///         Ok(Principal::new("https://myapp.example", self.0))
    ///     }
    /// }
    ///
    /// let state = AppState { admins_only: true };
    /// let app: Router = Router::new()
    ///     .layer(TokenLayer::from_extractor_with_state::<Admin, _>(gate, state));
    /// # }
    /// ```
    pub fn from_extractor_with_state<E, S>(
        gate: Gate<I>,
        state: S,
    ) -> TokenLayer<I, ByExtractor<E, S>>
    where
        E: FromRequestParts<S> + IntoPrincipal + 'static,
        S: Send + Sync + 'static,
    {
        TokenLayer::with_auth(gate, ByExtractor::new(state, E::into_principal as _))
    }

    /// Like [`from_extractor`](TokenLayer::from_extractor), converting the extracted value with
    /// `convert` instead of [`IntoPrincipal`]. Use it for extractor types your crate does not
    /// own (Rust's orphan rule forbids `impl IntoPrincipal for axum_login::AuthSession<_>`).
    ///
    /// ```
    /// use axum::{Router, extract::Extension};
    /// use cometgate::{Principal, Rejection};
    /// use cometgate_axum::TokenLayer;
    /// # include!("../../cometgate/doc_stub.rs");
    /// # fn main() {
    /// # let gate = offline_gate();
    ///
    /// /// A session type from another crate, stored in the extensions by its layer.
    /// #[derive(Clone)]
    /// struct Session { user: Option<(u64, String)> }
    ///
    /// let layer = TokenLayer::from_extractor_fn(gate, |Extension(session): Extension<Session>| {
    ///     let (id, name) = session.user.ok_or(Rejection::Missing)?;
    ///     Ok(Principal::new("https://myapp.example", id.to_string()).with_name(name))
    /// });
    /// let app: Router = Router::new().layer(layer);
    /// # }
    /// ```
    pub fn from_extractor_fn<E, F>(
        gate: Gate<I>,
        convert: F,
    ) -> TokenLayer<I, ByExtractor<E, (), F>>
    where
        E: FromRequestParts<()> + 'static,
        F: Fn(E) -> Result<Principal, Rejection> + Send + Sync + 'static,
    {
        TokenLayer::with_auth(gate, ByExtractor::new((), convert))
    }

    /// [`from_extractor_fn`](TokenLayer::from_extractor_fn) for an extractor that needs the
    /// app's state `S`.
    pub fn from_extractor_fn_with_state<E, S, F>(
        gate: Gate<I>,
        state: S,
        convert: F,
    ) -> TokenLayer<I, ByExtractor<E, S, F>>
    where
        E: FromRequestParts<S> + 'static,
        S: Send + Sync + 'static,
        F: Fn(E) -> Result<Principal, Rejection> + Send + Sync + 'static,
    {
        TokenLayer::with_auth(gate, ByExtractor::new(state, convert))
    }
}

impl<I: Send + Sync + 'static, A: Authenticate<I>> TokenLayer<I, A> {
    fn with_auth(gate: Gate<I>, auth: A) -> Self {
        Self {
            endpoint: Endpoint::new(gate),
            auth: Arc::new(auth),
        }
    }

    /// Answers on `path` instead of [`DEFAULT_PATH`]. The path is matched exactly against the
    /// request path the layer sees (inside `Router::nest`, that is the path below the prefix).
    ///
    /// # Errors
    ///
    /// [`InvalidPath`] (the core's rule) unless `path` starts with `/` and contains only letters, digits, `-`,
    /// `_`, `.`, `~` and non-empty `/` segments.
    ///
    /// ```
    /// use cometgate_axum::TokenLayer;
    /// # include!("../../cometgate/doc_stub.rs");
    /// # fn main() -> Result<(), cometgate_axum::InvalidPath> {
    /// let layer = TokenLayer::new(offline_demo_gate()).with_path("/api/chat/token")?;
    /// assert_eq!(layer.path(), "/api/chat/token");
    ///
    /// assert!(TokenLayer::new(offline_demo_gate()).with_path("/users/{id}/token").is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_path(mut self, path: impl Into<String>) -> Result<Self, InvalidPath> {
        self.endpoint = self.endpoint.with_path(path)?;
        Ok(self)
    }

    /// Refuses request bodies longer than `bytes` with 413 (default [`DEFAULT_BODY_LIMIT`]).
    ///
    /// A `Content-Length` above the limit is refused without reading; a chunked body is read
    /// up to the limit and dropped.
    #[must_use]
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.endpoint = self.endpoint.with_body_limit(bytes);
        self
    }

    /// Answers 408 when a body takes longer than `timeout` (default [`DEFAULT_READ_TIMEOUT`]).
    #[must_use]
    pub fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.endpoint = self.endpoint.with_read_timeout(timeout);
        self
    }

    /// Changes the core [`Endpoint`] (allowed origins for cookie credentials, problem base, …).
    ///
    /// ```
    /// use cometgate_axum::TokenLayer;
    /// # include!("../../cometgate/doc_stub.rs");
    /// # fn main() {
    /// let layer = TokenLayer::new(offline_demo_gate())
    ///     .map_endpoint(|e| e.with_problem_base("https://docs.myapp.example/errors/").unwrap());
    /// # }
    /// ```
    #[must_use]
    pub fn map_endpoint(mut self, change: impl FnOnce(Endpoint<I>) -> Endpoint<I>) -> Self {
        self.endpoint = change(self.endpoint);
        self
    }

    /// The path the endpoint answers on.
    pub fn path(&self) -> &str {
        self.endpoint.path()
    }

    /// A [`Router`] with only the token route, to `merge` into an app or `nest` under a prefix.
    ///
    /// Other paths fall through to the router's fallback (404), like any route.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use cometgate_axum::TokenLayer;
    /// use http::{Request, StatusCode};
    /// use tower::ServiceExt;
    /// # include!("../../cometgate/doc_stub.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let (_fake, gate) = demo_gate().await;
    /// let app = Router::new()
    ///     .route("/todos", get(|| async { "[]" }))
    ///     .nest("/api", TokenLayer::new(gate).into_router());
    ///
    /// let request = Request::post("/api/cometchat-token")
    ///     .header("authorization", "Bearer alice")
    ///     .body(Body::empty())
    ///     .unwrap();
    /// assert_eq!(app.oneshot(request).await.unwrap().status(), StatusCode::OK);
    /// # }
    /// ```
    pub fn into_router<S>(self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let path = self.endpoint.path().to_owned();
        // The inner service is never reached: the route only matches the token path, which the
        // layer always answers itself.
        let unreachable = tower::service_fn(|_req: Request<Body>| async {
            Ok::<_, Infallible>(http::Response::new(Body::empty()))
        });
        Router::new().route_service(&path, self.layer(unreachable))
    }
}

impl<S, I, A> Layer<S> for TokenLayer<I, A> {
    type Service = TokenService<S, I, A>;

    fn layer(&self, inner: S) -> Self::Service {
        TokenService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The [`Service`] made by [`TokenLayer`]: answers the endpoint's routes, forwards everything
/// else to `S`.
pub struct TokenService<S, I = NoIdentity, A = ByIdentity> {
    inner: S,
    layer: TokenLayer<I, A>,
}

impl<S: Clone, I, A> Clone for TokenService<S, I, A> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S: fmt::Debug, I, A> fmt::Debug for TokenService<S, I, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenService")
            .field("inner", &self.inner)
            .field("path", &self.layer.endpoint.path())
            .finish_non_exhaustive()
    }
}

impl<S, I, A> TokenService<S, I, A> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the wrapped service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, I, A, ReqBody, ResBody> Service<Request<ReqBody>> for TokenService<S, I, A>
where
    S: Service<Request<ReqBody>, Response = http::Response<ResBody>>,
    I: Send + Sync + 'static,
    A: Authenticate<I>,
    ReqBody: http_body::Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<BoxError>,
{
    type Response = http::Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        let Some(mut call) = self.layer.endpoint.route(&PartsView::new(&parts)) else {
            return ResponseFuture {
                kind: Kind::Inner {
                    future: self.inner.call(Request::from_parts(parts, body)),
                },
            };
        };
        let auth = Arc::clone(&self.layer.auth);
        ResponseFuture {
            kind: Kind::Endpoint {
                future: Box::pin(async move {
                    auth.identify(&mut call, &mut parts).await;
                    call.verify().await;
                    let read = body::read(body, call.body_limits()).await;
                    body::into_response(call.answer(read).await)
                }),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`TokenService`]: the wrapped service's future for pass-through requests,
    /// a boxed answer for the endpoint's routes.
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

type Answering = Pin<Box<dyn Future<Output = http::Response<Bytes>> + Send>>;

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Inner { #[pin] future: F },
        Endpoint { future: Answering },
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = Result<http::Response<ResponseBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => future.poll(cx).map_ok(|r| r.map(ResponseBody::inner)),
            KindProj::Endpoint { future } => future
                .as_mut()
                .poll(cx)
                .map(|r| Ok(r.map(ResponseBody::answer))),
        }
    }
}
