//! Metrics: every name and label value cometgate emits, declared once.
//!
//! With the crate's `metrics` feature, cometgate records through the
//! [`metrics`](https://docs.rs/metrics) facade and the application chooses the exporter (the
//! quickstarts install `metrics-exporter-prometheus`); without it every recording function here
//! is a no-op the compiler removes.
//!
//! The names and label values below are a stable contract (dashboards and alerts are built on
//! them). Every label has a small fixed set of values, listed by the `ALL` constants: no UID,
//! subject, device id, token or key ever appears in a label or a value.
//!
//! | Metric | Kind | Labels |
//! |---|---|---|
//! | [`REQUESTS_TOTAL`] | counter | `route` ([`RouteLabel`]), `outcome` ([`REQUEST_OUTCOMES`]) |
//! | [`REQUEST_DURATION_SECONDS`] | histogram | `route` |
//! | [`UPSTREAM_REQUESTS_TOTAL`] | counter | `operation` ([`Operation`]), `status` (`"200"`, `"404"`, …, or `"error"`) |
//! | [`UPSTREAM_DURATION_SECONDS`] | histogram | `operation` |
//! | [`TOKENS_TOTAL`] | counter | `event` ([`TokenEvent`]) |
//! | [`RATE_LIMITED_TOTAL`] | counter | `scope` ([`LimitScope`]) |
//! | [`COMETCHAT_RATE_LIMIT_REMAINING`] | gauge | `scope` ([`HeadroomScope`]) |
//! | [`STORE_ERRORS_TOTAL`] | counter | `backend` ([`StoreBackend`]) |
//! | [`WEBHOOKS_TOTAL`] | counter | `source` ([`Source`](crate::webhook::Source)), `outcome` ([`WEBHOOK_OUTCOMES`]) |
//!
//! ```
//! use cometgate::telemetry::{TOKENS_TOTAL, TokenEvent};
//!
//! assert_eq!(TOKENS_TOTAL, "cometgate_tokens_total");
//! let events: Vec<&str> = TokenEvent::ALL.iter().map(|e| e.as_str()).collect();
//! assert_eq!(events, ["minted", "reused", "evicted", "expired", "revoked"]);
//! ```

use std::time::Duration;

pub use crate::store::StoreBackend;
use crate::vend::ProblemType;

/// Requests answered by the endpoint, by route and outcome (counter).
pub const REQUESTS_TOTAL: &str = "cometgate_requests_total";
/// How long the endpoint took to answer, from the request's head to its answer, in seconds
/// (histogram).
pub const REQUEST_DURATION_SECONDS: &str = "cometgate_request_duration_seconds";
/// Calls to CometChat's REST API, by operation and status (counter). A call is counted once
/// with the status of its last attempt (the client's retries are inside it); a call the client
/// refused without a request (inside CometChat's `429` window) is not a call.
pub const UPSTREAM_REQUESTS_TOTAL: &str = "cometgate_upstream_requests_total";
/// How long a call to CometChat took, retries included, in seconds (histogram).
pub const UPSTREAM_DURATION_SECONDS: &str = "cometgate_upstream_duration_seconds";
/// Token lifecycle events, each token counted once (counter): a refresh is one `minted` and
/// one `revoked` (its old token).
pub const TOKENS_TOTAL: &str = "cometgate_tokens_total";
/// Refusals by a rate limit (counter): this server's per-user limits, its upstream budget, and
/// CometChat's own `429` answers.
pub const RATE_LIMITED_TOTAL: &str = "cometgate_rate_limited_total";
/// CometChat's rate-limit headroom as its last answer's headers said (gauge).
pub const COMETCHAT_RATE_LIMIT_REMAINING: &str = "cometgate_cometchat_rate_limit_remaining";
/// Token store operations that failed (counter).
pub const STORE_ERRORS_TOTAL: &str = "cometgate_store_errors_total";
/// Webhook deliveries answered, by source and outcome (counter).
pub const WEBHOOKS_TOTAL: &str = "cometgate_webhooks_total";

/// Every metric name, for tests and dashboards.
pub const ALL_METRICS: &[&str] = &[
    REQUESTS_TOTAL,
    REQUEST_DURATION_SECONDS,
    UPSTREAM_REQUESTS_TOTAL,
    UPSTREAM_DURATION_SECONDS,
    TOKENS_TOTAL,
    RATE_LIMITED_TOTAL,
    COMETCHAT_RATE_LIMIT_REMAINING,
    STORE_ERRORS_TOTAL,
    WEBHOOKS_TOTAL,
];

/// The `outcome` of a request that succeeded (besides these, a refused or failed request's
/// outcome is its problem type's slug, e.g. `rate-limited`; see [`REQUEST_OUTCOMES`]).
pub const SUCCESS_OUTCOMES: &[&str] = &["minted", "reused", "refreshed", "revoked", "ok"];

/// Every value of [`REQUESTS_TOTAL`]'s `outcome`: the [`SUCCESS_OUTCOMES`], then every
/// [`ProblemType`] slug.
///
/// ```
/// use cometgate::telemetry::REQUEST_OUTCOMES;
/// assert!(REQUEST_OUTCOMES.contains(&"minted"));
/// assert!(REQUEST_OUTCOMES.contains(&"upstream-budget-exhausted"));
/// ```
pub const REQUEST_OUTCOMES: &[&str] =
    &then_problem_slugs::<{ SUCCESS_OUTCOMES.len() + ProblemType::ALL.len() }>(SUCCESS_OUTCOMES);

/// `successes` followed by every [`ProblemType`] slug (`N` is the sum of their lengths).
const fn then_problem_slugs<const N: usize>(successes: &[&'static str]) -> [&'static str; N] {
    let mut all = [""; N];
    let mut i = 0;
    while i < successes.len() {
        all[i] = successes[i];
        i += 1;
    }
    let mut j = 0;
    while j < ProblemType::ALL.len() {
        all[i + j] = ProblemType::ALL[j].slug();
        j += 1;
    }
    all
}

/// The `outcome` of a webhook delivery that succeeded: `applied` (CometChat changed),
/// `ignored` (older than what is known, or a type cometgate does not act on), `duplicate` (a
/// delivery id already completed). A refused or failed delivery's outcome is its problem
/// type's slug (`invalid-signature`, `bad-request`, `upstream-unavailable`, ...).
pub const WEBHOOK_SUCCESS_OUTCOMES: &[&str] = &["applied", "ignored", "duplicate"];

/// Every value of [`WEBHOOKS_TOTAL`]'s `outcome`: the [`WEBHOOK_SUCCESS_OUTCOMES`], then every
/// [`ProblemType`] slug.
pub const WEBHOOK_OUTCOMES: &[&str] = &then_problem_slugs::<
    { WEBHOOK_SUCCESS_OUTCOMES.len() + ProblemType::ALL.len() },
>(WEBHOOK_SUCCESS_OUTCOMES);

/// The value of the upstream `status` label for a call that got no HTTP answer (connection
/// refused, reset, timed out).
pub const STATUS_ERROR: &str = "error";

/// Declares a label's enum: its variants, their label values and the `ALL` list.
macro_rules! label_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $value:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* #[doc = concat!("`", $value, "`")] $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];

            /// The label value.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $value,)* }
            }
        }
    };
}

label_enum! {
    /// The `route` label: which route of the endpoint answered.
    RouteLabel {
        /// The token route.
        Token => "token",
        /// The revoke route.
        Revoke => "revoke",
        /// A webhook route (the source is [`WEBHOOKS_TOTAL`]'s label).
        Webhook => "webhook",
    }
}

label_enum! {
    /// The `operation` label: which CometChat call.
    Operation {
        /// `POST /users/{uid}/auth_tokens`.
        MintToken => "mint_token",
        /// `POST /users` (just-in-time provisioning).
        CreateUser => "create_user",
        /// `GET /users/{uid}/auth_tokens/{token}` (the recheck).
        ConfirmToken => "confirm_token",
        /// `DELETE /users/{uid}/auth_tokens/{token}`.
        DeleteToken => "delete_token",
        /// `DELETE /users/{uid}/auth_tokens` (logout everywhere).
        FlushTokens => "flush_tokens",
        /// `PUT /users/{uid}` (a user event's profile).
        UpdateUser => "update_user",
        /// `DELETE /users/{uid}` (an account deletion).
        DeleteUser => "delete_user",
        /// `PUT /users` with `uidsToActivate` (a user event for a deactivated user).
        ReactivateUser => "reactivate_user",
    }
}

label_enum! {
    /// The `event` label of [`TOKENS_TOTAL`].
    TokenEvent {
        /// A new token from CometChat (once per mint, however many requests waited for it).
        Minted => "minted",
        /// A stored token handed out again (once per answer).
        Reused => "reused",
        /// A token deleted because its user went over the cap of devices, or the store over its
        /// capacity.
        Evicted => "evicted",
        /// A token deleted because it reached its max age.
        Expired => "expired",
        /// A token deleted by a refresh (the old one), a logout, or a logout everywhere.
        Revoked => "revoked",
    }
}

label_enum! {
    /// The `scope` label of [`RATE_LIMITED_TOTAL`]: which limit refused.
    LimitScope {
        /// A per-user limit of this server (the token route's, or the revoke route's).
        User => "user",
        /// This server's budget of CometChat calls.
        Budget => "budget",
        /// CometChat itself answered `429`.
        Cometchat => "cometchat",
    }
}

label_enum! {
    /// The `scope` label of [`COMETCHAT_RATE_LIMIT_REMAINING`]: which of CometChat's headers.
    HeadroomScope {
        /// `X-RateLimit-Remaining`: the calls left in this minute for the key.
        User => "user",
        /// `X-RateLimit-Remaining-For-App`: the calls left in this minute for the whole app.
        App => "app",
    }
}

impl TokenEvent {
    /// The event a retired token's delete stands for: a replaced (refreshed) or revoked token
    /// is `revoked`, an evicted or forgotten one `evicted`, an expired one `expired`.
    pub(crate) fn of_retired(reason: crate::store::RetireReason) -> Self {
        use crate::store::RetireReason;
        match reason {
            RetireReason::Evicted | RetireReason::Forgotten => Self::Evicted,
            RetireReason::Expired => Self::Expired,
            RetireReason::Replaced | RetireReason::Revoked => Self::Revoked,
        }
    }
}

/// The `status` label for a CometChat call: the HTTP status code, or [`STATUS_ERROR`] when
/// none came (or it is not a valid HTTP status code).
///
/// ```
/// use cometgate::telemetry::status_label;
/// assert_eq!(status_label(Some(503)), "503");
/// assert_eq!(status_label(None), "error");
/// assert_eq!(status_label(Some(7)), "error");
/// ```
pub fn status_label(status: Option<u16>) -> String {
    match status {
        Some(code @ 100..=599) => code.to_string(),
        _ => STATUS_ERROR.to_owned(),
    }
}

/// The `outcome` of a request: its problem type's slug, else its lifecycle event.
pub(crate) fn request_outcome(
    problem: Option<ProblemType>,
    event: Option<&'static str>,
) -> &'static str {
    match problem {
        Some(kind) => kind.slug(),
        None => event
            .filter(|e| SUCCESS_OUTCOMES.contains(e))
            .unwrap_or("ok"),
    }
}

#[cfg(feature = "metrics")]
mod record {
    use std::sync::OnceLock;

    use metrics::{Key, Label, Level, Metadata};

    use super::*;

    /// What the facade's macros say of a call site here (`target`, level, module).
    static METADATA: Metadata<'static> =
        Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

    /// The token route's series, recorded on every request, built once per process. The
    /// macros, given labels that are not literals, allocate and hash a key on every call and
    /// the recorder copies it once more; a key over `'static` labels is hashed once, never
    /// copied. Same names, labels and label order, so the same series.
    struct HotKeys {
        /// [`REQUESTS_TOTAL`] by route, then outcome in [`REQUEST_OUTCOMES`]' order.
        requests: Vec<Key>,
        /// [`REQUEST_DURATION_SECONDS`] by route.
        durations: Vec<Key>,
        /// [`TOKENS_TOTAL`] by event.
        tokens: Vec<Key>,
    }

    fn hot_keys() -> &'static HotKeys {
        static KEYS: OnceLock<HotKeys> = OnceLock::new();
        KEYS.get_or_init(|| {
            // Leaked once: a few dozen label pairs, kept for the life of the process.
            let key = |name: &'static str, labels: Vec<Label>| {
                Key::from_static_labels(name, labels.leak())
            };
            let route = |route: &RouteLabel| Label::from_static_parts("route", route.as_str());
            HotKeys {
                requests: RouteLabel::ALL
                    .iter()
                    .flat_map(|r| {
                        REQUEST_OUTCOMES.iter().map(move |outcome| {
                            key(
                                REQUESTS_TOTAL,
                                vec![route(r), Label::from_static_parts("outcome", outcome)],
                            )
                        })
                    })
                    .collect(),
                durations: RouteLabel::ALL
                    .iter()
                    .map(|r| key(REQUEST_DURATION_SECONDS, vec![route(r)]))
                    .collect(),
                tokens: TokenEvent::ALL
                    .iter()
                    .map(|e| {
                        key(
                            TOKENS_TOTAL,
                            vec![Label::from_static_parts("event", e.as_str())],
                        )
                    })
                    .collect(),
            }
        })
    }

    pub(crate) fn webhook(source: crate::webhook::Source, outcome: &'static str) {
        metrics::counter!(WEBHOOKS_TOTAL, "source" => source.as_str(), "outcome" => outcome)
            .increment(1);
    }

    pub(crate) fn request(route: RouteLabel, outcome: &'static str, elapsed: Duration) {
        let keys = hot_keys();
        // A label enum's variant is its place in `ALL` (`label_enum!` lists them in order).
        let requests = REQUEST_OUTCOMES
            .iter()
            .position(|o| *o == outcome)
            .and_then(|o| {
                keys.requests
                    .get(route as usize * REQUEST_OUTCOMES.len() + o)
            });
        match requests {
            Some(key) => metrics::with_recorder(|r| r.register_counter(key, &METADATA)),
            // Not an outcome of the contract (a bug elsewhere): recorded all the same.
            None => {
                metrics::counter!(REQUESTS_TOTAL, "route" => route.as_str(), "outcome" => outcome)
            }
        }
        .increment(1);
        metrics::with_recorder(|r| {
            r.register_histogram(&keys.durations[route as usize], &METADATA)
        })
        .record(elapsed.as_secs_f64());
    }

    pub(crate) fn upstream(operation: Operation, status: Option<u16>, elapsed: Duration) {
        metrics::counter!(
            UPSTREAM_REQUESTS_TOTAL,
            "operation" => operation.as_str(),
            "status" => status_label(status)
        )
        .increment(1);
        metrics::histogram!(UPSTREAM_DURATION_SECONDS, "operation" => operation.as_str())
            .record(elapsed.as_secs_f64());
    }

    pub(crate) fn tokens(event: TokenEvent, count: u64) {
        if count > 0 {
            let key = &hot_keys().tokens[event as usize];
            metrics::with_recorder(|r| r.register_counter(key, &METADATA)).increment(count);
        }
    }

    pub(crate) fn rate_limited(scope: LimitScope) {
        metrics::counter!(RATE_LIMITED_TOTAL, "scope" => scope.as_str()).increment(1);
    }

    pub(crate) fn headroom(scope: HeadroomScope, remaining: u64) {
        // Precision loss above 2^53 calls a minute is of no concern.
        #[allow(clippy::cast_precision_loss)]
        let remaining = remaining as f64;
        metrics::gauge!(COMETCHAT_RATE_LIMIT_REMAINING, "scope" => scope.as_str()).set(remaining);
    }

    pub(crate) fn store_error(backend: StoreBackend) {
        metrics::counter!(STORE_ERRORS_TOTAL, "backend" => backend.as_str()).increment(1);
    }

    pub(crate) fn describe() {
        use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
        describe_counter!(
            REQUESTS_TOTAL,
            "Requests answered by the endpoint, by route and outcome."
        );
        describe_histogram!(
            REQUEST_DURATION_SECONDS,
            Unit::Seconds,
            "Time from a request's head to its answer."
        );
        describe_counter!(
            UPSTREAM_REQUESTS_TOTAL,
            "Calls to CometChat, by operation and status."
        );
        describe_histogram!(
            UPSTREAM_DURATION_SECONDS,
            Unit::Seconds,
            "Time a call to CometChat took, retries included."
        );
        describe_counter!(
            TOKENS_TOTAL,
            "Token lifecycle events, each token counted once."
        );
        describe_counter!(RATE_LIMITED_TOTAL, "Refusals by a rate limit, by scope.");
        describe_gauge!(
            COMETCHAT_RATE_LIMIT_REMAINING,
            "CometChat's rate-limit headroom from its last answer's headers."
        );
        describe_counter!(STORE_ERRORS_TOTAL, "Token store operations that failed.");
        describe_counter!(
            WEBHOOKS_TOTAL,
            "Webhook deliveries answered, by source and outcome."
        );
        // Errors are rare: start their series at 0, so that a rate or an alert on them has one.
        for backend in StoreBackend::ALL {
            metrics::counter!(STORE_ERRORS_TOTAL, "backend" => backend.as_str()).increment(0);
        }
    }
}

#[cfg(not(feature = "metrics"))]
mod record {
    use super::*;

    pub(crate) fn request(_: RouteLabel, _: &'static str, _: Duration) {}
    pub(crate) fn webhook(_: crate::webhook::Source, _: &'static str) {}
    pub(crate) fn upstream(_: Operation, _: Option<u16>, _: Duration) {}
    pub(crate) fn tokens(_: TokenEvent, _: u64) {}
    pub(crate) fn rate_limited(_: LimitScope) {}
    pub(crate) fn headroom(_: HeadroomScope, _: u64) {}
    pub(crate) fn store_error(_: StoreBackend) {}
    pub(crate) fn describe() {}
}

pub(crate) use record::{headroom, rate_limited, request, store_error, tokens, upstream, webhook};

/// Registers every metric's description (and unit) with the installed recorder, so an
/// exporter can show them (Prometheus `# HELP`), and starts the store error counters at 0. Call it once after installing the recorder; a
/// no-op without the `metrics` feature.
///
/// ```
/// cometgate::telemetry::describe();
/// ```
pub fn describe() {
    record::describe();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_outcomes_are_the_success_events_and_every_problem_slug() {
        assert_eq!(
            REQUEST_OUTCOMES.len(),
            SUCCESS_OUTCOMES.len() + ProblemType::ALL.len()
        );
        for kind in ProblemType::ALL {
            assert!(REQUEST_OUTCOMES.contains(&kind.slug()), "{kind}");
            assert_eq!(request_outcome(Some(*kind), Some("minted")), kind.slug());
        }
        for event in SUCCESS_OUTCOMES {
            assert_eq!(request_outcome(None, Some(event)), *event);
        }
        assert_eq!(request_outcome(None, Some("not-an-outcome")), "ok");
        assert_eq!(request_outcome(None, None), "ok");
    }

    /// The contract, spelled out: a change to any label value fails here first.
    #[test]
    fn every_label_value_is_enumerated() {
        fn values<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
            all.iter().map(|v| name(*v)).collect()
        }
        assert_eq!(
            values(RouteLabel::ALL, RouteLabel::as_str),
            ["token", "revoke", "webhook"]
        );
        assert_eq!(
            values(Operation::ALL, Operation::as_str),
            [
                "mint_token",
                "create_user",
                "confirm_token",
                "delete_token",
                "flush_tokens",
                "update_user",
                "delete_user",
                "reactivate_user"
            ]
        );
        assert_eq!(
            values(TokenEvent::ALL, TokenEvent::as_str),
            ["minted", "reused", "evicted", "expired", "revoked"]
        );
        assert_eq!(
            values(LimitScope::ALL, LimitScope::as_str),
            ["user", "budget", "cometchat"]
        );
        assert_eq!(
            values(HeadroomScope::ALL, HeadroomScope::as_str),
            ["user", "app"]
        );
        assert_eq!(
            values(StoreBackend::ALL, StoreBackend::as_str),
            ["memory", "redis", "custom"]
        );
        assert_eq!(
            REQUEST_OUTCOMES,
            [
                "minted",
                "reused",
                "refreshed",
                "revoked",
                "ok",
                "bad-request",
                "missing-credentials",
                "invalid-credentials",
                "identity-refused",
                "account-deleted",
                "invalid-signature",
                "cross-site-request",
                "method-not-allowed",
                "request-timeout",
                "body-too-large",
                "rate-limited",
                "misconfigured",
                "upstream-failure",
                "upstream-rate-limited",
                "upstream-budget-exhausted",
                "upstream-unavailable",
                "store-unavailable",
                "mint-pending",
                "upstream-timeout",
            ]
        );
        assert_eq!(
            ALL_METRICS,
            [
                "cometgate_requests_total",
                "cometgate_request_duration_seconds",
                "cometgate_upstream_requests_total",
                "cometgate_upstream_duration_seconds",
                "cometgate_tokens_total",
                "cometgate_rate_limited_total",
                "cometgate_cometchat_rate_limit_remaining",
                "cometgate_store_errors_total",
                "cometgate_webhooks_total",
            ]
        );
        assert_eq!(
            &WEBHOOK_OUTCOMES[..4],
            ["applied", "ignored", "duplicate", "bad-request"]
        );
        assert_eq!(
            WEBHOOK_OUTCOMES.len(),
            WEBHOOK_SUCCESS_OUTCOMES.len() + ProblemType::ALL.len()
        );
    }

    /// The metrics' keys are looked up by `variant as usize`.
    #[test]
    fn a_label_variant_is_its_place_in_all() {
        for (i, route) in RouteLabel::ALL.iter().enumerate() {
            assert_eq!(*route as usize, i);
        }
        for (i, event) in TokenEvent::ALL.iter().enumerate() {
            assert_eq!(*event as usize, i);
        }
    }

    #[test]
    fn status_labels_are_codes_or_error() {
        for code in 0..=u16::MAX {
            let label = status_label(Some(code));
            if (100..=599).contains(&code) {
                assert_eq!(label, code.to_string());
            } else {
                assert_eq!(label, STATUS_ERROR);
            }
        }
        assert_eq!(status_label(None), STATUS_ERROR);
    }

    #[test]
    fn retired_tokens_count_under_their_event() {
        use crate::store::RetireReason::*;
        assert_eq!(TokenEvent::of_retired(Replaced), TokenEvent::Revoked);
        assert_eq!(TokenEvent::of_retired(Revoked), TokenEvent::Revoked);
        assert_eq!(TokenEvent::of_retired(Evicted), TokenEvent::Evicted);
        assert_eq!(TokenEvent::of_retired(Forgotten), TokenEvent::Evicted);
        assert_eq!(TokenEvent::of_retired(Expired), TokenEvent::Expired);
    }
}
