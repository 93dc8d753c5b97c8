//! The webhook contract: `COMETGATE_WEBHOOK_SECRET` serves signed `standard` deliveries that
//! keep CometChat users in step (the shared tests in `quickstart-common`).

quickstart_common::webhook_tests!(axum_quickstart);
