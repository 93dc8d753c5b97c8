//! A token in the form CometChat issues, `<uid>_<10 digits><30 hex>`, held in 24 bytes.
//!
//! The in-memory store holds up to a million tokens; storing each as a heap string would cost
//! about 100 bytes apiece (the UID is repeated inside). Tokens of any other form are kept
//! as they are.

use crate::client::TokenValue;

/// A token without its UID prefix.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum CompactToken {
    /// `<uid>_<created, 10 digits><hex, 30 lowercase digits>`.
    Standard { created: u64, hex: [u8; 15] },
    /// Any other form, as it is.
    Other(Box<str>),
}

impl CompactToken {
    pub(crate) fn new(uid: &str, token: &TokenValue) -> Self {
        let raw = token.expose();
        Self::standard(uid, raw)
            .filter(|compact| compact.expand(uid) == raw)
            .unwrap_or_else(|| Self::Other(raw.into()))
    }

    fn standard(uid: &str, raw: &str) -> Option<Self> {
        let rest = raw.strip_prefix(uid)?.strip_prefix('_')?;
        if rest.len() != 40 || !rest.is_char_boundary(10) {
            return None;
        }
        let (digits, hex) = rest.split_at(10);
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let created = digits.parse().ok()?;
        let bytes = data_encoding::HEXLOWER.decode(hex.as_bytes()).ok()?;
        Some(Self::Standard {
            created,
            hex: bytes.try_into().ok()?,
        })
    }

    fn expand(&self, uid: &str) -> String {
        match self {
            Self::Standard { created, hex } => {
                format!("{uid}_{created:010}{}", data_encoding::HEXLOWER.encode(hex))
            }
            Self::Other(raw) => raw.to_string(),
        }
    }

    pub(crate) fn token(&self, uid: &str) -> TokenValue {
        TokenValue::new(self.expand(uid))
    }

    pub(crate) fn is(&self, uid: &str, token: &TokenValue) -> bool {
        *self == Self::new(uid, token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever the token, the store gives back exactly what it was given.
        #[test]
        fn every_token_round_trips(
            uid in "[a-z0-9_-]{1,100}",
            token in prop_oneof![
                ("[0-9]{10}", "[0-9a-f]{30}").prop_map(|(d, h)| format!("{d}{h}")),
                "[ -~]{0,80}",
                "[0-9]{10}[0-9a-fA-F]{29,31}",
            ],
            prefixed in any::<bool>(),
        ) {
            let raw = if prefixed { format!("{uid}_{token}") } else { token };
            let value = TokenValue::new(raw.clone());
            let compact = CompactToken::new(&uid, &value);
            let back = compact.token(&uid);
            prop_assert_eq!(back.expose(), raw.as_str());
            prop_assert!(compact.is(&uid, &value));
        }
    }

    #[test]
    fn cometchat_tokens_take_no_heap() {
        let token = TokenValue::new("ada_1694668129d2eca40a65abba29e6860224018ad8");
        assert!(matches!(
            CompactToken::new("ada", &token),
            CompactToken::Standard { .. }
        ));
        let odd = TokenValue::new("ada_1694668129d2eca40a65abba29e6860224018ad");
        assert!(
            matches!(CompactToken::new("ada", &odd), CompactToken::Other(_)),
            "29 hex"
        );
        assert!(std::mem::size_of::<CompactToken>() <= 24);
    }
}
