//! Requests and responses of CometChat's users and auth-token endpoints, in their real shapes.
//!
//! Fields CometChat omits when they were never set are `Option`s, and are left out of requests
//! when `None`.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::uid::Uid;

/// A CometChat user, as `GET /users/{uid}` returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct User {
    /// The UID.
    pub uid: Uid,
    /// The display name.
    pub name: String,
    /// The avatar URL.
    #[serde(default)]
    pub avatar: Option<String>,
    /// The profile link.
    #[serde(default)]
    pub link: Option<String>,
    /// The role (`default` unless set).
    #[serde(default)]
    pub role: Option<String>,
    /// `online`/`available` or `offline`.
    #[serde(default)]
    pub status: Option<String>,
    /// The status message.
    #[serde(default)]
    pub status_message: Option<String>,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    /// Tags (listed only when asked for).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Creation time, unix seconds.
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Last update time, unix seconds (absent until the first update).
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// An auth token, present only on a create with `withAuthToken: true`.
    #[serde(default)]
    pub auth_token: Option<TokenValue>,
}

/// An auth token string: a credential, so its `Debug` is redacted.
///
/// ```
/// use cometgate::client::TokenValue;
///
/// let t = TokenValue::new("alice_1694668129d2eca40a65abba29e6860224018ad8");
/// assert_eq!(format!("{t:?}"), "TokenValue(alice_16946…)");
/// assert_eq!(t.expose(), "alice_1694668129d2eca40a65abba29e6860224018ad8");
/// ```
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct TokenValue(SecretString);

impl TokenValue {
    /// Wraps a token string.
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }

    /// The token itself, to hand to the signed-in client.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// A short, log-safe prefix of the token (the UID part and a few more characters).
    pub fn redacted(&self) -> String {
        let t = self.expose();
        let shown: String = t
            .chars()
            .take(t.rfind('_').map_or(0, |i| i + 6))
            .take(40)
            .collect();
        format!("{shown}…")
    }
}

impl TokenValue {
    /// A log-safe fingerprint of the token that holds neither the token nor its UID: the first
    /// 8 bytes of its SHA-256, in hex. The same token always has the same fingerprint, so a log
    /// line can be matched with the token a client shows.
    ///
    /// ```
    /// use cometgate::client::TokenValue;
    /// let t = TokenValue::new("alice_1694668129d2eca40a65abba29e6860224018ad8");
    /// assert_eq!(t.fingerprint().len(), 16);
    /// assert!(!t.fingerprint().contains("alice"));
    /// ```
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.expose().as_bytes());
        data_encoding::HEXLOWER.encode(&digest[..8])
    }
}

impl fmt::Debug for TokenValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenValue({})", self.redacted())
    }
}

impl PartialEq for TokenValue {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for TokenValue {}

/// An auth token as `POST /users/{uid}/auth_tokens` returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AuthToken {
    /// The user the token logs in.
    pub uid: Uid,
    /// The token.
    pub auth_token: TokenValue,
    /// Creation time, unix seconds.
    #[serde(default)]
    pub created_at: Option<i64>,
}

/// The optional profile setters shared by [`NewUser`] and [`UserUpdate`].
macro_rules! profile_setters {
    () => {
        /// Sets the avatar URL.
        #[must_use]
        pub fn avatar(mut self, url: impl Into<String>) -> Self {
            self.avatar = Some(url.into());
            self
        }

        /// Sets the profile link.
        #[must_use]
        pub fn link(mut self, url: impl Into<String>) -> Self {
            self.link = Some(url.into());
            self
        }

        /// Sets the role (it must exist in CometChat).
        #[must_use]
        pub fn role(mut self, role: impl Into<String>) -> Self {
            self.role = Some(role.into());
            self
        }

        /// Sets the status message.
        #[must_use]
        pub fn status_message(mut self, message: impl Into<String>) -> Self {
            self.status_message = Some(message.into());
            self
        }

        /// Sets the metadata object.
        #[must_use]
        pub fn metadata(mut self, metadata: serde_json::Value) -> Self {
            self.metadata = Some(metadata);
            self
        }

        /// Sets the tags.
        #[must_use]
        pub fn tags(mut self, tags: Vec<String>) -> Self {
            self.tags = Some(tags);
            self
        }
    };
}

/// The body of `POST /users`.
///
/// ```
/// use cometgate::{Uid, client::NewUser};
///
/// let user = NewUser::new(Uid::parse("alice").unwrap(), "Alice")
///     .avatar("https://example.com/a.png")
///     .with_auth_token(true);
/// assert_eq!(
///     serde_json::to_value(&user).unwrap(),
///     serde_json::json!({"uid": "alice", "name": "Alice",
///                        "avatar": "https://example.com/a.png", "withAuthToken": true})
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    uid: Uid,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    avatar: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    with_auth_token: bool,
}

impl NewUser {
    /// A user with the required fields.
    pub fn new(uid: Uid, name: impl Into<String>) -> Self {
        Self {
            uid,
            name: name.into(),
            avatar: None,
            link: None,
            role: None,
            status_message: None,
            metadata: None,
            tags: None,
            with_auth_token: false,
        }
    }

    /// The UID to create.
    pub fn uid(&self) -> &Uid {
        &self.uid
    }

    profile_setters!();

    /// Asks CometChat to return an auth token with the created user.
    #[must_use]
    pub fn with_auth_token(mut self, yes: bool) -> Self {
        self.with_auth_token = yes;
        self
    }
}

/// A field that [`UserUpdate::unset`] can remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum UnsetField {
    /// The avatar URL.
    Avatar,
    /// The profile link.
    Link,
    /// The metadata.
    Metadata,
}

/// The body of `PUT /users/{uid}`: only the fields that are set are sent.
///
/// ```
/// use cometgate::client::{UnsetField, UserUpdate};
///
/// let update = UserUpdate::new().name("Ada").unset(UnsetField::Avatar);
/// assert_eq!(
///     serde_json::to_value(&update).unwrap(),
///     serde_json::json!({"name": "Ada", "unset": ["avatar"]})
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    avatar: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unset: Vec<UnsetField>,
}

impl UserUpdate {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the display name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    profile_setters!();

    /// Removes a field from the profile.
    #[must_use]
    pub fn unset(mut self, field: UnsetField) -> Self {
        if !self.unset.contains(&field) {
            self.unset.push(field);
        }
        self
    }
}

/// How `DELETE /users/{uid}` removes a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMode {
    /// Remove the user and their data for good (what privacy law asks on account deletion).
    Permanent,
    /// Deactivate: the user reads as not found and their UID stays taken.
    Deactivate,
}

/// Which page of a list to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageRequest {
    /// Items per page (CometChat: default 100, at most 1000).
    pub per_page: u32,
    /// The page, from 1.
    pub page: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            per_page: 100,
            page: 1,
        }
    }
}

/// One page of a list, newest first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items.
    pub data: Vec<T>,
    /// Where this page sits in the list.
    #[serde(default)]
    pub meta: Option<PageMeta>,
}

/// The `meta` object of a list answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct PageMeta {
    /// Page counters.
    pub pagination: Pagination,
}

/// `meta.pagination` of a list answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Pagination {
    /// Items in the whole list.
    pub total: u64,
    /// Items on this page.
    pub count: u64,
    /// Items per page.
    pub per_page: u64,
    /// This page's number, from 1.
    pub current_page: u64,
    /// How many pages there are.
    pub total_pages: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_recorded_create_response() {
        let body = r#"{"uid":"user_000","name":"test","link":"https://ankunding.com/x","avatar":"https://via.placeholder.com/640x480.png","status":"offline","role":"default","createdAt":1694667681,"authToken":"user_000_169466768147ce45a79418c20c57234ba9694e2f"}"#;
        let user: User = serde_json::from_str(body).unwrap();
        assert_eq!(user.uid.as_str(), "user_000");
        assert_eq!(user.created_at, Some(1694667681));
        assert_eq!(user.updated_at, None);
        let token = user.auth_token.unwrap();
        assert_eq!(
            token.expose(),
            "user_000_169466768147ce45a79418c20c57234ba9694e2f"
        );
        assert!(!format!("{token:?}").contains("47ce45a79418c20c"));
    }

    #[test]
    fn parses_recorded_token_page() {
        let body = r#"{"data":[{"uid":"user_000","authToken":"user_000_16946686610c82f71d1bc3133d6e79a5f5c68592","createdAt":1694668661}],
            "meta":{"pagination":{"total":200,"count":5,"per_page":5,"current_page":1,"total_pages":40}}}"#;
        let page: Page<AuthToken> = serde_json::from_str(body).unwrap();
        assert_eq!(page.data.len(), 1);
        assert_eq!(page.meta.unwrap().pagination.total_pages, 40);
    }

    #[test]
    fn unset_lists_each_field_once() {
        let u = UserUpdate::new()
            .unset(UnsetField::Link)
            .unset(UnsetField::Link)
            .unset(UnsetField::Metadata);
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            serde_json::json!({"unset": ["link", "metadata"]})
        );
    }
}
