//! Each source's payload parsed into cometgate's [`Parsed`] shape: one function per source,
//! from the raw body of a delivery whose signature or secret was already checked.
//!
//! | source | parser | payload |
//! |---|---|---|
//! | Clerk | [`clerk::parse`] | Clerk's event (`user.*`, `session.*`) as Svix delivers it |
//! | relays | [`standard::parse`] | cometgate's own event, documented in [`standard`] |
//! | Supabase | [`supabase::parse`] | a Database Webhook of `auth.users` or a profiles table ([`SupabaseTable`]) |
//! | Auth0 | [`auth0::parse`] | an Event Streams CloudEvent (`user.*`) |
//!
//! # The rules every source follows
//!
//! - **Shape.** The body is a JSON object. Invalid JSON, a required field that is missing, or a
//!   field of another JSON type than the source sends is a [`MalformedPayload`] (400). A field
//!   that is `null` counts as absent, as the providers write it. The reason names the field by
//!   its path (`data.first_name`) and never quotes the payload.
//! - **Event type.** A type the source does not act on is [`Delivery::Ignored`] (204), whatever
//!   the rest says. [`Parsed::event_type`] is the type as the payload names it, cut to 64
//!   characters, with anything but `[A-Za-z0-9._:-]` replaced by `?` (it goes to the log).
//! - **Subject** (and every other identifier: session ids, CloudEvents ids): exactly as the
//!   provider wrote it, since it must equal the `sub` of the same user's session tokens, so
//!   never trimmed; non-empty, at most 255 bytes, no control characters, else malformed.
//! - **Name.** Trimmed; blank is `None`; cut to 100 characters (CometChat's limit) on a
//!   character boundary.
//! - **Avatar.** Kept only as an absolute `http`/`https` URL with a host, at most 2048 bytes
//!   (in its normalised form, which is what is kept); anything else is `None`, so a bad avatar
//!   never blocks the event.
//! - **Times** are Unix milliseconds from 1970 up to (not including) the year 10000, else
//!   malformed. Text timestamps (Auth0, Supabase) are RFC 3339 (`2024-01-01T12:00:00.123Z`,
//!   `…+02:00`) with `T` or a space between date and time, and Postgres' whole-hour offset
//!   (`2024-01-01 12:00:00.123456+00`); fractions below a millisecond are dropped.

pub mod auth0;
pub mod clerk;
mod json;
pub mod standard;
pub mod supabase;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod testing;

pub use supabase::SupabaseTable;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use url::Url;

use super::{Delivery, MalformedPayload, Parsed, Profile, UserChange, UserEvent};

/// The longest subject or other identifier a payload may carry, in bytes.
pub const MAX_SUBJECT_BYTES: usize = 255;
/// The longest display name kept, in characters (CometChat's limit on a user's name).
pub const MAX_NAME_CHARS: usize = 100;
/// The longest avatar URL kept, in bytes.
pub const MAX_AVATAR_BYTES: usize = 2048;
/// The longest event type kept for the log, in characters.
const MAX_EVENT_TYPE_CHARS: usize = 64;
/// `10000-01-01T00:00:00Z` in Unix milliseconds: the first instant no payload time may reach.
const YEAR_10000_MS: u64 = 253_402_300_800_000;

/// `value` as an identifier named `field` in reasons: non-empty, at most
/// [`MAX_SUBJECT_BYTES`], no control characters; kept exactly as written.
fn identifier(value: &str, field: &str) -> Result<String, MalformedPayload> {
    let problem = if value.is_empty() {
        "is empty"
    } else if value.len() > MAX_SUBJECT_BYTES {
        "is longer than 255 bytes"
    } else if value.chars().any(char::is_control) {
        "contains a control character"
    } else {
        return Ok(value.to_owned());
    };
    Err(MalformedPayload::new(format!("`{field}` {problem}")))
}

/// `raw` as a display name: trimmed, cut to [`MAX_NAME_CHARS`] characters, `None` when blank.
fn name(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let cut = match trimmed.char_indices().nth(MAX_NAME_CHARS) {
        // The cut may leave white space at the end.
        Some((end, _)) => trimmed[..end].trim_end(),
        None => trimmed,
    };
    (!cut.is_empty()).then(|| cut.to_owned())
}

/// `raw` as an avatar URL: an absolute `http`/`https` URL with a host, at most
/// [`MAX_AVATAR_BYTES`] before and after normalisation; `None` otherwise.
fn avatar(raw: &str) -> Option<String> {
    if raw.len() > MAX_AVATAR_BYTES {
        return None;
    }
    let url = Url::parse(raw).ok()?;
    let usable = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|host| !host.is_empty())
        && url.as_str().len() <= MAX_AVATAR_BYTES;
    usable.then(|| url.into())
}

/// `ms` as a payload time named `field`: before the year 10000, else malformed.
fn unix_millis(ms: u64, field: &str) -> Result<u64, MalformedPayload> {
    if ms < YEAR_10000_MS {
        Ok(ms)
    } else {
        Err(MalformedPayload::new(format!(
            "`{field}` is not before the year 10000"
        )))
    }
}

/// An RFC 3339 or Postgres timestamp named `field`, in Unix milliseconds.
fn timestamp(text: &str, field: &str) -> Result<u64, MalformedPayload> {
    let unreadable = || {
        MalformedPayload::new(format!(
            "`{field}` is not an RFC 3339 or Postgres timestamp"
        ))
    };
    // `time` takes any byte between date and time; RFC 3339 says `T` (or a space, for
    // readability, which is what Postgres writes).
    if !matches!(text.as_bytes().get(10), Some(b'T' | b't' | b' ')) {
        return Err(unreadable());
    }
    // Postgres writes a whole-hour offset as `+00`, RFC 3339 as `+00:00`.
    let widened;
    let text = if has_hour_only_offset(text) {
        widened = format!("{text}:00");
        &widened
    } else {
        text
    };
    let at = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| unreadable())?;
    // Floor, so an instant just before 1970 is not rounded up to it.
    let ms = (at.unix_timestamp_nanos()).div_euclid(1_000_000);
    let ms = u64::try_from(ms)
        .map_err(|_| MalformedPayload::new(format!("`{field}` is before 1970")))?;
    unix_millis(ms, field)
}

/// Whether `text` ends in a sign and two digits (`…12:00:00+00`). An RFC 3339 offset ends in
/// `:MM` or `Z`, so this never matches one.
fn has_hour_only_offset(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() > 3
        && matches!(bytes[bytes.len() - 3], b'+' | b'-')
        && bytes[bytes.len() - 2..].iter().all(u8::is_ascii_digit)
}

/// `raw` as [`Parsed::event_type`]: at most 64 characters of `[A-Za-z0-9._:-]`, anything else
/// replaced by `?`.
fn event_type(raw: &str) -> String {
    raw.chars()
        .take(MAX_EVENT_TYPE_CHARS)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-') {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// The parse of a payload of type `raw_type` asking for `delivery`.
fn parsed(delivery: Delivery, raw_type: &str, delivery_id: Option<String>) -> Parsed {
    Parsed {
        delivery,
        event_type: event_type(raw_type),
        delivery_id,
    }
}

/// A created or updated account.
fn upsert(
    change: UserChange,
    subject: String,
    profile: Profile,
    occurred_at: Option<u64>,
) -> Delivery {
    Delivery::User(UserEvent {
        change,
        subject,
        profile,
        occurred_at,
    })
}

/// A deleted account (no profile).
fn deletion(subject: String, occurred_at: Option<u64>) -> Delivery {
    upsert(
        UserChange::Deleted,
        subject,
        Profile::default(),
        occurred_at,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_kept_exactly_or_refused_with_the_field_named() {
        assert_eq!(identifier(" user_2a ", "data.id").unwrap(), " user_2a ");
        assert_eq!(
            identifier(&"é".repeat(127), "id").unwrap().len(),
            254,
            "255 bytes at most, counted in bytes"
        );
        for (bad, why) in [
            (String::new(), "`data.id` is empty"),
            ("a".repeat(256), "`data.id` is longer than 255 bytes"),
            (
                "user\n2a".to_owned(),
                "`data.id` contains a control character",
            ),
            (
                "user\u{85}2a".to_owned(),
                "`data.id` contains a control character",
            ),
        ] {
            let err = identifier(&bad, "data.id").unwrap_err();
            assert_eq!(err.reason(), why);
        }
    }

    #[test]
    fn names_are_trimmed_cut_at_100_characters_and_blank_is_none() {
        assert_eq!(name("  Ada Lovelace \t").as_deref(), Some("Ada Lovelace"));
        assert_eq!(name(" \n\t "), None);
        assert_eq!(name(""), None);
        let long = "é".repeat(150);
        let cut = name(&long).unwrap();
        assert_eq!(cut.chars().count(), 100);
        assert!(long.starts_with(&cut));
        // A cut that lands after a space does not leave it at the end.
        let spaced = format!("{} tail", "a".repeat(99));
        assert_eq!(name(&spaced).unwrap(), "a".repeat(99));
    }

    #[test]
    fn avatars_are_kept_only_as_absolute_http_urls_within_2048_bytes() {
        assert_eq!(
            avatar("https://img.clerk.com/abc?x=1").as_deref(),
            Some("https://img.clerk.com/abc?x=1")
        );
        assert_eq!(
            avatar("http://example.com").as_deref(),
            Some("http://example.com/"),
            "kept in its normalised form"
        );
        for bad in [
            "",
            "/relative/path.png",
            "img.clerk.com/abc",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "file:///etc/passwd",
            "ftp://example.com/a.png",
            "https://",
        ] {
            assert_eq!(avatar(bad), None, "{bad:?}");
        }
        let base = "https://example.com/";
        let at_limit = format!("{base}{}", "a".repeat(MAX_AVATAR_BYTES - base.len()));
        assert_eq!(avatar(&at_limit).as_deref(), Some(at_limit.as_str()));
        let over = format!("{at_limit}a");
        assert_eq!(avatar(&over), None);
        // Within the limit as written, over it once percent-encoded.
        let spaces = format!("{base}{}", " x".repeat(1000));
        assert_eq!(avatar(&spaces), None);
    }

    #[test]
    fn times_must_be_before_the_year_10000() {
        assert_eq!(unix_millis(YEAR_10000_MS - 1, "t"), Ok(YEAR_10000_MS - 1));
        assert_eq!(unix_millis(0, "t"), Ok(0));
        let err = unix_millis(YEAR_10000_MS, "data.updated_at").unwrap_err();
        assert_eq!(
            err.reason(),
            "`data.updated_at` is not before the year 10000"
        );
    }

    #[test]
    fn rfc3339_and_postgres_timestamps_become_unix_milliseconds() {
        // 2024-01-01T12:00:00Z
        let noon = 1_704_110_400_000;
        for (text, ms) in [
            ("2024-01-01T12:00:00Z", noon),
            ("2024-01-01T12:00:00z", noon),
            ("2024-01-01t12:00:00Z", noon),
            ("2024-01-01T12:00:00.123Z", noon + 123),
            ("2024-01-01T12:00:00.123456+00:00", noon + 123),
            ("2024-01-01T12:00:00.1239999Z", noon + 123),
            ("2024-01-01 12:00:00.123456+00", noon + 123),
            ("2024-01-01 12:00:00+00", noon),
            ("2024-01-01 14:00:00+02", noon),
            ("2024-01-01T17:30:00+05:30", noon),
            ("2024-01-01 07:00:00-05", noon),
            ("1970-01-01T00:00:00Z", 0),
            ("9999-12-31T23:59:59.999Z", YEAR_10000_MS - 1),
        ] {
            assert_eq!(timestamp(text, "t"), Ok(ms), "{text}");
        }
    }

    #[test]
    fn unreadable_or_out_of_range_timestamps_are_malformed_without_quoting_them() {
        for text in [
            "",
            "2024-01-01",
            "2024-01-01X12:00:00Z",
            "2024-01-01T12:00:00",
            "2024-01-01T12:00:00+0000",
            "2024-01-01T12:00:00+0",
            "2024-01-01T25:00:00Z",
            "2024-02-30T12:00:00Z",
            "2024-01-01T12:00:00Z trailing",
            "+12024-01-01T12:00:00Z",
            "infinity",
            "1704110400000",
            "2024-01-01T12:00:00.Z",
            "2024-01-01T12:00:00+24:00",
        ] {
            let err = timestamp(text, "record.updated_at").unwrap_err();
            assert_eq!(
                err.reason(),
                "`record.updated_at` is not an RFC 3339 or Postgres timestamp",
                "{text:?}"
            );
        }
        assert_eq!(
            timestamp("1969-12-31T23:59:59.9999Z", "t")
                .unwrap_err()
                .reason(),
            "`t` is before 1970"
        );
        assert_eq!(
            timestamp("9999-12-31T23:59:59-01:00", "t")
                .unwrap_err()
                .reason(),
            "`t` is not before the year 10000"
        );
    }

    #[test]
    fn event_types_are_cut_and_restricted_for_the_log() {
        assert_eq!(event_type("user.created"), "user.created");
        assert_eq!(event_type("com.auth0:user_x-1"), "com.auth0:user_x-1");
        assert_eq!(event_type("user created\n\"é"), "user?created???");
        assert_eq!(event_type(&"a".repeat(100)), "a".repeat(64));
        assert_eq!(event_type(""), "");
    }
}
