//! Token vending: the token route's logic, without HTTP.
//!
//! ```text
//! Gate:    UidMapper.map(principal)        -> Uid                            | 500
//!          device: the request's deviceId, else the identity's session, else a new one
//!          the store's token for (UID, device), unless refresh:              | 503 store
//!            not expired (and confirmed upstream if the recheck is due)     -> reused, no mint
//!          else join the mint in flight for this (UID, device), or, if none:
//!            per-user limiter              (only new mints count)            | 429 + Retry-After
//!            start a mint (single-flight, shared by concurrent callers):
//!              the store's mint lock (another gate holds it: wait for its token) | 503 mint-pending
//!              upstream budget                                               | 503 + Retry-After
//!              create_auth_token(uid), retried on 5xx / transport           | 502, 503 on CometChat 429
//!              ERR_UID_NOT_FOUND and JIT on: create_user withAuthToken
//!              track it; the account deleted meanwhile: take it back         | 403
//!              delete what the store retired (old token, over the cap)
//!          all of it within one deadline, the retry policy's                 | 504
//! ```
//!
//! * [`Gate`] / [`GateBuilder`]: the vending logic and its settings; HTTP reaches it through
//!   the [`Endpoint`](crate::endpoint::Endpoint).
//! * [`TokenPolicy`]: the cap per user, max age and recheck; [`tokens`] is the lifecycle
//!   written against the [`TokenStore`](crate::store::TokenStore) seam.
//! * [`TokenResponse`], [`Problem`]: what a token request comes to. [`problem`] declares every
//!   problem type in one table.
//! * [`RateLimit`]: the per-user limit and the upstream budget.
//!
//! A request that arrives while a mint for the same (UID, device) is in flight joins it and
//! does not count against the per-user limit: it causes no CometChat call. So 20 parallel first
//! requests from one device get one token from one mint and at most one user creation.

mod answer;
mod completion;
pub(crate) mod gate;
pub mod limit;
pub mod policy;
pub mod problem;
mod provision;
#[cfg(test)]
mod shared_store_tests;
mod single_flight;
pub mod sync;
pub mod tokens;

pub use answer::TokenResponse;
pub use gate::{
    ENV_PER_USER_LIMIT, ENV_UPSTREAM_BUDGET, FromEnvError, Gate, GateBuildError, GateBuilder,
    NoIdentity, Revoke, RevokeError,
};
pub use limit::{RateLimit, RateLimitError};
pub use policy::{
    ENV_TOKEN_MAX_AGE, ENV_TOKEN_RECHECK, ENV_TOKENS_PER_USER, PolicyError, TokenPolicy,
};
pub use problem::{Problem, ProblemType};
pub use sync::{Account, SyncError, Synced};
pub use tokens::SweepReport;
