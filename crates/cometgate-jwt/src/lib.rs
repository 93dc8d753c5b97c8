//! # cometgate-jwt
//!
//! Ready-made [`cometgate::Identity`] implementations that verify `Authorization: Bearer` JWTs,
//! so that most apps need no code of their own to tell cometgate who is signed in.
//!
//! | provider | constructor | keys | default UID mapping |
//! |---|---|---|---|
//! | Firebase Auth | [`Firebase::new`]`(project_id)` | Google's published JWKS, RS256 | encoded (mixed-case UIDs) |
//! | Supabase | [`Supabase::project`]`(ref)` / [`Supabase::url`]`(url)` | the project's JWKS (ES256/RS256), or [`Supabase::legacy_jwt_secret`] (HS256) | readable (UUIDs) |
//! | Clerk | [`Clerk::new`]`(frontend_api, authorized_parties)` | the Frontend API's JWKS, RS256 | encoded (`user_2Nx…`) |
//! | Auth0 | [`Auth0::new`]`(domain, audience)` | the tenant's JWKS, RS256 | encoded (`auth0\|…`) |
//! | any OIDC issuer | [`Oidc::new`]`(issuer, audience)` | [`Oidc::jwks_url`] or discovery | encoded |
//! | your own JWTs | [`SharedSecret::new`]`(secret, issuer, audience)` | an HS256 secret | encoded |
//!
//! Every provider builds a [`JwtIdentity`] and applies the same rules:
//!
//! - **algorithms are pinned** per provider: never `none`, never HMAC where a public key is
//!   expected (no key confusion), and a key is only used with an algorithm of its own family;
//! - the key is chosen by the token's `kid` **from the trusted JWKS only**: `jku`, `x5u` and
//!   embedded `jwk` headers are ignored;
//! - `exp`, `iss` and `sub` are required (and `aud` wherever the provider has one), `nbf` and
//!   `iat` are checked, with a leeway of at most 60 s ([`DEFAULT_LEEWAY`] by default);
//! - the JWKS is fetched on first use (never at construction), cached for its
//!   `Cache-Control: max-age`, and refetched on an unknown `kid` at most once per cooldown;
//! - while the JWKS cannot be fetched (or answers with no usable key), the cached keys keep
//!   verifying for at most `stale_if_error` past their `max-age`
//!   ([`DEFAULT_STALE_IF_ERROR`](providers::DEFAULT_STALE_IF_ERROR), 1 h, by default); then
//!   tokens are refused until a fetch succeeds, so a key withdrawn after a compromise stops
//!   verifying even if the JWKS stays unreachable;
//! - OIDC discovery is read again when the document is old or a token's key is not found (at
//!   most once per cooldown), so an issuer that moves its `jwks_uri` is followed;
//! - JWKS and discovery URLs must be `https://` unless loopback, and a `jwks_uri` from a
//!   discovery document must be `https://` unless the issuer itself is on loopback;
//! - anonymous sign-ins are refused unless the app allows them
//!   ([`Firebase::allow_anonymous`], [`Supabase::allow_anon`]): otherwise anyone could get a
//!   chat account on a project with anonymous auth;
//! - only the `Authorization` header is read: tokens in the query string, the body or any other
//!   header are never accepted.
//!
//! No credentials give [`Rejection::Missing`](cometgate::Rejection::Missing) (a `401` without
//! an `error` parameter); any failure gives [`Rejection::Invalid`](cometgate::Rejection::Invalid)
//! (`401` with `error="invalid_token"`), whose reason is for the server log only.
//!
//! Each provider also suggests its UID mapper to the gate:
//! [`UidMapper::single_issuer`](cometgate::UidMapper::single_issuer) for its own issuer with the
//! [`UidMapping`](cometgate::UidMapping) that suits its subjects (see [`cometgate::uid_mapper`]),
//! so the UID is the readable or encoded subject; [`GateBuilder::uid_mapper`] overrides it.
//!
//! [`GateBuilder::uid_mapper`]: cometgate::vend::GateBuilder::uid_mapper
//!
//! # Example
//!
//! ```
//! use cometgate::{Identity, identity::SimpleRequest};
//! use cometgate_jwt::SharedSecret;
//! # use jsonwebtoken::{encode, EncodingKey, Header};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = "a-secret-of-at-least-thirty-two-bytes!";
//! let identity = SharedSecret::new(secret, "https://api.myapp.example", "myapp").build()?;
//!
//! # let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() + 600;
//! # let claims = serde_json::json!({"iss": "https://api.myapp.example", "aud": "myapp", "sub": "42", "exp": exp, "name": "Ada"});
//! # let token = encode(&Header::default(), &claims, &EncodingKey::from_secret(secret.as_bytes()))?;
//! // `token` is an HS256 JWT the app issued for user 42.
//! let request = SimpleRequest::post("/cometchat-token")
//!     .with_header("Authorization", format!("Bearer {token}"));
//! let principal = identity.resolve(&request).await?;
//! assert_eq!(principal.subject(), "42");
//! assert_eq!(principal.name(), Some("Ada"));
//!
//! let anonymous = SimpleRequest::post("/cometchat-token");
//! assert_eq!(identity.resolve(&anonymous).await, Err(cometgate::Rejection::Missing));
//! # Ok(()) }
//! ```
//!
//! # Crypto backend
//!
//! `jsonwebtoken` needs exactly one crypto backend. This crate chooses it through its own
//! features: `aws-lc-rs` (default) or `rust-crypto` (`default-features = false, features =
//! ["rust-crypto"]`). Enabling both, or neither, is a compile error.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(all(feature = "aws-lc-rs", feature = "rust-crypto"))]
compile_error!(
    "cometgate-jwt: enable exactly one crypto backend, `aws-lc-rs` (default) or `rust-crypto` \
     (with `default-features = false`), not both"
);
#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!(
    "cometgate-jwt: enable one crypto backend: the `aws-lc-rs` feature (default) or `rust-crypto`"
);

mod claims;
mod discovery;
mod error;
mod fetch;
mod jwks;
mod keys;
pub mod providers;
mod verifier;

/// The Rust snippets of `README.md`, compiled as doctests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use error::BuildError;
pub use providers::{Auth0, Clerk, Firebase, Oidc, SharedSecret, Supabase};
pub use verifier::{DEFAULT_LEEWAY, JwtIdentity, MAX_LEEWAY};
