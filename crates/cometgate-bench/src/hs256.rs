//! The app's own HS256 JWTs for (d), (e) and (f): a key made in the bench, one token per user
//! signed with it. The gate verifies them with `cometgate-jwt`'s [`SharedSecret`] provider,
//! the hand-written baseline with bare `jsonwebtoken` under the same rules.

use std::time::Duration;

use cometchat_fake::FakeCometChat;
use cometgate::vend::{Gate, GateBuilder, RateLimit, TokenPolicy};
use cometgate::{Identity, Principal, Uid};
use cometgate_jwt::{DEFAULT_LEEWAY, JwtIdentity, SharedSecret};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::json;

use crate::subject::firebase_like;

pub const ISSUER: &str = "https://api.bench.example";
pub const AUDIENCE: &str = "chat";
/// The reuse path's recheck: long (an hour; the rounds last seconds), so that no stored token
/// is due during the run.
const RECHECK: Duration = Duration::from_secs(3_600);

/// A secret and one signed JWT per user.
pub struct Hs256 {
    secret: String,
    subjects: Vec<String>,
    tokens: Vec<String>,
}

impl Hs256 {
    /// A new random secret (32 random bytes, hex: 64 bytes of key) and `users` tokens valid
    /// for an hour.
    pub fn new(users: usize) -> Self {
        let mut key = [0u8; 32];
        aws_lc_rs::rand::fill(&mut key).expect("random key");
        Self::with_secret(data_encoding::HEXLOWER.encode(&key), users)
    }

    /// `secret` and `users` tokens signed with it, valid for an hour.
    pub fn with_secret(secret: String, users: usize) -> Self {
        let signing = EncodingKey::from_secret(secret.as_bytes());
        let now = jsonwebtoken::get_current_timestamp();
        let subjects: Vec<String> = (0..users).map(firebase_like).collect();
        let tokens = subjects
            .iter()
            .enumerate()
            .map(|(i, sub)| {
                let claims = json!({
                    "iss": ISSUER, "aud": AUDIENCE, "sub": sub,
                    "iat": now, "exp": now + 3_600, "name": format!("User {i}"),
                });
                jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &signing)
                    .expect("sign a JWT")
            })
            .collect();
        Self {
            secret,
            subjects,
            tokens,
        }
    }

    /// The secret, for a server in a process of its own (the metrics row).
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// User `user`'s JWT.
    pub fn token(&self, user: usize) -> &str {
        &self.tokens[user]
    }

    /// How many users have a token.
    pub fn users(&self) -> usize {
        self.tokens.len()
    }

    /// The gate's identity: `cometgate-jwt`'s provider for an app's own HS256 JWTs.
    pub fn identity(&self) -> JwtIdentity {
        SharedSecret::new(self.secret.clone(), ISSUER, AUDIENCE)
            .build()
            .expect("shared-secret identity")
    }

    /// A gate on `fake` with [`identity`](Self::identity) and `policy`, its per-user limit and
    /// upstream budget relaxed as in (b).
    pub fn gate(&self, fake: &FakeCometChat, policy: TokenPolicy) -> Gate<JwtIdentity> {
        self.builder(fake, policy).build().expect("gate")
    }

    /// [`gate`](Self::gate)'s builder, for a row that changes more (its stores).
    pub fn builder(&self, fake: &FakeCometChat, policy: TokenPolicy) -> GateBuilder<JwtIdentity> {
        Gate::builder()
            .config(crate::serve::fake_config(fake))
            .identity(self.identity())
            .token_policy(policy)
            .per_user_limit(RateLimit::unlimited())
            .upstream_budget(RateLimit::unlimited())
    }

    /// The reuse path's gate, in (d) and the metrics row: [`gate`](Self::gate) with a recheck
    /// long enough that no stored token is due during the run.
    pub fn reuse_gate(&self, fake: &FakeCometChat) -> Gate<JwtIdentity> {
        self.gate(fake, Self::reuse_policy())
    }

    /// The reuse path's token policy: a recheck long enough that no stored token is due
    /// during the run.
    pub fn reuse_policy() -> TokenPolicy {
        TokenPolicy::default().recheck(Some(RECHECK))
    }

    /// The UID of each user, as a gate with [`identity`](Self::identity)'s suggested mapping
    /// maps it.
    pub fn uids(&self) -> Vec<Uid> {
        let mapper = self.identity().uid_mapper().unwrap_or_default();
        self.subjects
            .iter()
            .map(|sub| {
                mapper
                    .map(&Principal::new(ISSUER, sub.clone()))
                    .expect("map the subject")
            })
            .collect()
    }

    /// The baseline's key and rules: what `SharedSecret` checks (algorithm, `iss`, `aud`,
    /// `exp`, `nbf`, the required claims, the same leeway).
    pub fn baseline(&self) -> (DecodingKey, Validation) {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = DEFAULT_LEEWAY.as_secs();
        (DecodingKey::from_secret(self.secret.as_bytes()), validation)
    }
}
