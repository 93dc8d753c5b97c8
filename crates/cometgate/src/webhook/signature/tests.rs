use super::*;
use proptest::prelude::*;

/// The vector of the Standard Webhooks reference Rust tests (and `security-and-peers.md` §2.1).
const RUST_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const RUST_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
const RUST_TIMESTAMP: u64 = 1649367553;
const RUST_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
const RUST_SIGNATURE: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

/// The vector every other reference library tests (`test_sign_function` and alike).
const SHARED_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SHARED_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SHARED_TIMESTAMP: u64 = 1614265330;
const SHARED_BODY: &[u8] = br#"{"test": 2432232314}"#;
const SHARED_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

/// Wrong signatures the reference tests use in their lists.
const WRONG: [&str; 4] = [
    "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ=",
    "v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q=",
    "v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=",
    "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
];

/// A request's headers, looked up by exact (lower-case) name like a `RequestView`.
#[derive(Debug, Clone, Default)]
struct Headers(Vec<(String, Vec<u8>)>);

impl Headers {
    fn delivery(names: Names, id: &str, timestamp: &str, signature: &str) -> Self {
        Self::default()
            .with(names.id, id)
            .with(names.timestamp, timestamp)
            .with(names.signature, signature)
    }

    fn with(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.0.retain(|(n, _)| n != name);
        self.0.push((name.to_owned(), value.as_ref().to_vec()));
        self
    }

    fn without(mut self, name: &str) -> Self {
        self.0.retain(|(n, _)| n != name);
        self
    }

    fn get(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

fn secrets(value: &str) -> SigningSecrets {
    value.parse().expect("test secrets parse")
}

fn verify(
    secrets: &SigningSecrets,
    names: HeaderNames,
    headers: &Headers,
    body: &[u8],
    now: u64,
) -> Result<Verified, SignatureError> {
    secrets.verify(names, |name| headers.get(name), body, now)
}

/// The Rust vector's headers with `signature`, verified at the vector's own time.
fn rust_vector(signature: &str, body: &[u8]) -> Result<Verified, SignatureError> {
    let headers = Headers::delivery(WEBHOOK, RUST_ID, &RUST_TIMESTAMP.to_string(), signature);
    verify(
        &secrets(RUST_SECRET),
        HeaderNames::Webhook,
        &headers,
        body,
        RUST_TIMESTAMP,
    )
}

/// Fails unless `refused` is a 400 naming `header`; `case` says what was sent.
#[track_caller]
fn assert_malformed(refused: &Result<Verified, SignatureError>, header: &str, case: &str) {
    match refused {
        Err(error @ SignatureError::MalformedHeader { header: named, .. }) if *named == header => {
            assert_eq!(error.status(), 400);
        }
        other => panic!("{case}: {other:?}, not a malformed {header}"),
    }
}

fn whsec(key: &[u8]) -> String {
    format!("whsec_{}", BASE64.encode(key))
}

fn random_key(len: usize) -> Vec<u8> {
    (0..len).map(|_| rand::random()).collect()
}

#[test]
fn signs_the_reference_vectors() {
    let rust = SigningSecret::parse(RUST_SECRET).unwrap();
    assert_eq!(
        rust.sign(RUST_ID, RUST_TIMESTAMP, RUST_BODY),
        RUST_SIGNATURE
    );
    let shared = SigningSecret::parse(SHARED_SECRET).unwrap();
    assert_eq!(
        shared.sign(SHARED_ID, SHARED_TIMESTAMP, SHARED_BODY),
        SHARED_SIGNATURE
    );
    // Supabase's spelling of the same secret signs alike.
    let supabase = SigningSecret::parse(&format!("v1,{SHARED_SECRET}")).unwrap();
    assert_eq!(
        supabase.sign(SHARED_ID, SHARED_TIMESTAMP, SHARED_BODY),
        SHARED_SIGNATURE
    );
}

#[test]
fn verifies_the_reference_vectors_under_either_header_set() {
    for (secret, id, timestamp, body, signature) in [
        (
            RUST_SECRET,
            RUST_ID,
            RUST_TIMESTAMP,
            RUST_BODY,
            RUST_SIGNATURE,
        ),
        (
            SHARED_SECRET,
            SHARED_ID,
            SHARED_TIMESTAMP,
            SHARED_BODY,
            SHARED_SIGNATURE,
        ),
    ] {
        let secrets = secrets(secret);
        for (names, set) in [
            (HeaderNames::Webhook, WEBHOOK),
            (HeaderNames::Svix, SVIX),
            (HeaderNames::WebhookOrSvix, WEBHOOK),
            (HeaderNames::WebhookOrSvix, SVIX),
        ] {
            let headers = Headers::delivery(set, id, &timestamp.to_string(), signature);
            let verified = verify(&secrets, names, &headers, body, timestamp)
                .unwrap_or_else(|e| panic!("{names:?} with {}: {e}", set.id));
            assert_eq!(verified.id(), id);
            assert_eq!(verified.timestamp(), timestamp);
        }
    }
}

#[test]
fn reference_wrong_signatures_do_not_verify() {
    // `test_no_verify` (Rust), `test_invalid_signature_raises_error` (Python: the shared
    // vector with its last character changed), the JS test's non-base64 signature.
    for signature in [
        "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=",
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",
        "v1,dawfeoifkpqwoekfpqoekf",
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLawdd",
    ] {
        assert_eq!(
            rust_vector(signature, RUST_BODY),
            Err(SignatureError::NoMatch),
            "{signature}"
        );
    }
    // The shared vector's near miss against the shared vector itself.
    let headers = Headers::delivery(
        WEBHOOK,
        SHARED_ID,
        &SHARED_TIMESTAMP.to_string(),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",
    );
    let refused = verify(
        &secrets(SHARED_SECRET),
        HeaderNames::Webhook,
        &headers,
        SHARED_BODY,
        SHARED_TIMESTAMP,
    );
    assert_eq!(refused, Err(SignatureError::NoMatch));
}

#[test]
fn any_matching_entry_of_a_list_verifies() {
    // `test_verify_with_multiple_signatures` (Rust) and `test_multi_sig_payload_is_valid`
    // (Python, with a `v2,` entry carrying base64 of the right length).
    let rust_list = format!("{} {} {RUST_SIGNATURE} {}", WRONG[0], WRONG[1], WRONG[2]);
    assert!(rust_vector(&rust_list, RUST_BODY).is_ok());
    let python_list = format!(
        "{} v2,{} {RUST_SIGNATURE} {}",
        WRONG[3],
        &WRONG[3][3..],
        WRONG[3]
    );
    assert!(rust_vector(&python_list, RUST_BODY).is_ok());
    // Extra spaces between entries are not entries.
    assert!(rust_vector(&format!("  {}   {RUST_SIGNATURE}  ", WRONG[0]), RUST_BODY).is_ok());
}

#[test]
fn a_list_without_a_matching_entry_fails() {
    // `test_no_verify_with_multiple_signatures`.
    let list = format!("{} {} {}", WRONG[0], WRONG[1], WRONG[2]);
    assert_eq!(rust_vector(&list, RUST_BODY), Err(SignatureError::NoMatch));
}

#[test]
fn empty_truncated_and_other_version_signatures_fail_with_401() {
    let b64 = &RUST_SIGNATURE[3..];
    let cases = [
        "v1,".to_owned(),
        "v1, ".to_owned(),
        RUST_SIGNATURE[..8].to_owned(),
        RUST_SIGNATURE[..RUST_SIGNATURE.len() - 1].to_owned(),
        // Without the padding: another spelling, not the signature.
        RUST_SIGNATURE.trim_end_matches('=').to_owned(),
        format!("{RUST_SIGNATURE}="),
        format!("v2,{b64}"),
        format!("v1a,{b64}"),
        format!("V1,{b64}"),
        format!("v1 {b64}"),
        b64.to_owned(),
        format!(",{b64}"),
        String::new(),
        " ".to_owned(),
    ];
    for signature in cases {
        let refused = rust_vector(&signature, RUST_BODY);
        assert_eq!(refused, Err(SignatureError::NoMatch), "{signature:?}");
        assert_eq!(refused.unwrap_err().status(), 401);
    }
}

#[test]
fn a_one_byte_body_change_fails() {
    let mut body = RUST_BODY.to_vec();
    for i in 0..body.len() {
        let original = body[i];
        body[i] ^= 0x01;
        assert_eq!(
            rust_vector(RUST_SIGNATURE, &body),
            Err(SignatureError::NoMatch)
        );
        body[i] = original;
    }
    assert_eq!(
        rust_vector(RUST_SIGNATURE, &[RUST_BODY, b" "].concat()),
        Err(SignatureError::NoMatch)
    );
    assert_eq!(
        rust_vector(RUST_SIGNATURE, &RUST_BODY[..RUST_BODY.len() - 1]),
        Err(SignatureError::NoMatch)
    );
    assert_eq!(
        rust_vector(RUST_SIGNATURE, b""),
        Err(SignatureError::NoMatch)
    );
}

#[test]
fn a_wrong_secret_fails() {
    let headers = Headers::delivery(
        WEBHOOK,
        RUST_ID,
        &RUST_TIMESTAMP.to_string(),
        RUST_SIGNATURE,
    );
    for other in [SHARED_SECRET.to_owned(), whsec(&random_key(32))] {
        let refused = verify(
            &secrets(&other),
            HeaderNames::Webhook,
            &headers,
            RUST_BODY,
            RUST_TIMESTAMP,
        );
        assert_eq!(refused, Err(SignatureError::NoMatch));
    }
}

#[test]
fn each_missing_header_fails_with_401_naming_it() {
    let ts = RUST_TIMESTAMP.to_string();
    for (names, set) in [(HeaderNames::Webhook, WEBHOOK), (HeaderNames::Svix, SVIX)] {
        let full = Headers::delivery(set, RUST_ID, &ts, RUST_SIGNATURE);
        for missing in [set.id, set.timestamp, set.signature] {
            let refused = verify(
                &secrets(RUST_SECRET),
                names,
                &full.clone().without(missing),
                RUST_BODY,
                RUST_TIMESTAMP,
            );
            assert_eq!(refused, Err(SignatureError::MissingHeader(missing)));
            assert_eq!(refused.unwrap_err().status(), 401);
        }
    }
    // No header at all.
    let refused = verify(
        &secrets(RUST_SECRET),
        HeaderNames::WebhookOrSvix,
        &Headers::default(),
        RUST_BODY,
        RUST_TIMESTAMP,
    );
    assert_eq!(refused, Err(SignatureError::MissingHeader("webhook-id")));
}

#[test]
fn the_header_sets_are_never_mixed() {
    let ts = RUST_TIMESTAMP.to_string();
    let check = |names, headers: Headers| {
        verify(
            &secrets(RUST_SECRET),
            names,
            &headers,
            RUST_BODY,
            RUST_TIMESTAMP,
        )
    };
    // One `webhook-*` header makes the request a `webhook-*` one: the svix-* rest is not read.
    let mixed = Headers::delivery(SVIX, RUST_ID, &ts, RUST_SIGNATURE).with("webhook-id", RUST_ID);
    assert_eq!(
        check(HeaderNames::WebhookOrSvix, mixed),
        Err(SignatureError::MissingHeader("webhook-timestamp"))
    );
    // Each single-set source reads only its own names.
    let svix = Headers::delivery(SVIX, RUST_ID, &ts, RUST_SIGNATURE);
    assert_eq!(
        check(HeaderNames::Webhook, svix),
        Err(SignatureError::MissingHeader("webhook-id"))
    );
    let webhook = Headers::delivery(WEBHOOK, RUST_ID, &ts, RUST_SIGNATURE);
    assert_eq!(
        check(HeaderNames::Svix, webhook),
        Err(SignatureError::MissingHeader("svix-id"))
    );
    // Both complete sets: the `webhook-*` one is verified (here it carries a wrong signature).
    let both = Headers::delivery(SVIX, RUST_ID, &ts, RUST_SIGNATURE)
        .with("webhook-id", RUST_ID)
        .with("webhook-timestamp", &ts)
        .with("webhook-signature", WRONG[0]);
    assert_eq!(
        check(HeaderNames::WebhookOrSvix, both),
        Err(SignatureError::NoMatch)
    );
}

#[test]
fn malformed_timestamps_fail_with_400_without_panic() {
    for timestamp in [
        "-1",
        "-1649367553",
        "-9223372036854775808",
        "9223372036854775808",
        "18446744073709551616",
        "99999999999999999999",
        "16493675530",
        "01649367553",
        "",
        " ",
        "abc",
        "hello",
        " 1649367553",
        "1649367553 ",
        "+1649367553",
        "1649367553.0",
        "1.6e9",
        "0x62500001",
        "１６４９３６７５５３",
    ] {
        let headers = Headers::delivery(WEBHOOK, RUST_ID, timestamp, RUST_SIGNATURE);
        let refused = verify(
            &secrets(RUST_SECRET),
            HeaderNames::Webhook,
            &headers,
            RUST_BODY,
            RUST_TIMESTAMP,
        );
        assert_malformed(&refused, "webhook-timestamp", &format!("{timestamp:?}"));
    }
}

#[test]
fn the_tolerance_is_five_minutes_either_way_inclusive() {
    let secret = SigningSecret::parse(RUST_SECRET).unwrap();
    let secrets = SigningSecrets::from(SigningSecret::parse(RUST_SECRET).unwrap());
    let now = 1_700_000_000;
    for (timestamp, accepted) in [
        (now, true),
        (now - 300, true),
        (now + 300, true),
        (now - 301, false),
        (now + 301, false),
        (0, false),
        (9_999_999_999, false),
    ] {
        let headers = Headers::delivery(
            WEBHOOK,
            RUST_ID,
            &timestamp.to_string(),
            &secret.sign(RUST_ID, timestamp, RUST_BODY),
        );
        let result = verify(&secrets, HeaderNames::Webhook, &headers, RUST_BODY, now);
        if accepted {
            assert_eq!(result.unwrap().timestamp(), timestamp);
        } else {
            assert_eq!(result, Err(SignatureError::OutsideWindow), "{timestamp}");
        }
    }
    // Clocks at the ends of their range do not overflow.
    let headers = Headers::delivery(WEBHOOK, RUST_ID, "9999999999", RUST_SIGNATURE);
    for now in [0, u64::MAX] {
        let result = verify(&secrets, HeaderNames::Webhook, &headers, RUST_BODY, now);
        assert_eq!(result, Err(SignatureError::OutsideWindow));
    }
}

#[test]
fn leading_zeros_are_signed_as_sent() {
    // Ten digits at most, zeros included: the content signed is the header's text.
    let secret = SigningSecret::parse(RUST_SECRET).unwrap();
    let secrets = SigningSecrets::from(SigningSecret::parse(RUST_SECRET).unwrap());
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.key.expose_secret()).unwrap();
    mac.update(b"msg.0000000300.{}");
    let signature = format!("v1,{}", BASE64.encode(&mac.finalize().into_bytes()));
    let headers = Headers::delivery(WEBHOOK, "msg", "0000000300", &signature);
    let verified = verify(&secrets, HeaderNames::Webhook, &headers, b"{}", 0).unwrap();
    assert_eq!(verified.timestamp(), 300);
    // The same time spelt without the zeros is other content.
    let headers = headers.with("webhook-timestamp", "300");
    assert_eq!(
        verify(&secrets, HeaderNames::Webhook, &headers, b"{}", 0),
        Err(SignatureError::NoMatch)
    );
}

#[test]
fn ids_are_bounded_visible_ascii() {
    let secret = SigningSecret::parse(RUST_SECRET).unwrap();
    let secrets = SigningSecrets::from(SigningSecret::parse(RUST_SECRET).unwrap());
    let longest = "a".repeat(MAX_ID_LEN);
    let signed = |id: &str| {
        let signature = secret.sign(id, RUST_TIMESTAMP, RUST_BODY);
        Headers::delivery(WEBHOOK, id, &RUST_TIMESTAMP.to_string(), &signature)
    };
    let verified = verify(
        &secrets,
        HeaderNames::Webhook,
        &signed(&longest),
        RUST_BODY,
        RUST_TIMESTAMP,
    )
    .unwrap();
    assert_eq!(verified.id(), longest);
    for id in [
        "a".repeat(MAX_ID_LEN + 1),
        String::new(),
        "msg 1".to_owned(),
        "msg\t1".to_owned(),
        "msg\n1".to_owned(),
        "msg\u{7f}".to_owned(),
        "msg_é".to_owned(),
    ] {
        let refused = verify(
            &secrets,
            HeaderNames::Webhook,
            &signed(&id),
            RUST_BODY,
            RUST_TIMESTAMP,
        );
        assert_malformed(&refused, "webhook-id", &format!("{id:?}"));
    }
    // Not UTF-8 at all.
    let headers = signed("msg").with("webhook-id", [0xff, 0xfe]);
    let refused = verify(
        &secrets,
        HeaderNames::Webhook,
        &headers,
        RUST_BODY,
        RUST_TIMESTAMP,
    );
    assert_eq!(refused.unwrap_err().status(), 400);
}

#[test]
fn signature_headers_are_bounded_visible_ascii() {
    let padding =
        format!("{} ", WRONG[0]).repeat((MAX_SIGNATURE_HEADER_LEN - RUST_SIGNATURE.len()) / 48);
    let within = format!("{padding}{RUST_SIGNATURE}");
    assert!(within.len() <= MAX_SIGNATURE_HEADER_LEN);
    assert!(rust_vector(&within, RUST_BODY).is_ok());
    let over = format!("{}{RUST_SIGNATURE}", " ".repeat(MAX_SIGNATURE_HEADER_LEN));
    for signature in [
        over.as_str(),
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=\t",
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=\n",
        "v1,é",
    ] {
        let refused = rust_vector(signature, RUST_BODY);
        assert_malformed(&refused, "webhook-signature", signature);
    }
}

#[test]
fn a_signature_by_any_rotated_secret_verifies() {
    let (old, new) = (random_key(32), random_key(24));
    let rotation = secrets(&format!("{}\n v1,{}", whsec(&old), whsec(&new)));
    assert_eq!(rotation.len(), 2);
    // A clone holds the same keys (the endpoint may clone its secrets per worker).
    let rotation = rotation.clone();
    for key in [&old, &new] {
        let signature =
            SigningSecret::parse(&whsec(key))
                .unwrap()
                .sign(RUST_ID, RUST_TIMESTAMP, RUST_BODY);
        let headers = Headers::delivery(SVIX, RUST_ID, &RUST_TIMESTAMP.to_string(), &signature);
        assert!(
            verify(
                &rotation,
                HeaderNames::Svix,
                &headers,
                RUST_BODY,
                RUST_TIMESTAMP
            )
            .is_ok()
        );
    }
}

#[test]
fn secrets_parse_in_each_documented_spelling() {
    for value in [
        SHARED_SECRET.to_owned(),
        format!("v1,{SHARED_SECRET}"),
        format!("  {SHARED_SECRET}\n"),
        format!("{SHARED_SECRET} v1,{RUST_SECRET}"),
        format!("{SHARED_SECRET}\t{RUST_SECRET}\n{SHARED_SECRET}"),
    ] {
        assert!(SigningSecrets::parse(&value).is_ok(), "{value:?}");
    }
    // The Python reference's unpadded secrets, and their padded spellings: the same key.
    let two_pad = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr";
    let unpadded = SigningSecret::parse(&format!("whsec_{two_pad}")).unwrap();
    let padded = SigningSecret::parse(&format!("whsec_{two_pad}==")).unwrap();
    assert_eq!(unpadded.key.expose_secret().len(), 25);
    assert_eq!(unpadded.key.expose_secret(), padded.key.expose_secret());
    // One padding character: 23 bytes, under the minimum.
    assert_eq!(
        SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS=").unwrap_err(),
        SecretError::BadKeyLength {
            position: 1,
            len: 23
        }
    );
}

#[test]
fn bad_secrets_are_refused_with_a_clear_error() {
    let key = |len| BASE64.encode(&random_key(len));
    for len in [MIN_KEY_LEN, 32, MAX_KEY_LEN] {
        assert!(SigningSecret::parse(&format!("whsec_{}", key(len))).is_ok());
    }
    let cases: Vec<(String, SecretError)> = vec![
        (String::new(), SecretError::Empty),
        (" \n\t".into(), SecretError::Empty),
        (
            "whsec_".into(),
            SecretError::BadKeyLength {
                position: 1,
                len: 0,
            },
        ),
        (
            format!("whsec_{}", key(MIN_KEY_LEN - 1)),
            SecretError::BadKeyLength {
                position: 1,
                len: 23,
            },
        ),
        (
            format!("whsec_{}", key(MAX_KEY_LEN + 1)),
            SecretError::BadKeyLength {
                position: 1,
                len: 65,
            },
        ),
        (key(32), SecretError::UnknownFormat { position: 1 }),
        (
            format!("v1a,whsec_{}", key(32)),
            SecretError::UnknownFormat { position: 1 },
        ),
        (
            format!("whsk_{}", key(32)),
            SecretError::UnknownFormat { position: 1 },
        ),
        (
            format!("WHSEC_{}", key(32)),
            SecretError::UnknownFormat { position: 1 },
        ),
        (
            format!("{SHARED_SECRET} whsec_!!{}", key(32)),
            SecretError::BadBase64 { position: 2 },
        ),
        (
            format!(
                "whsec_{}",
                key(32).replace('+', "-").replace('/', "_") + "-_"
            ),
            SecretError::BadBase64 { position: 1 },
        ),
        (
            format!("whsec_{}=", key(32)),
            SecretError::BadBase64 { position: 1 },
        ),
        (
            format!("whsec_{}", &key(32)[1..]),
            SecretError::BadBase64 { position: 1 },
        ),
        (
            [SHARED_SECRET; MAX_SECRETS + 1].join(" "),
            SecretError::TooMany {
                count: MAX_SECRETS + 1,
            },
        ),
    ];
    for (value, expected) in cases {
        let error = SigningSecrets::parse(&value).unwrap_err();
        assert_eq!(error, expected, "{value:?}");
        for shown in [error.to_string(), format!("{error:?}")] {
            if let Some(encoded) = value.split_ascii_whitespace().last() {
                let tail = encoded.rsplit('_').next().unwrap_or(encoded);
                assert!(tail.len() < 8 || !shown.contains(tail), "{shown}");
            }
        }
    }
}

#[test]
fn debug_never_shows_a_key() {
    let value = format!("{SHARED_SECRET} {RUST_SECRET}");
    let shown = format!(
        "{:?} {:?}",
        secrets(&value),
        SigningSecret::parse(RUST_SECRET).unwrap()
    );
    assert_eq!(
        shown,
        "SigningSecrets { count: 2, keys: [REDACTED] } SigningSecret([REDACTED])"
    );
}

#[test]
fn errors_never_show_a_header_value() {
    let headers = Headers::delivery(WEBHOOK, "msg_secretive", "12345678901", RUST_SIGNATURE);
    let errors = [
        verify(
            &secrets(RUST_SECRET),
            HeaderNames::Webhook,
            &headers,
            RUST_BODY,
            RUST_TIMESTAMP,
        )
        .unwrap_err(),
        rust_vector(RUST_SIGNATURE, b"changed").unwrap_err(),
        rust_vector(&format!("{RUST_SIGNATURE}\n"), RUST_BODY).unwrap_err(),
    ];
    for error in errors {
        for shown in [error.to_string(), format!("{error:?}")] {
            for value in ["msg_secretive", "12345678901", &RUST_SIGNATURE[3..20]] {
                assert!(!shown.contains(value), "{shown}");
            }
        }
    }
}

/// A header value a sender (or an attacker) might send: anything from random bytes to a
/// plausible but unsigned entry.
fn header_value() -> impl Strategy<Value = Option<Vec<u8>>> {
    let text = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..80),
        "[ -~]{0,80}".prop_map(String::into_bytes),
        "[0-9]{0,12}".prop_map(String::into_bytes),
        (1_699_999_000u64..1_700_001_000).prop_map(|t| t.to_string().into_bytes()),
        "-[0-9]{1,19}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 32)
            .prop_map(|mac| { format!("v1,{}", BASE64.encode(&mac)).into_bytes() }),
        (proptest::collection::vec(any::<u8>(), 0..40), "v1a?|v2|v1")
            .prop_map(|(mac, v)| { format!("{v},{} v1,", BASE64.encode(&mac)).into_bytes() }),
    ];
    proptest::option::weighted(0.9, text)
}

/// A set of random keys in random spellings, the signing one at `signer`.
fn rotation() -> impl Strategy<Value = (Vec<Vec<u8>>, usize, String)> {
    proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), MIN_KEY_LEN..=MAX_KEY_LEN),
        1..=MAX_SECRETS,
    )
    .prop_flat_map(|keys| {
        let n = keys.len();
        (
            Just(keys),
            0..n,
            proptest::collection::vec((any::<bool>(), "[ \t\n]{1,3}"), n),
        )
    })
    .prop_map(|(keys, signer, spellings)| {
        let value = keys
            .iter()
            .zip(spellings)
            .map(|(key, (supabase, gap))| {
                let prefix = if supabase { "v1," } else { "" };
                format!("{prefix}{}{gap}", whsec(key))
            })
            .collect::<String>();
        (keys, signer, value)
    })
}

/// One validly signed delivery.
#[derive(Debug, Clone)]
struct Signed {
    secrets: String,
    names: Names,
    id: String,
    timestamp: u64,
    body: Vec<u8>,
    /// The signing secret's entry.
    own: String,
    /// Other entries around it.
    before: Vec<String>,
    after: Vec<String>,
    now: u64,
}

impl Signed {
    /// The signature header, with `own` in place of the signing entry.
    fn signature(&self, own: &str) -> String {
        let mut entries = self.before.clone();
        entries.push(own.to_owned());
        entries.extend(self.after.iter().cloned());
        entries.join(" ")
    }

    fn headers(&self) -> Headers {
        Headers::delivery(
            self.names,
            &self.id,
            &self.timestamp.to_string(),
            &self.signature(&self.own),
        )
    }

    fn verify_with(&self, headers: &Headers, body: &[u8]) -> Result<Verified, SignatureError> {
        verify(
            &secrets(&self.secrets),
            HeaderNames::WebhookOrSvix,
            headers,
            body,
            self.now,
        )
    }
}

fn signed() -> impl Strategy<Value = Signed> {
    (
        rotation(),
        any::<bool>(),
        "[!-~]{1,256}",
        1_000_000_000u64..=9_999_999_000,
        -300i64..=300,
        proptest::collection::vec(any::<u8>(), 0..2048),
        proptest::collection::vec(header_value(), 0..3),
        proptest::collection::vec(header_value(), 0..3),
    )
        .prop_map(
            |((keys, signer, secrets), svix, id, timestamp, skew, body, before, after)| {
                let own = SigningSecret::parse(&whsec(&keys[signer])).unwrap();
                let entries = |values: Vec<Option<Vec<u8>>>| {
                    values
                        .into_iter()
                        .flatten()
                        .map(|v| {
                            String::from_utf8_lossy(&v).replace(|c: char| !c.is_ascii_graphic(), "")
                        })
                        .collect()
                };
                Signed {
                    secrets,
                    names: if svix { SVIX } else { WEBHOOK },
                    own: own.sign(&id, timestamp, &body),
                    id,
                    timestamp,
                    body,
                    before: entries(before),
                    after: entries(after),
                    now: timestamp.saturating_add_signed(skew),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the headers and the body, verification answers (never panics), refuses with
    /// 400 or 401, and never verifies what no configured secret signed.
    #[test]
    fn arbitrary_headers_and_bodies_never_verify(
        (_, _, value) in rotation(),
        id in header_value(),
        timestamp in header_value(),
        signature in header_value(),
        body in proptest::collection::vec(any::<u8>(), 0..512),
        svix in any::<bool>(),
        now in prop_oneof![Just(1_700_000_000u64), any::<u64>()],
    ) {
        let set = if svix { SVIX } else { WEBHOOK };
        let mut headers = Headers::default();
        for (name, value) in [(set.id, id), (set.timestamp, timestamp), (set.signature, signature)] {
            if let Some(value) = value {
                headers = headers.with(name, value);
            }
        }
        let secrets = secrets(&value);
        for names in [HeaderNames::Webhook, HeaderNames::Svix, HeaderNames::WebhookOrSvix] {
            let refused = verify(&secrets, names, &headers, &body, now);
            prop_assert!(refused.is_err(), "{refused:?}");
            prop_assert!(matches!(refused.unwrap_err().status(), 400 | 401));
        }
    }

    /// A delivery signed by any secret of a rotation verifies, whatever else its signature
    /// header lists, under either header set.
    #[test]
    fn a_valid_signature_verifies_under_any_rotation_holding_its_key(signed in signed()) {
        let verified = signed.verify_with(&signed.headers(), &signed.body);
        prop_assert!(verified.is_ok(), "{verified:?}");
        let verified = verified.unwrap();
        prop_assert_eq!(verified.id(), signed.id.as_str());
        prop_assert_eq!(verified.timestamp(), signed.timestamp);
    }

    /// Changing any one byte of the body, the id, the timestamp or the signature fails.
    #[test]
    fn any_single_byte_change_fails(
        signed in signed(),
        part in 0..4usize,
        at in any::<prop::sample::Index>(),
        to in any::<u8>(),
    ) {
        let mut body = signed.body.clone();
        let mut id = signed.id.clone().into_bytes();
        let mut timestamp = signed.timestamp.to_string().into_bytes();
        // The signing entry: the only one in the header that can match.
        let mut signature = signed.own.clone().into_bytes();
        let target = match part {
            0 if !body.is_empty() => &mut body,
            0 | 1 => &mut id,
            2 => &mut timestamp,
            _ => &mut signature,
        };
        let i = at.index(target.len());
        prop_assume!(target[i] != to);
        target[i] = to;
        let signature = signed.signature(&String::from_utf8_lossy(&signature));
        let headers = signed
            .headers()
            .with(signed.names.id, &id)
            .with(signed.names.timestamp, &timestamp)
            .with(signed.names.signature, signature);
        let refused = signed.verify_with(&headers, &body);
        prop_assert!(refused.is_err(), "{refused:?}");
    }

    /// Parsing never panics, and accepts a key exactly when it is 24 to 64 bytes.
    #[test]
    fn secret_parsing_is_total_and_bounds_key_lengths(
        key in proptest::collection::vec(any::<u8>(), 0..100),
        junk in "\\PC{0,80}",
    ) {
        let parsed = SigningSecret::parse(&whsec(&key));
        prop_assert_eq!(parsed.is_ok(), (MIN_KEY_LEN..=MAX_KEY_LEN).contains(&key.len()));
        if let Err(error) = SigningSecrets::parse(&junk) {
            let shown = error.to_string();
            for word in junk.split_ascii_whitespace().filter(|w| w.len() >= 8) {
                prop_assert!(!shown.contains(word), "{}", shown);
            }
        }
    }
}
