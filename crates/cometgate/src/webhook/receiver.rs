//! The webhook routes: which sources the endpoint serves, how each authenticates, and what a
//! delivery does, from its raw body to its answer.
//!
//! A source is served on `{prefix}/{source}` (default prefix [`DEFAULT_WEBHOOK_PREFIX`]) only
//! when it is configured; unconfigured sources are not routes at all. A delivery:
//!
//! 1. is authenticated over its raw body: the Svix / Standard Webhooks signature (`clerk`,
//!    `standard`), or the `Authorization` credential (`supabase`, `auth0`). Failure: `401
//!    invalid-signature` (`400` for a malformed header), and nothing else happens;
//! 2. is parsed ([`source`]): a malformed payload is `400`, an event type
//!    cometgate does not act on `204`;
//! 3. is skipped (`204`) if its delivery id (`svix-id`, `webhook-id`, CloudEvents `id`) was
//!    completed within the last [`DELIVERY_MEMORY`];
//! 4. is applied through the gate's user sync ([`crate::vend::sync`]), ordered by the event's own
//!    time, else the signed timestamp, else the time of receipt; its subject maps to the UID
//!    with the gate's mapper, under the issuer the source is configured with, exactly as a
//!    token of that issuer would;
//! 5. answers `204`, and only then is its id remembered; a failure that trying later can fix is
//!    `503` with `Retry-After` (the sender delivers again, nothing is lost).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::Principal;
use crate::endpoint::rules;
use crate::identity::RequestView;
use crate::store::ChangeTime;
use crate::vend::{Gate, Problem};
use crate::webhook::shared_secret::{self, SharedSecret, SharedSecretError};
use crate::webhook::signature::{HeaderNames, SecretError, SigningSecrets};
use crate::webhook::source::{self, SupabaseTable};
use crate::webhook::{Delivery, Parsed, Source};

/// The path under which each source is served unless [`Webhooks::with_prefix`] says otherwise.
pub const DEFAULT_WEBHOOK_PREFIX: &str = "/cometchat-webhooks";

/// The largest webhook body accepted by default (bytes); larger ones get `413` before any
/// verification work.
pub const DEFAULT_WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

/// How long a completed delivery id is remembered: Svix retries for about 28 hours.
pub const DELIVERY_MEMORY: Duration = Duration::from_secs(48 * 3600);

/// The variable [`Webhooks::from_env`] reads Clerk's signing secret from.
pub const ENV_CLERK_SECRET: &str = "CLERK_WEBHOOK_SIGNING_SECRET";
/// The variable [`Webhooks::from_env`] reads the `standard` source's secrets from.
pub const ENV_STANDARD_SECRET: &str = "COMETGATE_WEBHOOK_SECRET";
/// The variable [`Webhooks::from_env`] reads the Supabase webhook's bearer secret from.
pub const ENV_SUPABASE_SECRET: &str = "SUPABASE_WEBHOOK_SECRET";
/// The variable [`Webhooks::from_env`] reads the Auth0 event stream's bearer token from.
pub const ENV_AUTH0_TOKEN: &str = "AUTH0_EVENT_STREAM_TOKEN";

/// How one source authenticates its deliveries.
enum Auth {
    Signed(SigningSecrets, HeaderNames),
    Shared(SharedSecret),
}

/// One configured source.
struct SourceConfig {
    issuer: String,
    auth: Auth,
    supabase_table: SupabaseTable,
}

/// Which webhook sources the endpoint serves, with their secrets and the issuer their subjects
/// belong to. Give it to [`Endpoint::with_webhooks`](crate::endpoint::Endpoint::with_webhooks).
///
/// ```
/// use cometgate::webhook::{SigningSecrets, Webhooks};
///
/// let secret: SigningSecrets = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
/// let webhooks = Webhooks::new().clerk(secret, "https://clerk.example.com");
/// assert_eq!(webhooks.paths(), ["/cometchat-webhooks/clerk"]);
/// assert!(!format!("{webhooks:?}").contains("MfKQ9"), "no secret in Debug");
/// # Ok::<(), cometgate::webhook::SecretError>(())
/// ```
#[derive(Clone, Default)]
pub struct Webhooks {
    prefix: Option<Box<str>>,
    sources: [Option<Arc<SourceConfig>>; 4],
    body_limit: Option<usize>,
}

impl fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhooks")
            .field("prefix", &self.prefix())
            .field("sources", &self.configured().collect::<Vec<_>>())
            .field("body_limit", &self.body_limit())
            .finish()
    }
}

/// [`Webhooks::from_env`] could not read a variable; the message names it and never quotes
/// its value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookEnvError {
    /// A signing secret is malformed.
    #[error("{var}: {source}")]
    Secret {
        /// The variable.
        var: &'static str,
        /// What is wrong with it.
        #[source]
        source: SecretError,
    },
    /// A bearer secret is too short or malformed.
    #[error("{var}: {source}")]
    SharedSecret {
        /// The variable.
        var: &'static str,
        /// What is wrong with it.
        #[source]
        source: SharedSecretError,
    },
}

fn slot(source: Source) -> usize {
    match source {
        Source::Clerk => 0,
        Source::Standard => 1,
        Source::Supabase => 2,
        Source::Auth0 => 3,
    }
}

impl Webhooks {
    /// No source yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn with(mut self, source: Source, issuer: String, auth: Auth, table: SupabaseTable) -> Self {
        self.sources[slot(source)] = Some(Arc::new(SourceConfig {
            issuer,
            auth,
            supabase_table: table,
        }));
        self
    }

    /// Serves `clerk`: Svix-signed (`svix-*` headers) with Clerk's signing secret; subjects
    /// are Clerk user ids of `issuer` (the `iss` of the app's Clerk session tokens).
    #[must_use]
    pub fn clerk(self, secrets: SigningSecrets, issuer: impl Into<String>) -> Self {
        let auth = Auth::Signed(secrets, HeaderNames::Svix);
        self.with(Source::Clerk, issuer.into(), auth, SupabaseTable::default())
    }

    /// Serves `standard`: cometgate's own event from a relay, signed per Standard Webhooks
    /// (`webhook-*` headers, or the same under `svix-*`); subjects belong to `issuer`.
    #[must_use]
    pub fn standard(self, secrets: SigningSecrets, issuer: impl Into<String>) -> Self {
        let auth = Auth::Signed(secrets, HeaderNames::WebhookOrSvix);
        self.with(
            Source::Standard,
            issuer.into(),
            auth,
            SupabaseTable::default(),
        )
    }

    /// Serves `supabase`: Database Webhooks of `table`, which are unsigned, authenticated by
    /// `Authorization` carrying `secret` (see [`SharedSecret::bearer`] with
    /// [`shared_secret::SUPABASE_MIN_LEN`]); subjects are user ids of `issuer` (the project's
    /// `https://<ref>.supabase.co/auth/v1`).
    #[must_use]
    pub fn supabase(
        self,
        secret: SharedSecret,
        issuer: impl Into<String>,
        table: SupabaseTable,
    ) -> Self {
        self.with(Source::Supabase, issuer.into(), Auth::Shared(secret), table)
    }

    /// Serves `auth0`: Event Streams, authenticated by `Authorization` carrying `secret`
    /// (Bearer with the stream's token, or Basic credentials); subjects are Auth0 user ids of
    /// `issuer` (the tenant's `https://<tenant>.auth0.com/`).
    #[must_use]
    pub fn auth0(self, secret: SharedSecret, issuer: impl Into<String>) -> Self {
        let auth = Auth::Shared(secret);
        self.with(Source::Auth0, issuer.into(), auth, SupabaseTable::default())
    }

    /// Every source whose variable is set: [`ENV_CLERK_SECRET`], [`ENV_STANDARD_SECRET`],
    /// [`ENV_SUPABASE_SECRET`] (Bearer, at least 32 bytes, table `auth.users`),
    /// [`ENV_AUTH0_TOKEN`] (Bearer, at least 32 bytes). `issuer` says which issuer each
    /// source's subjects belong to. An empty variable counts as unset.
    ///
    /// # Errors
    ///
    /// [`WebhookEnvError`] naming the first malformed variable.
    pub fn from_env(issuer: impl Fn(Source) -> String) -> Result<Self, WebhookEnvError> {
        Self::from_lookup(|var| std::env::var(var).ok(), issuer)
    }

    /// [`from_env`](Self::from_env) over any lookup (tests, config files).
    ///
    /// # Errors
    ///
    /// [`WebhookEnvError`] naming the first malformed variable.
    ///
    /// ```
    /// use cometgate::webhook::{Source, Webhooks};
    ///
    /// let vars = [("COMETGATE_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")];
    /// let lookup = |var: &str| vars.iter().find(|(k, _)| *k == var).map(|(_, v)| v.to_string());
    /// let webhooks = Webhooks::from_lookup(lookup, |_| "demo".to_owned())?;
    /// assert_eq!(webhooks.configured().collect::<Vec<_>>(), [Source::Standard]);
    ///
    /// let short = |var: &str| (var == "SUPABASE_WEBHOOK_SECRET").then(|| "short".to_owned());
    /// let error = Webhooks::from_lookup(short, |_| "demo".to_owned()).unwrap_err();
    /// assert!(error.to_string().starts_with("SUPABASE_WEBHOOK_SECRET: "));
    /// # Ok::<(), cometgate::webhook::WebhookEnvError>(())
    /// ```
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        issuer: impl Fn(Source) -> String,
    ) -> Result<Self, WebhookEnvError> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let signed = |name: &'static str| {
            var(name)
                .map(|v| v.parse::<SigningSecrets>())
                .transpose()
                .map_err(|source| WebhookEnvError::Secret { var: name, source })
        };
        let bearer = |name: &'static str, min: usize| {
            var(name)
                .map(|v| SharedSecret::bearer(v.trim(), min))
                .transpose()
                .map_err(|source| WebhookEnvError::SharedSecret { var: name, source })
        };
        let mut webhooks = Self::new();
        if let Some(secrets) = signed(ENV_CLERK_SECRET)? {
            webhooks = webhooks.clerk(secrets, issuer(Source::Clerk));
        }
        if let Some(secrets) = signed(ENV_STANDARD_SECRET)? {
            webhooks = webhooks.standard(secrets, issuer(Source::Standard));
        }
        if let Some(secret) = bearer(ENV_SUPABASE_SECRET, shared_secret::SUPABASE_MIN_LEN)? {
            let table = SupabaseTable::default();
            webhooks = webhooks.supabase(secret, issuer(Source::Supabase), table);
        }
        if let Some(secret) = bearer(ENV_AUTH0_TOKEN, shared_secret::AUTH0_MIN_LEN)? {
            webhooks = webhooks.auth0(secret, issuer(Source::Auth0));
        }
        Ok(webhooks)
    }

    /// Serves the sources under `prefix` instead of [`DEFAULT_WEBHOOK_PREFIX`].
    ///
    /// # Errors
    ///
    /// [`InvalidPath`](crate::endpoint::InvalidPath) unless `prefix` is a plain absolute path.
    pub fn with_prefix(
        mut self,
        prefix: impl Into<String>,
    ) -> Result<Self, crate::endpoint::InvalidPath> {
        let prefix = prefix.into();
        if !rules::is_valid_token_path(&prefix) {
            return Err(crate::endpoint::InvalidPath::new(prefix));
        }
        self.prefix = Some(prefix.into());
        Ok(self)
    }

    /// Refuses webhook bodies longer than `bytes` with `413` (default
    /// [`DEFAULT_WEBHOOK_BODY_LIMIT`]).
    #[must_use]
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = Some(bytes);
        self
    }

    /// The prefix the sources are served under.
    pub fn prefix(&self) -> &str {
        self.prefix.as_deref().unwrap_or(DEFAULT_WEBHOOK_PREFIX)
    }

    /// The body limit of the webhook routes.
    pub fn body_limit(&self) -> usize {
        self.body_limit.unwrap_or(DEFAULT_WEBHOOK_BODY_LIMIT)
    }

    /// The configured sources, in [`Source::ALL`] order.
    pub fn configured(&self) -> impl Iterator<Item = Source> + '_ {
        Source::ALL
            .into_iter()
            .filter(|s| self.sources[slot(*s)].is_some())
    }

    /// The path of every configured source.
    pub fn paths(&self) -> Vec<String> {
        self.configured()
            .map(|s| format!("{}/{s}", self.prefix()))
            .collect()
    }

    /// The configured source `path` is the route of, if any.
    pub(crate) fn route(&self, path: &str) -> Option<Source> {
        let name = path.strip_prefix(self.prefix())?.strip_prefix('/')?;
        self.configured().find(|s| s.as_str() == name)
    }

    fn config(&self, source: Source) -> Option<&SourceConfig> {
        self.sources[slot(source)].as_deref()
    }

    /// What can be checked before the body is read: a shared secret entirely, a signature's
    /// headers for presence. `Err`: the problem and the reason for the log (boxed: the refusal
    /// is the rare path); the body is then never waited for.
    pub(crate) fn precheck(
        &self,
        source: Source,
        head: &DeliveryHead,
    ) -> Result<(), Box<(Problem, String)>> {
        let Some(config) = self.config(source) else {
            return Err(Box::new((
                Problem::misconfigured(),
                "the source is not configured".to_owned(),
            )));
        };
        match &config.auth {
            Auth::Shared(secret) => secret
                .verify(head.get("authorization"))
                .map_err(|e| Box::new((refusal(e.status()), e.to_string()))),
            Auth::Signed(_, names) => {
                let sets: &[[&str; 3]] = match names {
                    HeaderNames::Webhook => &[WEBHOOK_HEADERS],
                    HeaderNames::Svix => &[SVIX_HEADERS],
                    _ => &[WEBHOOK_HEADERS, SVIX_HEADERS],
                };
                if sets
                    .iter()
                    .any(|set| set.iter().all(|h| head.get(h).is_some()))
                {
                    Ok(())
                } else {
                    Err(Box::new((
                        Problem::invalid_signature(),
                        "the webhook's id, timestamp or signature header is missing".to_owned(),
                    )))
                }
            }
        }
    }
}

const WEBHOOK_HEADERS: [&str; 3] = ["webhook-id", "webhook-timestamp", "webhook-signature"];
const SVIX_HEADERS: [&str; 3] = ["svix-id", "svix-timestamp", "svix-signature"];

/// The request headers a delivery is authenticated with, copied from the head (the body
/// arrives later). `Debug` names the headers, never their values (a shared secret, signatures).
#[derive(Clone, Default)]
pub(crate) struct DeliveryHead {
    headers: Vec<(&'static str, Bytes)>,
}

impl fmt::Debug for DeliveryHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.headers.iter().map(|(name, _)| name))
            .finish()
    }
}

const CAPTURED: [&str; 7] = [
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-timestamp",
    "svix-signature",
    "authorization",
];

impl DeliveryHead {
    pub(crate) fn capture<R: RequestView + ?Sized>(head: &R) -> Self {
        let headers = CAPTURED
            .into_iter()
            .filter_map(|name| head.header(name).map(|v| (name, Bytes::copy_from_slice(v))))
            .collect();
        Self { headers }
    }

    fn get(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| &v[..])
    }
}

/// What a delivery did, for its log event and metric.
#[derive(Debug, Default)]
pub(crate) struct DeliveryRecord {
    pub(crate) event_type: Option<String>,
    pub(crate) delivery_id: Option<String>,
    /// `applied`, `ignored` (older than known, or a type cometgate does not act on),
    /// `duplicate`; `None` on a problem.
    pub(crate) outcome: Option<&'static str>,
    /// The keyed hash of the (issuer, subject) pair ([`crate::subject_hash`]).
    pub(crate) subject: Option<String>,
    pub(crate) detail: Option<String>,
}

/// Receives one delivery from `source` (configured in `webhooks`).
pub(crate) async fn receive<I: Send + Sync + 'static>(
    gate: &Gate<I>,
    webhooks: &Webhooks,
    source: Source,
    head: &DeliveryHead,
    body: &Bytes,
) -> (Result<(), Problem>, DeliveryRecord) {
    let mut record = DeliveryRecord::default();
    let result = deliver(gate, webhooks, source, head, body, &mut record).await;
    (result, record)
}

async fn deliver<I: Send + Sync + 'static>(
    gate: &Gate<I>,
    webhooks: &Webhooks,
    source: Source,
    head: &DeliveryHead,
    body: &Bytes,
    record: &mut DeliveryRecord,
) -> Result<(), Problem> {
    let Some(config) = webhooks.config(source) else {
        return Err(Problem::misconfigured());
    };
    let now_ms = gate.now_millis();
    let signed_at = match &config.auth {
        Auth::Signed(secrets, names) => {
            match secrets.verify(*names, |n| head.get(n), body, now_ms / 1000) {
                Ok(verified) => {
                    record.delivery_id = Some(verified.id().to_owned());
                    // Whole seconds: the end of that second, so it never looks older than an
                    // event dated in milliseconds within it.
                    Some(
                        verified
                            .timestamp()
                            .saturating_mul(1000)
                            .saturating_add(999),
                    )
                }
                Err(e) => return Err(refused(e.status(), e.to_string(), record)),
            }
        }
        Auth::Shared(secret) => match secret.verify(head.get("authorization")) {
            Ok(()) => None,
            Err(e) => return Err(refused(e.status(), e.to_string(), record)),
        },
    };
    let parsed: Parsed = match source {
        Source::Clerk => source::clerk::parse(body),
        Source::Standard => source::standard::parse(body),
        Source::Supabase => source::supabase::parse(body, &config.supabase_table),
        Source::Auth0 => source::auth0::parse(body),
    }
    .map_err(|e| {
        record.detail = Some(e.to_string());
        Problem::bad_request_because(e.reason().to_owned())
    })?;
    record.event_type = Some(parsed.event_type.clone());
    if record.delivery_id.is_none() {
        record.delivery_id.clone_from(&parsed.delivery_id);
    }
    let key = record
        .delivery_id
        .as_ref()
        .map(|id| format!("{source}:{id}"));
    let accounts = gate.account_store();
    if let Some(key) = &key {
        match accounts.delivery_done(key, now_ms).await {
            Ok(true) => {
                record.outcome = Some("duplicate");
                return Ok(());
            }
            Ok(false) => {}
            Err(e) => {
                record.detail = Some(e.to_string());
                return Err(Problem::store_unavailable(Duration::from_secs(1)));
            }
        }
    }
    let applied = match parsed.delivery {
        Delivery::Ignored => false,
        Delivery::User(event) => {
            let principal = Principal::new(config.issuer.clone(), event.subject);
            record.subject = Some(crate::subject_hash::hash(
                &config.issuer,
                principal.subject(),
            ));
            let at = match (event.occurred_at, signed_at) {
                (Some(at), _) => ChangeTime::Event(at),
                (None, Some(at)) => ChangeTime::Delivery(at),
                (None, None) => ChangeTime::Delivery(now_ms),
            };
            match gate
                .apply_user_change(&principal, event.change, event.profile, at)
                .await
            {
                Ok(synced) => synced == crate::vend::Synced::Applied,
                Err(e) => {
                    record.detail = Some(e.to_string());
                    return Err(e.problem().clone());
                }
            }
        }
        Delivery::SessionEnded {
            subject,
            session_id,
        } => {
            let principal = Principal::new(config.issuer.clone(), subject);
            record.subject = Some(crate::subject_hash::hash(
                &config.issuer,
                principal.subject(),
            ));
            if let Err(e) = gate.end_session(&principal, &session_id).await {
                record.detail = Some(e.to_string());
                return Err(e.problem().clone());
            }
            true
        }
    };
    record.outcome = Some(if applied { "applied" } else { "ignored" });
    if let Some(key) = &key {
        let until =
            now_ms.saturating_add(u64::try_from(DELIVERY_MEMORY.as_millis()).unwrap_or(u64::MAX));
        if let Err(e) = accounts.complete_delivery(key, until).await {
            // The change is applied and idempotent: a redelivery only repeats it.
            record.detail = Some(format!("the delivery id was not remembered: {e}"));
        }
    }
    Ok(())
}

/// The problem for a delivery that did not authenticate: `400` for a malformed header, else
/// `401`; the reason goes to the log only.
fn refused(status: u16, reason: String, record: &mut DeliveryRecord) -> Problem {
    record.detail = Some(reason);
    refusal(status)
}

fn refusal(status: u16) -> Problem {
    if status == 400 {
        Problem::bad_request_because("A webhook header is malformed.")
    } else {
        Problem::invalid_signature()
    }
}
