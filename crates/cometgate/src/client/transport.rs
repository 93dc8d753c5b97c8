//! How a call reaches CometChat: through hyper's pooled client directly, or through reqwest
//! when the environment names a proxy for an `https` API base (`HTTPS_PROXY`, `ALL_PROXY`,
//! minus `NO_PROXY`, read once when the client is built, as reqwest reads them). An `http`
//! base (the config allows it only on loopback, for a fake) is never proxied: the REST API key
//! would cross the network in clear.
//!
//! Both speak HTTP/1.1 over the same TLS: rustls with the process's default crypto provider
//! (else aws-lc-rs) and the platform's verifier. Both send the same headers (the REST API key
//! marked sensitive), follow no redirect, bound the connection (TCP and TLS) by the connect
//! timeout, keep idle connections alive with TCP keepalive, and set no request timeout of
//! their own (the caller's one timer bounds each attempt, body included).
//!
//! Why not reqwest for everything: for each request it re-parses the URL for its redirect
//! policy (even with redirects off), checks proxies and merges default headers, which made a
//! mint cost about 10 % more CPU than the same call through hyper (`cargo xtask bench`, mint
//! rows). What reqwest adds that hyper lacks is proxying, so it does that.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::crypto::CryptoProvider;
use url::Url;

use super::error::{Error, Kind};

/// What CometChat answered.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

/// Why a transport could not be built.
#[derive(Debug, thiserror::Error)]
pub(super) enum TransportError {
    #[error("{0}")]
    Tls(#[source] std::io::Error),
    #[error("{0}")]
    Proxied(#[source] reqwest::Error),
}

type Direct = HyperClient<ConnectTimeout<hyper_rustls::HttpsConnector<HttpConnector>>, Full<Bytes>>;

/// reqwest's TCP keepalive settings, so that a pooled connection that died is found out.
const KEEPALIVE: Duration = Duration::from_secs(15);
const KEEPALIVE_RETRIES: u32 = 3;

/// One per client, behind its `Arc`: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub(super) enum Transport {
    Direct { http: Direct, headers: HeaderMap },
    Proxied(reqwest::Client),
}

impl Transport {
    /// A transport for calls to `api_base`, sending `headers` with every request.
    pub(super) fn new(
        api_base: &Url,
        headers: HeaderMap,
        connect_timeout: Duration,
    ) -> Result<Self, TransportError> {
        if uses_proxy(api_base, &Matcher::from_system()) {
            return reqwest::Client::builder()
                .default_headers(headers)
                .connect_timeout(connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map(Self::Proxied)
                .map_err(TransportError::Proxied);
        }
        let mut tcp = HttpConnector::new();
        tcp.set_nodelay(true);
        tcp.set_keepalive(Some(KEEPALIVE));
        tcp.set_keepalive_interval(Some(KEEPALIVE));
        tcp.set_keepalive_retries(Some(KEEPALIVE_RETRIES));
        tcp.enforce_http(false);
        let provider = CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_platform_verifier(provider)
            .map_err(TransportError::Tls)?
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let connector = ConnectTimeout {
            inner: tls,
            timeout: connect_timeout,
        };
        Ok(Self::Direct {
            // The pool's timer closes connections idle for 90 s (hyper's default, as reqwest's).
            http: HyperClient::builder(TokioExecutor::new())
                .pool_timer(TokioTimer::new())
                .build(connector),
            headers,
        })
    }

    /// One request, its whole answer read.
    pub(super) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<Bytes>,
    ) -> Result<Reply, Error> {
        match self {
            Self::Direct { http, headers } => {
                let uri = url
                    .as_str()
                    .parse::<http::Uri>()
                    .map_err(|e| Error::with_source(Kind::Transport, e))?;
                let has_body = body.is_some();
                let mut request = Request::new(Full::new(body.unwrap_or_default()));
                *request.method_mut() = method;
                *request.uri_mut() = uri;
                *request.headers_mut() = headers.clone();
                if has_body {
                    request
                        .headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                let response = http.request(request).await.map_err(|e| {
                    Error::with_source(failure(is_timed_out(&e), e.is_connect()), e)
                })?;
                let (parts, incoming) = response.into_parts();
                let body = incoming
                    .collect()
                    .await
                    .map_err(|e| Error::with_source(Kind::Transport, e))?
                    .to_bytes();
                Ok(Reply {
                    status: parts.status,
                    headers: parts.headers,
                    body,
                })
            }
            Self::Proxied(http) => {
                let mut request = http.request(method, url);
                if let Some(body) = body {
                    request = request
                        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                        .body(body);
                }
                let response = request.send().await.map_err(reqwest_error)?;
                let status = response.status();
                let headers = response.headers().clone();
                let body = response.bytes().await.map_err(reqwest_error)?;
                Ok(Reply {
                    status,
                    headers,
                    body,
                })
            }
        }
    }
}

/// Whether calls to `api_base` go through a proxy `matcher` names: only for an `https` base
/// (tunnelled, so TLS runs end to end).
fn uses_proxy(api_base: &Url, matcher: &Matcher) -> bool {
    api_base.scheme() == "https"
        && api_base
            .as_str()
            .parse::<http::Uri>()
            .is_ok_and(|uri| matcher.intercept(&uri).is_some())
}

/// A connector whose whole connection (TCP, then TLS) is bounded in time; past it the error
/// is an `io::ErrorKind::TimedOut`, which [`is_timed_out`] finds.
#[derive(Clone)]
pub(super) struct ConnectTimeout<C> {
    inner: C,
    timeout: Duration,
}

type BoxError = Box<dyn StdError + Send + Sync>;

impl<C> tower_service::Service<http::Uri> for ConnectTimeout<C>
where
    C: tower_service::Service<http::Uri>,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let (connecting, timeout) = (self.inner.call(uri), self.timeout);
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(connected) => connected.map_err(Into::into),
                Err(_) => Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connecting to CometChat timed out",
                )) as BoxError),
            }
        })
    }
}

/// Whether anything in the error's chain is a timeout (the connect timeout).
fn is_timed_out(e: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        next = e.source();
    }
    false
}

fn reqwest_error(e: reqwest::Error) -> Error {
    Error::with_source(failure(e.is_timeout(), e.is_connect()), e.without_url())
}

/// One rule for both transports: a timeout first (a connect timeout is also a connect error),
/// then a connection that was never made, else the exchange broke.
fn failure(timed_out: bool, connect: bool) -> Kind {
    if timed_out {
        Kind::Timeout
    } else if connect {
        Kind::Connect
    } else {
        Kind::Transport
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const PROXY: &str = "http://proxy.internal:3128";

    #[test]
    fn an_https_base_goes_through_the_proxy_named_for_https_or_all() {
        let api = url("https://app.api-us.cometchat.io/v3/");
        assert!(uses_proxy(&api, &Matcher::builder().https(PROXY).build()));
        assert!(uses_proxy(&api, &Matcher::builder().all(PROXY).build()));
        assert!(!uses_proxy(&api, &Matcher::builder().http(PROXY).build()));
        assert!(!uses_proxy(&api, &Matcher::builder().build()));
    }

    #[test]
    fn no_proxy_is_honoured() {
        let api = url("https://app.api-us.cometchat.io/v3/");
        let matcher = Matcher::builder().all(PROXY).no(".cometchat.io").build();
        assert!(!uses_proxy(&api, &matcher));
    }

    #[test]
    fn an_http_base_is_never_proxied() {
        let matcher = Matcher::builder().all(PROXY).http(PROXY).build();
        assert!(!uses_proxy(&url("http://127.0.0.1:8080/v3/"), &matcher));
        assert!(!uses_proxy(&url("http://localhost:8080/v3/"), &matcher));
    }
}
