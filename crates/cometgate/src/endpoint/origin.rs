//! Cross-site request forgery defence for credentials the browser sends by itself.
//!
//! A bearer token in an `Authorization` header cannot be attached by another site: a
//! cross-origin `fetch` with that header needs a CORS preflight the app answers, and a form
//! cannot set it. Cookies are different: a page on `evil.example` can `POST` a form to the token
//! route and the browser adds the victim's session cookie. Each such request would mint a token
//! (evicting one of the victim's live ones) or create a chat account.
//!
//! So when the identity's credentials are ambient
//! ([`Identity::credentials_are_ambient`](crate::Identity::credentials_are_ambient): `true` by
//! default and for an app's own framework extractor; `false` for cometgate-jwt's bearer-token
//! identities) and the request carries them, the endpoint requires it to come from the app's
//! own site, whatever other headers it has (a stray `Authorization: Basic` the browser cached
//! changes nothing):
//!
//! | the browser says | verdict |
//! |---|---|
//! | `Sec-Fetch-Site: same-origin` or `none` (typed URL, bookmark) | allowed |
//! | `Sec-Fetch-Site: same-site` / `cross-site` | allowed only if `Origin` is an allowed origin |
//! | no `Sec-Fetch-Site`, an `Origin` | allowed if it is the request's own host or an allowed origin |
//! | `Origin: null` | refused |
//! | neither header (not a browser: a native app, curl) | allowed |
//!
//! Refused requests get `403 cross-site-request` and cause no upstream call. Allowed origins
//! ([`Endpoint::with_allowed_origins`](crate::endpoint::Endpoint::with_allowed_origins)) are
//! compared exactly, as `scheme://host[:port]`, case-insensitively.

use crate::identity::RequestView;

/// Whether a request may use ambient (browser-sent) credentials.
pub(crate) fn is_same_site<R: RequestView + ?Sized>(request: &R, allowed: &[String]) -> bool {
    let origin = request.header("origin");
    let allowed_origin = || {
        origin
            .and_then(|o| std::str::from_utf8(o).ok())
            .is_some_and(|o| allowed.iter().any(|a| a.eq_ignore_ascii_case(o.trim())))
    };
    match request.header("sec-fetch-site") {
        Some(b"same-origin" | b"none") => true,
        Some(_) => allowed_origin(),
        None => match origin {
            None => true,
            Some(value) => allowed_origin() || is_own_host(value, request.header("host")),
        },
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the host the request was sent to.
fn is_own_host(origin: &[u8], host: Option<&[u8]>) -> bool {
    let (Ok(origin), Some(Ok(host))) = (std::str::from_utf8(origin), host.map(std::str::from_utf8))
    else {
        return false;
    };
    let authority = origin
        .trim()
        .strip_prefix("https://")
        .or_else(|| origin.trim().strip_prefix("http://"));
    authority.is_some_and(|a| !a.is_empty() && a.eq_ignore_ascii_case(host.trim()))
}

/// An allowed origin as the browser spells it (`scheme://host[:port]`, lower case), or `None`
/// when `origin` is not one: `null`, `*`, a path, another scheme, user info.
pub(crate) fn normalise(origin: &str) -> Option<String> {
    let url = url::Url::parse(origin.trim()).ok()?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    // `Url` drops a default port, as browsers do in `Origin`.
    plain.then(|| url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::SimpleRequest;

    fn request(headers: &[(&str, &str)]) -> SimpleRequest {
        headers
            .iter()
            .fold(SimpleRequest::post("/t"), |r, (n, v)| r.with_header(*n, *v))
    }

    #[test]
    fn browsers_on_the_same_site_and_non_browsers_pass() {
        let allowed = vec!["https://app.example".to_owned()];
        for ok in [
            request(&[]),
            request(&[("sec-fetch-site", "same-origin")]),
            request(&[("sec-fetch-site", "none")]),
            request(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://app.example"),
            ]),
            request(&[
                ("origin", "https://api.example:8443"),
                ("host", "api.example:8443"),
            ]),
            request(&[("origin", "https://APP.example")]),
        ] {
            assert!(is_same_site(&ok, &allowed), "{ok:?}");
        }
    }

    #[test]
    fn allowed_origins_are_plain_origins() {
        assert_eq!(
            normalise(" https://App.Example/ ").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            normalise("https://app.example:443").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            normalise("http://localhost:8081").as_deref(),
            Some("http://localhost:8081")
        );
        for bad in [
            "null",
            "*",
            "app.example",
            "https://app.example/login",
            "ftp://app.example",
            "https://user@app.example",
            "https://app.example?x=1",
            "",
        ] {
            assert_eq!(normalise(bad), None, "{bad}");
        }
    }

    #[test]
    fn cross_site_requests_are_refused() {
        let allowed = vec!["https://app.example".to_owned()];
        for bad in [
            request(&[("sec-fetch-site", "cross-site")]),
            request(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.example"),
            ]),
            request(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://sub.app.example"),
            ]),
            request(&[("origin", "https://evil.example"), ("host", "api.example")]),
            request(&[("origin", "null"), ("host", "api.example")]),
            request(&[
                ("origin", "https://api.example.evil"),
                ("host", "api.example"),
            ]),
            request(&[("origin", "https://"), ("host", "")]),
        ] {
            assert!(!is_same_site(&bad, &allowed), "{bad:?}");
        }
    }
}
