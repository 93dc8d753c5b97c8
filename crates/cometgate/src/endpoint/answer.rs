//! [`Answer`]: what the endpoint answers, rendered: status, headers, body bytes.

use std::fmt;

use bytes::Bytes;

use crate::vend::{Problem, TokenResponse};

/// The endpoint's answer to one request, rendered and framework-neutral: an adapter copies
/// [`status`](Self::status), [`headers`](Self::headers) and [`body`](Self::body) into its own
/// response type and adds nothing.
///
/// Every answer carries `Cache-Control: no-store` and `x-request-id`. What it stands for is
/// kept too ([`token`](Self::token), [`problem`](Self::problem)) for tests and logs; its
/// `Debug` never shows a whole token.
#[derive(Clone)]
pub struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
    outcome: Outcome,
}

#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    Token(TokenResponse),
    Revoked,
    Problem(Problem),
}

impl Answer {
    pub(crate) fn new(
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Bytes,
        outcome: Outcome,
    ) -> Self {
        Self {
            status,
            headers,
            body,
            outcome,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Every header, lower-case names, in order (a name may repeat).
    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }

    /// The first value of the header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body bytes.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Takes the answer apart for an adapter: status, headers, body.
    pub fn into_parts(self) -> (u16, Vec<(&'static str, String)>, Bytes) {
        (self.status, self.headers, self.body)
    }

    /// The token, if this is the token route's success.
    pub fn token(&self) -> Option<&TokenResponse> {
        match &self.outcome {
            Outcome::Token(t) => Some(t),
            Outcome::Revoked | Outcome::Problem(_) => None,
        }
    }

    /// The problem, if this is an error answer.
    pub fn problem(&self) -> Option<&Problem> {
        match &self.outcome {
            Outcome::Problem(p) => Some(p),
            Outcome::Token(_) | Outcome::Revoked => None,
        }
    }
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body of a token answer holds the token: show what it stands for instead.
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}
