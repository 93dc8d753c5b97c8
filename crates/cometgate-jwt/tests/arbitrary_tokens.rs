//! Arbitrary bytes as a bearer token never panic and always give an invalid-token rejection
//! (401 `invalid_token`), for a shared-secret and a JWKS provider alike.

mod support;

use cometgate::identity::SimpleRequest;
use cometgate::vend::ProblemType;
use cometgate::{Identity, Rejection};
use cometgate_jwt::{Oidc, SharedSecret};
use data_encoding::BASE64URL_NOPAD;
use proptest::prelude::*;
use support::{JwksServer, SigningKey};

fn token_like() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Raw bytes, printable or not.
        proptest::collection::vec(any::<u8>(), 0..512),
        // Three base64url segments of random JSON-ish bytes: gets past the first split.
        (
            proptest::collection::vec(any::<u8>(), 0..64),
            proptest::collection::vec(any::<u8>(), 0..128),
            proptest::collection::vec(any::<u8>(), 0..64),
        )
            .prop_map(|(h, p, s)| {
                format!(
                    "{}.{}.{}",
                    BASE64URL_NOPAD.encode(&h),
                    BASE64URL_NOPAD.encode(&p),
                    BASE64URL_NOPAD.encode(&s)
                )
                .into_bytes()
            }),
        // A plausible header with a random kid and algorithm, random payload and signature.
        (
            "[A-Za-z0-9]{0,8}",
            "(RS256|ES256|HS256|none|PS512|EdDSA|xx)",
            any::<Vec<u8>>()
        )
            .prop_map(|(kid, alg, rest)| {
                let header = format!(r#"{{"alg":"{alg}","kid":"{kid}"}}"#);
                format!(
                    "{}.{}.{}",
                    BASE64URL_NOPAD.encode(header.as_bytes()),
                    BASE64URL_NOPAD.encode(&rest),
                    BASE64URL_NOPAD.encode(&rest)
                )
                .into_bytes()
            }),
    ]
}

#[test]
fn arbitrary_bearer_tokens_are_always_invalid_and_never_panic() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let key = SigningKey::rsa("k1");
    let jwks = runtime.block_on(JwksServer::start(&[&key], "max-age=600"));
    let secret = "0123456789abcdef0123456789abcdef";
    let identities = [
        SharedSecret::new(secret, "i", "a").build().unwrap(),
        Oidc::new("https://id.example", "chat")
            .jwks_url(jwks.url())
            .build()
            .unwrap(),
    ];
    let config = ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(bytes in token_like())| {
        let mut header = b"Bearer ".to_vec();
        header.extend_from_slice(&bytes);
        let request = SimpleRequest::post("/cometchat-token").with_header("Authorization", header);
        for identity in &identities {
            let result = runtime.block_on(identity.resolve(&request));
            let Err(rejection) = result else {
                return Err(TestCaseError::fail(format!("accepted {bytes:?}")));
            };
            prop_assert!(matches!(rejection, Rejection::Invalid { .. }), "{rejection:?}");
            let problem = cometgate::vend::Problem::from_rejection(&rejection, "app");
            prop_assert_eq!(problem.problem_type(), ProblemType::InvalidCredentials);
            prop_assert_eq!(problem.status(), 401);
        }
    });
}
