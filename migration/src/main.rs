//! `migration`: apply, revert and list migrations; the binary `sea-orm-cli migrate` drives.

use std::process::ExitCode;

use clap::Parser;
use migration::cli::{self, Cli};
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
        Ok(()) => ExitCode::SUCCESS,
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
