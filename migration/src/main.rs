//! `migration`: apply, revert and list migrations; the binary `sea-orm-cli migrate` drives.
//!
//! Exit codes: 0 success, 1 failure (the error is logged on stderr), 2 usage error, 3 `status`
//! found something pending, in progress, failed, missing or drifted.

use std::process::ExitCode;

use clap::Parser;
use migration::cli::{self, Cli, Outcome};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Cli::parse();
    init_tracing(args.verbose);
    let outcome = match args.config() {
        Ok(config) => cli::run(&args.command, &config, &mut std::io::stdout().lock()).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::NeedsAttention) => ExitCode::from(3),
        Err(error) => {
            tracing::error!("{:#}", anyhow::Error::from(error));
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr (stdout carries the command's report). `RUST_LOG` wins over `-v`.
fn init_tracing(verbose: bool) {
    let default = if verbose {
        "info,migration=debug"
    } else {
        "info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
