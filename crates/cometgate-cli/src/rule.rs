//! The rules `cometgate audit` applies, with their stable ids (a JSON and SARIF contract).

use std::fmt;

use serde::Serialize;

use crate::Severity;

/// One rule of the audit. Its [`id`](Rule::id) never changes: scripts, SARIF consumers and
/// suppressions depend on it.
///
/// ```
/// use cometgate_cli::{Rule, Severity};
///
/// assert_eq!(Rule::RestApiKey.id(), "rest-api-key");
/// assert_eq!(Rule::RestApiKey.severity(), Severity::Critical);
/// assert_eq!(Rule::ALL.len(), 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A CometChat REST API key (40 lowercase hex) recognised by its context: an
    /// `apikey`/`apiKey` header, `REST_API_KEY`, a `*.api-<region>.cometchat.io` URL nearby.
    RestApiKey,
    /// An Auth Key in a configuration or build (`authKey`, `AUTH_KEY`, `setAuthKey(`, UI Kit
    /// settings); low severity under test, mock or dev-only paths.
    AuthKey,
    /// Dev-mode login in app code: `CometChatUIKit.login({ uid })`, `CometChat.login(uid,
    /// authKey)`, `login(uid)` with an Auth Key in scope.
    UidLogin,
    /// A variable exposed to clients (`EXPO_PUBLIC_*`, `NEXT_PUBLIC_*`, `VITE_*`,
    /// `REACT_APP_*`) that names a CometChat key.
    PublicEnvSecret,
    /// A literal CometChat auth token (`<uid>_<10 digits><30 hex>`); they never expire.
    HardcodedAuthToken,
    /// The token endpoint configured with `http://` to a host that is not loopback.
    InsecureTokenEndpoint,
    /// An occurrence of a key given with `--key`/`--key-file`, as is or base64-encoded.
    KnownKey,
}

impl Rule {
    /// Every rule, in the order reports list them.
    pub const ALL: [Rule; 7] = [
        Self::RestApiKey,
        Self::AuthKey,
        Self::UidLogin,
        Self::PublicEnvSecret,
        Self::HardcodedAuthToken,
        Self::InsecureTokenEndpoint,
        Self::KnownKey,
    ];

    /// The stable id, e.g. `rest-api-key`.
    pub fn id(self) -> &'static str {
        match self {
            Self::RestApiKey => "rest-api-key",
            Self::AuthKey => "auth-key",
            Self::UidLogin => "uid-login",
            Self::PublicEnvSecret => "public-env-secret",
            Self::HardcodedAuthToken => "hardcoded-auth-token",
            Self::InsecureTokenEndpoint => "insecure-token-endpoint",
            Self::KnownKey => "known-key",
        }
    }

    /// The severity a finding of this rule has unless the rule lowers it (an Auth Key under a
    /// test, mock or dev-only path is `low`).
    pub fn severity(self) -> Severity {
        match self {
            Self::RestApiKey | Self::PublicEnvSecret | Self::KnownKey => Severity::Critical,
            Self::AuthKey | Self::UidLogin | Self::HardcodedAuthToken => Severity::High,
            Self::InsecureTokenEndpoint => Severity::Medium,
        }
    }

    /// One line saying what was found.
    pub fn summary(self) -> &'static str {
        match self {
            Self::RestApiKey => "CometChat REST API key in client code or a build",
            Self::AuthKey => "CometChat Auth Key in a client configuration or build",
            Self::UidLogin => "dev-mode CometChat login by UID",
            Self::PublicEnvSecret => "CometChat key in a variable exposed to clients",
            Self::HardcodedAuthToken => "literal CometChat auth token",
            Self::InsecureTokenEndpoint => "token endpoint over plain http://",
            Self::KnownKey => "a key given with --key",
        }
    }

    /// Why it matters and what to do instead.
    pub fn help(self) -> &'static str {
        match self {
            Self::RestApiKey => {
                "The REST API key has full access to the CometChat app: anyone who unpacks the app \
                 can read every conversation, create users and mint tokens for anyone. Keep it on \
                 the backend only (COMETCHAT_REST_API_KEY), rotate this one in the CometChat \
                 dashboard, and have the app fetch auth tokens from your token endpoint."
            }
            Self::AuthKey => {
                "An Auth Key in the app lets anyone log in as any user. Remove it from the client \
                 (.env, app.json extra, UI Kit settings), rotate it in the CometChat dashboard, \
                 and log in with an auth token from your backend: CometChatUIKit.login({ authToken })."
            }
            Self::UidLogin => {
                "Logging in by UID needs an Auth Key in the app and trusts the client to say who \
                 it is. In production log in with an auth token minted by your backend for the \
                 signed-in user: CometChatUIKit.login({ authToken })."
            }
            Self::PublicEnvSecret => {
                "Variables with EXPO_PUBLIC_, NEXT_PUBLIC_, VITE_ or REACT_APP_ are inlined into \
                 the client bundle at build time. No CometChat key belongs there: keep the REST \
                 API key on the backend and drop the Auth Key from production builds."
            }
            Self::HardcodedAuthToken => {
                "CometChat auth tokens never expire on their own: a token in the code is a \
                 permanent login as that user. Revoke it (DELETE /users/{uid}/auth_tokens/{token}) \
                 and fetch tokens from your backend at sign-in."
            }
            Self::InsecureTokenEndpoint => {
                "Over plain http:// anyone on the network can read the auth token (and the app's \
                 own credentials) on the way. Serve the token endpoint over https://; http:// is \
                 only for loopback during development."
            }
            Self::KnownKey => {
                "This exact key (or its base64 form) was found. Remove it and rotate the key."
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}
