//! The identity providers, each a builder in the provider's own vocabulary that builds a
//! [`crate::JwtIdentity`].
//!
//! Options every provider has: `leeway` (clock skew, at most 60 s) and `uid_mapping` (override
//! the provider's default [`cometgate::UidMapping`]). Providers that fetch keys
//! also have `jwks_url` (override the published URL, e.g. for a test server or a proxy),
//! `refetch_cooldown` (the least time between two JWKS fetches, default 30 s),
//! `fetch_timeout` (default 5 s) and `stale_if_error` (how long keys past their `max-age` are
//! still served while the JWKS cannot be fetched, default 1 h).

mod auth0;
mod clerk;
mod firebase;
mod oidc;
mod shared_secret;
mod supabase;

use std::time::Duration;

use cometgate::UidMapping;
use jsonwebtoken::Algorithm;

use crate::claims::{self, Claims};
use crate::error::BuildError;
use crate::fetch::FetchPolicy;
use crate::jwks::JwksCache;
use crate::keys::{KeySource, https_or_loopback};
use crate::verifier::{DEFAULT_LEEWAY, Inner, JwtIdentity, MAX_LEEWAY, validation};

pub use auth0::Auth0;
pub use clerk::Clerk;
pub use firebase::{FIREBASE_JWKS_URL, Firebase};
pub use oidc::Oidc;
pub use shared_secret::{MIN_SECRET_BYTES, SharedSecret};
pub use supabase::Supabase;

/// The default least time between two JWKS fetches.
pub const DEFAULT_REFETCH_COOLDOWN: Duration = Duration::from_secs(30);
/// The least refetch cooldown a provider accepts.
pub const MIN_REFETCH_COOLDOWN: Duration = Duration::from_secs(1);
/// The default timeout of one JWKS or discovery fetch.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest fetch timeout a provider accepts.
pub const MAX_FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// How long, by default, keys past their `max-age` are still served while the JWKS cannot be
/// fetched: long enough to ride out an outage of the provider, short enough that a key
/// withdrawn after a compromise soon stops verifying even if its JWKS stays unreachable.
pub const DEFAULT_STALE_IF_ERROR: Duration = Duration::from_secs(60 * 60);
/// The longest `stale_if_error` a provider accepts.
pub const MAX_STALE_IF_ERROR: Duration = Duration::from_secs(24 * 60 * 60);

/// The asymmetric algorithms a JWKS provider may be configured to accept.
const ASYMMETRIC: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Options every provider has.
#[derive(Debug, Clone)]
pub(crate) struct Common {
    leeway: Duration,
    mapping: Option<UidMapping>,
}

impl Default for Common {
    fn default() -> Self {
        Self {
            leeway: DEFAULT_LEEWAY,
            mapping: None,
        }
    }
}

/// Options of providers that fetch a JWKS.
#[derive(Debug, Clone)]
pub(crate) struct Fetching {
    jwks_url: Option<String>,
    cooldown: Duration,
    timeout: Duration,
    stale_if_error: Duration,
}

impl Default for Fetching {
    fn default() -> Self {
        Self {
            jwks_url: None,
            cooldown: DEFAULT_REFETCH_COOLDOWN,
            timeout: DEFAULT_FETCH_TIMEOUT,
            stale_if_error: DEFAULT_STALE_IF_ERROR,
        }
    }
}

impl Fetching {
    /// The cooldown is what bounds fetches under a flood of made-up `kid`s, so it cannot be
    /// switched off; a fetch must be able to finish, and must not hold requests for long.
    fn check(&self) -> Result<(), BuildError> {
        if self.cooldown < MIN_REFETCH_COOLDOWN {
            return Err(BuildError::invalid(
                "the JWKS refetch cooldown",
                "must be at least 1 s",
                &format!("{:?}", self.cooldown),
            ));
        }
        if self.timeout.is_zero() || self.timeout > MAX_FETCH_TIMEOUT {
            return Err(BuildError::invalid(
                "the JWKS fetch timeout",
                "must be more than 0 and at most 30 s",
                &format!("{:?}", self.timeout),
            ));
        }
        if self.stale_if_error > MAX_STALE_IF_ERROR {
            return Err(BuildError::invalid(
                "the JWKS stale_if_error",
                "must be at most 24 h",
                &format!("{:?}", self.stale_if_error),
            ));
        }
        Ok(())
    }

    /// The checked options, with the HTTP client they configure.
    fn policy(&self) -> Result<FetchPolicy, BuildError> {
        self.check()?;
        Ok(FetchPolicy {
            http: self.http()?,
            cooldown: self.cooldown,
            stale_if_error: self.stale_if_error,
        })
    }

    fn http(&self) -> Result<reqwest::Client, BuildError> {
        reqwest::Client::builder()
            .connect_timeout(self.timeout.min(Duration::from_secs(3)))
            .timeout(self.timeout)
            // A redirect could lead from https to anywhere: key URLs must answer directly.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cometgate-jwt/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(BuildError::HttpClient)
    }

    /// A JWKS key source at the configured URL, or `published` when none was configured.
    fn jwks(&self, published: &str) -> Result<KeySource, BuildError> {
        let policy = self.policy()?;
        let url = https_or_loopback(
            "the JWKS URL",
            self.jwks_url.as_deref().unwrap_or(published),
        )?;
        Ok(KeySource::Jwks(JwksCache::new(url, policy)))
    }
}

/// Adds `leeway` and `uid_mapping` to a provider builder with a `common: Common` field.
macro_rules! common_options {
    () => {
        /// The clock-skew leeway for `exp`, `nbf` and `iat` (default
        /// [`DEFAULT_LEEWAY`](crate::DEFAULT_LEEWAY)); more than
        /// [`MAX_LEEWAY`](crate::MAX_LEEWAY) fails the build.
        #[must_use]
        pub fn leeway(mut self, leeway: std::time::Duration) -> Self {
            self.common.leeway = leeway;
            self
        }

        /// How this provider's subjects become CometChat UIDs, instead of the provider's
        /// default (see [`cometgate::uid_mapper`] for which to choose).
        #[must_use]
        pub fn uid_mapping(mut self, mapping: cometgate::UidMapping) -> Self {
            self.common.mapping = Some(mapping);
            self
        }
    };
}

/// Adds `jwks_url`, `refetch_cooldown`, `fetch_timeout` and `stale_if_error` to a provider
/// builder with a `fetching: Fetching` field.
macro_rules! fetch_options {
    () => {
        /// Fetches keys from `url` instead of the provider's published JWKS URL (a proxy, a
        /// test server). It must be `https://` unless its host is loopback.
        #[must_use]
        pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
            self.fetching.jwks_url = Some(url.into());
            self
        }

        /// The least time between two JWKS fetches, whatever triggers them (default
        /// [`DEFAULT_REFETCH_COOLDOWN`](crate::providers::DEFAULT_REFETCH_COOLDOWN), at least
        /// [`MIN_REFETCH_COOLDOWN`](crate::providers::MIN_REFETCH_COOLDOWN)).
        #[must_use]
        pub fn refetch_cooldown(mut self, cooldown: std::time::Duration) -> Self {
            self.fetching.cooldown = cooldown;
            self
        }

        /// The timeout of one JWKS fetch (default
        /// [`DEFAULT_FETCH_TIMEOUT`](crate::providers::DEFAULT_FETCH_TIMEOUT), at most
        /// [`MAX_FETCH_TIMEOUT`](crate::providers::MAX_FETCH_TIMEOUT)).
        #[must_use]
        pub fn fetch_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.fetching.timeout = timeout;
            self
        }

        /// How long keys past their `max-age` are still served while the JWKS cannot be
        /// fetched (an outage, an error status, a set with no usable keys); after that, tokens
        /// are refused (`401 invalid_token`) until a fetch succeeds again. Default
        /// [`DEFAULT_STALE_IF_ERROR`](crate::providers::DEFAULT_STALE_IF_ERROR) (1 h), at most
        /// [`MAX_STALE_IF_ERROR`](crate::providers::MAX_STALE_IF_ERROR) (24 h);
        /// `Duration::ZERO` never serves a key past its `max-age`.
        ///
        /// The bound is what makes withdrawing a key effective: a key removed from the JWKS
        /// after a compromise stops verifying at most `max-age + stale_if_error` after the
        /// last successful fetch, even while an attacker keeps the JWKS unreachable.
        #[must_use]
        pub fn stale_if_error(mut self, stale_if_error: std::time::Duration) -> Self {
            self.fetching.stale_if_error = stale_if_error;
            self
        }
    };
}

pub(crate) use {common_options, fetch_options};

/// What every provider needs to say to build a [`JwtIdentity`].
struct Spec {
    provider: &'static str,
    issuer: String,
    audiences: Option<Vec<String>>,
    algorithms: Vec<Algorithm>,
    keys: KeySource,
    rules: Rules,
    default_mapping: UidMapping,
}

fn build(spec: Spec, common: &Common) -> Result<JwtIdentity, BuildError> {
    if common.leeway > MAX_LEEWAY {
        return Err(BuildError::LeewayTooLarge(common.leeway));
    }
    install_crypto_backend();
    let validations = spec
        .algorithms
        .iter()
        .map(|&alg| validation(alg, &spec.issuer, spec.audiences.as_deref(), common.leeway))
        .collect();
    Ok(JwtIdentity::new(Inner {
        provider: spec.provider,
        issuer: spec.issuer,
        audiences: spec.audiences,
        validations,
        keys: spec.keys,
        leeway: common.leeway,
        rules: spec.rules,
        mapping: common.mapping.unwrap_or(spec.default_mapping),
    }))
}

/// Makes this crate's backend jsonwebtoken's process default. jsonwebtoken picks one from its
/// own features, but when another crate in the app turns on its other backend too, it has
/// none and panics on the first token; installing ours first prevents that. (If something else
/// installed a provider already, that one stays.)
fn install_crypto_backend() {
    #[cfg(feature = "aws-lc-rs")]
    let _already_installed = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    let _already_installed = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

/// Checks a list of algorithms for a JWKS provider: non-empty, asymmetric only.
fn asymmetric(algorithms: &[Algorithm]) -> Result<Vec<Algorithm>, BuildError> {
    if algorithms.is_empty() {
        return Err(BuildError::Algorithm("(none: the list is empty)".into()));
    }
    match algorithms.iter().find(|a| !ASYMMETRIC.contains(a)) {
        Some(bad) => Err(BuildError::Algorithm(format!("{bad:?}"))),
        None => Ok(algorithms.to_vec()),
    }
}

/// A non-empty setting, trimmed.
fn required(setting: &'static str, value: &str) -> Result<String, BuildError> {
    let value = value.trim();
    if value.is_empty() {
        Err(BuildError::Empty { setting })
    } else {
        Ok(value.to_owned())
    }
}

/// Checks specific to one provider, after the signature and the standard claims.
pub(crate) enum Rules {
    None,
    /// `auth_time` is required and in the past; anonymous sign-ins only when allowed.
    Firebase {
        allow_anonymous: bool,
    },
    /// `anon` and `service_role` tokens (and anonymous sign-ins) only when allowed.
    Supabase {
        allow_anon: bool,
        allow_service_role: bool,
    },
    /// A session token (`sid`), and `azp`, when present, from an allowed origin.
    Clerk {
        authorized_parties: Vec<String>,
    },
}

impl Rules {
    pub(crate) fn check(&self, claims: &Claims, leeway: Duration) -> Result<(), String> {
        match self {
            Self::None => Ok(()),
            Self::Firebase { allow_anonymous } => {
                let now = jsonwebtoken::get_current_timestamp();
                match claims::numeric_date(claims, "auth_time")? {
                    Some(at) if at <= now.saturating_add(leeway.as_secs()) => {}
                    Some(_) => return Err("auth_time is in the future".into()),
                    None => return Err("auth_time is missing".into()),
                }
                if firebase_anonymous(claims) && !allow_anonymous {
                    return Err(
                        "anonymous Firebase sign-ins are not allowed (Firebase::allow_anonymous)"
                            .into(),
                    );
                }
                Ok(())
            }
            Self::Supabase {
                allow_anon,
                allow_service_role,
            } => {
                let role = claims::string_at(claims, &["role"]);
                let anonymous = claims.get("is_anonymous").and_then(|v| v.as_bool()) == Some(true);
                if (role == Some("anon") || anonymous) && !allow_anon {
                    Err("anonymous Supabase tokens are not allowed (Supabase::allow_anon)".into())
                } else if role == Some("service_role") && !allow_service_role {
                    Err("service_role tokens are not allowed (Supabase::allow_service_role)".into())
                } else {
                    Ok(())
                }
            }
            Self::Clerk { authorized_parties } => {
                if claims::string_at(claims, &["sid"]).is_none() {
                    return Err("not a Clerk session token (no sid)".into());
                }
                match claims.get("azp") {
                    None => Ok(()),
                    Some(azp) => match azp.as_str() {
                        Some(azp) if authorized_parties.iter().any(|p| p == azp) => Ok(()),
                        _ => Err(format!("azp {azp} is not an authorized party")),
                    },
                }
            }
        }
    }
}

/// Whether a Firebase ID token comes from `signInAnonymously()`: `firebase.sign_in_provider`
/// says so, and older tokens also carry a top-level `provider_id`.
fn firebase_anonymous(claims: &Claims) -> bool {
    [&["firebase", "sign_in_provider"][..], &["provider_id"]]
        .iter()
        .any(|path| claims::string_at(claims, path) == Some("anonymous"))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    /// A claim's value: one of `names`, any other short name, another JSON type, or the name
    /// nested where it does not count.
    fn claim_value(names: &'static [&'static str]) -> impl Strategy<Value = Value> {
        prop_oneof![
            proptest::sample::select(names).prop_map(Value::from),
            "[a-z._]{0,12}".prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            Just(Value::Null),
            proptest::sample::select(names).prop_map(|name| json!({ "value": name })),
        ]
    }

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    fn claims(value: Value) -> Claims {
        value.as_object().cloned().unwrap_or_default()
    }

    proptest! {
        #![proptest_config(config())]

        /// Whatever else the token says, a Firebase anonymous sign-in passes only when the app
        /// allows anonymous sign-ins; every other sign-in passes either way.
        #[test]
        fn firebase_anonymous_sign_ins_pass_only_when_allowed(
            sign_in in proptest::option::of(claim_value(&["anonymous", "password", "google.com", "custom"])),
            provider_id in proptest::option::of(claim_value(&["anonymous", "password"])),
            allow_anonymous in any::<bool>(),
        ) {
            let mut token = json!({"auth_time": jsonwebtoken::get_current_timestamp() - 60});
            if let Some(sign_in) = &sign_in {
                token["firebase"] = json!({"identities": {}, "sign_in_provider": sign_in});
            }
            if let Some(provider_id) = &provider_id {
                token["provider_id"] = provider_id.clone();
            }
            let says = |value: &Option<Value>| value.as_ref().and_then(Value::as_str) == Some("anonymous");
            let anonymous = says(&sign_in) || says(&provider_id);
            let verdict = Rules::Firebase { allow_anonymous }.check(&claims(token), DEFAULT_LEEWAY);
            prop_assert_eq!(verdict.is_ok(), allow_anonymous || !anonymous, "{:?}", verdict);
        }

        /// A Supabase `anon` or `is_anonymous` token passes only when the app allows anonymous
        /// users, a `service_role` one only when it allows service tokens; the rest pass.
        #[test]
        fn supabase_anon_and_service_tokens_pass_only_when_allowed(
            role in proptest::option::of(claim_value(&["anon", "service_role", "authenticated"])),
            is_anonymous in proptest::option::of(claim_value(&["true"])),
            allow_anon in any::<bool>(),
            allow_service_role in any::<bool>(),
        ) {
            let mut token = json!({});
            if let Some(role) = &role {
                token["role"] = role.clone();
            }
            if let Some(is_anonymous) = &is_anonymous {
                token["is_anonymous"] = is_anonymous.clone();
            }
            let role_is = |name| role.as_ref().and_then(Value::as_str) == Some(name);
            let anonymous = role_is("anon") || is_anonymous == Some(Value::Bool(true));
            let expected = (allow_anon || !anonymous) && (allow_service_role || !role_is("service_role"));
            let rules = Rules::Supabase { allow_anon, allow_service_role };
            let verdict = rules.check(&claims(token), DEFAULT_LEEWAY);
            prop_assert_eq!(verdict.is_ok(), expected, "{:?}", verdict);
        }
    }
}
