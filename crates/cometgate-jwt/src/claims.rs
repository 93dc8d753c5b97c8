//! Reading a verified token's claims: numeric dates, the subject, and the profile (display
//! name and avatar) for just-in-time provisioning.

use serde_json::{Map, Value};

/// A verified token's payload.
pub(crate) type Claims = Map<String, Value>;

/// Claims that name the user, in the order they are tried. `user_metadata.*` is where Supabase
/// keeps the profile of OAuth sign-ins.
const NAME_CLAIMS: &[&[&str]] = &[
    &["name"],
    &["user_metadata", "full_name"],
    &["user_metadata", "name"],
    &["nickname"],
    &["preferred_username"],
    &["username"],
];

/// Claims that hold an avatar URL, in the order they are tried.
const AVATAR_CLAIMS: &[&[&str]] = &[
    &["picture"],
    &["image_url"],
    &["avatar_url"],
    &["user_metadata", "avatar_url"],
    &["user_metadata", "picture"],
];

/// The string at `path` (nested objects), if present and non-blank.
pub(crate) fn string_at<'a>(claims: &'a Claims, path: &[&str]) -> Option<&'a str> {
    let (first, rest) = path.split_first()?;
    let mut value = claims.get(*first)?;
    for key in rest {
        value = value.as_object()?.get(*key)?;
    }
    value.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// The first non-blank string among `paths`.
fn first_string<'a>(claims: &'a Claims, paths: &[&[&str]]) -> Option<&'a str> {
    paths.iter().find_map(|path| string_at(claims, path))
}

/// The display name the identity provider gave, if any.
pub(crate) fn display_name(claims: &Claims) -> Option<&str> {
    first_string(claims, NAME_CLAIMS)
}

/// The avatar URL the identity provider gave, if it is an `https://` URL (CometChat shows it
/// to other users: no `javascript:` or `data:` links).
pub(crate) fn avatar(claims: &Claims) -> Option<&str> {
    first_string(claims, AVATAR_CLAIMS).filter(|url| url.starts_with("https://"))
}

/// Claims that name the sign-in session: Clerk and OIDC's `sid`, Supabase's `session_id`.
const SESSION_CLAIMS: &[&[&str]] = &[&["sid"], &["session_id"]];

/// The sign-in session's id, if the token names one: cometgate keeps one chat token per
/// session when the client sends no device id.
pub(crate) fn session_id(claims: &Claims) -> Option<&str> {
    first_string(claims, SESSION_CLAIMS)
}

/// A numeric date claim (seconds since the epoch): `Ok(None)` when absent, an error when it is
/// present but not a non-negative number.
pub(crate) fn numeric_date(claims: &Claims, name: &str) -> Result<Option<u64>, String> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or_else(|| format!("claim `{name}` is not a valid date")),
        Some(_) => Err(format!("claim `{name}` is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: Value) -> Claims {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn profile_comes_from_the_usual_claims_in_order() {
        let c = claims(json!({"name": " Ada ", "nickname": "ada", "picture": "https://img/a.png"}));
        assert_eq!(display_name(&c), Some("Ada"));
        assert_eq!(avatar(&c), Some("https://img/a.png"));

        let supabase = claims(
            json!({"user_metadata": {"full_name": "Grace", "avatar_url": "https://x/g.png"}}),
        );
        assert_eq!(display_name(&supabase), Some("Grace"));
        assert_eq!(avatar(&supabase), Some("https://x/g.png"));

        let blank = claims(json!({"name": "  ", "preferred_username": "linus"}));
        assert_eq!(display_name(&blank), Some("linus"));
        assert_eq!(display_name(&claims(json!({"name": 7}))), None);
    }

    #[test]
    fn the_session_comes_from_sid_or_session_id() {
        let clerk = claims(json!({"sid": "sess_2abc", "session_id": "other"}));
        assert_eq!(session_id(&clerk), Some("sess_2abc"));
        let supabase = claims(json!({"session_id": "0b5c7c1e-7a3e-4c59-9a3b-1d2f3e4a5b6c"}));
        assert_eq!(
            session_id(&supabase),
            Some("0b5c7c1e-7a3e-4c59-9a3b-1d2f3e4a5b6c")
        );
        assert_eq!(session_id(&claims(json!({"sid": 7}))), None);
        assert_eq!(session_id(&claims(json!({}))), None);
    }

    #[test]
    fn avatars_must_be_https() {
        for bad in [
            "javascript:alert(1)",
            "http://img/a.png",
            "data:image/png;base64,AAAA",
        ] {
            assert_eq!(avatar(&claims(json!({ "picture": bad }))), None, "{bad}");
        }
    }

    #[test]
    fn numeric_dates_accept_integers_and_floats_only() {
        let c = claims(json!({"a": 10, "b": 10.7, "c": "10", "d": -1, "e": null}));
        assert_eq!(numeric_date(&c, "a"), Ok(Some(10)));
        assert_eq!(numeric_date(&c, "b"), Ok(Some(10)));
        assert!(numeric_date(&c, "c").is_err());
        assert!(numeric_date(&c, "d").is_err());
        assert_eq!(numeric_date(&c, "e"), Ok(None));
        assert_eq!(numeric_date(&c, "missing"), Ok(None));
    }
}
