//! Reading what a request carried, with CometChat's rules and Laravel-style messages per field.
//!
//! Each reader adds its complaints to [`Problems`] and returns what it could read, so one answer
//! lists every bad field at once, as the real server does.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::errors::{ApiError, detail};

/// The largest request body the REST and client APIs accept (CometChat documents a 10 KB
/// request limit).
pub(crate) const MAX_BODY_BYTES: usize = 10 * 1024;
const MAX_UID_LEN: usize = 100;
const MAX_NAME_LEN: usize = 100;
const MAX_URL_LEN: usize = 3000;
const MAX_TAGS: usize = 25;
const MAX_TAG_LEN: usize = 100;

/// Collects Laravel-style validation messages per field.
#[derive(Default)]
pub(crate) struct Problems(Map<String, Value>);

impl Problems {
    pub fn add(&mut self, field: &str, message: String) {
        let entry = self
            .0
            .entry(field.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.push(Value::String(message));
        }
    }

    /// `Ok` when nothing was wrong, else 400 `ERR_BAD_REQUEST` with every message.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}

/// The body as JSON: `None` when it is empty; 413 when it was over [`MAX_BODY_BYTES`] (read as
/// `None`), 400 when it is not JSON.
pub(crate) fn parse_body(body: Option<&Bytes>) -> Result<Option<Value>, ApiError> {
    let Some(bytes) = body else {
        let mut e = ApiError::validation(detail(
            "body",
            format!("The request body may not be greater than {MAX_BODY_BYTES} bytes."),
        ));
        e.status = 413;
        return Err(e);
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(bytes)
        .map(Some)
        .map_err(|_| ApiError::validation(detail("body", "The request body is not valid JSON.")))
}

/// The body's fields; an absent body reads as `{}`.
pub(crate) fn object(body: Option<&Value>) -> Result<Map<String, Value>, ApiError> {
    match body {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(ApiError::validation(detail(
            "body",
            "The request body must be a JSON object.",
        ))),
    }
}

/// An optional boolean field (`withAuthToken`, `permanent`, `force`): absent or `null` is false.
pub(crate) fn read_flag(
    body: &Map<String, Value>,
    field: &str,
    label: &str,
    p: &mut Problems,
) -> bool {
    match body.get(field) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            p.add(field, format!("The {label} field must be true or false."));
            false
        }
    }
}

/// `uid` field rules: required, string, alpha-dash, at most 100; lower-cased.
pub(crate) fn read_uid(body: &Map<String, Value>, p: &mut Problems) -> Option<String> {
    match body.get("uid") {
        None | Some(Value::Null) => p.add("uid", "The uid field is required.".into()),
        Some(Value::String(s)) if s.is_empty() => p.add("uid", "The uid field is required.".into()),
        Some(Value::String(s)) if s.chars().count() > MAX_UID_LEN => p.add(
            "uid",
            format!("The uid may not be greater than {MAX_UID_LEN} characters."),
        ),
        Some(Value::String(s))
            if !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
        {
            p.add(
                "uid",
                "The uid may only contain letters, numbers, dashes and underscores.".into(),
            )
        }
        Some(Value::String(s)) => return Some(s.to_ascii_lowercase()),
        Some(_) => p.add("uid", "The uid must be a string.".into()),
    }
    None
}

/// Whether the `name` field must be there (create) or may be left out (update).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    Required,
    Optional,
}

/// `name` field rules: a non-blank string of at most 100 characters.
pub(crate) fn read_name(
    body: &Map<String, Value>,
    presence: Presence,
    p: &mut Problems,
) -> Option<String> {
    let blank = match presence {
        Presence::Required => "The name field is required.",
        Presence::Optional => "The name field must have a value.",
    };
    match body.get("name") {
        None | Some(Value::Null) if presence == Presence::Optional => {}
        None | Some(Value::Null) => p.add("name", blank.into()),
        Some(Value::String(s)) if s.trim().is_empty() => p.add("name", blank.into()),
        Some(Value::String(s)) if s.chars().count() > MAX_NAME_LEN => p.add(
            "name",
            format!("The name may not be greater than {MAX_NAME_LEN} characters."),
        ),
        Some(Value::String(s)) => return Some(s.clone()),
        Some(_) => p.add("name", "The name must be a string.".into()),
    }
    None
}

fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}

/// The optional profile fields shared by create and update; `None` where the body left one out.
#[derive(Default)]
pub(crate) struct Profile {
    pub avatar: Option<String>,
    pub link: Option<String>,
    pub role: Option<String>,
    pub status_message: Option<String>,
    pub metadata: Option<Value>,
    pub tags: Option<Vec<String>>,
}

fn read_url(body: &Map<String, Value>, field: &str, p: &mut Problems) -> Option<String> {
    match body.get(field) {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.len() > MAX_URL_LEN => p.add(
            field,
            format!("The {field} may not be greater than {MAX_URL_LEN} characters."),
        ),
        Some(Value::String(s)) if is_url(s) => return Some(s.clone()),
        Some(_) => p.add(field, format!("The {field} must be a valid URL.")),
    }
    None
}

fn read_tags(items: &[Value], p: &mut Problems) -> Vec<String> {
    if items.len() > MAX_TAGS {
        p.add(
            "tags",
            format!("The tags may not have more than {MAX_TAGS} items."),
        );
    }
    let mut tags = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("tags.{i}");
        match item {
            Value::String(s) if s.trim().is_empty() => {
                p.add(&field, format!("The {field} field is required."))
            }
            Value::String(s) if s.len() <= MAX_TAG_LEN => tags.push(s.clone()),
            _ => p.add(
                &field,
                format!("The {field} must be a string of at most {MAX_TAG_LEN} characters."),
            ),
        }
    }
    tags
}

pub(crate) fn read_profile(body: &Map<String, Value>, p: &mut Problems) -> Profile {
    let mut profile = Profile {
        avatar: read_url(body, "avatar", p),
        link: read_url(body, "link", p),
        ..Profile::default()
    };
    match body.get("role") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if !s.trim().is_empty() => profile.role = Some(s.clone()),
        Some(_) => p.add("role", "The role must be a string.".into()),
    }
    match body.get("statusMessage") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => profile.status_message = Some(s.clone()),
        Some(_) => p.add(
            "statusMessage",
            "The status message must be a string.".into(),
        ),
    }
    match body.get("metadata") {
        None | Some(Value::Null) => {}
        Some(v @ Value::Object(_)) => profile.metadata = Some(v.clone()),
        Some(_) => p.add("metadata", "The metadata must be an array.".into()),
    }
    match body.get("tags") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => profile.tags = Some(read_tags(items, p)),
        Some(_) => p.add("tags", "The tags must be an array.".into()),
    }
    profile
}

/// A required, non-empty array of UIDs (`uidsToActivate`): each item a non-blank string, kept
/// as sent. `label` is the field as Laravel words it (`uids to activate`).
pub(crate) fn read_uid_list(
    body: &Map<String, Value>,
    field: &str,
    label: &str,
    p: &mut Problems,
) -> Vec<String> {
    let items = match body.get(field) {
        Some(Value::Array(items)) if !items.is_empty() => items,
        None | Some(Value::Null) | Some(Value::Array(_)) => {
            p.add(field, format!("The {label} field is required."));
            return Vec::new();
        }
        Some(_) => {
            p.add(field, format!("The {label} must be an array."));
            return Vec::new();
        }
    };
    let mut uids = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(s) if s.trim().is_empty() => p.add(
                &format!("{field}.{i}"),
                format!("The {label}.{i} field is required."),
            ),
            Value::String(s) => uids.push(s.clone()),
            _ => p.add(
                &format!("{field}.{i}"),
                format!("The {label}.{i} must be a string."),
            ),
        }
    }
    uids
}

/// A field `PUT /users/{uid}` may clear with `unset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unset {
    Avatar,
    Link,
    Metadata,
}

/// The `unset` field of an update: an array of `avatar`, `link`, `metadata`.
pub(crate) fn read_unset(body: &Map<String, Value>, p: &mut Problems) -> Vec<Unset> {
    let mut unset = Vec::new();
    match body.get("unset") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some("avatar") => unset.push(Unset::Avatar),
                    Some("link") => unset.push(Unset::Link),
                    Some("metadata") => unset.push(Unset::Metadata),
                    _ => p.add(
                        &format!("unset.{i}"),
                        format!("The selected unset.{i} is invalid."),
                    ),
                }
            }
        }
        Some(_) => p.add("unset", "The unset must be an array.".into()),
    }
    unset
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn messages(check: impl FnOnce(&mut Problems)) -> Value {
        let mut p = Problems::default();
        check(&mut p);
        match p.finish() {
            Ok(()) => Value::Null,
            Err(e) => Value::Object(*e.details.unwrap_or_default()),
        }
    }

    #[test]
    fn bodies_are_json_objects_under_the_limit() {
        assert_eq!(parse_body(None).unwrap_err().status, 413);
        assert_eq!(parse_body(Some(&Bytes::from_static(b" \n"))), Ok(None));
        let e = parse_body(Some(&Bytes::from_static(b"{"))).unwrap_err();
        assert_eq!(
            e.details.unwrap()["body"][0],
            "The request body is not valid JSON."
        );
        assert!(object(Some(&json!([1]))).is_err());
        assert_eq!(object(None), Ok(Map::new()));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let body = fields(json!({
            "uid": "a|b", "name": "", "avatar": "Invalid:https://x", "link": 7,
            "tags": [" ", 5], "unset": ["avatar", "name"], "permanent": "yes",
        }));
        let got = messages(|p| {
            read_uid(&body, p);
            read_name(&body, Presence::Optional, p);
            read_profile(&body, p);
            read_unset(&body, p);
            read_flag(&body, "permanent", "permanent", p);
        });
        assert_eq!(
            got,
            json!({
                "uid": ["The uid may only contain letters, numbers, dashes and underscores."],
                "name": ["The name field must have a value."],
                "avatar": ["The avatar must be a valid URL."],
                "link": ["The link must be a valid URL."],
                "tags.0": ["The tags.0 field is required."],
                "tags.1": ["The tags.1 must be a string of at most 100 characters."],
                "unset.1": ["The selected unset.1 is invalid."],
                "permanent": ["The permanent field must be true or false."],
            })
        );
    }

    #[test]
    fn a_required_name_may_not_be_left_out_an_optional_one_may() {
        let empty = Map::new();
        let required = messages(|p| {
            read_name(&empty, Presence::Required, p);
        });
        assert_eq!(required, json!({"name": ["The name field is required."]}));
        assert_eq!(
            messages(|p| {
                read_name(&empty, Presence::Optional, p);
            }),
            Value::Null
        );
        let long = fields(json!({"name": "n".repeat(101), "uid": "U".repeat(100)}));
        let mut p = Problems::default();
        assert_eq!(read_uid(&long, &mut p), Some("u".repeat(100)));
        assert_eq!(read_name(&long, Presence::Required, &mut p), None);
    }
}
