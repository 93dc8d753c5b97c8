//! Token vending: the token route's logic, without HTTP.
//!
//! ```text
//! Gate:    UidMapper.map(principal)        -> Uid                            | 500
//!          join the mint in flight for this UID, or, if none:
//!            per-user limiter              (only new mints count)            | 429 + Retry-After
//!            start a mint (single-flight, shared by concurrent callers):
//!              upstream budget                                               | 503 + Retry-After
//!              create_auth_token(uid), retried on 5xx / transport           | 502, 503 on CometChat 429
//!              ERR_UID_NOT_FOUND and JIT on: create_user, mint again
//!              all within the retry policy's deadline                        | 504
//! ```
//!
//! * [`Gate`] / [`GateBuilder`]: the vending logic and its settings; HTTP reaches it through
//!   the [`Endpoint`](crate::endpoint::Endpoint).
//! * [`TokenResponse`], [`Problem`]: what a token request comes to. [`problem`] declares every
//!   problem type in one table.
//! * [`RateLimit`]: the per-user limit and the upstream budget.
//!
//! A request that arrives while a mint for the same UID is in flight joins it and does not
//! count against the per-user limit: it causes no CometChat call. So 20 parallel first
//! requests of a new user get 20 tokens from one mint and at most one user creation, even with
//! the default burst of 5.

mod answer;
pub(crate) mod gate;
pub mod limit;
pub mod problem;
mod provision;
mod single_flight;

pub use answer::TokenResponse;
pub use gate::{
    ENV_PER_USER_LIMIT, ENV_UPSTREAM_BUDGET, FromEnvError, Gate, GateBuildError, GateBuilder,
    NoIdentity,
};
pub use limit::{RateLimit, RateLimitError};
pub use problem::{Problem, ProblemType};
