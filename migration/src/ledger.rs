//! Where the record of applied migrations lives.
//!
//! The runner asks a [`Ledger`] what is applied, then records each migration it applies or reverts.
//! [`SqlLedger`] keeps the record in the target database, in a table compatible with stock
//! sea-orm-migration's `seaql_migrations`; [`MemoryLedger`] keeps it in memory for tests. A DynamoDB
//! ledger (the article's `PK = MIGRATION` items) plugs in behind the same trait.

mod memory;
mod sql;

pub use memory::MemoryLedger;
pub use sql::SqlLedger;

use sea_orm_migration::{DbErr, SchemaManagerConnection};

/// One applied migration, as the ledger knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedMigration {
    /// `MigrationName::name()`: the migration's file stem.
    pub name: String,
    /// When it was applied, in Unix seconds (the `applied_at` of `seaql_migrations`).
    pub applied_at: i64,
}

/// Storage for the set of applied migrations.
///
/// Writes receive the connection the migration itself ran on, so a ledger that lives in the target
/// database commits in the same transaction as the migration (PostgreSQL, SQLite). Ledgers stored
/// elsewhere ignore it.
#[async_trait::async_trait]
pub trait Ledger: Send + Sync + std::fmt::Debug {
    /// Makes the storage ready for writes (e.g. creates the table). Idempotent; never called by
    /// read-only commands such as `status`.
    async fn prepare(&self) -> Result<(), DbErr>;

    /// Every migration recorded as applied, in no particular order. Storage that does not exist yet
    /// reads as empty.
    async fn applied(&self) -> Result<Vec<AppliedMigration>, DbErr>;

    /// Records `migration` as applied.
    async fn record(
        &self,
        conn: &SchemaManagerConnection<'_>,
        migration: &AppliedMigration,
    ) -> Result<(), DbErr>;

    /// Forgets `name` after its `down` ran.
    async fn remove(&self, conn: &SchemaManagerConnection<'_>, name: &str) -> Result<(), DbErr>;
}
