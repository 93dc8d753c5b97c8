//! What a webhook delivery says happened, once its source's payload is parsed: the one shape the
//! user sync (`Gate::upsert_user`, `Gate::delete_user`) consumes,
//! whichever provider sent it.

use std::fmt;

/// The webhook sources cometgate receives, each on `{prefix}/{source}` (see [`Source::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Clerk, signed by Svix (`svix-*` headers, `CLERK_WEBHOOK_SIGNING_SECRET`).
    Clerk,
    /// cometgate's own event from a relay, signed per Standard Webhooks (`webhook-*` or
    /// `svix-*` headers, `COMETGATE_WEBHOOK_SECRET`).
    Standard,
    /// Supabase Database Webhooks (unsigned; `Authorization: Bearer <SUPABASE_WEBHOOK_SECRET>`).
    Supabase,
    /// Auth0 Event Streams (CloudEvents; `Authorization: Bearer <AUTH0_EVENT_STREAM_TOKEN>`).
    Auth0,
}

impl Source {
    /// Every source, in a fixed order (metric labels, docs).
    pub const ALL: [Source; 4] = [
        Source::Clerk,
        Source::Standard,
        Source::Supabase,
        Source::Auth0,
    ];

    /// The source's path segment and `source` label: `clerk`, `standard`, `supabase`, `auth0`.
    ///
    /// ```
    /// use cometgate::webhook::Source;
    /// assert_eq!(Source::Auth0.as_str(), "auth0");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Clerk => "clerk",
            Source::Standard => "standard",
            Source::Supabase => "supabase",
            Source::Auth0 => "auth0",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserChange {
    /// The account was created (signup): create the CometChat user.
    Created,
    /// The profile changed: update the CometChat user (created if CometChat lacks it).
    Updated,
    /// The account was deleted: revoke its tokens, tombstone it, delete the CometChat user.
    Deleted,
}

impl UserChange {
    /// `created`, `updated` or `deleted`.
    pub const fn as_str(self) -> &'static str {
        match self {
            UserChange::Created => "created",
            UserChange::Updated => "updated",
            UserChange::Deleted => "deleted",
        }
    }
}

/// The profile fields cometgate mirrors to CometChat. `None`: the source did not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// The display name.
    pub name: Option<String>,
    /// The avatar URL.
    pub avatar: Option<String>,
}

/// A change to one account, in its provider's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEvent {
    /// What happened.
    pub change: UserChange,
    /// The provider's user id: the same value the provider's session tokens carry as `sub`,
    /// so the gate's mapper turns it into the UID the token route mints for.
    pub subject: String,
    /// The new profile (empty for [`UserChange::Deleted`]).
    pub profile: Profile,
    /// When the change happened (Unix milliseconds) according to the payload (`updatedAt`,
    /// `updated_at`, CloudEvents `time`), if it says. Newer events win; see
    /// `Gate::upsert_user`.
    pub occurred_at: Option<u64>,
}

/// What a verified delivery asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A change to an account.
    User(UserEvent),
    /// A sign-in session ended (Clerk's `session.ended`, `session.removed`, `session.revoked`):
    /// revoke the token of the device keyed by that session.
    SessionEnded {
        /// The provider's user id.
        subject: String,
        /// The session id (the device id of a request that named no device).
        session_id: String,
    },
    /// An event type cometgate does not act on: acknowledged (204), nothing happens.
    Ignored,
}

/// A parsed payload: what it asks for, and what identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// What the delivery asks for.
    pub delivery: Delivery,
    /// The event type as the payload names it (`user.created`, `INSERT`, ...), for the log;
    /// at most 64 characters of `[A-Za-z0-9._:-]`, anything else replaced by `?`.
    pub event_type: String,
    /// The delivery id the payload itself carries (CloudEvents `id`), when the transport's
    /// headers carry none.
    pub delivery_id: Option<String>,
}

/// A validly authenticated payload that is not what its source sends: 400, nothing happens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed webhook payload: {reason}")]
pub struct MalformedPayload {
    reason: String,
}

impl MalformedPayload {
    /// A malformed payload, for `reason` (shown in the log and the problem's detail; it must
    /// not quote the payload).
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// Why the payload was refused.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}
