//! The token route's success: [`TokenResponse`].

use std::fmt;

use serde::Serialize;

use crate::client::TokenValue;
use crate::device::DeviceId;
use crate::uid::Uid;

/// The 200 answer of the token route:
/// `{"authToken": "...", "uid": "...", "deviceId": "...", "expiresAt": 1700604800}`
/// (`expiresAt` in Unix seconds, `null` without a max age; the endpoint adds
/// `Cache-Control: no-store`).
///
/// Its `Debug` shows only a short prefix of the token, and the device's hash.
///
/// ```
/// use cometgate::{DeviceId, Uid, client::TokenValue, vend::TokenResponse};
///
/// let t = TokenResponse::new(
///     TokenValue::new("alice_1694668129d2eca40a65abba29e6860224018ad8"),
///     Uid::parse("alice").unwrap(),
/// )
/// .with_device(DeviceId::parse("phone-1").unwrap(), Some(1_695_272_929));
/// let body: serde_json::Value = serde_json::from_slice(&t.body()).unwrap();
/// assert_eq!(body, serde_json::json!({
///     "authToken": "alice_1694668129d2eca40a65abba29e6860224018ad8",
///     "uid": "alice",
///     "deviceId": "phone-1",
///     "expiresAt": 1_695_272_929,
/// }));
/// assert!(!format!("{t:?}").contains("d2eca40a65abba29e6860224018ad8"));
/// ```
#[derive(Clone, PartialEq)]
pub struct TokenResponse {
    auth_token: TokenValue,
    uid: Uid,
    device_id: Option<DeviceId>,
    expires_at: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenBody<'a> {
    auth_token: &'a str,
    uid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_id: Option<&'a str>,
    /// Present (possibly `null`) whenever a device is.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<Option<u64>>,
}

impl TokenResponse {
    /// A token answer for `uid` (without a device: see [`with_device`](Self::with_device)).
    pub fn new(auth_token: TokenValue, uid: Uid) -> Self {
        Self {
            auth_token,
            uid,
            device_id: None,
            expires_at: None,
        }
    }

    /// The device the token belongs to and when it expires (Unix seconds, `None`: no max age).
    #[must_use]
    pub fn with_device(mut self, device_id: DeviceId, expires_at: Option<u64>) -> Self {
        self.device_id = Some(device_id);
        self.expires_at = expires_at;
        self
    }

    /// The device the token belongs to.
    pub fn device_id(&self) -> Option<&DeviceId> {
        self.device_id.as_ref()
    }

    /// When the token stops being handed out, in Unix seconds.
    pub fn expires_at(&self) -> Option<u64> {
        self.expires_at
    }

    /// The auth token, for `CometChatUIKit.login({ authToken })`.
    pub fn auth_token(&self) -> &TokenValue {
        &self.auth_token
    }

    /// The CometChat UID the token logs in.
    pub fn uid(&self) -> &Uid {
        &self.uid
    }

    /// Every header of the answer (lower-case names).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        vec![("content-type", "application/json".to_owned())]
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        let body = TokenBody {
            auth_token: self.auth_token.expose(),
            uid: self.uid.as_str(),
            device_id: self.device_id.as_ref().map(DeviceId::as_str),
            expires_at: self.device_id.as_ref().map(|_| self.expires_at),
        };
        // Two strings always serialize.
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("auth_token", &self.auth_token)
            .field("uid", &self.uid)
            .field("device_id", &self.device_id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}
