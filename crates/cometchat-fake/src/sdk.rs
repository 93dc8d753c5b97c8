//! The client API the official JS SDK calls to log in with an auth token: `PUT /me` (login),
//! `GET /me`, `DELETE /me` (logout), `POST /user_sessions`, `GET /settings`.
//!
//! It is keyed by the `authToken` header, not the REST API key. The real server's `/me` body is
//! not public; the fake answers what the SDK reads (see `shared/cometchat-api.md` §10).

use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::handler::{Answer, Incoming};
use crate::routes::SdkRoute;
use crate::state::Shared;
use crate::validation::parse_body;

/// The settings the SDK caches: hosts point back at this fake, version `v3`, so the SDK keeps
/// calling it after login.
fn sdk_settings(shared: &Shared, req: &Incoming) -> Value {
    let host = req.header("host").unwrap_or("127.0.0.1");
    json!({
        "CHAT_API_VERSION": "v3",
        "CLIENT_API_HOST": host,
        "ADMIN_API_HOST": host,
        "ANALYTICS_PING_DISABLED": true,
        "REGION": shared.settings.region,
    })
}

pub(crate) fn serve(shared: &Shared, route: SdkRoute, req: &Incoming) -> Answer {
    let body = parse_body(req.body.as_ref())?;
    match route {
        SdkRoute::GetSettings => Ok((sdk_settings(shared, req), None)),
        SdkRoute::CreateSession => {
            // The SDK posts analytics and only needs an answer with `data`.
            let session = body
                .as_ref()
                .and_then(|b| b.get("sessionId"))
                .cloned()
                .unwrap_or_else(|| json!(format!("{:032x}", rand::random::<u128>())));
            Ok((json!({ "sessionId": session }), None))
        }
        SdkRoute::LogOut => {
            let token = auth_token(req)?;
            if shared.lock().store.logout(token) {
                Ok((json!({"success": true}), None))
            } else {
                Err(ApiError::auth_token_unknown(token))
            }
        }
        SdkRoute::GetMe | SdkRoute::LogIn => {
            let token = auth_token(req)?;
            let user = shared
                .lock()
                .store
                .login(token)
                .ok_or_else(|| ApiError::auth_token_unknown(token))?;
            let mut me = user.to_json(true);
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

/// The `authToken` header; 401 `AUTH_ERR_EMPTY_AUTH_TOKEN` without one.
fn auth_token(req: &Incoming) -> Result<&str, ApiError> {
    req.header("authtoken")
        .filter(|t| !t.is_empty())
        .ok_or_else(ApiError::auth_token_missing)
}
