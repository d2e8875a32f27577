//! The crate's error type.

use sea_orm_migration::DbErr;

/// Which way a migration was being run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
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

    /// A migration failed on a backend without transactional DDL (MySQL): statements before the
    /// failing one stay applied, so the ledger records it `failed` and later runs refuse until it is
    /// repaired.
    #[error(
        "migration `{name}` failed ({direction}) and could not be rolled back (MySQL commits each DDL \
         statement): the statements before the failing one stay applied. The ledger marks it failed and \
         every later run refuses until it is repaired: fix the schema by hand, then run \
         `repair mark-applied {name}` (if it is now fully applied) or `repair forget {name}` (if \
         nothing of it remains)"
    )]
    MigrationDirty {
        /// The migration.
        name: String,
        /// `up` or `down`.
        direction: Direction,
        /// The database error.
        #[source]
        source: DbErr,
    },

    /// A migration's outcome is unknown: a Data API statement timeout (the statement may still be
    /// running), a commit without an answer, or a row left `in_progress`/`reverting` by a runner
    /// that died. Nothing more runs until an operator resolves it.
    #[error(
        "migration `{name}` is {state} ({detail}): its outcome is unknown, so nothing more runs. Check \
         the database, then run `repair mark-applied {name}` if its changes are there, or \
         `repair mark-failed {name} --rolled-back` if they are not"
    )]
    UnknownOutcome {
        /// The migration.
        name: String,
        /// `in_progress`, `reverting`, or what happened.
        state: String,
        /// Who started it and when, or the error.
        detail: String,
    },

    /// A statement or commit of this run got an answer that leaves its outcome unknown (a 5xx, no
    /// answer, a statement timeout, a commit without an answer): it may have run, or may still be
    /// running. The row stays `in_progress`/`reverting` marked unknown and the lock is kept until
    /// its lease expires, so nothing else runs meanwhile.
    #[error(
        "migration `{name}` ({direction}): {what}, so its outcome is unknown (it may have run, or may \
         still be running). The ledger keeps it {state}, marked unknown, and the migration lock is \
         kept until its lease expires. Check the database: if its changes are there, run \
         `repair mark-applied {name}`; if nothing of it is there, `repair mark-failed {name} \
         --rolled-back` (accepted once no statement of it can still be running)"
    )]
    OutcomeUnknown {
        /// The migration.
        name: String,
        /// `up` or `down`.
        direction: Direction,
        /// `in_progress` or `reverting`.
        state: &'static str,
        /// What happened, e.g. `a statement got no answer`.
        what: &'static str,
        /// The error that left it unknown.
        #[source]
        source: DbErr,
    },

    /// `repair mark-failed`/`forget` (or `fresh`) on a row whose statements may still be running.
    #[error(
        "migration `{name}` is {state} and its runner's lease (fence {fence}) ended {ended}; a \
         statement of it may still be running until {safe_at} (the lease end plus the {limit_secs} s \
         a statement may run plus a {margin_secs} s margin). Retry after {safe_at}, or pass --force \
         if you know nothing of it is running"
    )]
    StillRunning {
        /// The migration.
        name: String,
        /// `in_progress` or `reverting`.
        state: &'static str,
        /// The fence of the runner that started it.
        fence: u64,
        /// When its lease ended (or ends), formatted.
        ended: String,
        /// When the operation becomes safe, formatted.
        safe_at: String,
        /// The longest a statement may run, seconds.
        limit_secs: u64,
        /// The margin, seconds.
        margin_secs: u64,
    },

    /// The ledger records a failed run whose changes were not rolled back.
    #[error(
        "migration `{name}` failed earlier and was not rolled back ({detail}); refusing to run until it \
         is repaired: fix the schema by hand, then `repair mark-applied {name}` or `repair forget {name}`"
    )]
    Dirty {
        /// The migration.
        name: String,
        /// The recorded error, runner and time.
        detail: String,
    },

    /// An applied migration's source changed since it was applied.
    #[error(
        "migration `{name}` was applied with checksum {recorded} but its source now hashes to \
         {current}; applied migrations must not be edited (add a new migration instead). Pass \
         --allow-drift to run anyway, or `repair rechecksum {name}` to accept the new source"
    )]
    Drift {
        /// The migration.
        name: String,
        /// The checksum in the ledger.
        recorded: String,
        /// The checksum of the source in this binary.
        current: String,
    },

    /// Another runner holds the migration lock.
    #[error(
        "the migration lock is held by `{owner}` (fence {fence}, operation `{operation}`, lease \
         expires in {expires_in_ms} ms); gave up after waiting {waited_ms} ms. If that runner is dead, \
         wait for its lease to expire or run `unlock --force --fence {fence}`"
    )]
    LockHeld {
        /// The holder's runner id.
        owner: String,
        /// The holder's fencing token.
        fence: u64,
        /// What the holder is doing.
        operation: String,
        /// Milliseconds until the holder's lease expires (by this machine's clock; negative: expired).
        expires_in_ms: i64,
        /// How long this runner waited.
        waited_ms: u64,
    },

    /// This runner's lease on the lock is gone (expired and taken over, or force-unlocked): its
    /// ledger writes are refused and it must stop.
    #[error("the migration lock lease (fence {fence}) was lost: {detail}; stopping")]
    LeaseLost {
        /// The fence this runner held.
        fence: u64,
        /// What showed it.
        detail: String,
    },

    /// A ledger row was not in the state a write expected (changed by another runner or a repair).
    #[error("ledger row `{name}` is not in the state `{transition}` expects: {detail}")]
    LedgerConflict {
        /// The migration.
        name: String,
        /// The transition attempted.
        transition: String,
        /// What was found.
        detail: String,
    },

    /// A DynamoDB call failed (or its request could not be built).
    #[cfg(feature = "dynamo")]
    #[error("DynamoDB {operation} failed")]
    Dynamo {
        /// The API operation.
        operation: &'static str,
        /// The SDK's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The ledger's storage holds something this runner does not understand (e.g. a DynamoDB item
    /// with an unknown `status`): written by a newer runner, or by hand.
    #[error("unexpected ledger content: {0}")]
    Protocol(String),

    /// A name given on the command line is not one of this binary's migrations.
    #[error("`{name}` is not a migration of this binary (see `status`)")]
    UnknownMigration {
        /// The name given.
        name: String,
    },

    /// The command refused to run as asked (a guard, or something the ledger cannot do).
    #[error("{0}")]
    Refused(String),

    /// Writing a command's report failed.
    #[error("writing the report failed")]
    Io(#[source] std::io::Error),

    /// Any other database error (transactions, connections).
    #[error("database error")]
    Database(#[from] DbErr),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

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
