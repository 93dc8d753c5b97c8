//! [`RequestView`] over an actix-web [`HttpRequest`], so that a core [`Identity`] can read an
//! actix request.
//!
//! [`Identity`]: cometgate::Identity

use std::net::SocketAddr;

use actix_web::{HttpMessage, HttpRequest};
use cometgate::RequestView;

/// A [`RequestView`] over an actix-web [`HttpRequest`] (whose types are `http` 0.2).
///
/// The token endpoint builds one for every token request and hands it to the core. It is public
/// so that you can unit-test your own [`Identity`](cometgate::Identity) against real actix types.
///
/// - [`header`](RequestView::header) returns the first value of a header, matched
///   case-insensitively;
/// - [`extension`](RequestView::extension) clones a typed extension an upstream middleware
///   inserted (`req.extensions_mut().insert(...)`);
/// - [`peer_addr`](RequestView::peer_addr) is the connection's peer address.
///
/// The view never exposes the body or the query string: identity must come from credentials.
///
/// ```
/// use actix_web::test::TestRequest;
/// use cometgate::RequestView;
/// use cometgate_actix::ActixView;
///
/// let request = TestRequest::post()
///     .uri("/cometchat-token?uid=mallory")
///     .insert_header(("Authorization", "Bearer abc"))
///     .peer_addr("127.0.0.1:4242".parse().unwrap())
///     .to_http_request();
/// let view = ActixView::new(&request);
/// assert_eq!(view.method(), "POST");
/// assert_eq!(view.path(), "/cometchat-token");
/// assert_eq!(view.header_str("AUTHORIZATION"), Some("Bearer abc"));
/// assert_eq!(view.peer_addr(), Some("127.0.0.1:4242".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ActixView<'a> {
    request: &'a HttpRequest,
    routed_path: Option<&'a str>,
}

impl<'a> ActixView<'a> {
    /// A view over `request`.
    pub fn new(request: &'a HttpRequest) -> Self {
        Self {
            request,
            routed_path: None,
        }
    }

    /// Reports `path` as the request path (when `Some`): the path a resource was registered at
    /// inside a `web::scope`, which the request's own path prefixes with the scope.
    #[must_use]
    pub fn with_routed_path(mut self, path: Option<&'a str>) -> Self {
        self.routed_path = path;
        self
    }

    /// The request this view reads.
    pub fn request(&self) -> &'a HttpRequest {
        self.request
    }
}

impl RequestView for ActixView<'_> {
    fn method(&self) -> &str {
        self.request.method().as_str()
    }

    fn path(&self) -> &str {
        self.routed_path.unwrap_or_else(|| self.request.path())
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        // `HeaderMap::get` with a `&str` matches case-insensitively and never panics (an invalid
        // name simply finds nothing).
        self.request.headers().get(name).map(|v| v.as_bytes())
    }

    fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.request.extensions().get::<T>().cloned()
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.request.peer_addr()
    }
}

#[cfg(test)]
mod tests {
    use actix_web::HttpMessage;
    use actix_web::test::TestRequest;

    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Claims(&'static str);

    #[test]
    fn reads_headers_extensions_and_first_value() {
        let request = TestRequest::post()
            .uri("/t")
            .append_header(("x-a", "1"))
            .append_header(("x-a", "2"))
            .to_http_request();
        request.extensions_mut().insert(Claims("alice"));
        let view = ActixView::new(&request);
        assert_eq!(view.header("X-A"), Some(&b"1"[..]));
        assert_eq!(view.header("not a header name"), None);
        assert_eq!(view.extension::<Claims>(), Some(Claims("alice")));
        assert_eq!(view.extension::<String>(), None);
        assert_eq!(view.peer_addr(), None);
    }

    #[test]
    fn non_utf8_header_is_bytes_only() {
        let value = actix_web::http::header::HeaderValue::from_bytes(&[0x80, 0xff]).unwrap();
        let request = TestRequest::post()
            .insert_header(("authorization", value))
            .to_http_request();
        let view = ActixView::new(&request);
        assert_eq!(view.header("authorization"), Some(&[0x80, 0xff][..]));
        assert_eq!(view.header_str("authorization"), None);
    }
}
