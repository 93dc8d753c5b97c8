//! The user record: what the fake stores about each user, and how CometChat shows it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::clock::unix_now;

/// A user as the fake stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FakeUser {
    /// The UID (lower case).
    pub uid: String,
    /// The display name.
    pub name: String,
    /// The avatar URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// The profile link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The role.
    #[serde(default = "default_role")]
    pub role: String,
    /// The status message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// Free-form metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Creation time, unix seconds (now, when seeded without one).
    #[serde(default = "unix_now")]
    pub created_at: i64,
    /// Last update, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    /// Deactivation time: a deactivated user reads as not found and blocks re-creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<i64>,
}

pub(crate) fn default_role() -> String {
    "default".to_owned()
}

impl FakeUser {
    /// A user with a UID and a name, created now.
    pub fn new(uid: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            uid: uid.into().to_ascii_lowercase(),
            name: name.into(),
            avatar: None,
            link: None,
            role: default_role(),
            status_message: None,
            metadata: None,
            tags: None,
            created_at: unix_now(),
            updated_at: None,
            deactivated_at: None,
        }
    }

    /// The user as CometChat shows it: unset fields omitted, `status` offline, keys in the
    /// recorded order.
    pub(crate) fn to_json(&self, with_tags: bool) -> Value {
        let mut m = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(v) = value {
                m.insert(key.to_owned(), v);
            }
        };
        put("uid", Some(json!(self.uid)));
        put("name", Some(json!(self.name)));
        put("link", self.link.as_ref().map(|v| json!(v)));
        put("avatar", self.avatar.as_ref().map(|v| json!(v)));
        put("metadata", self.metadata.clone());
        put("status", Some(json!("offline")));
        put("role", Some(json!(self.role)));
        put(
            "statusMessage",
            self.status_message.as_ref().map(|v| json!(v)),
        );
        put(
            "tags",
            self.tags.as_ref().filter(|_| with_tags).map(|v| json!(v)),
        );
        put("createdAt", Some(json!(self.created_at)));
        put("updatedAt", self.updated_at.map(|v| json!(v)));
        put("deactivatedAt", self.deactivated_at.map(|v| json!(v)));
        Value::Object(m)
    }
}
