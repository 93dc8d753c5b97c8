//! The endpoint's HTTP contract, written once and run against every adapter by
//! [`security_suite!`](crate::security_suite): pass-through, 405, 408, 413, request ids,
//! `Cache-Control`, challenges, the cross-site defence, custom paths and problem bases.

use std::time::{Duration, Instant};

use cometgate::{Identity, Principal, Rejection, RequestView};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::suite::{check, run};
use crate::{Adapter, Env, Tuning, echo, runtime};

const LIMIT: usize = cometgate::endpoint::DEFAULT_BODY_LIMIT;

fn is_fresh_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// Requests the endpoint does not serve reach the app exactly as sent: method, path, query,
/// headers and body (even one far over the endpoint's body limit), with no upstream call.
pub fn other_requests_pass_through_untouched<A: Adapter>() {
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::relaxed()));
    let method = prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH"]);
    let path = prop::sample::select(vec![
        "/cometchat-token/",
        "/cometchat-tokens",
        "/cometchat-token.json",
        "/api/cometchat-token",
        "/Cometchat-Token",
        "/anything/else",
    ]);
    let strategy = (
        method,
        path,
        "[a-z0-9=&]{0,20}",
        "[ -~]{0,40}",
        prop::collection::vec(any::<u8>(), 0..LIMIT * 3),
    );
    run(
        A::NAME,
        "pass-through untouched",
        strategy,
        |(method, path, query, x_echo, body)| {
            rt.block_on(async {
                let target = if query.is_empty() {
                    path.to_owned()
                } else {
                    format!("{path}?{query}")
                };
                let res = env
                    .http
                    .request(
                        Method::from_bytes(method.as_bytes()).map_err(fail)?,
                        format!("{}{target}", env.base),
                    )
                    .header("x-echo", x_echo.trim())
                    .header("authorization", format!("Bearer {}", env.token_for("pat")))
                    .body(body.clone())
                    .send()
                    .await
                    .map_err(fail)?;
                check(res.status() == 200, || {
                    format!("{method} {target}: {}", res.status())
                })?;
                let got = res.bytes().await.map_err(fail)?;
                let want = echo(method, &target, Some(x_echo.trim().as_bytes()), &body);
                check(got == want, || format!("{method} {target}: body changed"))?;
                check(env.fake.journal().is_empty(), || {
                    format!("{method} {target}: the endpoint called CometChat")
                })
            })
        },
    );
}

/// Whatever the credentials and the incoming request id, every answer on the token route
/// carries `Cache-Control: no-store` and an `x-request-id` (the caller's when it is safe, else
/// a fresh one, also in the problem body), and 401s carry the right challenge.
pub fn every_answer_has_no_store_a_request_id_and_the_right_challenge<A: Adapter>() {
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::relaxed()));
    #[derive(Debug, Clone, Copy)]
    enum Cred {
        Valid,
        Missing,
        Invalid,
    }
    let cred = prop::sample::select(vec![Cred::Valid, Cred::Missing, Cred::Invalid]);
    let id = prop_oneof![
        Just(None),
        "[A-Za-z0-9._:-]{1,64}".prop_map(Some),
        "[ \t]{0,2}[A-Za-z0-9]{1,8}[ \t]{0,2}".prop_map(Some),
        "[ -~]{0,80}".prop_map(Some),
    ];
    run(
        A::NAME,
        "no-store, request ids, challenges",
        (cred, id, "[a-z0-9]{1,10}"),
        |(cred, id, subject)| {
            rt.block_on(async {
                let bearer = match cred {
                    Cred::Valid => Some(env.token_for(&subject)),
                    Cred::Missing => None,
                    Cred::Invalid => Some(format!("{}x", env.token_for(&subject))),
                };
                let mut req = env.token_request(bearer.as_deref());
                if let Some(id) = &id {
                    req = req.header("x-request-id", id.as_str());
                }
                let res = req.send().await.map_err(fail)?;
                let status = res.status().as_u16();
                check(
                    header(&res, "cache-control").as_deref() == Some("no-store"),
                    || format!("{cred:?}: no Cache-Control: no-store"),
                )?;
                let echoed = header(&res, "x-request-id").unwrap_or_default();
                // Spaces around a field value are not part of it (RFC 9110 §5.5).
                let safe = id
                    .as_deref()
                    .map(|i| i.trim_matches([' ', '\t']))
                    .filter(|i| cometgate::endpoint::rules::is_safe_request_id(i));
                match safe {
                    Some(safe) => {
                        check(echoed == safe, || format!("{safe:?} echoed as {echoed:?}"))?
                    }
                    None => check(is_fresh_id(&echoed), || format!("{id:?} → {echoed:?}"))?,
                }
                let challenge = header(&res, "www-authenticate");
                let content_type = header(&res, "content-type").unwrap_or_default();
                let body: Value = res.json().await.map_err(fail)?;
                match cred {
                    Cred::Valid => {
                        check(status == 200, || format!("valid: {status}"))?;
                        check(content_type == "application/json", || content_type.clone())?;
                        check(
                            body["authToken"].is_string() && body["uid"].is_string(),
                            || body.to_string(),
                        )
                    }
                    Cred::Missing | Cred::Invalid => {
                        check(status == 401, || format!("{cred:?}: {status}"))?;
                        check(content_type == "application/problem+json", || {
                            content_type.clone()
                        })?;
                        check(body["requestId"] == echoed.as_str(), || body.to_string())?;
                        let want = match cred {
                            Cred::Missing => r#"Bearer realm="cometgate""#,
                            _ => r#"Bearer realm="cometgate", error="invalid_token""#,
                        };
                        check(challenge.as_deref() == Some(want), || {
                            format!("{challenge:?}")
                        })
                    }
                }
            })
        },
    );
    assert!(
        env.fake.count(crate::suite::MINT) > 0,
        "[{}] no valid case ran",
        A::NAME
    );
}

/// Any method but `POST` on the token route: 405 with `Allow: POST`, whatever the credentials,
/// and no upstream call.
pub fn other_methods_get_405_with_allow<A: Adapter>() {
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::relaxed()));
    let method = prop::sample::select(vec!["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"]);
    run(
        A::NAME,
        "405 with Allow",
        (method, any::<bool>()),
        |(method, with_credentials)| {
            rt.block_on(async {
                let mut req = env.http.request(
                    Method::from_bytes(method.as_bytes()).map_err(fail)?,
                    format!("{}/cometchat-token", env.base),
                );
                if with_credentials {
                    req = req.header("authorization", format!("Bearer {}", env.token_for("m")));
                }
                let res = req.send().await.map_err(fail)?;
                check(res.status() == 405, || {
                    format!("{method}: {}", res.status())
                })?;
                check(header(&res, "allow").as_deref() == Some("POST"), || {
                    format!("{method}: Allow {:?}", header(&res, "allow"))
                })?;
                let body: Value = res.json().await.map_err(fail)?;
                check(
                    body["type"] == "https://cometgate.dev/problems/method-not-allowed",
                    || body.to_string(),
                )?;
                check(env.fake.journal().is_empty(), || {
                    format!("{method}: upstream called")
                })
            })
        },
    );
}

/// A body up to the limit is read and accepted (a token request padded with spaces); one byte
/// more is 413, declared or streamed (chunked), with no upstream call.
pub fn bodies_over_the_limit_get_413<A: Adapter>() {
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::relaxed()));
    let addr = env.base.trim_start_matches("http://").to_owned();
    run(
        A::NAME,
        "413 over the body limit",
        (0..LIMIT * 3, any::<bool>()),
        |(size, chunked)| {
            rt.block_on(async {
                env.fake.reset();
                let token = env.token_for("big");
                let mut request = format!(
                    "POST /cometchat-token HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
                     connection: close\r\n"
                )
                .into_bytes();
                if chunked {
                    // No length announced: the size is only known by reading.
                    request.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
                    for chunk in padded_body(size).chunks(1000) {
                        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                        request.extend_from_slice(chunk);
                        request.extend_from_slice(b"\r\n");
                    }
                    request.extend_from_slice(b"0\r\n\r\n");
                } else {
                    request.extend_from_slice(format!("content-length: {size}\r\n\r\n").as_bytes());
                    request.extend_from_slice(&padded_body(size));
                }
                let answer = raw_request(&addr, &request).await.map_err(fail)?;
                let status = answer.split(' ').nth(1).unwrap_or_default().to_owned();
                if size <= LIMIT {
                    check(status == "200", || format!("{size} bytes: {status}"))
                } else {
                    check(status == "413", || format!("{size} bytes, chunked {chunked}: {status}"))?;
                    check(answer.contains("https://cometgate.dev/problems/body-too-large"), || {
                        answer.clone()
                    })?;
                    check(env.fake.journal().is_empty(), || "upstream called".into())
                }
            })
        },
    );
}

/// `size` bytes of a valid token request body: `{"deviceId":"big"}` padded with spaces (only
/// spaces, which count as an empty body, when it does not fit).
fn padded_body(size: usize) -> Vec<u8> {
    let json = br#"{"deviceId":"big"}"#;
    let mut body = if size >= json.len() {
        json.to_vec()
    } else {
        Vec::new()
    };
    body.resize(size, b' ');
    body
}

/// Writes a whole request on a fresh connection and reads the answer until the server closes.
pub(crate) async fn raw_request(addr: &str, request: &[u8]) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    // The server may answer 413 and close before reading everything: a failed write is fine,
    // the answer is what counts.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer));
    match read.await {
        Ok(Ok(_)) => {}
        // A reset after the answer arrived still leaves the answer readable.
        Ok(Err(e)) if !answer.is_empty() => drop(e),
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(std::io::Error::other("no answer within 20 s")),
    }
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// Sends `head` (and then `body_part`, and waits) on a raw connection; returns the status line's
/// code and how long the answer took from the first byte sent.
async fn raw_exchange(addr: &str, head: String, body_part: &[u8]) -> (u16, Duration) {
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body_part).await.expect("write body part");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    // The connection stays open (the body is incomplete): read until the status line is in.
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf))
            .await
            .expect("an answer within 20 s")
            .expect("read");
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    let elapsed = started.elapsed();
    let status = String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, elapsed)
}

/// A body that trickles in slower than the read timeout gets 408 soon after the timeout, and a
/// request without credentials is answered without waiting for its body at all.
pub fn slow_bodies_get_408_and_anonymous_requests_never_wait<A: Adapter>() {
    let rt = runtime();
    let timeout = Duration::from_millis(400);
    let env = rt.block_on(Env::start_with::<A>(Tuning::relaxed(), |e| {
        e.with_read_timeout(timeout)
    }));
    let addr = env.base.trim_start_matches("http://").to_owned();
    rt.block_on(async {
        let token = env.token_for("slow");
        let head = format!(
            "POST /cometchat-token HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
             content-length: 100\r\n\r\n"
        );
        let (status, took) = raw_exchange(&addr, head, b"{").await;
        assert_eq!(status, 408, "[{}] a stalled body", A::NAME);
        assert!(
            took >= timeout && took < timeout + Duration::from_secs(3),
            "[{}] 408 after {took:?} (timeout {timeout:?})",
            A::NAME
        );
        let head = format!(
            "POST /cometchat-token HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 100\r\n\r\n"
        );
        let (status, took) = raw_exchange(&addr, head, b"").await;
        assert_eq!(status, 401, "[{}] no credentials", A::NAME);
        assert!(
            took < timeout,
            "[{}] the 401 waited {took:?} for a body it does not need",
            A::NAME
        );
        // Credentials that do not verify are refused before the body is waited for, too.
        let head = format!(
            "POST /cometchat-token HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer garbage\r\n\
             content-length: 100\r\n\r\n"
        );
        let (status, took) = raw_exchange(&addr, head, b"").await;
        assert_eq!(status, 401, "[{}] invalid credentials", A::NAME);
        assert!(
            took < timeout,
            "[{}] the 401 waited {took:?} for a body",
            A::NAME
        );
    });
    assert!(
        env.fake.journal().is_empty(),
        "[{}] upstream called",
        A::NAME
    );
}

/// A cookie session: `Cookie: session=<subject>` (no `Authorization` header).
#[derive(Debug, Clone, Copy)]
pub struct CookieSession;

impl Identity for CookieSession {
    type Credentials = String;

    fn extract<R: RequestView + ?Sized>(&self, request: &R) -> Result<String, Rejection> {
        let cookie = request.header_str("cookie").ok_or(Rejection::Missing)?;
        cookie
            .split(';')
            .find_map(|c| c.trim().strip_prefix("session="))
            .map(str::to_owned)
            .ok_or(Rejection::Missing)
    }

    async fn verify(&self, subject: String) -> Result<Principal, Rejection> {
        Ok(Principal::new("https://cookies.example", subject))
    }
}

/// Browser-sent (cookie) credentials are honoured only from the app's own site or an allowed
/// origin; a cross-site request gets `403 cross-site-request` and no upstream call.
pub fn cross_site_cookie_requests_are_refused<A: Adapter>() {
    let rt = runtime();
    let allowed = "https://app.example";
    let env = rt.block_on(Env::start_with_identity::<A, _>(
        Tuning::relaxed(),
        CookieSession,
        |e| e.with_allowed_origins([allowed]).expect("a valid origin"),
    ));
    let own = env.base.clone();
    let fetch_site = prop::sample::select(vec![
        None,
        Some("same-origin"),
        Some("none"),
        Some("same-site"),
        Some("cross-site"),
    ]);
    let origin = prop::sample::select(vec![
        None,
        Some(own.clone()),
        Some(allowed.to_owned()),
        Some("https://evil.example".to_owned()),
        Some("null".to_owned()),
    ]);
    run(
        A::NAME,
        "cross-site cookie requests refused",
        (
            fetch_site,
            origin,
            prop::sample::select(vec![None, Some("Basic dXNlcjpwYXNz"), Some("Bearer junk")]),
            "[a-z0-9]{1,10}",
        ),
        |(fetch_site, origin, authorization, subject)| {
            rt.block_on(async {
                env.fake.reset();
                let mut req = env
                    .http
                    .post(format!("{}/cometchat-token", env.base))
                    .header("cookie", format!("theme=dark; session={subject}"));
                if let Some(site) = fetch_site {
                    req = req.header("sec-fetch-site", site);
                }
                if let Some(origin) = &origin {
                    req = req.header("origin", origin.as_str());
                }
                // A header the cookie identity does not read (a browser may attach cached Basic
                // credentials by itself) must not switch the defence off.
                if let Some(authorization) = authorization {
                    req = req.header("authorization", authorization);
                }
                let res = req.send().await.map_err(fail)?;
                let from_allowed = origin.as_deref() == Some(allowed);
                // The rule, as documented in cometgate::endpoint::origin.
                let same_site = match fetch_site {
                    Some("same-origin" | "none") => true,
                    Some(_) => from_allowed,
                    None => origin.is_none() || from_allowed || origin.as_deref() == Some(&own),
                };
                let status = res.status().as_u16();
                if same_site {
                    check(status == 200, || {
                        format!("{fetch_site:?} {origin:?}: {status}")
                    })
                } else {
                    check(status == 403, || {
                        format!("{fetch_site:?} {origin:?}: {status}")
                    })?;
                    let body: Value = res.json().await.map_err(fail)?;
                    check(
                        body["type"] == "https://cometgate.dev/problems/cross-site-request",
                        || body.to_string(),
                    )?;
                    check(env.fake.journal().is_empty(), || "upstream called".into())
                }
            })
        },
    );
}

/// A bearer token is not ambient: the cometgate-jwt identity is served cross-site too.
pub fn cross_site_bearer_requests_are_served<A: Adapter>() {
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::relaxed()));
    rt.block_on(async {
        let res = env
            .token_request(Some(&env.token_for("spa")))
            .header("sec-fetch-site", "cross-site")
            .header("origin", "https://spa.example")
            .send()
            .await
            .expect("send");
        assert_eq!(
            res.status(),
            200,
            "[{}] a bearer token from another origin",
            A::NAME
        );
    });
}

/// A custom token path moves the route (the default path is then the app's), and a custom
/// problem base changes every `type`.
pub fn custom_path_and_problem_base<A: Adapter>() {
    let rt = runtime();
    let env = rt.block_on(Env::start_with::<A>(Tuning::relaxed(), |e| {
        e.with_path("/api/chat/token")
            .expect("a valid path")
            .with_problem_base("https://docs.myapp.example/errors")
            .expect("a valid base")
    }));
    rt.block_on(async {
        let moved = env
            .http
            .post(format!("{}/api/chat/token", env.base))
            .header("authorization", format!("Bearer {}", env.token_for("cp")))
            .send()
            .await
            .expect("send");
        assert_eq!(moved.status(), 200, "[{}] custom path", A::NAME);
        let old = env.token_request(None).send().await.expect("send");
        assert_eq!(
            old.status(),
            200,
            "[{}] the default path is the app's",
            A::NAME
        );
        assert_eq!(
            old.bytes().await.unwrap(),
            echo("POST", "/cometchat-token", None, b""),
            "[{}]",
            A::NAME
        );
        let problem: Value = env
            .http
            .post(format!("{}/api/chat/token", env.base))
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        assert_eq!(
            problem["type"],
            "https://docs.myapp.example/errors/missing-credentials",
            "[{}]",
            A::NAME
        );
        let revoke = env
            .http
            .post(format!("{}/api/chat/token/revoke", env.base))
            .header("authorization", format!("Bearer {}", env.token_for("cp")))
            .body(r#"{"all": true}"#)
            .send()
            .await
            .expect("send");
        assert_eq!(
            revoke.status(),
            204,
            "[{}] revoke under the custom path",
            A::NAME
        );
    });
}
