//! The command line's arguments: sea-orm-cli's argv/env contract plus the ledger's commands.

use clap::{Parser, Subcommand};

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
