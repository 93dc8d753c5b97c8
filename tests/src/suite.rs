//! The properties. Each is a plain function generic over the [`Adapter`], run by
//! [`security_suite!`](crate::security_suite) as one `#[test]`.

use std::time::{Duration, Instant};

use cometchat_fake::{FakeUser, Fault};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{Adapter, Env, Logs, Tuning, claims, now, runtime, sign};

const CASES: u32 = 256;
pub(crate) const MINT: &str = "POST /users/{uid}/auth_tokens";

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

pub(crate) fn check(cond: bool, message: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if cond {
        Ok(())
    } else {
        Err(TestCaseError::fail(message()))
    }
}

/// Runs a property and panics with the adapter name and the minimal failing input.
pub(crate) fn run<S: Strategy>(
    adapter: &str,
    property: &str,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    if let Err(e) = runner().run(&strategy, test) {
        panic!("[{adapter}] {property}: {e}");
    }
}

/// Where a request can try to name another user.
#[derive(Debug, Clone)]
enum Injection {
    Json(Value),
    Form(String),
    Query(String),
    Header(String, String),
}

fn injection(victim: String) -> impl Strategy<Value = Injection> {
    let keys = prop::sample::select(vec![
        "uid",
        "UID",
        "Uid",
        "user_id",
        "userId",
        "USER_ID",
        "sub",
        "Sub",
        "onBehalfOf",
    ]);
    let v = victim.clone();
    let v2 = victim.clone();
    let v3 = victim.clone();
    prop_oneof![
        keys.clone()
            .prop_map(move |k| Injection::Json(json!({ k: v.clone() }))),
        keys.clone().prop_map(move |k| Injection::Json(
            json!({"user": { k: v2.clone() }, "data": [{ k: v2.clone() }]})
        )),
        keys.clone()
            .prop_map(move |k| Injection::Form(format!("{k}={v3}"))),
        keys.clone().prop_map({
            let v = victim.clone();
            move |k| Injection::Query(format!("{k}={v}&user_id={v}"))
        }),
        prop::sample::select(vec![
            "x-uid",
            "uid",
            "x-user-id",
            "onBehalfOf",
            "x-cometchat-uid",
            "sub"
        ])
        .prop_map(move |h| Injection::Header(h.to_owned(), victim.clone())),
    ]
}

/// The UID comes only from the verified session: whatever the body, query or other headers
/// say, the token is for the session's UID and CometChat never hears of another one.
pub fn uid_comes_only_from_the_session<A: Adapter>() {
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::relaxed()));
    let strategy = ("s[a-z0-9]{2,10}", "victim[a-z0-9]{1,10}")
        .prop_flat_map(|(s, v)| (Just(s), injection(v.clone()), Just(v)));
    run(
        A::NAME,
        "uid only from the session",
        strategy,
        |(subject, inj, victim)| {
            rt.block_on(async {
                env.fake.reset();
                let mut req = env.token_request(Some(&env.token_for(&subject)));
                req = match &inj {
                    Injection::Json(v) => req.json(v),
                    Injection::Form(f) => req
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(f.clone()),
                    Injection::Query(q) => env
                        .http
                        .post(format!("{}/cometchat-token?{q}", env.base))
                        .bearer_auth(env.token_for(&subject)),
                    Injection::Header(h, v) => req.header(h.as_str(), v.as_str()),
                };
                let res = req
                    .send()
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                // A body with other fields (or not JSON) is refused as a whole: 400, no call.
                let refused_body = matches!(inj, Injection::Json(_) | Injection::Form(_));
                if refused_body && status == 400 {
                    check(
                        body["type"] == "https://cometgate.dev/problems/bad-request",
                        || format!("{inj:?}: {body}"),
                    )?;
                    return check(env.fake.journal().is_empty(), || {
                        format!("{inj:?}: a refused body reached CometChat")
                    });
                }
                check(status == 200, || format!("{inj:?}: status {status} {body}"))?;
                let expected = env.uid_for(&subject);
                check(body["uid"] == expected.as_str(), || {
                    format!("{inj:?}: {body}")
                })?;
                let token = body["authToken"].as_str().unwrap_or_default();
                check(token.starts_with(&format!("{expected}_")), || {
                    format!("token {token}")
                })?;
                let victim_uid = env.uid_for(&victim);
                for e in env.fake.journal() {
                    check(
                        !e.path.contains(&victim)
                            && !e.path.contains(&victim_uid)
                            && !e.body.contains(&victim)
                            && !e.body.contains(&victim_uid),
                        || {
                            format!(
                                "{inj:?}: upstream call names another user: {} {} {}",
                                e.method, e.path, e.body
                            )
                        },
                    )?;
                }
                Ok(())
            })
        },
    );
}

#[derive(Debug, Clone)]
enum BadCredential {
    Missing,
    Raw(String),
    Expired,
    WrongSecret,
    AlgNone,
    NoExp,
    Tampered,
}

/// Raw `Authorization` values that HTTP can carry (arbitrary text that is not a valid header
/// value cannot be sent at all, so it is filtered out rather than counted as a passing case).
fn sendable(prefix: &'static str, pattern: &'static str) -> impl Strategy<Value = BadCredential> {
    pattern
        .prop_map(move |s| format!("{prefix} {s}"))
        .prop_filter("must be a valid header value", |h| {
            reqwest::header::HeaderValue::from_str(h).is_ok()
        })
        .prop_map(BadCredential::Raw)
}

fn bad_credential() -> impl Strategy<Value = BadCredential> {
    prop_oneof![
        Just(BadCredential::Missing),
        sendable("Bearer", "\\PC{0,60}"),
        sendable("Bearer", "[A-Za-z0-9._-]{0,80}"),
        sendable("Basic", "\\PC{0,40}"),
        Just(BadCredential::Raw("Bearer".into())),
        Just(BadCredential::Expired),
        Just(BadCredential::WrongSecret),
        Just(BadCredential::AlgNone),
        Just(BadCredential::NoExp),
        Just(BadCredential::Tampered),
    ]
}

fn b64(bytes: &[u8]) -> String {
    data_encoding::BASE64URL_NOPAD.encode(bytes)
}

fn credential_header(env: &Env, c: &BadCredential, subject: &str) -> Option<String> {
    let claims = |exp| claims(subject, None, exp);
    Some(match c {
        BadCredential::Missing => return None,
        BadCredential::Raw(s) => s.clone(),
        BadCredential::Expired => format!("Bearer {}", sign(&env.secret, &claims(now() - 120))),
        BadCredential::WrongSecret => {
            format!("Bearer {}", sign(b"not-the-secret", &claims(now() + 3600)))
        }
        BadCredential::AlgNone => {
            let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
            let payload = b64(json!({"sub": subject, "exp": now() + 3600})
                .to_string()
                .as_bytes());
            format!("Bearer {header}.{payload}.")
        }
        BadCredential::NoExp => {
            // A correctly signed token without `exp`.
            let token = jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
                &json!({"sub": subject}),
                &jsonwebtoken::EncodingKey::from_secret(&env.secret),
            )
            .expect("sign");
            format!("Bearer {token}")
        }
        BadCredential::Tampered => {
            let token = sign(&env.secret, &claims(now() + 3600));
            let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
            parts[1] = b64(json!({"sub": "admin", "exp": now() + 3600})
                .to_string()
                .as_bytes());
            format!("Bearer {}", parts.join("."))
        }
    })
}

/// Missing, malformed, expired, wrongly signed and `alg: none` credentials get 401 and cause
/// no upstream call; the challenge says `invalid_token` only when credentials were presented.
pub fn bad_credentials_get_401_and_no_upstream_call<A: Adapter>() {
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::relaxed()));
    run(
        A::NAME,
        "bad credentials → 401",
        (bad_credential(), "[a-z]{3,8}"),
        |(cred, subject)| {
            rt.block_on(async {
                env.fake.reset();
                let mut req = env.http.post(format!("{}/cometchat-token", env.base));
                let header = credential_header(&env, &cred, &subject);
                if let Some(h) = &header {
                    let value = reqwest::header::HeaderValue::from_str(h)
                        .map_err(|e| TestCaseError::fail(format!("unsendable {h:?}: {e}")))?;
                    req = req.header("authorization", value);
                }
                let res = req
                    .send()
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let status = res.status().as_u16();
                let challenge = res
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let content_type = res
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                check(status == 401, || format!("{cred:?}: status {status}"))?;
                check(content_type.starts_with("application/problem+json"), || {
                    content_type.clone()
                })?;
                check(challenge.starts_with("Bearer realm="), || challenge.clone())?;
                let missing = header.is_none();
                check(
                    challenge.contains("error=\"invalid_token\"") != missing,
                    || format!("{cred:?}: challenge {challenge}"),
                )?;
                check(env.fake.journal().is_empty(), || {
                    format!("{cred:?}: upstream was called")
                })
            })
        },
    );
}

#[derive(Debug, Clone)]
enum Upstream {
    Normal,
    Fault(Fault),
}

fn upstream() -> impl Strategy<Value = Upstream> {
    prop_oneof![
        Just(Upstream::Normal),
        (500u16..600).prop_map(|s| Upstream::Fault(Fault::status(s))),
        (400u16..500).prop_map(|s| Upstream::Fault(Fault::status(s))),
        (1u64..60).prop_map(|s| Upstream::Fault(Fault::too_many_requests(s))),
        Just(Upstream::Fault(Fault::Malformed)),
        Just(Upstream::Fault(Fault::Close)),
    ]
}

/// The REST key never appears in a response (status line, headers, body) or in the logs,
/// whatever the request and whatever CometChat does.
/// Exactly one `cometgate::vend` event per token request, whatever the outcome (200, 401, the
/// adapter's own 405 and 413), carrying the request id the client sent; none for other routes.
pub fn one_event_per_token_request<A: Adapter>() {
    let logs = Logs::capture();
    let rt = runtime();
    rt.block_on(async {
        let env = Env::start::<A>(Tuning::relaxed()).await;
        let run_id = format!("{:x}", now());
        let id = |what: &str| format!("ev-{what}-{run_id}");
        let token = env.token_for("dora");
        let url = format!("{}/cometchat-token", env.base);
        let calls = [
            ("ok", env.http.post(&url).bearer_auth(&token), 200),
            ("missing", env.http.post(&url), 401),
            ("get", env.http.get(&url).bearer_auth(&token), 405),
            (
                "big",
                env.http
                    .post(&url)
                    .bearer_auth(&token)
                    .body(vec![b'x'; 1 << 20]),
                413,
            ),
            ("todos", env.http.get(format!("{}/todos", env.base)), 200),
        ];
        for (what, request, status) in calls {
            let response = request
                .header("x-request-id", id(what))
                .send()
                .await
                .expect("send");
            assert_eq!(response.status().as_u16(), status, "{}: {what}", A::NAME);
            assert_eq!(
                response
                    .headers()
                    .get("x-request-id")
                    .map(|v| v.to_str().unwrap_or_default()),
                (what != "todos").then(|| id(what)).as_deref(),
                "{}: {what}: the request id is echoed on token requests",
                A::NAME
            );
        }
        let text = logs.text();
        let events = |what: &str| {
            let needle = format!("request_id=\"{}\"", id(what));
            text.lines()
                .filter(|l| l.contains("cometgate::vend") && l.contains(&needle))
                .count()
        };
        for what in ["ok", "missing", "get", "big"] {
            assert_eq!(events(what), 1, "{}: {what}: {text}", A::NAME);
        }
        assert_eq!(events("todos"), 0, "{}: other routes log nothing", A::NAME);
    });
}

pub fn rest_key_never_leaks<A: Adapter>() {
    let logs = Logs::capture();
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::relaxed()));
    let key = env.fake.api_key().to_owned();
    let strategy = (
        upstream(),
        prop::option::of("\\PC{0,40}"),
        "[a-z0-9]{1,12}",
        any::<bool>(),
    );
    run(
        A::NAME,
        "the REST key never leaks",
        strategy,
        |(up, junk, subject, authed)| {
            rt.block_on(async {
                env.fake.reset();
                if let Upstream::Fault(f) = &up {
                    env.fake
                        .push_faults(MINT, std::iter::repeat_n(f.clone(), 4));
                }
                let token = env.token_for(&subject);
                let mut req = env.token_request(authed.then_some(token.as_str()));
                if let Some(junk) = &junk {
                    req = req.body(junk.clone()).header("x-junk", "1");
                }
                let res = req
                    .send()
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let status = res.status().as_u16();
                let headers = format!("{:?}", res.headers());
                let body = res.text().await.unwrap_or_default();
                check(status != 500, || format!("{up:?}: 500 {body}"))?;
                check(!headers.contains(&key) && !body.contains(&key), || {
                    format!("{up:?}: the key leaked: {headers} {body}")
                })
            })
        },
    );
    let captured = logs.text();
    assert!(
        !captured.is_empty(),
        "[{}] no log output was captured",
        A::NAME
    );
    assert!(
        !captured.contains(&key),
        "[{}] the REST key reached the logs",
        A::NAME
    );
}

/// CometChat `4xx` is never retried: exactly one upstream call.
pub fn upstream_4xx_is_never_retried<A: Adapter>() {
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::relaxed()));
    run(
        A::NAME,
        "4xx never retried",
        (400u16..500, "[a-z0-9]{1,12}"),
        |(status, subject)| {
            rt.block_on(async {
                env.fake.reset();
                // A 429 names `Retry-After: 0`: a window would fail the next cases fast.
                let fault = if status == 429 {
                    Fault::too_many_requests(0)
                } else {
                    Fault::status(status)
                };
                env.fake.push_faults(MINT, [fault]);
                let res = env
                    .token_request(Some(&env.token_for(&subject)))
                    .send()
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let got = res.status().as_u16();
                let expected = if status == 429 { 503 } else { 502 };
                check(got == expected, || format!("upstream {status} → {got}"))?;
                check(env.fake.count(MINT) == 1, || {
                    format!("upstream {status}: {} calls", env.fake.count(MINT))
                })
            })
        },
    );
}

/// CometChat `5xx` is retried at most 3 times, each wait at least double the one before.
pub fn upstream_5xx_is_retried_at_most_three_times<A: Adapter>() {
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::relaxed()));
    run(
        A::NAME,
        "5xx retried ≤ 3 times, doubling gaps",
        (prop::collection::vec(500u16..600, 1..7), "[a-z0-9]{1,12}"),
        |(statuses, subject)| {
            rt.block_on(async {
                env.fake.reset();
                // The user exists, so every mint call is a retry (no provisioning in between).
                env.fake
                    .seed_user(FakeUser::new(env.uid_for(&subject), "Retry"));
                env.fake
                    .push_faults(MINT, statuses.iter().map(|s| Fault::status(*s)));
                let res = env
                    .token_request(Some(&env.token_for(&subject)))
                    .send()
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let got = res.status().as_u16();
                let calls = env.fake.requests_to(MINT);
                let failures = statuses.len();
                let (want_calls, want_status) = if failures <= 3 {
                    (failures + 1, 200)
                } else {
                    (4, 502)
                };
                check(calls.len() == want_calls && got == want_status, || {
                    format!("{failures} failures: {} calls, status {got}", calls.len())
                })?;
                let at: Vec<Duration> = calls.iter().map(|c| c.at).collect();
                let gaps: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
                // Backoff doubles from the policy's initial delay (20 ms here): gap i is at least
                // 20 ms × 2^i. Only lower bounds are checked: a loaded machine can stretch a
                // wait, never shorten it (an upper bound made this property flaky).
                let floor = |i: u32| Duration::from_millis(20) * 2u32.pow(i);
                check(
                    gaps.iter().zip(0u32..).all(|(gap, i)| *gap >= floor(i)),
                    || format!("gaps {gaps:?}, each must be at least 20 ms × 2^i"),
                )
            })
        },
    );
}

/// A hung CometChat gets a 504 within the deadline plus a small margin.
pub fn hung_upstream_answers_504_at_the_deadline<A: Adapter>() {
    let deadline = Duration::from_millis(100);
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::short_deadline(deadline)));
    run(
        A::NAME,
        "hung upstream → 504",
        "[a-z0-9]{1,12}",
        |subject| {
            rt.block_on(async {
                env.fake.reset();
                env.fake.push_faults(MINT, [Fault::Hang]);
                let started = Instant::now();
                let res = env
                    .token_request(Some(&env.token_for(&subject)))
                    .send()
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let took = started.elapsed();
                let got = res.status().as_u16();
                check(got == 504, || format!("status {got}"))?;
                check(took < deadline + Duration::from_millis(900), || {
                    format!("took {took:?}")
                })
            })
        },
    );
}

/// The per-user limit answers 429 with an integer `Retry-After`, and one user's burst never
/// limits another.
pub fn per_user_limit_is_per_user<A: Adapter>() {
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::default_limits()));
    let counter = std::sync::atomic::AtomicUsize::new(0);
    run(A::NAME, "per-user limit", 6usize..9, |attempts| {
        rt.block_on(async {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (greedy, other) = (format!("greedy{n}"), format!("other{n}"));
            let mut statuses = Vec::new();
            let mut retry_after = None;
            for _ in 0..attempts {
                let res = env
                    .token_request(Some(&env.token_for(&greedy)))
                    .send()
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                if res.status() == 429 {
                    retry_after = res
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                }
                statuses.push(res.status().as_u16());
            }
            check(statuses[..5].iter().all(|s| *s == 200), || {
                format!("{statuses:?}")
            })?;
            check(statuses[5..].iter().all(|s| *s == 429), || {
                format!("{statuses:?}")
            })?;
            let seconds = retry_after.as_deref().and_then(|v| v.parse::<u64>().ok());
            check(seconds.is_some_and(|s| s >= 1), || {
                format!("Retry-After {retry_after:?}")
            })?;
            let res = env
                .token_request(Some(&env.token_for(&other)))
                .send()
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            check(res.status() == 200, || {
                format!("another user got {}", res.status())
            })
        })
    });
}

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(vec![
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::HEAD,
    ])
}

/// No request yields a 500 (or takes the server down), and every request to the token path is
/// answered with `Cache-Control: no-store`.
pub fn no_request_yields_a_500<A: Adapter>() {
    let rt = runtime();
    let env = rt.block_on(Env::start::<A>(Tuning::relaxed()));
    let strategy = (
        method(),
        prop::sample::select(vec![
            "/cometchat-token",
            "/cometchat-token/",
            "/todos",
            "/nope",
        ]),
        prop::option::of("\\PC{0,60}"),
        prop::collection::vec(("[a-zA-Z-]{1,12}", "[ -~]{0,30}"), 0..4),
        prop::collection::vec(any::<u8>(), 0..2048),
        any::<bool>(),
    );
    run(
        A::NAME,
        "no 500",
        strategy,
        |(method, path, auth, headers, body, valid)| {
            rt.block_on(async {
                let mut req = env
                    .http
                    .request(method.clone(), format!("{}{path}", env.base));
                for (k, v) in &headers {
                    if let (Ok(k), Ok(v)) = (
                        reqwest::header::HeaderName::from_bytes(k.as_bytes()),
                        reqwest::header::HeaderValue::from_str(v),
                    ) && k != reqwest::header::HOST
                        && k != reqwest::header::CONTENT_LENGTH
                    {
                        req = req.header(k, v);
                    }
                }
                if valid {
                    req = req.bearer_auth(env.token_for("someone"));
                } else if let Some(auth) = auth
                    && let Ok(v) = reqwest::header::HeaderValue::from_str(&auth)
                {
                    req = req.header("authorization", v);
                }
                let res = req
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let status = res.status().as_u16();
                check(status != 500, || format!("{method} {path}: 500"))?;
                if path == "/cometchat-token" {
                    let cache = res
                        .headers()
                        .get("cache-control")
                        .and_then(|v| v.to_str().ok());
                    check(cache == Some("no-store"), || {
                        format!("{method}: cache-control {cache:?}")
                    })?;
                }
                Ok(())
            })
        },
    );
    // Still serving.
    let status = rt.block_on(async {
        env.http
            .get(format!("{}/todos", env.base))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    assert_eq!(
        status.ok(),
        Some(200),
        "[{}] the app stopped answering",
        A::NAME
    );
}

/// Generates one `#[test]` per property for an adapter: the security properties and the
/// endpoint's HTTP contract ([`contract`](crate::contract)), the token lifecycle and the
/// webhook receivers ([`webhooks`](crate::webhooks)).
#[macro_export]
macro_rules! security_suite {
    ($adapter:ty) => {
        #[test]
        fn uid_comes_only_from_the_session() {
            $crate::suite::uid_comes_only_from_the_session::<$adapter>();
        }
        #[test]
        fn bad_credentials_get_401_and_no_upstream_call() {
            $crate::suite::bad_credentials_get_401_and_no_upstream_call::<$adapter>();
        }
        #[test]
        fn one_event_per_token_request() {
            $crate::suite::one_event_per_token_request::<$adapter>();
        }
        #[test]
        fn rest_key_never_leaks() {
            $crate::suite::rest_key_never_leaks::<$adapter>();
        }
        #[test]
        fn upstream_4xx_is_never_retried() {
            $crate::suite::upstream_4xx_is_never_retried::<$adapter>();
        }
        #[test]
        fn upstream_5xx_is_retried_at_most_three_times() {
            $crate::suite::upstream_5xx_is_retried_at_most_three_times::<$adapter>();
        }
        #[test]
        fn hung_upstream_answers_504_at_the_deadline() {
            $crate::suite::hung_upstream_answers_504_at_the_deadline::<$adapter>();
        }
        #[test]
        fn per_user_limit_is_per_user() {
            $crate::suite::per_user_limit_is_per_user::<$adapter>();
        }
        #[test]
        fn no_request_yields_a_500() {
            $crate::suite::no_request_yields_a_500::<$adapter>();
        }
        #[test]
        fn other_requests_pass_through_untouched() {
            $crate::contract::other_requests_pass_through_untouched::<$adapter>();
        }
        #[test]
        fn every_answer_has_no_store_a_request_id_and_the_right_challenge() {
            $crate::contract::every_answer_has_no_store_a_request_id_and_the_right_challenge::<
                $adapter,
            >();
        }
        #[test]
        fn other_methods_get_405_with_allow() {
            $crate::contract::other_methods_get_405_with_allow::<$adapter>();
        }
        #[test]
        fn bodies_over_the_limit_get_413() {
            $crate::contract::bodies_over_the_limit_get_413::<$adapter>();
        }
        #[test]
        fn slow_bodies_get_408_and_anonymous_requests_never_wait() {
            $crate::contract::slow_bodies_get_408_and_anonymous_requests_never_wait::<$adapter>();
        }
        #[test]
        fn cross_site_cookie_requests_are_refused() {
            $crate::contract::cross_site_cookie_requests_are_refused::<$adapter>();
        }
        #[test]
        fn cross_site_bearer_requests_are_served() {
            $crate::contract::cross_site_bearer_requests_are_served::<$adapter>();
        }
        #[test]
        fn custom_path_and_problem_base() {
            $crate::contract::custom_path_and_problem_base::<$adapter>();
        }
        #[test]
        fn devices_reuse_refresh_and_revoke() {
            $crate::lifecycle::devices_reuse_refresh_and_revoke::<$adapter>();
        }
        #[test]
        fn bad_device_ids_are_400_without_an_upstream_call() {
            $crate::lifecycle::bad_device_ids_are_400_without_an_upstream_call::<$adapter>();
        }
        #[test]
        fn webhook_each_source_creates_updates_and_deletes() {
            $crate::webhooks::each_source_creates_updates_and_deletes::<$adapter>();
        }
        #[test]
        fn webhook_redeliveries_have_no_second_side_effect() {
            $crate::webhooks::redeliveries_have_no_second_side_effect::<$adapter>();
        }
        #[test]
        fn webhook_refused_deliveries_are_problems_without_an_upstream_call() {
            $crate::webhooks::refused_deliveries_are_problems_without_an_upstream_call::<$adapter>(
            );
        }
        #[test]
        fn webhook_a_deleted_account_stays_deleted() {
            $crate::webhooks::a_deleted_account_stays_deleted::<$adapter>();
        }
        #[test]
        fn webhook_clerk_webhook_uid_is_the_token_uid() {
            $crate::webhooks::clerk_webhook_uid_is_the_token_uid::<$adapter>();
        }
        #[test]
        fn webhook_standard_webhook_uid_is_the_token_uid() {
            $crate::webhooks::standard_webhook_uid_is_the_token_uid::<$adapter>();
        }
        #[test]
        fn webhook_supabase_webhook_uid_is_the_token_uid() {
            $crate::webhooks::supabase_webhook_uid_is_the_token_uid::<$adapter>();
        }
        #[test]
        fn webhook_auth0_webhook_uid_is_the_token_uid() {
            $crate::webhooks::auth0_webhook_uid_is_the_token_uid::<$adapter>();
        }
    };
}
