//! Where things live in Redis: the key names under the prefix (the table is in the
//! [crate docs](crate#what-redis-holds)). Every key of one user carries the UID as its hash
//! tag, so one user's keys share a Redis Cluster slot and each script touches one slot only.
//! The shared limits live under `P limit:...` (a user's with the UID as hash tag), the
//! cross-replica mint lock under `P flight:{uid}:<device name>` (the keyed name the token keys
//! use, never the device id).

use cometgate::Uid;
use cometgate::store::LimitKey;
use sha2::{Digest, Sha256};

/// The names of the store's keys under one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    prefix: String,
}

/// One user's keys (one hash tag).
pub(crate) struct UserKeys {
    pub(crate) tokens: String,
    pub(crate) meta: String,
    pub(crate) lru: String,
    pub(crate) account: String,
}

impl UserKeys {
    /// The keys the token scripts take, in their order.
    pub(crate) fn token_keys(&self) -> [&str; 3] {
        [&self.tokens, &self.meta, &self.lru]
    }
}

impl Layout {
    pub(crate) fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    pub(crate) fn user(&self, uid: &Uid) -> UserKeys {
        let (p, u) = (&self.prefix, uid.as_str());
        UserKeys {
            tokens: format!("{p}tok:{{{u}}}"),
            meta: format!("{p}meta:{{{u}}}"),
            lru: format!("{p}lru:{{{u}}}"),
            account: format!("{p}account:{{{u}}}"),
        }
    }

    /// The GCRA cell of one limit: `P limit:upstream` (app-wide), `P limit:mint:{uid}` and
    /// `P limit:revoke:{uid}` (one user's, in the user's slot).
    pub(crate) fn limit(&self, key: LimitKey<'_>) -> String {
        match key.uid() {
            Some(uid) => format!("{}limit:{}:{{{}}}", self.prefix, key.as_str(), uid.as_str()),
            None => format!("{}limit:{}", self.prefix, key.as_str()),
        }
    }

    /// The mint lock of one device of `uid`, by its keyed `name` ([`crate::names`]).
    pub(crate) fn flight(&self, uid: &Uid, name: &str) -> String {
        format!("{}flight:{{{}}}:{name}", self.prefix, uid.as_str())
    }

    /// The max-age index, so the sweep never scans. One key: in a Redis Cluster it lives on
    /// one node.
    pub(crate) fn expiry(&self) -> String {
        format!("{}expiry", self.prefix)
    }

    /// Deferred deletes, oldest first.
    pub(crate) fn deferred(&self) -> String {
        format!("{}deferred", self.prefix)
    }

    /// A completed delivery. The key (source and delivery id, not a secret) is hashed so any
    /// id makes a short, plain key name; unkeyed, so replicas agree through a key rotation.
    pub(crate) fn delivery(&self, key: &str) -> String {
        let digest = Sha256::new()
            .chain_update(b"cometgate delivery v1\0")
            .chain_update(key.as_bytes())
            .finalize();
        format!(
            "{}delivery:{}",
            self.prefix,
            data_encoding::HEXLOWER.encode(&digest[..16])
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_users_keys_share_one_hash_tag() {
        let layout = Layout::new("cometgate:");
        let keys = layout.user(&Uid::parse("ada").unwrap());
        assert_eq!(keys.tokens, "cometgate:tok:{ada}");
        for key in [&keys.meta, &keys.lru, &keys.account] {
            assert!(
                key.starts_with("cometgate:") && key.ends_with(":{ada}"),
                "{key}"
            );
        }
        let ada = Uid::parse("ada").unwrap();
        assert_eq!(layout.limit(LimitKey::Upstream), "cometgate:limit:upstream");
        assert_eq!(
            layout.limit(LimitKey::Mint(&ada)),
            "cometgate:limit:mint:{ada}"
        );
        assert_eq!(
            layout.limit(LimitKey::RevokeAll(&ada)),
            "cometgate:limit:revoke:{ada}"
        );
        assert_eq!(layout.flight(&ada, "ab12"), "cometgate:flight:{ada}:ab12");
        let delivery = layout.delivery("clerk:msg_1");
        assert!(delivery.starts_with("cometgate:delivery:"));
        assert!(!delivery.contains("msg_1"));
        assert_ne!(delivery, layout.delivery("clerk:msg_2"));
    }
}
