//! Users: CometChat's rules for creating, reading, listing, updating, deleting and reactivating
//! them.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::clock::unix_now;
use crate::errors::ApiError;
use crate::fake_user::{FakeUser, default_role};
use crate::paging::Query;
use crate::validation::{
    Presence, Problems, Unset, object, read_flag, read_name, read_profile, read_uid, read_uid_list,
    read_unset,
};

/// Every user, active or deactivated, in creation order.
#[derive(Debug, Default)]
pub(crate) struct Users {
    by_uid: HashMap<String, FakeUser>,
    /// Insertion order, so "newest first" is stable within one second.
    order: Vec<String>,
}

/// What `POST /users` asked for besides the user.
pub(crate) struct Created {
    pub user: Value,
    pub uid: String,
    pub with_auth_token: bool,
}

/// What `DELETE /users/{uid}` did.
#[derive(Debug)]
pub(crate) enum Deleted {
    /// The user is gone, UID free again: forget its tokens too.
    Permanently {
        uid: String,
    },
    Deactivated,
}

impl Users {
    pub fn all(&self) -> Vec<FakeUser> {
        self.order
            .iter()
            .filter_map(|uid| self.by_uid.get(uid))
            .cloned()
            .collect()
    }

    /// Inserts or replaces a user, bypassing validation (for seeding).
    pub fn seed(&mut self, mut user: FakeUser) {
        user.uid = user.uid.to_ascii_lowercase();
        if !self.by_uid.contains_key(&user.uid) {
            self.order.push(user.uid.clone());
        }
        self.by_uid.insert(user.uid.clone(), user);
    }

    /// The user a path names, if it exists and is not deactivated (lookups ignore case).
    pub fn active(&self, raw_uid: &str) -> Result<&FakeUser, ApiError> {
        let uid = raw_uid.to_ascii_lowercase();
        self.by_uid
            .get(&uid)
            .filter(|u| u.deactivated_at.is_none())
            .ok_or_else(|| ApiError::uid_not_found(&uid))
    }

    pub fn create(&mut self, body: Option<&Value>) -> Result<Created, ApiError> {
        let body = object(body)?;
        let mut p = Problems::default();
        let uid = read_uid(&body, &mut p);
        let name = read_name(&body, Presence::Required, &mut p);
        let profile = read_profile(&body, &mut p);
        let with_auth_token = read_flag(&body, "withAuthToken", "with auth token", &mut p);
        p.finish()?;
        let (Some(uid), Some(name)) = (uid, name) else {
            return Err(ApiError::validation(crate::errors::detail(
                "uid",
                "The uid field is required.",
            )));
        };
        if self.by_uid.contains_key(&uid) {
            return Err(ApiError::uid_exists(&uid));
        }
        let mut user = FakeUser::new(uid.clone(), name);
        user.avatar = profile.avatar;
        user.link = profile.link;
        user.role = profile.role.unwrap_or_else(default_role);
        user.status_message = profile.status_message;
        user.metadata = profile.metadata;
        user.tags = profile.tags;
        let json = user.to_json(true);
        self.seed(user);
        Ok(Created {
            user: json,
            uid,
            with_auth_token,
        })
    }

    pub fn get(&self, raw_uid: &str) -> Result<Value, ApiError> {
        Ok(self.active(raw_uid)?.to_json(true))
    }

    /// `GET /users`: newest first, filtered, one page, with `meta.pagination` and `meta.cursor`.
    pub fn list(&self, query: &Query) -> Result<(Value, Value), ApiError> {
        let mut p = Problems::default();
        let page = query.paging(&mut p);
        p.finish()?;
        let only_deactivated = query.flag("onlyDeactivated");
        let with_deactivated = query.flag("withDeactivated") || only_deactivated;
        let search = query.get("searchKey").map(str::to_lowercase);
        let mut users: Vec<&FakeUser> = self
            .order
            .iter()
            .filter_map(|uid| self.by_uid.get(uid))
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
        let with_tags = query.flag("withTags");
        let items = users.iter().map(|u| u.to_json(with_tags)).collect();
        let (data, pagination) = page.of(items);
        let meta = json!({
            "pagination": pagination,
            "cursor": {"updatedAt": newest, "affix": "prepend"},
        });
        Ok((Value::Array(data), meta))
    }

    /// `PUT /users/{uid}`: changes only what the body names; a bad body changes nothing.
    pub fn update(&mut self, raw_uid: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        let uid = self.active(raw_uid)?.uid.clone();
        let body = object(body)?;
        let mut p = Problems::default();
        let name = read_name(&body, Presence::Optional, &mut p);
        let profile = read_profile(&body, &mut p);
        let unset = read_unset(&body, &mut p);
        p.finish()?;
        let Some(user) = self.by_uid.get_mut(&uid) else {
            return Err(ApiError::uid_not_found(&uid));
        };
        let replace = |field: &mut Option<String>, new: Option<String>| {
            if new.is_some() {
                *field = new;
            }
        };
        if let Some(name) = name {
            user.name = name;
        }
        replace(&mut user.avatar, profile.avatar);
        replace(&mut user.link, profile.link);
        replace(&mut user.status_message, profile.status_message);
        if let Some(role) = profile.role {
            user.role = role;
        }
        if profile.metadata.is_some() {
            user.metadata = profile.metadata;
        }
        if profile.tags.is_some() {
            user.tags = profile.tags;
        }
        for field in unset {
            match field {
                Unset::Avatar => user.avatar = None,
                Unset::Link => user.link = None,
                Unset::Metadata => user.metadata = None,
            }
        }
        user.updated_at = Some(unix_now());
        Ok(user.to_json(true))
    }

    /// `DELETE /users/{uid}`: `{"permanent": true}` removes the user (deactivated or not),
    /// otherwise an active user is deactivated.
    pub fn delete(
        &mut self,
        raw_uid: &str,
        body: Option<&Value>,
    ) -> Result<(Value, Deleted), ApiError> {
        let uid = raw_uid.to_ascii_lowercase();
        let body = object(body)?;
        let mut p = Problems::default();
        let permanent = read_flag(&body, "permanent", "permanent", &mut p);
        p.finish()?;
        let Some(user) = self.by_uid.get_mut(&uid) else {
            return Err(ApiError::uid_not_found(&uid));
        };
        if permanent {
            self.by_uid.remove(&uid);
            self.order.retain(|u| u != &uid);
            let data = json!({
                "success": true,
                "message": format!("User with UID {uid} has been deleted successfully."),
            });
            return Ok((data, Deleted::Permanently { uid }));
        }
        if user.deactivated_at.is_some() {
            return Err(ApiError::uid_not_found(&uid));
        }
        user.deactivated_at = Some(unix_now());
        Ok((json!({ "deactivatedUids": [uid] }), Deleted::Deactivated))
    }

    /// `PUT /users` with `{"uidsToActivate": [...]}`: every deactivated user named is active
    /// again, as it was (tokens included). The answer lists them lower-cased under
    /// `reactivatedUids` and every other UID as sent under `notFound` (an active user too: there
    /// was no deactivated one to reactivate); an empty list is left out, as the real server
    /// leaves it out. A bad body changes nothing.
    pub fn reactivate(&mut self, body: Option<&Value>) -> Result<Value, ApiError> {
        let body = object(body)?;
        let mut p = Problems::default();
        let uids = read_uid_list(&body, "uidsToActivate", "uids to activate", &mut p);
        p.finish()?;
        let (mut reactivated, mut not_found) = (Vec::new(), Vec::new());
        for raw in uids {
            let uid = raw.to_ascii_lowercase();
            match self.by_uid.get_mut(&uid) {
                Some(user) if user.deactivated_at.is_some() => {
                    user.deactivated_at = None;
                    user.updated_at = Some(unix_now());
                    reactivated.push(Value::String(uid));
                }
                _ => not_found.push(Value::String(raw)),
            }
        }
        let mut data = Map::new();
        for (key, list) in [("reactivatedUids", reactivated), ("notFound", not_found)] {
            if !list.is_empty() {
                data.insert(key.into(), Value::Array(list));
            }
        }
        Ok(Value::Object(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(users: &mut Users, body: Value) -> Result<Value, ApiError> {
        users.create(Some(&body)).map(|c| c.user)
    }

    #[test]
    fn create_lower_cases_and_omits_unset_fields() {
        let mut u = Users::default();
        let data = create(&mut u, json!({"uid": "User_000", "name": "test"})).unwrap();
        assert_eq!(data["uid"], "user_000");
        assert_eq!(data["role"], "default");
        assert_eq!(data["status"], "offline");
        assert!(data.get("avatar").is_none() && data.get("updatedAt").is_none());
        let e = create(&mut u, json!({"uid": "USER_000", "name": "x"})).unwrap_err();
        assert_eq!(e.code, "ERR_UID_ALREADY_EXISTS");
    }

    #[test]
    fn validation_details_per_field() {
        let mut u = Users::default();
        let e = create(&mut u, json!({"uid": "", "name": ""})).unwrap_err();
        assert_eq!(
            e.body()["error"]["details"],
            json!({"uid": ["The uid field is required."], "name": ["The name field is required."]})
        );
        let long = "a".repeat(101);
        assert!(create(&mut u, json!({"uid": long, "name": "x"})).is_err());
        assert!(create(&mut u, json!({"uid": 5, "name": "x"})).is_err());
        assert!(u.create(Some(&json!([1, 2]))).is_err());
        create(&mut u, json!({"uid": "t", "name": "x"})).unwrap();
        let e = u
            .update("t", Some(&json!({"name": "", "tags": [" "]})))
            .unwrap_err();
        let details = e.details.unwrap();
        assert_eq!(details["name"][0], "The name field must have a value.");
        assert_eq!(details["tags.0"][0], "The tags.0 field is required.");
        assert_eq!(
            u.get("t").unwrap()["name"],
            "x",
            "a bad update changes nothing"
        );
    }

    #[test]
    fn deactivated_users_read_as_missing_and_block_recreation() {
        let mut u = Users::default();
        create(&mut u, json!({"uid": "neo", "name": "Neo"})).unwrap();
        let (data, _) = u.delete("neo", None).unwrap();
        assert_eq!(data, json!({"deactivatedUids": ["neo"]}));
        assert_eq!(u.get("neo").unwrap_err().code, "ERR_UID_NOT_FOUND");
        assert_eq!(u.delete("neo", None).unwrap_err().status, 404);
        assert_eq!(
            create(&mut u, json!({"uid": "neo", "name": "Neo"}))
                .unwrap_err()
                .code,
            "ERR_UID_ALREADY_EXISTS"
        );
        let e = u.delete("neo", Some(&json!({"permanent": 1}))).unwrap_err();
        assert_eq!(e.code, "ERR_BAD_REQUEST");
        u.delete("neo", Some(&json!({"permanent": true}))).unwrap();
        create(&mut u, json!({"uid": "neo", "name": "Neo"})).unwrap();
    }

    #[test]
    fn reactivation_answers_per_uid() {
        let mut u = Users::default();
        for uid in ["neo", "trin"] {
            create(&mut u, json!({"uid": uid, "name": "N"})).unwrap();
        }
        u.delete("neo", None).unwrap();
        let data = u
            .reactivate(Some(&json!({"uidsToActivate": ["NEO", "trin", "Ghost"]})))
            .unwrap();
        // Only the deactivated user is reactivated (lower-cased); an active or unknown UID is
        // not found, echoed as sent.
        assert_eq!(
            data,
            json!({"reactivatedUids": ["neo"], "notFound": ["trin", "Ghost"]})
        );
        assert_eq!(
            u.get("neo").unwrap()["name"],
            "N",
            "active again, as it was"
        );
        assert!(u.get("neo").unwrap().get("updatedAt").is_some());
        // Empty lists are left out, as the real server leaves them out.
        let data = u
            .reactivate(Some(&json!({"uidsToActivate": ["neo"]})))
            .unwrap();
        assert_eq!(data, json!({"notFound": ["neo"]}));
        u.delete("neo", None).unwrap();
        assert_eq!(
            u.reactivate(Some(&json!({"uidsToActivate": ["neo"]})))
                .unwrap(),
            json!({"reactivatedUids": ["neo"]})
        );
    }

    #[test]
    fn a_bad_reactivation_body_changes_nothing() {
        let mut u = Users::default();
        create(&mut u, json!({"uid": "neo", "name": "N"})).unwrap();
        u.delete("neo", None).unwrap();
        let required = json!({"uidsToActivate": ["The uids to activate field is required."]});
        for body in [None, Some(json!({})), Some(json!({"uidsToActivate": []}))] {
            let e = u.reactivate(body.as_ref()).unwrap_err();
            assert_eq!((e.status, e.code), (400, "ERR_BAD_REQUEST"), "{body:?}");
            assert_eq!(Value::Object(*e.details.unwrap()), required, "{body:?}");
        }
        let e = u
            .reactivate(Some(&json!({"uidsToActivate": "neo"})))
            .unwrap_err();
        assert_eq!(
            e.details.unwrap()["uidsToActivate"][0],
            "The uids to activate must be an array."
        );
        let e = u
            .reactivate(Some(&json!({"uidsToActivate": ["neo", 7, " "]})))
            .unwrap_err();
        assert_eq!(
            Value::Object(*e.details.unwrap()),
            json!({
                "uidsToActivate.1": ["The uids to activate.1 must be a string."],
                "uidsToActivate.2": ["The uids to activate.2 field is required."],
            })
        );
        assert!(u.reactivate(Some(&json!([1]))).is_err());
        assert_eq!(
            u.get("neo").unwrap_err().code,
            "ERR_UID_NOT_FOUND",
            "still deactivated"
        );
    }

    #[test]
    fn lists_are_newest_first_and_paginated() {
        let mut u = Users::default();
        for i in 0..25 {
            create(&mut u, json!({"uid": format!("user_{i:03}"), "name": "n"})).unwrap();
        }
        let (data, meta) = u.list(&Query::parse("perPage=5&page=1")).unwrap();
        assert_eq!(data[0]["uid"], "user_024");
        assert_eq!(data.as_array().unwrap().len(), 5);
        assert_eq!(
            meta["pagination"],
            json!({"total": 25, "count": 5, "per_page": 5, "current_page": 1, "total_pages": 5})
        );
        assert_eq!(meta["cursor"]["affix"], "prepend");
        let bad = Query::parse("perPage=1001");
        assert_eq!(u.list(&bad).unwrap_err().code, "ERR_BAD_REQUEST");
        let (found, _) = u.list(&Query::parse("searchKey=USER_01")).unwrap();
        assert_eq!(found.as_array().unwrap().len(), 10);
    }

    #[test]
    fn unknown_uid_is_echoed_lower_cased_and_encoded() {
        let u = Users::default();
        let e = u.get("babuInvalid").unwrap_err();
        assert!(e.message.starts_with("The UID babuinvalid does not exist"));
        let e = u.get("%20").unwrap_err();
        assert!(e.message.starts_with("The UID %20 does not exist"));
    }
}
