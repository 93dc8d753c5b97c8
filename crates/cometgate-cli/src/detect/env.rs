//! `public-env-secret`: a client-exposed variable (`EXPO_PUBLIC_*`, `NEXT_PUBLIC_*`, `VITE_*`,
//! `REACT_APP_*`) whose name names a CometChat key, wherever it is defined or read: its value
//! is inlined into the client bundle at build time.

use super::Hit;
use super::bytes::printable;
use super::cues::{Cue, CueKind};
use crate::Rule;
use crate::mask::mask;

/// The prefixes, as the bundlers require them (upper case).
const PREFIXES: [&[u8]; 4] = [b"EXPO_PUBLIC_", b"NEXT_PUBLIC_", b"VITE_", b"REACT_APP_"];
/// The longest variable name read.
const NAME_MAX: usize = 200;
/// The longest value read after `=` or `:`.
const VALUE_MAX: usize = 400;

pub(crate) fn find(hay: &[u8], cues: &[Cue], hits: &mut Vec<Hit>) {
    for cue in cues.iter().filter(|c| c.kind == CueKind::PublicEnv) {
        let prefix = &hay[cue.start..cue.end];
        if !PREFIXES.contains(&prefix) {
            continue;
        }
        let glued = cue
            .start
            .checked_sub(1)
            .is_some_and(|i| hay[i].is_ascii_alphanumeric() || hay[i] == b'_');
        if glued {
            continue;
        }
        let mut end = cue.end;
        while end < hay.len() && end - cue.start < NAME_MAX && is_name_byte(hay[end]) {
            end += 1;
        }
        let name = printable(&hay[cue.start..end]);
        if !names_a_cometchat_key(&name) {
            continue;
        }
        let value = assigned_value(hay, end);
        let excerpt = match &value {
            Some(v) => format!("{name}={}", mask(v)),
            None => name.clone(),
        };
        hits.push(Hit {
            rule: Rule::PublicEnvSecret,
            start: cue.start,
            excerpt,
            message: format!(
                "{}: `{name}` is inlined into the client bundle",
                Rule::PublicEnvSecret.summary()
            ),
            secret: value,
        });
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'
}

/// Whether a variable name names a CometChat key: it has a `COMETCHAT` word and a key word
/// (`KEY`, `AUTHKEY`, `APIKEY`, `SECRET`); `..._APP_ID`, `..._REGION`, `..._TOKEN_URL` do not.
fn names_a_cometchat_key(name: &str) -> bool {
    let words: Vec<&str> = name.split('_').collect();
    let cometchat = words.iter().any(|w| w.starts_with("COMETCHAT"));
    let key = words.iter().any(|w| {
        matches!(*w, "KEY" | "AUTHKEY" | "APIKEY" | "RESTKEY" | "SECRET")
            || (w.starts_with("COMETCHAT") && (w.ends_with("KEY") || w.ends_with("SECRET")))
    });
    cometchat && key
}

/// The literal value assigned right after a name (`NAME=value`, `"NAME": "value"`,
/// `NAME: value`), if there is one.
fn assigned_value(hay: &[u8], name_end: usize) -> Option<String> {
    let mut i = name_end;
    let skip = |i: &mut usize, set: &[u8]| {
        while *i < hay.len() && set.contains(&hay[*i]) {
            *i += 1;
        }
    };
    skip(&mut i, b"\"' \t");
    if !matches!(hay.get(i), Some(b'=' | b':')) {
        return None;
    }
    i += 1;
    skip(&mut i, b"\"' \t");
    let start = i;
    while i < hay.len()
        && i - start < VALUE_MAX
        && !hay[i].is_ascii_whitespace()
        && !b"\"'`,;}".contains(&hay[i])
    {
        i += 1;
    }
    (i > start).then(|| printable(&hay[start..i]))
}

#[cfg(test)]
mod tests {
    use super::super::cues::CueFinder;
    use super::*;

    fn found(text: &str) -> Vec<(String, Option<String>)> {
        let cues = CueFinder::new().find(text.as_bytes());
        let mut hits = Vec::new();
        find(text.as_bytes(), &cues, &mut hits);
        hits.into_iter().map(|h| (h.excerpt, h.secret)).collect()
    }

    #[test]
    fn definitions_and_reads_of_key_names() {
        let key = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
        assert_eq!(
            found(&format!("EXPO_PUBLIC_COMETCHAT_AUTH_KEY={key}\n")),
            vec![(
                format!("EXPO_PUBLIC_COMETCHAT_AUTH_KEY={}", mask(key)),
                Some(key.to_owned())
            )]
        );
        assert_eq!(
            found("setAuthKey(process.env.NEXT_PUBLIC_COMETCHAT_REST_API_KEY)"),
            vec![("NEXT_PUBLIC_COMETCHAT_REST_API_KEY".to_owned(), None)]
        );
        assert_eq!(
            found(r#""env": { "VITE_COMETCHATAPIKEY": "@secret" }"#),
            vec![(
                format!("VITE_COMETCHATAPIKEY={}", mask("@secret")),
                Some("@secret".into())
            )]
        );
        assert_eq!(found("import.meta.env.REACT_APP_COMETCHAT_SECRET").len(), 1);
    }

    #[test]
    fn other_names_are_not() {
        for text in [
            "EXPO_PUBLIC_COMETCHAT_APP_ID=abc",
            "EXPO_PUBLIC_COMETCHAT_REGION=us",
            "EXPO_PUBLIC_COMETCHAT_TOKEN_URL=https://api.example/cometchat-token",
            "EXPO_PUBLIC_COMETCHAT_KEYBOARD=dark",
            "EXPO_PUBLIC_AUTH_KEY=x",
            "MY_VITE_COMETCHAT_AUTH_KEY=x",
            "expo_public_cometchat_auth_key=x",
            "COMETCHAT_AUTH_KEY=x",
        ] {
            assert!(found(text).is_empty(), "{text}");
        }
    }
}
