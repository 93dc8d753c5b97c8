//! The command line: `cometgate audit [OPTIONS] <PATH>...`.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

use crate::Severity;
use crate::report::{EXIT_CLEAN, EXIT_ERROR, Format, Report};
use crate::scan::{AuditOptions, audit};
use crate::verify::{self, VerifyOptions};

/// cometgate: production-safe CometChat authentication.
#[derive(Parser)]
#[command(name = "cometgate", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Find leaked CometChat keys, auth tokens and dev-mode login in a client project or a
    /// built app (APK, AAB, IPA, zip, Hermes or JS bundle) before it ships.
    ///
    /// Exit code 0: nothing at or above --fail-on; 1: a finding at or above it; 2: a usage
    /// error or input that could not be read.
    Audit(AuditArgs),
}

/// `cometgate audit`'s arguments.
#[derive(Args)]
pub struct AuditArgs {
    /// Files and directories to scan: source trees, .env files, bundles, .apk/.aab/.ipa/.zip.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_enum, default_value_t = Severity::High, value_name = "SEVERITY")]
    pub fail_on: Severity,
    /// A key to look for (as it is and base64-encoded); repeatable. Prefer --key-file: command
    /// lines are visible to other users of the machine.
    #[arg(long = "key", value_name = "KEY")]
    pub keys: Vec<String>,
    /// A file of keys to look for, one per line (blank lines and lines starting with # are
    /// skipped); repeatable.
    #[arg(long = "key-file", value_name = "FILE")]
    pub key_files: Vec<PathBuf>,
    /// Also scan node_modules and .git.
    #[arg(long)]
    pub include_deps: bool,
    /// Ask CometChat whether each REST API key and Auth Key found works, and with which scope
    /// (the only network use; the key is never printed).
    #[arg(long)]
    pub verify: bool,
    /// With --verify: the API base to ask (e.g. `http://127.0.0.1:8787/v3` for a local fake)
    /// instead of `https://APP_ID.api-REGION.cometchat.io/v3`.
    #[arg(long, value_name = "URL", requires = "verify")]
    pub api_base: Option<String>,
    /// With --verify: the app id to use for keys with none found near them.
    #[arg(long, value_name = "APP_ID", requires = "verify")]
    pub app_id: Option<String>,
    /// With --verify: the region (us, eu, in) to use for keys with none found near them.
    #[arg(long, value_name = "REGION", requires = "verify")]
    pub region: Option<String>,
}

/// Runs the command line `args` (the first one is the program name), printing the report to
/// `stdout` and problems to `stderr`; returns the exit code.
///
/// ```
/// use cometgate_cli::cli::run;
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("App.tsx"), "CometChatUIKit.login({ authToken });\n")?;
/// let (mut out, mut err) = (Vec::new(), Vec::new());
/// let code = run(["cometgate".as_ref(), "audit".as_ref(), dir.path().as_os_str()], &mut out, &mut err);
/// assert_eq!(code, 0);
/// assert!(String::from_utf8(out.clone())?.starts_with("0 findings in 1 files"));
/// assert_eq!(run(["cometgate", "audit", "--fail-on", "severe", "."], &mut out, &mut err), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run<I, T>(args: I, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let shown = e.render().to_string();
            // --help and --version are answers, not errors.
            if e.use_stderr() {
                let _ = write!(stderr, "{shown}");
                return EXIT_ERROR;
            }
            let _ = write!(stdout, "{shown}");
            return EXIT_CLEAN;
        }
    };
    match cli.command {
        Command::Audit(args) => match run_audit(args, stdout, stderr) {
            Ok(code) => code,
            Err(message) => {
                let _ = writeln!(stderr, "cometgate audit: {message}");
                EXIT_ERROR
            }
        },
    }
}

fn run_audit(
    args: AuditArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, String> {
    let verify_options = if args.verify {
        Some(verify_options(&args).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let mut keys: Vec<SecretString> = args.keys.iter().map(|k| k.as_str().into()).collect();
    for file in &args.key_files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("--key-file {}: {e}", file.display()))?;
        keys.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| SecretString::from(l.to_owned())),
        );
    }
    let mut options = AuditOptions::new(args.paths);
    options.keys = keys;
    options.include_deps = args.include_deps;
    options.app_hints = verify_options.is_some();
    let mut report = audit(&options).map_err(|e| e.to_string())?;
    if let Some(verify_options) = verify_options {
        check_keys(&mut report, &verify_options)?;
    }
    report
        .render(args.format, stdout)
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write the report: {e}"))?;
    let _ = report.render_problems(stderr);
    let failing = report.failing(args.fail_on);
    if failing > 0 && args.format != Format::Human {
        let _ = writeln!(
            stderr,
            "cometgate audit: {failing} finding(s) at or above {}",
            args.fail_on
        );
    }
    Ok(report.exit_code(args.fail_on))
}

fn verify_options(args: &AuditArgs) -> Result<VerifyOptions, verify::VerifyError> {
    Ok(VerifyOptions {
        api_base: args
            .api_base
            .as_deref()
            .map(verify::parse_api_base)
            .transpose()?,
        app_id: args
            .app_id
            .as_deref()
            .map(verify::parse_app_id)
            .transpose()?,
        region: args
            .region
            .as_deref()
            .map(verify::parse_region)
            .transpose()?,
        ..VerifyOptions::default()
    })
}

fn check_keys(report: &mut Report, options: &VerifyOptions) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start --verify: {e}"))?;
    runtime.block_on(verify::verify(report, options));
    Ok(())
}
