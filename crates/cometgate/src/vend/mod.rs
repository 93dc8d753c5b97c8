//! Token vending: the token endpoint's logic, shared by every HTTP adapter.
//!
//! ```text
//! POST /cometchat-token
//!   adapter: build a RequestView; answer 405 / 413 itself (Problem::method_not_allowed, …)
//!   Gate:    identity.resolve(view)          -> Principal                      | 401 / 403
//!            UidMapper.map(principal)        -> Uid                            | 500
//!            join the mint in flight for this UID, or, if none:
//!              per-user limiter              (only new mints count)            | 429 + Retry-After
//!              start a mint (single-flight, shared by concurrent callers):
//!                upstream budget                                               | 503 + Retry-After
//!                create_auth_token(uid), retried on 5xx / transport           | 502, 503 on CometChat 429
//!                ERR_UID_NOT_FOUND and JIT on: create_user, mint again
//!                all within the retry policy's deadline                        | 504
//!   adapter: copy Answer::status / headers / body into its response
//! ```
//!
//! * [`Gate`] / [`GateBuilder`]: the whole path; see [`Gate`] for which entry point an
//!   adapter calls.
//! * [`Answer`], [`TokenResponse`], [`Problem`]: framework-neutral answers (status as `u16`,
//!   header pairs, body bytes). [`problem`] documents every problem type in one table.
//! * [`RateLimit`]: the per-user limit and the upstream budget.
//!
//! A request that arrives while a mint for the same UID is in flight joins it and does not
//! count against the per-user limit: it causes no CometChat call. So 20 parallel first
//! requests of a new user get 20 tokens from one mint and at most one user creation, even with
//! the default burst of 5.
//!
//! ```
//! use cometgate::{Config, Identity, Principal, Region, Rejection, RequestView};
//! use cometgate::identity::SimpleRequest;
//! use cometgate::vend::{Gate, ProblemType, RateLimit};
//!
//! struct Header;
//! impl Identity for Header {
//!     type Credentials = String;
//!     fn extract<R: RequestView + ?Sized>(&self, r: &R) -> Result<String, Rejection> {
//!         r.header_str("x-user").map(str::to_owned).ok_or(Rejection::Missing)
//!     }
//!     async fn verify(&self, user: String) -> Result<Principal, Rejection> {
//!         Ok(Principal::new("demo", user))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::builder().app_id("demo").region(Region::Us)
//!     .rest_api_key("0123456789abcdef").build()?;
//! let gate = Gate::builder()
//!     .config(config)
//!     .identity(Header)
//!     .per_user_limit(RateLimit::per_minute(10).with_burst(5))
//!     .build()?;
//!
//! // No credentials: 401, and CometChat is never called.
//! let answer = gate.answer(&SimpleRequest::post("/cometchat-token"), "req-1").await;
//! assert_eq!(answer.status(), 401);
//! assert_eq!(answer.problem().unwrap().problem_type(), ProblemType::MissingCredentials);
//! assert!(answer.headers().contains(&("www-authenticate", r#"Bearer realm="cometgate""#.into())));
//! # Ok(()) }
//! ```

pub mod adapter;
mod answer;
mod gate;
pub mod limit;
pub mod problem;
mod provision;
mod single_flight;

pub use answer::{Answer, TokenResponse};
pub use gate::{Gate, GateBuildError, GateBuilder, NoIdentity};
pub use limit::{RateLimit, RateLimitError};
pub use problem::{Problem, ProblemType};
