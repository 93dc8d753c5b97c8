//! Fetching the small JSON documents keys come from (a JWKS, an OIDC discovery document), and
//! the bookkeeping that keeps refetches rare: freshness from `Cache-Control: max-age`, and at
//! least one cooldown between two attempts, whatever triggers them.
//!
//! Fetches have a timeout, follow no redirects, and read at most [`MAX_DOCUMENT_BYTES`].

use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;
use url::Url;

/// How long a fetched document is fresh when the response has no `max-age`.
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(5 * 60);
/// The longest a fetched document is considered fresh, whatever `max-age` says.
pub(crate) const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The largest document read (real JWKS and discovery documents are a few KiB).
pub(crate) const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// How a provider fetches its documents and how long it trusts what it fetched.
#[derive(Clone)]
pub(crate) struct FetchPolicy {
    /// Timeouts set, redirects off.
    pub(crate) http: reqwest::Client,
    /// The least time between two fetches of one document.
    pub(crate) cooldown: Duration,
    /// How long past their freshness keys are still served while refreshes fail.
    pub(crate) stale_if_error: Duration,
}

impl FetchPolicy {
    /// How long a fetched document is fresh: its `max-age` clamped to [cooldown, 24 h], or
    /// [`DEFAULT_TTL`] when it has none.
    pub(crate) fn freshness(&self, max_age: Option<Duration>) -> Duration {
        max_age
            .unwrap_or(DEFAULT_TTL)
            .clamp(self.cooldown.min(MAX_TTL), MAX_TTL)
    }
}

/// When a document was last fetched and how that went.
#[derive(Default)]
pub(crate) struct Refresh {
    fresh_until: Option<Instant>,
    last_attempt: Option<Instant>,
    last_error: Option<String>,
}

impl Refresh {
    /// Whether the last good document is still fresh at `now`.
    pub(crate) fn is_fresh(&self, now: Instant) -> bool {
        self.fresh_until.is_some_and(|until| now < until)
    }

    /// When the last good document stops being fresh.
    pub(crate) fn fresh_until(&self) -> Option<Instant> {
        self.fresh_until
    }

    /// Whether a fetch may start at `now`: the last attempt is at least `cooldown` ago.
    pub(crate) fn may_fetch(&self, now: Instant, cooldown: Duration) -> bool {
        self.last_attempt
            .is_none_or(|at| now.saturating_duration_since(at) >= cooldown)
    }

    /// A fetch starts at `now`.
    pub(crate) fn attempt(&mut self, now: Instant) {
        self.last_attempt = Some(now);
    }

    /// Why the last fetch failed, if it did.
    pub(crate) fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// A fetch finished at `now`: a document fresh for `ttl`, given back to be kept, or the
    /// error, remembered.
    pub(crate) fn record<T>(
        &mut self,
        fetched: Result<(T, Duration), String>,
        now: Instant,
    ) -> Option<T> {
        match fetched {
            Ok((document, ttl)) => {
                // `ttl` is at most 24 h: no overflow.
                self.fresh_until = Some(now + ttl);
                self.last_error = None;
                Some(document)
            }
            Err(error) => {
                self.last_error = Some(error);
                None
            }
        }
    }
}

/// State behind a lock that a panic cannot spoil: it is only ever changed by whole
/// assignments, so a poisoned lock still holds good data.
#[derive(Default)]
pub(crate) struct Shared<T>(RwLock<T>);

impl<T> Shared<T> {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A fetched JSON document and its `Cache-Control: max-age`.
pub(crate) struct Fetched {
    pub(crate) json: Value,
    pub(crate) max_age: Option<Duration>,
}

/// GETs a small JSON document (JWKS or OIDC discovery).
pub(crate) async fn fetch_json(http: &reqwest::Client, url: &Url) -> Result<Fetched, String> {
    let mut response = http
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| describe_reqwest(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{url} answered HTTP {status}"));
    }
    let max_age = response
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(max_age);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe_reqwest(&e))? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("{url} sent more than {MAX_DOCUMENT_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    let json =
        serde_json::from_slice(&body).map_err(|e| format!("{url} sent invalid JSON: {e}"))?;
    Ok(Fetched { json, max_age })
}

fn describe_reqwest(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("timed out fetching {}", error.url().map_or("", Url::as_str))
    } else {
        // reqwest's messages name the URL; key URLs carry no secrets (user info is refused).
        error.to_string()
    }
}

/// `max-age` of a `Cache-Control` value; `no-store`/`no-cache` count as zero.
pub(crate) fn max_age(cache_control: &str) -> Option<Duration> {
    let mut result = None;
    for directive in cache_control.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(value) = lower.strip_prefix("max-age=") {
            result = value
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_and_no_store_means_zero() {
        assert_eq!(
            max_age("public, max-age=19800, must-revalidate"),
            Some(Duration::from_secs(19800))
        );
        assert_eq!(max_age("Max-Age=60"), Some(Duration::from_secs(60)));
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=-5"), None);
        assert_eq!(max_age("max-age=99999999999999999999999"), None);
    }
}
