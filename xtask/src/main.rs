//! `cargo xtask`: the checks a contributor must pass, in one command.
//!
//! ```text
//! cargo xtask verify   # fmt, clippy -D warnings, every test (the JS client's too, cometgate-jwt on
//!                      # rust-crypto, and refusing both/neither backends), docs with warnings denied
//! cargo xtask bench    # the token endpoint under load on loopback, with a baseline, and
//!                      # `cometgate audit` throughput against ripgrep (not part of verify)
//! cargo xtask bench metrics   # one row of the load bench only (also: reuse, webhook, webhooks,
//!                             # redis)
//! ```
//!
//! Each step prints the command it runs; the first failing step stops the run with a message
//! that names it.

use std::process::{Command, ExitCode};
use std::time::Instant;

/// One command of a check, with the environment it needs.
struct Step {
    name: &'static str,
    program: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// For a check that must be refused: the message its failure must print.
    must_fail_with: Option<&'static str>,
}

const VERIFY: &[Step] = &[
    Step {
        name: "formatting",
        program: "cargo",
        args: &["fmt", "--all", "--", "--check"],
        env: &[],
        must_fail_with: None,
    },
    Step {
        name: "clippy",
        program: "cargo",
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
        env: &[],
        must_fail_with: None,
    },
    Step {
        name: "tests",
        program: "cargo",
        args: &["test", "--workspace", "--locked"],
        env: &[],
        must_fail_with: None,
    },
    Step {
        // The quickstarts turn cometgate's `metrics` feature on for the whole workspace; this
        // proves the core still builds, lints and passes without it (every metric a no-op).
        name: "cometgate without the metrics feature",
        program: "cargo",
        args: &[
            "clippy",
            "--package",
            "cometgate",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
        env: &[],
        must_fail_with: None,
    },
    Step {
        // The client helper's unit tests (Node's built-in runner). The file is named: Node 20
        // does not expand globs and Node 22+ does not search a directory argument.
        name: "js client",
        program: "node",
        args: &["--test", "clients/js/test/cometgate-client.test.mjs"],
        env: &[],
        must_fail_with: None,
    },
    Step {
        // The workspace builds cometgate-jwt with its default backend (aws-lc-rs); this proves
        // the alternative backend verifies the same tokens.
        name: "cometgate-jwt on rust-crypto",
        program: "cargo",
        args: &[
            "test",
            "--package",
            "cometgate-jwt",
            "--no-default-features",
            "--features",
            "rust-crypto",
            "--locked",
        ],
        env: &[],
        must_fail_with: None,
    },
    // jsonwebtoken panics at run time with both crypto backends or neither; cometgate-jwt must
    // refuse to compile instead.
    Step {
        name: "cometgate-jwt refuses both backends",
        program: "cargo",
        args: &[
            "check",
            "--package",
            "cometgate-jwt",
            "--features",
            "rust-crypto",
            "--locked",
        ],
        env: &[],
        must_fail_with: Some("enable exactly one crypto backend"),
    },
    Step {
        name: "cometgate-jwt refuses no backend",
        program: "cargo",
        args: &[
            "check",
            "--package",
            "cometgate-jwt",
            "--no-default-features",
            "--locked",
        ],
        env: &[],
        must_fail_with: Some("enable one crypto backend"),
    },
    Step {
        name: "docs",
        program: "cargo",
        args: &["doc", "--workspace", "--no-deps", "--locked"],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
        must_fail_with: None,
    },
];

const BENCH: &[Step] = &[
    Step {
        name: "token endpoint load",
        program: "cargo",
        args: &[
            "run",
            "--release",
            "--quiet",
            "--locked",
            "-p",
            "cometgate-bench",
        ],
        env: &[],
        must_fail_with: None,
    },
    Step {
        // `cometgate audit` over a synthetic 200 MB project against ripgrep (`rg` must be
        // installed: apt-get install -y ripgrep).
        name: "audit throughput",
        program: "cargo",
        args: &[
            "bench",
            "--quiet",
            "--locked",
            "-p",
            "cometgate-cli",
            "--bench",
            "audit",
        ],
        env: &[],
        must_fail_with: None,
    },
];

/// The rows of the load bench that `cargo xtask bench <row>` runs alone (`cometgate-bench <row>`).
const BENCH_ROWS: &[&str] = &["reuse", "webhook", "webhooks", "redis", "metrics"];

/// Runs `step`, with `extra` after its arguments.
fn run(step: &Step, extra: &[&str]) -> Result<(), String> {
    let shown_env: String = step
        .env
        .iter()
        .map(|(k, v)| format!("{k}='{v}' "))
        .collect();
    println!(
        "==> [{}] {shown_env}{} {}",
        step.name,
        step.program,
        step.args
            .iter()
            .chain(extra)
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    );
    let started = Instant::now();
    let mut command = Command::new(step.program);
    command
        .args(step.args)
        .args(extra)
        .envs(step.env.iter().copied());
    let could_not_start = |e: std::io::Error| {
        format!(
            "step '{}': could not start {}: {e}",
            step.name, step.program
        )
    };
    let done = match step.must_fail_with {
        Some(expected) => {
            let output = command.output().map_err(could_not_start)?;
            let stderr = String::from_utf8_lossy(&output.stderr);
            if output.status.success() || !stderr.contains(expected) {
                return Err(format!(
                    "step '{}' must fail with {expected:?}, but it ended with {}:\n{stderr}",
                    step.name, output.status
                ));
            }
            "refused as it must be"
        }
        None => {
            let status = command.status().map_err(could_not_start)?;
            if !status.success() {
                return Err(format!(
                    "step '{}' failed ({status}); rerun the command above to see why",
                    step.name
                ));
            }
            "ok"
        }
    };
    println!(
        "==> [{}] {done} in {:.1}s",
        step.name,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn usage() -> ExitCode {
    eprintln!("usage: cargo xtask <verify|bench [row]>");
    eprintln!(
        "  verify   formatting, clippy (-D warnings), all tests (the JS client's too), docs (warnings denied)"
    );
    eprintln!("  bench    the token endpoint under load on loopback, against a baseline;");
    eprintln!("           cometgate audit throughput against ripgrep (needs rg);");
    eprintln!(
        "           with a row ({}), that row of the load bench only",
        BENCH_ROWS.join(", ")
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let row_args;
    let (steps, extra): (&[Step], &[&str]) = match args[..] {
        ["verify"] => (VERIFY, &[]),
        ["bench"] => (BENCH, &[]),
        // The load bench's step alone, told which row.
        ["bench", row] if BENCH_ROWS.contains(&row) => {
            row_args = ["--", row];
            (&BENCH[..1], &row_args)
        }
        _ => return usage(),
    };
    // Steps name files from the workspace root (the JS tests); cargo runs us from anywhere below.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if let Err(e) = std::env::set_current_dir(&root) {
        eprintln!(
            "xtask: cannot enter the workspace root {}: {e}",
            root.display()
        );
        return ExitCode::FAILURE;
    }
    let started = Instant::now();
    for step in steps {
        if let Err(message) = run(step, extra) {
            eprintln!("xtask: {message}");
            return ExitCode::FAILURE;
        }
    }
    println!(
        "==> all {} steps passed in {:.0}s",
        steps.len(),
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
