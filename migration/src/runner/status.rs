//! What `status` reports for each migration, derived from its ledger row.

use crate::ledger::{EntryState, LedgerEntry};

/// The state of one migration, as `status` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Applied (or baselined), at this Unix time.
    Applied {
        /// Unix seconds (0 when the ledger row has no time, e.g. the article's).
        applied_at: i64,
    },
    /// Known to this binary, not applied (no row, or `reverted`).
    Pending,
    /// Recorded as applied but not contained in this binary.
    Missing {
        /// Unix seconds.
        applied_at: i64,
    },
    /// A run started and recorded no outcome (`in_progress`, or `reverting` for a `down`): unknown.
    InProgress {
        /// `true` for a `down` (`reverting`).
        reverting: bool,
    },
    /// A run failed.
    Failed {
        /// Whether its changes were rolled back (then `up` retries it); `false` is dirty.
        rolled_back: bool,
    },
}

impl Status {
    /// The lower-case word `status` prints.
    pub fn label(&self) -> &'static str {
        match self {
            Status::Applied { .. } => "applied",
            Status::Pending => "pending",
            Status::Missing { .. } => "missing",
            Status::InProgress { reverting: false } => "in_progress",
            Status::InProgress { reverting: true } => "reverting",
            Status::Failed { rolled_back: true } => "failed",
            Status::Failed { rolled_back: false } => "dirty",
        }
    }
}

/// One line of `status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationState {
    /// The migration's name (its file stem).
    pub name: String,
    /// Where it stands.
    pub status: Status,
    /// The checksum of this binary's source (none for migrations without a known source).
    pub checksum: Option<String>,
    /// The ledger's row, if any.
    pub entry: Option<LedgerEntry>,
}

impl MigrationState {
    /// The recorded checksum, when the migration is applied and its source hashes differently.
    pub fn drift(&self) -> Option<&str> {
        let entry = self.entry.as_ref()?;
        if !entry.state.is_applied() {
            return None;
        }
        match (&entry.checksum, &self.checksum) {
            (Some(recorded), Some(current)) if recorded != current => Some(recorded),
            _ => None,
        }
    }

    /// Whether `status` should exit non-zero for this line: anything but applied without drift.
    pub fn needs_attention(&self) -> bool {
        !matches!(self.status, Status::Applied { .. }) || self.drift().is_some()
    }
}

pub(super) fn status_of(entry: &LedgerEntry) -> Status {
    match entry.state {
        EntryState::Applied | EntryState::Baselined => Status::Applied {
            applied_at: entry.applied_at(),
        },
        EntryState::Reverted => Status::Pending,
        EntryState::InProgress => Status::InProgress { reverting: false },
        EntryState::Reverting => Status::InProgress { reverting: true },
        EntryState::Failed => Status::Failed {
            rolled_back: entry.rolled_back == Some(true),
        },
    }
}
