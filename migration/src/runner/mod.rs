//! Plans and applies migrations against one [`Target`], recording every step in a [`Ledger`].
//!
//! Every command that changes anything first takes the ledger's lock, then reads the ledger, and only
//! then plans (so a runner that waited sees what the previous holder applied). The plan refuses, in
//! this order, when the ledger shows a migration `in_progress`/`reverting` (outcome unknown), a failed
//! run that was not rolled back (dirty), an applied migration this binary does not contain, or an
//! applied migration whose source changed (drift, unless [`RunOptions::allow_drift`]).
//!
//! Each migration then runs on its own:
//! - **transactional** (PostgreSQL, SQLite; through the Data API, PostgreSQL): the ledger records
//!   `in_progress`, the migration runs in a transaction the runner commits itself (a Data API commit
//!   error is an error, never a silent success), then the ledger records `applied`. A failure rolls
//!   back and records `failed` with `rolled_back = true`, so the next `up` may retry it.
//! - **statement by statement** (MySQL, whose DDL commits implicitly): `in_progress` first; a failure
//!   records `failed` with `rolled_back = false`, which blocks later runs until `repair`.
//! - A Data API `StatementTimeoutException` (the statement may still be running) or a call without an
//!   answer is an **unknown outcome**: the row stays `in_progress`, the lock is kept until its lease
//!   expires, and an operator resolves it with `repair`.
//!
//! With a [`RunOptions::deadline`] (Lambda's), a migration is started only if its expected duration
//! (its last recorded duration, else [`RunOptions::default_estimate`]) plus
//! [`RunOptions::deadline_margin`] fits before the deadline; the rest is reported as not started.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm_migration::{MigrationTrait, MigratorTrait};

use crate::dry_run::{self, DryRun, PlannedMigration};
use crate::error::{Direction, Error, Result};
use crate::ledger::{EntryState, LeaseGuard, Ledger, LedgerEntry, LockInfo, Transition};

mod apply;
mod fence;
mod plan;
mod status;
mod target;

use apply::drop_all_tables;
use status::status_of;
pub use status::{MigrationState, Status};
pub use target::Target;

/// Knobs of a run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Run even when an applied migration's source changed.
    pub allow_drift: bool,
    /// Do not start a migration that cannot finish before this instant.
    pub deadline: Option<Instant>,
    /// Time kept free before the deadline (default 45 s: one Data API statement).
    pub deadline_margin: Duration,
    /// Expected duration of a migration with no recorded duration (default 10 s).
    pub default_estimate: Duration,
    /// The longest a statement may keep running after its runner's lease ended (default 45 s, the
    /// Data API's limit): `repair mark-failed`/`forget` and `fresh` on an `in_progress` row wait
    /// this long, plus [`RunOptions::settle_margin`], after that lease ended.
    pub statement_limit: Duration,
    /// Added to [`RunOptions::statement_limit`] (default 30 s, the lock's clock-skew allowance).
    pub settle_margin: Duration,
    /// Skip that wait (`--force`).
    pub force: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            allow_drift: false,
            deadline: None,
            deadline_margin: Duration::from_secs(45),
            default_estimate: Duration::from_secs(10),
            statement_limit: Duration::from_secs(45),
            settle_margin: Duration::from_secs(30),
            force: false,
        }
    }
}

/// What `up` did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct UpReport {
    /// Applied, in order.
    pub applied: Vec<String>,
    /// Still pending (not started: `-n` or the deadline).
    pub pending: Vec<String>,
    /// Whether the deadline stopped the run before all pending migrations ran.
    pub deadline_reached: bool,
}

/// An operator's correction of the ledger (`repair …`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Repair {
    /// The migration's changes are in place: record it applied with the current checksum.
    MarkApplied(String),
    /// The run failed; with `rolled_back` nothing of it remains and `up` may retry it.
    MarkFailed {
        /// The migration.
        name: String,
        /// Whether nothing of it remains.
        rolled_back: bool,
    },
    /// Delete the row: the migration becomes pending.
    Forget(String),
    /// Accept the current source's checksum for an applied migration.
    Rechecksum(String),
}

/// Runs a list of migrations against a [`Target`], recording them in a ledger.
pub struct Runner<L> {
    target: Target,
    /// `target` with the ledger's lease checked before every statement and commit (Data API
    /// targets with a locking ledger); migrations run on it.
    fenced: Option<Target>,
    /// The ledger's lease guard, for a native target with a locking ledger: each migration's
    /// statements and its commit pass it (`runner/fence.rs`).
    native_fence: Option<LeaseGuard>,
    ledger: L,
    migrations: Vec<Box<dyn MigrationTrait>>,
    checksums: HashMap<String, String>,
    options: RunOptions,
}

impl<L> std::fmt::Debug for Runner<L>
where
    L: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("backend", &self.target.backend())
            .field("ledger", &self.ledger)
            .field(
                "migrations",
                &self.migrations.iter().map(|m| m.name()).collect::<Vec<_>>(),
            )
            .field("options", &self.options)
            .finish()
    }
}

impl<L: Ledger> Runner<L> {
    /// A runner for `M`'s migrations, with the checksums of this crate's migration sources.
    pub fn new<M: MigratorTrait>(target: impl Into<Target>, ledger: L) -> Self {
        Self::with_migrations(target, ledger, M::migrations()).with_checksums(
            crate::CHECKSUMS
                .iter()
                .map(|(name, sum)| ((*name).to_owned(), (*sum).to_owned())),
        )
    }

    /// A runner for an explicit list of migrations, in the order given, without checksums.
    pub fn with_migrations(
        target: impl Into<Target>,
        ledger: L,
        migrations: Vec<Box<dyn MigrationTrait>>,
    ) -> Self {
        let target = target.into();
        let guard = ledger.lease_guard();
        let native_fence = match &target {
            Target::Native(_) => guard.clone(),
            Target::DataApi { .. } => None,
        };
        let fenced = match (&target, guard) {
            (Target::DataApi { api, .. }, Some(guard)) => {
                let api = api.with_hook(Arc::new(move |_| {
                    guard().map_err(|e| Box::new(e) as data_api::hook::HookError)
                }));
                api.connection().ok().map(|db| Target::DataApi { api, db })
            }
            _ => None,
        };
        Self {
            target,
            fenced,
            native_fence,
            ledger,
            migrations,
            checksums: HashMap::new(),
            options: RunOptions::default(),
        }
    }

    /// Sets the checksums of migration sources, by migration name.
    pub fn with_checksums(mut self, checksums: impl IntoIterator<Item = (String, String)>) -> Self {
        self.checksums.extend(checksums);
        self
    }

    /// Sets the run options.
    pub fn with_options(mut self, options: RunOptions) -> Self {
        self.options = options;
        self
    }

    /// The run options.
    pub fn options_mut(&mut self) -> &mut RunOptions {
        &mut self.options
    }

    /// The ledger this runner records in.
    pub fn ledger(&self) -> &L {
        &self.ledger
    }

    /// The target database.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Every known migration in order, then any recorded migration this binary does not contain.
    /// Read-only: creates nothing and takes no lock.
    #[tracing::instrument(skip_all)]
    pub async fn status(&self) -> Result<Vec<MigrationState>> {
        let mut entries = self.entries().await?;
        let mut states: Vec<MigrationState> = self
            .migrations
            .iter()
            .map(|m| {
                let entry = entries.remove(m.name());
                MigrationState {
                    name: m.name().to_owned(),
                    status: entry.as_ref().map_or(Status::Pending, status_of),
                    checksum: self.checksums.get(m.name()).cloned(),
                    entry,
                }
            })
            .collect();
        let mut missing: Vec<LedgerEntry> = entries
            .into_values()
            .filter(|e| e.state != EntryState::Reverted)
            .collect();
        missing.sort_by(|a, b| a.name.cmp(&b.name));
        states.extend(missing.into_iter().map(|entry| MigrationState {
            name: entry.name.clone(),
            status: match status_of(&entry) {
                Status::Applied { applied_at } => Status::Missing { applied_at },
                other => other,
            },
            checksum: None,
            entry: Some(entry),
        }));
        Ok(states)
    }

    /// The lock item, if the ledger has one.
    ///
    /// # Errors
    /// The ledger's read error.
    pub async fn lock_info(&self) -> Result<Option<LockInfo>> {
        self.ledger.lock_info().await
    }

    /// Applies pending migrations in order, at most `steps` of them (all when `None`). Returns the
    /// names applied.
    ///
    /// # Errors
    /// See [`Runner::up_report`].
    pub async fn up(&self, steps: Option<u32>) -> Result<Vec<String>> {
        Ok(self.up_report(steps).await?.applied)
    }

    /// As [`Runner::up`], reporting what remains pending and whether the deadline stopped it.
    ///
    /// # Errors
    /// [`Error::LockHeld`]; before anything runs: [`Error::UnknownOutcome`], [`Error::Dirty`],
    /// [`Error::MissingMigration`], [`Error::Drift`]; then [`Error::Migration`] /
    /// [`Error::MigrationDirty`] for the first migration that fails (later ones are not attempted),
    /// [`Error::LeaseLost`] when the lock was lost.
    #[tracing::instrument(skip_all, fields(steps = ?steps))]
    pub async fn up_report(&self, steps: Option<u32>) -> Result<UpReport> {
        self.lock("up").await?;
        let result = Box::pin(self.up_locked(steps)).await;
        self.release(&result).await?;
        result
    }

    /// What [`Runner::up`] would send: per pending migration, in order, at most `steps` of them,
    /// its statements and parameter values (see [`crate::dry_run`]). Takes no lock and writes
    /// nothing, neither to the database nor to the ledger; reads the migrations make run for real.
    /// The plan is the one `up` would make now (another runner may change it before a real run).
    ///
    /// # Errors
    /// As [`Runner::up_report`] before anything runs: [`Error::UnknownOutcome`], [`Error::Dirty`],
    /// [`Error::MissingMigration`], [`Error::Drift`]; the ledger's read error. A migration that
    /// fails during the dry run is reported in its [`crate::dry_run::PlannedMigration::stopped`].
    #[tracing::instrument(skip_all, fields(steps = ?steps))]
    pub async fn dry_run_up(&self, steps: Option<u32>) -> Result<DryRun> {
        self.validate_names()?;
        let entries = self.checked_entries().await?;
        let mut migrations = Vec::new();
        for (_, migration) in self.pending(&entries).into_iter().take(limit(steps)) {
            migrations.push(self.rehearse(migration, Direction::Up).await?);
        }
        Ok(DryRun {
            direction: Direction::Up,
            migrations,
        })
    }

    /// What [`Runner::down`] would send, as [`Runner::dry_run_up`] for `up`.
    ///
    /// # Errors
    /// As [`Runner::dry_run_up`].
    #[tracing::instrument(skip_all, fields(steps = ?steps))]
    pub async fn dry_run_down(&self, steps: Option<u32>) -> Result<DryRun> {
        self.validate_names()?;
        let entries = self.checked_entries().await?;
        let mut migrations = Vec::new();
        for migration in self.to_revert(&entries, steps) {
            migrations.push(self.rehearse(migration, Direction::Down).await?);
        }
        Ok(DryRun {
            direction: Direction::Down,
            migrations,
        })
    }

    async fn rehearse(
        &self,
        migration: &dyn MigrationTrait,
        direction: Direction,
    ) -> Result<PlannedMigration> {
        let plan = dry_run::rehearse(
            self.target.db(),
            self.target.tx_mode(),
            migration,
            direction,
        )
        .await?;
        tracing::info!(
            migration = migration.name(),
            %direction,
            statements = plan.statements.len(),
            complete = plan.stopped.is_none(),
            "dry run"
        );
        Ok(plan)
    }

    /// Reverts applied migrations, newest (in migration order) first, at most `steps` of them (all
    /// when `None`). Returns the names reverted.
    ///
    /// # Errors
    /// As [`Runner::up_report`].
    #[tracing::instrument(skip_all, fields(steps = ?steps))]
    pub async fn down(&self, steps: Option<u32>) -> Result<Vec<String>> {
        self.lock("down").await?;
        let result = Box::pin(self.down_locked(steps)).await;
        self.release(&result).await?;
        result
    }

    /// Reverts everything, then applies everything (`refresh`); the ledger's reverted rows are
    /// cleared in between.
    ///
    /// # Errors
    /// As [`Runner::up_report`].
    pub async fn refresh(&self) -> Result<(Vec<String>, UpReport)> {
        self.lock("refresh").await?;
        let result = Box::pin(async {
            let reverted = self.down_locked(None).await?;
            self.clear_locked().await?;
            Ok((reverted, self.up_locked(None).await?))
        })
        .await;
        self.release(&result).await?;
        result
    }

    /// Reverts everything and clears the ledger (`reset`).
    ///
    /// # Errors
    /// As [`Runner::up_report`].
    pub async fn reset(&self) -> Result<Vec<String>> {
        self.lock("reset").await?;
        let result = Box::pin(async {
            let reverted = self.down_locked(None).await?;
            self.clear_locked().await?;
            Ok(reverted)
        })
        .await;
        self.release(&result).await?;
        result
    }

    /// Drops every table of the target database, clears the ledger, and applies everything
    /// (`fresh`). Returns the dropped tables and the `up` report.
    ///
    /// # Errors
    /// A table that cannot be dropped; then as [`Runner::up_report`].
    pub async fn fresh(&self) -> Result<(Vec<String>, UpReport)> {
        self.lock("fresh").await?;
        let result = Box::pin(async {
            self.clear_locked().await?;
            let dropped = drop_all_tables(self.target.db()).await?;
            self.prepare().await?;
            Ok((dropped, self.up_locked(None).await?))
        })
        .await;
        self.release(&result).await?;
        result
    }

    /// Corrects the ledger as an operator decided (under the lock; nothing runs).
    ///
    /// # Errors
    /// [`Error::UnknownMigration`] for a name this binary lacks (except `Forget`),
    /// [`Error::LedgerConflict`] when the row's state does not allow it.
    pub async fn repair(&self, repair: &Repair) -> Result<()> {
        self.lock("repair").await?;
        let result = Box::pin(self.repair_locked(repair)).await;
        self.release(&result).await?;
        result
    }

    /// Records every migration up to and including `to` that has no row as `baselined` (applied
    /// without running), for a database whose schema already has them. Returns the names.
    ///
    /// # Errors
    /// [`Error::UnknownMigration`] when `to` is not a migration of this binary.
    pub async fn baseline(&self, to: &str) -> Result<Vec<String>> {
        let position = self
            .position(to)
            .ok_or_else(|| Error::UnknownMigration { name: to.into() })?;
        self.lock("baseline").await?;
        let result = Box::pin(async {
            self.prepare().await?;
            let entries = self.entries().await?;
            let mut done = Vec::new();
            for (seq, migration) in self.migrations.iter().enumerate().take(position + 1) {
                let name = migration.name();
                if entries.contains_key(name) {
                    continue;
                }
                let transition = Transition::Baseline {
                    seq: seq as u32,
                    checksum: self.checksums.get(name).cloned(),
                };
                self.ledger.write(name, &transition).await?;
                done.push(name.to_owned());
            }
            Ok(done)
        })
        .await;
        self.release(&result).await?;
        result
    }

    /// Releases the lock whoever holds it, if its fence is `fence` (`unlock --force`).
    ///
    /// # Errors
    /// [`Error::Refused`] when the fence is not the current one or the ledger has no lock.
    pub async fn force_unlock(&self, fence: u64) -> Result<LockInfo> {
        self.ledger.force_unlock(fence).await
    }

    async fn lock(&self, operation: &str) -> Result<()> {
        self.validate_names()?;
        self.ledger.lock(operation).await
    }

    /// Releases the lock, unless the outcome of a statement is unknown (it may still be running):
    /// then the lease is left to expire. A failed release is returned only when the command itself
    /// succeeded (otherwise it is logged, and the command's error wins).
    async fn release<T>(&self, result: &Result<T>) -> Result<()> {
        let released = match result {
            Err(Error::OutcomeUnknown { .. } | Error::LeaseLost { .. }) => {
                self.ledger.abandon().await;
                Ok(())
            }
            _ => self.ledger.unlock().await,
        };
        match (released, result) {
            (Err(error), Err(_)) => {
                tracing::warn!(%error, "releasing the migration lock failed; its lease will expire");
                Ok(())
            }
            (released, _) => released,
        }
    }

    /// Where migrations run: the fenced target when there is one.
    fn run_target(&self) -> &Target {
        self.fenced.as_ref().unwrap_or(&self.target)
    }

    /// Fails with [`Error::LeaseLost`] naming the lock's current holder when this runner's lease
    /// is gone (or too short for another statement).
    async fn check_lease(&self) -> Result<()> {
        match self.ledger.check_lease() {
            Ok(()) => Ok(()),
            Err(error) => Err(self.lease_lost(error).await),
        }
    }

    /// `error`, with the lock's current holder added when it is a lost lease.
    async fn lease_lost(&self, error: Error) -> Error {
        let Error::LeaseLost { fence, detail } = error else {
            return error;
        };
        let holder = match self.ledger.lock_info().await {
            Ok(Some(lock)) if lock.fence != fence && !lock.released => format!(
                "; the lock is now held by `{}` (fence {}, operation `{}`)",
                lock.owner, lock.fence, lock.operation
            ),
            Ok(Some(lock)) if lock.released => {
                format!("; the lock (fence {}) was released", lock.fence)
            }
            Ok(_) => String::new(),
            Err(error) => format!("; reading the lock failed: {error}"),
        };
        if detail.contains("is now held by") {
            return Error::LeaseLost { fence, detail };
        }
        Error::LeaseLost {
            fence,
            detail: format!("{detail}{holder}"),
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.migrations.iter().position(|m| m.name() == name)
    }

    async fn prepare(&self) -> Result<()> {
        self.ledger.prepare().await
    }

    async fn entries(&self) -> Result<HashMap<String, LedgerEntry>> {
        Ok(self
            .ledger
            .entries()
            .await?
            .into_iter()
            .map(|e| (e.name.clone(), e))
            .collect())
    }
}

fn limit(steps: Option<u32>) -> usize {
    steps.map_or(usize::MAX, |n| n as usize)
}

fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::MemoryLedger;
    use crate::name::is_migration_name;
    use sea_orm_migration::sea_orm::DbErr;
    use sea_orm_migration::{MigrationName, SchemaManager};

    struct Named(&'static str);

    impl MigrationName for Named {
        fn name(&self) -> &str {
            self.0
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Named {
        async fn up(&self, _: &SchemaManager) -> Result<(), DbErr> {
            Ok(())
        }
    }

    #[test]
    fn migration_names_follow_sea_orm_cli() {
        for good in ["m20261126_000001_create_users_table", "m20990101_000000_x"] {
            assert!(is_migration_name(good), "{good}");
        }
        for bad in [
            "m2026112_000001_a",
            "x20261126_000001_a",
            "m20261126_000001_",
            "m20261126-000001_a",
            "m20261126_000001_a-b",
            "",
        ] {
            assert!(!is_migration_name(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn up_refuses_bad_or_duplicate_names_before_touching_anything() {
        let db = sea_orm_migration::sea_orm::Database::connect("sqlite::memory:")
            .await
            .expect("sqlite");
        for (names, expected) in [
            (
                vec!["m20990101_000001_a", "oops"],
                "`oops` does not look like",
            ),
            (
                vec!["m20990101_000001_a", "m20990101_000001_a"],
                "two migrations are named",
            ),
        ] {
            let migrations = names
                .into_iter()
                .map(|n| Box::new(Named(n)) as Box<dyn MigrationTrait>)
                .collect();
            let runner = Runner::with_migrations(db.clone(), MemoryLedger::new(), migrations);
            let error = runner.up(None).await.expect_err("refused").to_string();
            assert!(error.contains(expected), "{error}");
            assert!(runner.ledger().entries().await.expect("entries").is_empty());
        }
    }
}
