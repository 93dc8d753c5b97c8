//! `cometgate`: see `cometgate --help` and the crate docs.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // Diagnostics for whoever debugs a scan (`COMETGATE_LOG=debug`); never a secret in them.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("COMETGATE_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let code = cometgate_cli::cli::run(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(code)
}
