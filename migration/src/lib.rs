//! Typed SeaORM migrations of the users service, and the runner that applies them safely.
//!
//! The migrations are the article's two: [`m20261126_000001_create_users_table`] creates `users`
//! (adopting an existing article table) and [`m20261126_000002_seed_users`] inserts the sample user
//! `('1', 'John', 'Doe')`. [`Migrator`] lists them in order, as stock sea-orm-migration expects, so
//! `sea-orm-cli migrate generate NAME` keeps editing this file. `build.rs` embeds a checksum of each
//! migration's source ([`CHECKSUMS`]), so an applied migration edited afterwards is caught (drift).
//!
//! [`Runner`] applies them against a [`Target`] (a native SQLite/MySQL/PostgreSQL connection, or
//! the RDS Data API through the `data-api` adapter) and records every step in a [`Ledger`]:
//!
//! - [`DynamoLedger`] (when `DYNAMODB_TABLE_NAME` is set): one item per migration under the
//!   article's keys (`PK = MIGRATION`, `SK = <name>`; the article's own items are adopted as
//!   applied) with state, checksum, attempt, times, duration and runner id, and a lock item with a
//!   lease, heartbeats and a fencing counter. The plan is made only after the lock is held, and
//!   every ledger write is a DynamoDB transaction conditional on this runner still holding the lock
//!   with its fence, so a runner whose lease was taken over cannot change the ledger.
//! - [`SqlLedger`]: stock sea-orm-migration's `seaql_migrations` table (no lock, no states).
//!
//! Migrations run in a transaction where DDL is transactional (PostgreSQL, SQLite); on MySQL the
//! ledger records `in_progress` first and a failure as `failed`, which blocks later runs until
//! `repair`. A Data API statement timeout is an unknown outcome, not a failure. See [`runner`].
//!
//! ```no_run
//! use migration::{Migrator, Runner, SqlLedger};
//!
//! # async fn demo() -> Result<(), migration::Error> {
//! let db = migration::connect("sqlite://data/users.sqlite3?mode=rwc", None).await?;
//! let runner = Runner::new::<Migrator>(db.clone(), SqlLedger::new(db));
//! let applied = runner.up(None).await?;
//! println!("applied {applied:?}");
//! # Ok(())
//! # }
//! ```
//!
//! Layout: [`runner`] plans and applies; [`ledger`] is the storage trait and its implementations
//! ([`ledger::dynamo`] documents the DynamoDB items, lock and fencing); [`cli`] is the command line
//! (sea-orm-cli's argv contract plus `repair`, `baseline`, `unlock`); [`error`] the crate's
//! [`Error`]. The run-migrations Lambda is the `run-migrations` package, on top of this one.
//!
//! # Features
//!
//! Both are on by default, so `sea-orm-cli migrate` builds the binary as is; a program that only
//! embeds the runner with [`SqlLedger`] (the users API) turns them off.
//!
//! - `dynamo`: [`DynamoLedger`], [`LockConfig`] and `Error::Dynamo` (`aws-config`, `aws-sdk-dynamodb`).
//! - `cli`: [`cli`] and the `migration` binary (`clap`, `tracing-subscriber`); implies `dynamo`.

#![warn(missing_docs)]
#![warn(clippy::unwrap_used)]
// `sea-orm-cli migrate generate` writes `pub struct Migration;` with only `DeriveMigrationName`;
// generated files must pass CI unedited.
#![allow(missing_debug_implementations)]

pub mod api_user;
pub mod article;
#[cfg(feature = "cli")]
pub mod cli;
pub mod dry_run;
pub mod error;
pub mod ledger;
mod name;
mod proxy_row;
pub mod runner;

pub use dry_run::{DryRun, PlannedMigration, PlannedStatement, StatementKind};
pub use error::{Direction, Error, Result, error_chain};
#[cfg(feature = "dynamo")]
pub use ledger::{DynamoLedger, LockConfig};
pub use ledger::{EntryState, Ledger, LedgerEntry, LockInfo, MemoryLedger, SqlLedger, Transition};
pub use runner::{MigrationState, Repair, RunOptions, Runner, Status, Target, UpReport};
pub use sea_orm_migration::MigratorTrait;

use sea_orm_migration::sea_orm::{ConnectOptions, Database, DatabaseConnection};

/// How long [`connect`] and each later connection checkout wait for the server.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Connects to `url` (`sqlite:`, `mysql://`, `postgres://`) the way the runner and the API expect:
/// SQL statements are logged at `trace` only, so parameter values stay out of normal logs; an
/// unreachable server fails after [`CONNECT_TIMEOUT`] instead of sqlx's default 30 s.
/// `schema` sets PostgreSQL's `search_path`.
///
/// # Errors
/// [`Error::Connect`] when the URL is malformed or the server cannot be reached.
pub async fn connect(url: &str, schema: Option<&str>) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(CONNECT_TIMEOUT)
        .sqlx_logging(true)
        .sqlx_logging_level(log::LevelFilter::Trace);
    if let Some(schema) = schema {
        options.set_schema_search_path(schema);
    }
    Database::connect(options).await.map_err(Error::Connect)
}

// `CHECKSUMS`: `(name, "sha256:<hex>")` of every `src/m*.rs`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/checksums.rs"));

// Migrations, oldest first. `sea-orm-cli migrate generate` inserts new `mod` lines after the last one
// and rewrites the single list below, so keep exactly one such list and keep it last in this file.
pub mod m20261126_000001_create_users_table;
pub mod m20261126_000002_seed_users;

/// The ordered list of this crate's migrations.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_users_table::Migration),
            Box::new(m20261126_000002_seed_users::Migration),
        ]
    }
}
