//! Anonymous sign-ins never get a chat account unless the app allows them: whatever else a
//! legitimately signed token says, a Firebase `signInAnonymously()` token or a Supabase `anon`
//! / `is_anonymous` token is refused by a default provider and accepted only by one built with
//! `allow_anonymous(true)` / `allow_anon(true)`.

mod support;

use cometgate::Rejection;
use cometgate_jwt::{Firebase, JwtIdentity, Supabase};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{JwksServer, SigningKey, now, resolve};

const PROJECT: &str = "my-project";

/// One provider built twice, refusing and allowing anonymous sign-ins, on a JWKS server that
/// publishes the key its tokens are signed with.
struct Pair {
    runtime: tokio::runtime::Runtime,
    strict: JwtIdentity,
    lenient: JwtIdentity,
    key: SigningKey,
    jwks: JwksServer,
}

impl Pair {
    /// `build(jwks, allow_anonymous)` builds the provider against the JWKS server.
    fn new(key: SigningKey, build: impl Fn(&JwksServer, bool) -> JwtIdentity) -> Self {
        // Built outside `proptest!`: a runtime inside it would nest.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let jwks = runtime.block_on(JwksServer::start(&[&key], "max-age=600"));
        Self {
            strict: build(&jwks, false),
            lenient: build(&jwks, true),
            runtime,
            key,
            jwks,
        }
    }

    /// The strict identity accepts `claims` exactly when they are not `anonymous`; the lenient
    /// one accepts them all. Refusals are `401 invalid_token`.
    fn check(&self, claims: &Value, anonymous: bool) -> Result<(), TestCaseError> {
        let token = self.key.sign(claims);
        let accepted = |identity| match self.runtime.block_on(resolve(identity, &token)) {
            Ok(_) => Ok(true),
            Err(Rejection::Invalid { .. }) => Ok(false),
            Err(other) => Err(TestCaseError::fail(format!(
                "not a 401 invalid_token: {other:?}"
            ))),
        };
        prop_assert_eq!(accepted(&self.strict)?, !anonymous, "strict: {}", claims);
        prop_assert!(accepted(&self.lenient)?, "lenient: {}", claims);
        Ok(())
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A sign-in provider name: the anonymous one, real ones, or anything.
fn firebase_provider() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("anonymous".to_owned()),
        Just("password".to_owned()),
        Just("google.com".to_owned()),
        Just("custom".to_owned()),
        "[a-z.]{0,12}",
    ]
}

#[test]
fn firebase_anonymous_sign_ins_pass_only_when_allowed() {
    let pair = Pair::new(SigningKey::rsa("fb"), |jwks, allow| {
        Firebase::new(PROJECT)
            .jwks_url(jwks.url())
            .allow_anonymous(allow)
            .build()
            .unwrap()
    });
    let provider_id = proptest::option::of(firebase_provider());
    proptest!(config(), |(sign_in in firebase_provider(), provider_id in provider_id, sub in "[A-Za-z0-9]{1,28}")| {
        let mut claims = json!({
            "iss": format!("https://securetoken.google.com/{PROJECT}"), "aud": PROJECT,
            "sub": sub, "exp": now() + 600, "auth_time": now() - 60,
            "firebase": {"identities": {}, "sign_in_provider": sign_in},
        });
        if let Some(id) = &provider_id {
            claims["provider_id"] = json!(id);
        }
        let anonymous = sign_in == "anonymous" || provider_id.as_deref() == Some("anonymous");
        pair.check(&claims, anonymous)?;
    });
}

#[test]
fn supabase_anonymous_tokens_pass_only_when_allowed() {
    let pair = Pair::new(SigningKey::p256("sb"), |jwks, allow| {
        Supabase::url(jwks.base())
            .jwks_url(jwks.url())
            .allow_anon(allow)
            .build()
            .unwrap()
    });
    let issuer = format!("{}/auth/v1", pair.jwks.base());
    let role = prop_oneof![
        Just("anon".to_owned()),
        Just("authenticated".to_owned()),
        "[a-z]{1,10}"
    ];
    let is_anonymous = proptest::option::of(any::<bool>());
    proptest!(config(), |(role in role, is_anonymous in is_anonymous)| {
        let mut claims = json!({
            "iss": issuer, "aud": "authenticated",
            "sub": "3f2b8c1e-0d4a-4b7e-9a51-6f0e2c9d8b7a", "exp": now() + 600, "role": role,
        });
        if let Some(flag) = is_anonymous {
            claims["is_anonymous"] = json!(flag);
        }
        let anonymous = role == "anon" || is_anonymous == Some(true);
        pair.check(&claims, anonymous)?;
    });
}
