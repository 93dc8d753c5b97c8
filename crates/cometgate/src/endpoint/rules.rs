//! The endpoint's small rules, each written once: which incoming request ids are reused, which
//! paths can be routes, and how an app extractor's error status maps to a [`Rejection`].

use crate::identity::Rejection;

/// The header a request id is read from and echoed in.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest incoming request id that is reused; longer ones are replaced.
pub const REQUEST_ID_MAX_LEN: usize = 64;

/// The request id for a token request: the incoming `x-request-id` value if it is short and
/// made of safe characters (so log lines can be joined across hops), otherwise a fresh random
/// id (32 hex digits), because a client-chosen header must never forge or break log lines.
///
/// Spaces and tabs around the value are not part of it (RFC 9110 §5.5). Some HTTP parsers
/// strip them and some do not, so they are stripped here and every adapter reuses the same id.
///
/// ```
/// use cometgate::endpoint::rules::request_id;
///
/// assert_eq!(request_id(Some(b"trace-42.a:b")), "trace-42.a:b");
/// assert_eq!(request_id(Some(b" trace-42 \t")), "trace-42");
/// assert_eq!(request_id(Some(b"two words")).len(), 32);
/// assert_eq!(request_id(None).len(), 32);
/// ```
pub fn request_id(incoming: Option<&[u8]>) -> String {
    incoming
        .and_then(|v| std::str::from_utf8(v).ok())
        .map(|v| v.trim_matches([' ', '\t']))
        .filter(|v| is_safe_request_id(v))
        .map_or_else(|| format!("{:032x}", rand::random::<u128>()), str::to_owned)
}

/// Whether `id` may be logged and echoed as it is: 1 to [`REQUEST_ID_MAX_LEN`] ASCII letters,
/// digits, `-`, `_`, `.` or `:`.
pub fn is_safe_request_id(id: &str) -> bool {
    (1..=REQUEST_ID_MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Whether `path` can be a token path: it starts with `/` and has only non-empty segments of
/// ASCII letters, digits, `-`, `_`, `.` and `~` (no route patterns such as `{id}` or `*`).
///
/// ```
/// use cometgate::endpoint::rules::is_valid_token_path;
///
/// assert!(is_valid_token_path("/cometchat-token"));
/// assert!(is_valid_token_path("/api/chat/token"));
/// assert!(!is_valid_token_path("/users/{id}/token"));
/// assert!(!is_valid_token_path("cometchat-token"));
/// assert!(!is_valid_token_path("/a//b"));
/// ```
pub fn is_valid_token_path(path: &str) -> bool {
    path.strip_prefix('/').is_some_and(|rest| {
        rest.split('/').all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
        })
    })
}

/// What an app extractor's error response stands for, from its HTTP status and whether its
/// `WWW-Authenticate` challenge carries an `error=` parameter; `None` for a server error (the
/// middleware or layer that provides the extractor is missing or misconfigured: the adapter
/// answers `500 misconfigured` and logs which one).
///
/// | status | rejection |
/// |---|---|
/// | 5xx | `None` |
/// | 401 without `error=` | [`Rejection::Missing`] |
/// | 403 | [`Rejection::Refused`] |
/// | other 4xx (and 401 with `error=`) | [`Rejection::Invalid`] |
/// | anything else (a redirect to a login page) | [`Rejection::Missing`] |
///
/// `extractor` names the extractor type in the rejection's (server-side) reason.
///
/// ```
/// use cometgate::Rejection;
/// use cometgate::endpoint::rules::rejection_for_status;
///
/// assert_eq!(rejection_for_status(401, false, "Claims"), Some(Rejection::Missing));
/// assert!(matches!(rejection_for_status(401, true, "Claims"), Some(Rejection::Invalid { .. })));
/// assert_eq!(rejection_for_status(500, false, "Claims"), None);
/// ```
pub fn rejection_for_status(
    status: u16,
    challenge_has_error: bool,
    extractor: &str,
) -> Option<Rejection> {
    let reason = || format!("the extractor `{extractor}` answered {status}");
    match status {
        500..=599 => None,
        401 if !challenge_has_error => Some(Rejection::Missing),
        403 => Some(Rejection::refused(reason())),
        400..=499 => Some(Rejection::invalid(reason())),
        _ => Some(Rejection::Missing),
    }
}

/// Whether a `WWW-Authenticate` value carries an `error=` parameter (RFC 6750 §3).
///
/// ```
/// use cometgate::endpoint::rules::challenge_has_error;
///
/// assert!(challenge_has_error(br#"Bearer realm="x", error="invalid_token""#));
/// assert!(!challenge_has_error(br#"Bearer realm="x""#));
/// ```
pub fn challenge_has_error(www_authenticate: &[u8]) -> bool {
    www_authenticate.windows(6).any(|w| w == b"error=")
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Whatever the client sends, the id that reaches the logs is short and made of safe
        /// characters, and a safe id survives unchanged.
        #[test]
        fn logged_ids_are_always_safe(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..100)) {
            let id = request_id(Some(&raw));
            proptest::prop_assert!(is_safe_request_id(&id), "{id:?}");
            if is_safe_request_id(std::str::from_utf8(&raw).unwrap_or("")) {
                proptest::prop_assert_eq!(id.as_bytes(), &raw[..]);
            }
        }
    }

    #[test]
    fn unsafe_or_missing_ids_are_replaced_by_fresh_ones() {
        for bad in [
            &b"a b"[..],
            b"a\"b",
            b"line\tbreak",
            &[0xff, 0x41],
            &[b'a'; REQUEST_ID_MAX_LEN + 1],
            b"",
        ] {
            let id = request_id(Some(bad));
            assert_eq!(id.len(), 32, "{id}");
            assert!(is_safe_request_id(&id));
        }
        assert_ne!(request_id(None), request_id(None));
    }

    #[test]
    fn statuses_map_to_rejections() {
        let r = |s, e| rejection_for_status(s, e, "X");
        assert_eq!(r(401, false), Some(Rejection::Missing));
        assert!(matches!(r(401, true), Some(Rejection::Invalid { .. })));
        assert!(matches!(r(403, false), Some(Rejection::Refused { .. })));
        assert!(matches!(r(400, false), Some(Rejection::Invalid { .. })));
        assert!(matches!(r(422, false), Some(Rejection::Invalid { .. })));
        assert_eq!(r(303, false), Some(Rejection::Missing));
        assert_eq!(r(200, false), Some(Rejection::Missing));
        assert_eq!(r(500, false), None);
        assert_eq!(r(502, false), None);
    }

    #[test]
    fn token_paths() {
        for ok in ["/t", "/cometchat-token", "/api/v1/chat.token", "/a~b_c"] {
            assert!(is_valid_token_path(ok), "{ok}");
        }
        for bad in ["", "/", "t", "/a/", "/a//b", "/{id}", "/*", "/a b", "/é"] {
            assert!(!is_valid_token_path(bad), "{bad}");
        }
    }
}
