//! The tables both sides use: three entities and the DDL that creates them alike on each side.

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use test_support::Backend;

/// Items: an auto-increment `i32` key and one column of each everyday type.
pub(super) mod item {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "items")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub name: String,
        pub note: Option<String>,
        pub qty: i32,
        pub active: bool,
        pub price: Decimal,
        pub created_at: NaiveDateTime,
        pub meta: Json,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::event::Entity")]
        Events,
    }

    impl Related<super::event::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Events.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Events: an auto-increment `i64` key, nullable timestamp and JSON.
pub(super) mod event {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub item_id: i32,
        pub kind: String,
        pub happened_at: Option<NaiveDateTime>,
        pub payload: Option<Json>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::item::Entity",
            from = "Column::ItemId",
            to = "super::item::Column::Id"
        )]
        Item,
    }

    impl Related<super::item::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Item.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Labels: a string key the caller chooses (no auto-increment).
pub(super) mod label {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "labels")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub title: String,
        pub weight: Option<i32>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(super) const MARIADB_DDL: [&str; 3] = [
    "CREATE TABLE items (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
     name VARCHAR(100) NOT NULL UNIQUE, note TEXT NULL, qty INT NOT NULL, active BOOL NOT NULL, \
     price DECIMAL(12,2) NOT NULL, created_at DATETIME(6) NOT NULL, meta JSON NOT NULL) \
     CHARACTER SET utf8mb4",
    "CREATE TABLE events (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, item_id INT NOT NULL, \
     kind VARCHAR(50) NOT NULL, happened_at DATETIME(3) NULL, payload JSON NULL) \
     CHARACTER SET utf8mb4",
    "CREATE TABLE labels (code VARCHAR(20) NOT NULL PRIMARY KEY, title VARCHAR(100) NOT NULL, \
     weight INT NULL) CHARACTER SET utf8mb4",
];

pub(super) const POSTGRES_DDL: [&str; 3] = [
    "CREATE TABLE items (id SERIAL PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE, note TEXT, \
     qty INT NOT NULL, active BOOLEAN NOT NULL, price NUMERIC(12,2) NOT NULL, \
     created_at TIMESTAMP(6) NOT NULL, meta JSONB NOT NULL)",
    "CREATE TABLE events (id BIGSERIAL PRIMARY KEY, item_id INT NOT NULL, kind VARCHAR(50) NOT NULL, \
     happened_at TIMESTAMP(3), payload JSON)",
    "CREATE TABLE labels (code VARCHAR(20) PRIMARY KEY, title VARCHAR(100) NOT NULL, weight INT)",
];

pub(super) async fn create_tables(db: &DatabaseConnection, backend: Backend) -> Result<()> {
    let ddl = match backend {
        Backend::MariaDb => MARIADB_DDL,
        _ => POSTGRES_DDL,
    };
    for sql in ddl {
        db.execute_unprepared(sql)
            .await
            .with_context(|| sql.to_owned())?;
    }
    Ok(())
}
