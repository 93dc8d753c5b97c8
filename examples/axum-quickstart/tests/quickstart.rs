//! The quickstart as the README runs it: started with no CometChat account (embedded fake), then
//! the printed `curl` commands replayed over real HTTP (the shared contract in
//! `quickstart-common`).

quickstart_common::contract_tests!(axum_quickstart);
