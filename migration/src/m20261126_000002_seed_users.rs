//! The article's second migration: the sample user `('1', 'John', 'Doe')`.
//!
//! Idempotent: when a row with id `'1'` exists (a database seeded by the article), nothing is written.
//! `down` deletes the row with id `'1'`.

use sea_orm_migration::prelude::*;

use crate::m20261126_000001_create_users_table::Users;

/// Seeds the article's sample user.
#[derive(DeriveMigrationName)]
pub struct Migration;

const SEED_ID: &str = "1";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let existing = Query::select()
            .column(Users::Id)
            .from(Users::Table)
            .and_where(Expr::col(Users::Id).eq(SEED_ID))
            .to_owned();
        if db.query_one(backend.build(&existing)).await?.is_some() {
            tracing::info!("seed user {SEED_ID:?} already present; leaving it as is");
            return Ok(());
        }
        let insert = Query::insert()
            .into_table(Users::Table)
            .columns([Users::Id, Users::FirstName, Users::LastName])
            .values([SEED_ID.into(), "John".into(), "Doe".into()])
            .map_err(|e| DbErr::Migration(format!("building the seed insert: {e}")))?
            .to_owned();
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let delete = Query::delete()
            .from_table(Users::Table)
            .and_where(Expr::col(Users::Id).eq(SEED_ID))
            .to_owned();
        manager.exec_stmt(delete).await
    }
}
