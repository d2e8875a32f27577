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

use sea_orm_migration::sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, RuntimeErr,
    Statement, TransactionTrait,
};
use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager};

use crate::dry_run::{self, DryRun, PlannedMigration};
use crate::error::{Direction, Error, Result};
use crate::ledger::{EntryState, Ledger, LedgerEntry, LockInfo, Transition, TxMode};
use crate::name::is_migration_name;

/// The database migrations run against.
#[derive(Debug, Clone)]
pub enum Target {
    /// A native SeaORM connection (SQLite, MySQL, PostgreSQL URL).
    Native(DatabaseConnection),
    /// The RDS Data API through the `data-api` adapter; transactions go through the adapter so
    /// commits are checked.
    DataApi {
        /// The adapter.
        api: data_api::DataApi,
        /// Its shared connection (statements outside transactions).
        db: DatabaseConnection,
    },
}

impl From<DatabaseConnection> for Target {
    fn from(db: DatabaseConnection) -> Self {
        Target::Native(db)
    }
}

impl Target {
    /// The Data API adapter as a target.
    ///
    /// # Errors
    /// SeaORM refusing the adapter's connection.
    pub fn data_api(api: data_api::DataApi) -> Result<Self> {
        let db = api.connection().map_err(Error::Connect)?;
        Ok(Target::DataApi { api, db })
    }

    /// The connection for statements outside a transaction.
    pub fn db(&self) -> &DatabaseConnection {
        match self {
            Target::Native(db) | Target::DataApi { db, .. } => db,
        }
    }

    /// The SQL dialect.
    pub fn backend(&self) -> DbBackend {
        self.db().get_database_backend()
    }

    /// How migrations run here: in a transaction unless DDL commits implicitly (MySQL).
    pub fn tx_mode(&self) -> TxMode {
        match self.backend() {
            DbBackend::MySql => TxMode::None,
            _ => TxMode::Transactional,
        }
    }

    async fn begin(&self) -> Result<Txn, DbErr> {
        match self {
            Target::Native(db) => Ok(Txn::Native(db.begin().await?)),
            Target::DataApi { api, .. } => api
                .begin()
                .await
                .map(Txn::DataApi)
                .map_err(|e| e.into_db_err(false)),
        }
    }
}

enum Txn {
    Native(DatabaseTransaction),
    DataApi(data_api::Transaction),
}

impl Txn {
    fn manager(&self) -> SchemaManager<'_> {
        match self {
            Txn::Native(txn) => SchemaManager::new(txn),
            Txn::DataApi(txn) => SchemaManager::new(txn.connection()),
        }
    }

    async fn commit(self) -> std::result::Result<(), CommitFailure> {
        match self {
            // A native commit that fails may have lost its answer: unknown.
            Txn::Native(txn) => txn.commit().await.map_err(CommitFailure::Unknown),
            Txn::DataApi(txn) => txn.commit().await.map_err(|error| match error {
                data_api::Error::Commit { source, .. } => {
                    let error = source.into_db_err(false);
                    if is_unknown_outcome(&error) {
                        CommitFailure::Unknown(error)
                    } else {
                        CommitFailure::NotCommitted(error)
                    }
                }
                // Refused before sending, or poisoned: the adapter rolled it back.
                other => CommitFailure::NotCommitted(other.into_db_err(false)),
            }),
        }
    }

    async fn rollback(self) {
        let result = match self {
            Txn::Native(txn) => txn.rollback().await.map_err(|e| e.to_string()),
            Txn::DataApi(txn) => txn.rollback().await.map_err(|e| e.to_string()),
        };
        if let Err(error) = result {
            // Nothing was committed (no commit was sent); the server ends the transaction itself.
            tracing::warn!(%error, "rollback failed");
        }
    }
}

/// Why a commit failed.
enum CommitFailure {
    /// Answered with an error: nothing was committed.
    NotCommitted(DbErr),
    /// No answer, or a server error: it may have committed.
    Unknown(DbErr),
}

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
        let fenced = match (&target, ledger.lease_guard()) {
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

    /// Names are ledger keys: each must be unique and look like the names `sea-orm-cli migrate
    /// generate` writes (`m<YYYYMMDD>_<HHMMSS>_<word>`), so a typo cannot create a second row for one
    /// migration.
    fn validate_names(&self) -> Result<()> {
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

    /// Refuses to forget or fail `entry` while a statement of it may still be running: its
    /// runner's lease ended less than [`RunOptions::statement_limit`] +
    /// [`RunOptions::settle_margin`] ago (unless [`RunOptions::force`]).
    fn ensure_settled(&self, entry: &LedgerEntry) -> Result<()> {
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

    /// The ledger, refusing unknown outcomes, dirty failures, missing files and drift.
    async fn checked_entries(&self) -> Result<HashMap<String, LedgerEntry>> {
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
    fn pending<'a>(
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
    fn to_revert<'a>(
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

    async fn up_locked(&self, steps: Option<u32>) -> Result<UpReport> {
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

    async fn down_locked(&self, steps: Option<u32>) -> Result<Vec<String>> {
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
    async fn clear_locked(&self) -> Result<()> {
        let entries = self.ledger.entries().await?;
        for entry in &entries {
            self.ensure_settled(entry)?;
        }
        for entry in entries {
            self.ledger.write(&entry.name, &Transition::Forget).await?;
        }
        Ok(())
    }

    async fn repair_locked(&self, repair: &Repair) -> Result<()> {
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

    fn fits_deadline(&self, entry: Option<&LedgerEntry>) -> bool {
        let Some(deadline) = self.options.deadline else {
            return true;
        };
        let estimate = entry
            .and_then(|e| e.duration_ms)
            .map_or(self.options.default_estimate, Duration::from_millis);
        Instant::now() + estimate + self.options.deadline_margin <= deadline
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
            TxMode::None => {
                let manager = SchemaManager::new(self.run_target().db());
                match migration.up(&manager).await {
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
                }
            }
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
            TxMode::None => {
                let manager = SchemaManager::new(self.run_target().db());
                match migration.down(&manager).await {
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
                }
            }
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
        let txn = match self.run_target().begin().await {
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

/// Whether a failed call may have run: the Data API's classification (a 5xx, no answer, a statement
/// timeout), or a native connection that broke while the statement was on the wire.
fn is_unknown_outcome(error: &DbErr) -> bool {
    use sea_orm_migration::sea_orm::sqlx;
    if data_api::unavailable(error) == Some(data_api::Unavailable::OutcomeUnknown) {
        return true;
    }
    matches!(
        error,
        DbErr::Exec(RuntimeErr::SqlxError(
            sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed | sqlx::Error::Protocol(_)
        )) | DbErr::Query(RuntimeErr::SqlxError(
            sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed | sqlx::Error::Protocol(_)
        ))
    )
}

fn status_of(entry: &LedgerEntry) -> Status {
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

fn limit(steps: Option<u32>) -> usize {
    steps.map_or(usize::MAX, |n| n as usize)
}

fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// Drops every table in the connection's database (schema on PostgreSQL), retrying tables whose
/// foreign keys block them until a round makes no progress. Returns the names dropped.
async fn drop_all_tables(db: &DatabaseConnection) -> Result<Vec<String>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::MemoryLedger;
    use sea_orm_migration::MigrationName;

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
