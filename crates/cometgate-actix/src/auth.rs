//! How the endpoint learns who is calling: the gate's own [`Identity`](cometgate::Identity)
//! ([`ByIdentity`]), or an actix extractor the app already has ([`ByExtractor`] plus
//! [`IntoPrincipal`]).

use std::any::type_name;
use std::future::Future;
use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::header::WWW_AUTHENTICATE;
use actix_web::web::ReqData;
use actix_web::{FromRequest, HttpRequest};
use cometgate::endpoint::{Call, ExtractorRejection};
use cometgate::{Identity, Principal, Rejection};

use crate::ActixView;

/// Where the auth middleware goes in actix-web, appended to the core's misconfiguration
/// explanation.
const ORDER_HINT: &str = "In actix-web, a middleware wrapped later runs first, so wrap it \
                          after: `.wrap(TokenEndpoint::...).wrap(your_auth_middleware)`.";

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
/// [`ByIdentity`] and [`ByExtractor`]; you choose one through the endpoint's constructors.
pub trait Authenticate<I>: Send + Sync + 'static {
    /// Tells `call` who is calling, from the request (its payload is never read here).
    fn identify<'a>(
        &'a self,
        call: &'a mut Call<I>,
        request: &'a HttpRequest,
    ) -> impl Future<Output = ()> + 'a;
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
    async fn identify(&self, call: &mut Call<I>, request: &HttpRequest) {
        call.identify(&ActixView::new(request));
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
    I: Send + Sync + 'static,
    E: FromRequest + 'static,
    F: Fn(E) -> Result<Principal, Rejection> + Send + Sync + 'static,
{
    async fn identify(&self, call: &mut Call<I>, request: &HttpRequest) {
        if !call.needs_identity() {
            return;
        }
        // An empty payload: the body is never a source of identity.
        match E::from_request(request, &mut Payload::None).await {
            Ok(value) => call.identified((self.convert)(value)),
            Err(error) => call.extractor_rejected(describe::<E>(&error.into())),
        }
    }
}

/// An extractor's error, as the core needs it: status, challenges, message.
fn describe<E>(error: &actix_web::Error) -> ExtractorRejection {
    let response = error.error_response();
    let mut described = ExtractorRejection::new(type_name::<E>(), response.status().as_u16())
        .with_order_hint(ORDER_HINT)
        .with_body(error.to_string().as_bytes());
    for value in response.headers().get_all(WWW_AUTHENTICATE) {
        described = described.with_challenge(value.as_bytes());
    }
    described
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_values_convert() {
        let none: Option<Principal> = None;
        assert_eq!(none.into_principal(), Err(Rejection::Missing));
        let some = Some(Principal::new("iss", "bob"));
        assert_eq!(some.into_principal().unwrap().subject(), "bob");
    }
}
