//! # cometgate
//!
//! Production-safe CometChat authentication for Rust backends.
//!
//! In development, CometChat clients log in with `login({ uid })` and an *Auth Key* baked into
//! the app bundle: anyone who unpacks the app can log in as anyone. In production the backend
//! must authenticate its own user, derive the CometChat UID **from that session**, and mint an
//! auth token with a server-only REST API key. This crate is the framework-agnostic core of that
//! backend:
//!
//! - [`identity`]: the seam between the app's own authentication and cometgate
//!   ([`Identity`], [`RequestView`], [`Principal`], [`Rejection`]).
//! - [`config`]: where CometChat lives and the REST API key, validated at construction.
//!
//! The HTTP adapters (`cometgate-axum`, `cometgate-actix`) build on these types; this crate
//! depends on neither framework.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod identity;

pub use config::Config;
pub use identity::{Identity, Principal, Rejection, RequestView};
