//! The JSON bodies of the endpoint's routes, parsed once here: a bad body is a `400` that
//! says what is wrong and causes no upstream call.
//!
//! - token route: empty, or `{"deviceId": "...", "refresh": true}` (both optional; `null`
//!   means absent);
//! - revoke route: `{"deviceId": "..."}` or `{"all": true}`.
//!
//! Unknown fields are refused, so a typo such as `deviceID` is an error, not a new device on
//! every request.

use serde::Deserialize;

use crate::device::DeviceId;
use crate::vend::gate::TokenRequest;
use crate::vend::{Problem, Revoke};

const NOT_JSON: &str =
    "The body must be a JSON object such as {\"deviceId\": \"…\"}, without other fields.";
const REVOKE_WHAT: &str = "Say what to revoke: {\"deviceId\": \"…\"} for this device or {\"all\": true} for every device.";

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TokenBody {
    device_id: Option<String>,
    refresh: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RevokeBody {
    device_id: Option<String>,
    all: Option<bool>,
}

fn json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|_| Problem::bad_request_because(NOT_JSON))
}

fn device(id: Option<String>) -> Result<Option<DeviceId>, Problem> {
    id.map(|id| DeviceId::parse(&id).map_err(|e| Problem::bad_request_because(e.to_string())))
        .transpose()
}

/// The token route's request; an empty body asks for a token on a new device.
pub(crate) fn token_request(body: &[u8]) -> Result<TokenRequest, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(TokenRequest::default());
    }
    let TokenBody { device_id, refresh } = json(body)?;
    Ok(TokenRequest {
        device_id: device(device_id)?,
        refresh: refresh.unwrap_or(false),
    })
}

/// The revoke route's request: exactly one of a device id or `all: true`.
pub(crate) fn revoke_request(body: &[u8]) -> Result<Revoke, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::bad_request_because(REVOKE_WHAT));
    }
    let RevokeBody { device_id, all } = json(body)?;
    match (device(device_id)?, all.unwrap_or(false)) {
        (Some(device), false) => Ok(Revoke::Device(device)),
        (None, true) => Ok(Revoke::All),
        _ => Err(Problem::bad_request_because(REVOKE_WHAT)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn token_bodies() {
        assert_eq!(token_request(b"").unwrap(), TokenRequest::default());
        assert_eq!(token_request(b" \n").unwrap(), TokenRequest::default());
        assert_eq!(token_request(b"{}").unwrap(), TokenRequest::default());
        let null = token_request(br#"{"deviceId": null, "refresh": null}"#).unwrap();
        assert_eq!(null, TokenRequest::default());
        let full = token_request(br#"{"deviceId": "a.b:c-d_e", "refresh": true}"#).unwrap();
        assert_eq!(full.device_id.unwrap().as_str(), "a.b:c-d_e");
        assert!(full.refresh);
        for bad in [
            &br#"{"deviceID": "x"}"#[..],
            br#"{"deviceId": ""}"#,
            br#"{"deviceId": 7}"#,
            br#"{"deviceId": "a b"}"#,
            br#"{"refresh": "yes"}"#,
            b"[]",
            b"deviceId=x",
            br#"{"deviceId": "x""#,
        ] {
            let problem = token_request(bad).unwrap_err();
            assert_eq!(problem.status(), 400, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn revoke_bodies() {
        assert!(
            matches!(revoke_request(br#"{"deviceId": "d1"}"#), Ok(Revoke::Device(d)) if d.as_str() == "d1")
        );
        assert_eq!(revoke_request(br#"{"all": true}"#).unwrap(), Revoke::All);
        for bad in [
            &b""[..],
            b"{}",
            br#"{"all": false}"#,
            br#"{"deviceId": null}"#,
            br#"{"deviceId": "d1", "all": true}"#,
            br#"{"deviceId": "d 1"}"#,
        ] {
            assert_eq!(revoke_request(bad).unwrap_err().status(), 400);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever the bytes, parsing answers (never panics) and an accepted device id
        /// follows the rule.
        #[test]
        fn any_body_is_parsed_or_refused(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(TokenRequest { device_id: Some(id), .. }) = token_request(&body) {
                prop_assert!(DeviceId::parse(id.as_str()).is_ok());
            }
            let _ = revoke_request(&body);
        }
    }
}
