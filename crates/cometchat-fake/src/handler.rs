//! From a request to an answer: routing, faults, auth, rate limits, the journal.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};

use crate::errors::{ApiError, detail};
use crate::faults::{Fault, FaultScripts, FaultSpec, normalise_route};
use crate::journal::JournalEntry;
use crate::store::{FakeUser, Store};

/// The largest request body accepted (CometChat documents a 10 KB request limit).
pub(crate) const MAX_BODY_BYTES: usize = 10 * 1024;
const APP_LIMIT_PER_MINUTE: u64 = 100_000;
const CORS_ALLOW_HEADERS: &str = "Content-Type,Accept,Cache-Control,Authorization,X-Requested-With,appId,apiKey,authToken,onBehalfOf,resource,Accept-Encoding,group,region,sdk,guid,uid,clientEnvironment,extensionId,username,password,callToken,onBehalfOfUser";

/// What the fake is set up with.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub app_id: String,
    pub region: String,
    pub api_key: String,
    pub strict: bool,
    pub rate_limit_per_minute: Option<u64>,
}

/// Everything that changes while the fake runs.
#[derive(Debug, Default)]
pub(crate) struct Mutable {
    pub store: Store,
    pub journal: Vec<JournalEntry>,
    pub faults: FaultScripts,
    window: Window,
}

/// A fixed one-minute window counting requests, for the rate-limit headers and the optional limit.
#[derive(Debug, Default)]
struct Window {
    started: Option<Instant>,
    core: u64,
    standard: u64,
}

/// The state shared by every connection and handle of one fake.
#[derive(Debug)]
pub(crate) struct Shared {
    pub settings: Settings,
    pub started: Instant,
    pub state: Mutex<Mutable>,
}

impl Shared {
    pub fn new(settings: Settings) -> Arc<Self> {
        Arc::new(Self {
            settings,
            started: Instant::now(),
            state: Mutex::new(Mutable::default()),
        })
    }

    /// The state; a panic in another thread while it was held does not make it unusable.
    pub fn lock(&self) -> MutexGuard<'_, Mutable> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A request, read whole.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    /// `None` when the body was larger than [`MAX_BODY_BYTES`].
    pub body: Option<Bytes>,
}

/// What to do with the connection.
pub(crate) enum Outcome {
    Respond(Response<Full<Bytes>>),
    /// Close the connection without a response.
    Close,
    /// Never answer.
    Hang,
}

enum Api {
    Admin,
    Client,
}

/// The route a request matched: its template and the path parameters.
struct Route {
    template: String,
    api: Api,
    uid: Option<String>,
    token: Option<String>,
}

fn match_route(method: &Method, rest: &str) -> Option<Route> {
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    let (path, api, uid, token) = match segments.as_slice() {
        ["users"] if matches!(*method, Method::GET | Method::POST) => {
            ("/users", Api::Admin, None, None)
        }
        ["users", uid] if matches!(*method, Method::GET | Method::PUT | Method::DELETE) => {
            ("/users/{uid}", Api::Admin, Some(*uid), None)
        }
        ["users", uid, "auth_tokens"]
            if matches!(*method, Method::GET | Method::POST | Method::DELETE) =>
        {
            ("/users/{uid}/auth_tokens", Api::Admin, Some(*uid), None)
        }
        ["users", uid, "auth_tokens", token]
            if matches!(*method, Method::GET | Method::PUT | Method::DELETE) =>
        {
            (
                "/users/{uid}/auth_tokens/{authToken}",
                Api::Admin,
                Some(*uid),
                Some(*token),
            )
        }
        ["me"] if matches!(*method, Method::GET | Method::PUT | Method::DELETE) => {
            ("/me", Api::Client, None, None)
        }
        ["user_sessions"] if *method == Method::POST => ("/user_sessions", Api::Client, None, None),
        ["settings"] if *method == Method::GET => ("/settings", Api::Client, None, None),
        _ => return None,
    };
    if uid.is_some_and(str::is_empty) || token.is_some_and(str::is_empty) {
        return None;
    }
    Some(Route {
        template: format!("{method} {path}"),
        api,
        uid: uid.map(str::to_owned),
        token: token.map(str::to_owned),
    })
}

/// The path after `/v3` or `/v3.0`, which the fake both serves.
fn strip_version(path: &str) -> Option<&str> {
    ["/v3.0", "/v3"]
        .iter()
        .filter_map(|prefix| path.strip_prefix(prefix))
        .find(|rest| rest.starts_with('/'))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn json_response(status: u16, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn error_response(e: &ApiError) -> Response<Full<Bytes>> {
    let mut response = json_response(e.status, &e.body());
    if let Some(seconds) = e.retry_after {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn add_common_headers(response: &mut Response<Full<Bytes>>) {
    let h = response.headers_mut();
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("must-revalidate, no-cache, private"),
    );
    h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    h.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("OPTIONS,HEAD,GET,POST,PUT,PATCH,DELETE"),
    );
    h.insert(
        "access-control-allow-headers",
        HeaderValue::from_static(CORS_ALLOW_HEADERS),
    );
}

/// "core" operations count against 10,000 a minute, the rest against 20,000 (as recorded).
fn is_core(template: &str) -> bool {
    matches!(template, "POST /users" | "DELETE /users/{uid}")
}

impl Window {
    /// Counts the request and returns (limit, remaining, app remaining, seconds to reset).
    fn count(&mut self, core: bool) -> (u64, u64, u64, u64) {
        let now = self.roll();
        let (limit, used) = if core {
            self.core += 1;
            (10_000, self.core)
        } else {
            self.standard += 1;
            (20_000, self.standard)
        };
        let total = self.core + self.standard;
        let elapsed = now.duration_since(self.started.unwrap_or(now)).as_secs();
        (
            limit,
            limit.saturating_sub(used),
            APP_LIMIT_PER_MINUTE.saturating_sub(total),
            60u64.saturating_sub(elapsed).max(1),
        )
    }

    /// Starts a new window when the current one is a minute old; returns now.
    fn roll(&mut self) -> Instant {
        let now = Instant::now();
        let started = *self.started.get_or_insert(now);
        if now.duration_since(started) >= Duration::from_secs(60) {
            *self = Window {
                started: Some(now),
                ..Window::default()
            };
        }
        now
    }

    /// Requests counted in the current window (a window that has expired counts none).
    fn total(&mut self) -> u64 {
        self.roll();
        self.core + self.standard
    }

    /// Whole seconds until the current window ends (at least 1), without counting a request.
    fn reset_in(&mut self) -> u64 {
        let now = self.roll();
        let elapsed = now.duration_since(self.started.unwrap_or(now)).as_secs();
        60u64.saturating_sub(elapsed).max(1)
    }
}

/// Header names (lower case) and values (lossy UTF-8), in order.
fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Answers one request.
pub(crate) async fn handle(shared: &Shared, req: Incoming) -> Outcome {
    if req.path == "/__admin" || req.path.starts_with("/__admin/") {
        return Outcome::Respond(control(shared, &req));
    }
    let at = shared.started.elapsed();
    let route = strip_version(&req.path).and_then(|rest| match_route(&req.method, rest));
    let preflight = req.method == Method::OPTIONS;
    let (outcome, response_body) = match (&route, preflight) {
        (_, true) => {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::NO_CONTENT;
            (Outcome::Respond(r), String::new())
        }
        (None, false) => respond(&ApiError::api_not_found().body(), 404, None),
        (Some(route), false) => serve(shared, &req, route).await,
    };
    let mut outcome = outcome;
    let status = match &mut outcome {
        Outcome::Respond(r) => {
            add_common_headers(r);
            let core = route.as_ref().is_some_and(|r| is_core(&r.template));
            let (limit, remaining, app_remaining, _) = shared.lock().window.count(core);
            let h = r.headers_mut();
            h.insert("x-ratelimit-limit", HeaderValue::from(limit));
            h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
            h.insert(
                "x-ratelimit-limit-for-app",
                HeaderValue::from(APP_LIMIT_PER_MINUTE),
            );
            h.insert(
                "x-ratelimit-remaining-for-app",
                HeaderValue::from(app_remaining),
            );
            Some(r.status().as_u16())
        }
        Outcome::Close | Outcome::Hang => None,
    };
    let response_headers = match &outcome {
        Outcome::Respond(r) => header_pairs(r.headers()),
        Outcome::Close | Outcome::Hang => Vec::new(),
    };
    let entry = JournalEntry {
        method: req.method.to_string(),
        path: req.path.clone(),
        query: req.query.clone(),
        route: route.as_ref().map(|r| r.template.clone()),
        headers: header_pairs(&req.headers),
        response_headers,
        body: req
            .body
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_else(|| "<too large>".to_owned()),
        status,
        response_body,
        at,
        unexpected: route.is_none() && !preflight,
    };
    shared.lock().journal.push(entry);
    outcome
}

fn respond(body: &Value, status: u16, retry_after: Option<u64>) -> (Outcome, String) {
    let mut r = json_response(status, body);
    if let Some(seconds) = retry_after {
        r.headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    (Outcome::Respond(r), body.to_string())
}

fn respond_error(e: &ApiError) -> (Outcome, String) {
    (Outcome::Respond(error_response(e)), e.body().to_string())
}

fn parse_body(body: &Option<Bytes>) -> Result<Option<Value>, ApiError> {
    let Some(bytes) = body else {
        let mut e = ApiError::validation(detail(
            "body",
            format!("The request body may not be greater than {MAX_BODY_BYTES} bytes."),
        ));
        e.status = 413;
        return Err(e);
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(bytes)
        .map(Some)
        .map_err(|_| ApiError::validation(detail("body", "The request body is not valid JSON.")))
}

async fn serve(shared: &Shared, req: &Incoming, route: &Route) -> (Outcome, String) {
    if let Some(limit) = shared.settings.rate_limit_per_minute {
        let mut state = shared.lock();
        if state.window.total() >= limit {
            // The answer itself is counted once, with the rate-limit headers, like any other.
            let reset = state.window.reset_in();
            drop(state);
            return respond_error(&ApiError::too_many_requests(reset));
        }
    }
    let fault = shared.lock().faults.next(&route.template);
    match fault {
        None => {}
        Some(Fault::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Some(Fault::Hang) => return (Outcome::Hang, String::new()),
        Some(Fault::Close) => return (Outcome::Close, String::new()),
        Some(Fault::Malformed) => {
            let body = "{\"data\": {\"uid\": ".to_owned();
            let mut r = Response::new(Full::new(Bytes::from(body.clone())));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return (Outcome::Respond(r), body);
        }
        Some(Fault::Status {
            status,
            retry_after,
        }) => {
            let mut e = if status == 429 {
                ApiError::too_many_requests(retry_after.unwrap_or(1))
            } else {
                ApiError::server_error(status)
            };
            e.retry_after = retry_after;
            return respond_error(&e);
        }
    }
    let result = match route.api {
        Api::Admin => admin(shared, req, route),
        Api::Client => client(shared, req, route),
    };
    match result {
        Ok((data, meta)) => {
            let body = match meta {
                Some(meta) => json!({"data": data, "meta": meta}),
                None => json!({ "data": data }),
            };
            respond(&body, 200, None)
        }
        Err(e) => respond_error(&e),
    }
}

type Answer = Result<(Value, Option<Value>), ApiError>;

fn admin(shared: &Shared, req: &Incoming, route: &Route) -> Answer {
    let given = header_str(&req.headers, "apikey").unwrap_or("");
    if given != shared.settings.api_key {
        return Err(ApiError::apikey_not_found(given));
    }
    let body = parse_body(&req.body)?;
    let body = body.as_ref();
    let query: Vec<(String, String)> = form_pairs(&req.query);
    let uid = route.uid.as_deref().unwrap_or("");
    let token = route.token.as_deref().unwrap_or("");
    let mut state = shared.lock();
    let store = &mut state.store;
    let plain = |r: Result<Value, ApiError>| r.map(|v| (v, None));
    let listed = |r: Result<(Value, Value), ApiError>| r.map(|(d, m)| (d, Some(m)));
    match route.template.as_str() {
        "POST /users" => plain(store.create_user(body)),
        "GET /users" => listed(store.list_users(&query)),
        "GET /users/{uid}" => plain(store.get_user(uid)),
        "PUT /users/{uid}" => plain(store.update_user(uid, body)),
        "DELETE /users/{uid}" => plain(store.delete_user(uid, body)),
        "POST /users/{uid}/auth_tokens" => plain(store.create_token(uid, body)),
        "GET /users/{uid}/auth_tokens" => listed(store.list_tokens(uid, &query)),
        "DELETE /users/{uid}/auth_tokens" => plain(store.flush_tokens(uid)),
        "GET /users/{uid}/auth_tokens/{authToken}" => plain(store.get_token(uid, token)),
        "PUT /users/{uid}/auth_tokens/{authToken}" => plain(store.update_token(uid, token, body)),
        "DELETE /users/{uid}/auth_tokens/{authToken}" => plain(store.delete_token(uid, token)),
        _ => Err(ApiError::api_not_found()),
    }
}

/// The settings the SDK caches: hosts point back at this fake, version `v3`.
fn sdk_settings(shared: &Shared, req: &Incoming) -> Value {
    let host = header_str(&req.headers, "host").unwrap_or("127.0.0.1");
    json!({
        "CHAT_API_VERSION": "v3",
        "CLIENT_API_HOST": host,
        "ADMIN_API_HOST": host,
        "ANALYTICS_PING_DISABLED": true,
        "REGION": shared.settings.region,
    })
}

fn client(shared: &Shared, req: &Incoming, route: &Route) -> Answer {
    let body = parse_body(&req.body)?;
    match route.template.as_str() {
        "GET /settings" => Ok((sdk_settings(shared, req), None)),
        "POST /user_sessions" => {
            let session = body
                .as_ref()
                .and_then(|b| b.get("sessionId"))
                .cloned()
                .unwrap_or_else(|| json!(format!("{:032x}", rand::random::<u128>())));
            Ok((json!({ "sessionId": session }), None))
        }
        template => {
            let token = header_str(&req.headers, "authtoken")
                .filter(|t| !t.is_empty())
                .ok_or_else(ApiError::auth_token_missing)?;
            let mut state = shared.lock();
            if template == "DELETE /me" {
                return if state.store.logout(token) {
                    Ok((json!({"success": true}), None))
                } else {
                    Err(ApiError::auth_token_unknown(token))
                };
            }
            let Some((user, _)) = state.store.login(token) else {
                return Err(ApiError::auth_token_unknown(token));
            };
            let mut me = Store::me_json(user);
            if let Value::Object(m) = &mut me {
                m.insert("status".into(), json!("available"));
                m.insert("authToken".into(), json!(token));
                m.insert(
                    "jwt".into(),
                    json!(format!("fake-jwt-{:032x}", rand::random::<u128>())),
                );
                m.insert("settings".into(), sdk_settings(shared, req));
            }
            Ok((me, None))
        }
    }
}

pub(crate) fn form_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn control_json(status: u16, body: Value) -> Response<Full<Bytes>> {
    json_response(status, &body)
}

fn control_error(status: u16, message: impl Into<String>) -> Response<Full<Bytes>> {
    control_json(status, json!({ "error": message.into() }))
}

/// The `/__admin/` control API (not journaled).
fn control(shared: &Shared, req: &Incoming) -> Response<Full<Bytes>> {
    let body = req.body.as_deref().unwrap_or_default();
    let path = req.path.trim_end_matches('/');
    match (&req.method, path) {
        (&Method::GET, "/__admin/requests") => control_json(200, json!(shared.lock().journal)),
        (&Method::POST, "/__admin/faults") => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Script {
                route: String,
                faults: Vec<FaultSpec>,
            }
            let script: Script = match serde_json::from_slice(body) {
                Ok(s) => s,
                Err(e) => {
                    return control_error(
                        400,
                        format!(
                            "expected {{\"route\": \"POST /users/{{uid}}/auth_tokens\", \"faults\": [...]}}: {e}"
                        ),
                    );
                }
            };
            let route = match normalise_route(&script.route) {
                Ok(r) => r,
                Err(e) => return control_error(400, e),
            };
            let faults: Result<Vec<Fault>, String> =
                script.faults.into_iter().map(Fault::try_from).collect();
            match faults {
                Ok(faults) => {
                    let n = faults.len();
                    shared.lock().faults.push(route.clone(), faults);
                    control_json(200, json!({"route": route, "queued": n}))
                }
                Err(e) => control_error(400, e),
            }
        }
        (&Method::POST, "/__admin/reset") => {
            *shared.lock() = Mutable::default();
            control_json(200, json!({"reset": true}))
        }
        (&Method::GET, "/__admin/users") => control_json(200, json!(shared.lock().store.users())),
        (&Method::POST, "/__admin/users") => {
            let users: Result<Vec<FakeUser>, _> =
                serde_json::from_slice::<Value>(body).and_then(|v| match v {
                    Value::Array(_) => serde_json::from_value(v),
                    other => serde_json::from_value(other).map(|u| vec![u]),
                });
            match users {
                Ok(users) => {
                    let n = users.len();
                    let mut state = shared.lock();
                    for user in users {
                        state.store.seed(user);
                    }
                    control_json(200, json!({ "seeded": n }))
                }
                Err(e) => control_error(
                    400,
                    format!("expected a user {{\"uid\", \"name\", ...}} or an array of them: {e}"),
                ),
            }
        }
        _ => control_error(
            404,
            "unknown control route; see GET /__admin/requests, POST /__admin/faults, POST /__admin/reset, GET|POST /__admin/users",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_route_is_served() {
        for route in crate::faults::ROUTES {
            let (method, template) = route.split_once(' ').unwrap();
            let path = template.replace("{uid}", "u").replace("{authToken}", "t");
            let method: Method = method.parse().unwrap();
            let matched = match_route(&method, &path).map(|r| r.template);
            assert_eq!(matched.as_deref(), Some(*route));
        }
        assert!(match_route(&Method::PATCH, "/users").is_none());
        assert!(match_route(&Method::GET, "/groups").is_none());
    }

    #[test]
    fn looking_up_the_reset_time_counts_no_request() {
        let mut window = Window::default();
        window.count(false);
        window.count(false);
        assert_eq!(window.total(), 2);
        assert!((1..=60).contains(&window.reset_in()));
        assert_eq!(window.total(), 2, "reset_in must not count");
        let (limit, remaining, _, _) = window.count(false);
        assert_eq!(remaining, limit - 3);
    }

    #[test]
    fn a_minute_old_window_starts_afresh() {
        let mut window = Window::default();
        window.count(true);
        window.started = Some(Instant::now() - Duration::from_secs(61));
        assert_eq!(window.total(), 0);
        let (limit, remaining, _, reset) = window.count(true);
        assert_eq!((remaining, reset), (limit - 1, 60));
    }
}
