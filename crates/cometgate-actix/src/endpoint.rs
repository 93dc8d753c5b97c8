//! [`TokenEndpoint`]: the token route for `App::configure`, and the same endpoint as a
//! middleware for `.wrap`.

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use cometgate::endpoint::{BodyRead, Call, Endpoint};
use cometgate::vend::{Gate, NoIdentity};
use cometgate::{Identity, Principal, Rejection};

use crate::auth::{Authenticate, ByExtractor, ByIdentity, IntoPrincipal};
use crate::{ActixView, body};

pub use cometgate::endpoint::{
    DEFAULT_BODY_LIMIT, DEFAULT_READ_TIMEOUT, DEFAULT_TOKEN_PATH as DEFAULT_PATH, InvalidPath,
};

/// The CometChat token endpoint for an actix-web 4 app, in two forms:
///
/// - a route: `App::new().configure(endpoint.configure())` (also inside a `web::scope`);
/// - a middleware: `App::new().wrap(endpoint)`, which answers the token path before routing and
///   passes every other request to the app untouched.
///
/// The routes and their answers are the core's ([`cometgate::endpoint`]); this type only
/// translates. `POST {path}` (default [`DEFAULT_PATH`]) answers `200 {"authToken": "...",
/// "uid": "..."}` with `Cache-Control: no-store`, or an RFC 9457 `application/problem+json`
/// error. Every answer carries an `x-request-id` (the caller's, if short and safe, else a fresh
/// one).
///
/// `I` is the [`Identity`] of the cometgate [`Gate`] that vends the tokens; `A` is how the
/// caller is identified: [`ByIdentity`] (the gate's own identity, via [`TokenEndpoint::new`])
/// or [`ByExtractor`] (an actix extractor, via [`TokenEndpoint::from_extractor`]).
///
/// Cheap to clone (`Arc`s), and `Send`, so it can be moved into `HttpServer::new`'s factory.
///
/// ```
/// use actix_web::{App, test, web};
/// use cometgate_actix::TokenEndpoint;
/// # include!("../../cometgate/doc_stub.rs");
/// # #[actix_web::main]
/// # async fn main() {
/// # let (_fake, gate) = demo_gate().await; // in an app: cometgate's `Gate`
/// let endpoint = TokenEndpoint::new(gate);
///
/// let app = test::init_service(
///     App::new()
///         .route("/todos", web::get().to(|| async { "[]" }))
///         .wrap(endpoint.clone()),
/// )
/// .await;
///
/// // The token endpoint.
/// let request = test::TestRequest::post()
///     .uri("/cometchat-token")
///     .insert_header(("authorization", "Bearer alice"))
///     .to_request();
/// let response = test::call_service(&app, request).await;
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
///
/// // Only POST.
/// let request = test::TestRequest::get().uri("/cometchat-token").to_request();
/// let response = test::call_service(&app, request).await;
/// assert_eq!(response.status(), 405);
/// assert_eq!(response.headers().get("allow").unwrap(), "POST");
///
/// // Everything else is the app's.
/// let request = test::TestRequest::get().uri("/todos").to_request();
/// assert_eq!(test::call_service(&app, request).await.status(), 200);
/// # }
/// ```
pub struct TokenEndpoint<I = NoIdentity, A = ByIdentity> {
    endpoint: Endpoint<I>,
    auth: Arc<A>,
}

impl<I, A> Clone for TokenEndpoint<I, A> {
    fn clone(&self) -> Self {
        Self {
            endpoint: self.endpoint.clone(),
            auth: Arc::clone(&self.auth),
        }
    }
}

impl<I, A> fmt::Debug for TokenEndpoint<I, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// The token route for `App::configure` (or `Scope::configure`), identifying callers with the
/// gate's own [`Identity`]: shorthand for `TokenEndpoint::new(gate).configure()`.
///
/// ```
/// use actix_web::{App, test, web};
/// # include!("../../cometgate/doc_stub.rs");
/// # #[actix_web::main]
/// # async fn main() {
/// # let (_fake, gate) = demo_gate().await;
/// let app = test::init_service(
///     App::new()
///         .route("/todos", web::get().to(|| async { "[]" }))
///         .configure(cometgate_actix::configure(gate)),
/// )
/// .await;
/// let request = test::TestRequest::post()
///     .uri("/cometchat-token")
///     .insert_header(("authorization", "Bearer alice"))
///     .to_request();
/// assert_eq!(test::call_service(&app, request).await.status(), 200);
/// # }
/// ```
pub fn configure<I: Identity>(gate: Gate<I>) -> impl FnOnce(&mut web::ServiceConfig) + 'static {
    TokenEndpoint::new(gate).configure()
}

impl<I: Identity> TokenEndpoint<I, ByIdentity> {
    /// An endpoint that identifies callers with the gate's own
    /// [`Identity`](cometgate::Identity), which reads the request through an
    /// [`ActixView`](crate::ActixView). A gate built without `.identity(...)` does not compile
    /// here: use [`from_extractor`](TokenEndpoint::from_extractor). See the
    /// [type docs](TokenEndpoint) for an example.
    ///
    /// ```compile_fail
    /// # include!("../../cometgate/doc_stub.rs");
    /// # fn main() {
    /// let gate = offline_gate(); // built without `.identity(...)`
    /// let endpoint = cometgate_actix::TokenEndpoint::new(gate); // error: `NoIdentity: Identity`
    /// # }
    /// ```
    pub fn new(gate: Gate<I>) -> Self {
        Self::with_auth(gate, ByIdentity)
    }

    /// An endpoint around an [`Endpoint`] configured in the core (path, limits, allowed
    /// origins, problem base), identifying callers with its gate's own [`Identity`].
    pub fn from_endpoint(endpoint: Endpoint<I>) -> Self {
        Self {
            endpoint,
            auth: Arc::new(ByIdentity),
        }
    }
}

impl<I: Send + Sync + 'static> TokenEndpoint<I, ByExtractor<()>> {
    /// An endpoint that identifies callers with the app's own actix extractor `E` (for example
    /// `web::ReqData<Claims>` filled by its auth middleware, or a verified-claims extractor),
    /// converted with [`IntoPrincipal`]. The extractor gets the request and app data but an
    /// empty payload.
    ///
    /// If the extractor fails with a server error (its middleware is missing), requests get a
    /// 500 problem and the log names the extractor (see [`ByExtractor`]).
    ///
    /// ```
    /// use actix_web::{App, HttpMessage, test, web::ReqData};
    /// use actix_web::middleware::{Next, from_fn};
    /// use actix_web::{body::MessageBody, dev::{ServiceRequest, ServiceResponse}};
    /// use cometgate::{Principal, Rejection};
    /// use cometgate_actix::{IntoPrincipal, TokenEndpoint};
    /// # include!("../../cometgate/doc_stub.rs");
    /// # #[actix_web::main]
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
    /// async fn sessions(
    ///     request: ServiceRequest,
    ///     next: Next<impl MessageBody>,
    /// ) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    ///     // ... look the session cookie up ...
    ///     request.extensions_mut().insert(SessionUser { id: 7 });
    ///     next.call(request).await
    /// }
    ///
    /// let app = test::init_service(
    ///     App::new()
    ///         .wrap(TokenEndpoint::from_extractor::<ReqData<SessionUser>>(gate))
    ///         .wrap(from_fn(sessions)), // wrapped later, so it runs first
    /// )
    /// .await;
    /// let request = test::TestRequest::post().uri("/cometchat-token").to_request();
    /// assert_eq!(test::call_service(&app, request).await.status(), 200);
    /// # }
    /// ```
    pub fn from_extractor<E>(gate: Gate<I>) -> TokenEndpoint<I, ByExtractor<E>>
    where
        E: FromRequest + IntoPrincipal + 'static,
    {
        TokenEndpoint::with_auth(gate, ByExtractor::new(E::into_principal as _))
    }

    /// Like [`from_extractor`](TokenEndpoint::from_extractor), converting the extracted value
    /// with `convert` instead of [`IntoPrincipal`]. Use it for extractor types your crate does
    /// not own (Rust's orphan rule forbids `impl IntoPrincipal for actix_identity::Identity`).
    ///
    /// ```
    /// use actix_web::{App, test, web::ReqData};
    /// use cometgate::{Principal, Rejection};
    /// use cometgate_actix::TokenEndpoint;
    /// # include!("../../cometgate/doc_stub.rs");
    /// # #[actix_web::main]
    /// # async fn main() {
    /// # let gate = offline_demo_gate();
    ///
    /// /// A session type from another crate, stored in the extensions by its middleware.
    /// #[derive(Clone)]
    /// struct Session { user: Option<(u64, String)> }
    ///
    /// let endpoint = TokenEndpoint::from_extractor_fn(gate, |session: ReqData<Session>| {
    ///     let (id, name) = session.into_inner().user.ok_or(Rejection::Missing)?;
    ///     Ok(Principal::new("https://myapp.example", id.to_string()).with_name(name))
    /// });
    /// // No session middleware: the endpoint says so (500 `misconfigured`), instead of a
    /// // misleading 401.
    /// let app = test::init_service(App::new().configure(endpoint.configure())).await;
    /// let request = test::TestRequest::post().uri("/cometchat-token").to_request();
    /// assert_eq!(test::call_service(&app, request).await.status(), 500);
    /// # }
    /// ```
    pub fn from_extractor_fn<E, F>(gate: Gate<I>, convert: F) -> TokenEndpoint<I, ByExtractor<E, F>>
    where
        E: FromRequest + 'static,
        F: Fn(E) -> Result<Principal, Rejection> + Send + Sync + 'static,
    {
        TokenEndpoint::with_auth(gate, ByExtractor::new(convert))
    }
}

impl<I: Send + Sync + 'static, A: Authenticate<I>> TokenEndpoint<I, A> {
    fn with_auth(gate: Gate<I>, auth: A) -> Self {
        Self {
            endpoint: Endpoint::new(gate),
            auth: Arc::new(auth),
        }
    }

    /// Answers on `path` instead of [`DEFAULT_PATH`]. With [`configure`](Self::configure)
    /// inside a `web::scope("/api")` the path is below the scope's prefix; as a middleware it
    /// is matched against the whole request path.
    ///
    /// # Errors
    ///
    /// [`InvalidPath`] unless `path` starts with `/` and contains only letters, digits, `-`,
    /// `_`, `.`, `~` and non-empty `/` segments (no actix patterns such as `{id}`).
    ///
    /// ```
    /// use cometgate_actix::TokenEndpoint;
    /// # include!("../../cometgate/doc_stub.rs");
    /// # fn main() -> Result<(), cometgate_actix::InvalidPath> {
    /// let endpoint = TokenEndpoint::new(offline_demo_gate()).with_path("/api/chat/token")?;
    /// assert_eq!(endpoint.path(), "/api/chat/token");
    ///
    /// assert!(TokenEndpoint::new(offline_demo_gate()).with_path("/users/{id}/token").is_err());
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
    #[must_use]
    pub fn map_endpoint(mut self, change: impl FnOnce(Endpoint<I>) -> Endpoint<I>) -> Self {
        self.endpoint = change(self.endpoint);
        self
    }

    /// The path the endpoint answers on.
    pub fn path(&self) -> &str {
        self.endpoint.path()
    }

    /// The token route, for `App::configure` or `Scope::configure`: a resource on
    /// [`path`](Self::path) that answers every method (POST mints, others get 405). The app's
    /// other routes, default service and middleware are left as they are.
    ///
    /// ```
    /// use actix_web::{App, test, web};
    /// use cometgate_actix::TokenEndpoint;
    /// # include!("../../cometgate/doc_stub.rs");
    /// # #[actix_web::main]
    /// # async fn main() {
    /// # let (_fake, gate) = demo_gate().await;
    /// let endpoint = TokenEndpoint::new(gate);
    /// let app = test::init_service(
    ///     App::new()
    ///         .route("/todos", web::get().to(|| async { "[]" }))
    ///         .service(web::scope("/api").configure(endpoint.configure())),
    /// )
    /// .await;
    /// let request = test::TestRequest::post()
    ///     .uri("/api/cometchat-token")
    ///     .insert_header(("authorization", "Bearer alice"))
    ///     .to_request();
    /// assert_eq!(test::call_service(&app, request).await.status(), 200);
    /// # }
    /// ```
    pub fn configure(&self) -> impl FnOnce(&mut web::ServiceConfig) + use<I, A> {
        let endpoint = self.clone();
        move |config: &mut web::ServiceConfig| {
            // One resource per route the core serves (token, revoke).
            for path in endpoint.endpoint.route_paths() {
                let path: Arc<str> = Arc::from(path);
                let endpoint = endpoint.clone();
                // No method guard: the core answers 405 itself, with the problem body.
                config.route(
                    &Arc::clone(&path),
                    web::route().to(move |request: HttpRequest, body: web::Payload| {
                        let endpoint = endpoint.clone();
                        let path = Arc::clone(&path);
                        async move {
                            // actix matched the percent-decoded path; the core matches the raw
                            // one (as the middleware form and axum do), so `/cometchat%2Dtoken`
                            // is not the token route. Inside a `web::scope` the raw path has the
                            // scope's prefix: the core routes on the path this resource was
                            // registered at.
                            let view = ActixView::new(&request).with_routed_path(Some(&path));
                            match endpoint
                                .endpoint
                                .route(&view)
                                .filter(|_| request.path().ends_with(&*path))
                            {
                                Some(call) => {
                                    endpoint.respond(call, &request, body.into_inner()).await
                                }
                                None => HttpResponse::NotFound().finish(),
                            }
                        }
                    }),
                );
            }
        }
    }

    /// One request on the endpoint's routes: the core decides, this only translates.
    pub(crate) async fn respond(
        &self,
        mut call: Call<I>,
        request: &HttpRequest,
        payload: Payload,
    ) -> HttpResponse {
        self.auth.identify(&mut call, request).await;
        call.verify().await;
        let limits = call.body_limits();
        let (read, unread) = match limits {
            Some(limits) => (body::read(payload, limits).await, None),
            None => (BodyRead::Skipped, Some(payload)),
        };
        let mut response = body::into_response(call.answer(read).await);
        if let Some(payload) = unread {
            // Held until the response head is written, and the connection marked to close, so
            // actix does not read the unread body to its end with no timer running.
            response.extensions_mut().insert(UnreadBody(payload));
            response
                .head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close);
        }
        response
    }
}

/// A request body the endpoint chose not to read (see [`TokenEndpoint::respond`]).
struct UnreadBody(#[allow(dead_code)] Payload);

impl<S, B, I, A> Transform<S, ServiceRequest> for TokenEndpoint<I, A>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
    I: Send + Sync + 'static,
    A: Authenticate<I>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = TokenService<S, I, A>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(TokenService {
            service,
            endpoint: self.clone(),
        }))
    }
}

/// The middleware service made by wrapping an app in a [`TokenEndpoint`]: answers the token
/// path, forwards everything else to `S`.
pub struct TokenService<S, I = NoIdentity, A = ByIdentity> {
    service: S,
    endpoint: TokenEndpoint<I, A>,
}

impl<S, I, A> fmt::Debug for TokenService<S, I, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenService")
            .field("path", &self.endpoint.endpoint.path())
            .finish_non_exhaustive()
    }
}

impl<S, B, I, A> Service<ServiceRequest> for TokenService<S, I, A>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
    I: Send + Sync + 'static,
    A: Authenticate<I>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = ResponseFuture<S::Future>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let Some(call) = self
            .endpoint
            .endpoint
            .route(&ActixView::new(request.request()))
        else {
            return ResponseFuture {
                kind: Kind::Inner {
                    future: self.service.call(request),
                },
            };
        };
        let endpoint = self.endpoint.clone();
        ResponseFuture {
            kind: Kind::Token {
                future: Box::pin(async move {
                    let (request, payload) = request.into_parts();
                    let response = endpoint.respond(call, &request, payload).await;
                    ServiceResponse::new(request, response)
                }),
            },
        }
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
        Token { future: Pin<Box<dyn Future<Output = ServiceResponse<BoxBody>>>> },
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B> Future for ResponseFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => {
                future.poll(cx).map_ok(ServiceResponse::map_into_left_body)
            }
            KindProj::Token { future } => future
                .as_mut()
                .poll(cx)
                .map(|response| Ok(response.map_into_right_body())),
        }
    }
}
