//! How the endpoint learns who is calling: the gate's own [`Identity`](cometgate::Identity)
//! ([`ByIdentity`]), or an actix extractor the app already has ([`ByExtractor`] plus
//! [`IntoPrincipal`]).

use std::any::type_name;
use std::future::Future;
use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::header::WWW_AUTHENTICATE;
use actix_web::web::ReqData;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use cometgate::vend::{Gate, Problem, adapter};
use cometgate::{Identity, Principal, Rejection};

use crate::{ActixView, response};

/// Turns the value an actix extractor produced into the [`Principal`] a token is minted for.
///
/// Implement it for the app's verified-claims or user type, then hand the extractor to
/// [`TokenEndpoint::from_extractor`](crate::TokenEndpoint::from_extractor). For types your crate
/// does not own (`actix_identity::Identity`), use
/// [`TokenEndpoint::from_extractor_fn`](crate::TokenEndpoint::from_extractor_fn) instead.
///
/// ```
/// use cometgate::{Principal, Rejection};
/// use cometgate_actix::IntoPrincipal;
///
/// /// What the app's auth middleware puts into the request extensions.
/// #[derive(Clone)]
/// struct Claims { sub: String, name: Option<String>, banned: bool }
///
/// impl IntoPrincipal for Claims {
///     fn into_principal(self) -> Result<Principal, Rejection> {
///         if self.banned {
///             return Err(Rejection::refused("account banned"));
///         }
///         let principal = Principal::new("https://myapp.example", self.sub);
///         Ok(match self.name {
///             Some(name) => principal.with_name(name),
///             None => principal,
///         })
///     }
/// }
///
/// let claims = Claims { sub: "42".into(), name: Some("Ada".into()), banned: false };
/// assert_eq!(claims.into_principal().unwrap().subject(), "42");
/// ```
pub trait IntoPrincipal {
    /// The principal this value proves, or why it proves none.
    fn into_principal(self) -> Result<Principal, Rejection>;
}

impl IntoPrincipal for Principal {
    fn into_principal(self) -> Result<Principal, Rejection> {
        Ok(self)
    }
}

/// A user that may be absent (an optional-claims extractor): `None` is [`Rejection::Missing`].
impl<T: IntoPrincipal> IntoPrincipal for Option<T> {
    fn into_principal(self) -> Result<Principal, Rejection> {
        self.ok_or(Rejection::Missing)?.into_principal()
    }
}

/// actix's `ReqData<T>` extractor: the value an upstream middleware inserted into the request
/// extensions. When it is absent, actix answers 500, which the endpoint reports as a missing
/// middleware (see [`ByExtractor`]).
impl<T: IntoPrincipal + Clone + 'static> IntoPrincipal for ReqData<T> {
    fn into_principal(self) -> Result<Principal, Rejection> {
        self.into_inner().into_principal()
    }
}

/// How a [`TokenEndpoint`](crate::TokenEndpoint) identifies the caller. Implemented by
/// [`ByIdentity`] and [`ByExtractor`]; you choose one through the endpoint's constructors and
/// rarely name it except in type aliases.
///
/// actix-web serves each connection on one thread, so the future need not be `Send`.
pub trait Authenticate<I: Identity>: Send + Sync + 'static {
    /// Identifies the caller from the request head and lets `gate` answer.
    fn answer<'a>(
        &'a self,
        gate: &'a Gate<I>,
        request: &'a HttpRequest,
        request_id: &'a str,
    ) -> impl Future<Output = HttpResponse> + 'a;
}

/// Identify the caller with the gate's own [`Identity`](cometgate::Identity), reading the
/// request through an [`ActixView`]. The default of
/// [`TokenEndpoint::new`](crate::TokenEndpoint::new).
///
/// An identity that reads an extension set by the app's auth middleware cannot tell "that
/// middleware is missing" from "nobody is signed in": both look like [`Rejection::Missing`]. For
/// that case prefer [`ByExtractor`] with actix's `ReqData<T>`, which reports a missing
/// middleware by name.
#[derive(Debug, Clone, Copy, Default)]
pub struct ByIdentity;

impl<I: Identity> Authenticate<I> for ByIdentity {
    fn answer<'a>(
        &'a self,
        gate: &'a Gate<I>,
        request: &'a HttpRequest,
        request_id: &'a str,
    ) -> impl Future<Output = HttpResponse> + 'a {
        // `!Send` request: read the credentials synchronously, then await a `Send` future.
        let credentials = gate.extract(&ActixView::new(request));
        async move {
            let answer = gate.answer_credentials(credentials, request_id).await;
            response::from_answer(&answer)
        }
    }
}

/// Identify the caller with the app's own actix extractor `E` (any [`FromRequest`], e.g.
/// `ReqData<Claims>`, `actix_identity::Identity`, a verified-claims extractor), converted by
/// `F` ([`IntoPrincipal`] by default, or a closure). Built by
/// [`TokenEndpoint::from_extractor`](crate::TokenEndpoint::from_extractor) and
/// [`TokenEndpoint::from_extractor_fn`](crate::TokenEndpoint::from_extractor_fn).
///
/// The extractor never sees the request body (it gets an empty payload): identity comes from
/// credentials only. Its errors are mapped by the status of their response:
///
/// | extractor error | answer |
/// |---|---|
/// | 401 whose `WWW-Authenticate` has an `error=` parameter, or any other 4xx | 401 invalid credentials |
/// | 401 without `error=`, or a redirect | 401 missing credentials |
/// | 403 | 403 refused |
/// | 5xx | 500 `misconfigured` ([`ProblemType::Misconfigured`](cometgate::ProblemType::Misconfigured)): the middleware that provides the extractor is missing or misplaced (see below) |
///
/// # Where the app's auth middleware goes
///
/// In actix-web, `.wrap(a).wrap(b)` runs `b` **first**: a middleware wrapped later is the outer
/// one. An auth middleware that inserts a session or verified claims into the request
/// extensions must therefore be wrapped **after** the token endpoint:
///
/// ```text
/// App::new()
///     .route("/todos", web::get().to(todos))
///     .wrap(TokenEndpoint::from_extractor::<ReqData<User>>(gate))  // runs second
///     .wrap(auth_middleware)                                       // runs first
/// ```
///
/// (With the [`configure`](crate::TokenEndpoint::configure) form the route runs inside every
/// `.wrap`, so any order works.) If the extractor fails with a server error (`ReqData<T>` when
/// `T` is absent, `actix_identity::Identity` without `IdentityMiddleware`, ...), the endpoint
/// answers `500` with the problem type `misconfigured` and logs a `tracing` error that names
/// the extractor type and repeats this rule. Debug builds also put the explanation in the
/// problem's `detail`; release builds keep it in the log only.
pub struct ByExtractor<E, F = IntoPrincipalFn<E>> {
    convert: F,
    extractor: PhantomData<fn() -> E>,
}

/// The conversion [`TokenEndpoint::from_extractor`](crate::TokenEndpoint::from_extractor) uses:
/// [`IntoPrincipal::into_principal`].
pub type IntoPrincipalFn<E> = fn(E) -> Result<Principal, Rejection>;

impl<E, F> ByExtractor<E, F> {
    pub(crate) fn new(convert: F) -> Self {
        Self {
            convert,
            extractor: PhantomData,
        }
    }
}

impl<E, F: Clone> Clone for ByExtractor<E, F> {
    fn clone(&self) -> Self {
        Self::new(self.convert.clone())
    }
}

impl<E, F> std::fmt::Debug for ByExtractor<E, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByExtractor")
            .field("extractor", &type_name::<E>())
            .finish_non_exhaustive()
    }
}

impl<I, E, F> Authenticate<I> for ByExtractor<E, F>
where
    I: Identity,
    E: FromRequest + 'static,
    F: Fn(E) -> Result<Principal, Rejection> + Send + Sync + 'static,
{
    async fn answer(
        &self,
        gate: &Gate<I>,
        request: &HttpRequest,
        request_id: &str,
    ) -> HttpResponse {
        // An empty payload: the body is never a source of identity.
        let extracted = E::from_request(request, &mut Payload::None).await;
        let answer = match extracted {
            Ok(value) => match (self.convert)(value) {
                Ok(principal) => gate.answer_principal(principal, request_id).await,
                Err(rejection) => gate.answer_rejection(rejection, request_id),
            },
            Err(error) => {
                let error: actix_web::Error = error.into();
                match classify::<E>(&error) {
                    Some(rejection) => gate.answer_rejection(rejection, request_id),
                    None => return misconfigured::<E, I>(gate, &error, request_id),
                }
            }
        };
        response::from_answer(&answer)
    }
}

/// The core rejection an extractor's error stands for, or `None` when it is a server error
/// (the extractor's own middleware is missing or misconfigured). Same rule as the axum adapter:
/// [`adapter::rejection_for_status`].
fn classify<E>(error: &actix_web::Error) -> Option<Rejection> {
    let response = error.error_response();
    let challenge_has_error = response
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .any(|v| adapter::challenge_has_error(v.as_bytes()));
    adapter::rejection_for_status(
        response.status().as_u16(),
        challenge_has_error,
        type_name::<E>(),
    )
}

/// How much of an extractor's error message is quoted in the log.
const QUOTED_ERROR_CHARS: usize = 512;

/// The 500 answer for an extractor that failed with a server error, and the log line that says
/// which middleware is missing and where it goes.
fn misconfigured<E, I: Identity>(
    gate: &Gate<I>,
    error: &actix_web::Error,
    request_id: &str,
) -> HttpResponse {
    let status = error.as_response_error().status_code();
    let message: String = error.to_string().chars().take(QUOTED_ERROR_CHARS).collect();
    let extractor = type_name::<E>();
    let explanation = format!(
        "the token endpoint identifies callers with the extractor `{extractor}`, which failed \
         with {status}: \"{message}\". This usually means the middleware that provides it (e.g. \
         the auth/session middleware that inserts `{extractor}` or its data into the request \
         extensions) is missing, or was wrapped before the token middleware. In actix-web, a \
         middleware wrapped later runs first, so wrap it after: \
         `.wrap(TokenEndpoint::...).wrap(your_auth_middleware)`."
    );
    tracing::error!(
        request_id,
        extractor,
        rejection_status = status.as_u16(),
        "cometgate token endpoint is misconfigured: {explanation}"
    );
    // The gate logs the request's one event and attaches the request id.
    let answer = gate.answer_problem(Problem::misconfigured(), request_id);
    match answer.problem() {
        // Debug builds show the developer what to fix; release builds keep the core's fixed,
        // client-safe detail (the explanation names internal types).
        Some(problem) if cfg!(debug_assertions) => {
            response::from_problem_with_detail(problem, &explanation)
        }
        _ => response::from_answer(&answer),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::error::{ErrorBadRequest, ErrorForbidden, ErrorInternalServerError};
    use actix_web::http::StatusCode;
    use actix_web::{HttpResponse, ResponseError};

    use super::*;

    #[derive(Debug)]
    struct Challenge(StatusCode, Option<&'static str>);

    impl std::fmt::Display for Challenge {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "challenge {}", self.0)
        }
    }

    impl ResponseError for Challenge {
        fn status_code(&self) -> StatusCode {
            self.0
        }
        fn error_response(&self) -> HttpResponse {
            let mut response = HttpResponse::new(self.0);
            if let Some(challenge) = self.1 {
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    actix_web::http::header::HeaderValue::from_static(challenge),
                );
            }
            response
        }
    }

    #[test]
    fn errors_are_classified_by_status() {
        let c = |s, h| classify::<()>(&Challenge(s, h).into());
        assert_eq!(c(StatusCode::UNAUTHORIZED, None), Some(Rejection::Missing));
        assert_eq!(
            c(StatusCode::UNAUTHORIZED, Some("Bearer realm=\"x\"")),
            Some(Rejection::Missing)
        );
        assert!(matches!(
            c(
                StatusCode::UNAUTHORIZED,
                Some("Bearer error=\"invalid_token\"")
            ),
            Some(Rejection::Invalid { .. })
        ));
        assert_eq!(c(StatusCode::SEE_OTHER, None), Some(Rejection::Missing));
        assert!(matches!(
            classify::<()>(&ErrorForbidden("no")),
            Some(Rejection::Refused { .. })
        ));
        assert!(matches!(
            classify::<()>(&ErrorBadRequest("bad")),
            Some(Rejection::Invalid { .. })
        ));
        assert_eq!(classify::<()>(&ErrorInternalServerError("gone")), None);
        assert_eq!(c(StatusCode::BAD_GATEWAY, None), None);
    }

    #[test]
    fn optional_values_convert() {
        let none: Option<Principal> = None;
        assert_eq!(none.into_principal(), Err(Rejection::Missing));
        let some = Some(Principal::new("iss", "bob"));
        assert_eq!(some.into_principal().unwrap().subject(), "bob");
    }
}
