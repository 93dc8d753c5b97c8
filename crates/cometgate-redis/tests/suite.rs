//! The store suite, the same cases the in-memory stores pass (`cometgate::store::suite`), run
//! against a real Redis: each case gets an empty store (a prefix of its own on the shared
//! server, a new key), and the shared-store cases of its one-step read.

mod common;

cometgate::token_store_suite!(tokens, || common::store(common::shared()));
cometgate::account_store_suite!(accounts, || common::store(common::shared()));

/// The one-step read of a known device (the tombstone and the token in one script).
mod shared {
    use cometgate::store::suite::shared as case;

    use super::common;

    #[test]
    fn reads_the_tombstone_and_the_token_together() {
        case::reads_the_tombstone_and_the_token_together(&|| common::store(common::shared()));
    }

    #[test]
    fn the_one_step_read_marks_the_device_used() {
        case::the_one_step_read_marks_the_device_used(&|| common::store(common::shared()));
    }

    #[test]
    fn any_sequence_agrees_with_its_parts() {
        case::any_sequence_agrees_with_its_parts(&|| common::store(common::shared()));
    }
}
