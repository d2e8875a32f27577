//! The command line: sea-orm-cli's argv/env contract for a migration crate.
//!
//! `sea-orm-cli migrate <sub>` runs `cargo run --manifest-path migration/Cargo.toml -- <sub> [-n N] [-v]`
//! with `DATABASE_URL` (and `DATABASE_SCHEMA`) in the environment, and reports a non-zero exit as a
//! failure. This parser accepts exactly that (`-u`/`-s` work as flags too, as in stock crates). It is
//! our own rather than sea-orm-migration's `cli` module because that one panics when `DATABASE_URL` is
//! unset and always records in `seaql_migrations`, so it cannot take another ledger.

use std::io::Write;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::Migrator;
use crate::dry_run::{DryRun, StatementKind};
use crate::error::{Error, Result};
use crate::ledger::{DynamoLedger, Ledger, LockConfig, LockInfo, SqlLedger};
use crate::runner::{MigrationState, Repair, RunOptions, Runner, Status, Target, UpReport};

/// Parsed command line.
#[derive(Debug, Parser)]
#[command(
    name = "migration",
    version,
    about = "Apply, revert and inspect the users service's database migrations",
    after_help = "Target: DATABASE_URL (sqlite:, mysql://, postgres://) or, without it, the RDS Data API \
                  when CLUSTER_ARN and SECRET_ARN are set (DATABASE_NAME, DATABASE_ENGINE). Ledger: the \
                  DynamoDB table DYNAMODB_TABLE_NAME when set (endpoint: AWS_ENDPOINT_URL_DYNAMODB), \
                  else seaql_migrations in the target database (for a Data API target only with \
                  --sql-ledger / MIGRATION_SQL_LEDGER=true). Exit codes: 0 success, 1 failure, 2 \
                  usage, 3 `status --check` found something pending, in progress, failed, missing or \
                  drifted."
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

    /// DynamoDB table holding the ledger and the lock (default: `seaql_migrations` in the target).
    #[arg(long, env = "DYNAMODB_TABLE_NAME", global = true)]
    pub dynamodb_table: Option<String>,

    /// Record in `seaql_migrations` in the target database (no lock, no states) although the target
    /// is the Data API. Without it a Data API target needs DYNAMODB_TABLE_NAME: the deployed
    /// run-migrations function migrates such a cluster with the DynamoDB ledger, and two ledgers
    /// for one database would each let a migration run once.
    #[arg(long, env = "MIGRATION_SQL_LEDGER", global = true)]
    pub sql_ledger: bool,

    /// The longest a statement may run, in seconds (the Data API's limit is 45): `repair
    /// mark-failed`/`forget` and `fresh` on an `in_progress` row wait this long, plus the clock-skew
    /// allowance, after its runner's lease ended.
    #[arg(
        long,
        env = "MIGRATION_STATEMENT_LIMIT_SECS",
        global = true,
        default_value_t = 45
    )]
    pub statement_limit: u64,

    /// Seconds to wait for the migration lock held by another runner before giving up.
    #[arg(
        long,
        env = "MIGRATION_LOCK_WAIT_SECS",
        global = true,
        default_value_t = 60
    )]
    pub lock_wait: u64,

    /// Lease of the migration lock in seconds (heartbeats every quarter of it).
    #[arg(
        long,
        env = "MIGRATION_LEASE_SECS",
        global = true,
        default_value_t = 120,
        hide = true
    )]
    pub lease: u64,

    /// Clock-skew allowance in seconds before an expired lease is taken over.
    #[arg(
        long,
        env = "MIGRATION_LOCK_SKEW_SECS",
        global = true,
        default_value_t = 30,
        hide = true
    )]
    pub lock_skew: u64,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands: sea-orm-cli's (`up`, `down`, `status`, `fresh`, `refresh`, `reset`) and the
/// ledger's own.
#[derive(Debug, Subcommand, Clone, PartialEq, Eq)]
pub enum Command {
    /// Apply pending migrations.
    Up {
        /// Apply at most this many (default: all).
        #[arg(short, long)]
        num: Option<u32>,
        /// Run even when an applied migration's source changed since it was applied.
        #[arg(long)]
        allow_drift: bool,
        /// Print the statements each pending migration would send, and send none of its writes:
        /// no lock, no ledger change. Reads the migrations make run for real.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: print JSON instead of text.
        #[arg(long, requires = "dry_run")]
        json: bool,
    },
    /// Revert applied migrations, newest first.
    Down {
        /// Revert this many.
        #[arg(short, long, default_value_t = 1)]
        num: u32,
        /// Run even when an applied migration's source changed since it was applied.
        #[arg(long)]
        allow_drift: bool,
        /// Print the statements each migration's `down` would send, and send none of its writes:
        /// no lock, no ledger change. Reads the migrations make run for real.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: print JSON instead of text.
        #[arg(long, requires = "dry_run")]
        json: bool,
    },
    /// List every migration, its state and the lock holder (read-only). Exits 0 whenever the state
    /// could be read, as stock sea-orm-migration's `status` does (sea-orm-cli reports any non-zero
    /// exit as a failure); with `--check`, exits 3 when anything is pending, in progress, failed,
    /// missing or drifted.
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Exit 3 when anything needs attention (for scripts and deploy gates).
        #[arg(long)]
        check: bool,
    },
    /// Drop every table, clear the ledger, apply everything (destructive: needs --yes).
    Fresh {
        /// Confirm.
        #[arg(long, env = "MIGRATION_CONFIRM_DESTRUCTIVE")]
        yes: bool,
        /// Clear `in_progress` rows even if a statement of theirs may still be running.
        #[arg(long)]
        force: bool,
    },
    /// Revert everything, clear the ledger, apply everything (destructive: needs --yes).
    Refresh {
        /// Confirm.
        #[arg(long, env = "MIGRATION_CONFIRM_DESTRUCTIVE")]
        yes: bool,
    },
    /// Revert everything and clear the ledger (destructive: needs --yes).
    Reset {
        /// Confirm.
        #[arg(long, env = "MIGRATION_CONFIRM_DESTRUCTIVE")]
        yes: bool,
    },
    /// Correct the ledger after a failure (under the lock; runs no SQL).
    Repair {
        /// The correction.
        #[command(subcommand)]
        action: RepairAction,
    },
    /// Record every migration up to and including `--to` as applied without running it (a database
    /// whose schema already has them).
    Baseline {
        /// The last migration to record.
        #[arg(long)]
        to: String,
    },
    /// Release the migration lock held by another (dead) runner.
    Unlock {
        /// Required: this releases a lock this process does not hold.
        #[arg(long, required = true)]
        force: bool,
        /// The fence of the lock to release, as `status` shows it (a live lock with another fence
        /// is left alone).
        #[arg(long)]
        fence: u64,
    },
}

/// `repair` subcommands.
#[derive(Debug, Subcommand, Clone, PartialEq, Eq)]
pub enum RepairAction {
    /// The migration's changes are fully in place: record it applied (current checksum).
    MarkApplied {
        /// The migration.
        name: String,
    },
    /// The run failed. With --rolled-back nothing of it remains and `up` will retry it; without,
    /// it stays blocking (dirty).
    MarkFailed {
        /// The migration.
        name: String,
        /// Nothing of it remains in the database.
        #[arg(long)]
        rolled_back: bool,
        /// Accept an `in_progress` row even if a statement of it may still be running.
        #[arg(long)]
        force: bool,
    },
    /// Delete the migration's ledger row: it becomes pending.
    Forget {
        /// The migration.
        name: String,
        /// Accept an `in_progress` row even if a statement of it may still be running.
        #[arg(long)]
        force: bool,
    },
    /// Accept the current source's checksum for an applied migration.
    Rechecksum {
        /// The migration.
        name: String,
    },
}

/// Which database migrations run against.
#[derive(Debug, Clone)]
pub enum TargetConfig {
    /// A native URL.
    Url(String),
    /// The RDS Data API.
    DataApi(data_api::Config),
}

/// Settings taken from the command line and environment, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// The target.
    pub target: TargetConfig,
    /// PostgreSQL `search_path`, if any (native URLs only).
    pub database_schema: Option<String>,
    /// The DynamoDB ledger table, if any.
    pub dynamodb_table: Option<String>,
    /// Lock lease and waiting.
    pub lock: LockConfig,
    /// The longest a statement may run (`--statement-limit`).
    pub statement_limit: Duration,
}

impl Cli {
    /// Validates the settings the command needs, reading the Data API variables from the process
    /// environment.
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable.
    pub fn config(&self) -> Result<Config> {
        self.config_from(|name| std::env::var(name).ok())
    }

    /// As [`Cli::config`], with the Data API variables from `lookup`.
    ///
    /// # Errors
    /// [`Error::Config`] naming `DATABASE_URL` when no target was given, both targets were given,
    /// or a Data API variable is invalid.
    pub fn config_from(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let url = self
            .database_url
            .clone()
            .filter(|url| !url.trim().is_empty());
        let data_api = lookup("CLUSTER_ARN").is_some_and(|v| !v.trim().is_empty())
            || lookup("SECRET_ARN").is_some_and(|v| !v.trim().is_empty());
        let target = match (url, data_api) {
            (Some(_), true) => {
                return Err(Error::Config(
                    "both DATABASE_URL and CLUSTER_ARN/SECRET_ARN are set: unset one so the target \
                     is unambiguous"
                        .into(),
                ));
            }
            (Some(url), false) => TargetConfig::Url(url),
            (None, true) => TargetConfig::DataApi(
                data_api::Config::from_lookup(crate::article::with_defaults(lookup))
                    .map_err(|e| Error::Config(format!("Data API target: {e}")))?,
            ),
            (None, false) => {
                return Err(Error::Config(
                    "DATABASE_URL is not set: give the target database in the environment or with \
                     -u/--database-url (e.g. sqlite://data/users.sqlite3?mode=rwc), or set \
                     CLUSTER_ARN and SECRET_ARN for the Data API"
                        .into(),
                ));
            }
        };
        if matches!(target, TargetConfig::DataApi(_))
            && self
                .dynamodb_table
                .as_deref()
                .is_none_or(|t| t.trim().is_empty())
            && !self.sql_ledger
        {
            return Err(Error::Config(
                "the target is the Data API but DYNAMODB_TABLE_NAME is not set: the deployed \
                 run-migrations function records this cluster's migrations in the DynamoDB ledger, \
                 and the fallback `seaql_migrations` table has no lock and does not know what that \
                 ledger applied, so a migration could run twice. Set DYNAMODB_TABLE_NAME to the \
                 ledger table, or pass --sql-ledger (MIGRATION_SQL_LEDGER=true) if this cluster is \
                 really migrated with seaql_migrations only"
                    .into(),
            ));
        }
        if self.lease == 0 || self.lock_skew > 3600 {
            return Err(Error::Config(
                "MIGRATION_LEASE_SECS must be positive and MIGRATION_LOCK_SKEW_SECS at most 3600"
                    .into(),
            ));
        }
        Ok(Config {
            target,
            database_schema: self.database_schema.clone(),
            dynamodb_table: self.dynamodb_table.clone().filter(|t| !t.trim().is_empty()),
            lock: LockConfig::with_lease(
                Duration::from_secs(self.lease),
                Duration::from_secs(self.lock_wait),
                Duration::from_secs(self.lock_skew),
            ),
            statement_limit: Duration::from_secs(self.statement_limit),
        })
    }
}

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

/// `error: cause: cause…`, the whole `source()` chain on one line.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

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

fn write_up(out: &mut dyn Write, report_: &UpReport) -> Result<()> {
    report(out, "Applied", &report_.applied)?;
    if report_.deadline_reached {
        writeln!(
            out,
            "Stopped before the deadline; still pending: {}",
            report_.pending.join(", ")
        )
        .map_err(io_error)?;
    }
    Ok(())
}

/// Writes a dry run: as JSON (`{"dry_run": true, "direction", "migrations": [{"name",
/// "transactional", "statements": [{"kind": "read"|"write", "sql", "values"}], "stopped"}]}`), or
/// as text, one block per migration with one line per statement.
///
/// # Errors
/// [`Error::Io`] when `out` cannot be written.
pub fn write_dry_run(out: &mut dyn Write, plan: &DryRun, json: bool) -> Result<()> {
    if json {
        let mut value = serde_json::to_value(plan).map_err(|e| Error::Io(e.into()))?;
        value["dry_run"] = serde_json::Value::Bool(true);
        return writeln!(out, "{value}").map_err(io_error);
    }
    writeln!(
        out,
        "Dry run of `{}`: no write was sent, the ledger and the lock were not touched. Lines marked \
         `read` are queries the migrations made; they ran for real.",
        plan.direction
    )
    .map_err(io_error)?;
    if plan.migrations.is_empty() {
        writeln!(out, "No migrations to run: nothing to do").map_err(io_error)?;
    }
    for migration in &plan.migrations {
        writeln!(
            out,
            "-- {} ({}, {})",
            migration.name,
            plan.direction,
            if migration.transactional {
                "in one transaction"
            } else {
                "statement by statement"
            }
        )
        .map_err(io_error)?;
        for statement in &migration.statements {
            let kind = match statement.kind {
                StatementKind::Read => "read ",
                StatementKind::Write => "write",
            };
            write!(out, "{kind}  {}", statement.sql).map_err(io_error)?;
            if let Some(values) = &statement.values
                && !values.is_empty()
            {
                let values: Vec<serde_json::Value> =
                    values.iter().map(crate::dry_run::value_to_json).collect();
                write!(out, "  -- values: {}", serde_json::Value::from(values))
                    .map_err(io_error)?;
            }
            writeln!(out).map_err(io_error)?;
        }
        if let Some(why) = &migration.stopped {
            writeln!(out, "stopped: {why}").map_err(io_error)?;
        }
    }
    Ok(())
}

fn report(out: &mut dyn Write, verb: &str, names: &[String]) -> Result<()> {
    if names.is_empty() && verb != "Dropped table" {
        writeln!(out, "{verb} no migrations: nothing to do").map_err(io_error)?;
    }
    for name in names {
        writeln!(out, "{verb} {name}").map_err(io_error)?;
    }
    Ok(())
}

/// Writes `states` as an aligned table: migration, status, applied at (UTC), duration, checksum
/// (`ok`, `DRIFT`, `-` when unknown), attempt, runner.
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
        "{:<width$}  {:<11}  {:<19}  {:>8}  {:<8}  {:>7}  By",
        "Migration", "Status", "Applied at (UTC)", "Duration", "Checksum", "Attempt"
    )
    .map_err(io_error)?;
    for state in states {
        let applied_at = match state.status {
            Status::Applied { applied_at } | Status::Missing { applied_at } if applied_at > 0 => {
                format_unix(applied_at)
            }
            Status::Applied { .. } | Status::Missing { .. } => "(unknown)".to_owned(),
            _ => "-".to_owned(),
        };
        let entry = state.entry.as_ref();
        let duration = entry
            .and_then(|e| e.duration_ms)
            .map_or_else(|| "-".to_owned(), |ms| format!("{ms} ms"));
        let checksum = match (state.drift(), entry.and_then(|e| e.checksum.as_ref())) {
            (Some(_), _) => "DRIFT",
            (None, Some(_)) if state.checksum.is_some() => "ok",
            _ => "-",
        };
        let attempt = entry
            .filter(|e| e.attempt > 0)
            .map_or_else(|| "-".to_owned(), |e| e.attempt.to_string());
        let by = entry.and_then(|e| e.runner_id.as_deref()).unwrap_or("-");
        writeln!(
            out,
            "{:<width$}  {:<11}  {applied_at:<19}  {duration:>8}  {checksum:<8}  {attempt:>7}  {by}",
            state.name,
            state.status.label(),
        )
        .map_err(io_error)?;
    }
    Ok(())
}

fn write_lock(out: &mut dyn Write, lock: Option<&LockInfo>) -> Result<()> {
    match lock {
        None => Ok(()),
        Some(lock) if lock.released => {
            writeln!(out, "Lock: free (last fence {})", lock.fence).map_err(io_error)
        }
        Some(lock) => writeln!(
            out,
            "Lock: held by {} for `{}` (fence {}, lease until {})",
            lock.owner,
            lock.operation,
            lock.fence,
            chrono::DateTime::from_timestamp_millis(lock.lease_expires_at_ms).map_or_else(
                || lock.lease_expires_at_ms.to_string(),
                |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            )
        )
        .map_err(io_error),
    }
}

/// Writes `states` and the lock as one JSON object: `{"migrations": [...], "lock": ..., "clean": bool}`.
///
/// # Errors
/// [`Error::Io`] when `out` cannot be written.
pub fn write_status_json(
    out: &mut dyn Write,
    states: &[MigrationState],
    lock: Option<&LockInfo>,
) -> Result<()> {
    let migrations: Vec<serde_json::Value> = states
        .iter()
        .map(|state| {
            let entry = state.entry.as_ref();
            serde_json::json!({
                "name": state.name,
                "status": state.status.label(),
                "applied_at": match state.status {
                    Status::Applied { applied_at } | Status::Missing { applied_at } if applied_at > 0 => Some(applied_at),
                    _ => None,
                },
                "checksum": state.checksum,
                "recorded_checksum": entry.and_then(|e| e.checksum.clone()),
                "drift": state.drift().is_some(),
                "attempt": entry.map(|e| e.attempt),
                "duration_ms": entry.and_then(|e| e.duration_ms),
                "runner_id": entry.and_then(|e| e.runner_id.clone()),
                "error": entry.and_then(|e| e.error.clone()),
            })
        })
        .collect();
    let value = serde_json::json!({
        "migrations": migrations,
        "lock": lock,
        "clean": !states.iter().any(MigrationState::needs_attention),
    });
    writeln!(out, "{value}").map_err(io_error)
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
    use crate::ledger::{EntryState, LedgerEntry};

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

    fn state(name: &str, status: Status, entry: Option<LedgerEntry>) -> MigrationState {
        MigrationState {
            name: name.into(),
            status,
            checksum: Some("sha256:new".into()),
            entry,
        }
    }

    #[test]
    fn status_table_aligns_columns_and_marks_drift() {
        let mut applied = LedgerEntry::new("m1_long_name", EntryState::Applied);
        applied.finished_at_ms = Some(0);
        applied.checksum = Some("sha256:new".into());
        applied.attempt = 1;
        applied.duration_ms = Some(12);
        applied.runner_id = Some("r1".into());
        let mut drifted = LedgerEntry::new("m0_gone", EntryState::Applied);
        drifted.finished_at_ms = Some(1_764_201_600_000);
        drifted.checksum = Some("sha256:old".into());
        drifted.attempt = 2;
        let states = [
            state(
                "m1_long_name",
                Status::Applied { applied_at: 1 },
                Some(applied),
            ),
            state("m2", Status::Pending, None),
            state(
                "m3",
                Status::Applied {
                    applied_at: 1_764_201_600,
                },
                Some(drifted),
            ),
        ];
        let mut out = Vec::new();
        write_status(&mut out, &states).expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "Migration     Status       Applied at (UTC)     Duration  Checksum  Attempt  By\n\
             m1_long_name  applied      1970-01-01 00:00:01     12 ms  ok              1  r1\n\
             m2            pending      -                           -  -               -  -\n\
             m3            applied      2025-11-27 00:00:00         -  DRIFT           2  -\n"
        );
        assert!(!states[0].needs_attention());
        assert!(states[1].needs_attention());
        assert!(states[2].needs_attention(), "drift needs attention");

        let mut out = Vec::new();
        write_status_json(&mut out, &states, None).expect("writes");
        let json: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(json["clean"], false);
        assert_eq!(json["migrations"][2]["drift"], true);
        assert_eq!(json["migrations"][2]["recorded_checksum"], "sha256:old");
        assert_eq!(json["migrations"][1]["status"], "pending");
    }

    #[test]
    fn dry_run_text_and_json_list_each_statement_with_its_values() {
        use crate::dry_run::{PlannedMigration, PlannedStatement};
        use sea_orm_migration::sea_orm::{DbBackend, Statement};
        let plan = DryRun {
            direction: crate::Direction::Up,
            migrations: vec![PlannedMigration {
                name: "m1".into(),
                transactional: false,
                statements: vec![
                    PlannedStatement::new(
                        StatementKind::Read,
                        &Statement::from_sql_and_values(
                            DbBackend::MySql,
                            "SELECT `id` FROM `users` WHERE `id` = ?",
                            ["1".into()],
                        ),
                    ),
                    PlannedStatement::new(
                        StatementKind::Write,
                        &Statement::from_string(DbBackend::MySql, "DROP TABLE `t`"),
                    ),
                ],
                stopped: Some("a read failed: boom".into()),
            }],
        };
        let mut out = Vec::new();
        write_dry_run(&mut out, &plan, false).expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("Dry run of `up`: no write was sent"),
            "{text}"
        );
        assert_eq!(
            &lines[1..],
            [
                "-- m1 (up, statement by statement)",
                "read   SELECT `id` FROM `users` WHERE `id` = ?  -- values: [\"1\"]",
                "write  DROP TABLE `t`",
                "stopped: a read failed: boom",
            ]
        );

        let mut out = Vec::new();
        write_dry_run(&mut out, &plan, true).expect("writes");
        let json: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "dry_run": true,
                "direction": "up",
                "migrations": [{
                    "name": "m1",
                    "transactional": false,
                    "statements": [
                        {"kind": "read", "sql": "SELECT `id` FROM `users` WHERE `id` = ?", "values": ["1"]},
                        {"kind": "write", "sql": "DROP TABLE `t`", "values": null},
                    ],
                    "stopped": "a read failed: boom",
                }],
            })
        );
    }
}
