//! [`RequestView`] over an `http` 1 request head, so that a core [`Identity`] can read an axum
//! request.
//!
//! [`Identity`]: cometgate::Identity

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use cometgate::RequestView;
use http::request::Parts;

/// A [`RequestView`] over the head ([`Parts`]) of an axum / `http` 1 request.
///
/// The token layer builds one for every token request and hands it to the core. It is public so
/// that you can unit-test your own [`Identity`](cometgate::Identity) against real `http` types.
///
/// - [`header`](RequestView::header) returns the first value of a header, matched
///   case-insensitively (header names in `http` are always lower case);
/// - [`extension`](RequestView::extension) clones a typed extension an upstream layer inserted;
/// - [`peer_addr`](RequestView::peer_addr) reads axum's [`ConnectInfo<SocketAddr>`] extension,
///   present when the app is served with
///   `into_make_service_with_connect_info::<SocketAddr>()`.
///
/// The view never exposes the body or the query string: identity must come from credentials.
///
/// ```
/// use cometgate::RequestView;
/// use cometgate_axum::PartsView;
///
/// let (parts, _body) = http::Request::post("/cometchat-token?uid=mallory")
///     .header("Authorization", "Bearer abc")
///     .body(())
///     .unwrap()
///     .into_parts();
/// let view = PartsView::new(&parts);
/// assert_eq!(view.method(), "POST");
/// assert_eq!(view.path(), "/cometchat-token");
/// assert_eq!(view.header_str("AUTHORIZATION"), Some("Bearer abc"));
/// assert_eq!(view.peer_addr(), None);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PartsView<'a> {
    parts: &'a Parts,
}

impl<'a> PartsView<'a> {
    /// A view over `parts`.
    pub fn new(parts: &'a Parts) -> Self {
        Self { parts }
    }

    /// The request head this view reads.
    pub fn parts(&self) -> &'a Parts {
        self.parts
    }
}

impl RequestView for PartsView<'_> {
    fn method(&self) -> &str {
        self.parts.method.as_str()
    }

    fn path(&self) -> &str {
        self.parts.uri.path()
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        // `HeaderMap::get` with a `&str` matches case-insensitively and never panics (an invalid
        // name simply finds nothing).
        self.parts.headers.get(name).map(|v| v.as_bytes())
    }

    fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.parts.extensions.get::<T>().cloned()
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Claims(&'static str);

    #[test]
    fn reads_headers_extensions_and_peer() {
        let peer: SocketAddr = "127.0.0.1:4242".parse().unwrap();
        let mut request = http::Request::post("/t")
            .header("x-a", "1")
            .header("x-a", "2")
            .body(())
            .unwrap();
        request.extensions_mut().insert(Claims("alice"));
        request.extensions_mut().insert(ConnectInfo(peer));
        let (parts, ()) = request.into_parts();
        let view = PartsView::new(&parts);
        assert_eq!(view.header("X-A"), Some(&b"1"[..]));
        assert_eq!(view.header("not a header name"), None);
        assert_eq!(view.extension::<Claims>(), Some(Claims("alice")));
        assert_eq!(view.extension::<String>(), None);
        assert_eq!(view.peer_addr(), Some(peer));
    }

    #[test]
    fn non_utf8_header_is_bytes_only() {
        let value = http::HeaderValue::from_bytes(&[0x80, 0xff]).unwrap();
        let (parts, ()) = http::Request::post("/t")
            .header("authorization", value)
            .body(())
            .unwrap()
            .into_parts();
        let view = PartsView::new(&parts);
        assert_eq!(view.header("authorization"), Some(&[0x80, 0xff][..]));
        assert_eq!(view.header_str("authorization"), None);
    }
}
