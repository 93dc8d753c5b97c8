//! # cometgate-actix
//!
//! The CometChat token endpoint for actix-web 4 apps, as a `configure` function or a
//! middleware.
//!
//! Your React Native or web client calls `POST /cometchat-token` with the credentials your app
//! already uses, gets `{"authToken": "...", "uid": "..."}` back, and logs in with
//! `CometChatUIKit.login({ authToken })`. The UID comes only from your app's verified identity;
//! the REST API key never leaves the server. The vending logic (limits, single-flight, just-in-
//! time provisioning, retries, problems, tracing) is cometgate's core [`Gate`](cometgate::Gate),
//! shared with the axum adapter, so both answer exactly alike.
//!
//! ```
//! use actix_web::{App, test, web};
//! use cometgate_actix::TokenEndpoint;
//! # include!("../../cometgate/doc_stub.rs");
//! # #[actix_web::main]
//! # async fn main() {
//! # let (_fake, gate) = demo_gate().await; // in an app: `Gate::from_env()?.identity(...).build()?`
//! let endpoint = TokenEndpoint::new(gate);
//! // In a server: `HttpServer::new(move || App::new()...configure(endpoint.configure()))`.
//! let app = test::init_service(
//!     App::new()
//!         .route("/todos", web::get().to(|| async { "[]" }))  // your routes, untouched
//!         .configure(endpoint.configure()),                    // adds POST /cometchat-token
//! )
//! .await;
//!
//! let request = test::TestRequest::post()
//!     .uri("/cometchat-token")
//!     .insert_header(("authorization", "Bearer alice"))
//!     .to_request();
//! let response = test::call_service(&app, request).await;
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
//! # }
//! ```
//!
//! ## Pieces
//!
//! - [`TokenEndpoint`]: [`configure`](TokenEndpoint::configure) adds the token route to an
//!   `App` or a `web::scope`; wrapping the app in it (`.wrap(endpoint)`) answers the token path
//!   in a middleware instead and passes every other request through untouched. [`configure()`]
//!   is the one-line shorthand.
//! - Identity, two ways: the core's [`Identity`](cometgate::Identity) trait, read through
//!   [`ActixView`] ([`TokenEndpoint::new`]), or an actix extractor your app already has
//!   (`FromRequest`: `web::ReqData<Claims>`, `actix_identity::Identity`, ...), converted with
//!   [`IntoPrincipal`] or a closure ([`TokenEndpoint::from_extractor`],
//!   [`TokenEndpoint::from_extractor_fn`]).
//! - Every error is the core's RFC 9457 [`Problem`](cometgate::Problem); the table of types is
//!   in [`cometgate::vend::problem`].
//!
//! ## The endpoint
//!
//! | request | answer |
//! |---|---|
//! | `POST` with valid credentials | `200 {"authToken", "uid"}`, `Cache-Control: no-store` |
//! | any other method | `405`, `Allow: POST` |
//! | body over the limit ([`DEFAULT_BODY_LIMIT`]) | `413` |
//! | body slower than the read timeout ([`DEFAULT_READ_TIMEOUT`]) | `408` |
//! | cookie credentials on a cross-site request | `403 cross-site-request` |
//! | no / invalid credentials, refused identity, limits, CometChat failures | the core's `application/problem+json` (401, 403, 429, 502, 503, 504) |
//!
//! This crate only translates between actix-web and [`cometgate::endpoint`], where every rule
//! of the endpoint lives.
//!
//! Every answer on the token path carries `Cache-Control: no-store` and an `x-request-id`
//! (the caller's, if it is short and safe to log, otherwise a fresh one), which is also the id
//! in the core's tracing event. The body, the query string and headers other than the
//! credential are never used to decide who the caller is.
//!
//! ## Middleware order
//!
//! In actix-web a middleware wrapped later runs first. Wrap the token endpoint before your
//! auth, CORS or logging middleware, so that they run before it:
//!
//! ```text
//! App::new()
//!     .route(...)
//!     .wrap(TokenEndpoint::...)   // runs after the ones below
//!     .wrap(auth_middleware)      // auth runs before it
//!     .wrap(Cors::...)            // CORS preflights are answered before the token endpoint's 405
//! ```
//!
//! The [`configure`](TokenEndpoint::configure) form is a route, so every `.wrap` of the app
//! runs before it whatever the order.
//!
//! ## Runtime
//!
//! actix-web's requests and futures are `!Send`: the endpoint reads the credentials
//! synchronously ([`Call::identify`](cometgate::endpoint::Call::identify)), then awaits the
//! core's `Send` futures. Servers built with `HttpServer` run on `#[actix_web::main]` or `#[tokio::main]`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
mod body;
mod endpoint;
mod view;

pub use auth::{Authenticate, ByExtractor, ByIdentity, IntoPrincipal, IntoPrincipalFn};
pub use endpoint::{
    DEFAULT_BODY_LIMIT, DEFAULT_PATH, DEFAULT_READ_TIMEOUT, InvalidPath, ResponseFuture,
    TokenEndpoint, TokenService, configure,
};
pub use view::ActixView;

/// The endpoint made by [`TokenEndpoint::from_extractor`] for the extractor `E` (on a gate with
/// identity `I`), spelled out so it can be named in a function signature.
///
/// ```
/// use actix_web::web::ReqData;
/// use cometgate::{Principal, vend::Gate};
/// use cometgate_actix::{ExtractorTokenEndpoint, TokenEndpoint};
///
/// #[derive(Clone)]
/// struct Claims(Principal);
/// impl cometgate_actix::IntoPrincipal for Claims {
///     fn into_principal(self) -> Result<Principal, cometgate::Rejection> { Ok(self.0) }
/// }
///
/// fn chat_tokens(gate: Gate) -> ExtractorTokenEndpoint<ReqData<Claims>> {
///     TokenEndpoint::from_extractor(gate)
/// }
/// ```
pub type ExtractorTokenEndpoint<E, I = cometgate::vend::NoIdentity> =
    TokenEndpoint<I, ByExtractor<E>>;

/// Re-exported so that the types in this crate's API are always the versions it was built with.
pub use cometgate;
