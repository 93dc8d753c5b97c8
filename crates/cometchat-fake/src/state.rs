//! What one fake is set up with, and the state its connections and handles share.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::faults::FaultScripts;
use crate::journal::Journal;
use crate::rate_limit::Window;
use crate::store::Store;

/// What the fake is set up with. `Debug` leaves the keys out.
#[derive(Clone)]
pub(crate) struct Settings {
    pub app_id: String,
    pub region: String,
    /// The REST API key (scope `fullAccess`).
    pub api_key: String,
    /// An Auth Key (scope `authOnly`), if the fake accepts one.
    pub auth_key: Option<String>,
    pub strict: bool,
    pub rate_limit_per_minute: Option<u64>,
    pub journal_capacity: usize,
}

/// The scope of the key a request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The REST API key: every operation.
    FullAccess,
    /// The Auth Key: creating users and auth tokens only.
    AuthOnly,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("app_id", &self.app_id)
            .field("region", &self.region)
            .field("api_key", &"<redacted>")
            .field("auth_key", &self.auth_key.as_ref().map(|_| "<redacted>"))
            .field("strict", &self.strict)
            .field("rate_limit_per_minute", &self.rate_limit_per_minute)
            .field("journal_capacity", &self.journal_capacity)
            .finish()
    }
}

impl Settings {
    /// The scope of `given`, if it is one of the fake's keys.
    pub fn scope_of(&self, given: &str) -> Option<Scope> {
        if given == self.api_key {
            Some(Scope::FullAccess)
        } else if self.auth_key.as_deref() == Some(given) {
            Some(Scope::AuthOnly)
        } else {
            None
        }
    }
}

/// Everything that changes while the fake runs.
#[derive(Debug)]
pub(crate) struct Mutable {
    pub store: Store,
    pub journal: Journal,
    pub faults: FaultScripts,
    pub window: Window,
}

impl Mutable {
    /// The state of a fake just started (or reset): the journal watches the fake's own keys.
    fn new(settings: &Settings) -> Self {
        let keys = std::iter::once(settings.api_key.as_str()).chain(settings.auth_key.as_deref());
        Self {
            store: Store::default(),
            journal: Journal::new(settings.journal_capacity, keys),
            faults: FaultScripts::default(),
            window: Window::new(settings.rate_limit_per_minute),
        }
    }
}

/// The state shared by every connection and handle of one fake.
#[derive(Debug)]
pub(crate) struct Shared {
    pub settings: Settings,
    pub started: Instant,
    state: Mutex<Mutable>,
}

impl Shared {
    pub fn new(settings: Settings) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(Mutable::new(&settings)),
            settings,
            started: Instant::now(),
        })
    }

    /// The state; a panic in another thread while it was held does not make it unusable.
    pub fn lock(&self) -> MutexGuard<'_, Mutable> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets users, tokens, the journal, fault scripts and the rate-limit window.
    pub fn reset(&self) {
        *self.lock() = Mutable::new(&self.settings);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_key() {
        let settings = Settings {
            app_id: "app".into(),
            region: "us".into(),
            api_key: "REST-KEY-1234567890".into(),
            auth_key: Some("AUTH-KEY-0987654321".into()),
            strict: false,
            rate_limit_per_minute: None,
            journal_capacity: 1,
        };
        let shared = Shared::new(settings);
        let shown = format!("{:?} {:?}", shared, shared.lock());
        assert!(
            shown.contains("app") && shown.contains("<redacted>"),
            "{shown}"
        );
        assert!(
            !shown.contains("REST-KEY") && !shown.contains("AUTH-KEY"),
            "{shown}"
        );
    }
}
