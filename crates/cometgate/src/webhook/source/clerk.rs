//! Clerk's webhook events, as Svix delivers them: `{"type", "object": "event", "data", ...}`.
//!
//! | `type` | `data` | parsed as |
//! |---|---|---|
//! | `user.created`, `user.updated` | the User: `id`, `first_name`, `last_name`, `username`, `image_url`, `updated_at` (Unix ms) | [`UserChange::Created`] / [`UserChange::Updated`] |
//! | `user.deleted` | `{"id", "deleted": true, "object": "user"}` | [`UserChange::Deleted`], no time (the payload has no time of the deletion) |
//! | `session.ended`, `session.removed`, `session.revoked` | the Session: `id`, `user_id` | [`Delivery::SessionEnded`] |
//! | anything else | | [`Delivery::Ignored`] |
//!
//! The name is `first_name` and `last_name` joined by a space, else `username`. Svix's
//! `svix-id` header identifies the delivery, so [`Parsed::delivery_id`] is `None`.
//!
//! [`UserChange::Created`]: crate::webhook::UserChange::Created
//! [`UserChange::Updated`]: crate::webhook::UserChange::Updated
//! [`UserChange::Deleted`]: crate::webhook::UserChange::Deleted

use super::json::{self, Object};
use super::{deletion, name, parsed, upsert};
use crate::webhook::{Delivery, MalformedPayload, Parsed, Profile, UserChange};

/// Parses a Clerk webhook body (already verified) into what it asks for.
///
/// ```
/// use cometgate::webhook::{Delivery, UserChange, source};
///
/// let body = br#"{"object": "event", "type": "user.updated", "data": {
///     "id": "user_2hA9aWq8TfLzXc3VbN5mKpRsUjE", "object": "user",
///     "first_name": "Ada", "last_name": "Lovelace", "username": "ada",
///     "image_url": "https://img.clerk.com/abc", "updated_at": 1716883200123}}"#;
/// let parsed = source::clerk::parse(body)?;
/// let Delivery::User(event) = parsed.delivery else { panic!("a user event") };
/// assert_eq!(event.change, UserChange::Updated);
/// assert_eq!(event.subject, "user_2hA9aWq8TfLzXc3VbN5mKpRsUjE");
/// assert_eq!(event.profile.name.as_deref(), Some("Ada Lovelace"));
/// assert_eq!(event.occurred_at, Some(1716883200123));
/// assert_eq!(parsed.event_type, "user.updated");
///
/// let other = source::clerk::parse(br#"{"type": "organization.created", "data": {}}"#)?;
/// assert_eq!(other.delivery, Delivery::Ignored);
/// # Ok::<(), cometgate::webhook::MalformedPayload>(())
/// ```
///
/// # Errors
/// [`MalformedPayload`] when the body is not such an event: see the
/// [rules](super#the-rules-every-source-follows).
pub fn parse(body: &[u8]) -> Result<Parsed, MalformedPayload> {
    let value = json::parse(body)?;
    let event = Object::root(&value)?;
    let kind = event.required_str("type")?;
    let delivery = match kind {
        "user.created" => user(UserChange::Created, &event.required_object("data")?)?,
        "user.updated" => user(UserChange::Updated, &event.required_object("data")?)?,
        "user.deleted" => user_deleted(&event.required_object("data")?)?,
        "session.ended" | "session.removed" | "session.revoked" => {
            let session = event.required_object("data")?;
            Delivery::SessionEnded {
                subject: session.identifier("user_id")?,
                session_id: session.identifier("id")?,
            }
        }
        _ => Delivery::Ignored,
    };
    Ok(parsed(delivery, kind, None))
}

/// A `user.created` or `user.updated` event's User object.
fn user(change: UserChange, user: &Object<'_>) -> Result<Delivery, MalformedPayload> {
    let first = user.str("first_name")?.unwrap_or_default();
    let last = user.str("last_name")?.unwrap_or_default();
    let username = user.name("username")?;
    let profile = Profile {
        name: name(&format!("{} {}", first.trim(), last.trim())).or(username),
        avatar: user.avatar("image_url")?,
    };
    Ok(upsert(
        change,
        user.identifier("id")?,
        profile,
        user.millis("updated_at")?,
    ))
}

/// A `user.deleted` event's stub, which must say `deleted: true`.
fn user_deleted(stub: &Object<'_>) -> Result<Delivery, MalformedPayload> {
    if stub.bool("deleted")? != Some(true) {
        return Err(MalformedPayload::new(format!(
            "`{}` is not true",
            stub.path_of("deleted")
        )));
    }
    Ok(deletion(stub.identifier("id")?, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::source::testing::{edited, expected, fixture, user_event};
    use serde_json::{Value, json};

    const CREATED: &str = include_str!("testdata/clerk_user_created.json");
    const DELETED: &str = include_str!("testdata/clerk_user_deleted.json");
    const SESSION_ENDED: &str = include_str!("testdata/clerk_session_ended.json");
    const USER: &str = "user_2hA9aWq8TfLzXc3VbN5mKpRsUjE";

    fn parse_value(value: &Value) -> Result<Parsed, MalformedPayload> {
        parse(value.to_string().as_bytes())
    }

    /// Clerk's `user.created` fixture with `data` changed by `edit`.
    fn created_with(edit: impl FnOnce(&mut Value)) -> Value {
        edited(CREATED, "/data", edit)
    }

    #[test]
    fn user_created_is_parsed_from_clerks_payload() {
        let parsed = parse(CREATED.as_bytes()).unwrap();
        assert_eq!(parsed.event_type, "user.created");
        assert_eq!(parsed.delivery_id, None);
        assert_eq!(
            user_event(parsed),
            expected(
                UserChange::Created,
                USER,
                Some("Ada Lovelace"),
                Some("https://img.clerk.com/eyJ0eXBlIjoicHJveHkiLCJzcmMiOiJodHRwcyJ9"),
                Some(1_716_883_200_123)
            )
        );
    }

    #[test]
    fn user_updated_is_an_update() {
        let mut event = fixture(CREATED);
        event["type"] = json!("user.updated");
        let parsed = parse_value(&event).unwrap();
        assert_eq!(parsed.event_type, "user.updated");
        assert_eq!(user_event(parsed).change, UserChange::Updated);
    }

    #[test]
    fn the_name_falls_back_from_first_and_last_to_username() {
        for (first, last, username, expected) in [
            (json!("Ada"), json!(null), json!("ada"), Some("Ada")),
            (
                json!(null),
                json!("Lovelace"),
                json!("ada"),
                Some("Lovelace"),
            ),
            (
                json!("  Ada "),
                json!(" Lovelace "),
                json!(null),
                Some("Ada Lovelace"),
            ),
            (json!(null), json!(null), json!("ada"), Some("ada")),
            (json!(" "), json!(""), json!(" ada "), Some("ada")),
            (json!(null), json!(null), json!(null), None),
            (json!(""), json!(""), json!(""), None),
        ] {
            let event = created_with(|data| {
                data["first_name"] = first.clone();
                data["last_name"] = last.clone();
                data["username"] = username.clone();
            });
            let name = user_event(parse_value(&event).unwrap()).profile.name;
            assert_eq!(name.as_deref(), expected, "{first} {last} {username}");
        }
    }

    #[test]
    fn missing_profile_fields_and_time_are_none() {
        let event = created_with(|data| {
            let data = data.as_object_mut().unwrap();
            for key in [
                "first_name",
                "last_name",
                "username",
                "image_url",
                "updated_at",
            ] {
                data.remove(key);
            }
        });
        let parsed = user_event(parse_value(&event).unwrap());
        assert_eq!(parsed.profile, Profile::default());
        assert_eq!(parsed.occurred_at, None);
        assert_eq!(parsed.subject, USER);
    }

    #[test]
    fn a_bad_avatar_is_dropped_and_the_event_kept() {
        for avatar in ["not a url", "javascript:alert(1)", "/img.png"] {
            let event = created_with(|data| data["image_url"] = json!(avatar));
            let parsed = user_event(parse_value(&event).unwrap());
            assert_eq!(parsed.profile.avatar, None, "{avatar}");
            assert_eq!(parsed.profile.name.as_deref(), Some("Ada Lovelace"));
        }
    }

    #[test]
    fn user_deleted_is_a_deletion_without_time() {
        let parsed = parse(DELETED.as_bytes()).unwrap();
        assert_eq!(parsed.event_type, "user.deleted");
        assert_eq!(
            user_event(parsed),
            expected(UserChange::Deleted, USER, None, None, None)
        );
    }

    #[test]
    fn user_deleted_must_say_deleted_true() {
        for deleted in [json!(false), json!(null)] {
            let mut event = fixture(DELETED);
            event["data"]["deleted"] = deleted;
            let err = parse_value(&event).unwrap_err();
            assert_eq!(err.reason(), "`data.deleted` is not true");
        }
        let mut event = fixture(DELETED);
        event["data"]["deleted"] = json!("yes");
        let err = parse_value(&event).unwrap_err();
        assert_eq!(err.reason(), "`data.deleted` is not a boolean");
    }

    #[test]
    fn every_ended_session_type_revokes_that_session() {
        for kind in ["session.ended", "session.removed", "session.revoked"] {
            let mut event = fixture(SESSION_ENDED);
            event["type"] = json!(kind);
            let parsed = parse_value(&event).unwrap();
            assert_eq!(parsed.event_type, kind);
            assert_eq!(
                parsed.delivery,
                Delivery::SessionEnded {
                    subject: USER.to_owned(),
                    session_id: "sess_2hA9cXyZ1wV2uT3sR4qP5oN6mLk".to_owned(),
                }
            );
        }
    }

    #[test]
    fn a_session_without_its_user_is_malformed() {
        let mut event = fixture(SESSION_ENDED);
        event["data"].as_object_mut().unwrap().remove("user_id");
        assert_eq!(
            parse_value(&event).unwrap_err().reason(),
            "`data.user_id` is missing"
        );
    }

    #[test]
    fn other_types_are_ignored_whatever_their_data() {
        for kind in [
            "session.created",
            "organization.created",
            "email.created",
            "user.created.v2",
            "",
        ] {
            let mut event = fixture(CREATED);
            event["type"] = json!(kind);
            event["data"] = json!(["not", "a", "user"]);
            let parsed = parse_value(&event).unwrap();
            assert_eq!(parsed.delivery, Delivery::Ignored, "{kind}");
            assert_eq!(parsed.event_type, kind);
        }
    }

    #[test]
    fn malformed_payloads_name_the_field_and_never_quote_it() {
        let secretish = "leak-me-7c1f";
        let cases: Vec<(Value, &str)> = vec![
            (json!([secretish]), "the body is not a JSON object"),
            (json!({"data": {}}), "`type` is missing"),
            (json!({"type": 7, "data": {}}), "`type` is not a string"),
            (json!({"type": "user.created"}), "`data` is missing"),
            (
                json!({"type": "user.created", "data": secretish}),
                "`data` is not an object",
            ),
            (
                created_with(|data| data["id"] = json!(null)),
                "`data.id` is missing",
            ),
            (
                created_with(|data| data["id"] = json!(42)),
                "`data.id` is not a string",
            ),
            (
                created_with(|data| data["id"] = json!("")),
                "`data.id` is empty",
            ),
            (
                created_with(|data| data["id"] = json!(format!("{secretish}\u{0}"))),
                "`data.id` contains a control character",
            ),
            (
                created_with(|data| data["first_name"] = json!([secretish])),
                "`data.first_name` is not a string",
            ),
            (
                created_with(|data| data["image_url"] = json!({"url": secretish})),
                "`data.image_url` is not a string",
            ),
            (
                created_with(|data| data["updated_at"] = json!(secretish)),
                "`data.updated_at` is not a whole number of milliseconds",
            ),
            (
                created_with(|data| data["updated_at"] = json!(-1)),
                "`data.updated_at` is not a whole number of milliseconds",
            ),
            (
                created_with(|data| data["updated_at"] = json!(1.5e12)),
                "`data.updated_at` is not a whole number of milliseconds",
            ),
            (
                created_with(|data| data["updated_at"] = json!(253_402_300_800_000_u64)),
                "`data.updated_at` is not before the year 10000",
            ),
        ];
        for (event, reason) in cases {
            let err = parse_value(&event).unwrap_err();
            assert_eq!(err.reason(), reason, "{event}");
            assert!(!err.to_string().contains(secretish));
        }
        let err = parse(format!("{{\"type\": \"{secretish}").as_bytes()).unwrap_err();
        assert!(
            err.reason()
                .starts_with("the body is not JSON (line 1, column")
        );
        assert!(!err.reason().contains(secretish));
    }
}
