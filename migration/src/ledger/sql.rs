//! The ledger kept in the target database, in sea-orm-migration's own `seaql_migrations` table.

use sea_orm_migration::sea_orm::{
    ActiveValue, ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder, Schema,
};
use sea_orm_migration::seaql_migrations;
use sea_orm_migration::{DbErr, SchemaManager, SchemaManagerConnection};

use super::{EntryState, Ledger, LedgerEntry, Transition};
use crate::error::{Error, Result};

/// `seaql_migrations (version VARCHAR PRIMARY KEY, applied_at BIGINT)` in the target database.
///
/// The table is the one stock sea-orm-migration creates, so a database migrated by a stock
/// `Migrator` (or by `sea-orm-cli migrate` against a stock crate) reads the same here and vice versa.
/// Unlike stock, `status` never creates it. It can only say "applied" (a row) or "pending" (none):
/// `start`/`fail` transitions are not recorded, checksums are not kept, and it has no lock — use the
/// DynamoDB ledger where runners may race.
#[derive(Debug, Clone)]
pub struct SqlLedger {
    db: DatabaseConnection,
}

const TABLE: &str = "seaql_migrations";

impl SqlLedger {
    /// A ledger in `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn ledger_err(operation: &str) -> impl FnOnce(DbErr) -> Error + '_ {
    move |source| Error::Ledger {
        operation: operation.to_owned(),
        source,
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[async_trait::async_trait]
impl Ledger for SqlLedger {
    fn describe(&self) -> String {
        TABLE.to_owned()
    }

    async fn prepare(&self) -> Result<()> {
        let backend = self.db.get_database_backend();
        let mut create = Schema::new(backend).create_table_from_entity(seaql_migrations::Entity);
        create.if_not_exists();
        self.db
            .execute(backend.build(&create))
            .await
            .map(drop)
            .map_err(ledger_err("preparing storage"))
    }

    async fn entries(&self) -> Result<Vec<LedgerEntry>> {
        let read = ledger_err("reading applied migrations");
        let exists = SchemaManager::new(&self.db).has_table(TABLE).await;
        if !exists.map_err(ledger_err("reading applied migrations"))? {
            return Ok(Vec::new());
        }
        let rows = seaql_migrations::Entity::find()
            .order_by_asc(seaql_migrations::Column::Version)
            .all(&self.db)
            .await
            .map_err(read)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut entry = LedgerEntry::new(row.version, EntryState::Applied);
                entry.finished_at_ms = Some(row.applied_at.saturating_mul(1000));
                entry.attempt = 1;
                entry
            })
            .collect())
    }

    fn writes_in_transaction(&self) -> bool {
        true
    }

    async fn write(&self, name: &str, transition: &Transition) -> Result<()> {
        record(&self.db, name, transition).await
    }

    async fn write_in(
        &self,
        conn: &SchemaManagerConnection<'_>,
        name: &str,
        transition: &Transition,
    ) -> Result<()> {
        record(conn, name, transition).await
    }
}

/// Applies `transition` to `seaql_migrations` through `conn`.
async fn record<C: ConnectionTrait>(conn: &C, name: &str, transition: &Transition) -> Result<()> {
    let operation = format!("recording `{name}` ({})", transition.label());
    match transition {
        // The table has no state column: only "applied" (a row) and "pending" (none) exist.
        Transition::Start { .. }
        | Transition::Fail { .. }
        | Transition::Unknown { .. }
        | Transition::RevertStart
        | Transition::RevertFail { .. }
        | Transition::Rechecksum { .. } => Ok(()),
        Transition::Succeed { .. }
        | Transition::MarkApplied { .. }
        | Transition::Baseline { .. } => {
            let row = seaql_migrations::ActiveModel {
                version: ActiveValue::Set(name.to_owned()),
                applied_at: ActiveValue::Set(unix_now()),
            };
            let existing = seaql_migrations::Entity::find_by_id(name.to_owned())
                .one(conn)
                .await
                .map_err(ledger_err(&operation))?;
            if existing.is_some() {
                return Ok(());
            }
            seaql_migrations::Entity::insert(row)
                .exec_without_returning(conn)
                .await
                .map(drop)
                .map_err(ledger_err(&operation))
        }
        Transition::RevertDone { .. } | Transition::Forget => {
            seaql_migrations::Entity::delete_by_id(name.to_owned())
                .exec(conn)
                .await
                .map(drop)
                .map_err(ledger_err(&operation))
        }
        Transition::MarkFailed { rolled_back } => {
            if *rolled_back {
                seaql_migrations::Entity::delete_by_id(name.to_owned())
                    .exec(conn)
                    .await
                    .map(drop)
                    .map_err(ledger_err(&operation))
            } else {
                Err(Error::Refused(format!(
                    "{TABLE} cannot record a failed migration; use `repair forget {name}` or \
                     the DynamoDB ledger"
                )))
            }
        }
    }
}
