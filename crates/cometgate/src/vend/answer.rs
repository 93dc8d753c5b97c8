//! The token route's success: [`TokenResponse`].

use std::fmt;

use serde::Serialize;

use crate::client::TokenValue;
use crate::uid::Uid;

/// The 200 answer of the token route: `{"authToken": "...", "uid": "..."}` (the endpoint adds
/// `Cache-Control: no-store`).
///
/// Its `Debug` shows only a short prefix of the token.
///
/// ```
/// use cometgate::{Uid, client::TokenValue, vend::TokenResponse};
///
/// let t = TokenResponse::new(
///     TokenValue::new("alice_1694668129d2eca40a65abba29e6860224018ad8"),
///     Uid::parse("alice").unwrap(),
/// );
/// let body: serde_json::Value = serde_json::from_slice(&t.body()).unwrap();
/// assert_eq!(body, serde_json::json!({
///     "authToken": "alice_1694668129d2eca40a65abba29e6860224018ad8",
///     "uid": "alice",
/// }));
/// assert!(!format!("{t:?}").contains("d2eca40a65abba29e6860224018ad8"));
/// ```
#[derive(Clone, PartialEq)]
pub struct TokenResponse {
    auth_token: TokenValue,
    uid: Uid,
}

#[derive(Serialize)]
struct TokenBody<'a> {
    #[serde(rename = "authToken")]
    auth_token: &'a str,
    uid: &'a str,
}

impl TokenResponse {
    /// A token answer for `uid`.
    pub fn new(auth_token: TokenValue, uid: Uid) -> Self {
        Self { auth_token, uid }
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
            .finish()
    }
}
