//! Replicas of the quickstart share tokens, revocations and limits through Redis when
//! `REDIS_URL` is set, and keep their own state without it (see `quickstart_common::replicas`).

quickstart_common::replica_tests!(actix_quickstart);
