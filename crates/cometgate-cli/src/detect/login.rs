//! `uid-login`: dev-mode login in app code. `CometChatUIKit.login({ uid })` and
//! `CometChat.login(uid, authKey)` are dev mode by their shape; `login(uid)` is when an Auth
//! Key is in scope (an Auth Key cue within the context window).

use super::bytes::{is_lower_hex, printable, stands_alone};
use super::cues::{Cue, CueKind};
use super::keys::KEY_LEN;
use super::{CONTEXT_WINDOW, Hit};
use crate::mask::mask_long_runs;
use crate::{Rule, mask};

/// How much of a call's arguments is read: a login call is short.
const ARGS_MAX: usize = 400;
/// How much of a call an excerpt shows.
const EXCERPT_MAX: usize = 100;

pub(crate) fn find(hay: &[u8], cues: &[Cue], hits: &mut Vec<Hit>) {
    let auth_keys: Vec<usize> = cues
        .iter()
        .filter(|c| c.kind == CueKind::AuthName)
        .map(|c| c.start)
        .collect();
    for cue in cues {
        if cue.kind != CueKind::Login || &hay[cue.start..cue.end] != b"login" {
            continue;
        }
        let Some(call) = Call::parse(hay, cue.start, cue.end) else {
            continue;
        };
        let receiver = call.receiver.to_ascii_lowercase();
        let by_cometchat = receiver.contains("cometchat");
        let by_ui_kit = receiver.contains("cometchatuikit");
        let tokenish = |arg: &str| arg.to_ascii_lowercase().contains("token");
        let shape = match call.args.as_slice() {
            [only] if only.starts_with('{') => {
                (by_cometchat && names_uid(only) && !only.contains("authToken"))
                    .then_some("logs in by UID")
            }
            [_, _] if by_cometchat && !reads_ui_kit_settings(hay, call.start) => {
                Some("logs in with a UID and an Auth Key")
            }
            // The React UI Kit (checked with 7.2): `login(uid)`; its token login is
            // `loginWithAuthToken`.
            [only] if by_ui_kit && !tokenish(only) => Some("logs in by UID"),
            // A bundler may rename `CometChatUIKit` (`oa.login("superhero1")`); the Auth
            // Key set up next to it still tells.
            [only]
                if !tokenish(only)
                    && (only.to_ascii_lowercase().contains("uid") || is_uid_literal(only))
                    && auth_key_in_scope(&auth_keys, cue.start) =>
            {
                Some("logs in by UID with an Auth Key in scope")
            }
            _ => None,
        };
        let Some(shape) = shape else { continue };
        let text = printable(&hay[call.start..call.end]);
        let excerpt = mask_long_runs(&collapse(&text, EXCERPT_MAX));
        hits.push(Hit {
            rule: Rule::UidLogin,
            start: call.start,
            excerpt,
            message: format!("{}: the call {shape}", Rule::UidLogin.summary()),
            secret: None,
        });
        if call.args.len() == 2 {
            push_literal_auth_key(hay, &call, hits);
        }
    }
}

/// `receiver.login(args)` as written.
struct Call {
    start: usize,
    end: usize,
    receiver: String,
    args: Vec<String>,
    args_start: usize,
}

impl Call {
    /// Parses the call whose method name `login` is at `name_start..name_end`; `None` when it
    /// is no call (`onLogin`, `login =`, `login(` never closed).
    fn parse(hay: &[u8], name_start: usize, name_end: usize) -> Option<Self> {
        let before = name_start.checked_sub(1).map(|i| hay[i]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$') {
            return None;
        }
        let mut start = name_start;
        let mut receiver = String::new();
        if before == Some(b'.') {
            let mut i = name_start - 1;
            while i > 0 && is_ident(hay[i - 1]) {
                i -= 1;
            }
            receiver = String::from_utf8_lossy(&hay[i..name_start - 1]).into_owned();
            start = i;
        }
        let mut i = name_end;
        while i < hay.len() && hay[i].is_ascii_whitespace() && i - name_end < 8 {
            i += 1;
        }
        if hay.get(i) != Some(&b'(') {
            return None;
        }
        let args_start = i + 1;
        let (args, close) = split_args(hay, args_start)?;
        if is_definition(hay, close + 1) {
            return None;
        }
        Some(Self {
            start,
            end: close + 1,
            receiver,
            args,
            args_start,
        })
    }
}

/// Whether what follows `login(…)` makes it a definition, not a call: a body
/// (`login(uid) {`) or a type (`login(uid: string): Promise<User>`).
fn is_definition(hay: &[u8], after_close: usize) -> bool {
    let next = hay[after_close.min(hay.len())..]
        .iter()
        .find(|b| !b.is_ascii_whitespace());
    matches!(next, Some(b'{' | b':'))
}

/// How far before a two-argument `CometChat.login` the UI Kit's own implementation reads the
/// Auth Key from its settings.
const SETTINGS_LOOKBACK: usize = 600;

/// Whether a `CometChat.login(uid, key)` at `call_start` is the UI Kit's implementation of
/// its own login, passing the Auth Key from its settings (`uiKitSettings?.authKey`,
/// `_settings?.getAuthKey()`): library code in every bundle that has the UI Kit, not the app
/// logging in in dev mode (that shows at the app's own call, or its Auth Key in the settings).
fn reads_ui_kit_settings(hay: &[u8], call_start: usize) -> bool {
    let from = call_start.saturating_sub(SETTINGS_LOOKBACK);
    let end = (call_start + ARGS_MAX).min(hay.len());
    let near = &hay[from..end];
    [b"uiKitSettings".as_slice(), b"getAuthKey("]
        .iter()
        .any(|needle| memchr::memmem::find(near, needle).is_some())
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// The top-level arguments from `from` to the closing parenthesis (and its position), with
/// strings and nested brackets skipped over.
fn split_args(hay: &[u8], from: usize) -> Option<(Vec<String>, usize)> {
    let end = (from + ARGS_MAX).min(hay.len());
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut args = Vec::new();
    let mut arg_start = from;
    let mut i = from;
    while i < end {
        let b = hay[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'"' | b'\'' | b'`' => quote = Some(b),
                b'(' | b'{' | b'[' => depth += 1,
                b')' | b'}' | b']' if depth > 0 => depth -= 1,
                b')' => {
                    let last = String::from_utf8_lossy(&hay[arg_start..i])
                        .trim()
                        .to_owned();
                    if !last.is_empty() || !args.is_empty() {
                        args.push(last);
                    }
                    return Some((args, i));
                }
                b',' if depth == 0 => {
                    args.push(
                        String::from_utf8_lossy(&hay[arg_start..i])
                            .trim()
                            .to_owned(),
                    );
                    arg_start = i + 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// Whether an object literal has a `uid` property (`{ uid }`, `{uid: x}`, `{"uid": x}`).
fn names_uid(object: &str) -> bool {
    let bytes = object.as_bytes();
    let mut from = 0;
    while let Some(found) = object[from..].find("uid") {
        let at = from + found;
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + 3).copied();
        let word_before = before.is_some_and(is_ident);
        let word_after = after.is_some_and(is_ident);
        if !word_before && !word_after {
            return true;
        }
        from = at + 3;
    }
    false
}

/// A quoted UID: `"superhero1"`, `'cometchat-uid-1'`.
fn is_uid_literal(arg: &str) -> bool {
    let bytes = arg.as_bytes();
    bytes.len() >= 3
        && matches!(bytes[0], b'"' | b'\'' | b'`')
        && bytes[bytes.len() - 1] == bytes[0]
        && bytes[1..bytes.len() - 1]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && bytes.len() - 2 <= 100
}

/// Whether an Auth Key cue (their sorted offsets: `auth_keys`) is within the context window
/// of the call at `at`.
fn auth_key_in_scope(auth_keys: &[usize], at: usize) -> bool {
    let first_after = auth_keys.partition_point(|&k| k < at);
    let after = auth_keys
        .get(first_after)
        .is_some_and(|&k| k - at <= CONTEXT_WINDOW);
    let before = first_after
        .checked_sub(1)
        .is_some_and(|i| at - auth_keys[i] <= CONTEXT_WINDOW);
    after || before
}

/// The second argument of `CometChat.login(uid, "…")` is an Auth Key: report a literal one.
fn push_literal_auth_key(hay: &[u8], call: &Call, hits: &mut Vec<Hit>) {
    let region = &hay[call.args_start..call.end];
    let Some(comma) = memchr::memchr(b',', region) else {
        return;
    };
    let from = call.args_start + comma + 1;
    let mut i = from;
    while i < call.end && !is_lower_hex(hay[i]) {
        i += 1;
    }
    let start = i;
    while i < call.end && is_lower_hex(hay[i]) {
        i += 1;
    }
    if i - start == KEY_LEN && stands_alone(hay, start, i) {
        let value = printable(&hay[start..i]);
        hits.push(Hit {
            rule: Rule::AuthKey,
            start,
            excerpt: mask(&value),
            message: format!(
                "{}, passed to CometChat.login(uid, authKey)",
                Rule::AuthKey.summary()
            ),
            secret: Some(value),
        });
    }
}

/// `text` on one line, at most `max` characters.
fn collapse(text: &str, max: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::super::cues::CueFinder;
    use super::*;

    fn logins(text: &str) -> Vec<String> {
        let cues = CueFinder::new().find(text.as_bytes());
        let mut hits = Vec::new();
        find(text.as_bytes(), &cues, &mut hits);
        hits.into_iter()
            .map(|h| format!("{} {}", h.rule, h.excerpt))
            .collect()
    }

    #[test]
    fn dev_mode_shapes_are_found() {
        assert_eq!(
            logins("await CometChatUIKit.login({ uid: \"superhero1\" });"),
            vec!["uid-login CometChatUIKit.login({ uid: \"superhero1\" })"]
        );
        assert_eq!(
            logins("CometChatUIKit.login({uid})"),
            vec!["uid-login CometChatUIKit.login({uid})"]
        );
        assert_eq!(
            logins("r.CometChat.login(e,t).then(n)"),
            vec!["uid-login CometChat.login(e,t)"]
        );
        assert_eq!(
            logins("const AUTH_KEY = cfg.k;\nfunction go(uid) { return login(uid); }"),
            vec!["uid-login login(uid)"]
        );
        assert_eq!(
            logins("await CometChatUIKit.login('superhero1');"),
            vec!["uid-login CometChatUIKit.login('superhero1')"]
        );
        assert_eq!(
            logins("n.CometChatUIKit.login(e).then(r)"),
            vec!["uid-login CometChatUIKit.login(e)"]
        );
        // esbuild renamed the UI Kit class; the Auth Key set just before gives it away.
        assert_eq!(
            logins(
                r#"new Mo().setAuthKey(e6).build();await oa.init(t),await oa.login("superhero1")"#
            ),
            vec![r#"uid-login oa.login("superhero1")"#]
        );
    }

    #[test]
    fn a_literal_auth_key_argument_is_reported_masked() {
        let key = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
        let found = logins(&format!("CometChat.login(\"alice\", \"{key}\")"));
        assert_eq!(
            found,
            vec![
                "uid-login CometChat.login(\"alice\", \"0a1b2******************************34567\")"
                    .to_owned(),
                format!("auth-key {}", mask(key)),
            ]
        );
    }

    #[test]
    fn production_shapes_are_not() {
        for text in [
            "CometChatUIKit.login({ authToken })",
            "CometChatUIKit.login({ authToken: t, uid })",
            "CometChat.login(authToken)",
            "CometChat.login(token)",
            "login(uid)",
            "auth.login({ uid, password })",
            "onLogin(uid)",
            "const login = (uid) => x; authKey",
            "CometChatUIKit.login({ userId: 1, fluid: 2 })",
            "CometChatUIKit.login(",
            "CometChatUIKit.loginWithAuthToken(t)",
            "CometChatUIKit.login(authToken)",
            "CometChat.login(e)",
            "api.login(\"superhero1\")",
            "authKey; api.login(\"a b\")",
            // Definitions and declarations, in the UI Kit and in app code.
            "static async login(uid) { const authKey = s.getAuthKey(); }",
            "static login(uid: string): Promise<CometChat.User>;",
            "class A { login(uid) { return authKey } }",
        ] {
            assert!(logins(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn an_auth_key_is_in_scope_within_the_window_either_side() {
        let keys = [1_000, 10_000];
        assert!(auth_key_in_scope(&keys, 3_000));
        assert!(auth_key_in_scope(&keys, 8_000));
        assert!(auth_key_in_scope(&keys, 1_000 + CONTEXT_WINDOW));
        assert!(!auth_key_in_scope(&keys, 1_001 + CONTEXT_WINDOW));
        assert!(!auth_key_in_scope(&keys, 20_000));
        assert!(!auth_key_in_scope(&[], 0));
    }

    #[test]
    fn the_ui_kit_passing_its_own_settings_is_library_code() {
        for text in [
            "if (uid) { let user = await CometChat.login(uid, CometChatUIKit.uiKitSettings?.authKey) }",
            "const authKey = _CometChatUIKit._settings?.getAuthKey(); if (!authKey) throw e; \
             const user = await chatSdkJavascript.CometChat.login(uid, authKey);",
            "const t=r._settings?.getAuthKey();if(!t)throw new Error(\"x\");const n=await a.CometChat.login(e,t);",
        ] {
            assert!(logins(text).is_empty(), "{text}");
        }
    }
}
