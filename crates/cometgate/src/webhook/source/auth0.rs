//! Auth0 Event Streams: CloudEvents 1.0 in structured JSON mode, `{"specversion": "1.0",
//! "type", "source", "id", "time", "data": {"object": <the user>}, ...}`.
//!
//! | `type` | parsed as | time |
//! |---|---|---|
//! | `user.created`, `user.updated` | [`UserChange::Created`] / [`UserChange::Updated`] | `data.object.updated_at`, else `time` |
//! | `user.deleted` | [`UserChange::Deleted`] | `time` (the object's `updated_at` is its last update, not the deletion) |
//! | anything else | [`Delivery::Ignored`] | |
//!
//! The type may also carry Auth0's namespace (`com.auth0.user.created`, as an example in
//! Auth0's overview writes it; the per-event schemas write `user.created`). The user is
//! `data.object`: `user_id` (the `sub` of their tokens), the name from `name` else `nickname`,
//! the avatar from `picture`. The CloudEvents `id` is [`Parsed::delivery_id`]: Auth0 may
//! deliver an event twice, and the headers carry no id.
//!
//! [`UserChange::Created`]: crate::webhook::UserChange::Created
//! [`UserChange::Updated`]: crate::webhook::UserChange::Updated
//! [`UserChange::Deleted`]: crate::webhook::UserChange::Deleted

use super::json::{self, Object};
use super::{deletion, parsed, upsert};
use crate::webhook::{Delivery, MalformedPayload, Parsed, Profile, UserChange};

/// Parses an Event Streams body (already authenticated) into what it asks for.
///
/// ```
/// use cometgate::webhook::{Delivery, UserChange, source};
///
/// let body = br#"{"specversion": "1.0", "type": "user.created",
///     "source": "urn:auth0:example.us.auth0.com", "id": "evt_8rCQzBT1v2mGpVcLd4HxNk",
///     "time": "2025-02-01T12:34:56.789Z",
///     "data": {"object": {"user_id": "auth0|67a1b2c3d4e5f6a7b8c9d0e1",
///         "name": "Ada Lovelace", "nickname": "ada",
///         "picture": "https://s.gravatar.com/avatar/4f64c9f8",
///         "updated_at": "2025-02-01T12:34:56.512Z"}}}"#;
/// let parsed = source::auth0::parse(body)?;
/// assert_eq!(parsed.delivery_id.as_deref(), Some("evt_8rCQzBT1v2mGpVcLd4HxNk"));
/// let Delivery::User(event) = parsed.delivery else { panic!("a user event") };
/// assert_eq!(event.change, UserChange::Created);
/// assert_eq!(event.subject, "auth0|67a1b2c3d4e5f6a7b8c9d0e1");
/// assert_eq!(event.profile.name.as_deref(), Some("Ada Lovelace"));
/// assert_eq!(event.occurred_at, Some(1738413296512));
/// # Ok::<(), cometgate::webhook::MalformedPayload>(())
/// ```
///
/// # Errors
/// [`MalformedPayload`] when the body is not such an event (including one without a
/// CloudEvents `id`).
pub fn parse(body: &[u8]) -> Result<Parsed, MalformedPayload> {
    let value = json::parse(body)?;
    let event = Object::root(&value)?;
    let kind = event.required_str("type")?;
    let id = event.identifier("id")?;
    let change = match kind.strip_prefix("com.auth0.").unwrap_or(kind) {
        "user.created" => UserChange::Created,
        "user.updated" => UserChange::Updated,
        "user.deleted" => UserChange::Deleted,
        _ => return Ok(parsed(Delivery::Ignored, kind, Some(id))),
    };
    let time = event.timestamp("time")?;
    let user = event.required_object("data")?.required_object("object")?;
    let delivery = self::user(change, &user, time)?;
    Ok(parsed(delivery, kind, Some(id)))
}

/// The user `data.object` of an event of `change` at `time`.
fn user(
    change: UserChange,
    user: &Object<'_>,
    time: Option<u64>,
) -> Result<Delivery, MalformedPayload> {
    let subject = user.identifier("user_id")?;
    if change == UserChange::Deleted {
        return Ok(deletion(subject, time));
    }
    let name = user.name("name")?;
    let nickname = user.name("nickname")?;
    let profile = Profile {
        name: name.or(nickname),
        avatar: user.avatar("picture")?,
    };
    let updated_at = user.timestamp("updated_at")?;
    Ok(upsert(change, subject, profile, updated_at.or(time)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::source::testing::{edited, expected, fixture, user_event};
    use serde_json::{Value, json};

    const CREATED: &str = include_str!("testdata/auth0_user_created.json");
    const DELETED: &str = include_str!("testdata/auth0_user_deleted.json");
    const USER: &str = "auth0|67a1b2c3d4e5f6a7b8c9d0e1";

    fn parse_value(value: &Value) -> Result<Parsed, MalformedPayload> {
        parse(value.to_string().as_bytes())
    }

    fn created_with(edit: impl FnOnce(&mut Value)) -> Value {
        edited(CREATED, "/data/object", edit)
    }

    #[test]
    fn user_created_is_parsed_from_the_cloudevent() {
        let parsed = parse(CREATED.as_bytes()).unwrap();
        assert_eq!(parsed.event_type, "user.created");
        assert_eq!(
            parsed.delivery_id.as_deref(),
            Some("evt_8rCQzBT1v2mGpVcLd4HxNk")
        );
        assert_eq!(
            user_event(parsed),
            expected(
                UserChange::Created,
                USER,
                Some("Ada Lovelace"),
                Some(
                    "https://s.gravatar.com/avatar/4f64c9f81bb0d4ee969aaf7b4a5a6f40?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fal.png"
                ),
                // data.object.updated_at 2025-02-01T12:34:56.512Z, not `time` (.789)
                Some(1_738_413_296_512)
            )
        );
    }

    #[test]
    fn user_updated_and_the_namespaced_types() {
        for (kind, change) in [
            ("user.updated", UserChange::Updated),
            ("com.auth0.user.updated", UserChange::Updated),
            ("com.auth0.user.created", UserChange::Created),
            ("com.auth0.user.deleted", UserChange::Deleted),
        ] {
            let mut event = fixture(CREATED);
            event["type"] = json!(kind);
            let parsed = parse_value(&event).unwrap();
            assert_eq!(parsed.event_type, kind);
            assert_eq!(user_event(parsed).change, change, "{kind}");
        }
    }

    #[test]
    fn the_time_falls_back_from_updated_at_to_the_events_time() {
        let event = created_with(|user| {
            user.as_object_mut().unwrap().remove("updated_at");
        });
        assert_eq!(
            user_event(parse_value(&event).unwrap()).occurred_at,
            Some(1_738_413_296_789)
        );
        let mut event = event;
        event.as_object_mut().unwrap().remove("time");
        assert_eq!(user_event(parse_value(&event).unwrap()).occurred_at, None);
    }

    #[test]
    fn the_name_falls_back_to_the_nickname() {
        for (name, nickname, expected) in [
            (json!(null), json!("ada"), Some("ada")),
            (json!("  "), json!("ada"), Some("ada")),
            (json!("Ada"), json!("ada"), Some("Ada")),
            (json!(null), json!(null), None),
        ] {
            let event = created_with(|user| {
                user["name"] = name.clone();
                user["nickname"] = nickname.clone();
            });
            let parsed = user_event(parse_value(&event).unwrap());
            assert_eq!(
                parsed.profile.name.as_deref(),
                expected,
                "{name} {nickname}"
            );
        }
    }

    #[test]
    fn user_deleted_is_timed_by_the_event_not_the_last_update() {
        let parsed = parse(DELETED.as_bytes()).unwrap();
        assert_eq!(
            parsed.delivery_id.as_deref(),
            Some("evt_3TzKp9WmQa7LbVcXd2HyRs")
        );
        assert_eq!(
            user_event(parsed),
            expected(
                UserChange::Deleted,
                USER,
                None,
                None,
                // `time` 2025-02-03T08:00:00Z, not updated_at (2025-02-02)
                Some(1_738_569_600_000)
            )
        );
    }

    #[test]
    fn other_types_are_ignored_but_keep_their_id() {
        for kind in [
            "user.logged_in",
            "organization.created",
            "com.auth0.user.blocked",
        ] {
            let mut event = fixture(CREATED);
            event["type"] = json!(kind);
            event["data"] = json!("opaque");
            let parsed = parse_value(&event).unwrap();
            assert_eq!(parsed.delivery, Delivery::Ignored, "{kind}");
            assert_eq!(
                parsed.delivery_id.as_deref(),
                Some("evt_8rCQzBT1v2mGpVcLd4HxNk")
            );
        }
    }

    #[test]
    fn wrong_shapes_are_malformed() {
        let mut no_id = fixture(CREATED);
        no_id.as_object_mut().unwrap().remove("id");
        let mut numeric_id = fixture(CREATED);
        numeric_id["id"] = json!(12);
        let mut bad_time = fixture(CREATED);
        bad_time["time"] = json!("Sat, 01 Feb 2025 12:34:56 GMT");
        let mut no_object = fixture(CREATED);
        no_object["data"] = json!({});
        let cases = [
            (no_id, "`id` is missing"),
            (numeric_id, "`id` is not a string"),
            (bad_time, "`time` is not an RFC 3339 or Postgres timestamp"),
            (no_object, "`data.object` is missing"),
            (
                created_with(|user| user["user_id"] = json!("")),
                "`data.object.user_id` is empty",
            ),
            (
                created_with(|user| user["updated_at"] = json!(1_738_413_296_512_u64)),
                "`data.object.updated_at` is not a string",
            ),
            (
                created_with(|user| user["picture"] = json!({"src": "x"})),
                "`data.object.picture` is not a string",
            ),
            (
                created_with(|user| user["nickname"] = json!(false)),
                "`data.object.nickname` is not a string",
            ),
        ];
        for (event, reason) in cases {
            assert_eq!(parse_value(&event).unwrap_err().reason(), reason, "{event}");
        }
    }
}
