//! [`TokenLayer`] and its service: the token endpoint wrapped around an existing app.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum_core::body::Body;
use axum_core::extract::FromRequestParts;
use axum_core::response::Response;
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_LENGTH, HeaderValue};
use http::{Method, Request};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tower_layer::Layer;
use tower_service::Service;

use cometgate::vend::{Gate, NoIdentity, Problem};
use cometgate::{Identity, Principal, Rejection};

use crate::auth::{Authenticate, ByExtractor, ByIdentity, IntoPrincipal};
use cometgate::vend::adapter;

use crate::response;

/// The path the endpoint answers on unless [`TokenLayer::with_path`] says otherwise.
pub const DEFAULT_PATH: &str = "/cometchat-token";

/// The largest request body accepted by default (bytes). Clients send no body or `{}`: the
/// endpoint never reads the body for identity, it only refuses oversized ones with 413.
pub const DEFAULT_BODY_LIMIT: usize = 4 * 1024;

type BoxError = Box<dyn StdError + Send + Sync>;

/// A tower [`Layer`] that adds the CometChat token endpoint to an existing service or axum
/// [`Router`], and passes every other request to it untouched.
///
/// `POST {path}` (default [`DEFAULT_PATH`]) answers `200 {"authToken": "...", "uid": "..."}`
/// with `Cache-Control: no-store`, or an RFC 9457 `application/problem+json` error. Any other
/// method on that path gets `405` with `Allow: POST`; a body larger than the limit gets `413`.
/// Requests to other paths reach the wrapped service exactly as they came in (method, headers,
/// extensions, body).
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
/// # include!("doc_stub.rs");
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
    endpoint: Endpoint<I, A>,
}

/// Everything a token request needs; cheap to clone (one per wrapped route).
struct Endpoint<I, A> {
    gate: Gate<I>,
    auth: Arc<A>,
    path: Arc<str>,
    body_limit: usize,
}

impl<I, A> Clone for Endpoint<I, A> {
    fn clone(&self) -> Self {
        Self {
            gate: self.gate.clone(),
            auth: Arc::clone(&self.auth),
            path: Arc::clone(&self.path),
            body_limit: self.body_limit,
        }
    }
}

impl<I, A> Clone for TokenLayer<I, A> {
    fn clone(&self) -> Self {
        Self {
            endpoint: self.endpoint.clone(),
        }
    }
}

impl<I, A> fmt::Debug for TokenLayer<I, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenLayer")
            .field("path", &self.endpoint.path)
            .field("body_limit", &self.endpoint.body_limit)
            .finish_non_exhaustive()
    }
}

/// The token path given to [`TokenLayer::with_path`] is not a plain absolute path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid token path {0:?}: use an absolute path of letters, digits, `-`, `_`, `.`, `~` and `/` \
     segments, e.g. \"/cometchat-token\" or \"/api/chat/token\""
)]
pub struct InvalidPath(String);

impl<I: Identity> TokenLayer<I, ByIdentity> {
    /// A layer that identifies callers with the gate's own
    /// [`Identity`](cometgate::Identity), which reads the request head through a [`PartsView`](crate::PartsView).
    /// See the [type docs](TokenLayer) for an example.
    pub fn new(gate: Gate<I>) -> Self {
        Self::with_auth(gate, ByIdentity)
    }
}

impl<I: Identity> TokenLayer<I, ByExtractor<()>> {
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
    /// # include!("doc_stub.rs");
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
    /// # include!("doc_stub.rs");
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
    /// # include!("doc_stub.rs");
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

impl<I: Identity, A: Authenticate<I>> TokenLayer<I, A> {
    fn with_auth(gate: Gate<I>, auth: A) -> Self {
        Self {
            endpoint: Endpoint {
                gate,
                auth: Arc::new(auth),
                path: Arc::from(DEFAULT_PATH),
                body_limit: DEFAULT_BODY_LIMIT,
            },
        }
    }

    /// Answers on `path` instead of [`DEFAULT_PATH`]. The path is matched exactly against the
    /// request path the layer sees (inside `Router::nest`, that is the path below the prefix).
    ///
    /// # Errors
    ///
    /// [`InvalidPath`] unless `path` starts with `/` and contains only letters, digits, `-`,
    /// `_`, `.`, `~` and non-empty `/` segments.
    ///
    /// ```
    /// use cometgate_axum::TokenLayer;
    /// # include!("doc_stub.rs");
    /// # fn main() -> Result<(), cometgate_axum::InvalidPath> {
    /// let layer = TokenLayer::new(offline_gate()).with_path("/api/chat/token")?;
    /// assert_eq!(layer.path(), "/api/chat/token");
    ///
    /// assert!(TokenLayer::new(offline_gate()).with_path("/users/{id}/token").is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_path(mut self, path: impl Into<String>) -> Result<Self, InvalidPath> {
        let path = path.into();
        if !adapter::is_valid_token_path(&path) {
            return Err(InvalidPath(path));
        }
        self.endpoint.path = Arc::from(path);
        Ok(self)
    }

    /// Refuses request bodies longer than `bytes` with 413 (default [`DEFAULT_BODY_LIMIT`]).
    ///
    /// A `Content-Length` above the limit is refused without reading; a chunked body is read
    /// up to the limit and dropped.
    #[must_use]
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.endpoint.body_limit = bytes;
        self
    }

    /// The path the endpoint answers on.
    pub fn path(&self) -> &str {
        &self.endpoint.path
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
    /// # include!("doc_stub.rs");
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
        let path = Arc::clone(&self.endpoint.path);
        // The inner service is never reached: the route only matches the token path, which the
        // layer always answers itself.
        let unreachable = tower::service_fn(|_req: Request<Body>| async {
            Ok::<_, Infallible>(Response::new(Body::empty()))
        });
        Router::new().route_service(&path, self.layer(unreachable))
    }
}

impl<S, I, A> Layer<S> for TokenLayer<I, A> {
    type Service = TokenService<S, I, A>;

    fn layer(&self, inner: S) -> Self::Service {
        TokenService {
            inner,
            endpoint: self.endpoint.clone(),
        }
    }
}

/// The [`Service`] made by [`TokenLayer`]: answers the token path, forwards everything else to
/// `S`.
pub struct TokenService<S, I = NoIdentity, A = ByIdentity> {
    inner: S,
    endpoint: Endpoint<I, A>,
}

impl<S: Clone, I, A> Clone for TokenService<S, I, A> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            endpoint: self.endpoint.clone(),
        }
    }
}

impl<S: fmt::Debug, I, A> fmt::Debug for TokenService<S, I, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenService")
            .field("inner", &self.inner)
            .field("path", &self.endpoint.path)
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
    I: Identity,
    A: Authenticate<I>,
    ReqBody: http_body::Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<BoxError>,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if request.uri().path() != &*self.endpoint.path {
            return ResponseFuture {
                kind: Kind::Inner {
                    future: self.inner.call(request),
                },
            };
        }
        let endpoint = self.endpoint.clone();
        ResponseFuture {
            kind: Kind::Token {
                future: Box::pin(async move { endpoint.answer(request).await }),
            },
        }
    }
}

impl<I: Identity, A: Authenticate<I>> Endpoint<I, A> {
    async fn answer<ReqBody>(&self, request: Request<ReqBody>) -> Response
    where
        ReqBody: http_body::Body<Data = Bytes> + Send + 'static,
        ReqBody::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        let request_id = adapter::request_id(
            parts
                .headers
                .get(adapter::REQUEST_ID_HEADER)
                .map(HeaderValue::as_bytes),
        );
        // The checks are synchronous; only a request that carries a body awaits reading it, so
        // the common path never builds (and moves) the body-reading future.
        let mut checked = self.precheck(&parts);
        if checked.is_ok() && !body.is_end_stream() {
            checked = self.drain(body).await;
        }
        let mut response = match checked {
            // The gate logs the request's one event and attaches the request id.
            Err(problem) => response::from_answer(&self.gate.answer_problem(problem, &request_id)),
            Ok(()) => self.auth.answer(&self.gate, parts, &request_id).await,
        };
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            headers.insert(adapter::REQUEST_ID_HEADER, value);
        }
        // Whatever the gate answered, a token answer (or an error standing in its place)
        // must not be cached by the client or a proxy.
        headers
            .entry(CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
        response
    }

    /// Method and declared body size, checked before anything identifies the caller.
    fn precheck(&self, parts: &http::request::Parts) -> Result<(), Problem> {
        if parts.method != Method::POST {
            return Err(Problem::method_not_allowed());
        }
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.limit()) {
            return Err(Problem::body_too_large(self.limit()));
        }
        Ok(())
    }

    /// Reads the body up to the limit, only to enforce the limit and keep the connection
    /// reusable; its content is dropped unread.
    async fn drain<ReqBody>(&self, body: ReqBody) -> Result<(), Problem>
    where
        ReqBody: http_body::Body<Data = Bytes> + Send + 'static,
        ReqBody::Error: Into<BoxError>,
    {
        match Limited::new(body, self.body_limit).collect().await {
            Ok(_) => Ok(()),
            Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
                Err(Problem::body_too_large(self.limit()))
            }
            Err(_) => Err(Problem::bad_request()),
        }
    }

    fn limit(&self) -> u64 {
        u64::try_from(self.body_limit).unwrap_or(u64::MAX)
    }
}

pin_project_lite::pin_project! {
    /// The future of [`TokenService`]: the wrapped service's future for pass-through requests,
    /// a boxed token answer for the token path.
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Inner { #[pin] future: F },
        Token { future: Pin<Box<dyn Future<Output = Response> + Send>> },
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
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            // `Body::new` does not re-box a body that already is an axum `Body`.
            KindProj::Inner { future } => future.poll(cx).map_ok(|r| r.map(Body::new)),
            KindProj::Token { future } => future.as_mut().poll(cx).map(Ok),
        }
    }
}
