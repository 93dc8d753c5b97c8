//! The fake's state: users and their auth tokens, with CometChat's rules.
//!
//! Every operation takes what the request carried (raw path segment, parsed JSON body, query)
//! and returns the `data` of a success answer or an [`ApiError`], so the rules can be tested
//! without HTTP.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::errors::{ApiError, detail};

/// How many tokens per user stay valid; older ones are invalidated, as CometChat documents.
pub const TOKENS_KEPT_PER_USER: usize = 100;
const MAX_UID_LEN: usize = 100;
const MAX_NAME_LEN: usize = 100;
const MAX_URL_LEN: usize = 3000;
const MAX_TAGS: usize = 25;
const MAX_PER_PAGE: u64 = 1000;

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
    #[serde(default = "now")]
    pub created_at: i64,
    /// Last update, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    /// Deactivation time: a deactivated user reads as not found and blocks re-creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<i64>,
}

fn default_role() -> String {
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
            created_at: now(),
            updated_at: None,
            deactivated_at: None,
        }
    }

    /// The user as CometChat shows it: unset fields omitted, `status` offline.
    fn to_json(&self, with_tags: bool) -> Value {
        let mut m = Map::new();
        m.insert("uid".into(), json!(self.uid));
        m.insert("name".into(), json!(self.name));
        insert_opt(&mut m, "link", self.link.as_ref().map(|v| json!(v)));
        insert_opt(&mut m, "avatar", self.avatar.as_ref().map(|v| json!(v)));
        insert_opt(&mut m, "metadata", self.metadata.clone());
        m.insert("status".into(), json!("offline"));
        m.insert("role".into(), json!(self.role));
        insert_opt(
            &mut m,
            "statusMessage",
            self.status_message.as_ref().map(|v| json!(v)),
        );
        if with_tags {
            insert_opt(&mut m, "tags", self.tags.as_ref().map(|v| json!(v)));
        }
        m.insert("createdAt".into(), json!(self.created_at));
        insert_opt(&mut m, "updatedAt", self.updated_at.map(|v| json!(v)));
        insert_opt(
            &mut m,
            "deactivatedAt",
            self.deactivated_at.map(|v| json!(v)),
        );
        Value::Object(m)
    }
}

fn insert_opt(m: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        m.insert(key.to_owned(), v);
    }
}

/// One auth token.
#[derive(Debug, Clone, PartialEq)]
struct TokenRecord {
    token: String,
    created_at: i64,
}

impl TokenRecord {
    fn to_json(&self, uid: &str) -> Value {
        json!({"uid": uid, "authToken": self.token, "createdAt": self.created_at})
    }
}

/// Users and tokens.
#[derive(Debug, Default)]
pub(crate) struct Store {
    users: HashMap<String, FakeUser>,
    /// Oldest first; at most [`TOKENS_KEPT_PER_USER`].
    tokens: HashMap<String, Vec<TokenRecord>>,
    /// Insertion order, so "newest first" is stable within one second.
    order: Vec<String>,
}

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `<uid>_<createdAt as 10 digits><30 lowercase hex>`, the real format.
fn new_token(uid: &str, created_at: i64) -> String {
    let mut rng = rand::rng();
    let hex: String = (0..30)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect();
    format!("{uid}_{created_at:010}{hex}")
}

fn object(body: Option<&Value>) -> Result<Map<String, Value>, ApiError> {
    match body {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(ApiError::validation(detail(
            "body",
            "The request body must be a JSON object.",
        ))),
    }
}

/// Collects Laravel-style validation messages per field.
#[derive(Default)]
struct Problems(Map<String, Value>);

impl Problems {
    fn add(&mut self, field: &str, message: String) {
        let entry = self
            .0
            .entry(field.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.push(Value::String(message));
        }
    }

    fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}

fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}

/// The optional profile fields shared by create and update.
#[derive(Default)]
struct Profile {
    avatar: Option<String>,
    link: Option<String>,
    role: Option<String>,
    status_message: Option<String>,
    metadata: Option<Value>,
    tags: Option<Vec<String>>,
}

fn read_profile(body: &Map<String, Value>, p: &mut Problems) -> Profile {
    let mut profile = Profile::default();
    for field in ["avatar", "link"] {
        match body.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if is_url(s) && s.len() <= MAX_URL_LEN => {
                let v = Some(s.clone());
                if field == "avatar" {
                    profile.avatar = v;
                } else {
                    profile.link = v;
                }
            }
            Some(Value::String(s)) if s.len() > MAX_URL_LEN => p.add(
                field,
                format!("The {field} may not be greater than {MAX_URL_LEN} characters."),
            ),
            Some(_) => p.add(field, format!("The {field} must be a valid URL.")),
        }
    }
    match body.get("role") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if !s.trim().is_empty() => profile.role = Some(s.clone()),
        Some(_) => p.add("role", "The role must be a string.".into()),
    }
    match body.get("statusMessage") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => profile.status_message = Some(s.clone()),
        Some(_) => p.add(
            "statusMessage",
            "The status message must be a string.".into(),
        ),
    }
    match body.get("metadata") {
        None | Some(Value::Null) => {}
        Some(v @ Value::Object(_)) => profile.metadata = Some(v.clone()),
        Some(_) => p.add("metadata", "The metadata must be an array.".into()),
    }
    match body.get("tags") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            if items.len() > MAX_TAGS {
                p.add(
                    "tags",
                    format!("The tags may not have more than {MAX_TAGS} items."),
                );
            }
            let mut tags = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) if !s.trim().is_empty() && s.len() <= 100 => {
                        tags.push(s.clone())
                    }
                    Value::String(s) if s.trim().is_empty() => p.add(
                        &format!("tags.{i}"),
                        format!("The tags.{i} field is required."),
                    ),
                    _ => p.add(
                        &format!("tags.{i}"),
                        format!("The tags.{i} must be a string of at most 100 characters."),
                    ),
                }
            }
            profile.tags = Some(tags);
        }
        Some(_) => p.add("tags", "The tags must be an array.".into()),
    }
    profile
}

/// `uid` field rules: required, string, alpha-dash, at most 100; lower-cased.
fn read_uid(body: &Map<String, Value>, p: &mut Problems) -> Option<String> {
    match body.get("uid") {
        None | Some(Value::Null) => p.add("uid", "The uid field is required.".into()),
        Some(Value::String(s)) if s.is_empty() => p.add("uid", "The uid field is required.".into()),
        Some(Value::String(s)) if s.chars().count() > MAX_UID_LEN => p.add(
            "uid",
            format!("The uid may not be greater than {MAX_UID_LEN} characters."),
        ),
        Some(Value::String(s))
            if !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
        {
            p.add(
                "uid",
                "The uid may only contain letters, numbers, dashes and underscores.".into(),
            )
        }
        Some(Value::String(s)) => return Some(s.to_ascii_lowercase()),
        Some(_) => p.add("uid", "The uid must be a string.".into()),
    }
    None
}

/// Reads `perPage` and `page` from a query string.
fn paging(query: &[(String, String)], p: &mut Problems) -> (u64, u64) {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut number = |name: &str, label: &str, default: u64, max: u64| match get(name) {
        None => default,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n >= 1 && n <= max => n,
            Ok(n) if n > max => {
                p.add(name, format!("The {label} may not be greater than {max}."));
                default
            }
            _ => {
                p.add(
                    name,
                    format!("The {label} must be an integer of at least 1."),
                );
                default
            }
        },
    };
    let per_page = number("perPage", "per page", 100, MAX_PER_PAGE);
    let page = number("page", "page", 1, u64::from(u32::MAX));
    (per_page, page)
}

fn page_of(items: Vec<Value>, per_page: u64, page: u64) -> (Vec<Value>, Value) {
    let total = items.len() as u64;
    let start = per_page.saturating_mul(page - 1);
    let data: Vec<Value> = items
        .into_iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .collect();
    let pagination = json!({
        "total": total,
        "count": data.len(),
        "per_page": per_page,
        "current_page": page,
        "total_pages": total.div_ceil(per_page),
    });
    (data, pagination)
}

fn flag(query: &[(String, String)], name: &str) -> bool {
    query
        .iter()
        .any(|(k, v)| k == name && matches!(v.as_str(), "true" | "1"))
}

impl Store {
    pub fn users(&self) -> Vec<FakeUser> {
        self.order
            .iter()
            .filter_map(|uid| self.users.get(uid))
            .cloned()
            .collect()
    }

    pub fn tokens(&self, uid: &str) -> Vec<String> {
        self.tokens
            .get(&uid.to_ascii_lowercase())
            .map(|list| list.iter().rev().map(|t| t.token.clone()).collect())
            .unwrap_or_default()
    }

    /// Inserts or replaces a user, bypassing validation (for seeding).
    pub fn seed(&mut self, mut user: FakeUser) {
        user.uid = user.uid.to_ascii_lowercase();
        if !self.users.contains_key(&user.uid) {
            self.order.push(user.uid.clone());
        }
        self.users.insert(user.uid.clone(), user);
    }

    fn active(&self, raw_uid: &str) -> Result<&FakeUser, ApiError> {
        let uid = raw_uid.to_ascii_lowercase();
        self.users
            .get(&uid)
            .filter(|u| u.deactivated_at.is_none())
            .ok_or_else(|| ApiError::uid_not_found(&uid))
    }

    pub fn create_user(&mut self, body: Option<&Value>) -> Result<Value, ApiError> {
        let body = object(body)?;
        let mut p = Problems::default();
        let uid = read_uid(&body, &mut p);
        let name = match body.get("name") {
            Some(Value::String(s)) if s.trim().is_empty() => {
                p.add("name", "The name field is required.".into());
                None
            }
            Some(Value::String(s)) if s.chars().count() > MAX_NAME_LEN => {
                p.add(
                    "name",
                    format!("The name may not be greater than {MAX_NAME_LEN} characters."),
                );
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            None | Some(Value::Null) => {
                p.add("name", "The name field is required.".into());
                None
            }
            Some(_) => {
                p.add("name", "The name must be a string.".into());
                None
            }
        };
        let profile = read_profile(&body, &mut p);
        let with_token = match body.get("withAuthToken") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                p.add(
                    "withAuthToken",
                    "The with auth token field must be true or false.".into(),
                );
                false
            }
        };
        p.finish()?;
        let (Some(uid), Some(name)) = (uid, name) else {
            return Err(ApiError::validation(detail(
                "uid",
                "The uid field is required.",
            )));
        };
        if self.users.contains_key(&uid) {
            return Err(ApiError::uid_exists(&uid));
        }
        let mut user = FakeUser::new(uid.clone(), name);
        user.avatar = profile.avatar;
        user.link = profile.link;
        user.role = profile.role.unwrap_or_else(default_role);
        user.status_message = profile.status_message;
        user.metadata = profile.metadata;
        user.tags = profile.tags;
        let mut data = user.to_json(true);
        self.seed(user);
        if with_token {
            let token = self.mint(&uid);
            if let Value::Object(m) = &mut data {
                m.insert("authToken".into(), json!(token.token));
            }
        }
        Ok(data)
    }

    pub fn get_user(&self, raw_uid: &str) -> Result<Value, ApiError> {
        Ok(self.active(raw_uid)?.to_json(true))
    }

    pub fn list_users(&self, query: &[(String, String)]) -> Result<(Value, Value), ApiError> {
        let mut p = Problems::default();
        let (per_page, page) = paging(query, &mut p);
        p.finish()?;
        let only_deactivated = flag(query, "onlyDeactivated");
        let with_deactivated = flag(query, "withDeactivated") || only_deactivated;
        let with_tags = flag(query, "withTags");
        let search = query
            .iter()
            .find(|(k, _)| k == "searchKey")
            .map(|(_, v)| v.to_lowercase());
        let mut users: Vec<&FakeUser> = self
            .order
            .iter()
            .filter_map(|uid| self.users.get(uid))
            .filter(|u| {
                if only_deactivated {
                    u.deactivated_at.is_some()
                } else {
                    with_deactivated || u.deactivated_at.is_none()
                }
            })
            .filter(|u| {
                search.as_ref().is_none_or(|s| {
                    u.uid.starts_with(s.as_str()) || u.name.to_lowercase().starts_with(s.as_str())
                })
            })
            .collect();
        // Newest first; insertion order breaks ties within one second.
        users.reverse();
        users.sort_by_key(|u| std::cmp::Reverse(u.created_at));
        let newest = users
            .first()
            .map(|u| u.updated_at.unwrap_or(u.created_at))
            .unwrap_or(0);
        let items = users.iter().map(|u| u.to_json(with_tags)).collect();
        let (data, pagination) = page_of(items, per_page, page);
        let meta = json!({
            "pagination": pagination,
            "cursor": {"updatedAt": newest, "affix": "prepend"},
        });
        Ok((Value::Array(data), meta))
    }

    pub fn update_user(&mut self, raw_uid: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        let uid = self.active(raw_uid)?.uid.clone();
        let body = object(body)?;
        let mut p = Problems::default();
        let name = match body.get("name") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => {
                p.add("name", "The name field must have a value.".into());
                None
            }
            Some(Value::String(s)) if s.chars().count() > MAX_NAME_LEN => {
                p.add(
                    "name",
                    format!("The name may not be greater than {MAX_NAME_LEN} characters."),
                );
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                p.add("name", "The name must be a string.".into());
                None
            }
        };
        let profile = read_profile(&body, &mut p);
        let mut unset = Vec::new();
        match body.get("unset") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(f @ ("avatar" | "link" | "metadata")) => unset.push(f.to_owned()),
                        _ => p.add(
                            &format!("unset.{i}"),
                            format!("The selected unset.{i} is invalid."),
                        ),
                    }
                }
            }
            Some(_) => p.add("unset", "The unset must be an array.".into()),
        }
        p.finish()?;
        let Some(user) = self.users.get_mut(&uid) else {
            return Err(ApiError::uid_not_found(&uid));
        };
        if let Some(name) = name {
            user.name = name;
        }
        if profile.avatar.is_some() {
            user.avatar = profile.avatar;
        }
        if profile.link.is_some() {
            user.link = profile.link;
        }
        if let Some(role) = profile.role {
            user.role = role;
        }
        if profile.status_message.is_some() {
            user.status_message = profile.status_message;
        }
        if profile.metadata.is_some() {
            user.metadata = profile.metadata;
        }
        if profile.tags.is_some() {
            user.tags = profile.tags;
        }
        for field in unset {
            match field.as_str() {
                "avatar" => user.avatar = None,
                "link" => user.link = None,
                _ => user.metadata = None,
            }
        }
        user.updated_at = Some(now());
        Ok(user.to_json(true))
    }

    pub fn delete_user(&mut self, raw_uid: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        let uid = raw_uid.to_ascii_lowercase();
        let body = object(body)?;
        let permanent = match body.get("permanent") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(ApiError::validation(detail(
                    "permanent",
                    "The permanent field must be true or false.",
                )));
            }
        };
        let Some(user) = self.users.get_mut(&uid) else {
            return Err(ApiError::uid_not_found(&uid));
        };
        if permanent {
            self.users.remove(&uid);
            self.tokens.remove(&uid);
            self.order.retain(|u| u != &uid);
            return Ok(json!({
                "success": true,
                "message": format!("User with UID {uid} has been deleted successfully."),
            }));
        }
        if user.deactivated_at.is_some() {
            return Err(ApiError::uid_not_found(&uid));
        }
        user.deactivated_at = Some(now());
        Ok(json!({ "deactivatedUids": [uid] }))
    }

    fn mint(&mut self, uid: &str) -> TokenRecord {
        let created_at = now();
        let record = TokenRecord {
            token: new_token(uid, created_at),
            created_at,
        };
        let list = self.tokens.entry(uid.to_owned()).or_default();
        list.push(record.clone());
        if list.len() > TOKENS_KEPT_PER_USER {
            let excess = list.len() - TOKENS_KEPT_PER_USER;
            list.drain(..excess);
        }
        record
    }

    pub fn create_token(&mut self, raw_uid: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        let uid = self.active(raw_uid)?.uid.clone();
        let body = object(body)?;
        if let Some(force) = body.get("force")
            && !force.is_boolean()
            && !force.is_null()
        {
            return Err(ApiError::validation(detail(
                "force",
                "The force field must be true or false.",
            )));
        }
        Ok(self.mint(&uid).to_json(&uid))
    }

    pub fn list_tokens(
        &self,
        raw_uid: &str,
        query: &[(String, String)],
    ) -> Result<(Value, Value), ApiError> {
        let uid = self.active(raw_uid)?.uid.clone();
        let mut p = Problems::default();
        let (per_page, page) = paging(query, &mut p);
        p.finish()?;
        let items = self
            .tokens
            .get(&uid)
            .map(|list| list.iter().rev().map(|t| t.to_json(&uid)).collect())
            .unwrap_or_default();
        let (data, pagination) = page_of(items, per_page, page);
        Ok((Value::Array(data), json!({ "pagination": pagination })))
    }

    fn token_of(&self, uid: &str, token: &str) -> Result<&TokenRecord, ApiError> {
        self.tokens
            .get(uid)
            .and_then(|list| list.iter().find(|t| t.token == token))
            .ok_or_else(ApiError::token_not_found)
    }

    pub fn get_token(&self, raw_uid: &str, token: &str) -> Result<Value, ApiError> {
        let uid = self.active(raw_uid)?.uid.clone();
        Ok(self.token_of(&uid, token)?.to_json(&uid))
    }

    pub fn update_token(
        &self,
        raw_uid: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let uid = self.active(raw_uid)?.uid.clone();
        object(body)?;
        Ok(self.token_of(&uid, token)?.to_json(&uid))
    }

    pub fn delete_token(&mut self, raw_uid: &str, token: &str) -> Result<Value, ApiError> {
        let uid = self.active(raw_uid)?.uid.clone();
        self.token_of(&uid, token)?;
        if let Some(list) = self.tokens.get_mut(&uid) {
            list.retain(|t| t.token != token);
        }
        Ok(json!({"success": true, "message": "Auth token deleted successfully."}))
    }

    pub fn flush_tokens(&mut self, raw_uid: &str) -> Result<Value, ApiError> {
        let uid = self.active(raw_uid)?.uid.clone();
        self.tokens.remove(&uid);
        Ok(json!({
            "success": true,
            "message": format!("Cleared Auth Tokens successfully for uid {uid}."),
        }))
    }

    /// The active user a token logs in, for the client API.
    pub fn login(&self, token: &str) -> Option<(&FakeUser, i64)> {
        self.tokens.iter().find_map(|(uid, list)| {
            let record = list.iter().find(|t| t.token == token)?;
            let user = self.users.get(uid).filter(|u| u.deactivated_at.is_none())?;
            Some((user, record.created_at))
        })
    }

    /// Logs a token out (client `DELETE /me`).
    pub fn logout(&mut self, token: &str) -> bool {
        let mut found = false;
        for list in self.tokens.values_mut() {
            let before = list.len();
            list.retain(|t| t.token != token);
            found |= list.len() != before;
        }
        found
    }

    /// The user as the client API's `/me` shows it.
    pub fn me_json(user: &FakeUser) -> Value {
        user.to_json(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(store: &mut Store, body: Value) -> Result<Value, ApiError> {
        store.create_user(Some(&body))
    }

    #[test]
    fn create_lower_cases_and_omits_unset_fields() {
        let mut s = Store::default();
        let data = create(&mut s, json!({"uid": "User_000", "name": "test"})).unwrap();
        assert_eq!(data["uid"], "user_000");
        assert_eq!(data["role"], "default");
        assert_eq!(data["status"], "offline");
        assert!(data.get("avatar").is_none() && data.get("updatedAt").is_none());
        assert!(data.get("authToken").is_none());
        let e = create(&mut s, json!({"uid": "USER_000", "name": "x"})).unwrap_err();
        assert_eq!(e.code, "ERR_UID_ALREADY_EXISTS");
    }

    #[test]
    fn token_format_is_real() {
        let mut s = Store::default();
        let data = create(
            &mut s,
            json!({"uid": "user_000", "name": "t", "withAuthToken": true}),
        )
        .unwrap();
        let token = data["authToken"].as_str().unwrap();
        let created = data["createdAt"].as_i64().unwrap();
        let rest = token.strip_prefix("user_000_").unwrap();
        assert_eq!(rest.len(), 40);
        assert_eq!(&rest[..10], format!("{created:010}"));
        assert!(
            rest[10..]
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn only_the_newest_hundred_tokens_stay_valid() {
        let mut s = Store::default();
        create(&mut s, json!({"uid": "a", "name": "A"})).unwrap();
        let first = s.create_token("a", None).unwrap()["authToken"]
            .as_str()
            .unwrap()
            .to_owned();
        for _ in 0..100 {
            s.create_token("a", None).unwrap();
        }
        assert_eq!(s.tokens("a").len(), 100);
        assert_eq!(
            s.get_token("a", &first).unwrap_err().code,
            "ERR_AUTH_TOKEN_NOT_FOUND"
        );
    }

    #[test]
    fn validation_details_per_field() {
        let mut s = Store::default();
        let e = create(&mut s, json!({"uid": "", "name": ""})).unwrap_err();
        assert_eq!(
            e.body()["error"]["details"],
            json!({"uid": ["The uid field is required."], "name": ["The name field is required."]})
        );
        let e = create(
            &mut s,
            json!({"uid": "a|b", "name": "x", "avatar": "Invalid:https://x"}),
        )
        .unwrap_err();
        assert!(e.details.as_ref().unwrap().contains_key("uid"));
        assert_eq!(
            e.details.unwrap()["avatar"][0],
            "The avatar must be a valid URL."
        );
        let long = "a".repeat(101);
        assert!(create(&mut s, json!({"uid": long, "name": "x"})).is_err());
        assert!(create(&mut s, json!({"uid": 5, "name": "x"})).is_err());
        assert!(s.create_user(Some(&json!([1, 2]))).is_err());
        create(&mut s, json!({"uid": "t", "name": "x"})).unwrap();
        let e = s
            .update_user("t", Some(&json!({"name": "", "tags": [" "]})))
            .unwrap_err();
        let details = e.details.unwrap();
        assert_eq!(details["name"][0], "The name field must have a value.");
        assert_eq!(details["tags.0"][0], "The tags.0 field is required.");
    }

    #[test]
    fn deactivated_users_read_as_missing_and_block_recreation() {
        let mut s = Store::default();
        create(&mut s, json!({"uid": "neo", "name": "Neo"})).unwrap();
        assert_eq!(
            s.delete_user("neo", None).unwrap(),
            json!({"deactivatedUids": ["neo"]})
        );
        assert_eq!(s.get_user("neo").unwrap_err().code, "ERR_UID_NOT_FOUND");
        assert_eq!(s.create_token("neo", None).unwrap_err().status, 404);
        assert_eq!(
            create(&mut s, json!({"uid": "neo", "name": "Neo"}))
                .unwrap_err()
                .code,
            "ERR_UID_ALREADY_EXISTS"
        );
        s.delete_user("neo", Some(&json!({"permanent": true})))
            .unwrap();
        create(&mut s, json!({"uid": "neo", "name": "Neo"})).unwrap();
    }

    #[test]
    fn lists_are_newest_first_and_paginated() {
        let mut s = Store::default();
        for i in 0..25 {
            create(&mut s, json!({"uid": format!("user_{i:03}"), "name": "n"})).unwrap();
        }
        let q = vec![
            ("perPage".to_owned(), "5".to_owned()),
            ("page".to_owned(), "1".to_owned()),
        ];
        let (data, meta) = s.list_users(&q).unwrap();
        assert_eq!(data[0]["uid"], "user_024");
        assert_eq!(data.as_array().unwrap().len(), 5);
        assert_eq!(
            meta["pagination"],
            json!({"total": 25, "count": 5, "per_page": 5, "current_page": 1, "total_pages": 5})
        );
        assert_eq!(meta["cursor"]["affix"], "prepend");
        let bad = vec![("perPage".to_owned(), "1001".to_owned())];
        assert_eq!(s.list_users(&bad).unwrap_err().code, "ERR_BAD_REQUEST");
    }

    #[test]
    fn unknown_uid_is_echoed_lower_cased_and_encoded() {
        let s = Store::default();
        let e = s.get_user("babuInvalid").unwrap_err();
        assert!(e.message.starts_with("The UID babuinvalid does not exist"));
        let e = s.get_user("%20").unwrap_err();
        assert!(e.message.starts_with("The UID %20 does not exist"));
    }
}
