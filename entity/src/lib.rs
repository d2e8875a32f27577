//! SeaORM entities of the users service.
//!
//! The schema is the one the article "Getting started with AWS serverless — SQL with Aurora" creates,
//! kept exactly so that a database made by the article's code is adopted as is:
//!
//! | column      | type         | constraint  |
//! |-------------|--------------|-------------|
//! | `id`        | VARCHAR(255) | PRIMARY KEY |
//! | `firstName` | VARCHAR(255) | NOT NULL    |
//! | `lastName`  | VARCHAR(255) | NOT NULL    |
//!
//! The Rust fields are snake_case; the column names are the article's camelCase, mapped with
//! `#[sea_orm(column_name = …)]`. New rows get a UUID v4 string as `id`; the article's seed row uses `"1"`,
//! so readers must not assume every id parses as a UUID.
//!
//! ```no_run
//! use entity::prelude::*;
//! use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};
//!
//! # async fn list(db: &DatabaseConnection) -> Result<Vec<entity::users::Model>, sea_orm::DbErr> {
//! Users::find().order_by_asc(entity::users::Column::Id).all(db).await
//! # }
//! ```
//!
//! Layout: one module per table ([`users`]) and a [`prelude`] re-exporting each `Entity` under the
//! table's name, the layout `sea-orm-cli generate entity` writes.

pub mod prelude;
pub mod users;
