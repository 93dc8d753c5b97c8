//! The identity seam: how cometgate learns who is signed in.
//!
//! cometgate never decides *who* a request belongs to from the request body, the query string or
//! an arbitrary header. It asks the app's own authentication, through the [`Identity`] trait, and
//! mints a CometChat token only for the [`Principal`] that comes back.
//!
//! The trait sees a [`RequestView`] defined here, not a framework type, so the same identity
//! implementation plugs into axum (`http` 1) and actix-web (`http` 0.2) alike.
//!
//! Resolution has two steps so that it works with actix-web's `!Send` requests:
//! 1. [`Identity::extract`] runs synchronously against the borrowed request view and copies out
//!    the credentials it needs (a bearer token, a verified-claims extension, a session id);
//! 2. [`Identity::verify`] turns those owned credentials into a [`Principal`] in a `Send` future
//!    (it may do I/O, e.g. fetch a JWKS).
//!
//! ```
//! use cometgate::identity::{Identity, Principal, Rejection, RequestView, SimpleRequest};
//!
//! /// The app's existing auth layer stores this in the request extensions.
//! #[derive(Clone)]
//! struct SignedInUser { id: String, display_name: String }
//!
//! struct FromExtension;
//!
//! impl Identity for FromExtension {
//!     type Credentials = SignedInUser;
//!
//!     fn extract<R: RequestView + ?Sized>(&self, request: &R) -> Result<SignedInUser, Rejection> {
//!         request.extension::<SignedInUser>().ok_or(Rejection::Missing)
//!     }
//!
//!     async fn verify(&self, user: SignedInUser) -> Result<Principal, Rejection> {
//!         Ok(Principal::new("https://myapp.example", user.id).with_name(user.display_name))
//!     }
//! }
//!
//! # tokio_test_block_on(async {
//! let request = SimpleRequest::post("/cometchat-token").with_extension(SignedInUser {
//!     id: "42".into(),
//!     display_name: "Ada".into(),
//! });
//! let principal = FromExtension.resolve(&request).await.unwrap();
//! assert_eq!(principal.subject(), "42");
//! assert_eq!(principal.name(), Some("Ada"));
//!
//! let anonymous = SimpleRequest::post("/cometchat-token");
//! assert_eq!(FromExtension.resolve(&anonymous).await, Err(Rejection::Missing));
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;

use crate::uid_mapper::UidMapper;

/// The longest bearer token [`bearer_token`] accepts (16 KiB): real JWTs are a few hundred
/// bytes to a few KiB; anything longer is refused before any parsing.
pub const MAX_BEARER_TOKEN_LEN: usize = 16 * 1024;

/// The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), the only place a
/// well-behaved [`Identity`] looks for a bearer token.
///
/// - no `Authorization` header: [`Rejection::Missing`];
/// - a header that is not UTF-8, not the `Bearer` scheme (matched case-insensitively), has an
///   empty token, or a token over [`MAX_BEARER_TOKEN_LEN`]: [`Rejection::Invalid`].
///
/// Tokens in the query string (`?access_token=`) or the body are never read (RFC 6750 §2.3).
///
/// ```
/// use cometgate::identity::{bearer_token, SimpleRequest};
/// use cometgate::Rejection;
///
/// let request = SimpleRequest::post("/t").with_header("authorization", "bearer abc.def.ghi");
/// assert_eq!(bearer_token(&request), Ok("abc.def.ghi"));
/// assert_eq!(bearer_token(&SimpleRequest::post("/t?access_token=abc")), Err(Rejection::Missing));
/// let basic = SimpleRequest::post("/t").with_header("Authorization", "Basic YTpi");
/// assert!(matches!(bearer_token(&basic), Err(Rejection::Invalid { .. })));
/// ```
pub fn bearer_token<R: RequestView + ?Sized>(request: &R) -> Result<&str, Rejection> {
    let value = request.header("authorization").ok_or(Rejection::Missing)?;
    let value = std::str::from_utf8(value)
        .map_err(|_| Rejection::invalid("the Authorization header is not UTF-8"))?;
    match value.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = token.trim();
            if token.is_empty() {
                Err(Rejection::invalid("the bearer token is empty"))
            } else if token.len() > MAX_BEARER_TOKEN_LEN {
                Err(Rejection::invalid("the bearer token is too long"))
            } else {
                Ok(token)
            }
        }
        _ => Err(Rejection::invalid(
            "the Authorization header is not a Bearer credential",
        )),
    }
}

/// A read-only view of an incoming HTTP request, defined by cometgate so that identity
/// implementations need neither `http` 1 nor `http` 0.2.
///
/// Adapters implement it over their framework's request; [`SimpleRequest`] implements it for tests.
pub trait RequestView {
    /// The request method, upper case (`"POST"`).
    fn method(&self) -> &str;

    /// The request path, without the query string.
    fn path(&self) -> &str;

    /// The first value of the header `name` (matched case-insensitively), as raw bytes.
    fn header(&self, name: &str) -> Option<&[u8]>;

    /// A clone of the typed request extension `T`, if an upstream layer inserted one.
    fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T>;

    /// The address of the peer that opened the connection, when the adapter knows it.
    fn peer_addr(&self) -> Option<SocketAddr>;

    /// The header `name` as UTF-8 text, or `None` if it is absent or not valid UTF-8.
    fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }
}

/// Who is signed in, as established by the app's own authentication.
///
/// The pair (`issuer`, `subject`) identifies the user; `name` and `avatar` are only used to fill
/// in a CometChat profile when the user is provisioned.
#[derive(Clone, PartialEq, Eq)]
pub struct Principal {
    issuer: String,
    subject: String,
    name: Option<String>,
    avatar: Option<String>,
    session_id: Option<String>,
}

impl Principal {
    /// A principal for `subject` as issued by `issuer` (e.g. `https://securetoken.google.com/my-project`
    /// and the Firebase UID).
    pub fn new(issuer: impl Into<String>, subject: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            subject: subject.into(),
            name: None,
            avatar: None,
            session_id: None,
        }
    }

    /// Sets the id of the sign-in session (Clerk's `sid`, Supabase's `session_id`): a request
    /// that names no device then uses it as its device id, so each session keeps one token and
    /// ending the session can revoke it. Ignored unless it is a valid
    /// [`DeviceId`](crate::DeviceId).
    #[must_use]
    pub fn with_session_id(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// The sign-in session's id, if the identity supplied one.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// Sets the display name used when the CometChat user is created.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the avatar URL used when the CometChat user is created.
    #[must_use]
    pub fn with_avatar(mut self, avatar: impl Into<String>) -> Self {
        self.avatar = Some(avatar.into());
        self
    }

    /// The issuer that vouches for the subject.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The user's id at the issuer.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The display name, if the identity provider supplied one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The avatar URL, if the identity provider supplied one.
    pub fn avatar(&self) -> Option<&str> {
        self.avatar.as_deref()
    }
}

impl fmt::Debug for Principal {
    // Names and avatars are personal data: keep them out of logs that print a principal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .field("name", &self.name.as_ref().map(|_| "…"))
            .field("avatar", &self.avatar.as_ref().map(|_| "…"))
            .field("session_id", &self.session_id.as_ref().map(|_| "…"))
            .finish()
    }
}

/// Why a request was not given an identity.
///
/// The two main variants map to different `401` answers: [`Rejection::Missing`] to a bare
/// `WWW-Authenticate: Bearer realm="…"` challenge, [`Rejection::Invalid`] to one with
/// `error="invalid_token"` (RFC 6750 §3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The request carries no credentials at all.
    #[error("no credentials were presented")]
    Missing,
    /// Credentials were presented but could not be verified. The reason is for the server log,
    /// never for the client.
    #[error("the credentials are invalid: {reason}")]
    Invalid {
        /// What failed (expired, bad signature, wrong audience, …).
        reason: String,
    },
    /// The credentials are valid, but this identity may not use CometChat (HTTP 403).
    #[error("the identity is not allowed to use chat: {reason}")]
    Refused {
        /// Why the identity was refused, for the server log.
        reason: String,
    },
}

impl Rejection {
    /// An [`Rejection::Invalid`] with the given reason.
    pub fn invalid(reason: impl Into<String>) -> Self {
        Self::Invalid {
            reason: reason.into(),
        }
    }

    /// A [`Rejection::Refused`] with the given reason.
    pub fn refused(reason: impl Into<String>) -> Self {
        Self::Refused {
            reason: reason.into(),
        }
    }
}

/// How an app tells cometgate who is signed in.
///
/// Implement it over whatever the app already has: a verified-claims extension inserted by its
/// auth middleware, a session cookie, a bearer JWT (see the `cometgate-jwt` crate for ready-made
/// providers). See the [module documentation](self) for an example.
pub trait Identity: Send + Sync + 'static {
    /// What [`extract`](Identity::extract) copies out of the request for
    /// [`verify`](Identity::verify).
    type Credentials: Send + 'static;

    /// Reads the credentials from the request, synchronously and without I/O.
    ///
    /// Return [`Rejection::Missing`] when the request carries none. Read only the credential
    /// itself (e.g. the `Authorization` header or an extension set by the app's auth layer):
    /// never the body, the query string or other headers.
    fn extract<R: RequestView + ?Sized>(&self, request: &R)
    -> Result<Self::Credentials, Rejection>;

    /// Verifies the credentials and returns the principal they prove.
    fn verify(
        &self,
        credentials: Self::Credentials,
    ) -> impl Future<Output = Result<Principal, Rejection>> + Send;

    /// The UID mapping that suits this identity's subjects, used by a gate that was not given
    /// one with [`GateBuilder::uid_mapper`](crate::vend::GateBuilder::uid_mapper).
    ///
    /// The default, `None`, leaves the gate's default ([`UidMapper::default`]: a hash of the
    /// (issuer, subject) pair, safe for any issuer but not readable). An identity with one
    /// issuer should return `UidMapper::single_issuer(<its issuer>, <mapping>)`.
    /// Identity providers whose subjects are known to be valid lower-case UIDs (Supabase's
    /// UUIDs) return a readable mapping here.
    fn uid_mapper(&self) -> Option<UidMapper> {
        None
    }

    /// Whether a browser may attach this identity's credentials to a request by itself:
    /// cookies, HTTP Basic/Negotiate, TLS client certificates. Such credentials ride along on a
    /// form another site posts, so the endpoint refuses them on cross-site requests (see
    /// [`endpoint::origin`](crate::endpoint::origin)).
    ///
    /// The default, `true`, is the safe answer. Return `false` only when the identity reads
    /// nothing but a credential that script must set explicitly, such as an
    /// `Authorization: Bearer` token ([`bearer_token`]).
    fn credentials_are_ambient(&self) -> bool {
        true
    }

    /// [`extract`](Identity::extract) then [`verify`](Identity::verify).
    fn resolve<R: RequestView + ?Sized>(
        &self,
        request: &R,
    ) -> impl Future<Output = Result<Principal, Rejection>> + Send {
        let credentials = self.extract(request);
        async move { self.verify(credentials?).await }
    }
}

/// A plain, owned [`RequestView`] for tests and examples.
///
/// ```
/// use cometgate::identity::{RequestView, SimpleRequest};
///
/// let request = SimpleRequest::post("/cometchat-token").with_header("Authorization", "Bearer abc");
/// assert_eq!(request.header_str("authorization"), Some("Bearer abc"));
/// assert_eq!(request.method(), "POST");
/// ```
#[derive(Default)]
pub struct SimpleRequest {
    method: String,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    extensions: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    peer_addr: Option<SocketAddr>,
}

impl SimpleRequest {
    /// A request with the given method and path.
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            ..Self::default()
        }
    }

    /// A `POST` request to `path`.
    pub fn post(path: impl Into<String>) -> Self {
        Self::new("POST", path)
    }

    /// Adds a header (names are matched case-insensitively).
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a typed extension, replacing any earlier one of the same type.
    #[must_use]
    pub fn with_extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.extensions.insert(TypeId::of::<T>(), Box::new(value));
        self
    }

    /// Sets the peer address.
    #[must_use]
    pub fn with_peer_addr(mut self, addr: SocketAddr) -> Self {
        self.peer_addr = Some(addr);
        self
    }
}

impl fmt::Debug for SimpleRequest {
    // Header values may be credentials: print names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("peer_addr", &self.peer_addr)
            .finish_non_exhaustive()
    }
}

impl RequestView for SimpleRequest {
    fn method(&self) -> &str {
        &self.method
    }

    fn path(&self) -> &str {
        &self.path
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.extensions
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
            .cloned()
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer_addr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Bearer;

    impl Identity for Bearer {
        type Credentials = String;

        fn extract<R: RequestView + ?Sized>(&self, request: &R) -> Result<String, Rejection> {
            let value = request
                .header_str("authorization")
                .ok_or(Rejection::Missing)?;
            value
                .strip_prefix("Bearer ")
                .map(str::to_owned)
                .ok_or_else(|| Rejection::invalid("not a bearer token"))
        }

        async fn verify(&self, token: String) -> Result<Principal, Rejection> {
            if token == "good" {
                Ok(Principal::new("test", "alice"))
            } else {
                Err(Rejection::invalid("unknown token"))
            }
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn missing_invalid_and_valid_credentials_are_told_apart() {
        let none = SimpleRequest::post("/t");
        assert_eq!(block_on(Bearer.resolve(&none)), Err(Rejection::Missing));

        let basic = SimpleRequest::post("/t").with_header("Authorization", "Basic x");
        assert!(matches!(
            block_on(Bearer.resolve(&basic)),
            Err(Rejection::Invalid { .. })
        ));

        let good = SimpleRequest::post("/t").with_header("AUTHORIZATION", "Bearer good");
        assert_eq!(block_on(Bearer.resolve(&good)).unwrap().subject(), "alice");
    }

    #[test]
    fn bearer_token_reads_only_a_well_formed_bearer_credential() {
        let with = |value: Vec<u8>| SimpleRequest::post("/t").with_header("Authorization", value);
        assert_eq!(bearer_token(&with(b"Bearer a.b.c".to_vec())), Ok("a.b.c"));
        assert_eq!(
            bearer_token(&with(b"bEaReR   a.b.c  ".to_vec())),
            Ok("a.b.c")
        );
        assert_eq!(
            bearer_token(&SimpleRequest::post("/t")),
            Err(Rejection::Missing)
        );
        let long = format!("Bearer {}", "x".repeat(MAX_BEARER_TOKEN_LEN + 1));
        for bad in [
            b"Bearer".to_vec(),
            b"Bearer    ".to_vec(),
            b"Bearer\ta.b.c".to_vec(),
            b"Basic a.b.c".to_vec(),
            b"a.b.c".to_vec(),
            b"".to_vec(),
            vec![b'B', b'e', b'a', b'r', b'e', b'r', b' ', 0xff],
            long.into_bytes(),
        ] {
            assert!(
                matches!(
                    bearer_token(&with(bad.clone())),
                    Err(Rejection::Invalid { .. })
                ),
                "{:?}",
                String::from_utf8_lossy(&bad)
            );
        }
    }

    #[test]
    fn non_utf8_header_reads_as_absent_text() {
        let request = SimpleRequest::post("/t").with_header("authorization", vec![0xff, 0xfe]);
        assert_eq!(request.header("authorization"), Some(&[0xff, 0xfe][..]));
        assert_eq!(request.header_str("authorization"), None);
    }

    #[test]
    fn principal_debug_hides_personal_data() {
        let p = Principal::new("iss", "sub")
            .with_name("Ada Lovelace")
            .with_avatar("https://img/ada.png");
        let debug = format!("{p:?}");
        assert!(!debug.contains("Ada"), "{debug}");
        assert!(!debug.contains("img"), "{debug}");
        assert!(debug.contains("sub"));
    }
}
