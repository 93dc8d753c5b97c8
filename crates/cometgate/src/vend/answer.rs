//! What the gate answers: a token or a problem, as status, headers and body bytes.

use std::fmt;

use serde::Serialize;

use crate::client::TokenValue;
use crate::uid::Uid;
use crate::vend::problem::Problem;

/// The 200 answer: `{"authToken": "...", "uid": "..."}` with `Cache-Control: no-store`.
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
        vec![
            ("content-type", "application/json".to_owned()),
            ("cache-control", "no-store".to_owned()),
        ]
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

/// The gate's answer to one token request, framework-neutral. An adapter copies
/// [`status`](Self::status), [`headers`](Self::headers) and [`body`](Self::body) into its own
/// response type.
///
/// ```
/// use cometgate::vend::{Answer, Problem};
///
/// let answer = Answer::Problem(Problem::method_not_allowed());
/// assert_eq!(answer.status(), 405);
/// assert!(answer.headers().contains(&("allow", "POST".to_owned())));
/// assert!(answer.token().is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// 200 with a token.
    Token(TokenResponse),
    /// An RFC 9457 problem.
    Problem(Problem),
}

impl Answer {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Token(_) => 200,
            Self::Problem(p) => p.status(),
        }
    }

    /// Every header (lower-case names), `Content-Type` and `Cache-Control: no-store` included.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Token(t) => t.headers(),
            Self::Problem(p) => p.headers(),
        }
    }

    /// The body bytes.
    pub fn body(&self) -> Vec<u8> {
        match self {
            Self::Token(t) => t.body(),
            Self::Problem(p) => p.body(),
        }
    }

    /// The token, if this is a success.
    pub fn token(&self) -> Option<&TokenResponse> {
        match self {
            Self::Token(t) => Some(t),
            Self::Problem(_) => None,
        }
    }

    /// The problem, if this is an error.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Self::Token(_) => None,
            Self::Problem(p) => Some(p),
        }
    }
}

impl From<Problem> for Answer {
    fn from(problem: Problem) -> Self {
        Self::Problem(problem)
    }
}

impl From<TokenResponse> for Answer {
    fn from(token: TokenResponse) -> Self {
        Self::Token(token)
    }
}
