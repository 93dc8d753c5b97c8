//! # cometgate-axum
//!
//! The CometChat token endpoint for axum 0.8 and any tower stack, as one layer.
//!
//! This crate only translates: it builds the core's request view over an `http` 1 request,
//! reads the body under the core's limits, and writes the core's answer. Every rule of the
//! endpoint (routes, 405/408/413, request ids, `Cache-Control`, problems) lives in
//! [`cometgate::endpoint`].
//!
//! Your React Native or web client calls `POST /cometchat-token` with the credentials your app
//! already uses, gets `{"authToken": "...", "uid": "..."}` back, and logs in with
//! `CometChatUIKit.login({ authToken })`. The UID comes only from your app's verified identity;
//! the REST API key never leaves the server.
//!
//! ```
//! use axum::{Router, body::Body, routing::get};
//! use cometgate_axum::TokenLayer;
//! use http::{Request, StatusCode};
//! use tower::ServiceExt; // `oneshot`
//! # include!("../../cometgate/doc_stub.rs");
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! # let (_fake, gate) = demo_gate().await; // in an app: `Gate::from_env()?.identity(...).build()?`
//! let app = Router::new()
//!     .route("/todos", get(|| async { "[]" }))   // your routes, untouched
//!     .layer(TokenLayer::new(gate));              // adds POST /cometchat-token
//!
//! let request = Request::post("/cometchat-token")
//!     .header("authorization", "Bearer alice")
//!     .body(Body::empty())
//!     .unwrap();
//! let response = app.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), StatusCode::OK);
//! assert_eq!(response.headers()["cache-control"], "no-store");
//! # }
//! ```
//!
//! ## Pieces
//!
//! - [`TokenLayer`]: `.layer(...)` on an existing `Router`; answers the token path and passes
//!   every other request through untouched. [`TokenLayer::into_router`] gives a `Router` to
//!   `merge` or `nest` instead.
//! - Identity, two ways: the core's [`Identity`](cometgate::Identity) trait, read through
//!   [`PartsView`] ([`TokenLayer::new`]), or an axum extractor your app already has, converted
//!   with [`IntoPrincipal`] or a closure ([`TokenLayer::from_extractor`],
//!   [`TokenLayer::from_extractor_fn`]).
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
//! Every answer on the token path carries `Cache-Control: no-store` and an `x-request-id`
//! (the caller's, if it is short and safe to log, otherwise a fresh one), which is also the id
//! in the core's tracing event. The body, the query string and headers other than the
//! credential are never used to decide who the caller is.
//!
//! ## Layer order
//!
//! In axum a layer added later runs first. Add the token layer after your routes (axum only
//! wraps routes that exist when `.layer` is called) and before your auth, CORS or tracing
//! layers, so that they run first:
//!
//! ```text
//! Router::new()
//!     .route(...)                // routes first
//!     .layer(TokenLayer::...)    // then the token layer
//!     .layer(auth_layer)         // auth runs before it
//!     .layer(CorsLayer::...)     // CORS preflights are answered before the token layer's 405
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
mod body;
mod layer;
mod view;

pub use auth::{Authenticate, ByExtractor, ByIdentity, IntoPrincipal, IntoPrincipalFn};
pub use body::ResponseBody;
pub use layer::{
    DEFAULT_BODY_LIMIT, DEFAULT_PATH, DEFAULT_READ_TIMEOUT, InvalidPath, ResponseFuture,
    TokenLayer, TokenService,
};
pub use view::PartsView;

/// The layer made by [`TokenLayer::from_extractor`] for the extractor `E` (on a gate with
/// identity `I`, extractor state `S`), spelled out so it can be named in a function signature.
///
/// ```
/// use axum::Extension;
/// use cometgate::{Principal, vend::Gate};
/// use cometgate_axum::{ExtractorTokenLayer, TokenLayer};
///
/// #[derive(Clone)]
/// struct Claims(Principal);
/// impl cometgate_axum::IntoPrincipal for Claims {
///     fn into_principal(self) -> Result<Principal, cometgate::Rejection> { Ok(self.0) }
/// }
///
/// fn chat_tokens(gate: Gate) -> ExtractorTokenLayer<Extension<Claims>> {
///     TokenLayer::from_extractor(gate)
/// }
/// ```
pub type ExtractorTokenLayer<E, I = cometgate::vend::NoIdentity, S = ()> =
    TokenLayer<I, ByExtractor<E, S>>;

/// Re-exported so that the types in this crate's API are always the versions it was built with.
pub use cometgate;
