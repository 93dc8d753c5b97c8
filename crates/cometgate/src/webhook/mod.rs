//! Keeping CometChat users in step with the app's accounts: signed webhooks from Clerk,
//! Supabase, Auth0 and any relay, turned into one [`event::UserEvent`] shape.
//!
//! - [`signature`]: Standard Webhooks / Svix HMAC signatures (the `clerk` and `standard`
//!   sources): [`SigningSecrets`] verifies, [`SigningSecret`] signs.
//! - [`shared_secret`]: the `Authorization` credential of the unsigned sources (`supabase`,
//!   `auth0`): [`SharedSecret`].
//! - [`event`]: what a verified delivery says happened.
//! - [`source`]: each provider's payload parsed into an [`event::Parsed`].

pub mod event;
pub mod shared_secret;
pub mod signature;
pub mod source;

pub use event::{Delivery, MalformedPayload, Parsed, Profile, Source, UserChange, UserEvent};
pub use shared_secret::{AuthorizationError, SharedSecret, SharedSecretError};
pub use signature::{
    HeaderNames, SecretError, SignatureError, SigningSecret, SigningSecrets, Verified,
};
pub use source::SupabaseTable;
