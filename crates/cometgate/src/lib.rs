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
//! - [`uid`] and [`uid_mapper`]: validated CometChat UIDs ([`Uid`]) and the deterministic,
//!   injective mapping from an identity provider's subject to a UID ([`UidMapper`]).
//! - [`config`]: where CometChat lives and the REST API key, validated at construction
//!   ([`Config`]).
//! - [`client`]: a typed client for CometChat's users and auth-token REST API, with
//!   [`retry`] of transport failures and `5xx` (never `4xx`) under an overall deadline.
//! - [`vend`]: token vending without HTTP: [`Gate`] (UID mapping, rate limits, single-flight
//!   mint, just-in-time provisioning) coming to a [`TokenResponse`] or an RFC 9457 [`Problem`].
//! - [`store`], [`device`] and [`clock`]: the token lifecycle's state: which token each device
//!   holds ([`TokenStore`], the embedded [`MemoryStore`]), device ids ([`DeviceId`]) and time.
//! - [`endpoint`]: the HTTP endpoint without a framework: routes, prechecks, request ids,
//!   identity, answers ([`Endpoint`], [`Answer`]). Every rule of the routes lives here once.
//! - [`subject_hash`]: the keyed hash of the subject in the request's log event.
//! - [`telemetry`]: the metrics cometgate emits with its `metrics` feature (names, labels).
//!
//! The HTTP adapters (`cometgate-axum`, `cometgate-actix`) only translate between their
//! framework and [`endpoint`]; this crate depends on neither framework.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod clock;
pub mod config;
pub mod device;
pub mod endpoint;
pub mod identity;
pub mod retry;
pub mod store;
pub mod subject_hash;
pub mod telemetry;
pub mod uid;
pub mod uid_mapper;
pub mod vend;
pub mod webhook;

pub use config::{Config, ConfigError, Region};
pub use device::DeviceId;
pub use endpoint::{Answer, Endpoint};
pub use identity::{Identity, Principal, Rejection, RequestView};
pub use store::{MemoryStore, TokenStore};
pub use uid::{Uid, UidError};
pub use uid_mapper::{UidMapError, UidMapper, UidMapping};
pub use vend::{Gate, GateBuilder, Problem, ProblemType, RateLimit, TokenResponse};
