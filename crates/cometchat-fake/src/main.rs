//! `cometchat-fake`: run the fake CometChat server from the command line.
//!
//! ```text
//! cometchat-fake --listen 127.0.0.1:8787 --app-id ID --region us --api-key KEY [--auth-key KEY]
//!                [--seed users.json] [--strict] [--rate-limit-per-minute N] [--journal-capacity N]
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use cometchat_fake::{DEFAULT_JOURNAL_CAPACITY, FakeCometChat, FakeUser};

/// A fake CometChat REST API server for tests. Control it under /__admin/ (see the README).
#[derive(Debug, Parser)]
#[command(name = "cometchat-fake", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// App id the fake reports.
    #[arg(long, default_value = "fakeapp")]
    app_id: String,
    /// Region the fake reports (us, eu, in).
    #[arg(long, default_value = "us")]
    region: String,
    /// REST API key the fake accepts.
    #[arg(long, default_value = "fake-rest-api-key")]
    api_key: String,
    /// An Auth Key the fake also accepts: it may only create users and auth tokens.
    #[arg(long)]
    auth_key: Option<String>,
    /// JSON file with users to create at start: an array of {"uid", "name", ...}.
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Record requests no route matches as unexpected.
    #[arg(long)]
    strict: bool,
    /// Answer 429 after this many requests in a minute.
    #[arg(long)]
    rate_limit_per_minute: Option<u64>,
    /// How many requests the journal keeps (the newest); 0 turns recording off. Counts and the
    /// check of the keys in answers still cover every request.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_JOURNAL_CAPACITY)]
    journal_capacity: usize,
}

fn read_seed(path: &PathBuf) -> Result<Vec<FakeUser>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read --seed {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "--seed {} must be a JSON array of users like {{\"uid\": \"alice\", \"name\": \"Alice\"}}: {e}",
            path.display()
        )
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut builder = FakeCometChat::builder()
        .app_id(&args.app_id)
        .region(&args.region)
        .api_key(&args.api_key)
        .strict(args.strict)
        .journal_capacity(args.journal_capacity);
    if let Some(key) = &args.auth_key {
        builder = builder.auth_key(key);
    }
    if let Some(limit) = args.rate_limit_per_minute {
        builder = builder.rate_limit_per_minute(limit);
    }
    if let Some(path) = &args.seed {
        match read_seed(path) {
            Ok(users) => {
                for user in users {
                    builder = builder.seed_user(user);
                }
            }
            Err(e) => {
                eprintln!("cometchat-fake: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let fake = match builder.start_on(args.listen).await {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("cometchat-fake: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("cometchat-fake listening");
    println!("  COMETCHAT_API_BASE={}", fake.base_url());
    println!("  COMETCHAT_APP_ID={}", fake.app_id());
    println!("  COMETCHAT_REGION={}", fake.region());
    println!("  REST API key: the --api-key value (header `apikey`)");
    println!("  control API: http://{}/__admin/requests", fake.addr());
    if tokio::signal::ctrl_c().await.is_err() {
        eprintln!("cometchat-fake: cannot wait for Ctrl-C; stopping");
    }
    fake.shutdown().await;
    println!("cometchat-fake stopped");
    ExitCode::SUCCESS
}
