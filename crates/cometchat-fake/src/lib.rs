//! # cometchat-fake
//!
//! A faithful, stateful fake of CometChat's REST API v3, for tests of any CometChat client — in
//! Rust in-process, or in any language through the `cometchat-fake` binary and its HTTP control
//! API. It does not depend on cometgate.
//!
//! What it fakes (under both `/v3` and `/v3.0`), with the envelopes, error bodies and statuses
//! recorded from the real server:
//! - users: create (incl. `withAuthToken`), get, list (newest first, `perPage`/`page`,
//!   `meta.pagination`), update (incl. `unset`), delete (`permanent: true` removes; otherwise
//!   deactivate), reactivate (`PUT /users` with `uidsToActivate`);
//! - auth tokens: create, list, get, update, delete one, flush — tokens look like the real ones
//!   (`<uid>_<createdAt><30 hex>`), never expire, and only the newest 100 per user stay valid;
//! - the client API the official JS SDK uses to log in with a token (`PUT /me`, `GET /me`,
//!   `DELETE /me`, `POST /user_sessions`, `GET /settings`, CORS preflight);
//! - `apikey` checking (401 `AUTH_ERR_APIKEY_NOT_FOUND` with the key masked; an optional Auth
//!   Key that may only create users and tokens, 403 `AUTH_ERR_NO_ACCESS` otherwise), rate-limit
//!   headers on every answer, an optional per-minute limit.
//!
//! What it adds for tests: a bounded [journal](FakeCometChat::journal) of requests and answers,
//! per-route [fault scripts](FakeCometChat::push_faults) (status, delay, hang, close, malformed
//! JSON), strict mode, [`reset`](FakeCometChat::reset), seeding, and the same controls over HTTP
//! under `/__admin/` (see the crate README).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use cometchat_fake::{FakeCometChat, Fault};
//!
//! let cc = FakeCometChat::start().await;
//! cc.push_faults("POST /users/{uid}/auth_tokens", [Fault::status(503)]);
//!
//! let http = reqwest::Client::new();
//! let mint = || http.post(format!("{}/users/alice/auth_tokens", cc.base_url()))
//!     .header("apikey", cc.api_key())
//!     .send();
//! assert_eq!(mint().await.unwrap().status(), 503); // the scripted fault
//! assert_eq!(mint().await.unwrap().status(), 404); // alice does not exist
//! assert_eq!(cc.count("POST /users/{uid}/auth_tokens"), 2);
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod builder;
mod clock;
mod control;
mod errors;
mod fake;
mod fake_user;
mod faults;
mod handler;
mod journal;
mod paging;
mod rate_limit;
mod response;
mod rest;
mod routes;
mod sdk;
mod server;
mod state;
mod store;
mod tokens;
mod users;
mod validation;

pub use builder::{FakeBuilder, StartError};
pub use control::MAX_CONTROL_BODY_BYTES;
pub use fake::FakeCometChat;
pub use fake_user::FakeUser;
pub use faults::Fault;
pub use journal::{DEFAULT_JOURNAL_CAPACITY, JournalEntry};
pub use routes::ROUTES;
pub use server::{ConnectionClosed, FakeService};
pub use tokens::TOKENS_KEPT_PER_USER;
