use super::*;
use proptest::prelude::*;

const TOKEN: &str = "sb-webhook-secret-0123456789abcdefghijkl";

fn bearer() -> SharedSecret {
    SharedSecret::bearer(TOKEN, SUPABASE_MIN_LEN).unwrap()
}

fn basic_header(user_password: &str) -> String {
    format!("Basic {}", BASE64.encode(user_password.as_bytes()))
}

#[test]
fn the_configured_bearer_token_is_accepted_in_any_scheme_case() {
    for header in [
        format!("Bearer {TOKEN}"),
        format!("bearer {TOKEN}"),
        format!("BEARER  {TOKEN} "),
        format!("Bearer\t{TOKEN}"),
    ] {
        assert_eq!(
            bearer().verify(Some(header.as_bytes())),
            Ok(()),
            "{header:?}"
        );
        assert_eq!(bearer().clone().verify(Some(header.as_bytes())), Ok(()));
    }
}

#[test]
fn anything_else_is_refused_with_the_right_status() {
    let prefix = &TOKEN[..TOKEN.len() - 1];
    let cases: Vec<(Option<String>, AuthorizationError)> = vec![
        (None, AuthorizationError::Missing),
        (
            Some(format!("Bearer {prefix}")),
            AuthorizationError::Mismatch,
        ),
        (
            Some(format!("Bearer {TOKEN}x")),
            AuthorizationError::Mismatch,
        ),
        (
            Some(format!("Bearer {}", TOKEN.to_uppercase())),
            AuthorizationError::Mismatch,
        ),
        (Some(format!("Token {TOKEN}")), AuthorizationError::Mismatch),
        (
            Some(basic_header(&format!("u:{TOKEN}"))),
            AuthorizationError::Mismatch,
        ),
        (
            Some(format!("Bearer {TOKEN} extra")),
            AuthorizationError::Mismatch,
        ),
        (
            Some(String::new()),
            AuthorizationError::Malformed("not of the form <scheme> <credentials>"),
        ),
        (
            Some(TOKEN.to_owned()),
            AuthorizationError::Malformed("not of the form <scheme> <credentials>"),
        ),
        (
            Some("Bearer".to_owned()),
            AuthorizationError::Malformed("not of the form <scheme> <credentials>"),
        ),
        (
            Some("Bearer    ".to_owned()),
            AuthorizationError::Malformed("not of the form <scheme> <credentials>"),
        ),
        (
            Some(format!("Bearer {TOKEN}\n")),
            AuthorizationError::Malformed("not visible ASCII"),
        ),
        (
            Some(format!("Bearer {TOKEN}é")),
            AuthorizationError::Malformed("not visible ASCII"),
        ),
        (
            Some(format!("Bearer {}", "a".repeat(MAX_AUTHORIZATION_LEN))),
            AuthorizationError::Malformed("longer than 4 KiB"),
        ),
    ];
    for (header, expected) in cases {
        let refused = bearer().verify(header.as_deref().map(str::as_bytes));
        assert_eq!(refused, Err(expected.clone()), "{header:?}");
        let status = if matches!(expected, AuthorizationError::Malformed(_)) {
            400
        } else {
            401
        };
        assert_eq!(expected.status(), status);
    }
    assert_eq!(
        bearer().verify(Some(&[b'B', b'e', b'a', b'r', b'e', b'r', b' ', 0xff])),
        Err(AuthorizationError::Malformed("not visible ASCII"))
    );
}

#[test]
fn basic_credentials_match_user_and_password_only() {
    let password = "an auth0 event stream password, 32+";
    let expected = SharedSecret::basic("auth0-stream", password, AUTH0_MIN_LEN).unwrap();
    let ok = basic_header(&format!("auth0-stream:{password}"));
    assert_eq!(expected.verify(Some(ok.as_bytes())), Ok(()));
    assert_eq!(
        expected.verify(Some(ok.replacen("Basic", "basic", 1).as_bytes())),
        Ok(())
    );
    for (header, error) in [
        (
            basic_header(&format!("auth0-stream:{password}x")),
            AuthorizationError::Mismatch,
        ),
        (
            basic_header(&format!("auth0:{password}")),
            AuthorizationError::Mismatch,
        ),
        (
            basic_header(&format!("auth0-stream{password}")),
            AuthorizationError::Malformed("Basic credentials are not user:password"),
        ),
        (
            "Basic !!!!".to_owned(),
            AuthorizationError::Malformed("Basic credentials are not base64"),
        ),
        (format!("Bearer {password}"), AuthorizationError::Mismatch),
        (
            format!("Bearer auth0-stream:{password}"),
            AuthorizationError::Mismatch,
        ),
    ] {
        assert_eq!(
            expected.verify(Some(header.as_bytes())),
            Err(error),
            "{header:?}"
        );
    }
}

#[test]
fn weak_or_unsendable_secrets_are_refused_at_construction() {
    let cases = [
        (SharedSecret::bearer("", 32), SharedSecretError::Empty),
        (SharedSecret::bearer("  \n", 32), SharedSecretError::Empty),
        (
            SharedSecret::bearer(&"s".repeat(31), SUPABASE_MIN_LEN),
            SharedSecretError::TooShort { len: 31, min: 32 },
        ),
        (
            SharedSecret::bearer(&"s".repeat(31), AUTH0_MIN_LEN),
            SharedSecretError::TooShort { len: 31, min: 32 },
        ),
        (
            SharedSecret::bearer(&"s".repeat(3073), 32),
            SharedSecretError::TooLong { len: 3073 },
        ),
        (
            SharedSecret::bearer("a secret with spaces in it, 32+ bytes", 32),
            SharedSecretError::UnsendableCharacter {
                what: "bearer token",
            },
        ),
        (
            SharedSecret::bearer("ünïcödé-secret-of-thirty-two-bytes!", 32),
            SharedSecretError::UnsendableCharacter {
                what: "bearer token",
            },
        ),
        (
            SharedSecret::basic("", &"p".repeat(30), 24),
            SharedSecretError::BadUserName,
        ),
        (
            SharedSecret::basic("a:b", &"p".repeat(30), 24),
            SharedSecretError::BadUserName,
        ),
        (
            SharedSecret::basic("us er", &"p".repeat(30), 24),
            SharedSecretError::UnsendableCharacter { what: "user name" },
        ),
        (
            SharedSecret::basic("user", &"p".repeat(23), 24),
            SharedSecretError::TooShort { len: 23, min: 24 },
        ),
        (
            SharedSecret::basic("user", "a password with a\nnewline in it", 24),
            SharedSecretError::UnsendableCharacter { what: "password" },
        ),
    ];
    for (result, expected) in cases {
        assert_eq!(result.unwrap_err(), expected);
    }
    assert!(SharedSecret::bearer(&"s".repeat(32), SUPABASE_MIN_LEN).is_ok());
    assert!(SharedSecret::bearer(&"s".repeat(3072), SUPABASE_MIN_LEN).is_ok());
}

#[test]
fn neither_debug_nor_errors_show_the_secret() {
    let shown = format!("{:?}", bearer());
    assert_eq!(shown, "SharedSecret { scheme: Bearer, digest: [REDACTED] }");
    let weak = "weak-but-recognisable";
    let error = SharedSecret::bearer(weak, 32).unwrap_err();
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains(weak), "{shown}");
    }
    let header = format!("Bearer {weak}");
    let refused = bearer().verify(Some(header.as_bytes())).unwrap_err();
    for shown in [refused.to_string(), format!("{refused:?}")] {
        assert!(!shown.contains(weak), "{shown}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever `Authorization` a request carries, checking it answers (never panics), and
    /// it passes only when it carries exactly the configured token.
    #[test]
    fn only_the_configured_token_passes(
        secret in "[!-~]{32,64}",
        header in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..100),
            "[ -~]{0,100}".prop_map(String::into_bytes),
            "(Bearer|bearer|Basic) [!-~]{0,70}".prop_map(String::into_bytes),
        ],
        flip in any::<prop::sample::Index>(),
    ) {
        let expected = SharedSecret::bearer(&secret, SUPABASE_MIN_LEN).unwrap();
        let result = expected.verify(Some(&header));
        let carries_it = std::str::from_utf8(&header).ok().and_then(|h| {
            let (scheme, token) = h.trim().split_once([' ', '\t'])?;
            Some(scheme.eq_ignore_ascii_case("bearer") && token.trim() == secret)
        }) == Some(true);
        prop_assert_eq!(result.is_ok(), carries_it);
        if let Err(error) = result {
            prop_assert!(matches!(error.status(), 400 | 401));
        }
        // The right header with any one byte changed fails.
        let mut near = format!("Bearer {secret}").into_bytes();
        let i = 7 + flip.index(secret.len());
        near[i] = if near[i] == b'~' { b'!' } else { near[i] + 1 };
        prop_assert!(expected.verify(Some(&near)).is_err());
        let exact = format!("Bearer {secret}");
        prop_assert!(expected.verify(Some(exact.as_bytes())).is_ok());
    }

    /// Basic credentials pass only for the configured user and password.
    #[test]
    fn only_the_configured_basic_credentials_pass(
        user in "[!-9;-~]{1,20}",
        password in "[ -~]{32,48}",
        other_user in "[!-9;-~]{1,20}",
        other_password in "[ -~]{32,48}",
    ) {
        let expected = SharedSecret::basic(&user, &password, AUTH0_MIN_LEN).unwrap();
        let exact = basic_header(&format!("{user}:{password}"));
        prop_assert!(expected.verify(Some(exact.as_bytes())).is_ok());
        let other = basic_header(&format!("{other_user}:{other_password}"));
        prop_assert_eq!(
            expected.verify(Some(other.as_bytes())).is_ok(),
            other_user == user && other_password == password
        );
    }
}
