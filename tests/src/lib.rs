//! Shared helpers for the cross-crate conformance tests in `tests/tests/`.
