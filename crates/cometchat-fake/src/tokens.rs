//! Auth tokens: minted per user in the real format, never expiring, the newest 100 per user
//! valid. This module knows tokens only; whether their user may use them is the store's rule.

use std::collections::{HashMap, VecDeque};

use rand::Rng;
use serde_json::{Value, json};

use crate::clock::unix_now;
use crate::errors::ApiError;
use crate::paging::Query;
use crate::validation::{Problems, object, read_flag};

/// How many tokens per user stay valid; older ones are invalidated, as CometChat documents.
pub const TOKENS_KEPT_PER_USER: usize = 100;

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

/// `<uid>_<createdAt as 10 digits><30 lowercase hex>`, the real format.
fn new_token(uid: &str, created_at: i64) -> String {
    let mut rng = rand::rng();
    let hex: String = (0..30)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect();
    format!("{uid}_{created_at:010}{hex}")
}

/// Every valid token, per (lower-case) UID.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    /// Oldest first; at most [`TOKENS_KEPT_PER_USER`] each.
    by_uid: HashMap<String, VecDeque<TokenRecord>>,
}

impl Tokens {
    /// The user's valid tokens, newest first.
    pub fn valid(&self, uid: &str) -> Vec<String> {
        self.by_uid
            .get(uid)
            .map(|list| list.iter().rev().map(|t| t.token.clone()).collect())
            .unwrap_or_default()
    }

    /// A new token for `uid`; past [`TOKENS_KEPT_PER_USER`], the oldest one stops being valid.
    pub fn mint(&mut self, uid: &str) -> Value {
        let created_at = unix_now();
        let record = TokenRecord {
            token: new_token(uid, created_at),
            created_at,
        };
        let json = record.to_json(uid);
        let list = self.by_uid.entry(uid.to_owned()).or_default();
        list.push_back(record);
        while list.len() > TOKENS_KEPT_PER_USER {
            list.pop_front();
        }
        json
    }

    /// `POST /users/{uid}/auth_tokens`: the body may only carry a boolean `force`, which changes
    /// nothing (every mint creates a new token).
    pub fn mint_with(&mut self, uid: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        let body = object(body)?;
        let mut p = Problems::default();
        read_flag(&body, "force", "force", &mut p);
        p.finish()?;
        Ok(self.mint(uid))
    }

    /// `GET /users/{uid}/auth_tokens`: newest first, one page, with `meta.pagination`.
    pub fn list(&self, uid: &str, query: &Query) -> Result<(Value, Value), ApiError> {
        let mut p = Problems::default();
        let page = query.paging(&mut p);
        p.finish()?;
        let items = self
            .by_uid
            .get(uid)
            .map(|list| list.iter().rev().map(|t| t.to_json(uid)).collect())
            .unwrap_or_default();
        let (data, pagination) = page.of(items);
        Ok((Value::Array(data), json!({ "pagination": pagination })))
    }

    fn find(&self, uid: &str, token: &str) -> Result<&TokenRecord, ApiError> {
        self.by_uid
            .get(uid)
            .and_then(|list| list.iter().find(|t| t.token == token))
            .ok_or_else(ApiError::token_not_found)
    }

    pub fn get(&self, uid: &str, token: &str) -> Result<Value, ApiError> {
        Ok(self.find(uid, token)?.to_json(uid))
    }

    /// `PUT /users/{uid}/auth_tokens/{authToken}`: the device details it takes are not kept.
    pub fn update(&self, uid: &str, token: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        object(body)?;
        self.get(uid, token)
    }

    pub fn delete(&mut self, uid: &str, token: &str) -> Result<Value, ApiError> {
        self.find(uid, token)?;
        if let Some(list) = self.by_uid.get_mut(uid) {
            list.retain(|t| t.token != token);
        }
        Ok(json!({"success": true, "message": "Auth token deleted successfully."}))
    }

    /// `DELETE /users/{uid}/auth_tokens`: every token of the user stops being valid.
    pub fn flush(&mut self, uid: &str) -> Value {
        self.by_uid.remove(uid);
        json!({
            "success": true,
            "message": format!("Cleared Auth Tokens successfully for uid {uid}."),
        })
    }

    /// The UID a valid token belongs to.
    pub fn owner(&self, token: &str) -> Option<&str> {
        self.by_uid
            .iter()
            .find(|(_, list)| list.iter().any(|t| t.token == token))
            .map(|(uid, _)| uid.as_str())
    }

    /// Invalidates one token wherever it is; whether it was valid.
    pub fn revoke(&mut self, token: &str) -> bool {
        let mut found = false;
        for list in self.by_uid.values_mut() {
            let before = list.len();
            list.retain(|t| t.token != token);
            found |= list.len() != before;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn minted(tokens: &mut Tokens, uid: &str) -> String {
        tokens.mint(uid)["authToken"].as_str().unwrap().to_owned()
    }

    #[test]
    fn token_format_is_real() {
        let mut t = Tokens::default();
        let data = t.mint("user_000");
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
    fn one_token_or_all_of_them_are_revoked() {
        let mut t = Tokens::default();
        let a1 = minted(&mut t, "a");
        let a2 = minted(&mut t, "a");
        let b1 = minted(&mut t, "b");
        assert_eq!(t.owner(&b1), Some("b"));
        assert_eq!(t.delete("a", &a1).unwrap()["success"], true);
        assert_eq!(
            t.get("a", &a1).unwrap_err().code,
            "ERR_AUTH_TOKEN_NOT_FOUND"
        );
        assert_eq!(
            t.get("a", &b1).unwrap_err().code,
            "ERR_AUTH_TOKEN_NOT_FOUND",
            "b's token under a"
        );
        assert!(t.revoke(&a2) && !t.revoke(&a2));
        t.flush("b");
        assert_eq!(t.owner(&b1), None);
        let e = t
            .mint_with("a", Some(&serde_json::json!({"force": "yes"})))
            .unwrap_err();
        assert_eq!(
            e.details.unwrap()["force"][0],
            "The force field must be true or false."
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// However many tokens are minted, exactly the newest 100 are valid, newest first; an
        /// older one is not found and logs nobody in; other users' tokens are untouched.
        #[test]
        fn only_the_newest_hundred_stay_valid(mints in 0usize..=260, others in 0usize..3) {
            let mut t = Tokens::default();
            let other: Vec<String> = (0..others).map(|_| minted(&mut t, "other")).collect();
            let all: Vec<String> = (0..mints).map(|_| minted(&mut t, "a")).collect();
            let kept = mints.min(TOKENS_KEPT_PER_USER);
            let newest_first: Vec<String> = all.iter().rev().take(kept).cloned().collect();
            prop_assert_eq!(t.valid("a"), newest_first);
            for old in &all[..mints - kept] {
                prop_assert!(t.get("a", old).is_err());
                prop_assert_eq!(t.owner(old), None);
            }
            let other_newest_first: Vec<String> = other.into_iter().rev().collect();
            prop_assert_eq!(t.valid("other"), other_newest_first);
        }
    }
}
