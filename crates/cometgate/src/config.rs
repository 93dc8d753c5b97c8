//! Where CometChat lives and how to authenticate to it.
//!
//! STUB: the foundation helper completes validation and `from_env`; the accessor signatures
//! below are stable and used by the REST client.

use secrecy::SecretString;
use url::Url;

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

/// Validated connection settings for one CometChat app.
#[derive(Clone)]
pub struct Config {
    app_id: String,
    region: Region,
    rest_api_key: SecretString,
    api_base: Url,
}

impl Config {
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
