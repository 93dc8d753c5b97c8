//! A faithful, stateful fake of CometChat's REST API (work in progress).
#![forbid(unsafe_code)]
