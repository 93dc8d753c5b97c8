//! The request id that ties a token request to its tracing event.
//!
//! A proxy's `x-request-id` is reused when it is short and made of safe characters, so that log
//! lines can be joined across hops; anything else (too long, control characters, quotes, spaces)
//! is replaced by a fresh random id, because a client-chosen header must never be able to forge
//! or break log lines. Same rule as the axum adapter.

use actix_web::http::header::HeaderMap;

/// The header the id is read from and echoed in.
pub(crate) const HEADER: &str = "x-request-id";

/// Longest accepted incoming id; longer ones are replaced.
const MAX_LEN: usize = 64;

/// The incoming `x-request-id` if it is safe to log, otherwise a new random id.
pub(crate) fn from_headers(headers: &HeaderMap) -> String {
    headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_safe(v))
        .map_or_else(generate, str::to_owned)
}

fn is_safe(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// 128 random bits as 32 lower-case hex digits.
fn generate() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn with(value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static(HEADER),
            HeaderValue::from_bytes(value).unwrap(),
        );
        headers
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Whatever the client sends, the id that reaches the logs is short and made of safe
        /// characters, and a safe id survives unchanged.
        #[test]
        fn logged_ids_are_always_safe(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..100)) {
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_bytes(&raw) {
                headers.insert(HeaderName::from_static(HEADER), value);
            }
            let id = from_headers(&headers);
            proptest::prop_assert!(is_safe(&id), "{id:?}");
            if headers.contains_key(HEADER) && is_safe(std::str::from_utf8(&raw).unwrap_or("")) {
                proptest::prop_assert_eq!(id.as_bytes(), &raw[..]);
            }
        }
    }

    #[test]
    fn safe_ids_are_kept() {
        assert_eq!(from_headers(&with(b"abc-123_x.y:z")), "abc-123_x.y:z");
    }

    #[test]
    fn unsafe_or_missing_ids_are_replaced() {
        for bad in [
            &b"a b"[..],
            b"a\"b",
            b"line\tbreak",
            &[0xff, 0x41],
            &[b'a'; MAX_LEN + 1],
        ] {
            let id = from_headers(&with(bad));
            assert_eq!(id.len(), 32, "{id}");
            assert!(is_safe(&id));
        }
        let generated = from_headers(&HeaderMap::new());
        assert!(is_safe(&generated));
        assert_ne!(generated, from_headers(&HeaderMap::new()));
    }
}
