//! What the sources' tests share: the realistic payloads and reading them back.

use serde_json::Value;

use crate::webhook::{Delivery, Parsed, Profile, UserChange, UserEvent};

/// A payload of `testdata/` as JSON.
pub(super) fn fixture(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// The payload `text` with the value at the JSON pointer `at` changed by `edit`.
pub(super) fn edited(text: &str, at: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut event = fixture(text);
    edit(event.pointer_mut(at).unwrap());
    event
}

/// The user event a parse must have given.
pub(super) fn user_event(parsed: Parsed) -> UserEvent {
    match parsed.delivery {
        Delivery::User(event) => event,
        other => panic!("expected a user event, got {other:?}"),
    }
}

/// The user event a test expects: `change` of `subject`, with that name, avatar and time.
pub(super) fn expected(
    change: UserChange,
    subject: &str,
    name: Option<&str>,
    avatar: Option<&str>,
    occurred_at: Option<u64>,
) -> UserEvent {
    UserEvent {
        change,
        subject: subject.to_owned(),
        profile: Profile {
            name: name.map(str::to_owned),
            avatar: avatar.map(str::to_owned),
        },
        occurred_at,
    }
}
