//! The one error type of the REST client.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

/// Why a CometChat call failed.
///
/// Opaque, in the `reqwest` style: ask it questions with the predicates ([`status`](Self::status),
/// [`code`](Self::code), [`is_retryable`](Self::is_retryable), …). Its text is safe for a log
/// line: CometChat's code and message are stored only after every word holding the REST API key
/// or CometChat's masked echo of it (its first or last five characters) is replaced by
/// `[REDACTED]`, control and invisible formatting characters are escaped (`\r`, `\n`,
/// `\u{1b}`, …), and they are cut to 64 and 300 characters.
///
/// ```
/// # async fn demo(client: cometgate::client::Client, uid: cometgate::Uid) {
/// match client.get_user(&uid).await {
///     Ok(user) => println!("{} exists", user.uid),
///     Err(e) if e.is_uid_not_found() => println!("no such user"),
///     Err(e) => eprintln!("CometChat failed: {e}"),
/// }
/// # }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

#[derive(Debug)]
pub(crate) enum Kind {
    /// CometChat answered with a non-success status.
    Api {
        status: u16,
        code: Option<String>,
        message: Option<String>,
        retry_after: Option<Duration>,
    },
    /// No request was sent: CometChat's `429` window (see [`Client`](super::Client)) has this
    /// much left.
    Cooldown { remaining: Duration },
    /// The request timed out.
    Timeout,
    /// The connection could not be made.
    Connect,
    /// Another transport failure (connection reset, protocol error, …).
    Transport,
    /// A success answer whose body is not what CometChat sends.
    Decode { detail: String },
    /// The overall deadline passed; holds the last failure, if any.
    Deadline { last: Option<Error> },
}

/// Error codes CometChat sends that callers commonly branch on.
pub mod codes {
    /// The user does not exist (or is deactivated).
    pub const UID_NOT_FOUND: &str = "ERR_UID_NOT_FOUND";
    /// A user with this UID exists already (or is deactivated and blocks re-creation).
    pub const UID_ALREADY_EXISTS: &str = "ERR_UID_ALREADY_EXISTS";
    /// The REST API key is wrong.
    pub const APIKEY_NOT_FOUND: &str = "AUTH_ERR_APIKEY_NOT_FOUND";
    /// The key lacks the scope for this operation (an Auth Key instead of a REST API key).
    pub const NO_ACCESS: &str = "AUTH_ERR_NO_ACCESS";
    /// The auth token does not exist.
    pub const AUTH_TOKEN_NOT_FOUND: &str = "ERR_AUTH_TOKEN_NOT_FOUND";
    /// CometChat's rate limit was hit.
    pub const TOO_MANY_REQUESTS: &str = "ERR_TOO_MANY_REQUESTS";
    /// The request failed validation.
    pub const BAD_REQUEST: &str = "ERR_BAD_REQUEST";
}

impl Error {
    pub(crate) fn new(kind: Kind) -> Self {
        Self {
            inner: Box::new(Inner { kind, source: None }),
        }
    }

    pub(crate) fn with_source(kind: Kind, source: impl StdError + Send + Sync + 'static) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                source: Some(Box::new(source)),
            }),
        }
    }

    pub(crate) fn deadline(last: Option<Error>) -> Self {
        Self::new(Kind::Deadline { last })
    }

    fn api(&self) -> Option<&Kind> {
        match &self.inner.kind {
            k @ Kind::Api { .. } => Some(k),
            Kind::Deadline { last: Some(last) } => last.api(),
            _ => None,
        }
    }

    /// The HTTP status CometChat answered with, if it answered (also for the last attempt
    /// before a deadline). For a call that failed fast inside a `429` window
    /// ([`is_cooldown`](Self::is_cooldown)) it is `429`: the answer still in force.
    pub fn status(&self) -> Option<u16> {
        match (&self.inner.kind, self.api()) {
            (Kind::Cooldown { .. }, _) => Some(429),
            (_, Some(Kind::Api { status, .. })) => Some(*status),
            _ => None,
        }
    }

    /// CometChat's error `code`, e.g. `ERR_UID_NOT_FOUND` (see [`codes`]); made log-safe like
    /// the message.
    pub fn code(&self) -> Option<&str> {
        match self.api() {
            Some(Kind::Api { code, .. }) => code.as_deref(),
            _ => None,
        }
    }

    /// CometChat's error message, for logs (never shown to end users by cometgate): scrubbed of
    /// the key, escaped and bounded (see [`Error`]).
    pub fn upstream_message(&self) -> Option<&str> {
        match self.api() {
            Some(Kind::Api { message, .. }) => message.as_deref(),
            _ => None,
        }
    }

    /// The user does not exist (`ERR_UID_NOT_FOUND`).
    pub fn is_uid_not_found(&self) -> bool {
        self.code() == Some(codes::UID_NOT_FOUND)
    }

    /// The user exists already (`ERR_UID_ALREADY_EXISTS`).
    pub fn is_uid_already_exists(&self) -> bool {
        self.code() == Some(codes::UID_ALREADY_EXISTS)
    }

    /// A request timed out.
    pub fn is_timeout(&self) -> bool {
        match &self.inner.kind {
            Kind::Timeout => true,
            Kind::Deadline { last: Some(last) } => last.is_timeout(),
            _ => false,
        }
    }

    /// CometChat's rate limit refused the call: it answered `429`, or the call failed fast,
    /// without a request, inside the window of an earlier `429`
    /// ([`is_cooldown`](Self::is_cooldown)). [`retry_after`](Self::retry_after) says how long to
    /// wait.
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(429)
    }

    /// The call failed fast, **without a request**, because an earlier call through the same
    /// client got a `429` whose window is still open; [`retry_after`](Self::retry_after) is the
    /// rest of that window. See [`Client`](super::Client) for the window's bounds.
    pub fn is_cooldown(&self) -> bool {
        matches!(self.inner.kind, Kind::Cooldown { .. })
    }

    /// The connection to CometChat could not be made.
    pub fn is_connect(&self) -> bool {
        matches!(self.inner.kind, Kind::Connect)
    }

    /// The overall deadline (retries included) passed.
    pub fn is_deadline(&self) -> bool {
        matches!(self.inner.kind, Kind::Deadline { .. })
    }

    /// CometChat answered with a body cometgate could not read.
    pub fn is_decode(&self) -> bool {
        matches!(self.inner.kind, Kind::Decode { .. })
    }

    /// Whether trying again may succeed: transport failures, timeouts and `5xx`. Never `4xx`.
    pub fn is_retryable(&self) -> bool {
        match &self.inner.kind {
            Kind::Api { status, .. } => *status >= 500,
            Kind::Timeout | Kind::Connect | Kind::Transport => true,
            Kind::Cooldown { .. } | Kind::Decode { .. } | Kind::Deadline { .. } => false,
        }
    }

    /// How long CometChat asked to wait. For a `429`: the window it opened (its `Retry-After`
    /// in whole seconds, 1 s when missing or unreadable, at most 60 s); for a call that failed
    /// fast inside that window: the rest of it; for a `503`: its `Retry-After`, if readable.
    pub fn retry_after(&self) -> Option<Duration> {
        match (&self.inner.kind, self.api()) {
            (Kind::Cooldown { remaining }, _) => Some(*remaining),
            (_, Some(Kind::Api { retry_after, .. })) => *retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.kind {
            Kind::Api {
                status,
                code,
                message,
                ..
            } => {
                write!(f, "CometChat answered {status}")?;
                if let Some(code) = code {
                    write!(f, " {code}")?;
                }
                if let Some(message) = message {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            Kind::Cooldown { remaining } => write!(
                f,
                "not sent: CometChat answered 429 and its Retry-After window has {} ms left",
                remaining.as_millis()
            ),
            Kind::Timeout => f.write_str("the request to CometChat timed out"),
            Kind::Connect => f.write_str("could not connect to CometChat"),
            Kind::Transport => f.write_str("the request to CometChat failed in transport"),
            Kind::Decode { detail } => write!(f, "CometChat's answer could not be read ({detail})"),
            Kind::Deadline { last: None } => f.write_str("the deadline for CometChat passed"),
            Kind::Deadline { last: Some(last) } => {
                write!(f, "the deadline for CometChat passed; last failure: {last}")
            }
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("cometgate::client::Error");
        d.field("kind", &self.inner.kind);
        if let Some(source) = &self.inner.source {
            d.field("source", &source.to_string());
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.inner.kind {
            Kind::Deadline { last: Some(last) } => Some(last),
            _ => self
                .inner
                .source
                .as_deref()
                .map(|s| s as &(dyn StdError + 'static)),
        }
    }
}
