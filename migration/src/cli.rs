//! The command line: sea-orm-cli's argv/env contract for a migration crate.
//!
//! `sea-orm-cli migrate <sub>` runs `cargo run --manifest-path migration/Cargo.toml -- <sub> [-n N] [-v]`
//! with `DATABASE_URL` (and `DATABASE_SCHEMA`) in the environment, and reports a non-zero exit as a
//! failure. This parser accepts exactly that (`-u`/`-s` work as flags too, as in stock crates). It is
//! our own rather than sea-orm-migration's `cli` module because that one panics when `DATABASE_URL` is
//! unset and always records in `seaql_migrations`, so it cannot take another ledger.

use std::io::Write;

use clap::{Parser, Subcommand};

use crate::Migrator;
use crate::error::{Error, Result};
use crate::ledger::SqlLedger;
use crate::runner::{MigrationState, Runner, Status};

/// Parsed command line.
#[derive(Debug, Parser)]
#[command(
    name = "migration",
    version,
    about = "Apply, revert and inspect the users service's database migrations"
)]
pub struct Cli {
    /// Log each step in detail (debug level) instead of lifecycle events only.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Target database, e.g. `sqlite://data/users.sqlite3?mode=rwc`, `mysql://root@127.0.0.1/test`,
    /// `postgres://postgres@127.0.0.1/test`.
    #[arg(
        short = 'u',
        long,
        env = "DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// PostgreSQL schema to migrate (sets `search_path`); ignored by the other backends.
    #[arg(short = 's', long, env = "DATABASE_SCHEMA", global = true)]
    pub database_schema: Option<String>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands sea-orm-cli forwards.
#[derive(Debug, Subcommand, Clone, PartialEq, Eq)]
pub enum Command {
    /// Apply pending migrations.
    Up {
        /// Apply at most this many (default: all).
        #[arg(short, long)]
        num: Option<u32>,
    },
    /// Revert applied migrations, newest first.
    Down {
        /// Revert this many.
        #[arg(short, long, default_value_t = 1)]
        num: u32,
    },
    /// List every migration and whether it is applied (read-only).
    Status,
}

/// Connection settings taken from the command line and environment, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// The target database URL.
    pub database_url: String,
    /// PostgreSQL `search_path`, if any.
    pub database_schema: Option<String>,
}

impl Cli {
    /// Validates the settings the command needs.
    ///
    /// # Errors
    /// [`Error::Config`] naming `DATABASE_URL` when no database was given.
    pub fn config(&self) -> Result<Config> {
        let database_url = self
            .database_url
            .clone()
            .filter(|url| !url.trim().is_empty())
            .ok_or_else(|| {
                Error::Config(
                    "DATABASE_URL is not set: give the target database in the environment or with \
                     -u/--database-url (e.g. sqlite://data/users.sqlite3?mode=rwc)"
                        .into(),
                )
            })?;
        Ok(Config {
            database_url,
            database_schema: self.database_schema.clone(),
        })
    }
}

/// Runs `command` against the database in `config`, writing its report to `out`.
///
/// # Errors
/// Whatever connecting, the ledger or a migration reports; see [`Error`].
pub async fn run(command: &Command, config: &Config, out: &mut dyn Write) -> Result<()> {
    let db = crate::connect(&config.database_url, config.database_schema.as_deref()).await?;
    let runner = Runner::new::<Migrator>(db.clone(), SqlLedger::new(db.clone()));
    let outcome = execute(&runner, command, out).await;
    drop(runner);
    if let Err(error) = db.close().await {
        tracing::warn!(%error, "closing the database connection failed");
    }
    outcome
}

async fn execute(runner: &Runner<SqlLedger>, command: &Command, out: &mut dyn Write) -> Result<()> {
    match command {
        Command::Up { num } => {
            let applied = runner.up(*num).await?;
            report(out, "Applied", &applied)
        }
        Command::Down { num } => {
            let reverted = runner.down(Some(*num)).await?;
            report(out, "Reverted", &reverted)
        }
        Command::Status => {
            let states = runner.status().await?;
            write_status(out, &states)
        }
    }
}

fn report(out: &mut dyn Write, verb: &str, names: &[String]) -> Result<()> {
    if names.is_empty() {
        writeln!(out, "{verb} no migrations: nothing to do").map_err(io_error)?;
    }
    for name in names {
        writeln!(out, "{verb} {name}").map_err(io_error)?;
    }
    Ok(())
}

/// Writes `states` as an aligned table: migration, status, applied at (UTC).
///
/// # Errors
/// [`Error::Io`] when `out` cannot be written.
pub fn write_status(out: &mut dyn Write, states: &[MigrationState]) -> Result<()> {
    let width = states
        .iter()
        .map(|s| s.name.len())
        .chain(std::iter::once("Migration".len()))
        .max()
        .unwrap_or_default();
    writeln!(
        out,
        "{:<width$}  {:<8}  Applied at (UTC)",
        "Migration", "Status"
    )
    .map_err(io_error)?;
    for state in states {
        let applied_at = match state.status {
            Status::Applied { applied_at } | Status::Missing { applied_at } => {
                format_unix(applied_at)
            }
            Status::Pending => "-".to_owned(),
        };
        writeln!(
            out,
            "{:<width$}  {:<8}  {applied_at}",
            state.name,
            state.status.label()
        )
        .map_err(io_error)?;
    }
    Ok(())
}

fn format_unix(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).map_or_else(
        || secs.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

fn io_error(error: std::io::Error) -> Error {
    Error::Io(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> std::result::Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("migration").chain(args.iter().copied()))
    }

    #[test]
    fn accepts_the_argv_sea_orm_cli_sends() {
        let cases: &[(&[&str], Command, bool)] = &[
            (&["up"], Command::Up { num: None }, false),
            (&["up", "-n", "1"], Command::Up { num: Some(1) }, false),
            (&["up", "-n", "2", "-v"], Command::Up { num: Some(2) }, true),
            (&["down", "-n", "1"], Command::Down { num: 1 }, false),
            (&["down"], Command::Down { num: 1 }, false),
            (&["down", "-n", "3", "-v"], Command::Down { num: 3 }, true),
            (&["status"], Command::Status, false),
            (&["-v", "status"], Command::Status, true),
            (&["status", "-v"], Command::Status, true),
        ];
        for (args, command, verbose) in cases {
            let cli = parse(args).unwrap_or_else(|e| panic!("{args:?} rejected: {e}"));
            assert_eq!(&cli.command, command, "{args:?}");
            assert_eq!(cli.verbose, *verbose, "{args:?}");
        }
    }

    #[test]
    fn rejects_malformed_argv() {
        for args in [
            &["up", "-n", "x"][..],
            &["up", "-n", "-1"],
            &["down", "-n"],
            &["sideways"],
            &[],
        ] {
            assert!(parse(args).is_err(), "{args:?} accepted");
        }
    }

    #[test]
    fn database_url_flag_is_accepted_and_blank_url_names_the_variable() {
        let cli = parse(&["-u", "sqlite::memory:", "status"]).expect("parses");
        assert_eq!(cli.config().expect("valid").database_url, "sqlite::memory:");

        let cli = parse(&["-u", "  ", "status"]).expect("parses");
        let error = cli
            .config()
            .expect_err("blank url must be refused")
            .to_string();
        assert!(error.contains("DATABASE_URL"), "{error}");
    }

    #[test]
    fn status_table_aligns_columns_and_formats_times_in_utc() {
        let states = [
            MigrationState {
                name: "m1_long_name".into(),
                status: Status::Applied { applied_at: 0 },
            },
            MigrationState {
                name: "m2".into(),
                status: Status::Pending,
            },
            MigrationState {
                name: "m0_gone".into(),
                status: Status::Missing {
                    applied_at: 1_764_201_600,
                },
            },
        ];
        let mut out = Vec::new();
        write_status(&mut out, &states).expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "Migration     Status    Applied at (UTC)\n\
             m1_long_name  applied   1970-01-01 00:00:00\n\
             m2            pending   -\n\
             m0_gone       missing   2025-11-27 00:00:00\n"
        );
    }
}
