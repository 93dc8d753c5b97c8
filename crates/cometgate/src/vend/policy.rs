//! [`TokenPolicy`]: how many tokens a user keeps, how long one lives, how often it is
//! confirmed with CometChat; and the formats the environment writes them in.

use std::time::Duration;

/// The variable the cap of live tokens per user is read from (`1`–`90`, default `20`).
pub const ENV_TOKENS_PER_USER: &str = "COMETGATE_TOKENS_PER_USER";
/// The variable the max age is read from (`<n><s|m|h|d>` or `off`, default `7d`).
pub const ENV_TOKEN_MAX_AGE: &str = "COMETGATE_TOKEN_MAX_AGE";
/// The variable the recheck interval is read from (`<n><s|m|h|d>`, `0` always, `off` never;
/// default `60s`).
pub const ENV_TOKEN_RECHECK: &str = "COMETGATE_TOKEN_RECHECK";

/// The token lifecycle's settings. Start from [`TokenPolicy::default`].
///
/// - **Cap** ([`tokens_per_user`](Self::tokens_per_user), default 20, 1 to 90): at most this
///   many live tokens per user that cometgate minted. Minting past it deletes the least
///   recently used device's token at CometChat before answering, so old devices are logged out
///   in the order cometgate chooses, never silently by CometChat's own limit of 100.
/// - **Max age** ([`max_age`](Self::max_age), default 7 days, `None` for none): a token older
///   than that is not handed out again, and a sweep deletes it at CometChat even when its
///   device never comes back. Fixed at mint time: reuse does not extend it.
/// - **Recheck** ([`recheck`](Self::recheck), default 60 s; zero checks every time, `None`
///   never): a stored token last confirmed longer ago than that is confirmed at CometChat
///   before it is handed out again, so a token flushed elsewhere is replaced.
///
/// ```
/// use std::time::Duration;
/// use cometgate::vend::TokenPolicy;
///
/// let policy = TokenPolicy::default()
///     .tokens_per_user(5)?
///     .max_age(Some(Duration::from_secs(24 * 3600)))?
///     .recheck(None);
/// assert_eq!(policy.sweep_interval(), Duration::from_secs(60));
/// assert!(TokenPolicy::default().tokens_per_user(91).is_err());
/// # Ok::<(), cometgate::vend::PolicyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPolicy {
    pub(crate) per_user: u8,
    pub(crate) max_age: Option<Duration>,
    pub(crate) recheck: Option<Duration>,
}

/// A token policy value out of its range or malformed; the message says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The cap is not a whole number from 1 to 90.
    #[error(
        "{0:?} is not a number of tokens per user from 1 to 90 (CometChat keeps 100; 10 stay free for other tools)"
    )]
    TokensPerUser(String),
    /// A duration is malformed (or zero where zero means nothing).
    #[error("{0:?} is not a duration: use <n><s|m|h|d> such as 90s, 15m, 12h or 7d, or off")]
    Duration(String),
}

/// The most tokens per user cometgate keeps: CometChat keeps the newest 100 and silently
/// drops older ones, so some headroom stays for other tools and the moment between a mint and
/// its eviction.
pub const MAX_TOKENS_PER_USER: u8 = 90;

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            per_user: 20,
            max_age: Some(Duration::from_secs(7 * 24 * 3600)),
            recheck: Some(Duration::from_secs(60)),
        }
    }
}

impl TokenPolicy {
    /// Sets the cap of live tokens per user.
    ///
    /// # Errors
    ///
    /// [`PolicyError::TokensPerUser`] outside 1 to [`MAX_TOKENS_PER_USER`].
    pub fn tokens_per_user(mut self, cap: usize) -> Result<Self, PolicyError> {
        self.per_user = u8::try_from(cap)
            .ok()
            .filter(|c| (1..=MAX_TOKENS_PER_USER).contains(c))
            .ok_or_else(|| PolicyError::TokensPerUser(cap.to_string()))?;
        Ok(self)
    }

    /// Sets the max age (`None`: tokens are handed out until revoked or evicted). Whole
    /// seconds; the fraction is dropped.
    ///
    /// # Errors
    ///
    /// [`PolicyError::Duration`] for a max age under one second.
    pub fn max_age(mut self, max_age: Option<Duration>) -> Result<Self, PolicyError> {
        if let Some(age) = max_age.filter(|a| a.as_secs() == 0) {
            return Err(PolicyError::Duration(format!("{age:?}")));
        }
        self.max_age = max_age;
        Ok(self)
    }

    /// Sets the recheck interval (`Some(Duration::ZERO)`: every time; `None`: never).
    #[must_use]
    pub fn recheck(mut self, recheck: Option<Duration>) -> Self {
        self.recheck = recheck;
        self
    }

    /// The cap of live tokens per user.
    pub fn per_user_cap(&self) -> usize {
        self.per_user.into()
    }

    /// The max age, if any.
    pub fn max_age_limit(&self) -> Option<Duration> {
        self.max_age
    }

    /// The recheck interval, if any.
    pub fn recheck_interval(&self) -> Option<Duration> {
        self.recheck
    }

    /// How often expired tokens are swept: a quarter of the max age, between 1 s and 60 s
    /// (60 s without a max age, for deletes that failed and wait for a retry).
    pub fn sweep_interval(&self) -> Duration {
        self.max_age.map_or(Duration::from_secs(60), |age| {
            (age / 4).clamp(Duration::from_secs(1), Duration::from_secs(60))
        })
    }

    /// Reads the policy from variables through `lookup`, starting from the defaults: an unset
    /// or empty variable keeps its default. Errors name the variable.
    pub(crate) fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, (&'static str, PolicyError)> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut policy = Self::default();
        if let Some(cap) = get(ENV_TOKENS_PER_USER) {
            let parsed = cap
                .parse::<usize>()
                .map_err(|_| PolicyError::TokensPerUser(cap.clone()));
            policy = parsed
                .and_then(|n| policy.tokens_per_user(n))
                .map_err(|e| (ENV_TOKENS_PER_USER, e))?;
        }
        if let Some(age) = get(ENV_TOKEN_MAX_AGE) {
            let parsed = parse_duration(&age).filter(|d| d.is_none_or(|d| d.as_secs() > 0));
            policy.max_age = parsed
                .ok_or(PolicyError::Duration(age))
                .map_err(|e| (ENV_TOKEN_MAX_AGE, e))?;
        }
        if let Some(recheck) = get(ENV_TOKEN_RECHECK) {
            policy.recheck = parse_duration(&recheck)
                .ok_or(PolicyError::Duration(recheck))
                .map_err(|e| (ENV_TOKEN_RECHECK, e))?;
        }
        Ok(policy)
    }
}

/// `<n><s|m|h|d>`, a bare `0`, or `off` (`Some(None)`); `None` when malformed.
fn parse_duration(value: &str) -> Option<Option<Duration>> {
    if value.eq_ignore_ascii_case("off") {
        return Some(None);
    }
    if value == "0" {
        return Some(Some(Duration::ZERO));
    }
    let split = value.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = value.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    Some(Some(Duration::from_secs(n.checked_mul(unit)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(
        vars: &'a [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn durations_parse_as_documented() {
        let d = |s| Some(Some(Duration::from_secs(s)));
        assert_eq!(parse_duration("90s"), d(90));
        assert_eq!(parse_duration("15m"), d(900));
        assert_eq!(parse_duration("12h"), d(43_200));
        assert_eq!(parse_duration("7d"), d(604_800));
        assert_eq!(parse_duration("0"), d(0));
        assert_eq!(parse_duration("OFF"), Some(None));
        for bad in [
            "",
            "7",
            "7w",
            "d",
            "-1s",
            "1.5h",
            "7 d",
            "s7",
            "99999999999999999999d",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_environment_sets_each_value_and_names_a_bad_one() {
        let policy = TokenPolicy::from_lookup(lookup(&[
            (ENV_TOKENS_PER_USER, "5"),
            (ENV_TOKEN_MAX_AGE, "off"),
            (ENV_TOKEN_RECHECK, "0"),
        ]))
        .unwrap();
        assert_eq!(
            (policy.per_user_cap(), policy.max_age, policy.recheck),
            (5, None, Some(Duration::ZERO))
        );
        assert_eq!(
            TokenPolicy::from_lookup(lookup(&[])).unwrap(),
            TokenPolicy::default()
        );
        for (var, value) in [
            (ENV_TOKENS_PER_USER, "0"),
            (ENV_TOKENS_PER_USER, "91"),
            (ENV_TOKENS_PER_USER, "twenty"),
            (ENV_TOKEN_MAX_AGE, "0s"),
            (ENV_TOKEN_MAX_AGE, "0"),
            (ENV_TOKEN_MAX_AGE, "1week"),
            (ENV_TOKEN_RECHECK, "60"),
        ] {
            let (named, _) = TokenPolicy::from_lookup(lookup(&[(var, value)])).unwrap_err();
            assert_eq!(named, var, "{value}");
        }
    }

    #[test]
    fn the_sweep_runs_at_least_every_minute_and_at_most_every_second() {
        let with = |s| {
            TokenPolicy::default()
                .max_age(Some(Duration::from_secs(s)))
                .unwrap()
        };
        assert_eq!(with(2).sweep_interval(), Duration::from_secs(1));
        assert_eq!(with(40).sweep_interval(), Duration::from_secs(10));
        assert_eq!(with(7 * 86_400).sweep_interval(), Duration::from_secs(60));
    }
}
