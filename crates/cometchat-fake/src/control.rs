//! The control API under `/__admin/`, for tests in any language: the journal, fault scripts,
//! reset, seeding. It needs no key, is not journaled, and takes bodies up to
//! [`MAX_CONTROL_BODY_BYTES`] (a larger one answers 413).

use http::{HeaderValue, Method};
use serde_json::{Value, json};

use crate::fake_user::FakeUser;
use crate::faults::{Fault, FaultSpec};
use crate::handler::Incoming;
use crate::response::Reply;
use crate::routes::normalise_route;
use crate::state::Shared;

/// The largest body the control API reads: 1 MiB, room for thousands of seeded users.
pub const MAX_CONTROL_BODY_BYTES: usize = 1024 * 1024;

/// Whether a path belongs to the control API.
pub(crate) fn is_control_path(path: &str) -> bool {
    path == "/__admin" || path.starts_with("/__admin/")
}

fn control_error(status: u16, message: impl Into<String>) -> Reply {
    Reply::json(status, &json!({ "error": message.into() }))
}

pub(crate) fn serve(shared: &Shared, req: &Incoming) -> Reply {
    let Some(body) = req.body.as_deref() else {
        return control_error(
            413,
            format!("the control API takes bodies of at most {MAX_CONTROL_BODY_BYTES} bytes"),
        );
    };
    match (&req.method, req.path.trim_end_matches('/')) {
        (&Method::GET, "/__admin/requests") => journal(shared),
        (&Method::POST, "/__admin/faults") => queue_faults(shared, body),
        (&Method::POST, "/__admin/reset") => {
            shared.reset();
            Reply::json(200, &json!({"reset": true}))
        }
        (&Method::GET, "/__admin/users") => Reply::json(200, &json!(shared.lock().store.users())),
        (&Method::POST, "/__admin/users") => seed_users(shared, body),
        _ => control_error(
            404,
            "unknown control route; see GET /__admin/requests, POST /__admin/faults, POST /__admin/reset, GET|POST /__admin/users",
        ),
    }
}

/// The entries the journal holds, oldest first; `X-Journal-Capacity` and `X-Journal-Dropped`
/// say how many it can hold and how many it no longer has.
fn journal(shared: &Shared) -> Reply {
    let state = shared.lock();
    let journal = &state.journal;
    let mut reply = Reply::json(200, &json!(journal.entries()));
    reply
        .headers
        .insert("x-journal-capacity", HeaderValue::from(journal.capacity()));
    reply
        .headers
        .insert("x-journal-dropped", HeaderValue::from(journal.dropped()));
    reply
}

fn queue_faults(shared: &Shared, body: &[u8]) -> Reply {
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
            shared.lock().faults.push(route, faults);
            Reply::json(200, &json!({"route": route, "queued": n}))
        }
        Err(e) => control_error(400, e),
    }
}

fn seed_users(shared: &Shared, body: &[u8]) -> Reply {
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
            Reply::json(200, &json!({ "seeded": n }))
        }
        Err(e) => control_error(
            400,
            format!("expected a user {{\"uid\", \"name\", ...}} or an array of them: {e}"),
        ),
    }
}
