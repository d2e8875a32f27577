//! The crate's error type.

use sea_orm_migration::DbErr;

/// Which way a migration was being run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `MigrationTrait::up`.
    Up,
    /// `MigrationTrait::down`.
    Down,
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Direction::Up => "up",
            Direction::Down => "down",
        })
    }
}

/// Everything that can go wrong while planning or applying migrations.
///
/// Messages name the migration involved; the underlying database error is kept as the `source`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is missing or malformed (the message names it).
    #[error("configuration: {0}")]
    Config(String),

    /// Connecting to the target database failed.
    #[error("cannot connect to the database")]
    Connect(#[source] DbErr),

    /// Reading or writing the ledger of applied migrations failed.
    #[error("migration ledger: {operation} failed")]
    Ledger {
        /// What the ledger was doing, e.g. `"reading applied migrations"`.
        operation: String,
        /// The storage error.
        #[source]
        source: DbErr,
    },

    /// The ledger records a migration this binary does not contain.
    #[error(
        "migration `{name}` is recorded as applied but this binary does not contain it \
         (was its file removed or renamed?); refusing to continue"
    )]
    MissingMigration {
        /// The recorded name.
        name: String,
    },

    /// A migration's own SQL failed. Where the backend has transactional DDL (PostgreSQL, SQLite) its
    /// changes were rolled back; on MySQL statements before the failing one stay applied.
    #[error("migration `{name}` failed ({direction})")]
    Migration {
        /// The migration.
        name: String,
        /// `up` or `down`.
        direction: Direction,
        /// The database error.
        #[source]
        source: DbErr,
    },

    /// A migration ran on a backend without transactional DDL (MySQL), but recording that in the
    /// ledger failed, so the ledger no longer matches the schema.
    #[error(
        "migration `{name}` ran ({direction}) but the ledger could not be updated; the schema and \
         the ledger disagree until this is fixed by hand"
    )]
    LedgerOutOfStep {
        /// The migration.
        name: String,
        /// `up` or `down`.
        direction: Direction,
        /// The ledger's error.
        #[source]
        source: DbErr,
    },

    /// Writing a command's report failed.
    #[error("writing the report failed")]
    Io(#[source] std::io::Error),

    /// Any other database error (transactions, connections).
    #[error("database error")]
    Database(#[from] DbErr),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
