//! Where the record of migrations lives, and the lock that serialises runners.
//!
//! The runner takes the ledger's lock, reads every [`LedgerEntry`], plans, and then records each step
//! of each migration as a [`Transition`]. Three implementations:
//!
//! - [`DynamoLedger`]: items in a DynamoDB table (the article's `PK = MIGRATION`, `SK = <name>` keys,
//!   so the article's items are adopted as applied) with per-migration state, checksum, attempt,
//!   times and runner id; a lock item with a lease, heartbeats and a fencing counter; every write a
//!   conditional transaction fenced on the lock. See [`dynamo`].
//! - [`SqlLedger`]: stock sea-orm-migration's `seaql_migrations` table in the target database. It
//!   stores only names and times (no in-progress or failed state, no checksum) and has no lock;
//!   its write of an applied migration commits in the migration's own transaction where DDL is
//!   transactional.
//! - [`MemoryLedger`]: in memory, for tests.

#[cfg(feature = "dynamo")]
pub mod dynamo;
pub mod machine;
mod memory;
mod sql;

#[cfg(feature = "dynamo")]
pub use dynamo::{DynamoLedger, LockConfig};
pub use memory::MemoryLedger;
pub use sql::SqlLedger;

use sea_orm_migration::SchemaManagerConnection;

use crate::error::Result;

/// Where one migration stands in the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// A runner started it and has not recorded the outcome (or died): unknown.
    InProgress,
    /// Its `up` committed.
    Applied,
    /// Its `up` (or `down`) failed; see [`LedgerEntry::rolled_back`].
    Failed,
    /// A runner started its `down` and has not recorded the outcome: unknown.
    Reverting,
    /// Its `down` committed; it counts as pending (the row is kept as history).
    Reverted,
    /// Recorded as applied by `baseline` without running.
    Baselined,
}

impl EntryState {
    /// The word stored in the ledger and printed by `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::InProgress => "in_progress",
            EntryState::Applied => "applied",
            EntryState::Failed => "failed",
            EntryState::Reverting => "reverting",
            EntryState::Reverted => "reverted",
            EntryState::Baselined => "baselined",
        }
    }

    /// Parses [`EntryState::as_str`].
    pub fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "in_progress" => EntryState::InProgress,
            "applied" => EntryState::Applied,
            "failed" => EntryState::Failed,
            "reverting" => EntryState::Reverting,
            "reverted" => EntryState::Reverted,
            "baselined" => EntryState::Baselined,
            _ => return None,
        })
    }

    /// Whether the migration's changes count as present (`applied` or `baselined`).
    pub fn is_applied(self) -> bool {
        matches!(self, EntryState::Applied | EntryState::Baselined)
    }
}

/// One migration as the ledger records it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LedgerEntry {
    /// `MigrationName::name()`: the migration's file stem.
    pub name: String,
    /// Its state.
    pub state: EntryState,
    /// `sha256:<hex>` of the migration's source when it was applied (none for rows written by the
    /// article's runner or by the SQL ledger).
    pub checksum: Option<String>,
    /// Position in `Migrator::migrations()` when it was started.
    pub seq: Option<u32>,
    /// How many times it was started (1 for the first run).
    pub attempt: u32,
    /// When the last run started, Unix milliseconds.
    pub started_at_ms: Option<i64>,
    /// When it was applied or failed, Unix milliseconds (the SQL ledger's `applied_at` × 1000).
    pub finished_at_ms: Option<i64>,
    /// How long the last run took.
    pub duration_ms: Option<u64>,
    /// Who ran it last.
    pub runner_id: Option<String>,
    /// For `failed`: whether its changes were rolled back (a transaction); `false` means dirty.
    pub rolled_back: Option<bool>,
    /// For `failed`: the error, truncated.
    pub error: Option<String>,
    /// The lock fence of the runner that wrote it last.
    pub fence: Option<u64>,
}

impl LedgerEntry {
    /// An entry in `state` with nothing else known.
    pub fn new(name: impl Into<String>, state: EntryState) -> Self {
        Self {
            name: name.into(),
            state,
            checksum: None,
            seq: None,
            attempt: 0,
            started_at_ms: None,
            finished_at_ms: None,
            duration_ms: None,
            runner_id: None,
            rolled_back: None,
            error: None,
            fence: None,
        }
    }

    /// When it was applied, Unix seconds (0 when unknown, e.g. an article row without a time).
    pub fn applied_at(&self) -> i64 {
        self.finished_at_ms.map_or(0, |ms| ms.div_euclid(1000))
    }
}

/// Whether a migration runs inside a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxMode {
    /// In one transaction (PostgreSQL, SQLite): a failure leaves nothing behind.
    Transactional,
    /// Statement by statement (MySQL DDL commits implicitly): a failure may leave partial changes.
    None,
}

impl TxMode {
    /// The word stored in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            TxMode::Transactional => "transactional",
            TxMode::None => "none",
        }
    }
}

/// A change to one ledger row. Each has a precondition on the row (see [`dynamo`]); a ledger with a
/// lock also requires that this runner still holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// `up` is about to run: row → `in_progress`. `attempt` 1 needs no row; later attempts need a
    /// `failed` row that was rolled back, or a `reverted` one, with attempt `attempt - 1`.
    Start {
        /// Position in the migration list.
        seq: u32,
        /// The source's checksum, if known.
        checksum: Option<String>,
        /// This attempt's number.
        attempt: u32,
        /// How it runs.
        tx_mode: TxMode,
    },
    /// `up` committed: `in_progress` (started by this runner) → `applied`.
    Succeed {
        /// Its checksum (written again for the SQL ledger's single write).
        checksum: Option<String>,
        /// How long it took.
        duration_ms: u64,
    },
    /// `up` failed: `in_progress` (started by this runner) → `failed`.
    Fail {
        /// The error, truncated.
        error: String,
        /// Whether its changes were rolled back.
        rolled_back: bool,
    },
    /// A statement's or commit's outcome is unknown: the row keeps its state (`in_progress`, or
    /// `reverting` when `reverting`) and records the error, marked as an unknown outcome.
    Unknown {
        /// What happened, truncated.
        error: String,
        /// Whether it was a `down`.
        reverting: bool,
    },
    /// `down` is about to run: `applied`/`baselined` (or an article row) → `reverting`.
    RevertStart,
    /// `down` committed: `reverting` → `reverted`.
    RevertDone {
        /// How long it took.
        duration_ms: u64,
    },
    /// `down` failed: `reverting` → `applied` when rolled back, `failed` (dirty) otherwise.
    RevertFail {
        /// The error, truncated.
        error: String,
        /// Whether its changes were rolled back.
        rolled_back: bool,
    },
    /// Operator: the migration's changes are in place (from any state, or no row).
    MarkApplied {
        /// The checksum to record.
        checksum: Option<String>,
    },
    /// Operator: the run failed; `rolled_back = true` lets the next `up` retry it.
    MarkFailed {
        /// Whether nothing of it remains.
        rolled_back: bool,
    },
    /// Operator: delete the row (the migration becomes pending).
    Forget,
    /// Operator: accept the current source's checksum for an applied row.
    Rechecksum {
        /// The new checksum.
        checksum: Option<String>,
    },
    /// `baseline`: record a migration as applied without running it (no row may exist).
    Baseline {
        /// Position in the migration list.
        seq: u32,
        /// The source's checksum, if known.
        checksum: Option<String>,
    },
}

impl Transition {
    /// A short name for messages and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Transition::Start { .. } => "start",
            Transition::Succeed { .. } => "succeed",
            Transition::Fail { .. } => "fail",
            Transition::Unknown { .. } => "unknown",
            Transition::RevertStart => "revert-start",
            Transition::RevertDone { .. } => "revert-done",
            Transition::RevertFail { .. } => "revert-fail",
            Transition::MarkApplied { .. } => "mark-applied",
            Transition::MarkFailed { .. } => "mark-failed",
            Transition::Forget => "forget",
            Transition::Rechecksum { .. } => "rechecksum",
            Transition::Baseline { .. } => "baseline",
        }
    }
}

/// Who holds the lock, as `status` and lock errors report it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LockInfo {
    /// The holder's runner id.
    pub owner: String,
    /// The fencing token of its acquisition.
    pub fence: u64,
    /// What it is doing (`up`, `down`, `repair`, …).
    pub operation: String,
    /// When its lease expires, Unix milliseconds (writer's clock).
    pub lease_expires_at_ms: i64,
    /// Whether it was released (then nobody holds it).
    pub released: bool,
}

/// A check that this runner still holds the lock with enough lease left for one more statement
/// (see [`Ledger::lease_guard`]).
pub type LeaseGuard = std::sync::Arc<dyn Fn() -> Result<()> + Send + Sync>;

/// The prefix of the `error` a [`Transition::Unknown`] records.
pub const UNKNOWN_OUTCOME: &str = "outcome unknown: ";

/// Storage for the migration record, with an optional lock.
#[async_trait::async_trait]
pub trait Ledger: Send + Sync + std::fmt::Debug {
    /// Where the ledger lives, for messages (`DynamoDB table t`, `seaql_migrations`).
    fn describe(&self) -> String;

    /// Makes the storage ready for writes (e.g. creates the table). Idempotent; never called by
    /// read-only commands such as `status`.
    async fn prepare(&self) -> Result<()>;

    /// Every row, in no particular order. Storage that does not exist yet reads as empty.
    async fn entries(&self) -> Result<Vec<LedgerEntry>>;

    /// Whether [`Transition::Succeed`] and [`Transition::RevertDone`] must be written inside the
    /// migration's transaction (a ledger in the target database, with [`Ledger::write_in`]) rather
    /// than after its commit.
    fn writes_in_transaction(&self) -> bool {
        false
    }

    /// Applies `transition` to `name`'s row.
    ///
    /// # Errors
    /// [`crate::Error::LeaseLost`] when this runner no longer holds the lock;
    /// [`crate::Error::LedgerConflict`] when the row is not in the state the transition expects.
    async fn write(&self, name: &str, transition: &Transition) -> Result<()>;

    /// As [`Ledger::write`], through `conn`, the connection of the migration's transaction: a
    /// ledger stored in the target database ([`Ledger::writes_in_transaction`]) records there, so
    /// its record commits with the migration. Other ledgers write as [`Ledger::write`] does.
    ///
    /// # Errors
    /// As [`Ledger::write`].
    async fn write_in(
        &self,
        conn: &SchemaManagerConnection<'_>,
        name: &str,
        transition: &Transition,
    ) -> Result<()> {
        let _ = conn;
        self.write(name, transition).await
    }

    /// Takes the lock for `operation`, waiting as the ledger is configured to. Ledgers without a
    /// lock return at once.
    ///
    /// # Errors
    /// [`crate::Error::LockHeld`] naming the holder when the wait runs out.
    async fn lock(&self, operation: &str) -> Result<()> {
        let _ = operation;
        Ok(())
    }

    /// Releases the lock taken by [`Ledger::lock`] (no-op when not held).
    async fn unlock(&self) -> Result<()> {
        Ok(())
    }

    /// Stops heartbeating without releasing: the lease runs out on its own. Used when a statement's
    /// outcome is unknown and may still be running.
    async fn abandon(&self) {}

    /// Fails unless this runner holds the lock with more lease left than a statement may take
    /// (checked before each migration starts). Ledgers without a lock always pass.
    ///
    /// # Errors
    /// [`crate::Error::LeaseLost`].
    fn check_lease(&self) -> Result<()> {
        Ok(())
    }

    /// [`Ledger::check_lease`] as a function that outlives the borrow of the ledger, for a fence
    /// inside the database client (checked before every statement and commit). `None` for ledgers
    /// without a lock.
    fn lease_guard(&self) -> Option<LeaseGuard> {
        None
    }

    /// The latest the lease of the lock's acquisition `fence` can have lasted until (Unix ms), as
    /// known when this runner took the lock: its expiry (or its owner's own release), or, when a
    /// later acquisition came in between, that acquisition's time. `None` when unknown or the
    /// ledger has no lock.
    fn lease_end_ms(&self, fence: u64) -> Option<i64> {
        let _ = fence;
        None
    }

    /// The lock item, if the ledger has one and it exists.
    async fn lock_info(&self) -> Result<Option<LockInfo>> {
        Ok(None)
    }

    /// Releases the lock whoever holds it, if its fence is `fence`.
    ///
    /// # Errors
    /// [`crate::Error::Refused`] when the ledger has no lock or the fence does not match.
    async fn force_unlock(&self, fence: u64) -> Result<LockInfo> {
        let _ = fence;
        Err(crate::Error::Refused(format!(
            "{} has no lock to release",
            self.describe()
        )))
    }
}

/// Truncates an error message for storage (DynamoDB items are limited to 400 KB).
pub(crate) fn truncate(message: &str) -> String {
    const MAX: usize = 2000;
    if message.len() <= MAX {
        return message.to_owned();
    }
    let mut end = MAX;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}
