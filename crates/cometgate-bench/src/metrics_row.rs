//! (h) metrics off against (h') metrics on: what cometgate's `metrics` feature, with the
//! Prometheus recorder the quickstarts install, costs the token route.
//!
//! A cargo feature is chosen per build, so the two rows are two builds of one small server,
//! `src/bin/token-server.rs`: without the bench's `metrics` feature (cometgate's is off too,
//! every metric call compiled out) and with it (cometgate's on, `quickstart-common`'s recorder
//! and `/metrics` listener installed). Each build runs in a process of its own, serving the
//! reuse path of (d) over real HTTP on loopback; this process drives both with the same load
//! generator and the same alternation as (d)/(e) (off, on, on, off: half a round each), and
//! reports the median of the rounds' ratios.
//!
//! A Prometheus server scrapes `/metrics` every [`SCRAPE_INTERVAL`] during the whole run (15
//! times Prometheus's default rate): the exporter drains its histograms on scrapes, so the
//! draining is part of the measured work, as it is in production. After the rounds a last
//! scrape checks that the recorder counted every reuse request sent to (h'), and neither
//! server may call CometChat during the rounds.
//!
//! The target is on req/s, but the cost measured is a few percent while a round's ratio on a
//! shared machine swings by tens of percent; so the row also prints each server's CPU time per
//! request over the rounds (from `/proc`), which other processes' load does not inflate.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::hs256::Hs256;
use crate::reuse::{DEVICES, REQUESTS, alternate, known_device, print_pair, round_ratios};
use crate::{CONCURRENCY, Figures, USERS, WARMUP, load, median};

/// Rounds of each row: twice (d)'s, since the cost measured is a few percent and a round's
/// ratio on a shared machine varies by tens of percent.
const ROUNDS: usize = 31;
/// Clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux whatever the kernel's
/// own tick rate).
const USER_HZ: f64 = 100.0;
/// How often the scraper reads (h')'s `/metrics`.
const SCRAPE_INTERVAL: Duration = Duration::from_secs(1);
/// The ratio (h')/(h) must reach.
const TARGET: f64 = 0.97;
const SERVER_BIN: &str = "token-server";

pub struct MetricsFigures {
    /// (h), per round.
    off: Vec<Figures>,
    /// (h'), per round.
    on: Vec<Figures>,
    /// CometChat calls during the rounds, by (h) and (h'): must be 0.
    upstream_calls: (usize, usize),
    /// Reuse requests sent to (h') (warm-up and rounds), and how many its recorder counted.
    reuses_sent: usize,
    reuses_counted: Option<u64>,
    /// Token requests whose duration (h')'s histogram holds, and the scrapes during the run.
    durations_counted: Option<u64>,
    scrapes: usize,
    /// CPU time each server used per request during the rounds, in µs, (h) then (h'): `None`
    /// where `/proc` does not say.
    cpu_per_request: Option<(f64, f64)>,
}

/// One build of the server, running.
struct ServerProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    token_url: String,
    /// `/metrics`, for the build with the feature.
    metrics_url: Option<String>,
}

impl ServerProcess {
    fn spawn(exe: &Path, secret: &str) -> Result<Self, String> {
        let mut child = Command::new(exe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", exe.display()))?;
        let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("the server's stdio is not piped".into());
        };
        writeln!(stdin, "{secret}").map_err(|e| format!("writing the secret: {e}"))?;
        let mut server = Self {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            token_url: String::new(),
            metrics_url: None,
        };
        server.token_url = server.read_field("token")?;
        server.metrics_url = Some(server.read_field("metrics")?).filter(|m| m != "off");
        Ok(server)
    }

    /// The rest of the server's next line, which must start with `name `.
    fn read_field(&mut self, name: &str) -> Result<String, String> {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| format!("reading the server's {name}: {e}"))?;
        line.trim_end()
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(' '))
            .map(str::to_owned)
            .ok_or_else(|| format!("the server said {line:?}, not its {name}"))
    }

    /// The CPU time (user and system, all threads) the server has used so far, in clock ticks:
    /// unlike req/s, what another process on the machine takes does not count in it.
    /// `None` where `/proc/<pid>/stat` is not there to say (not Linux).
    fn cpu_ticks(&self) -> Option<u64> {
        cpu_ticks(&std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?)
    }

    /// The calls its fake has received so far.
    fn upstream_calls(&mut self) -> Result<usize, String> {
        writeln!(self.stdin, "upstream").map_err(|e| format!("asking the server: {e}"))?;
        let n = self.read_field("upstream")?;
        n.parse()
            .map_err(|e| format!("the server's upstream count {n:?}: {e}"))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // The server this run started, by its own handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// utime + stime of a `/proc/<pid>/stat` line.
fn cpu_ticks(stat: &str) -> Option<u64> {
    // After the command name (in parentheses, which may hold spaces and parentheses) come the
    // fields from the 3rd (state) on: utime is the 14th, stime the 15th.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// Builds the server with or without the `metrics` feature and copies it aside (the two builds
/// share one output path); returns the copy.
fn build_server(metrics: bool) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let mut command = Command::new(cargo);
    command.args(["build", "--quiet", "--locked", "--manifest-path", manifest]);
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    command.args([
        "--bin",
        SERVER_BIN,
        "--message-format=json-render-diagnostics",
    ]);
    if metrics {
        command.args(["--features", "metrics"]);
    }
    let output = command
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "building {SERVER_BIN} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let built = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == SERVER_BIN)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("cargo named no {SERVER_BIN} executable"))?;
    let copy = built.with_file_name(format!(
        "{SERVER_BIN}-metrics-{}",
        if metrics { "on" } else { "off" }
    ));
    std::fs::copy(&built, &copy).map_err(|e| format!("copying {}: {e}", built.display()))?;
    Ok(copy)
}

/// The value of the first sample of `metric` in a Prometheus scrape whose labels include all
/// of `labels` (`name="value"` each).
fn sample(scrape: &str, metric: &str, labels: &[&str]) -> Option<u64> {
    scrape
        .lines()
        .filter(|line| {
            line.strip_prefix(metric)
                .is_some_and(|rest| rest.starts_with('{'))
        })
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|value| value as u64)
}

pub async fn run() -> Result<MetricsFigures, String> {
    let off_exe = build_server(false)?;
    let on_exe = build_server(true)?;
    let jwts = Arc::new(Hs256::new(USERS));
    let mut off = ServerProcess::spawn(&off_exe, jwts.secret())?;
    let mut on = ServerProcess::spawn(&on_exe, jwts.secret())?;
    let metrics_url = on
        .metrics_url
        .clone()
        .ok_or("the build with the feature serves no /metrics")?;
    if let Some(url) = &off.metrics_url {
        return Err(format!("the build without the feature serves {url}"));
    }

    // Prometheus, from first to last request.
    let scrapes = Arc::new(AtomicUsize::new(0));
    let scraper = tokio::spawn({
        let (url, scrapes, client) = (metrics_url.clone(), scrapes.clone(), reqwest::Client::new());
        async move {
            let mut every = tokio::time::interval(SCRAPE_INTERVAL);
            loop {
                every.tick().await;
                if let Ok(r) = client.get(&url).send().await
                    && r.status().is_success()
                    && r.bytes().await.is_ok()
                {
                    scrapes.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });

    // Track every device on each server (first sign-ins), then warm both up.
    for server in [&off, &on] {
        let tracked = load(&server.token_url, USERS * DEVICES, known_device(&jwts)).await;
        if tracked.errors != 0 {
            return Err(format!(
                "tracking the devices failed {} times",
                tracked.errors
            ));
        }
        load(&server.token_url, WARMUP, known_device(&jwts)).await;
    }
    let before = (off.upstream_calls()?, on.upstream_calls()?);
    let cpu_before = (off.cpu_ticks(), on.cpu_ticks());
    let (off_rounds, on_rounds) = alternate(&off.token_url, &on.token_url, &jwts, ROUNDS).await;
    let cpu_after = (off.cpu_ticks(), on.cpu_ticks());
    let upstream_calls = (
        off.upstream_calls()? - before.0,
        on.upstream_calls()? - before.1,
    );
    scraper.abort();

    // Each server answered `ROUNDS * REQUESTS` requests during the rounds.
    let per_request = |before: Option<u64>, after: Option<u64>| {
        let ticks = after?.checked_sub(before?)?;
        Some(ticks as f64 / USER_HZ * 1e6 / (ROUNDS * REQUESTS) as f64)
    };
    let cpu_per_request =
        per_request(cpu_before.0, cpu_after.0).zip(per_request(cpu_before.1, cpu_after.1));

    let scrape = reqwest::get(&metrics_url)
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("the last scrape: {e}"))?
        .text()
        .await
        .map_err(|e| format!("the last scrape: {e}"))?;
    Ok(MetricsFigures {
        off: off_rounds,
        on: on_rounds,
        upstream_calls,
        reuses_sent: WARMUP + ROUNDS * REQUESTS,
        reuses_counted: sample(
            &scrape,
            "cometgate_requests_total",
            &[r#"route="token""#, r#"outcome="reused""#],
        ),
        durations_counted: sample(
            &scrape,
            "cometgate_request_duration_seconds_count",
            &[r#"route="token""#],
        ),
        scrapes: scrapes.load(Ordering::Relaxed),
        cpu_per_request,
    })
}

/// The recorder saw every reuse request, no server called CometChat, and no request failed.
fn checks_pass(f: &MetricsFigures) -> bool {
    let errors: usize = f.off.iter().chain(&f.on).map(|r| r.errors).sum();
    f.reuses_counted == Some(f.reuses_sent as u64) && f.upstream_calls == (0, 0) && errors == 0
}

pub fn print(figures: &Result<MetricsFigures, String>) {
    println!(
        "\nmetrics on / off, reuse path on loopback: two builds of `{SERVER_BIN}` in processes of their own, median of {ROUNDS} rounds of {REQUESTS} requests per row (h, h', h', h: half each), {CONCURRENCY} concurrent, {USERS} users with {DEVICES} tracked devices each, HS256 JWTs; (h') scraped every {}s",
        SCRAPE_INTERVAL.as_secs()
    );
    let f = match figures {
        Ok(f) => f,
        Err(e) => {
            println!("(h) NOT measured: {e}");
            return;
        }
    };
    print_pair(
        ("h", "metrics off (cometgate without the feature)", &f.off),
        (
            "h'",
            "metrics on (the feature, the quickstarts' Prometheus recorder)",
            &f.on,
        ),
    );
    let shown = |n: Option<u64>| n.map_or_else(|| "none".to_owned(), |n| n.to_string());
    println!(
        "; upstream calls during the rounds: (h) {}, (h') {}; (h')'s recorder counted {} reused of {} sent, {} token request durations, over {} scrapes",
        f.upstream_calls.0,
        f.upstream_calls.1,
        shown(f.reuses_counted),
        f.reuses_sent,
        shown(f.durations_counted),
        f.scrapes
    );
    match f.cpu_per_request {
        Some((off, on)) => println!(
            "server CPU per request during the rounds (user + system, from /proc): (h) {off:.1} µs, (h') {on:.1} µs, ratio h'/h {:.3}",
            on / off
        ),
        None => println!("server CPU per request: not measured (no /proc/<pid>/stat)"),
    }
}

pub fn targets(figures: &Result<MetricsFigures, String>) {
    match figures {
        Ok(f) => {
            let ratio = median(round_ratios(&f.on, &f.off));
            println!(
                "- (h')/(h) metrics on/off req/s ratio >= {TARGET} (median of the rounds' ratios): {ratio:.3}, {}",
                crate::verdict(ratio >= TARGET && checks_pass(f))
            );
        }
        Err(_) => println!("- (h') metrics on/off: NOT measured (see above)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_utime_plus_stime_whatever_the_command_name() {
        let stat = "5639 (a (b) c) R 5635 5635 24180 0 -1 4194304 100 0 0 0 17 25 0 0 20 0 1 0";
        assert_eq!(cpu_ticks(stat), Some(42));
        assert_eq!(cpu_ticks("5639 (cat) R 5635"), None);
        assert_eq!(cpu_ticks("no parenthesis"), None);
    }

    #[test]
    fn a_sample_is_the_first_line_of_the_metric_with_all_the_labels() {
        let scrape = "\
# TYPE cometgate_requests_total counter
cometgate_requests_total{route=\"token\",outcome=\"minted\"} 1500
cometgate_requests_total{route=\"token\",outcome=\"reused\"} 310300
cometgate_requests_total_other{route=\"token\",outcome=\"reused\"} 7
cometgate_request_duration_seconds_count{route=\"token\"} 311800
";
        let reused = [r#"route="token""#, r#"outcome="reused""#];
        assert_eq!(
            sample(scrape, "cometgate_requests_total", &reused),
            Some(310_300)
        );
        assert_eq!(
            sample(scrape, "cometgate_request_duration_seconds_count", &[]),
            Some(311_800)
        );
        assert_eq!(
            sample(
                scrape,
                "cometgate_requests_total",
                &[r#"outcome="revoked""#]
            ),
            None
        );
        assert_eq!(sample(scrape, "cometgate_tokens_total", &[]), None);
    }
}
