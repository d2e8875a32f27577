//! Reading a large table page by page in key order with `data_api::keyset`, which also halves a
//! page the Data API refuses as over 1 MiB.
//!
//! ```sh
//! CLUSTER_ARN=… SECRET_ARN=… DATABASE_NAME=app DATABASE_ENGINE=postgres \
//! cargo run -p data-api --example keyset
//! ```

#![allow(
    unreachable_pub,
    reason = "SeaORM's derives make entity items pub; the tests include this file as a module"
)]

use data_api::{Config, DataApi};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Schema};

/// A row with a key and a payload.
pub mod item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "example_items")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        #[sea_orm(column_type = "Text")]
        pub payload: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Stores `n` items of `payload_bytes` each and reads them all back in pages of 100.
pub async fn run(api: &DataApi, n: i32, payload_bytes: usize) -> Result<Vec<item::Model>, DbErr> {
    let db = api.connection()?;
    let backend = db.get_database_backend();
    let create = Schema::new(backend)
        .create_table_from_entity(item::Entity)
        .if_not_exists()
        .to_owned();
    db.execute(backend.build(&create)).await?;
    for start in (1..=n).step_by(50) {
        let batch = (start..=n.min(start + 49)).map(|id| item::ActiveModel {
            id: sea_orm::ActiveValue::Set(id),
            payload: sea_orm::ActiveValue::Set("x".repeat(payload_bytes)),
        });
        item::Entity::insert_many(batch).exec(&db).await?;
    }
    data_api::keyset::all(&db, item::Entity::find(), item::Column::Id, |i| i.id, 100).await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let api = DataApi::with_default_aws_config(Config::from_env()?).await;
    let items = run(&api, 500, 4096).await?;
    tracing::info!(read = items.len(), "keyset done");
    Ok(())
}
