//! The request's log event carries what an audit needs: the issuer and a keyed hash of the
//! subject (the same for the same caller, different for another), next to the outcome, reason,
//! upstream status and request id.

mod common;

use cometchat_fake::FakeCometChat;
use cometgate::subject_hash;
use common::logs::{Captured, capture_logs};
use common::*;

/// The request events (target `cometgate::vend`, "chat token request ..."), one a line.
fn events(logs: &Captured) -> Vec<String> {
    logs.text()
        .lines()
        .filter(|l| l.contains("chat token request"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn the_request_event_names_the_issuer_and_a_keyed_subject_hash() {
    let (logs, _guard) = capture_logs();
    let cc = FakeCometChat::start().await;
    let gate = builder(fake_config(&cc)).build().unwrap();

    for bearer in ["good:ada", "good:ada", "good:bob", "banned:eve"] {
        gate.answer_on(&request(bearer), "phone").await;
    }
    let events = events(&logs);
    assert_eq!(events.len(), 4, "{events:#?}");
    let ada = subject_hash::hash("test", "ada");
    let bob = subject_hash::hash("test", "bob");
    assert_ne!(ada, bob);
    for (event, (hash, outcome)) in
        events
            .iter()
            .zip([(&ada, "minted"), (&ada, "reused"), (&bob, "minted")])
    {
        assert!(event.contains(&format!("subject=\"{hash}\"")), "{event}");
        assert!(event.contains("issuer=\"test\""), "{event}");
        assert!(event.contains(&format!("outcome=\"{outcome}\"")), "{event}");
        assert!(event.contains("request_id="), "{event}");
    }
    assert!(events[2].contains("upstream_status=200"), "{}", events[2]);
    // A refused identity has no verified subject: nothing to hash.
    assert!(!events[3].contains("subject="), "{}", events[3]);
    assert!(
        events[3].contains("reason=\"identity-refused\""),
        "{}",
        events[3]
    );
}
