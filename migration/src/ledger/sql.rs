//! The ledger kept in the target database, in sea-orm-migration's own `seaql_migrations` table.

use sea_orm_migration::sea_orm::{
    ActiveValue, ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder, Schema,
};
use sea_orm_migration::seaql_migrations;
use sea_orm_migration::{DbErr, SchemaManager, SchemaManagerConnection};

use super::{AppliedMigration, Ledger};

/// `seaql_migrations (version VARCHAR PRIMARY KEY, applied_at BIGINT)` in the target database.
///
/// The table is the one stock sea-orm-migration creates, so a database migrated by a stock
/// `Migrator` (or by `sea-orm-cli migrate` against a stock crate) reads the same here and vice versa.
/// Unlike stock, `status` never creates it.
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

#[async_trait::async_trait]
impl Ledger for SqlLedger {
    async fn prepare(&self) -> Result<(), DbErr> {
        let backend = self.db.get_database_backend();
        let mut create = Schema::new(backend).create_table_from_entity(seaql_migrations::Entity);
        create.if_not_exists();
        self.db.execute(backend.build(&create)).await.map(drop)
    }

    async fn applied(&self) -> Result<Vec<AppliedMigration>, DbErr> {
        if !SchemaManager::new(&self.db).has_table(TABLE).await? {
            return Ok(Vec::new());
        }
        let rows = seaql_migrations::Entity::find()
            .order_by_asc(seaql_migrations::Column::Version)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| AppliedMigration {
                name: row.version,
                applied_at: row.applied_at,
            })
            .collect())
    }

    async fn record(
        &self,
        conn: &SchemaManagerConnection<'_>,
        migration: &AppliedMigration,
    ) -> Result<(), DbErr> {
        let row = seaql_migrations::ActiveModel {
            version: ActiveValue::Set(migration.name.clone()),
            applied_at: ActiveValue::Set(migration.applied_at),
        };
        seaql_migrations::Entity::insert(row)
            .exec_without_returning(conn)
            .await
            .map(drop)
    }

    async fn remove(&self, conn: &SchemaManagerConnection<'_>, name: &str) -> Result<(), DbErr> {
        seaql_migrations::Entity::delete_by_id(name.to_owned())
            .exec(conn)
            .await
            .map(drop)
    }
}
