//! For `--verify`: the CometChat app id and region written near a found key, so that it can be
//! checked against the right host.

use regex::bytes::Regex;

use super::bytes::printable;
use crate::finding::AppHint;

/// Finds app ids and regions.
pub(crate) struct HintFinder {
    host: Regex,
    app_id: Regex,
    region: Regex,
}

impl HintFinder {
    pub(crate) fn new() -> Self {
        let compile = |pattern: &str| {
            Regex::new(pattern)
                .unwrap_or_else(|e| unreachable!("the hint patterns are fixed and valid: {e}"))
        };
        Self {
            host: compile(r"(?i-u)([a-z0-9]{4,63})\.api-(us|eu|in)\.cometchat\.io"),
            app_id: compile(
                r#"(?i-u)app_?id["'\]]?[ \t]*[:=(,][ \t]*["'`]?([a-z0-9]{4,63})(?:["'`\s,;)]|$)"#,
            ),
            region: compile(
                r#"(?i-u)region["'\]]?[ \t]*[:=(,][ \t]*["'`]?(us|eu|in)(?:["'`\s,;)]|$)"#,
            ),
        }
    }

    /// Every app id and region written in `hay`, for [`Hints::near`].
    pub(crate) fn index(&self, hay: &[u8]) -> Hints {
        let all = |re: &Regex, group: usize| -> Vec<(usize, String)> {
            re.captures_iter(hay)
                .filter_map(|c| Some((c.get(0)?.start(), printable(c.get(group)?.as_bytes()))))
                .collect()
        };
        Hints {
            hosts: self
                .host
                .captures_iter(hay)
                .filter_map(|c| {
                    let app = printable(c.get(1)?.as_bytes());
                    let region = printable(c.get(2)?.as_bytes()).to_ascii_lowercase();
                    Some((c.get(0)?.start(), (app, region)))
                })
                .collect(),
            app_ids: all(&self.app_id, 1),
            regions: all(&self.region, 1),
        }
    }
}

/// The app ids and regions of one piece of content, with their offsets.
pub(crate) struct Hints {
    hosts: Vec<(usize, (String, String))>,
    app_ids: Vec<(usize, String)>,
    regions: Vec<(usize, String)>,
}

impl Hints {
    /// The app id and region closest to `at` (a REST API host names both).
    pub(crate) fn near(&self, at: usize) -> AppHint {
        fn closest<T: Clone>(found: &[(usize, T)], at: usize) -> Option<T> {
            found
                .iter()
                .min_by_key(|(pos, _)| pos.abs_diff(at))
                .map(|(_, v)| v.clone())
        }
        if let Some((app_id, region)) = closest(&self.hosts, at) {
            return AppHint {
                app_id: Some(app_id),
                region: Some(region),
            };
        }
        AppHint {
            app_id: closest(&self.app_ids, at),
            region: closest(&self.regions, at).map(|r| r.to_ascii_lowercase()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_names_both() {
        let text = b"fetch(`https://2612345abcdef.api-eu.cometchat.io/v3/users`)";
        let hint = HintFinder::new().index(text).near(0);
        assert_eq!(hint.app_id.as_deref(), Some("2612345abcdef"));
        assert_eq!(hint.region.as_deref(), Some("eu"));
    }

    #[test]
    fn settings_and_env_files_name_them_apart() {
        let text = b"COMETCHAT_APP_ID=abc123\nCOMETCHAT_REGION=us\nKEY=x\n";
        let hint = HintFinder::new().index(text).near(40);
        assert_eq!(hint.app_id.as_deref(), Some("abc123"));
        assert_eq!(hint.region.as_deref(), Some("us"));
        let js = br#"new UIKitSettingsBuilder().setAppId("abc123").setRegion("in")"#;
        let hint = HintFinder::new().index(js).near(0);
        assert_eq!(hint.app_id.as_deref(), Some("abc123"));
        assert_eq!(hint.region.as_deref(), Some("in"));
    }
}
