//! Planning: checking names and the ledger, and choosing what `up`/`down` would run.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sea_orm_migration::MigrationTrait;

use crate::error::{Error, Result};
use crate::ledger::{EntryState, Ledger, LedgerEntry};
use crate::name::is_migration_name;

use super::{Runner, format_ms, limit};

impl<L: Ledger> Runner<L> {
    /// Names are ledger keys: each must be unique and look like the names `sea-orm-cli migrate
    /// generate` writes (`m<YYYYMMDD>_<HHMMSS>_<word>`), so a typo cannot create a second row for one
    /// migration.
    pub(super) fn validate_names(&self) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for migration in &self.migrations {
            let name = migration.name();
            if !is_migration_name(name) {
                return Err(Error::Config(format!(
                    "migration name `{name}` does not look like m<YYYYMMDD>_<HHMMSS>_<name> (the \
                     file stem `sea-orm-cli migrate generate` writes)"
                )));
            }
            if !seen.insert(name) {
                return Err(Error::Config(format!(
                    "two migrations are named `{name}`; names are ledger keys and must be unique"
                )));
            }
        }
        Ok(())
    }

    /// Refuses to forget or fail `entry` while a statement of it may still be running: its
    /// runner's lease ended less than [`RunOptions::statement_limit`] +
    /// [`RunOptions::settle_margin`] ago (unless [`RunOptions::force`]).
    pub(super) fn ensure_settled(&self, entry: &LedgerEntry) -> Result<()> {
        if self.options.force
            || !matches!(entry.state, EntryState::InProgress | EntryState::Reverting)
        {
            return Ok(());
        }
        let Some(fence) = entry.fence else {
            return Ok(());
        };
        let Some(ended) = self.ledger.lease_end_ms(fence) else {
            return Ok(());
        };
        let wait = self.options.statement_limit + self.options.settle_margin;
        let safe_at = ended + wait.as_millis() as i64;
        if chrono::Utc::now().timestamp_millis() >= safe_at {
            return Ok(());
        }
        Err(Error::StillRunning {
            name: entry.name.clone(),
            state: entry.state.as_str(),
            fence,
            ended: format_ms(ended),
            safe_at: format_ms(safe_at),
            limit_secs: self.options.statement_limit.as_secs(),
            margin_secs: self.options.settle_margin.as_secs(),
        })
    }

    /// The ledger, refusing unknown outcomes, dirty failures, missing files and drift.
    pub(super) async fn checked_entries(&self) -> Result<HashMap<String, LedgerEntry>> {
        let entries = self.entries().await?;
        let mut sorted: Vec<&LedgerEntry> = entries.values().collect();
        sorted.sort_by_key(|e| (self.position(&e.name).unwrap_or(usize::MAX), e.name.clone()));
        if let Some(e) = sorted
            .iter()
            .find(|e| matches!(e.state, EntryState::InProgress | EntryState::Reverting))
        {
            return Err(Error::UnknownOutcome {
                name: e.name.clone(),
                state: e.state.as_str().into(),
                detail: format!(
                    "started by {} at {}, attempt {}; the runner did not record an outcome",
                    e.runner_id.as_deref().unwrap_or("an unknown runner"),
                    e.started_at_ms
                        .map_or_else(|| "an unknown time".into(), format_ms),
                    e.attempt
                ),
            });
        }
        if let Some(e) = sorted
            .iter()
            .find(|e| e.state == EntryState::Failed && e.rolled_back != Some(true))
        {
            return Err(Error::Dirty {
                name: e.name.clone(),
                detail: format!(
                    "by {} at {}: {}",
                    e.runner_id.as_deref().unwrap_or("an unknown runner"),
                    e.finished_at_ms
                        .map_or_else(|| "an unknown time".into(), format_ms),
                    e.error.as_deref().unwrap_or("no error recorded")
                ),
            });
        }
        if let Some(e) = sorted
            .iter()
            .find(|e| e.state.is_applied() && self.position(&e.name).is_none())
        {
            return Err(Error::MissingMigration {
                name: e.name.clone(),
            });
        }
        for e in &sorted {
            if !e.state.is_applied() {
                continue;
            }
            if let (Some(recorded), Some(current)) = (&e.checksum, self.checksums.get(&e.name))
                && recorded != current
            {
                if self.options.allow_drift {
                    tracing::warn!(migration = %e.name, %recorded, %current, "applied migration changed (drift allowed)");
                } else {
                    return Err(Error::Drift {
                        name: e.name.clone(),
                        recorded: recorded.clone(),
                        current: current.clone(),
                    });
                }
            }
        }
        Ok(entries)
    }

    /// The migrations `up` would apply, in order, with their positions: those without an applied
    /// (or baselined) row. Warns when one is older than the newest applied one.
    pub(super) fn pending<'a>(
        &'a self,
        entries: &HashMap<String, LedgerEntry>,
    ) -> Vec<(usize, &'a dyn MigrationTrait)> {
        let pending: Vec<(usize, &dyn MigrationTrait)> = self
            .migrations
            .iter()
            .enumerate()
            .filter(|(_, m)| entries.get(m.name()).is_none_or(|e| !e.state.is_applied()))
            .map(|(i, m)| (i, m.as_ref()))
            .collect();
        if let Some(highest) = self
            .migrations
            .iter()
            .enumerate()
            .filter(|(_, m)| entries.get(m.name()).is_some_and(|e| e.state.is_applied()))
            .map(|(i, _)| i)
            .max()
            && let Some((_, m)) = pending.iter().find(|(i, _)| *i < highest)
        {
            tracing::warn!(
                migration = m.name(),
                "applying a migration older than the newest applied one (out of order)"
            );
        }
        pending
    }

    /// The migrations `down` would revert, newest (in migration order) first, at most `steps`.
    pub(super) fn to_revert<'a>(
        &'a self,
        entries: &HashMap<String, LedgerEntry>,
        steps: Option<u32>,
    ) -> Vec<&'a dyn MigrationTrait> {
        self.migrations
            .iter()
            .rev()
            .filter(|m| entries.get(m.name()).is_some_and(|e| e.state.is_applied()))
            .take(limit(steps))
            .map(|m| m.as_ref())
            .collect()
    }

    pub(super) fn fits_deadline(&self, entry: Option<&LedgerEntry>) -> bool {
        let Some(deadline) = self.options.deadline else {
            return true;
        };
        let estimate = entry
            .and_then(|e| e.duration_ms)
            .map_or(self.options.default_estimate, Duration::from_millis);
        Instant::now() + estimate + self.options.deadline_margin <= deadline
    }
}
