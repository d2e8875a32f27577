//! The article's first migration: the `users` table.
//!
//! `CREATE TABLE IF NOT EXISTS` semantics, so a database made by the article is adopted: when `users`
//! exists already, its three columns are checked and it is left untouched; a table of that name without
//! them is refused rather than silently used.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_len;
use sea_orm_migration::sea_orm::DbBackend;

/// Creates (or adopts) `users`.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Identifiers of the article's `users` table, as the migrations see it (independent of `entity`,
/// so later entity changes cannot rewrite history).
#[derive(DeriveIden)]
pub(crate) enum Users {
    Table,
    Id,
    #[sea_orm(iden = "firstName")]
    FirstName,
    #[sea_orm(iden = "lastName")]
    LastName,
}

/// The columns an adopted `users` table must have.
const REQUIRED_COLUMNS: [&str; 3] = ["id", "firstName", "lastName"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_table("users").await? {
            for column in REQUIRED_COLUMNS {
                if !manager.has_column("users", column).await? {
                    return Err(DbErr::Migration(format!(
                        "table `users` exists but has no column `{column}` (column names are \
                         case-sensitive; a PostgreSQL table created with unquoted identifiers has \
                         `firstname`); refusing to adopt it"
                    )));
                }
            }
            tracing::info!("table `users` already exists with the article's columns; adopting it");
            return Ok(());
        }

        let mut create = Table::create();
        create
            .table(Users::Table)
            .if_not_exists()
            .col(string_len(Users::Id, 255).primary_key())
            .col(string_len(Users::FirstName, 255))
            .col(string_len(Users::LastName, 255));
        if manager.get_database_backend() == DbBackend::MySql {
            // Names are Unicode (emoji included); do not inherit a latin1 database default.
            // Only MySQL renders table options, so this is not set for the other backends.
            create.character_set("utf8mb4");
        }
        manager.create_table(create).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
