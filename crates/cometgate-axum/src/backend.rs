//! The seam between the layer and the token-vending core.

use std::future::Future;
use std::sync::Arc;

use axum_core::response::Response;
use cometgate::{Principal, Rejection};

use crate::PartsView;

/// What answers a token request once the layer has checked the method and the body size.
///
/// The real implementation is cometgate's `Gate` (identity → UID mapping → limits →
/// single-flight → mint → provisioning). The trait exists so that the layer's HTTP behaviour
/// (routing, 405, 413, pass-through, extractor glue) does not depend on how tokens are made, and
/// so that tests can put a double behind the layer.
///
/// Every method receives the request id the layer settled on (the caller's sanitised
/// `x-request-id`, or a fresh one) for the core's tracing event.
pub trait Backend: Send + Sync + 'static {
    /// Resolves the caller with the backend's own [`Identity`](cometgate::Identity) from the
    /// request head, then answers: 200 with the token, or a problem.
    fn answer_request(
        &self,
        request: &PartsView<'_>,
        request_id: &str,
    ) -> impl Future<Output = Response> + Send;

    /// Answers for a caller the app's own axum extractor has already identified.
    fn answer_principal(
        &self,
        principal: Principal,
        request_id: &str,
    ) -> impl Future<Output = Response> + Send;

    /// The answer when the app's axum extractor rejected the caller (401 / 403 problems), in
    /// the same shape as rejections from the backend's own identity.
    fn answer_rejection(&self, rejection: Rejection, request_id: &str) -> Response;
}

impl<B: Backend> Backend for Arc<B> {
    fn answer_request(
        &self,
        request: &PartsView<'_>,
        request_id: &str,
    ) -> impl Future<Output = Response> + Send {
        (**self).answer_request(request, request_id)
    }

    fn answer_principal(
        &self,
        principal: Principal,
        request_id: &str,
    ) -> impl Future<Output = Response> + Send {
        (**self).answer_principal(principal, request_id)
    }

    fn answer_rejection(&self, rejection: Rejection, request_id: &str) -> Response {
        (**self).answer_rejection(rejection, request_id)
    }
}
