//! CRUD on an entity through the Data API.
//!
//! ```sh
//! CLUSTER_ARN=arn:aws:rds:… SECRET_ARN=arn:aws:secretsmanager:… DATABASE_NAME=app \
//! DATABASE_ENGINE=postgres cargo run -p data-api --example crud
//! ```
//! (`AWS_ENDPOINT_URL_RDS_DATA=http://127.0.0.1:8080` points it at a local emulator.)

#![allow(
    unreachable_pub,
    reason = "SeaORM's derives make entity items pub; the tests include this file as a module"
)]

use data_api::{Config, DataApi};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, Schema};

/// A note: an auto-increment key and a text.
pub mod note {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "example_notes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub text: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Creates the table, inserts, reads, updates and deletes a note; returns the notes left (none).
pub async fn run(api: &DataApi) -> Result<Vec<note::Model>, DbErr> {
    let db = api.connection()?;
    let backend = db.get_database_backend();
    let create = Schema::new(backend)
        .create_table_from_entity(note::Entity)
        .if_not_exists()
        .to_owned();
    db.execute(backend.build(&create)).await?;

    let inserted = note::ActiveModel {
        text: Set("hello".to_owned()),
        ..Default::default()
    }
    .insert(&db)
    .await?;
    let found = note::Entity::find_by_id(inserted.id)
        .one(&db)
        .await?
        .ok_or(DbErr::RecordNotFound("the note just inserted".into()))?;
    let mut changed: note::ActiveModel = found.into();
    changed.text = Set("hello, Aurora".to_owned());
    let updated = changed.update(&db).await?;
    assert_eq!(updated.text, "hello, Aurora");
    note::Entity::delete_by_id(updated.id).exec(&db).await?;
    note::Entity::find().all(&db).await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let api = DataApi::with_default_aws_config(Config::from_env()?).await;
    let left = run(&api).await?;
    tracing::info!(left = left.len(), "CRUD done");
    Ok(())
}
