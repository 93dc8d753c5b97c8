//! `--verify`: asks CometChat whether each REST API key or Auth Key found works, and with
//! which scope (`GET /v3/users?perPage=1`: full access answers 200, an Auth Key answers 403
//! `AUTH_ERR_NO_ACCESS`). The only network use of the audit, off by default. The key travels
//! only in the `apikey` header, only to `https://<app>.api-<region>.cometchat.io/v3` (the app id
//! and region found near the key, or `--app-id`/`--region`) or to `--api-base` (`https://`, or
//! `http://` to a loopback host), never through a redirect; it is never printed.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use cometgate::Region;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use secrecy::ExposeSecret;
use thiserror::Error;
use tokio::task::JoinSet;
use url::Url;

use crate::Rule;
use crate::finding::{Problem, ProblemLevel, Verified};
use crate::report::Report;

/// Where and how to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Ask this API base instead of the CometChat host for each key (e.g. a fake on loopback).
    pub api_base: Option<Url>,
    /// The app id to use for a key with none found near it (it also names the host).
    pub app_id: Option<String>,
    /// The region to use for a key with none found near it.
    pub region: Option<Region>,
    /// How long one check may take in all.
    pub timeout: Duration,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            api_base: None,
            app_id: None,
            region: None,
            timeout: Duration::from_secs(5),
        }
    }
}

/// A `--verify` setting that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum VerifyError {
    /// `--api-base` is not a URL a key may be sent to.
    #[error("--api-base {problem}")]
    BadApiBase {
        /// What is wrong.
        problem: &'static str,
    },
    /// `--app-id` is not a CometChat app id.
    #[error("--app-id must be 1 to 63 ASCII letters and digits")]
    BadAppId,
    /// `--region` is not `us`, `eu` or `in`.
    #[error("--region must be us, eu or in")]
    BadRegion,
}

/// Parses `--api-base`: an absolute `https://` URL, or `http://` to a loopback host (so a key
/// never crosses a network in clear), without user info, query or fragment.
///
/// ```
/// use cometgate_cli::verify::parse_api_base;
///
/// assert!(parse_api_base("http://127.0.0.1:8787/v3").is_ok());
/// assert!(parse_api_base("https://proxy.example/v3").is_ok());
/// assert!(parse_api_base("http://proxy.example/v3").is_err());
/// assert_eq!(
///     parse_api_base("http://127.0.0.1:8787/v3").unwrap().as_str(),
///     "http://127.0.0.1:8787/v3/"
/// );
/// ```
pub fn parse_api_base(raw: &str) -> Result<Url, VerifyError> {
    let bad = |problem| VerifyError::BadApiBase { problem };
    let mut url = Url::parse(raw.trim()).map_err(|_| bad("is not an absolute URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if cometgate::config::is_loopback(&url) => {}
        "http" => return Err(bad("must be https:// (http:// only to a loopback host)")),
        _ => return Err(bad("must be an https:// URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not hold user info"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Checks `--app-id`.
pub fn parse_app_id(raw: &str) -> Result<String, VerifyError> {
    valid_app_id(raw)
        .then(|| raw.to_owned())
        .ok_or(VerifyError::BadAppId)
}

/// Parses `--region`.
pub fn parse_region(raw: &str) -> Result<Region, VerifyError> {
    Region::from_str(raw).map_err(|_| VerifyError::BadRegion)
}

fn valid_app_id(id: &str) -> bool {
    (1..=63).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// What one GET of `users?perPage=1` says about the key, from its status and body.
///
/// ```
/// use cometgate_cli::Verified;
/// use cometgate_cli::verify::classify;
///
/// assert_eq!(classify(200, br#"{"data":[]}"#), Verified::FullAccess);
/// assert_eq!(
///     classify(403, br#"{"error":{"code":"AUTH_ERR_NO_ACCESS"}}"#),
///     Verified::AuthOnly
/// );
/// assert_eq!(
///     classify(401, br#"{"error":{"code":"AUTH_ERR_APIKEY_NOT_FOUND"}}"#),
///     Verified::Invalid
/// );
/// assert_eq!(classify(503, b""), Verified::Unreachable);
/// ```
pub fn classify(status: u16, body: &[u8]) -> Verified {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let code = json
        .as_ref()
        .and_then(|j| j.pointer("/error/code"))
        .and_then(|c| c.as_str());
    match status {
        200 if json.as_ref().is_some_and(|j| j.get("data").is_some()) => Verified::FullAccess,
        403 if code == Some("AUTH_ERR_NO_ACCESS") => Verified::AuthOnly,
        400..=428 | 430..=499 => Verified::Invalid,
        _ => Verified::Unreachable,
    }
}

/// Checks every REST API key and Auth Key finding of `report` with CometChat and records the
/// answer in its `verified`; a key that cannot be placed (no app id or region near it) gets a
/// warning instead. Each distinct key and target is asked once.
pub async fn verify(report: &mut Report, options: &VerifyOptions) {
    let mut client = reqwest::Client::builder()
        .connect_timeout(options.timeout.min(Duration::from_secs(3)))
        .timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("cometgate-audit/", env!("CARGO_PKG_VERSION")));
    if options
        .api_base
        .as_ref()
        .is_some_and(|u| u.scheme() == "http")
    {
        // Plain http only goes to loopback: never through a proxy.
        client = client.no_proxy();
    }
    let client = match client.build() {
        Ok(c) => c,
        Err(e) => {
            report.problems.push(Problem {
                level: ProblemLevel::Error,
                path: "--verify".into(),
                message: format!("cannot start an HTTP client: {e}"),
            });
            return;
        }
    };
    // One check per key and API base (the app id header comes from the first finding).
    let mut targets: HashMap<(String, Url), (Target, Option<Verified>)> = HashMap::new();
    let mut wanted: Vec<(usize, (String, Url))> = Vec::new();
    for (index, finding) in report.findings.iter().enumerate() {
        if !matches!(finding.rule, Rule::RestApiKey | Rule::AuthKey) {
            continue;
        }
        let Some(key) = finding.secret() else {
            continue;
        };
        match Target::of(key.expose_secret(), finding.app_hint(), options) {
            Some(target) => {
                let id = (target.key.clone(), target.base.clone());
                targets.entry(id.clone()).or_insert((target, None));
                wanted.push((index, id));
            }
            None => report.problems.push(Problem {
                level: ProblemLevel::Warning,
                path: finding.place(),
                message: "not verified: no CometChat app id and region found near the key; pass \
                          --app-id and --region (or --api-base)"
                    .into(),
            }),
        }
    }
    let mut checks = JoinSet::new();
    for (id, (target, _)) in &targets {
        let (id, target, client) = (id.clone(), target.clone(), client.clone());
        checks.spawn(async move { (id, target.check(&client).await) });
    }
    while let Some(done) = checks.join_next().await {
        if let Ok((id, verdict)) = done
            && let Some(entry) = targets.get_mut(&id)
        {
            entry.1 = Some(verdict);
        }
    }
    for (index, id) in wanted {
        report.findings[index].verified = targets.get(&id).and_then(|(_, v)| *v);
    }
}

/// One key at one API base.
#[derive(Clone)]
struct Target {
    key: String,
    base: Url,
    app_id: Option<String>,
}

impl Target {
    fn of(key: &str, hint: &crate::finding::AppHint, options: &VerifyOptions) -> Option<Self> {
        // What is written near the key first; the options fill in what is not.
        let app_id = hint
            .app_id
            .clone()
            .filter(|a| valid_app_id(a))
            .or_else(|| options.app_id.clone());
        let base = match &options.api_base {
            Some(base) => base.clone(),
            None => {
                let region = hint
                    .region
                    .as_deref()
                    .and_then(|r| r.parse().ok())
                    .or(options.region)?;
                let app = app_id.as_deref()?;
                Url::parse(&format!("https://{app}.api-{region}.cometchat.io/v3/")).ok()?
            }
        };
        Some(Self {
            key: key.to_owned(),
            base,
            app_id,
        })
    }

    async fn check(&self, client: &reqwest::Client) -> Verified {
        let Ok(url) = self.base.join("users?perPage=1") else {
            return Verified::Unreachable;
        };
        let mut headers = HeaderMap::new();
        let Ok(mut key) = HeaderValue::from_str(&self.key) else {
            return Verified::Invalid;
        };
        key.set_sensitive(true);
        headers.insert("apikey", key);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(app) = self
            .app_id
            .as_deref()
            .and_then(|a| HeaderValue::from_str(a).ok())
        {
            headers.insert("appid", app);
        }
        let response = match client.get(url).headers(headers).send().await {
            Ok(r) => r,
            Err(_) => return Verified::Unreachable,
        };
        let status = response.status().as_u16();
        match response.bytes().await {
            Ok(body) => classify(status, &body),
            Err(_) => Verified::Unreachable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::AppHint;

    fn hint(app_id: Option<&str>, region: Option<&str>) -> AppHint {
        AppHint {
            app_id: app_id.map(Into::into),
            region: region.map(Into::into),
        }
    }

    fn base(hint: &AppHint, options: &VerifyOptions) -> Option<String> {
        Target::of("k", hint, options).map(|t| t.base.to_string())
    }

    #[test]
    fn the_host_comes_from_the_app_found_near_the_key() {
        let defaults = VerifyOptions::default();
        assert_eq!(
            base(&hint(Some("2612345abcdef"), Some("eu")), &defaults).as_deref(),
            Some("https://2612345abcdef.api-eu.cometchat.io/v3/")
        );
        assert_eq!(base(&hint(Some("app1"), None), &defaults), None);
        assert_eq!(base(&hint(None, Some("us")), &defaults), None);
        // Only letters and digits make a host label: nothing else may steer the key.
        assert_eq!(
            base(&hint(Some("evil.example#"), Some("us")), &defaults),
            None
        );
    }

    #[test]
    fn options_fill_in_and_api_base_wins() {
        let options = VerifyOptions {
            app_id: Some("app2".into()),
            region: Some(Region::In),
            ..VerifyOptions::default()
        };
        assert_eq!(
            base(&hint(None, None), &options).as_deref(),
            Some("https://app2.api-in.cometchat.io/v3/")
        );
        assert_eq!(
            base(&hint(Some("app1"), None), &options).as_deref(),
            Some("https://app1.api-in.cometchat.io/v3/")
        );
        // What is written next to the key wins: a repository may hold several apps.
        assert_eq!(
            base(&hint(Some("app1"), Some("us")), &options).as_deref(),
            Some("https://app1.api-us.cometchat.io/v3/")
        );
        let fake = VerifyOptions {
            api_base: Some(parse_api_base("http://127.0.0.1:8787/v3").unwrap()),
            ..VerifyOptions::default()
        };
        assert_eq!(
            base(&AppHint::default(), &fake).as_deref(),
            Some("http://127.0.0.1:8787/v3/")
        );
    }
}
