//! The `type` URIs of the problems the adapter answers before the core sees a request.
//!
//! Problems about identity, limits and CometChat itself come from the core and carry its types.

/// `405`: the token endpoint was called with a method other than `POST` (the answer carries
/// `Allow: POST`).
pub const METHOD_NOT_ALLOWED: &str = "https://cometgate.dev/problems/method-not-allowed";

/// `413`: the request body is longer than the layer's body limit.
pub const BODY_TOO_LARGE: &str = "https://cometgate.dev/problems/body-too-large";

/// `400`: the request body could not be read (the client aborted or sent a malformed stream).
pub const BAD_REQUEST: &str = "https://cometgate.dev/problems/bad-request";

/// `500`: the app's identity extractor failed with a server error, which means the layer that
/// provides it is missing or misplaced. See [`ByExtractor`](crate::ByExtractor).
pub const MISCONFIGURED: &str = "https://cometgate.dev/problems/misconfigured";
