//! `cargo run -p actix-quickstart`: the cometgate quickstart on actix-web. See the library docs
//! for the environment variables.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use actix_quickstart::{Settings, start};
use tracing_subscriber::EnvFilter;

#[actix_web::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let running = match Settings::from_env() {
        Ok(settings) => start(settings).await,
        Err(error) => Err(error),
    };
    let running = match running {
        Ok(running) => running,
        Err(error) => {
            eprintln!("actix-quickstart: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", running.banner());
    println!("Press Ctrl-C to stop.");

    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("actix-quickstart: cannot wait for Ctrl-C ({error}); stopping");
    }
    match running.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("actix-quickstart: the server failed: {error}");
            ExitCode::FAILURE
        }
    }
}
