//! Applying: running each migration in its transaction mode and recording it in the ledger.

use std::time::Instant;

use sea_orm_migration::sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement,
};
use sea_orm_migration::{MigrationTrait, SchemaManager};

use crate::error::{Direction, Error, Result};
use crate::ledger::{EntryState, Ledger, LedgerEntry, Transition, TxMode};

use super::fence::Fence;
use super::target::{CommitFailure, is_unknown_outcome};
use super::{Repair, Runner, UpReport, limit};

impl<L: Ledger> Runner<L> {
    pub(super) async fn up_locked(&self, steps: Option<u32>) -> Result<UpReport> {
        self.prepare().await?;
        let entries = self.checked_entries().await?;
        let pending = self.pending(&entries);
        let mut report = UpReport::default();
        let limit = limit(steps);
        for (seq, migration) in &pending {
            let name = migration.name();
            let entry = entries.get(name);
            if report.applied.len() >= limit || report.deadline_reached {
                report.pending.push(name.to_owned());
                continue;
            }
            if !self.fits_deadline(entry) {
                tracing::warn!(
                    migration = name,
                    "not starting: it may not finish before the deadline"
                );
                report.deadline_reached = true;
                report.pending.push(name.to_owned());
                continue;
            }
            self.check_lease().await?;
            self.run_up(*seq as u32, *migration, entry).await?;
            report.applied.push(name.to_owned());
        }
        if report.applied.is_empty() && report.pending.is_empty() {
            tracing::info!("nothing to run (up)");
        }
        Ok(report)
    }

    pub(super) async fn down_locked(&self, steps: Option<u32>) -> Result<Vec<String>> {
        self.prepare().await?;
        let entries = self.checked_entries().await?;
        let plan = self.to_revert(&entries, steps);
        if plan.is_empty() {
            tracing::info!("nothing to run (down)");
        }
        let mut done = Vec::with_capacity(plan.len());
        for migration in plan {
            if !self.fits_deadline(entries.get(migration.name())) {
                tracing::warn!(
                    migration = migration.name(),
                    "not starting: it may not finish before the deadline"
                );
                break;
            }
            self.check_lease().await?;
            self.run_down(migration).await?;
            done.push(migration.name().to_owned());
        }
        Ok(done)
    }

    /// Forgets every ledger row (after `reset`, or before `fresh`).
    pub(super) async fn clear_locked(&self) -> Result<()> {
        let entries = self.ledger.entries().await?;
        for entry in &entries {
            self.ensure_settled(entry)?;
        }
        for entry in entries {
            self.ledger.write(&entry.name, &Transition::Forget).await?;
        }
        Ok(())
    }

    pub(super) async fn repair_locked(&self, repair: &Repair) -> Result<()> {
        let name = match repair {
            Repair::MarkApplied(name)
            | Repair::MarkFailed { name, .. }
            | Repair::Forget(name)
            | Repair::Rechecksum(name) => name,
        };
        let known = self.position(name).is_some();
        if !known && !matches!(repair, Repair::Forget(_)) {
            return Err(Error::UnknownMigration { name: name.clone() });
        }
        self.prepare().await?;
        if matches!(repair, Repair::MarkFailed { .. } | Repair::Forget(_))
            && let Some(entry) = self.entries().await?.get(name.as_str())
        {
            self.ensure_settled(entry)?;
        }
        let checksum = self.checksums.get(name).cloned();
        let transition = match repair {
            Repair::MarkApplied(_) => Transition::MarkApplied { checksum },
            Repair::MarkFailed { rolled_back, .. } => Transition::MarkFailed {
                rolled_back: *rolled_back,
            },
            Repair::Forget(_) => Transition::Forget,
            Repair::Rechecksum(_) => Transition::Rechecksum { checksum },
        };
        self.ledger.write(name, &transition).await?;
        tracing::info!(migration = %name, repair = transition.label(), "ledger repaired");
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(migration = migration.name()))]
    async fn run_up(
        &self,
        seq: u32,
        migration: &dyn MigrationTrait,
        entry: Option<&LedgerEntry>,
    ) -> Result<()> {
        let name = migration.name();
        let checksum = self.checksums.get(name).cloned();
        let tx_mode = self.target.tx_mode();
        let attempt = entry.map_or(1, |e| e.attempt + 1);
        self.ledger
            .write(
                name,
                &Transition::Start {
                    seq,
                    checksum: checksum.clone(),
                    attempt,
                    tx_mode,
                },
            )
            .await?;
        tracing::info!(
            attempt,
            tx_mode = tx_mode.as_str(),
            "running migration `{name}` (up)"
        );
        let started = Instant::now();
        let succeed = |started: Instant| Transition::Succeed {
            checksum: checksum.clone(),
            duration_ms: started.elapsed().as_millis() as u64,
        };
        match tx_mode {
            TxMode::Transactional => {
                self.run_in_transaction(migration, Direction::Up, started, &succeed)
                    .await?;
            }
            TxMode::None => match self.run_statements(migration, Direction::Up).await {
                Ok(()) => {
                    self.ledger
                        .write(name, &succeed(started))
                        .await
                        .map_err(|e| out_of_step(name, Direction::Up, e))?;
                }
                Err(error) => {
                    return Err(self
                        .non_transactional_failure(name, Direction::Up, error)
                        .await);
                }
            },
        }
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "migration `{name}` applied"
        );
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(migration = migration.name()))]
    async fn run_down(&self, migration: &dyn MigrationTrait) -> Result<()> {
        let name = migration.name();
        self.ledger.write(name, &Transition::RevertStart).await?;
        tracing::info!("running migration `{name}` (down)");
        let started = Instant::now();
        let done = |started: Instant| Transition::RevertDone {
            duration_ms: started.elapsed().as_millis() as u64,
        };
        match self.target.tx_mode() {
            TxMode::Transactional => {
                self.run_in_transaction(migration, Direction::Down, started, &done)
                    .await?;
            }
            TxMode::None => match self.run_statements(migration, Direction::Down).await {
                Ok(()) => self
                    .ledger
                    .write(name, &done(started))
                    .await
                    .map_err(|e| out_of_step(name, Direction::Down, e))?,
                Err(error) => {
                    return Err(self
                        .non_transactional_failure(name, Direction::Down, error)
                        .await);
                }
            },
        }
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "migration `{name}` reverted"
        );
        Ok(())
    }

    /// Runs `migration` in a transaction this runner commits; records success after the commit (or
    /// inside it, for a ledger in the target database) and failure after the rollback.
    async fn run_in_transaction(
        &self,
        migration: &dyn MigrationTrait,
        direction: Direction,
        started: Instant,
        success: &(dyn Fn(Instant) -> Transition + Send + Sync),
    ) -> Result<()> {
        let name = migration.name();
        let txn = match self.run_target().begin(self.native_fence.as_ref()).await {
            Ok(txn) => txn,
            Err(error) => {
                // Nothing ran: record it as a rolled-back failure so the next run may retry.
                self.record_failure(name, direction, &error.to_string(), true)
                    .await?;
                return Err(Error::Migration {
                    name: name.to_owned(),
                    direction,
                    source: error,
                });
            }
        };
        // Err((error, whether it is the migration's own failure, to record)).
        let outcome: std::result::Result<(), (Error, bool)> = {
            let manager = txn.manager();
            let ran = match direction {
                Direction::Up => migration.up(&manager).await,
                Direction::Down => migration.down(&manager).await,
            };
            match ran {
                Ok(()) if self.ledger.writes_in_transaction() => self
                    .ledger
                    .write_in(manager.get_connection(), name, &success(started))
                    .await
                    .map_err(|e| (e, false)),
                Ok(()) => Ok(()),
                Err(source) => Err((
                    Error::Migration {
                        name: name.to_owned(),
                        direction,
                        source,
                    },
                    true,
                )),
            }
        };
        if let Err((error, record)) = outcome {
            // No commit was sent, so nothing of it can have committed, even if the rollback fails.
            txn.rollback().await;
            // Its statement was refused (or the ledger cannot be written): stop.
            self.check_lease().await?;
            if record {
                let message = match &error {
                    Error::Migration { source, .. } => source.to_string(),
                    other => other.to_string(),
                };
                self.record_failure(name, direction, &message, true).await?;
            }
            return Err(error);
        }
        // Never commit after the lease is gone: a runner that took over may be running it too.
        if let Err(lost) = self.check_lease().await {
            txn.rollback().await;
            return Err(lost);
        }
        match txn.commit().await {
            Ok(()) => {}
            Err(CommitFailure::NotCommitted(source)) => {
                self.check_lease().await?;
                self.record_failure(name, direction, &source.to_string(), true)
                    .await?;
                return Err(Error::Migration {
                    name: name.to_owned(),
                    direction,
                    source,
                });
            }
            Err(CommitFailure::Unknown(source)) => {
                return Err(self
                    .unknown_outcome(name, direction, "its commit got no answer", source)
                    .await);
            }
        }
        if !self.ledger.writes_in_transaction() {
            self.ledger
                .write(name, &success(started))
                .await
                .map_err(|e| out_of_step(name, direction, e))?;
        }
        Ok(())
    }

    /// Runs `migration` statement by statement (MySQL) on the run target; a native target with a
    /// locking ledger sends them through the lease fence, which must still be intact at the end.
    async fn run_statements(
        &self,
        migration: &dyn MigrationTrait,
        direction: Direction,
    ) -> std::result::Result<(), DbErr> {
        let fence = match &self.native_fence {
            Some(guard) => Some(Fence::over_connection(self.target.db(), guard.clone()).await?),
            None => None,
        };
        let db = fence
            .as_ref()
            .map_or_else(|| self.run_target().db(), Fence::connection);
        let manager = SchemaManager::new(db);
        match direction {
            Direction::Up => migration.up(&manager).await?,
            Direction::Down => migration.down(&manager).await?,
        }
        match &fence {
            Some(fence) => fence.check().await,
            None => Ok(()),
        }
    }

    /// A statement failed outside a transaction: unknown for a timeout or a lost answer, dirty
    /// otherwise (earlier statements stay applied).
    async fn non_transactional_failure(
        &self,
        name: &str,
        direction: Direction,
        error: DbErr,
    ) -> Error {
        if let Err(lost) = self.check_lease().await {
            // Its next statement was refused; earlier ones ran. The row stays as it is.
            return lost;
        }
        if is_unknown_outcome(&error) {
            return self
                .unknown_outcome(
                    name,
                    direction,
                    "a statement timed out or got no answer",
                    error,
                )
                .await;
        }
        if let Err(ledger) = self
            .record_failure(name, direction, &error.to_string(), false)
            .await
        {
            return ledger;
        }
        Error::MigrationDirty {
            name: name.to_owned(),
            direction,
            source: error,
        }
    }

    /// Marks the row unknown (best effort: the lock is kept either way) and builds the error.
    async fn unknown_outcome(
        &self,
        name: &str,
        direction: Direction,
        what: &'static str,
        source: DbErr,
    ) -> Error {
        let transition = Transition::Unknown {
            error: format!("{what}: {source}"),
            reverting: direction == Direction::Down,
        };
        if let Err(error) = self.ledger.write(name, &transition).await {
            tracing::warn!(migration = name, %error, "could not mark the outcome unknown in the ledger");
        }
        Error::OutcomeUnknown {
            name: name.to_owned(),
            direction,
            state: match direction {
                Direction::Up => EntryState::InProgress.as_str(),
                Direction::Down => EntryState::Reverting.as_str(),
            },
            what,
            source,
        }
    }

    async fn record_failure(
        &self,
        name: &str,
        direction: Direction,
        message: &str,
        rolled_back: bool,
    ) -> Result<()> {
        let message = message.to_owned();
        let transition = match direction {
            Direction::Up => Transition::Fail {
                error: message,
                rolled_back,
            },
            Direction::Down => Transition::RevertFail {
                error: message,
                rolled_back,
            },
        };
        self.ledger.write(name, &transition).await
    }
}

fn out_of_step(name: &str, direction: Direction, error: Error) -> Error {
    match error {
        Error::Ledger { source, .. } => Error::LedgerOutOfStep {
            name: name.to_owned(),
            direction,
            source,
        },
        other => other,
    }
}

/// Drops every table in the connection's database (schema on PostgreSQL), retrying tables whose
/// foreign keys block them until a round makes no progress. Returns the names dropped.
pub(super) async fn drop_all_tables(db: &DatabaseConnection) -> Result<Vec<String>> {
    let backend = db.get_database_backend();
    let list = match backend {
        DbBackend::MySql => {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
        }
        DbBackend::Postgres => {
            "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = current_schema()"
        }
        DbBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
    };
    let rows = db.query_all(Statement::from_string(backend, list)).await?;
    let mut tables = rows
        .iter()
        .map(|row| row.try_get::<String>("", "name"))
        .collect::<Result<Vec<_>, _>>()?;
    let quote = |name: &str| match backend {
        DbBackend::MySql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    };
    let cascade = if backend == DbBackend::Postgres {
        " CASCADE"
    } else {
        ""
    };
    let mut dropped = Vec::new();
    while !tables.is_empty() {
        let before = tables.len();
        let mut blocked = Vec::new();
        let mut last_error = None;
        for table in tables {
            let sql = format!("DROP TABLE IF EXISTS {}{cascade}", quote(&table));
            match db.execute_unprepared(&sql).await {
                Ok(_) => {
                    tracing::info!(%table, "dropped");
                    dropped.push(table);
                }
                Err(error) => {
                    last_error = Some(error);
                    blocked.push(table);
                }
            }
        }
        if blocked.len() == before
            && let Some(error) = last_error
        {
            // No progress: a dependency this loop cannot resolve.
            return Err(Error::Database(error));
        }
        tables = blocked;
    }
    Ok(dropped)
}
