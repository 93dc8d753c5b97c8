//! Keeping CometChat users in step with the app's accounts: signed webhooks from Clerk,
//! Supabase, Auth0 and any relay, turned into one [`event::UserEvent`] shape.
//!
//! - [`signature`]: Standard Webhooks / Svix HMAC signatures (the `clerk` and `standard`
//!   sources): [`SigningSecrets`] verifies, [`SigningSecret`] signs.
//! - [`shared_secret`]: the `Authorization` credential of the unsigned sources (`supabase`,
//!   `auth0`): [`SharedSecret`].
//! - [`receiver`]: the routes ([`Webhooks`]: sources, secrets, issuers) and what a delivery
//!   does, from its raw body to its answer.
//! - [`event`]: what a verified delivery says happened.
//! - [`source`]: each provider's payload parsed into an [`event::Parsed`].

pub mod event;
pub mod receiver;
pub mod shared_secret;
pub mod signature;
pub mod source;

pub use event::{Delivery, MalformedPayload, Parsed, Profile, Source, UserChange, UserEvent};
pub use receiver::{DEFAULT_WEBHOOK_PREFIX, WebhookEnvError, Webhooks};
pub use shared_secret::{AuthorizationError, SharedSecret, SharedSecretError};
pub use signature::{
    HeaderNames, SecretError, SignatureError, SigningSecret, SigningSecrets, Verified,
};
pub use source::SupabaseTable;
