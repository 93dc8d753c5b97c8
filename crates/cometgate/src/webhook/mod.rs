//! Keeping CometChat users in step with the app's accounts: signed webhooks from Clerk,
//! Supabase, Auth0 and any relay, turned into one [`event::UserEvent`] shape.

pub mod event;
pub mod source;

pub use event::{Delivery, MalformedPayload, Parsed, Profile, Source, UserChange, UserEvent};
pub use source::SupabaseTable;
