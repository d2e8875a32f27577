//! The command line: sea-orm-cli's argv/env contract for a migration crate.
//!
//! `sea-orm-cli migrate <sub>` runs `cargo run --manifest-path migration/Cargo.toml -- <sub> [-n N] [-v]`
//! with `DATABASE_URL` (and `DATABASE_SCHEMA`) in the environment, and reports a non-zero exit as a
//! failure. This parser accepts exactly that (`-u`/`-s` work as flags too, as in stock crates). It is
//! our own rather than sea-orm-migration's `cli` module because that one panics when `DATABASE_URL` is
//! unset and always records in `seaql_migrations`, so it cannot take another ledger.

//!
//! Layout: [`args`] (what is parsed), [`config`] (what it means, validated once), this module
//! (dispatch: [`main`], [`run`], [`execute`]), [`render`] (what is printed).

use std::io::Write;

use clap::Parser;

use crate::Migrator;
use crate::error::{Error, Result};
use crate::ledger::{DynamoLedger, Ledger, SqlLedger};
use crate::runner::{MigrationState, Repair, RunOptions, Runner, Target};

pub mod args;
pub mod config;
pub mod render;

pub use args::{Cli, Command, RepairAction};
pub use config::{Config, TargetConfig};
use render::{io_error, report, write_lock, write_up};
pub use render::{write_dry_run, write_status, write_status_json};

/// The `migration` binary's `main`: parses the command line, logs to stderr, runs the command and
/// maps the outcome to the exit code (0 done, 1 failure, 2 usage, 3 `status --check` needs
/// attention).
/// Public so test harnesses can run the exact binary logic in a child process of their own.
pub async fn main() -> std::process::ExitCode {
    let args = Cli::parse();
    init_tracing(args.verbose);
    let outcome = match args.config() {
        Ok(config) => run(&args.command, &config, &mut std::io::stdout().lock()).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(Outcome::Done) => std::process::ExitCode::SUCCESS,
        Ok(Outcome::NeedsAttention) => std::process::ExitCode::from(3),
        Err(error) => {
            tracing::error!("{}", error_chain(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

pub use crate::error::error_chain;

/// Logs to stderr (stdout carries the command's report). `RUST_LOG` wins over `-v`.
fn init_tracing(verbose: bool) {
    let default = if verbose {
        "info,migration=debug"
    } else {
        "info"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// How a command ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; exit 0.
    Done,
    /// `status --check` found something pending, in progress, failed, missing or drifted; exit 3.
    NeedsAttention,
}

/// Connects to the configured target.
///
/// # Errors
/// [`Error::Connect`].
pub async fn connect_target(config: &Config) -> Result<Target> {
    match &config.target {
        TargetConfig::Url(url) => Ok(Target::Native(
            crate::connect(url, config.database_schema.as_deref()).await?,
        )),
        TargetConfig::DataApi(api) => {
            Target::data_api(data_api::DataApi::with_default_aws_config(api.clone()).await)
        }
    }
}

/// Runs `command` against the database in `config`, writing its report to `out`.
///
/// # Errors
/// Whatever connecting, the ledger or a migration reports; see [`Error`].
pub async fn run(command: &Command, config: &Config, out: &mut dyn Write) -> Result<Outcome> {
    let target = connect_target(config).await?;
    let db = target.db().clone();
    let options = RunOptions {
        allow_drift: matches!(
            command,
            Command::Up {
                allow_drift: true,
                ..
            } | Command::Down {
                allow_drift: true,
                ..
            }
        ),
        force: matches!(
            command,
            Command::Fresh { force: true, .. }
                | Command::Repair {
                    action: RepairAction::MarkFailed { force: true, .. }
                        | RepairAction::Forget { force: true, .. }
                }
        ),
        statement_limit: config.statement_limit,
        settle_margin: config.lock.skew,
        ..RunOptions::default()
    };
    let outcome = match &config.dynamodb_table {
        Some(table) => {
            let ledger = DynamoLedger::from_env(table.clone())
                .await
                .with_lock_config(config.lock);
            let runner = Runner::new::<Migrator>(target, ledger).with_options(options);
            Box::pin(execute(&runner, command, out)).await
        }
        None => {
            let ledger = SqlLedger::new(db.clone());
            let runner = Runner::new::<Migrator>(target, ledger).with_options(options);
            Box::pin(execute(&runner, command, out)).await
        }
    };
    if let Err(error) = db.close().await {
        tracing::debug!(%error, "closing the database connection failed");
    }
    outcome
}

fn confirm(yes: bool, command: &str) -> Result<()> {
    if yes {
        Ok(())
    } else {
        Err(Error::Refused(format!(
            "`{command}` destroys data and clears the ledger: pass --yes (or set \
             MIGRATION_CONFIRM_DESTRUCTIVE=true) to confirm"
        )))
    }
}

/// Runs `command` with `runner`, writing its report to `out`.
///
/// # Errors
/// See [`run`].
pub async fn execute<L: Ledger>(
    runner: &Runner<L>,
    command: &Command,
    out: &mut dyn Write,
) -> Result<Outcome> {
    match command {
        Command::Up {
            num,
            dry_run: true,
            json,
            ..
        } => {
            let plan = runner.dry_run_up(*num).await?;
            write_dry_run(out, &plan, *json)?;
        }
        Command::Up { num, .. } => {
            let report = runner.up_report(*num).await?;
            write_up(out, &report)?;
        }
        Command::Down {
            num,
            dry_run: true,
            json,
            ..
        } => {
            let plan = runner.dry_run_down(Some(*num)).await?;
            write_dry_run(out, &plan, *json)?;
        }
        Command::Down { num, .. } => {
            let reverted = runner.down(Some(*num)).await?;
            report(out, "Reverted", &reverted)?;
        }
        Command::Status { json, check } => {
            let states = runner.status().await?;
            let lock = runner.lock_info().await?;
            if *json {
                write_status_json(out, &states, lock.as_ref())?;
            } else {
                write_status(out, &states)?;
                write_lock(out, lock.as_ref())?;
            }
            if *check && states.iter().any(MigrationState::needs_attention) {
                return Ok(Outcome::NeedsAttention);
            }
        }
        Command::Fresh { yes, .. } => {
            confirm(*yes, "fresh")?;
            let (dropped, up) = runner.fresh().await?;
            report(out, "Dropped table", &dropped)?;
            write_up(out, &up)?;
        }
        Command::Refresh { yes } => {
            confirm(*yes, "refresh")?;
            let (reverted, up) = runner.refresh().await?;
            report(out, "Reverted", &reverted)?;
            write_up(out, &up)?;
        }
        Command::Reset { yes } => {
            confirm(*yes, "reset")?;
            let reverted = runner.reset().await?;
            report(out, "Reverted", &reverted)?;
            writeln!(out, "Ledger cleared").map_err(io_error)?;
        }
        Command::Repair { action } => {
            let repair = match action {
                RepairAction::MarkApplied { name } => Repair::MarkApplied(name.clone()),
                RepairAction::MarkFailed {
                    name, rolled_back, ..
                } => Repair::MarkFailed {
                    name: name.clone(),
                    rolled_back: *rolled_back,
                },
                RepairAction::Forget { name, .. } => Repair::Forget(name.clone()),
                RepairAction::Rechecksum { name } => Repair::Rechecksum(name.clone()),
            };
            runner.repair(&repair).await?;
            writeln!(out, "Repaired: {repair:?}").map_err(io_error)?;
        }
        Command::Baseline { to } => {
            let names = runner.baseline(to).await?;
            report(out, "Baselined", &names)?;
        }
        Command::Unlock { force: _, fence } => {
            let info = runner.force_unlock(*fence).await?;
            writeln!(
                out,
                "Released the migration lock (fence {}) held by {} for `{}`",
                info.fence, info.owner, info.operation
            )
            .map_err(io_error)?;
        }
    }
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> std::result::Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("migration").chain(args.iter().copied()))
    }

    fn up(num: Option<u32>) -> Command {
        Command::Up {
            num,
            allow_drift: false,
            dry_run: false,
            json: false,
        }
    }

    fn down(num: u32) -> Command {
        Command::Down {
            num,
            allow_drift: false,
            dry_run: false,
            json: false,
        }
    }

    #[test]
    fn accepts_the_argv_sea_orm_cli_sends() {
        let status = Command::Status {
            json: false,
            check: false,
        };
        let cases: &[(&[&str], Command, bool)] = &[
            (&["up"], up(None), false),
            (&["up", "-n", "1"], up(Some(1)), false),
            (&["up", "-n", "2", "-v"], up(Some(2)), true),
            (&["down", "-n", "1"], down(1), false),
            (&["down"], down(1), false),
            (&["down", "-n", "3", "-v"], down(3), true),
            (&["status"], status.clone(), false),
            (&["-v", "status"], status.clone(), true),
            (&["status", "-v"], status, true),
            (
                &["fresh"],
                Command::Fresh {
                    yes: false,
                    force: false,
                },
                false,
            ),
            (&["refresh", "-v"], Command::Refresh { yes: false }, true),
            (&["reset"], Command::Reset { yes: false }, false),
        ];
        for (args, command, verbose) in cases {
            let cli = parse(args).unwrap_or_else(|e| panic!("{args:?} rejected: {e}"));
            assert_eq!(&cli.command, command, "{args:?}");
            assert_eq!(cli.verbose, *verbose, "{args:?}");
        }
    }

    #[test]
    fn accepts_the_ledger_commands() {
        let cases: &[(&[&str], Command)] = &[
            (
                &["up", "--allow-drift"],
                Command::Up {
                    num: None,
                    allow_drift: true,
                    dry_run: false,
                    json: false,
                },
            ),
            (
                &["up", "--dry-run"],
                Command::Up {
                    num: None,
                    allow_drift: false,
                    dry_run: true,
                    json: false,
                },
            ),
            (
                &["up", "-n", "1", "--dry-run", "--json"],
                Command::Up {
                    num: Some(1),
                    allow_drift: false,
                    dry_run: true,
                    json: true,
                },
            ),
            (
                &["down", "--dry-run", "--json"],
                Command::Down {
                    num: 1,
                    allow_drift: false,
                    dry_run: true,
                    json: true,
                },
            ),
            (
                &["status", "--json"],
                Command::Status {
                    json: true,
                    check: false,
                },
            ),
            (
                &["status", "--check"],
                Command::Status {
                    json: false,
                    check: true,
                },
            ),
            (
                &["status", "--check", "--json"],
                Command::Status {
                    json: true,
                    check: true,
                },
            ),
            (
                &["fresh", "--yes", "--force"],
                Command::Fresh {
                    yes: true,
                    force: true,
                },
            ),
            (
                &["repair", "mark-applied", "m1"],
                Command::Repair {
                    action: RepairAction::MarkApplied { name: "m1".into() },
                },
            ),
            (
                &["repair", "mark-failed", "m1", "--rolled-back"],
                Command::Repair {
                    action: RepairAction::MarkFailed {
                        name: "m1".into(),
                        rolled_back: true,
                        force: false,
                    },
                },
            ),
            (
                &["repair", "forget", "m1", "--force"],
                Command::Repair {
                    action: RepairAction::Forget {
                        name: "m1".into(),
                        force: true,
                    },
                },
            ),
            (
                &["repair", "rechecksum", "m1"],
                Command::Repair {
                    action: RepairAction::Rechecksum { name: "m1".into() },
                },
            ),
            (
                &["baseline", "--to", "m1"],
                Command::Baseline { to: "m1".into() },
            ),
            (
                &["unlock", "--force", "--fence", "7"],
                Command::Unlock {
                    force: true,
                    fence: 7,
                },
            ),
        ];
        for (args, command) in cases {
            let cli = parse(args).unwrap_or_else(|e| panic!("{args:?} rejected: {e}"));
            assert_eq!(&cli.command, command, "{args:?}");
        }
    }

    #[test]
    fn error_chain_prints_every_cause() {
        let error = Error::Migration {
            name: "m1".into(),
            direction: crate::Direction::Up,
            source: sea_orm_migration::DbErr::Migration("boom".into()),
        };
        assert_eq!(
            error_chain(&error),
            "migration `m1` failed (up): Migration Error: boom"
        );
    }

    #[test]
    fn rejects_malformed_argv() {
        for args in [
            &["up", "-n", "x"][..],
            &["up", "-n", "-1"],
            &["down", "-n"],
            &["sideways"],
            &[],
            &["unlock", "--fence", "3"],
            &["unlock", "--force"],
            &["repair", "mark-applied"],
            &["baseline"],
            &["up", "--json"],
            &["down", "--json"],
        ] {
            assert!(parse(args).is_err(), "{args:?} accepted");
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn database_url_flag_is_accepted_and_blank_url_names_the_variable() {
        let cli = parse(&["-u", "sqlite::memory:", "status"]).expect("parses");
        match cli.config_from(no_env).expect("valid").target {
            TargetConfig::Url(url) => assert_eq!(url, "sqlite::memory:"),
            other => panic!("{other:?}"),
        }

        let cli = parse(&["-u", "  ", "status"]).expect("parses");
        let error = cli
            .config_from(no_env)
            .expect_err("blank url must be refused")
            .to_string();
        assert!(error.contains("DATABASE_URL"), "{error}");
    }

    #[test]
    fn data_api_target_comes_from_the_cluster_variables_and_is_exclusive_with_a_url() {
        let env = |name: &str| match name {
            "CLUSTER_ARN" => Some("arn:aws:rds:us-east-1:1:cluster:c".to_owned()),
            "SECRET_ARN" => Some("arn:aws:secretsmanager:us-east-1:1:secret:s".to_owned()),
            "DATABASE_ENGINE" => Some("postgres".to_owned()),
            _ => None,
        };
        let error = parse(&["status"])
            .expect("parses")
            .config_from(env)
            .expect_err("a Data API target needs the DynamoDB ledger")
            .to_string();
        assert!(
            error.contains("DYNAMODB_TABLE_NAME is not set") && error.contains("--sql-ledger"),
            "{error}"
        );
        let cli = parse(&["--dynamodb-table", "ledger", "status"]).expect("parses");
        assert!(cli.config_from(env).is_ok());
        let cli = parse(&["--sql-ledger", "status"]).expect("parses");
        match cli.config_from(env).expect("valid").target {
            TargetConfig::DataApi(config) => {
                assert_eq!(config.engine, data_api::Engine::Postgres);
                assert_eq!(config.database, crate::article::DATABASE_NAME);
            }
            other => panic!("{other:?}"),
        }
        let cli = parse(&["-u", "sqlite::memory:", "status"]).expect("parses");
        let error = cli.config_from(env).expect_err("ambiguous").to_string();
        assert!(
            error.contains("both DATABASE_URL and CLUSTER_ARN"),
            "{error}"
        );

        let bad = |name: &str| (name == "CLUSTER_ARN").then(|| "cluster".to_owned());
        let error = parse(&["--sql-ledger", "status"])
            .expect("parses")
            .config_from(bad)
            .expect_err("invalid")
            .to_string();
        assert!(error.contains("Data API target"), "{error}");
    }
}
