//! The fake's state, and the rules that span users and tokens: a token route needs an active
//! user, `withAuthToken` mints, a permanent delete forgets the tokens, only an active user's
//! token logs in.
//!
//! Every operation takes what the request carried (raw path segment, parsed JSON body, query)
//! and returns the `data` of a success answer or an [`ApiError`], so the rules can be tested
//! without HTTP.

use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::fake_user::FakeUser;
use crate::paging::Query;
use crate::tokens::Tokens;
use crate::users::{Deleted, Users};

/// Users and their tokens.
#[derive(Debug, Default)]
pub(crate) struct Store {
    users: Users,
    tokens: Tokens,
}

impl Store {
    pub fn users(&self) -> Vec<FakeUser> {
        self.users.all()
    }

    /// A user's valid tokens, newest first (the UID in any case).
    pub fn tokens(&self, uid: &str) -> Vec<String> {
        self.tokens.valid(&uid.to_ascii_lowercase())
    }

    /// Inserts or replaces a user, bypassing validation (for seeding).
    pub fn seed(&mut self, user: FakeUser) {
        self.users.seed(user);
    }

    /// The lower-case UID of the active user a path names.
    fn active_uid(&self, raw_uid: &str) -> Result<String, ApiError> {
        Ok(self.users.active(raw_uid)?.uid.clone())
    }

    pub fn create_user(&mut self, body: Option<&Value>) -> Result<Value, ApiError> {
        let mut created = self.users.create(body)?;
        if created.with_auth_token {
            let token = self.tokens.mint(&created.uid);
            if let Value::Object(user) = &mut created.user {
                user.insert("authToken".into(), token["authToken"].clone());
            }
        }
        Ok(created.user)
    }

    pub fn get_user(&self, raw_uid: &str) -> Result<Value, ApiError> {
        self.users.get(raw_uid)
    }

    pub fn list_users(&self, query: &Query) -> Result<(Value, Value), ApiError> {
        self.users.list(query)
    }

    pub fn update_user(&mut self, raw_uid: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        self.users.update(raw_uid, body)
    }

    pub fn delete_user(&mut self, raw_uid: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        let (data, deleted) = self.users.delete(raw_uid, body)?;
        if let Deleted::Permanently { uid } = deleted {
            self.tokens.flush(&uid);
        }
        Ok(data)
    }

    /// `PUT /users`: reactivates deactivated users; their tokens, kept through the
    /// deactivation, are valid again.
    pub fn reactivate_users(&mut self, body: Option<&Value>) -> Result<Value, ApiError> {
        self.users.reactivate(body)
    }

    pub fn create_token(&mut self, raw_uid: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        let uid = self.active_uid(raw_uid)?;
        self.tokens.mint_with(&uid, body)
    }

    pub fn list_tokens(&self, raw_uid: &str, query: &Query) -> Result<(Value, Value), ApiError> {
        self.tokens.list(&self.active_uid(raw_uid)?, query)
    }

    pub fn get_token(&self, raw_uid: &str, token: &str) -> Result<Value, ApiError> {
        self.tokens.get(&self.active_uid(raw_uid)?, token)
    }

    pub fn update_token(
        &self,
        raw_uid: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        self.tokens.update(&self.active_uid(raw_uid)?, token, body)
    }

    pub fn delete_token(&mut self, raw_uid: &str, token: &str) -> Result<Value, ApiError> {
        let uid = self.active_uid(raw_uid)?;
        self.tokens.delete(&uid, token)
    }

    pub fn flush_tokens(&mut self, raw_uid: &str) -> Result<Value, ApiError> {
        let uid = self.active_uid(raw_uid)?;
        Ok(self.tokens.flush(&uid))
    }

    /// The active user a token logs in, for the client API.
    pub fn login(&self, token: &str) -> Option<FakeUser> {
        let uid = self.tokens.owner(token)?;
        self.users.active(uid).ok().cloned()
    }

    /// Logs a token out (client `DELETE /me`); whether it was valid.
    pub fn logout(&mut self, token: &str) -> bool {
        self.tokens.revoke(token)
    }
}

/// `{"data": …}`, with `meta` for lists.
pub(crate) fn envelope(data: Value, meta: Option<Value>) -> Value {
    match meta {
        Some(meta) => json!({"data": data, "meta": meta}),
        None => json!({ "data": data }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_auth_token_mints_a_valid_token_last_in_the_answer() {
        let mut s = Store::default();
        let data = s
            .create_user(Some(
                &json!({"uid": "User_000", "name": "t", "withAuthToken": true}),
            ))
            .unwrap();
        let keys: Vec<&String> = data.as_object().unwrap().keys().collect();
        assert_eq!(keys.last().map(|k| k.as_str()), Some("authToken"));
        let token = data["authToken"].as_str().unwrap();
        assert_eq!(s.tokens("USER_000"), vec![token.to_owned()]);
        assert_eq!(s.login(token).map(|u| u.uid).as_deref(), Some("user_000"));
    }

    #[test]
    fn token_routes_need_an_active_user() {
        let mut s = Store::default();
        s.create_user(Some(&json!({"uid": "neo", "name": "Neo"})))
            .unwrap();
        let token = s.create_token("NEO", None).unwrap()["authToken"]
            .as_str()
            .unwrap()
            .to_owned();
        s.delete_user("neo", None).unwrap();
        assert_eq!(
            s.create_token("neo", None).unwrap_err().code,
            "ERR_UID_NOT_FOUND"
        );
        assert_eq!(
            s.get_token("neo", &token).unwrap_err().code,
            "ERR_UID_NOT_FOUND"
        );
        assert!(
            s.login(&token).is_none(),
            "a deactivated user's token logs nobody in"
        );
        assert_eq!(
            s.tokens("neo"),
            vec![token.clone()],
            "deactivation keeps the tokens"
        );
        s.delete_user("neo", Some(&json!({"permanent": true})))
            .unwrap();
        s.create_user(Some(&json!({"uid": "neo", "name": "Neo"})))
            .unwrap();
        assert!(
            s.tokens("neo").is_empty(),
            "a new user does not inherit old tokens"
        );
        assert!(s.login(&token).is_none());
    }

    #[test]
    fn a_reactivated_user_has_its_tokens_again() {
        let mut s = Store::default();
        s.create_user(Some(&json!({"uid": "neo", "name": "Neo"})))
            .unwrap();
        let token = s.create_token("neo", None).unwrap()["authToken"].clone();
        s.delete_user("neo", None).unwrap();
        let data = s
            .reactivate_users(Some(&json!({"uidsToActivate": ["neo"]})))
            .unwrap();
        assert_eq!(data, json!({"reactivatedUids": ["neo"]}));
        let token = token.as_str().unwrap();
        assert_eq!(s.login(token).map(|u| u.uid).as_deref(), Some("neo"));
        assert!(s.get_token("neo", token).is_ok());
        s.create_token("neo", None).unwrap();
    }

    #[test]
    fn logout_revokes_only_the_named_token() {
        let mut s = Store::default();
        s.create_user(Some(&json!({"uid": "a", "name": "A"})))
            .unwrap();
        let first = s.create_token("a", None).unwrap()["authToken"].clone();
        let second = s.create_token("a", None).unwrap()["authToken"].clone();
        assert!(s.logout(first.as_str().unwrap()));
        assert!(!s.logout(first.as_str().unwrap()));
        assert_eq!(s.tokens("a"), vec![second.as_str().unwrap().to_owned()]);
    }
}
