//! Parity: the axum and actix-web quickstarts, started the same way (embedded `cometchat-fake`,
//! the same demo secret), answer the same requests identically: status, the headers that
//! matter, and the body's shape (problem `type`/`status`/`title`/`detail`, token keys and UID).

use std::time::Duration;

use cometchat_fake::{FakeCometChat, Fault};
use cometgate_conformance::{claims, now, sign};
use reqwest::Method;
use serde_json::{Value, json};

const SECRET: &str = "parity demo secret, at least 32 bytes";
const MINT: &str = "POST /users/{uid}/auth_tokens";
/// The headers compared between the adapters.
const HEADERS: [&str; 5] = [
    "content-type",
    "cache-control",
    "www-authenticate",
    "allow",
    "retry-after",
];

fn vars(name: &str) -> Option<String> {
    match name {
        "PORT" => Some("0".into()),
        "DEMO_JWT_SECRET" => Some(SECRET.into()),
        _ => None,
    }
}

/// One running quickstart, seen from outside.
struct Side {
    name: &'static str,
    base: String,
    http: reqwest::Client,
}

/// One request of the comparison.
#[derive(Clone)]
struct Call {
    what: &'static str,
    method: Method,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
}

impl Call {
    fn post(what: &'static str) -> Self {
        Self {
            what,
            method: Method::POST,
            path: "/cometchat-token",
            headers: Vec::new(),
            body: None,
        }
    }

    fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// What is compared: status, the relevant headers, whether an `x-request-id` came back (and
/// its value when the caller chose it), and the normalised body.
#[derive(Debug, PartialEq)]
struct Observed {
    status: u16,
    headers: Vec<(&'static str, Option<String>)>,
    request_id: Option<String>,
    body: Value,
}

impl Side {
    async fn send(&self, call: &Call) -> Observed {
        let mut request = self
            .http
            .request(call.method.clone(), format!("{}{}", self.base, call.path));
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        if let Some(body) = &call.body {
            request = request.body(body.clone());
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("[{}] {}: {e}", self.name, call.what));
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap_or("<not text>").to_owned())
        };
        let headers = HEADERS.iter().map(|&name| (name, header(name))).collect();
        let sent_id = call
            .headers
            .iter()
            .find(|(n, _)| *n == "x-request-id")
            .map(|(_, v)| v.clone());
        let request_id = header("x-request-id").map(|id| normalise_id(&id, sent_id.as_deref()));
        let echoed = header("x-request-id");
        let bytes = response.bytes().await.unwrap_or_default();
        let body = serde_json::from_slice::<Value>(&bytes)
            .map(|body| normalise_body(body, echoed.as_deref()))
            .unwrap_or_else(|_| json!({ "text": String::from_utf8_lossy(&bytes) }));
        Observed {
            status,
            headers,
            request_id,
            body,
        }
    }
}

/// A caller-chosen id is kept; a generated one (32 hex digits) becomes a marker.
fn normalise_id(id: &str, sent: Option<&str>) -> String {
    if Some(id) != sent && id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        "<generated>".into()
    } else {
        id.to_owned()
    }
}

/// Tokens differ per fake: keep the keys and the UID. A problem's `requestId` is checked to be
/// the echoed header, then replaced by a marker.
fn normalise_body(mut body: Value, echoed_id: Option<&str>) -> Value {
    if let Some(map) = body.as_object_mut() {
        if let Some(token) = map.get_mut("authToken") {
            assert!(token.as_str().is_some_and(|t| !t.is_empty()), "{token}");
            *token = json!("<token>");
        }
        // A request without a device id gets a generated one, different each time.
        if let Some(device) = map
            .get_mut("deviceId")
            .filter(|d| d.as_str().is_some_and(|d| d.starts_with("d-")))
        {
            *device = json!("<generated>");
        }
        if let Some(id) = map.get_mut("requestId") {
            let same = id.as_str() == echoed_id;
            *id = json!(if same { "<x-request-id>" } else { "<differs>" });
        }
    }
    body
}

/// Sends `call` to both sides and asserts they observed the same; returns the observation.
async fn same(axum: &Side, actix: &Side, call: Call) -> Observed {
    let (a, b) = tokio::join!(axum.send(&call), actix.send(&call));
    assert_eq!(a, b, "{}: axum (left) and actix (right) differ", call.what);
    a
}

fn token(sub: &str, exp: u64) -> String {
    sign(
        SECRET.as_bytes(),
        &claims(sub, Some(&format!("{sub} (parity)")), exp),
    )
}

fn alg_none(sub: &str) -> String {
    let enc = |v: Value| data_encoding::BASE64URL_NOPAD.encode(v.to_string().as_bytes());
    format!(
        "{}.{}.",
        enc(json!({"alg": "none", "typ": "JWT"})),
        enc(json!({"sub": sub, "exp": now() + 3600}))
    )
}

fn both_fakes<'a>(
    a: &'a axum_quickstart::Running,
    b: &'a actix_quickstart::Running,
) -> [&'a FakeCometChat; 2] {
    [
        a.fake().expect("axum quickstart runs the embedded fake"),
        b.fake().expect("actix quickstart runs the embedded fake"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_quickstarts_answer_alike() {
    let axum_app = axum_quickstart::start(axum_quickstart::Settings::from_lookup(vars).unwrap())
        .await
        .unwrap();
    let actix_app = actix_quickstart::start(actix_quickstart::Settings::from_lookup(vars).unwrap())
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let axum = Side {
        name: "axum",
        base: format!("http://{}", axum_app.addr()),
        http: http.clone(),
    };
    let actix = Side {
        name: "actix",
        base: format!("http://{}", actix_app.addr()),
        http,
    };
    let fakes = both_fakes(&axum_app, &actix_app);
    let valid = token("alice", now() + 3600);

    // A valid token: 200, the documented keys, the same UID, just-in-time provisioning.
    let ok = same(&axum, &actix, Call::post("valid token").bearer(&valid)).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["authToken"], "<token>");
    assert_eq!(ok.body["uid"], "alice");
    assert_eq!(ok.body["deviceId"], "<generated>");
    assert!(ok.body["expiresAt"].is_u64(), "{}", ok.body);
    for fake in fakes {
        assert_eq!(fake.tokens("alice").len(), 1);
        assert_eq!(fake.user("alice").unwrap().name, "alice (parity)");
    }

    // The body and query never name the caller, in either adapter: a query is ignored, a body
    // with fields other than `deviceId`/`refresh` is refused.
    let mut injected = Call::post("uid in the query").bearer(&valid);
    injected.path = "/cometchat-token?uid=mallory";
    injected.body = Some(br#"{"deviceId":"phone"}"#.to_vec());
    let injected = same(
        &axum,
        &actix,
        injected.header("content-type", "application/json"),
    )
    .await;
    assert_eq!(injected.body["uid"], "alice");
    let mut injected = Call::post("uid in the body").bearer(&valid);
    injected.body = Some(br#"{"uid":"mallory","user_id":"mallory"}"#.to_vec());
    let injected = same(
        &axum,
        &actix,
        injected.header("content-type", "application/json"),
    )
    .await;
    assert_eq!(injected.status, 400);
    for fake in fakes {
        assert!(fake.user("mallory").is_none());
    }

    // Identity problems, none of which reaches CometChat.
    let calls = fakes.map(|f| f.journal().len());
    let missing = same(&axum, &actix, Call::post("no token")).await;
    assert_eq!(missing.status, 401);
    let mut wrong_secret = token("alice", now() + 3600);
    wrong_secret.push('x');
    for (what, authorization) in [
        ("bad signature", format!("Bearer {wrong_secret}")),
        (
            "expired token",
            format!("Bearer {}", token("alice", now() - 3600)),
        ),
        ("alg none", format!("Bearer {}", alg_none("alice"))),
        ("not a bearer", "Basic YWxpY2U6cHc=".to_owned()),
        ("garbage", "Bearer not.a.jwt".to_owned()),
    ] {
        let bad = same(
            &axum,
            &actix,
            Call::post(what).header("authorization", authorization),
        )
        .await;
        assert_eq!(bad.status, 401, "{what}");
    }
    // Method and size.
    for method in [Method::GET, Method::PUT, Method::DELETE, Method::HEAD] {
        let mut call = Call::post("other method").bearer(&valid);
        call.method = method;
        let answer = same(&axum, &actix, call).await;
        assert_eq!(answer.status, 405);
    }
    let mut oversized = Call::post("oversized body").bearer(&valid);
    oversized.body = Some(vec![b' '; 64 * 1024]);
    assert_eq!(same(&axum, &actix, oversized).await.status, 413);
    for (fake, before) in fakes.iter().zip(calls) {
        assert_eq!(
            fake.journal().len(),
            before,
            "refused requests cost no upstream call"
        );
    }

    // Request ids: a safe one is echoed (header and problem body), an unsafe one replaced.
    let kept = same(
        &axum,
        &actix,
        Call::post("custom x-request-id").header("x-request-id", "parity-1.a:b"),
    )
    .await;
    assert_eq!(kept.request_id.as_deref(), Some("parity-1.a:b"));
    let replaced = same(
        &axum,
        &actix,
        Call::post("unsafe x-request-id").header("x-request-id", "a b"),
    )
    .await;
    assert_eq!(replaced.request_id.as_deref(), Some("<generated>"));

    // The app's own routes are passed through untouched.
    let mut todos = Call::post("pass-through route");
    todos.method = Method::GET;
    todos.path = "/todos";
    let todos = same(&axum, &actix, todos).await;
    assert_eq!(todos.status, 200);
    assert_eq!(todos.request_id, None);
    assert_eq!(todos.body.as_array().map(Vec::len), Some(2));
    let mut unknown = Call::post("unknown route");
    unknown.path = "/nope";
    assert_eq!(same(&axum, &actix, unknown).await.status, 404);

    // CometChat failures, scripted identically on both fakes.
    let script = |faults: Vec<Fault>| {
        for fake in fakes {
            fake.push_faults(MINT, faults.clone());
        }
    };
    // (One user per scenario, so that the per-user limit stays out of the way.)
    script(vec![Fault::status(401)]);
    let upstream_4xx = same(
        &axum,
        &actix,
        Call::post("upstream 4xx").bearer(&token("up4xx", now() + 3600)),
    )
    .await;
    assert_eq!(upstream_4xx.status, 502);
    script(vec![Fault::too_many_requests(0)]); // 0: no cooldown window for the next scenarios
    let upstream_429 = same(
        &axum,
        &actix,
        Call::post("upstream 429").bearer(&token("up429", now() + 3600)),
    )
    .await;
    assert_eq!(upstream_429.status, 503);
    script(vec![Fault::status(500)]);
    let retried = same(
        &axum,
        &actix,
        Call::post("one upstream 5xx").bearer(&token("up5xx-once", now() + 3600)),
    )
    .await;
    assert_eq!(retried.status, 200, "a single 5xx is retried");
    script(vec![Fault::status(503); 4]);
    let upstream_5xx = same(
        &axum,
        &actix,
        Call::post("upstream 5xx").bearer(&token("up5xx", now() + 3600)),
    )
    .await;
    assert_eq!(upstream_5xx.status, 502);

    // The per-user limit (quickstart default: burst 5): the same 429 and Retry-After.
    let limited = token("limited", now() + 3600);
    for n in 0..5 {
        let ok = same(
            &axum,
            &actix,
            Call::post("within the burst").bearer(&limited),
        )
        .await;
        assert_eq!(ok.status, 200, "request {n}");
    }
    let over = same(&axum, &actix, Call::post("over the burst").bearer(&limited)).await;
    assert_eq!(over.status, 429);

    axum_app.shutdown().await.unwrap();
    actix_app.shutdown().await.unwrap();
}
