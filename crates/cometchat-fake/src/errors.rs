//! CometChat's error envelope, with the exact texts recorded from the real server.
//!
//! `{"error":{"message","devMessage","source":"chat-api",["details"],"code"}}` — key order as the
//! real server sends it (see `shared/cometchat-api.md` §3).

use serde_json::{Map, Value, json};

/// An error answer: HTTP status plus CometChat's error body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub dev_message: String,
    pub details: Option<Box<Map<String, Value>>>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status,
            code,
            dev_message: message.clone(),
            message,
            details: None,
            retry_after: None,
        }
    }

    fn dev(mut self, dev_message: impl Into<String>) -> Self {
        self.dev_message = dev_message.into();
        self
    }

    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("message".into(), json!(self.message));
        error.insert("devMessage".into(), json!(self.dev_message));
        error.insert("source".into(), json!("chat-api"));
        if let Some(details) = &self.details {
            error.insert("details".into(), Value::Object((**details).clone()));
        }
        error.insert("code".into(), json!(self.code));
        json!({ "error": error })
    }

    /// 404 `ERR_UID_NOT_FOUND`; `uid` is echoed as the path carried it (lower-cased, still
    /// percent-encoded), as the real server does.
    pub fn uid_not_found(uid: &str) -> Self {
        Self::new(
            404,
            "ERR_UID_NOT_FOUND",
            format!("The UID {uid} does not exist, please make sure you have created a user with UID {uid}."),
        )
        .dev(format!(
            "The UID {uid} does not exist, so please make sure you have created a user with UID {uid}."
        ))
    }

    /// 400 `ERR_UID_ALREADY_EXISTS`.
    pub fn uid_exists(uid: &str) -> Self {
        Self::new(
            400,
            "ERR_UID_ALREADY_EXISTS",
            format!("The uid {uid} already exists. Please use another uid or try after permanently deleting the user."),
        )
        .dev(format!(
            "The uid {uid} already exists. Please use another uid or try recreating after permanently deleting the user."
        ))
    }

    /// 404 `ERR_AUTH_TOKEN_NOT_FOUND`.
    pub fn token_not_found() -> Self {
        Self::new(
            404,
            "ERR_AUTH_TOKEN_NOT_FOUND",
            "Auth token does not exist.",
        )
    }

    /// 404 `ERR_API_NOT_FOUND` for unknown routes.
    pub fn api_not_found() -> Self {
        Self::new(
            404,
            "ERR_API_NOT_FOUND",
            "The API endpoint is invalid. Please verify the API call.",
        )
        .dev("The endpoint of the API is invalid. Please have the API call checked.")
    }

    /// 401 `AUTH_ERR_APIKEY_NOT_FOUND`, with the key masked as the real server masks it.
    pub fn apikey_not_found(given: &str) -> Self {
        let masked = mask_key(given);
        Self::new(
            401,
            "AUTH_ERR_APIKEY_NOT_FOUND",
            format!("The key {masked} does not exist. Please use correct apiKey."),
        )
        .dev(format!(
            "The {masked} key doesn't work. Please use correct apiKey."
        ))
    }

    /// 403 `AUTH_ERR_NO_ACCESS`: a valid key whose scope does not allow the operation (an Auth
    /// Key on anything but creating users and tokens). The key is masked like in the 401.
    pub fn no_access(given: &str) -> Self {
        let masked = mask_key(given);
        Self::new(
            403,
            "AUTH_ERR_NO_ACCESS",
            format!("The key {masked} cannot be used to perform this operation. Please use API key with a correct scope to perform the operation."),
        )
        .dev(format!(
            "The {masked} key does not have enough clearance. To perform the operation, please use the API key with the correct scope."
        ))
    }

    /// 400 `ERR_BAD_REQUEST` with per-field details (Laravel style).
    pub fn validation(details: Map<String, Value>) -> Self {
        let mut e = Self::new(
            400,
            "ERR_BAD_REQUEST",
            "Failed to validate the data sent with the request.",
        );
        e.details = Some(Box::new(details));
        e
    }

    /// 429 `ERR_TOO_MANY_REQUESTS` with `Retry-After`.
    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            429,
            "ERR_TOO_MANY_REQUESTS",
            "Too many requests. Please try again after some time.",
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// 401 `AUTH_ERR_AUTH_TOKEN_NOT_FOUND` (client API), in the SDK's wording.
    pub fn auth_token_unknown(token: &str) -> Self {
        Self::new(
            401,
            "AUTH_ERR_AUTH_TOKEN_NOT_FOUND",
            format!(
                "The auth token {token} does not exist. Please make sure you are logged in and have a valid auth token or try login again."
            ),
        )
    }

    /// 401 `AUTH_ERR_EMPTY_AUTH_TOKEN` (client API without an `authToken` header).
    pub fn auth_token_missing() -> Self {
        Self::new(
            401,
            "AUTH_ERR_EMPTY_AUTH_TOKEN",
            "The auth token is empty. Please login again.",
        )
    }

    /// A scripted server failure.
    pub fn server_error(status: u16) -> Self {
        Self::new(
            status,
            "ERR_EXCEPTION",
            "Something went wrong. Please try again later.",
        )
    }
}

/// The real server keeps the first and last five characters and stars the rest, keeping the
/// length: `11111**********************11111`. Short keys are starred whole.
pub(crate) fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < 5 || i >= n - 5 { *c } else { '*' })
        .collect()
}

/// A `details` map with one message for one field.
pub(crate) fn detail(field: &str, message: impl Into<String>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(field.to_owned(), json!([message.into()]));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_the_real_server() {
        let key = format!("11111{}11111", "x".repeat(22));
        assert_eq!(mask_key(&key), format!("11111{}11111", "*".repeat(22)));
        assert_eq!(mask_key("short"), "*****");
        let body = ApiError::apikey_not_found(&key).body().to_string();
        assert_eq!(
            body,
            r#"{"error":{"message":"The key 11111**********************11111 does not exist. Please use correct apiKey.","devMessage":"The 11111**********************11111 key doesn't work. Please use correct apiKey.","source":"chat-api","code":"AUTH_ERR_APIKEY_NOT_FOUND"}}"#
        );
    }

    #[test]
    fn recorded_bodies_match_exactly() {
        assert_eq!(
            ApiError::uid_exists("user_000").body().to_string(),
            r#"{"error":{"message":"The uid user_000 already exists. Please use another uid or try after permanently deleting the user.","devMessage":"The uid user_000 already exists. Please use another uid or try recreating after permanently deleting the user.","source":"chat-api","code":"ERR_UID_ALREADY_EXISTS"}}"#
        );
        assert_eq!(
            ApiError::uid_not_found("user_000").body().to_string(),
            r#"{"error":{"message":"The UID user_000 does not exist, please make sure you have created a user with UID user_000.","devMessage":"The UID user_000 does not exist, so please make sure you have created a user with UID user_000.","source":"chat-api","code":"ERR_UID_NOT_FOUND"}}"#
        );
        assert_eq!(
            ApiError::token_not_found().body().to_string(),
            r#"{"error":{"message":"Auth token does not exist.","devMessage":"Auth token does not exist.","source":"chat-api","code":"ERR_AUTH_TOKEN_NOT_FOUND"}}"#
        );
        assert_eq!(
            ApiError::api_not_found().body().to_string(),
            r#"{"error":{"message":"The API endpoint is invalid. Please verify the API call.","devMessage":"The endpoint of the API is invalid. Please have the API call checked.","source":"chat-api","code":"ERR_API_NOT_FOUND"}}"#
        );
        let mut details = detail("uid", "The uid field is required.");
        details.extend(detail("name", "The name field is required."));
        assert_eq!(
            ApiError::validation(details).body().to_string(),
            r#"{"error":{"message":"Failed to validate the data sent with the request.","devMessage":"Failed to validate the data sent with the request.","source":"chat-api","details":{"uid":["The uid field is required."],"name":["The name field is required."]},"code":"ERR_BAD_REQUEST"}}"#
        );
    }
}
