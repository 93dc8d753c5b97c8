//! The upstream half of a token request: mint, provision the user just in time, mint again.
//!
//! [`Vendor::mint`] is what one single-flight runs for a UID:
//!
//! 1. take a cell of the upstream budget (none left: `503`);
//! 2. `POST /users/{uid}/auth_tokens` (the client retries `5xx` and transport failures);
//! 3. if CometChat answers `ERR_UID_NOT_FOUND` and just-in-time provisioning is on: create the
//!    user from the principal's name and avatar (`ERR_UID_ALREADY_EXISTS` counts as done:
//!    someone else created it meanwhile), then mint once more.
//!
//! The whole sequence is bounded by the retry policy's deadline.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::{Client, Error as ClientError, NewUser, TokenValue};
use crate::uid::Uid;
use crate::vend::limit::UpstreamBudget;
use crate::vend::problem::Problem;

/// CometChat documents `Retry-After: 15` on its `429`; used when the header is missing.
const UPSTREAM_RETRY_AFTER_FALLBACK: Duration = Duration::from_secs(15);

/// CometChat's limit on a user's name, in characters.
const MAX_NAME_CHARS: usize = 100;

/// The profile a just-in-time created user gets.
#[derive(Clone, Default)]
pub(crate) struct Profile {
    pub(crate) name: Option<String>,
    pub(crate) avatar: Option<String>,
}

impl Profile {
    /// The new user for `uid`: the principal's name (trimmed, at most 100 characters), else
    /// the UID itself; the avatar only if it is an `http(s)` URL, since CometChat refuses
    /// others and a refused create would fail the sign-in.
    fn new_user(&self, uid: &Uid) -> NewUser {
        let name = self
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(MAX_NAME_CHARS).collect::<String>())
            .unwrap_or_else(|| uid.as_str().to_owned());
        let user = NewUser::new(uid.clone(), name);
        match self.avatar.as_deref().map(url::Url::parse) {
            Some(Ok(url)) if matches!(url.scheme(), "http" | "https") => user.avatar(url),
            _ => user,
        }
    }
}

/// What a successful flight produced.
#[derive(Clone)]
pub(crate) struct Minted {
    pub(crate) token: TokenValue,
    pub(crate) trace: Trace,
}

/// What the flight did upstream, for the request's log event.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trace {
    /// The status of the last CometChat answer (or `None` if none came).
    pub(crate) upstream_status: Option<u16>,
    /// Time spent on CometChat calls, retries included.
    pub(crate) upstream_latency: Duration,
    /// CometChat calls made (each may include client retries).
    pub(crate) upstream_calls: u32,
    /// Whether the user was created just in time.
    pub(crate) provisioned: bool,
}

/// Why a flight failed.
#[derive(Clone)]
pub(crate) enum VendError {
    /// The app-wide upstream budget is spent for `wait`.
    Budget { wait: Duration, trace: Trace },
    /// A CometChat call failed.
    Upstream {
        step: Step,
        error: Arc<ClientError>,
        trace: Trace,
    },
    /// The overall deadline passed.
    Deadline { trace: Trace },
}

/// Which CometChat call failed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Step {
    Mint,
    CreateUser,
    MintAfterCreate,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Mint => "mint",
            Step::CreateUser => "create_user",
            Step::MintAfterCreate => "mint_after_create",
        })
    }
}

impl VendError {
    pub(crate) fn trace(&self) -> &Trace {
        match self {
            Self::Budget { trace, .. }
            | Self::Upstream { trace, .. }
            | Self::Deadline { trace } => trace,
        }
    }

    /// The client-facing answer: 503 for rate limits, 504 for time-outs, 502 for the rest.
    pub(crate) fn problem(&self) -> Problem {
        match self {
            Self::Budget { wait, .. } => Problem::upstream_budget_exhausted(*wait),
            Self::Deadline { .. } => Problem::upstream_timeout(),
            Self::Upstream { error, .. } if error.status() == Some(429) && !error.is_deadline() => {
                Problem::upstream_rate_limited(
                    error.retry_after().unwrap_or(UPSTREAM_RETRY_AFTER_FALLBACK),
                )
            }
            Self::Upstream { error, .. } if error.is_deadline() || error.is_timeout() => {
                Problem::upstream_timeout()
            }
            Self::Upstream { .. } => Problem::upstream_failure(),
        }
    }

    /// A log-safe description (the client error is already scrubbed of the REST API key).
    pub(crate) fn log_detail(&self) -> String {
        match self {
            Self::Budget { wait, .. } => format!(
                "the upstream budget is spent for {} ms; raise GateBuilder::upstream_budget if CometChat's plan allows",
                wait.as_millis()
            ),
            Self::Deadline { .. } => "the overall deadline passed before CometChat answered".into(),
            Self::Upstream { step, error, .. } => {
                let hint = match error.code() {
                    Some(crate::client::codes::APIKEY_NOT_FOUND) => {
                        " (the REST API key is wrong: check COMETCHAT_REST_API_KEY and the app id/region)"
                    }
                    Some(crate::client::codes::NO_ACCESS) => {
                        " (the key lacks access: use a REST API key with full access, not an Auth Key)"
                    }
                    _ => "",
                };
                format!("{step} failed: {error}{hint}")
            }
        }
    }
}

/// Why the steps stopped, before the trace is attached.
enum Stop {
    Budget(Duration),
    Upstream(Step, ClientError),
}

/// Mints tokens for UIDs, creating users just in time.
pub(crate) struct Vendor {
    pub(crate) client: Client,
    pub(crate) budget: UpstreamBudget,
    pub(crate) jit: bool,
    pub(crate) deadline: Duration,
}

impl Vendor {
    /// One flight: budget, mint, maybe create and mint again; bounded by the deadline.
    pub(crate) async fn mint(&self, uid: Uid, profile: Profile) -> Result<Minted, VendError> {
        let mut trace = Trace::default();
        let outcome =
            tokio::time::timeout(self.deadline, self.steps(&uid, &profile, &mut trace)).await;
        match outcome {
            Ok(Ok(token)) => Ok(Minted { token, trace }),
            Ok(Err(Stop::Budget(wait))) => Err(VendError::Budget { wait, trace }),
            Ok(Err(Stop::Upstream(step, error))) => Err(VendError::Upstream {
                step,
                error: Arc::new(error),
                trace,
            }),
            Err(_) => Err(VendError::Deadline { trace }),
        }
    }

    async fn steps(
        &self,
        uid: &Uid,
        profile: &Profile,
        trace: &mut Trace,
    ) -> Result<TokenValue, Stop> {
        let error = match self.call(trace, self.client.create_auth_token(uid)).await? {
            Ok(token) => return Ok(token.auth_token),
            Err(e) => e,
        };
        if !(self.jit && error.is_uid_not_found()) {
            return Err(Stop::Upstream(Step::Mint, error));
        }
        let user = profile.new_user(uid);
        match self.call(trace, self.client.create_user(&user)).await? {
            Ok(_) => {}
            // A concurrent request (another process, or a retried create) made it first.
            Err(e) if e.is_uid_already_exists() => {}
            Err(e) => return Err(Stop::Upstream(Step::CreateUser, e)),
        }
        trace.provisioned = true;
        match self.call(trace, self.client.create_auth_token(uid)).await? {
            Ok(token) => Ok(token.auth_token),
            Err(e) => Err(Stop::Upstream(Step::MintAfterCreate, e)),
        }
    }

    /// Takes a budget cell, then runs one client call and records it in the trace. The outer
    /// `Result` is the budget, the inner one the call.
    async fn call<T>(
        &self,
        trace: &mut Trace,
        call: impl Future<Output = Result<T, ClientError>>,
    ) -> Result<Result<T, ClientError>, Stop> {
        // Inside CometChat's 429 window the client answers without a request: that costs no
        // budget and is no upstream call.
        if self.client.rate_limit_remaining().is_none() {
            self.budget.check().map_err(Stop::Budget)?;
        }
        let started = Instant::now();
        let result = call.await;
        if matches!(&result, Err(e) if e.is_cooldown()) {
            return Ok(result);
        }
        trace.upstream_calls += 1;
        trace.upstream_latency += started.elapsed();
        trace.upstream_status = match &result {
            Ok(_) => Some(200),
            Err(e) => e.status(),
        };
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(profile: Profile) -> serde_json::Value {
        let uid = Uid::parse("u1").unwrap();
        serde_json::to_value(profile.new_user(&uid)).unwrap()
    }

    #[test]
    fn new_users_get_a_usable_name_and_only_web_avatars() {
        let full = json(Profile {
            name: Some("  Ada Lovelace ".into()),
            avatar: Some("https://img.example/ada.png".into()),
        });
        assert_eq!(full["name"], "Ada Lovelace");
        assert_eq!(full["avatar"], "https://img.example/ada.png");

        for name in [None, Some(String::new()), Some("   ".into())] {
            let user = json(Profile { name, avatar: None });
            assert_eq!(user["name"], "u1", "the UID stands in for a missing name");
            assert!(user.get("avatar").is_none());
        }

        let long = json(Profile {
            name: Some("é".repeat(150)),
            avatar: None,
        });
        assert_eq!(long["name"].as_str().unwrap().chars().count(), 100);

        for avatar in [
            "javascript:alert(1)",
            "not a url",
            "ftp://x/y.png",
            "data:image/png;base64,AA",
        ] {
            let user = json(Profile {
                name: Some("A".into()),
                avatar: Some(avatar.into()),
            });
            assert!(user.get("avatar").is_none(), "{avatar} must be dropped");
        }
    }
}
