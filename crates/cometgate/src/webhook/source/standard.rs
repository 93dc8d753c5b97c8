//! cometgate's own user event: what a relay (a Firebase Auth trigger, an Auth0 Action, the
//! app's own backend) sends to `{prefix}/standard`, signed per Standard Webhooks.
//!
//! # The event (a public contract)
//!
//! ```json
//! {
//!   "type": "user.updated",
//!   "data": {
//!     "subject": "p5Tq8bXz1cNd4eRf7gHj2kLm9nQw",
//!     "name": "Ada Lovelace",
//!     "avatar": "https://example.com/ada.png",
//!     "updatedAt": 1716883200123
//!   }
//! }
//! ```
//!
//! | field | type | required | meaning |
//! |---|---|---|---|
//! | `type` | string | yes | `user.created`, `user.updated` or `user.deleted`; any other type is acknowledged (204) and changes nothing, so relays may send more than cometgate acts on |
//! | `data` | object | for the three types above | the account |
//! | `data.subject` | string | yes | the user's id at the identity provider: exactly the `sub` of that user's session tokens (a Firebase `uid`, an Auth0 `user_id`), so it maps to the UID the token route mints for; 1 to 255 bytes, no control characters |
//! | `data.name` | string or `null` | no | the display name; trimmed, cut to 100 characters; blank or absent: the event says no name |
//! | `data.avatar` | string or `null` | no | an absolute `http`/`https` URL of at most 2048 bytes; anything else is dropped and the event still applies |
//! | `data.updatedAt` | integer or `null` | no | when the change happened, in Unix milliseconds; the newest event wins, an older one is acknowledged and changes nothing; absent: the signed `webhook-timestamp` orders it |
//!
//! For `user.deleted` only `data.subject` and `data.updatedAt` (the time of the deletion) are
//! read. Other fields, in the event and in `data`, are ignored, so the format can grow.
//! Each delivery is identified by its `webhook-id` header (deliveries are deduplicated on it),
//! so [`Parsed::delivery_id`] is `None`. A payload breaking these rules is answered 400 with
//! the reason (see the [rules](super#the-rules-every-source-follows)).

use super::json::{self, Object};
use super::{deletion, parsed, upsert};
use crate::webhook::{Delivery, MalformedPayload, Parsed, Profile, UserChange};

/// Parses a standard event body (already verified) into what it asks for.
///
/// ```
/// use cometgate::webhook::{Delivery, Profile, UserChange, UserEvent, source};
///
/// let body = br#"{"type": "user.created", "data": {"subject": "p5Tq8bXz1cNd",
///     "name": " Ada ", "avatar": "https://example.com/ada.png", "updatedAt": 1716883200123}}"#;
/// let parsed = source::standard::parse(body)?;
/// assert_eq!(
///     parsed.delivery,
///     Delivery::User(UserEvent {
///         change: UserChange::Created,
///         subject: "p5Tq8bXz1cNd".into(),
///         profile: Profile {
///             name: Some("Ada".into()),
///             avatar: Some("https://example.com/ada.png".into()),
///         },
///         occurred_at: Some(1716883200123),
///     })
/// );
///
/// let unknown = source::standard::parse(br#"{"type": "user.signed_in"}"#)?;
/// assert_eq!(unknown.delivery, Delivery::Ignored);
///
/// let err = source::standard::parse(br#"{"type": "user.deleted", "data": {}}"#).unwrap_err();
/// assert_eq!(err.reason(), "`data.subject` is missing");
/// # Ok::<(), cometgate::webhook::MalformedPayload>(())
/// ```
///
/// # Errors
/// [`MalformedPayload`] when the body is not such an event.
pub fn parse(body: &[u8]) -> Result<Parsed, MalformedPayload> {
    let value = json::parse(body)?;
    let event = Object::root(&value)?;
    let kind = event.required_str("type")?;
    let change = match kind {
        "user.created" => UserChange::Created,
        "user.updated" => UserChange::Updated,
        "user.deleted" => UserChange::Deleted,
        _ => return Ok(parsed(Delivery::Ignored, kind, None)),
    };
    let data = event.required_object("data")?;
    let delivery = account(change, &data)?;
    Ok(parsed(delivery, kind, None))
}

/// The account in `data`, for `change`.
fn account(change: UserChange, data: &Object<'_>) -> Result<Delivery, MalformedPayload> {
    let subject = data.identifier("subject")?;
    let occurred_at = data.millis("updatedAt")?;
    if change == UserChange::Deleted {
        return Ok(deletion(subject, occurred_at));
    }
    let profile = Profile {
        name: data.name("name")?,
        avatar: data.avatar("avatar")?,
    };
    Ok(upsert(change, subject, profile, occurred_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::source::testing::expected;
    use serde_json::{Value, json};

    fn parse_value(value: &Value) -> Result<Parsed, MalformedPayload> {
        parse(value.to_string().as_bytes())
    }

    #[test]
    fn each_type_becomes_its_change() {
        for (kind, change) in [
            ("user.created", UserChange::Created),
            ("user.updated", UserChange::Updated),
        ] {
            let event = json!({"type": kind, "data": {
                "subject": "p5Tq8bXz1cNd4eRf7gHj2kLm9nQw",
                "name": "Ada Lovelace",
                "avatar": "https://example.com/ada.png",
                "updatedAt": 1_716_883_200_123_u64,
            }});
            let parsed = parse_value(&event).unwrap();
            assert_eq!(parsed.event_type, kind);
            assert_eq!(parsed.delivery_id, None);
            assert_eq!(
                parsed.delivery,
                Delivery::User(expected(
                    change,
                    "p5Tq8bXz1cNd4eRf7gHj2kLm9nQw",
                    Some("Ada Lovelace"),
                    Some("https://example.com/ada.png"),
                    Some(1_716_883_200_123),
                ))
            );
        }
    }

    #[test]
    fn a_deletion_reads_only_subject_and_time() {
        let event = json!({"type": "user.deleted", "data": {
            "subject": "auth0|67a1b2c3",
            "name": 42,
            "avatar": ["ignored"],
            "updatedAt": 1_716_969_600_000_u64,
        }});
        assert_eq!(
            parse_value(&event).unwrap().delivery,
            Delivery::User(expected(
                UserChange::Deleted,
                "auth0|67a1b2c3",
                None,
                None,
                Some(1_716_969_600_000)
            ))
        );
    }

    #[test]
    fn optional_fields_may_be_absent_or_null() {
        for data in [
            json!({"subject": "u1"}),
            json!({"subject": "u1", "name": null, "avatar": null, "updatedAt": null}),
            json!({"subject": "u1", "name": "   ", "avatar": "not a url"}),
        ] {
            let event = json!({"type": "user.updated", "data": data});
            assert_eq!(
                parse_value(&event).unwrap().delivery,
                Delivery::User(expected(UserChange::Updated, "u1", None, None, None)),
                "{event}"
            );
        }
    }

    #[test]
    fn unknown_types_are_ignored_without_reading_data() {
        for kind in [
            "user.signed_in",
            "USER.CREATED",
            "user.created ",
            "session.ended",
        ] {
            let parsed = parse_value(&json!({"type": kind, "data": 5})).unwrap();
            assert_eq!(parsed.delivery, Delivery::Ignored, "{kind}");
        }
        let parsed = parse_value(&json!({"type": "user.created\u{7}"})).unwrap();
        assert_eq!(parsed.event_type, "user.created?");
    }

    #[test]
    fn wrong_shapes_are_malformed() {
        for (event, reason) in [
            (json!({"type": "user.created"}), "`data` is missing"),
            (
                json!({"type": "user.created", "data": {"subject": "u1", "name": 3}}),
                "`data.name` is not a string",
            ),
            (
                json!({"type": "user.created", "data": {"subject": "u1", "avatar": true}}),
                "`data.avatar` is not a string",
            ),
            (
                json!({"type": "user.created", "data": {"subject": "u1", "updatedAt": "1716883200123"}}),
                "`data.updatedAt` is not a whole number of milliseconds",
            ),
            (
                json!({"type": "user.deleted", "data": {"subject": "u1", "updatedAt": u64::MAX}}),
                "`data.updatedAt` is not before the year 10000",
            ),
            (
                json!({"type": "user.updated", "data": {"subject": "x".repeat(256)}}),
                "`data.subject` is longer than 255 bytes",
            ),
            (
                json!({"type": "user.updated", "data": {"subject": ["u1"]}}),
                "`data.subject` is not a string",
            ),
        ] {
            assert_eq!(parse_value(&event).unwrap_err().reason(), reason, "{event}");
        }
    }
}
