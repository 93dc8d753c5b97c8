//! The store suite, the same cases the in-memory stores pass (`cometgate::store::suite`), run
//! against a real Redis: each case gets an empty store (a prefix of its own on the shared
//! server, a new key).

mod common;

cometgate::token_store_suite!(tokens, || common::store(common::shared()));
cometgate::account_store_suite!(accounts, || common::store(common::shared()));
