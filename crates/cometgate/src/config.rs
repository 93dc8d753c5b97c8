//! Where CometChat lives and how to authenticate to it.
//!
//! A [`Config`] is validated when it is built, so that nothing later can send the REST API key
//! anywhere but the app's own CometChat host: the app id cannot change the host name, the region
//! is on an allow-list, and an explicit API base must be `https://` (plain `http://` is accepted
//! for loopback only, for a local fake). Building a config never does network I/O.
//!
//! From the environment ([`Config::from_env`]):
//!
//! | variable | meaning | required |
//! |---|---|---|
//! | `COMETCHAT_APP_ID` | the app id (letters and digits) | yes |
//! | `COMETCHAT_REGION` | `us`, `eu` or `in` | yes |
//! | `COMETCHAT_REST_API_KEY` | the server-only REST API key | yes |
//! | `COMETCHAT_API_BASE` | override of `https://{app}.api-{region}.cometchat.io/v3`, e.g. a fake | no |
//!
//! ```
//! use cometgate::config::{Config, Region};
//!
//! let config = Config::builder()
//!     .app_id("2612345abcdef")
//!     .region(Region::Eu)
//!     .rest_api_key("f1915e328e249ffaaafd97fb46a57ba55d233fbf")
//!     .build()
//!     .unwrap();
//! assert_eq!(config.api_base().as_str(), "https://2612345abcdef.api-eu.cometchat.io/v3/");
//! assert!(!format!("{config:?}").contains("f1915e"));
//!
//! let err = Config::builder()
//!     .app_id("evil.example.com/")
//!     .region(Region::Us)
//!     .rest_api_key("k")
//!     .build()
//!     .unwrap_err();
//! assert!(err.to_string().starts_with("COMETCHAT_APP_ID"));
//! ```

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};
use url::{Host, Url};

/// Name of the app id variable.
pub const ENV_APP_ID: &str = "COMETCHAT_APP_ID";
/// Name of the region variable.
pub const ENV_REGION: &str = "COMETCHAT_REGION";
/// Name of the REST API key variable.
pub const ENV_REST_API_KEY: &str = "COMETCHAT_REST_API_KEY";
/// Name of the optional API base variable.
pub const ENV_API_BASE: &str = "COMETCHAT_API_BASE";

/// A CometChat data region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// United States (`us`).
    Us,
    /// Europe (`eu`).
    Eu,
    /// India (`in`).
    In,
}

impl Region {
    /// The region as CometChat spells it in host names: `us`, `eu` or `in`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Us => "us",
            Self::Eu => "eu",
            Self::In => "in",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Region {
    type Err = ConfigError;

    /// Parses `us`, `eu` or `in` (any case, surrounding spaces ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "us" => Ok(Self::Us),
            "eu" => Ok(Self::Eu),
            "in" => Ok(Self::In),
            _ => Err(ConfigError::BadRegion {
                got: s.chars().take(40).collect(),
            }),
        }
    }
}

/// Why a [`Config`] could not be built. Each message starts with the variable at fault.
///
/// No variant ever holds the REST API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required setting is absent.
    #[error("{name} is not set: {what}")]
    Missing {
        /// The environment variable (or builder field) that is missing.
        name: &'static str,
        /// What it should hold.
        what: &'static str,
    },
    /// The app id holds a character that could change the host name.
    #[error(
        "COMETCHAT_APP_ID must be letters and digits only (it becomes part of the host name); \
         {problem}"
    )]
    BadAppId {
        /// What is wrong, e.g. the first character that is not allowed.
        problem: String,
    },
    /// The region is not one CometChat has.
    #[error("COMETCHAT_REGION must be one of us, eu, in; got {got:?}")]
    BadRegion {
        /// The value given (at most 40 characters of it).
        got: String,
    },
    /// The REST API key is empty or cannot be sent as a header value.
    #[error("COMETCHAT_REST_API_KEY {problem}")]
    BadRestApiKey {
        /// What is wrong (never the key itself).
        problem: &'static str,
    },
    /// The API base is not an acceptable URL.
    #[error("COMETCHAT_API_BASE {problem}; got {got:?}")]
    BadApiBase {
        /// What is wrong.
        problem: &'static str,
        /// The value given (at most 200 characters of it, without any user info).
        got: String,
    },
}

/// Validated connection settings for one CometChat app. Build one with [`Config::builder`] or
/// [`Config::from_env`].
#[derive(Clone)]
pub struct Config {
    app_id: String,
    region: Region,
    rest_api_key: SecretString,
    api_base: Url,
}

impl Config {
    /// Starts a builder.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Reads `COMETCHAT_APP_ID`, `COMETCHAT_REGION`, `COMETCHAT_REST_API_KEY` and the optional
    /// `COMETCHAT_API_BASE` from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup` (for tests, or
    /// settings kept elsewhere). An empty value counts as unset.
    ///
    /// ```
    /// use cometgate::Config;
    ///
    /// let vars = [
    ///     ("COMETCHAT_APP_ID", "demo"),
    ///     ("COMETCHAT_REGION", "us"),
    ///     ("COMETCHAT_REST_API_KEY", "secret-key"),
    ///     ("COMETCHAT_API_BASE", "http://127.0.0.1:8787/v3"),
    /// ];
    /// let config = Config::from_lookup(|name| {
    ///     vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
    /// })
    /// .unwrap();
    /// assert_eq!(config.api_base().as_str(), "http://127.0.0.1:8787/v3/");
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let mut builder = Config::builder();
        if let Some(app_id) = get(ENV_APP_ID) {
            builder = builder.app_id(app_id);
        }
        if let Some(region) = get(ENV_REGION) {
            builder = builder.region(region.parse::<Region>()?);
        }
        if let Some(key) = get(ENV_REST_API_KEY) {
            builder = builder.rest_api_key(key);
        }
        if let Some(base) = get(ENV_API_BASE) {
            builder = builder.api_base(base);
        }
        builder.build()
    }

    /// The CometChat app id.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The app's region.
    pub fn region(&self) -> Region {
        self.region
    }

    /// The server-only REST API key.
    pub fn rest_api_key(&self) -> &SecretString {
        &self.rest_api_key
    }

    /// The REST API base, always ending in `/` (e.g. `https://APP.api-us.cometchat.io/v3/`), so
    /// that `api_base().join("users")` gives the users endpoint.
    pub fn api_base(&self) -> &Url {
        &self.api_base
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("app_id", &self.app_id)
            .field("region", &self.region)
            .field("rest_api_key", &"[REDACTED]")
            .field("api_base", &self.api_base.as_str())
            .finish()
    }
}

/// Builds a [`Config`]; see [`Config::builder`].
#[derive(Default)]
pub struct ConfigBuilder {
    app_id: Option<String>,
    region: Option<Region>,
    rest_api_key: Option<SecretString>,
    api_base: Option<String>,
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("app_id", &self.app_id)
            .field("region", &self.region)
            .field(
                "rest_api_key",
                &self.rest_api_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("api_base", &self.api_base)
            .finish()
    }
}

impl ConfigBuilder {
    /// The CometChat app id (letters and digits).
    #[must_use]
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The app's region.
    #[must_use]
    pub fn region(mut self, region: Region) -> Self {
        self.region = Some(region);
        self
    }

    /// The REST API key (a `&str`, `String` or [`SecretString`]).
    #[must_use]
    pub fn rest_api_key(mut self, key: impl Into<SecretString>) -> Self {
        self.rest_api_key = Some(key.into());
        self
    }

    /// Overrides the API base, e.g. `http://127.0.0.1:8787/v3` for a local fake or a dedicated
    /// host. It must be `https://` unless the host is loopback.
    #[must_use]
    pub fn api_base(mut self, base: impl Into<String>) -> Self {
        self.api_base = Some(base.into());
        self
    }

    /// Validates every setting and builds the config. No network I/O.
    pub fn build(self) -> Result<Config, ConfigError> {
        let app_id = self.app_id.ok_or(ConfigError::Missing {
            name: ENV_APP_ID,
            what: "the CometChat app id, from the CometChat dashboard",
        })?;
        validate_app_id(&app_id)?;
        let region = self.region.ok_or(ConfigError::Missing {
            name: ENV_REGION,
            what: "the app's region: us, eu or in",
        })?;
        let rest_api_key = self.rest_api_key.ok_or(ConfigError::Missing {
            name: ENV_REST_API_KEY,
            what: "the REST API key (full access), from the CometChat dashboard; keep it server-side",
        })?;
        validate_key(rest_api_key.expose_secret())?;
        let api_base = match self.api_base {
            Some(base) => parse_api_base(&base)?,
            None => default_base(&app_id, region),
        };
        Ok(Config {
            app_id,
            region,
            rest_api_key,
            api_base,
        })
    }
}

fn validate_app_id(app_id: &str) -> Result<(), ConfigError> {
    if app_id.is_empty() {
        return Err(ConfigError::BadAppId {
            problem: "it is empty".into(),
        });
    }
    if let Some((position, ch)) = app_id
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
    {
        return Err(ConfigError::BadAppId {
            problem: format!("character {ch:?} at position {position} is not allowed"),
        });
    }
    if app_id.len() > 63 {
        return Err(ConfigError::BadAppId {
            problem: format!(
                "it is {} characters long, a host label holds 63",
                app_id.len()
            ),
        });
    }
    Ok(())
}

fn validate_key(key: &str) -> Result<(), ConfigError> {
    if key.trim().is_empty() {
        return Err(ConfigError::BadRestApiKey {
            problem: "is empty",
        });
    }
    if key.chars().any(|c| c.is_control() || !c.is_ascii()) {
        return Err(ConfigError::BadRestApiKey {
            problem: "holds control or non-ASCII characters, so it cannot be sent as a header; \
                      copy it again from the CometChat dashboard",
        });
    }
    Ok(())
}

fn default_base(app_id: &str, region: Region) -> Url {
    let base = format!("https://{app_id}.api-{region}.cometchat.io/v3/");
    // The app id was checked to be ASCII letters and digits and the region is one of three
    // constants, so this URL always parses.
    Url::parse(&base).unwrap_or_else(|_| unreachable!("validated app id gives a valid URL"))
}

/// Whether `url`'s host is loopback (`localhost`, `127.0.0.0/8`, `::1`): the only hosts that
/// cometgate lets a secret or a key fetch travel to over plain `http://`.
///
/// ```
/// use cometgate::config::is_loopback;
/// use url::Url;
///
/// assert!(is_loopback(&Url::parse("http://127.0.0.1:8787/v3").unwrap()));
/// assert!(is_loopback(&Url::parse("http://localhost/").unwrap()));
/// assert!(!is_loopback(&Url::parse("http://10.0.0.1/").unwrap()));
/// assert!(!is_loopback(&Url::parse("http://127.0.0.1.evil.example/").unwrap()));
/// ```
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn parse_api_base(raw: &str) -> Result<Url, ConfigError> {
    let shown = |url: Option<&Url>| match url {
        Some(u) if !u.username().is_empty() || u.password().is_some() => {
            "<URL with user info, not shown>".to_owned()
        }
        Some(u) => u.as_str().chars().take(200).collect(),
        None => raw.chars().take(200).collect(),
    };
    let bad = |problem, url: Option<&Url>| ConfigError::BadApiBase {
        problem,
        got: shown(url),
    };
    let mut url = Url::parse(raw.trim())
        .map_err(|_| bad("is not a valid absolute URL (e.g. https://host/v3)", None))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain user info", Some(&url)));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(bad(
                "must use https:// (http:// is only allowed for loopback hosts)",
                Some(&url),
            ));
        }
        _ => return Err(bad("must be an https:// URL", Some(&url))),
    }
    if url.host().is_none() {
        return Err(bad("has no host", Some(&url)));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment", Some(&url)));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn builder() -> ConfigBuilder {
        Config::builder()
            .app_id("abc123")
            .region(Region::Us)
            .rest_api_key("key")
    }

    #[test]
    fn default_base_per_region() {
        for (region, host) in [(Region::Us, "us"), (Region::Eu, "eu"), (Region::In, "in")] {
            let c = builder().region(region).build().unwrap();
            assert_eq!(
                c.api_base().as_str(),
                format!("https://abc123.api-{host}.cometchat.io/v3/")
            );
            assert_eq!(
                c.api_base().join("users").unwrap().as_str(),
                format!("https://abc123.api-{host}.cometchat.io/v3/users")
            );
        }
    }

    #[test]
    fn app_id_cannot_change_the_host() {
        for bad in [
            "", "a/b", "a.b", "a@b", "a:1", "a?x", "a#x", "a b", "a-b", "a_b", "é", "a\n",
        ] {
            let err = builder().app_id(bad).build().unwrap_err();
            assert!(
                matches!(err, ConfigError::BadAppId { .. }),
                "{bad:?}: {err}"
            );
            assert!(err.to_string().starts_with(ENV_APP_ID));
        }
        assert!(builder().app_id("AbC123").build().is_ok());
    }

    #[test]
    fn region_allow_list() {
        assert_eq!("EU".parse::<Region>().unwrap(), Region::Eu);
        let err = "usa".parse::<Region>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "COMETCHAT_REGION must be one of us, eu, in; got \"usa\""
        );
        assert!("private".parse::<Region>().is_err());
    }

    #[test]
    fn api_base_rules() {
        let ok = |b: &str| {
            builder()
                .api_base(b)
                .build()
                .map(|c| c.api_base().to_string())
        };
        assert_eq!(
            ok("http://127.0.0.1:8787/v3").unwrap(),
            "http://127.0.0.1:8787/v3/"
        );
        assert_eq!(
            ok("http://localhost:1/v3/").unwrap(),
            "http://localhost:1/v3/"
        );
        assert_eq!(ok("http://[::1]:1/v3").unwrap(), "http://[::1]:1/v3/");
        assert_eq!(ok("http://127.9.9.9/v3").unwrap(), "http://127.9.9.9/v3/");
        assert_eq!(
            ok("https://chat.example.com/v3").unwrap(),
            "https://chat.example.com/v3/"
        );
        for bad in [
            "http://example.com/v3",
            "http://10.0.0.1/v3",
            "http://localhost.evil.com/v3",
            "ftp://127.0.0.1/",
            "https://user:pw@example.com/v3",
            "https://example.com/v3?x=1",
            "https://example.com/v3#f",
            "not a url",
            "/v3",
        ] {
            let err = ok(bad).unwrap_err();
            assert!(
                matches!(err, ConfigError::BadApiBase { .. }),
                "{bad}: {err}"
            );
            assert!(err.to_string().starts_with(ENV_API_BASE));
            assert!(!err.to_string().contains("pw@"), "{err}");
        }
    }

    #[test]
    fn missing_settings_name_the_variable() {
        let err = Config::from_lookup(lookup(&[])).unwrap_err();
        assert!(err.to_string().starts_with("COMETCHAT_APP_ID is not set"));
        let err = Config::from_lookup(lookup(&[("COMETCHAT_APP_ID", "a")])).unwrap_err();
        assert!(err.to_string().starts_with("COMETCHAT_REGION is not set"));
        let err = Config::from_lookup(lookup(&[
            ("COMETCHAT_APP_ID", "a"),
            ("COMETCHAT_REGION", "in"),
            ("COMETCHAT_REST_API_KEY", ""),
        ]))
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("COMETCHAT_REST_API_KEY is not set")
        );
    }

    #[test]
    fn from_lookup_reads_every_variable() {
        let c = Config::from_lookup(lookup(&[
            ("COMETCHAT_APP_ID", "demo1"),
            ("COMETCHAT_REGION", "in"),
            ("COMETCHAT_REST_API_KEY", "k3y"),
            ("COMETCHAT_API_BASE", "http://127.0.0.1:9/v3"),
        ]))
        .unwrap();
        assert_eq!(c.app_id(), "demo1");
        assert_eq!(c.region(), Region::In);
        assert_eq!(c.rest_api_key().expose_secret(), "k3y");
        assert_eq!(c.api_base().as_str(), "http://127.0.0.1:9/v3/");
    }

    #[test]
    fn key_must_be_a_header_value() {
        for bad in [" ", "a\nb", "a\rb", "kéy"] {
            let err = builder().rest_api_key(bad).build().unwrap_err();
            assert!(matches!(err, ConfigError::BadRestApiKey { .. }));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn key_never_shows(key in "SECRET[!-~]{8,50}", app in "\\PC{0,20}", base in "\\PC{0,40}") {
            let built = Config::builder()
                .app_id(app)
                .region(Region::Us)
                .rest_api_key(key.clone())
                .api_base(base)
                .build();
            let shown = match &built {
                Ok(c) => format!("{c:?}"),
                Err(e) => format!("{e} {e:?}"),
            };
            prop_assert!(!shown.contains(&key), "{}", shown);
            let builder_debug = format!("{:?}", Config::builder().rest_api_key(key.clone()));
            prop_assert!(!builder_debug.contains(&key));
        }
    }
}
