//! # cometgate-axum
//!
//! The CometChat token endpoint for axum 0.8 / tower apps, as one layer.
//!
//! Your React Native or web client calls `POST /cometchat-token` with the credentials your app
//! already uses, gets `{"authToken": "...", "uid": "..."}` back, and logs in with
//! `CometChatUIKit.login({ authToken })`. The UID comes only from your app's verified identity;
//! the REST API key never leaves the server.
//!
//! - [`TokenLayer`]: `.layer(...)` on an existing `Router`; answers the token path and passes
//!   every other request through untouched. [`TokenLayer::into_router`] gives a `Router` to
//!   `merge` or `nest` instead.
//! - Identity, two ways: the core's [`Identity`](cometgate::Identity) trait, read through
//!   [`PartsView`] ([`TokenLayer::new`]), or an axum extractor your app already has plus
//!   [`IntoPrincipal`] ([`TokenLayer::from_extractor`]).
//! - [`Backend`]: the seam to the token-vending core.
//! - [`problem_types`]: the `type` URIs of the errors this crate itself answers.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
mod backend;
mod layer;
pub mod problem_types;
mod request_id;
mod response;
mod view;

pub use auth::{Authenticate, ByExtractor, ByIdentity, IntoPrincipal, IntoPrincipalFn};
pub use backend::Backend;
pub use layer::{
    DEFAULT_BODY_LIMIT, DEFAULT_PATH, InvalidPath, ResponseFuture, TokenLayer, TokenService,
};
pub use view::PartsView;

/// Re-exported so that the types in this crate's API are always the versions it was built with.
pub use cometgate;
