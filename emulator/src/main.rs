//! `data-api-emulator`: the local RDS Data API server.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use emulator::backend::{DbUser, Server};
use emulator::faults::{AutoPause, Rule};
use emulator::secrets::Secrets;
use emulator::transactions::Expiry;
use emulator::{AppState, Limits, Target};

/// A local RDS Data API (v2) in front of a real MariaDB/MySQL or PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "data-api-emulator", version)]
struct Args {
    /// Address to listen on. A non-loopback address needs --allow-remote: the emulator has no
    /// authentication.
    #[arg(
        long,
        env = "DATA_API_EMULATOR_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    listen: SocketAddr,

    /// Accept a non-loopback --listen address (anyone who reaches it can run any SQL the database
    /// users may).
    #[arg(long)]
    allow_remote: bool,

    /// Database server behind a cluster: `mysql://…` or `postgres://…`. Repeat with --resource-arn and
    /// --secret-arn for several clusters (the n-th URL pairs with the n-th ARNs).
    #[arg(
        long = "database-url",
        env = "DATA_API_EMULATOR_DATABASE_URL",
        required = true,
        hide_env_values = true
    )]
    database_urls: Vec<String>,

    /// Cluster ARN clients send (default for the first URL: arn:aws:rds:us-east-1:123456789012:cluster:local).
    #[arg(long = "resource-arn")]
    resource_arns: Vec<String>,

    /// Secret ARN clients send (default for the first URL: arn:aws:secretsmanager:us-east-1:123456789012:secret:local).
    #[arg(long = "secret-arn")]
    secret_arns: Vec<String>,

    /// A JSON file of secret ARN -> {"username", "password"}: statements sent with such a secret run as
    /// that database user, so its grants apply. Every cluster accepts these secrets; a cluster's own
    /// --secret-arn keeps the URL's credentials.
    #[arg(long = "secrets", value_name = "FILE")]
    secrets_file: Option<std::path::PathBuf>,

    /// A secret as ARN=user:password (repeatable; as an entry of --secrets).
    #[arg(long = "secret", value_name = "ARN=USER:PASSWORD", value_parser = secret)]
    secrets: Vec<(String, DbUser)>,

    /// Largest response body in bytes (AWS: 1 MiB).
    #[arg(long, default_value_t = 1024 * 1024)]
    max_response_bytes: usize,

    /// Seconds without a call before a transaction is rolled back (AWS: 180).
    #[arg(long, default_value_t = 180)]
    transaction_idle_timeout: u64,

    /// Seconds after which any transaction is rolled back (AWS: 86400).
    #[arg(long, default_value_t = 86_400)]
    transaction_max_lifetime: u64,

    /// Seconds a call may run before StatementTimeoutException (AWS: 45; fractions allowed).
    #[arg(long, default_value_t = 45.0, value_parser = positive_seconds)]
    statement_timeout: f64,

    /// Largest request body in bytes (AWS: 4 MiB).
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_request_bytes: usize,

    /// Refuse results with a row larger than this many bytes (AWS documents 64 KB; off by default
    /// because Data API v2 was seen returning larger rows).
    #[arg(long)]
    max_row_bytes: Option<usize>,

    /// Connections per database (and user) the emulator may open.
    #[arg(long, default_value_t = emulator::backend::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,

    /// Pools (one per database and user) kept per cluster; one more closes the least recently used.
    #[arg(long, default_value_t = emulator::backend::DEFAULT_MAX_POOLS)]
    max_pools: usize,

    /// Fault injection: pause the cluster after this many idle seconds (no call, no open
    /// transaction); calls then get DatabaseResumingException for --resume-duration.
    #[arg(long, value_parser = positive_seconds)]
    auto_pause_after: Option<f64>,

    /// Fault injection: seconds a resume lasts (AWS: about 15).
    #[arg(long, default_value_t = 15.0, value_parser = positive_seconds)]
    resume_duration: f64,

    /// Fault injection: an error rule as JSON, e.g.
    /// '{"operation":"ExecuteStatement","error":"InternalServerErrorException","count":1}'
    /// (members: operation, error, count, when = before|after, message). Repeatable.
    #[arg(long = "inject", value_parser = rule)]
    injections: Vec<Rule>,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 => Ok(seconds),
        _ => Err(format!(
            "expected a positive number of seconds, got {text:?}"
        )),
    }
}

/// A non-loopback address only with `--allow-remote`: the emulator has no authentication.
fn check_listen(listen: SocketAddr, allow_remote: bool) -> Result<(), String> {
    if listen.ip().is_loopback() || allow_remote {
        return Ok(());
    }
    Err(format!(
        "refusing to listen on {listen}: the emulator has no authentication; keep it on loopback, \
         or pass --allow-remote"
    ))
}

/// The line that tells a caller where the emulator listens (and that anyone may reach it).
fn startup_line(addr: SocketAddr) -> String {
    if addr.ip().is_loopback() {
        format!("data-api-emulator listening on http://{addr}")
    } else {
        format!(
            "data-api-emulator listening on http://{addr} (remote clients allowed, no authentication)"
        )
    }
}

fn secret(text: &str) -> Result<(String, DbUser), String> {
    emulator::secrets::parse_flag(text)
}

fn rule(text: &str) -> Result<Rule, String> {
    let rule: Rule = serde_json::from_str(text).map_err(|e| format!("invalid rule: {e}"))?;
    rule.validate()?;
    Ok(rule)
}

const DEFAULT_RESOURCE_ARN: &str = "arn:aws:rds:us-east-1:123456789012:cluster:local";
const DEFAULT_SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:local";

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    check_listen(args.listen, args.allow_remote).map_err(anyhow::Error::msg)?;
    let n = args.database_urls.len();
    if args.resource_arns.len() > n || args.secret_arns.len() > n {
        anyhow::bail!("more --resource-arn/--secret-arn than --database-url");
    }
    if n > 1 && (args.resource_arns.len() != n || args.secret_arns.len() != n) {
        anyhow::bail!(
            "with several --database-url, give a --resource-arn and --secret-arn for each"
        );
    }
    let mut targets = Vec::with_capacity(n);
    for (i, url) in args.database_urls.iter().enumerate() {
        targets.push(Target {
            resource_arn: args
                .resource_arns
                .get(i)
                .cloned()
                .unwrap_or_else(|| DEFAULT_RESOURCE_ARN.into()),
            secret_arn: args
                .secret_arns
                .get(i)
                .cloned()
                .unwrap_or_else(|| DEFAULT_SECRET_ARN.into()),
            server: Server::with_pools(url, args.max_connections, args.max_pools)?,
        });
    }
    let limits = Limits {
        max_response_bytes: args.max_response_bytes,
        expiry: Expiry {
            idle: Duration::from_secs(args.transaction_idle_timeout),
            max_lifetime: Duration::from_secs(args.transaction_max_lifetime),
        },
        statement_timeout: Duration::from_secs_f64(args.statement_timeout),
        max_request_bytes: args.max_request_bytes,
        max_row_bytes: args.max_row_bytes,
    };
    let mut secrets = match &args.secrets_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
            Secrets::from_json(&text).map_err(anyhow::Error::msg)?
        }
        None => Secrets::default(),
    };
    for (arn, user) in args.secrets {
        secrets.insert(arn, user);
    }
    let secret_count = secrets.len();
    let state = AppState::new(targets, limits).with_secrets(secrets);
    if let Some(after) = args.auto_pause_after {
        state.faults().set_auto_pause(Some(AutoPause {
            after: Duration::from_secs_f64(after),
            resume: Duration::from_secs_f64(args.resume_duration),
        }));
    }
    for rule in args.injections {
        state.faults().inject(rule).map_err(anyhow::Error::msg)?;
    }
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    for target in state.targets() {
        tracing::info!(resource_arn = %target.resource_arn, secret_arn = %target.secret_arn, engine = ?target.server.engine(), "cluster");
    }
    if secret_count > 0 {
        tracing::info!(secrets = secret_count, "secrets naming database users");
    }
    #[allow(
        clippy::print_stdout,
        reason = "the listening address is the binary's output"
    )]
    {
        println!("{}", startup_line(addr));
    }
    emulator::run(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_loopback_needs_allow_remote_and_says_so() {
        let any: SocketAddr = "0.0.0.0:8080".parse().expect("address");
        let lan: SocketAddr = "192.168.1.2:8080".parse().expect("address");
        let local: SocketAddr = "127.0.0.1:8080".parse().expect("address");
        let local6: SocketAddr = "[::1]:8080".parse().expect("address");
        for addr in [any, lan] {
            let refused = check_listen(addr, false).expect_err("refused");
            assert!(refused.contains("--allow-remote"), "{refused}");
            assert!(check_listen(addr, true).is_ok());
            assert!(startup_line(addr).ends_with("(remote clients allowed, no authentication)"));
        }
        for addr in [local, local6] {
            assert!(check_listen(addr, false).is_ok());
            assert_eq!(
                startup_line(addr),
                format!("data-api-emulator listening on http://{addr}")
            );
        }
    }
}
