//! From a request to an answer: the control API aside, route once, then the configured rate
//! limit, the next scripted fault, the REST or client API, the headers of every answer, and the
//! journal.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};
use serde_json::Value;

use crate::control;
use crate::errors::ApiError;
use crate::faults::Fault;
use crate::journal::JournalEntry;
use crate::response::{Outcome, Reply, add_common_headers, header_pairs};
use crate::routes::{Route, strip_version};
use crate::state::Shared;
use crate::store::envelope;
use crate::{rest, sdk};

/// A request, read whole.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    /// `None` when the body was over the limit (or could not be read).
    pub body: Option<Bytes>,
}

impl Incoming {
    /// A header's value, if it is there and readable as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What an API call answers: `data` (and `meta` for lists), or CometChat's error.
pub(crate) type Answer = Result<(Value, Option<Value>), ApiError>;

/// The largest body worth reading for a request to `path`.
pub(crate) fn body_limit(path: &str) -> usize {
    if control::is_control_path(path) {
        control::MAX_CONTROL_BODY_BYTES
    } else {
        crate::validation::MAX_BODY_BYTES
    }
}

/// Answers one request.
pub(crate) async fn handle(shared: &Shared, req: Incoming) -> Outcome {
    if control::is_control_path(&req.path) {
        return Outcome::Respond(control::serve(shared, &req));
    }
    let at = shared.started.elapsed();
    let route = strip_version(&req.path).and_then(|rest| Route::parse(&req.method, rest));
    let preflight = req.method == Method::OPTIONS;
    let mut outcome = match route {
        _ if preflight => Outcome::Respond(Reply::no_content()),
        None => Outcome::Respond(Reply::error(&ApiError::api_not_found())),
        Some(route) => serve(shared, &req, route).await,
    };
    if let Outcome::Respond(reply) = &mut outcome {
        add_common_headers(&mut reply.headers);
        let core = route.is_some_and(|r| r.is_core());
        let usage = shared.lock().window.count(core);
        usage.write(&mut reply.headers);
    }
    let entry = journal_entry(&req, route, &outcome, at, preflight);
    shared.lock().journal.record(entry);
    outcome
}

/// A routed request: the configured rate limit first, then the next scripted fault, then the
/// API itself.
async fn serve(shared: &Shared, req: &Incoming, route: Route<'_>) -> Outcome {
    // The refused request is counted once, with the rate-limit headers, like any other.
    let exhausted = shared.lock().window.exhausted();
    if let Some(reset) = exhausted {
        return Outcome::Respond(Reply::error(&ApiError::too_many_requests(reset)));
    }
    let fault = shared.lock().faults.next(route.template());
    match fault {
        None => {}
        Some(Fault::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Some(Fault::Hang) => return Outcome::Hang,
        Some(Fault::Close) => return Outcome::Close,
        Some(Fault::Malformed) => {
            return Outcome::Respond(Reply::raw_json(200, "{\"data\": {\"uid\": "));
        }
        Some(Fault::Status {
            status,
            retry_after,
        }) => {
            let mut e = if status == 429 {
                ApiError::too_many_requests(retry_after.unwrap_or(1))
            } else {
                ApiError::server_error(status)
            };
            e.retry_after = retry_after;
            return Outcome::Respond(Reply::error(&e));
        }
    }
    let answer = match route {
        Route::Rest(route) => rest::serve(shared, route, req),
        Route::Sdk(route) => sdk::serve(shared, route, req),
    };
    Outcome::Respond(match answer {
        Ok((data, meta)) => Reply::json(200, &envelope(data, meta)),
        Err(e) => Reply::error(&e),
    })
}

fn journal_entry(
    req: &Incoming,
    route: Option<Route<'_>>,
    outcome: &Outcome,
    at: Duration,
    preflight: bool,
) -> JournalEntry {
    let (status, response_headers, response_body) = match outcome {
        Outcome::Respond(reply) => (
            Some(reply.status.as_u16()),
            header_pairs(&reply.headers),
            String::from_utf8_lossy(&reply.body).into_owned(),
        ),
        Outcome::Close | Outcome::Hang => (None, Vec::new(), String::new()),
    };
    JournalEntry {
        method: req.method.to_string(),
        path: req.path.clone(),
        query: req.query.clone(),
        route: route.map(|r| r.template().to_owned()),
        headers: header_pairs(&req.headers),
        body: req.body.as_ref().map_or_else(
            || "<too large>".to_owned(),
            |b| String::from_utf8_lossy(b).into_owned(),
        ),
        status,
        response_headers,
        response_body,
        at,
        unexpected: route.is_none() && !preflight,
    }
}
