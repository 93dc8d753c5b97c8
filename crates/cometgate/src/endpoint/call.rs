//! [`Call`]: one request on a route of the endpoint, from its head to its [`Answer`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tracing::Level;

use crate::endpoint::answer::{Answer, Outcome};
use crate::endpoint::{Endpoint, Route, origin, request, rules};
use crate::identity::{Identity, Principal, Rejection, RequestView};
use crate::subject_hash;
use crate::telemetry;
use crate::vend::gate::VendRecord;
use crate::vend::{Problem, ProblemType, TokenResponse};
use crate::webhook::Source;
use crate::webhook::receiver::{self, DeliveryHead, DeliveryRecord};

type Verifying = Pin<Box<dyn Future<Output = Result<Principal, Rejection>> + Send>>;

/// How an adapter must read the body of a [`Call`]: at most `max_bytes`, within `timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Read at most this many bytes; one more is [`BodyRead::TooLarge`].
    pub max_bytes: usize,
    /// Stop waiting after this long: [`BodyRead::TimedOut`].
    pub timeout: Duration,
}

/// What came of reading the body under [`BodyLimits`], as the adapter tells [`Call::answer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRead {
    /// The whole body (empty when there was none).
    Complete(Bytes),
    /// More than `max_bytes` arrived (or were declared): 413.
    TooLarge,
    /// The body did not arrive within `timeout`: 408.
    TimedOut,
    /// The body stream failed (client aborted, malformed chunking): 400.
    Broken,
    /// Not read, because [`Call::body_limits`] was `None`.
    Skipped,
}

/// An app extractor's error answer, as an adapter reports it with [`Call::extractor_rejected`].
///
/// The core maps it by status (see [`rules::rejection_for_status`]); a server error means the
/// layer or middleware that feeds the extractor is missing or misplaced, which is answered `500
/// misconfigured` and explained in the log (and, in debug builds, in the problem's `detail`).
#[derive(Clone)]
pub struct ExtractorRejection {
    extractor: &'static str,
    status: u16,
    challenge_has_error: bool,
    excerpt: String,
    order_hint: &'static str,
}

impl fmt::Debug for ExtractorRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtractorRejection")
            .field("extractor", &self.extractor)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl ExtractorRejection {
    /// How much of the rejection's body is quoted in the log.
    pub const QUOTED_BODY_BYTES: usize = 512;

    /// The extractor type `extractor` (its `std::any::type_name`) answered `status`.
    pub fn new(extractor: &'static str, status: u16) -> Self {
        Self {
            extractor,
            status,
            challenge_has_error: false,
            excerpt: String::new(),
            order_hint: "",
        }
    }

    /// One `WWW-Authenticate` value of the rejection (call once per value).
    #[must_use]
    pub fn with_challenge(mut self, value: &[u8]) -> Self {
        self.challenge_has_error |= rules::challenge_has_error(value);
        self
    }

    /// The start of the rejection's body, quoted in the log (at most
    /// [`QUOTED_BODY_BYTES`](Self::QUOTED_BODY_BYTES), control characters escaped).
    #[must_use]
    pub fn with_body(mut self, body: &[u8]) -> Self {
        let body = &body[..body.len().min(Self::QUOTED_BODY_BYTES)];
        self.excerpt = String::from_utf8_lossy(body).escape_debug().to_string();
        self
    }

    /// The framework's rule for where the auth layer goes, appended to the explanation.
    #[must_use]
    pub fn with_order_hint(mut self, hint: &'static str) -> Self {
        self.order_hint = hint;
        self
    }

    fn explanation(&self) -> String {
        let Self {
            extractor,
            status,
            excerpt,
            order_hint,
            ..
        } = self;
        format!(
            "the token endpoint identifies callers with the extractor `{extractor}`, which failed \
             with {status}: \"{excerpt}\". This usually means the layer or middleware that \
             provides it (e.g. the auth/session layer that inserts `{extractor}` or its data into \
             the request extensions) is missing, or runs after the token endpoint. {order_hint}"
        )
    }
}

enum State {
    /// The answer is decided (an early problem); `detail` is for the log.
    Settled {
        problem: Problem,
        detail: Option<String>,
    },
    /// Waiting for [`Call::identify`] or [`Call::identified`].
    Unidentified,
    /// Credentials were found; verifying them is the first thing [`Call::answer`] awaits.
    Verifying(Verifying),
    /// The app's own extractor identified the caller.
    Identified(Principal),
    /// A webhook delivery: it authenticates with its body, so its headers wait for it.
    Delivery(DeliveryHead),
}

/// One request on a route of an [`Endpoint`], between its head and its [`Answer`]. Made by
/// [`Endpoint::route`]; the [module docs](crate::endpoint) list the steps.
pub struct Call<I> {
    endpoint: Endpoint<I>,
    route: Route,
    request_id: String,
    /// When the request's head arrived: the start of its duration metric.
    started: Instant,
    /// Not from the app's own site (or an allowed origin): ambient credentials (cookies) must
    /// be refused.
    cross_site: bool,
    state: State,
}

impl<I> fmt::Debug for Call<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("route", &self.route)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl<I> Call<I> {
    pub(crate) fn new<R: RequestView + ?Sized>(
        endpoint: Endpoint<I>,
        route: Route,
        head: &R,
    ) -> Self {
        let settings = &endpoint.settings;
        let request_id = rules::request_id(head.header(rules::REQUEST_ID_HEADER));
        let cross_site = !origin::is_same_site(head, &settings.allowed_origins);
        let limit = u64::try_from(settings.body_limit_of(route)).unwrap_or(u64::MAX);
        let declared = head
            .header_str("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        let state = if head.method() != route.allow() {
            settled(Problem::method_not_allowed_but(route.allow()))
        } else if declared.is_some_and(|len| len > limit) {
            settled(Problem::body_too_large(limit))
        } else if let Route::Webhook(source) = route {
            let delivery = DeliveryHead::capture(head);
            let checked = settings
                .webhooks
                .as_ref()
                .map_or(Ok(()), |w| w.precheck(source, &delivery));
            match checked {
                Ok(()) => State::Delivery(delivery),
                Err(refusal) => {
                    let (problem, reason) = *refusal;
                    State::Settled {
                        problem,
                        detail: Some(reason),
                    }
                }
            }
        } else {
            State::Unidentified
        };
        Self {
            endpoint,
            route,
            request_id,
            started: Instant::now(),
            cross_site,
            state,
        }
    }

    /// The request id: echoed in `x-request-id`, in the problem body and in the log event.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Whether the caller still has to be identified (the answer is not settled yet): an
    /// adapter with its own extractor runs it only then.
    pub fn needs_identity(&self) -> bool {
        matches!(self.state, State::Unidentified)
    }

    /// The verdict of the app's own extractor (after [`IntoPrincipal`-style conversion]).
    /// Ignored once the answer is settled. An extractor's credentials count as ambient
    /// (sessions, cookies): a cross-site request is refused.
    ///
    /// [`IntoPrincipal`-style conversion]: https://docs.rs/cometgate-axum/latest/cometgate_axum/trait.IntoPrincipal.html
    pub fn identified(&mut self, verdict: Result<Principal, Rejection>) {
        if !self.needs_identity() {
            return;
        }
        self.state = match verdict {
            Ok(_) if self.cross_site => settled(Problem::cross_site_request()),
            Ok(principal) => State::Identified(principal),
            Err(rejection) => self.rejected(&rejection),
        };
    }

    /// The app's extractor failed with an error answer: a 4xx is the caller's fault (401/403),
    /// a server error is a misconfiguration (500, explained in the log). Ignored once the
    /// answer is settled.
    pub fn extractor_rejected(&mut self, rejection: ExtractorRejection) {
        if !self.needs_identity() {
            return;
        }
        let mapped = rules::rejection_for_status(
            rejection.status,
            rejection.challenge_has_error,
            rejection.extractor,
        );
        self.state = match mapped {
            Some(rejection) => self.rejected(&rejection),
            None => {
                let explanation = rejection.explanation();
                tracing::error!(
                    target: "cometgate::vend",
                    request_id = self.request_id,
                    extractor = rejection.extractor,
                    rejection_status = rejection.status,
                    "cometgate token endpoint is misconfigured: {explanation}"
                );
                State::Settled {
                    problem: Problem::misconfigured(),
                    detail: Some(explanation),
                }
            }
        };
    }

    /// Verifies the credentials [`identify`](Self::identify) found (a no-op otherwise), so
    /// that the body is only read for a caller who proved who they are. The future is `Send`.
    pub async fn verify(&mut self) {
        let State::Verifying(verifying) = &mut self.state else {
            return;
        };
        self.state = match verifying.await {
            Ok(principal) => State::Identified(principal),
            Err(rejection) => self.rejected(&rejection),
        };
    }

    /// `Some`: the adapter must read the body under these limits and pass the result to
    /// [`answer`](Self::answer). `None`: the answer does not depend on the body (it is
    /// settled, or the caller is not verified yet: call [`verify`](Self::verify) first), so it
    /// must not be waited for.
    pub fn body_limits(&self) -> Option<BodyLimits> {
        match self.state {
            State::Identified(_) | State::Delivery(_) => Some(BodyLimits {
                max_bytes: self.endpoint.settings.body_limit_of(self.route),
                timeout: self.endpoint.settings.read_timeout,
            }),
            State::Settled { .. } | State::Unidentified | State::Verifying(_) => None,
        }
    }

    fn rejected(&self, rejection: &Rejection) -> State {
        let (problem, detail) = refusal(self.endpoint.gate.realm(), rejection);
        State::Settled { problem, detail }
    }
}

impl<I: Identity> Call<I> {
    /// Identifies the caller with the gate's own [`Identity`]: its synchronous
    /// [`extract`](Identity::extract) runs now, on the borrowed request head; verification
    /// runs in [`answer`](Self::answer). Ignored once the answer is settled.
    pub fn identify<R: RequestView + ?Sized>(&mut self, head: &R) {
        if !self.needs_identity() {
            return;
        }
        let identity = self.endpoint.gate.identity();
        self.state = match identity.extract(head) {
            Ok(_) if self.cross_site && identity.credentials_are_ambient() => {
                settled(Problem::cross_site_request())
            }
            Ok(credentials) => {
                let gate = self.endpoint.gate.clone();
                State::Verifying(Box::pin(async move {
                    gate.identity().verify(credentials).await
                }))
            }
            Err(rejection) => self.rejected(&rejection),
        };
    }
}

impl<I: Send + Sync + 'static> Call<I> {
    /// The answer, given what came of reading the body ([`BodyRead::Skipped`] when
    /// [`body_limits`](Self::body_limits) was `None`). The future is `Send` and `'static`, so a
    /// `!Send` framework can await it and a `Send` one can spawn it.
    pub fn answer(self, body: BodyRead) -> impl Future<Output = Answer> + Send + 'static {
        let Self {
            endpoint,
            route,
            request_id,
            started,
            state,
            ..
        } = self;
        async move {
            let limit = u64::try_from(endpoint.settings.body_limit_of(route)).unwrap_or(u64::MAX);
            let (bytes, body_problem) = match body {
                BodyRead::Complete(bytes) => (bytes, None),
                BodyRead::Skipped => (Bytes::new(), None),
                BodyRead::TooLarge => (Bytes::new(), Some(Problem::body_too_large(limit))),
                BodyRead::TimedOut => (Bytes::new(), Some(Problem::request_timeout())),
                BodyRead::Broken => (Bytes::new(), Some(Problem::bad_request())),
            };
            if let Route::Webhook(source) = route {
                // Boxed, like the revoke below: the token route is the hot one, and every
                // request's future is as large as its largest route's.
                let answer = Box::pin(deliver(
                    &endpoint,
                    source,
                    state,
                    bytes,
                    body_problem,
                    &request_id,
                ))
                .await;
                telemetry::request(
                    route.label(),
                    telemetry::request_outcome(answer.problem().map(Problem::problem_type), None),
                    started.elapsed(),
                );
                return answer;
            }
            let principal = match (state, body_problem) {
                (State::Settled { problem, detail }, _) => Err((problem, detail)),
                (State::Delivery(_), _) => Err((Problem::misconfigured(), None)),
                (State::Unidentified, _) => Err((
                    Problem::misconfigured(),
                    Some(
                        "the adapter did not identify the caller: it must call Call::identify, \
                         Call::identified or Call::extractor_rejected before Call::answer"
                            .to_owned(),
                    ),
                )),
                (_, Some(problem)) => Err((problem, None)),
                (State::Identified(principal), None) => Ok(principal),
                (State::Verifying(verifying), None) => match verifying.await {
                    Ok(principal) => Ok(principal),
                    Err(rejection) => Err(refusal(endpoint.gate.realm(), &rejection)),
                },
            };
            let (result, record) = match principal {
                Err((problem, detail)) => (
                    Err(problem),
                    VendRecord {
                        detail,
                        ..VendRecord::default()
                    },
                ),
                Ok(principal) => match route {
                    Route::Token => match request::token_request(&bytes) {
                        Ok(asked) => {
                            let (result, record) = endpoint.gate.vend(principal, asked).await;
                            (result.map(Success::Token), record)
                        }
                        Err(problem) => (Err(problem), VendRecord::default()),
                    },
                    Route::Webhook(_) => (Err(Problem::misconfigured()), VendRecord::default()),
                    Route::Revoke => match request::revoke_request(&bytes) {
                        Ok(what) => {
                            let (result, record) =
                                Box::pin(endpoint.gate.revoke_for(&principal, what, true)).await;
                            (result.map(|()| Success::Revoked), record)
                        }
                        Err(problem) => (Err(problem), VendRecord::default()),
                    },
                },
            };
            let answer = finish(&endpoint, &request_id, result, &record);
            let outcome = telemetry::request_outcome(
                answer.problem().map(Problem::problem_type),
                record.event,
            );
            telemetry::request(route.label(), outcome, started.elapsed());
            answer
        }
    }
}

fn settled(problem: Problem) -> State {
    State::Settled {
        problem,
        detail: None,
    }
}

/// The problem for a rejection, and its reason for the log (never for the client).
fn refusal(realm: &str, rejection: &Rejection) -> (Problem, Option<String>) {
    let detail = match rejection {
        Rejection::Missing => None,
        Rejection::Invalid { reason } | Rejection::Refused { reason } => Some(reason.clone()),
    };
    (Problem::from_rejection(rejection, realm), detail)
}

/// What a route answers when it succeeds.
enum Success {
    /// `200` with the token.
    Token(TokenResponse),
    /// `204`: the device (or every device) is logged out.
    Revoked,
    /// `204`: the webhook delivery is done (applied, or nothing to do).
    Delivered,
}

/// Renders the answer and emits the request's one log event.
fn finish<I>(
    endpoint: &Endpoint<I>,
    request_id: &str,
    result: Result<Success, Problem>,
    record: &VendRecord,
) -> Answer {
    let answer = render(endpoint, request_id, result, record.detail.as_ref());
    log(&answer, request_id, record);
    answer
}

/// One webhook delivery, from its head and body to its answer, with its log event and metric.
async fn deliver<I: Send + Sync + 'static>(
    endpoint: &Endpoint<I>,
    source: Source,
    state: State,
    body: Bytes,
    body_problem: Option<Problem>,
    request_id: &str,
) -> Answer {
    let (result, record) = match (state, body_problem) {
        (State::Settled { problem, detail }, _) => (
            Err(problem),
            DeliveryRecord {
                detail,
                ..DeliveryRecord::default()
            },
        ),
        (_, Some(problem)) => (Err(problem), DeliveryRecord::default()),
        (State::Delivery(head), None) => match &endpoint.settings.webhooks {
            Some(webhooks) => {
                receiver::receive(&endpoint.gate, webhooks, source, &head, &body).await
            }
            None => (Err(Problem::misconfigured()), DeliveryRecord::default()),
        },
        (_, None) => (Err(Problem::misconfigured()), DeliveryRecord::default()),
    };
    let answer = render(
        endpoint,
        request_id,
        result.map(|()| Success::Delivered),
        record.detail.as_ref(),
    );
    let outcome = match answer.problem() {
        Some(problem) => problem.problem_type().slug(),
        None => record.outcome.unwrap_or("applied"),
    };
    telemetry::webhook(source, outcome);
    log_delivery(&answer, source, outcome, request_id, &record);
    answer
}

/// The delivery's one log event (target `cometgate::webhook`): never the secret, the signature
/// or the payload.
fn log_delivery(
    answer: &Answer,
    source: Source,
    outcome: &str,
    request_id: &str,
    record: &DeliveryRecord,
) {
    let status = answer.status();
    let event_type = record.event_type.as_deref();
    let delivery_id = record.delivery_id.as_deref();
    let subject = record.subject.as_deref();
    let detail = record.detail.as_deref();
    macro_rules! emit {
        ($macro:ident) => {
            tracing::$macro!(
                target: "cometgate::webhook",
                request_id,
                source = source.as_str(),
                event_type,
                outcome,
                subject,
                delivery_id,
                status,
                detail,
                "webhook delivery {outcome}"
            )
        };
    }
    match status {
        s if s >= 500 && s != 503 => emit!(error),
        400.. => emit!(warn),
        _ => emit!(info),
    }
}

/// Renders the answer: request id, `Cache-Control`, problem base, debug-build detail.
fn render<I>(
    endpoint: &Endpoint<I>,
    request_id: &str,
    result: Result<Success, Problem>,
    detail: Option<&String>,
) -> Answer {
    let (status, mut headers, body, outcome) = match result {
        Ok(Success::Token(token)) => (
            200,
            token.headers(),
            Bytes::from(token.body()),
            Outcome::Token(token),
        ),
        Ok(Success::Revoked | Success::Delivered) => {
            (204, Vec::new(), Bytes::new(), Outcome::Revoked)
        }
        Err(problem) => {
            let mut problem = problem.with_request_id(request_id);
            // Debug builds show the developer what to fix; release builds keep the fixed,
            // client-safe detail (the explanation may name internal types).
            if let (true, ProblemType::Misconfigured, Some(detail)) =
                (cfg!(debug_assertions), problem.problem_type(), detail)
            {
                problem = problem.with_detail(detail.clone());
            }
            let body = Bytes::from(problem.body_in(&endpoint.settings.problem_base));
            (
                problem.status(),
                problem.headers(),
                body,
                Outcome::Problem(problem),
            )
        }
    };
    // A token answer, or an error standing in its place, must not be cached by anyone.
    headers.push(("cache-control", "no-store".to_owned()));
    headers.push((rules::REQUEST_ID_HEADER, request_id.to_owned()));
    Answer::new(status, headers, body, outcome)
}

fn log(answer: &Answer, request_id: &str, record: &VendRecord) {
    let status = answer.status();
    let (outcome, reason, level) = match answer.problem() {
        None => (record.event.unwrap_or("ok"), "ok", Level::INFO),
        Some(p) => {
            let level = match status {
                429 | 503 => Level::WARN,
                s if s >= 500 => Level::ERROR,
                _ => Level::INFO,
            };
            let outcome = if status >= 500 { "failed" } else { "refused" };
            (outcome, p.problem_type().slug(), level)
        }
    };
    // The event's fields cost allocations; build them only for a subscriber that wants them.
    let wanted = match level {
        Level::ERROR => tracing::enabled!(target: "cometgate::vend", Level::ERROR),
        Level::WARN => tracing::enabled!(target: "cometgate::vend", Level::WARN),
        _ => tracing::enabled!(target: "cometgate::vend", Level::INFO),
    };
    if !wanted {
        return;
    }
    let token = answer.token().map(|t| t.auth_token().fingerprint());
    let issuer = record.principal.as_ref().map(|(issuer, _)| issuer.as_str());
    let subject = record
        .principal
        .as_ref()
        .map(|(issuer, subject)| subject_hash::hash(issuer, subject));
    let trace = &record.trace;
    let latency_ms = u64::try_from(trace.upstream_latency.as_millis()).unwrap_or(u64::MAX);
    let detail = record.detail.as_deref();
    macro_rules! emit {
        ($macro:ident) => {
            tracing::$macro!(
                target: "cometgate::vend",
                request_id,
                outcome,
                reason,
                status,
                issuer,
                subject = subject.as_deref(),
                device = record.device.as_deref(),
                joined = record.joined,
                retired = record.retired,
                provisioned = trace.provisioned,
                upstream_status = trace.upstream_status,
                upstream_calls = trace.upstream_calls,
                upstream_latency_ms = latency_ms,
                token = token.as_deref(),
                detail,
                "chat token request {outcome}: {reason}"
            )
        };
    }
    match level {
        Level::ERROR => emit!(error),
        Level::WARN => emit!(warn),
        _ => emit!(info),
    }
}
