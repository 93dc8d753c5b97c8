// Shared by the doc examples (pulled in with a hidden `include!`): a stand-in for cometgate's
// `Gate` that identifies `Authorization: Bearer <user>` as `<user>` and "mints" `token-<user>`.
// It is not compiled into the crate.
#[derive(Clone)]
struct DemoGate;

impl cometgate_axum::Backend for DemoGate {
    async fn answer_request(
        &self,
        request: &cometgate_axum::PartsView<'_>,
        request_id: &str,
    ) -> axum::response::Response {
        use cometgate::RequestView;
        match request.header_str("authorization").and_then(|v| v.strip_prefix("Bearer ")) {
            Some(user) => self.answer_principal(cometgate::Principal::new("demo", user), request_id).await,
            None => self.answer_rejection(cometgate::Rejection::Missing, request_id),
        }
    }

    async fn answer_principal(
        &self,
        principal: cometgate::Principal,
        _request_id: &str,
    ) -> axum::response::Response {
        let uid = principal.subject();
        axum::response::IntoResponse::into_response(axum::Json(serde_json::json!({
            "authToken": format!("token-{uid}"),
            "uid": uid,
        })))
    }

    fn answer_rejection(
        &self,
        _rejection: cometgate::Rejection,
        _request_id: &str,
    ) -> axum::response::Response {
        axum::response::IntoResponse::into_response(http::StatusCode::UNAUTHORIZED)
    }
}
