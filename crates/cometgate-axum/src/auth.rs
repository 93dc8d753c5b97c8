//! How the layer learns who is calling: the gate's own [`Identity`](cometgate::Identity)
//! ([`ByIdentity`]), or an axum extractor the app already has ([`ByExtractor`] plus
//! [`IntoPrincipal`]).

use std::any::type_name;
use std::future::Future;
use std::marker::PhantomData;

use axum::Extension;
use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use cometgate::endpoint::{Call, ExtractorRejection};
use cometgate::{Identity, Principal, Rejection};
use http::header::WWW_AUTHENTICATE;
use http::request::Parts;
use http_body_util::BodyExt;

use crate::PartsView;

/// Where the auth layer goes in axum, appended to the core's misconfiguration explanation.
const ORDER_HINT: &str = "In axum, a layer added later runs first, so add it after: \
                          `.layer(TokenLayer::...).layer(your_auth_layer)`.";

/// Turns the value an axum extractor produced into the [`Principal`] a token is minted for.
///
/// Implement it for the app's verified-claims or user type, then hand the extractor to
/// [`TokenLayer::from_extractor`](crate::TokenLayer::from_extractor).
///
/// ```
/// use cometgate::{Principal, Rejection};
/// use cometgate_axum::IntoPrincipal;
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

/// A user that may be absent (axum-login's `AuthSession::user`, an optional-claims extractor):
/// `None` is [`Rejection::Missing`].
impl<T: IntoPrincipal> IntoPrincipal for Option<T> {
    fn into_principal(self) -> Result<Principal, Rejection> {
        self.ok_or(Rejection::Missing)?.into_principal()
    }
}

/// axum's `Extension<T>` extractor: the value an upstream layer inserted.
impl<T: IntoPrincipal> IntoPrincipal for Extension<T> {
    fn into_principal(self) -> Result<Principal, Rejection> {
        self.0.into_principal()
    }
}

/// How a [`TokenLayer`](crate::TokenLayer) identifies the caller. Implemented by
/// [`ByIdentity`] and [`ByExtractor`]; you choose one through the layer's constructors and
/// rarely name it except in type aliases.
pub trait Authenticate<I>: Send + Sync + 'static {
    /// Tells `call` who is calling, from the request head.
    fn identify(&self, call: &mut Call<I>, parts: &mut Parts) -> impl Future<Output = ()> + Send;
}

/// Identify the caller with the gate's own [`Identity`](cometgate::Identity), reading the
/// request head through a [`PartsView`]. The default of [`TokenLayer::new`](crate::TokenLayer::new).
///
/// An identity that reads an extension set by the app's auth layer cannot tell "that layer is
/// missing" from "nobody is signed in": both look like [`Rejection::Missing`]. For that case
/// prefer [`ByExtractor`] with axum's `Extension<T>`, which reports a missing layer by name.
#[derive(Debug, Clone, Copy, Default)]
pub struct ByIdentity;

impl<I: Identity> Authenticate<I> for ByIdentity {
    async fn identify(&self, call: &mut Call<I>, parts: &mut Parts) {
        call.identify(&PartsView::new(parts));
    }
}

/// Identify the caller with the app's own axum extractor `E` (run against `state`), converted
/// by `F` ([`IntoPrincipal`] by default, or a closure). Built by
/// [`TokenLayer::from_extractor`](crate::TokenLayer::from_extractor),
/// [`TokenLayer::from_extractor_with_state`](crate::TokenLayer::from_extractor_with_state) and
/// [`TokenLayer::from_extractor_fn`](crate::TokenLayer::from_extractor_fn).
///
/// The extractor's rejections are mapped by the status of their response:
///
/// | extractor rejection | answer |
/// |---|---|
/// | 401 whose `WWW-Authenticate` has an `error=` parameter, or any other 4xx | 401 invalid credentials |
/// | 401 without `error=`, or a redirect | 401 missing credentials |
/// | 403 | 403 refused |
/// | 5xx | 500 `misconfigured` ([`ProblemType::Misconfigured`](cometgate::ProblemType::Misconfigured)): the layer that provides the extractor is missing or misplaced (see below) |
///
/// # Where the app's auth layer goes
///
/// In axum, `.layer(a).layer(b)` runs `b` **first**: a layer added later wraps the ones added
/// before it. An auth layer that inserts a session or verified claims into the request
/// extensions must therefore be added **after** the token layer:
///
/// ```text
/// Router::new()
///     .route("/todos", get(todos))
///     .layer(TokenLayer::from_extractor::<CurrentUser>(gate))  // runs second
///     .layer(auth_layer)                                        // runs first
/// ```
///
/// If the extractor fails with a server error (axum's `Extension<T>` when `T` is absent,
/// axum-login's `AuthSession` without `AuthManagerLayer`, ...), the token layer answers
/// `500` with the problem type `misconfigured` ([`ProblemType::Misconfigured`](cometgate::ProblemType::Misconfigured)) and logs a
/// `tracing` error that names the extractor type and repeats this rule. Debug builds also put
/// the explanation in the problem's `detail`; release builds keep it in the log only.
pub struct ByExtractor<E, S = (), F = IntoPrincipalFn<E>> {
    state: S,
    convert: F,
    extractor: PhantomData<fn() -> E>,
}

/// The conversion [`TokenLayer::from_extractor`](crate::TokenLayer::from_extractor) uses:
/// [`IntoPrincipal::into_principal`].
pub type IntoPrincipalFn<E> = fn(E) -> Result<Principal, Rejection>;

impl<E, S, F> ByExtractor<E, S, F> {
    pub(crate) fn new(state: S, convert: F) -> Self {
        Self {
            state,
            convert,
            extractor: PhantomData,
        }
    }
}

impl<E, S: Clone, F: Clone> Clone for ByExtractor<E, S, F> {
    fn clone(&self) -> Self {
        Self::new(self.state.clone(), self.convert.clone())
    }
}

impl<E, S, F> std::fmt::Debug for ByExtractor<E, S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByExtractor")
            .field("extractor", &type_name::<E>())
            .finish_non_exhaustive()
    }
}

impl<I, E, S, F> Authenticate<I> for ByExtractor<E, S, F>
where
    I: Send + Sync + 'static,
    E: FromRequestParts<S> + 'static,
    S: Send + Sync + 'static,
    F: Fn(E) -> Result<Principal, Rejection> + Send + Sync + 'static,
{
    async fn identify(&self, call: &mut Call<I>, parts: &mut Parts) {
        if !call.needs_identity() {
            return;
        }
        // Settle into owned, non-generic values before awaiting anything else, so the future
        // stays `Send` whatever `E` and its rejection are.
        let extracted: Result<Result<Principal, Rejection>, Response> =
            match E::from_request_parts(parts, &self.state).await {
                Ok(value) => Ok((self.convert)(value)),
                Err(rejection) => Err(rejection.into_response()),
            };
        match extracted {
            Ok(verdict) => call.identified(verdict),
            Err(response) => call.extractor_rejected(describe::<E>(response).await),
        }
    }
}

/// An extractor's rejection response, as the core needs it: status, challenges, body excerpt.
async fn describe<E>(rejection: Response) -> ExtractorRejection {
    let mut described = ExtractorRejection::new(type_name::<E>(), rejection.status().as_u16())
        .with_order_hint(ORDER_HINT);
    for value in rejection.headers().get_all(WWW_AUTHENTICATE) {
        described = described.with_challenge(value.as_bytes());
    }
    let body =
        http_body_util::Limited::new(rejection.into_body(), ExtractorRejection::QUOTED_BODY_BYTES);
    match body.collect().await {
        Ok(collected) => described.with_body(&collected.to_bytes()),
        Err(_) => described.with_body(b"(the rejection body was too long or unreadable)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_and_extension_values_convert() {
        let none: Option<Principal> = None;
        assert_eq!(none.into_principal(), Err(Rejection::Missing));
        let some = Extension(Some(Principal::new("iss", "bob")));
        assert_eq!(some.into_principal().unwrap().subject(), "bob");
    }
}
