//! Opens a `DataApi` connection and runs one query, printing its one value.
//!
//! ```sh
//! CLUSTER_ARN=arn:aws:rds:… SECRET_ARN=arn:aws:secretsmanager:… DATABASE_NAME=app \
//! DATABASE_ENGINE=postgres cargo run --release --manifest-path data-api/minimal-binary/Cargo.toml
//! ```

use sea_orm::{ConnectionTrait, Statement};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = data_api::Config::from_env()?;
    let api = data_api::DataApi::with_default_aws_config(config).await;
    let db = api.connection()?;
    let row = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            "SELECT 'ok' AS answer",
        ))
        .await?;
    let answer: Option<String> = row.map(|row| row.try_get("", "answer")).transpose()?;
    println!("{answer:?}");
    Ok(())
}
