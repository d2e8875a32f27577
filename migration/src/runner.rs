//! Plans and applies migrations against one database, recording them in a [`Ledger`].
//!
//! The plan is "known migrations, in [`Migrator::migrations`](crate::Migrator) order, minus those the
//! ledger records". A recorded migration this binary does not contain stops `up` and `down` (as stock
//! sea-orm-migration does). Each migration runs on its own: inside a transaction together with its ledger
//! write where DDL is transactional (PostgreSQL, SQLite), so a failure leaves neither schema change nor
//! record; on MySQL, where DDL commits implicitly, the migration runs and is then recorded.

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use sea_orm_migration::sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait,
};
use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager};

use crate::error::{Direction, Error, Result};
use crate::ledger::{AppliedMigration, Ledger};

/// The state of one migration, as `status` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Recorded in the ledger, at this Unix time.
    Applied {
        /// Unix seconds.
        applied_at: i64,
    },
    /// Known to this binary, not recorded.
    Pending,
    /// Recorded in the ledger but not contained in this binary.
    Missing {
        /// Unix seconds.
        applied_at: i64,
    },
}

impl Status {
    /// The lower-case word `status` prints.
    pub fn label(&self) -> &'static str {
        match self {
            Status::Applied { .. } => "applied",
            Status::Pending => "pending",
            Status::Missing { .. } => "missing",
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
}

/// Runs a list of migrations against `db`, recording them in a ledger.
pub struct Runner<L> {
    db: DatabaseConnection,
    ledger: L,
    migrations: Vec<Box<dyn MigrationTrait>>,
}

impl<L> std::fmt::Debug for Runner<L>
where
    L: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("backend", &self.db.get_database_backend())
            .field("ledger", &self.ledger)
            .field(
                "migrations",
                &self.migrations.iter().map(|m| m.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<L: Ledger> Runner<L> {
    /// A runner for `M`'s migrations.
    pub fn new<M: MigratorTrait>(db: DatabaseConnection, ledger: L) -> Self {
        Self::with_migrations(db, ledger, M::migrations())
    }

    /// A runner for an explicit list of migrations, in the order given.
    pub fn with_migrations(
        db: DatabaseConnection,
        ledger: L,
        migrations: Vec<Box<dyn MigrationTrait>>,
    ) -> Self {
        Self {
            db,
            ledger,
            migrations,
        }
    }

    /// The ledger this runner records in.
    pub fn ledger(&self) -> &L {
        &self.ledger
    }

    /// Every known migration in order, then any recorded migration this binary does not contain.
    /// Read-only: creates nothing, not even the ledger's storage.
    #[tracing::instrument(skip_all)]
    pub async fn status(&self) -> Result<Vec<MigrationState>> {
        let mut applied = self.applied().await?;
        let mut states: Vec<MigrationState> = self
            .migrations
            .iter()
            .map(|m| MigrationState {
                name: m.name().to_owned(),
                status: match applied.remove(m.name()) {
                    Some(applied_at) => Status::Applied { applied_at },
                    None => Status::Pending,
                },
            })
            .collect();
        let mut missing: Vec<_> = applied.into_iter().collect();
        missing.sort();
        states.extend(
            missing
                .into_iter()
                .map(|(name, applied_at)| MigrationState {
                    name,
                    status: Status::Missing { applied_at },
                }),
        );
        Ok(states)
    }

    /// Applies pending migrations in order, at most `steps` of them (all when `None`). Returns the
    /// names applied.
    ///
    /// # Errors
    /// [`Error::MissingMigration`] before anything runs when the ledger records an unknown migration;
    /// [`Error::Migration`] for the first migration that fails (later ones are not attempted).
    #[tracing::instrument(skip_all, fields(steps = ?steps))]
    pub async fn up(&self, steps: Option<u32>) -> Result<Vec<String>> {
        self.run(Direction::Up, steps).await
    }

    /// Reverts applied migrations, newest (in migration order) first, at most `steps` of them (all
    /// when `None`). Returns the names reverted.
    ///
    /// # Errors
    /// As [`Runner::up`].
    #[tracing::instrument(skip_all, fields(steps = ?steps))]
    pub async fn down(&self, steps: Option<u32>) -> Result<Vec<String>> {
        self.run(Direction::Down, steps).await
    }

    /// Plans after reading the ledger, then runs the plan one migration at a time.
    async fn run(&self, direction: Direction, steps: Option<u32>) -> Result<Vec<String>> {
        self.prepare().await?;
        let applied = self.checked_applied().await?;
        let in_order = self.migrations.iter().map(|m| m.as_ref());
        let candidates: Box<dyn Iterator<Item = &dyn MigrationTrait>> = match direction {
            Direction::Up => Box::new(in_order),
            Direction::Down => Box::new(in_order.rev()),
        };
        // Up takes what is not applied; down takes what is.
        let plan: Vec<&dyn MigrationTrait> = candidates
            .filter(|m| applied.contains_key(m.name()) == (direction == Direction::Down))
            .take(limit(steps))
            .collect();
        if plan.is_empty() {
            tracing::info!("nothing to run ({direction})");
        }
        let mut done = Vec::with_capacity(plan.len());
        for migration in plan {
            self.run_one(migration, direction).await?;
            done.push(migration.name().to_owned());
        }
        Ok(done)
    }

    async fn prepare(&self) -> Result<()> {
        self.ledger.prepare().await.map_err(|source| Error::Ledger {
            operation: "preparing storage".into(),
            source,
        })
    }

    async fn applied(&self) -> Result<HashMap<String, i64>> {
        let applied = self
            .ledger
            .applied()
            .await
            .map_err(|source| Error::Ledger {
                operation: "reading applied migrations".into(),
                source,
            })?;
        Ok(applied
            .into_iter()
            .map(|a| (a.name, a.applied_at))
            .collect())
    }

    /// The applied set, refusing to go on when it names a migration this binary lacks.
    async fn checked_applied(&self) -> Result<HashMap<String, i64>> {
        let applied = self.applied().await?;
        let mut unknown: Vec<&String> = applied
            .keys()
            .filter(|name| !self.migrations.iter().any(|m| m.name() == name.as_str()))
            .collect();
        unknown.sort();
        match unknown.first() {
            Some(name) => Err(Error::MissingMigration {
                name: (*name).clone(),
            }),
            None => Ok(applied),
        }
    }

    #[tracing::instrument(skip_all, fields(migration = migration.name(), %direction))]
    async fn run_one(&self, migration: &dyn MigrationTrait, direction: Direction) -> Result<()> {
        let name = migration.name();
        let started = Instant::now();
        tracing::info!("running migration `{name}` ({direction})");
        let failed = |source| Error::Migration {
            name: name.to_owned(),
            direction,
            source,
        };
        if transactional_ddl(self.db.get_database_backend()) {
            let txn = self.db.begin().await?;
            let manager = SchemaManager::new(&txn);
            let outcome = match run_direction(migration, &manager, direction).await {
                Ok(()) => self
                    .write_ledger(&manager, name, direction)
                    .await
                    .map_err(|source| Error::Ledger {
                        operation: format!("recording `{name}`"),
                        source,
                    }),
                Err(source) => Err(failed(source)),
            };
            match outcome {
                Ok(()) => txn.commit().await?,
                Err(error) => {
                    if let Err(rollback) = txn.rollback().await {
                        tracing::error!(%rollback, "rolling back `{name}` failed");
                    }
                    return Err(error);
                }
            }
        } else {
            let manager = SchemaManager::new(&self.db);
            run_direction(migration, &manager, direction)
                .await
                .map_err(failed)?;
            self.write_ledger(&manager, name, direction)
                .await
                .map_err(|source| Error::LedgerOutOfStep {
                    name: name.to_owned(),
                    direction,
                    source,
                })?;
        }
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "migration `{name}` done ({direction})"
        );
        Ok(())
    }

    async fn write_ledger(
        &self,
        manager: &SchemaManager<'_>,
        name: &str,
        direction: Direction,
    ) -> Result<(), sea_orm_migration::DbErr> {
        let conn = manager.get_connection();
        match direction {
            Direction::Up => {
                let record = AppliedMigration {
                    name: name.to_owned(),
                    applied_at: unix_now(),
                };
                self.ledger.record(conn, &record).await
            }
            Direction::Down => self.ledger.remove(conn, name).await,
        }
    }
}

async fn run_direction(
    migration: &dyn MigrationTrait,
    manager: &SchemaManager<'_>,
    direction: Direction,
) -> Result<(), sea_orm_migration::DbErr> {
    match direction {
        Direction::Up => migration.up(manager).await,
        Direction::Down => migration.down(manager).await,
    }
}

/// Whether DDL statements can be rolled back on `backend`. MySQL commits implicitly at each DDL.
fn transactional_ddl(backend: DbBackend) -> bool {
    !matches!(backend, DbBackend::MySql)
}

fn limit(steps: Option<u32>) -> usize {
    steps.map_or(usize::MAX, |n| n as usize)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
