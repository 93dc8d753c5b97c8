//! The REST API called with a key in the `apikey` header: who may call, then which store
//! operation answers.

use serde_json::Value;

use crate::errors::ApiError;
use crate::handler::{Answer, Incoming};
use crate::paging::Query;
use crate::routes::RestRoute;
use crate::state::{Scope, Shared};
use crate::store::Store;
use crate::validation::parse_body;

/// What an Auth Key (scope `authOnly`) may call: creating users and auth tokens.
fn allowed_for_auth_only(route: RestRoute<'_>) -> bool {
    matches!(route, RestRoute::CreateUser | RestRoute::MintToken { .. })
}

/// Checks the key and its scope (401, then 403) and the body (413, 400); only then does the
/// store see the request, so a refused one changes nothing.
pub(crate) fn serve(shared: &Shared, route: RestRoute<'_>, req: &Incoming) -> Answer {
    let given = req.header("apikey").unwrap_or("");
    match shared.settings.scope_of(given) {
        None => return Err(ApiError::apikey_not_found(given)),
        Some(Scope::AuthOnly) if !allowed_for_auth_only(route) => {
            return Err(ApiError::no_access(given));
        }
        Some(Scope::FullAccess | Scope::AuthOnly) => {}
    }
    let body = parse_body(req.body.as_ref())?;
    dispatch(&mut shared.lock().store, route, &req.query, body.as_ref())
}

fn dispatch(store: &mut Store, route: RestRoute<'_>, query: &str, body: Option<&Value>) -> Answer {
    let plain = |r: Result<Value, ApiError>| r.map(|data| (data, None));
    let listed = |r: Result<(Value, Value), ApiError>| r.map(|(data, meta)| (data, Some(meta)));
    match route {
        RestRoute::CreateUser => plain(store.create_user(body)),
        RestRoute::ListUsers => listed(store.list_users(&Query::parse(query))),
        RestRoute::GetUser { uid } => plain(store.get_user(uid)),
        RestRoute::UpdateUser { uid } => plain(store.update_user(uid, body)),
        RestRoute::DeleteUser { uid } => plain(store.delete_user(uid, body)),
        RestRoute::ReactivateUsers => plain(store.reactivate_users(body)),
        RestRoute::MintToken { uid } => plain(store.create_token(uid, body)),
        RestRoute::ListTokens { uid } => listed(store.list_tokens(uid, &Query::parse(query))),
        RestRoute::FlushTokens { uid } => plain(store.flush_tokens(uid)),
        RestRoute::GetToken { uid, token } => plain(store.get_token(uid, token)),
        RestRoute::UpdateToken { uid, token } => plain(store.update_token(uid, token, body)),
        RestRoute::DeleteToken { uid, token } => plain(store.delete_token(uid, token)),
    }
}
