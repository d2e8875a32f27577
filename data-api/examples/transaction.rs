//! A transaction with a savepoint: the nested part is rolled back, the rest committed.
//!
//! ```sh
//! CLUSTER_ARN=… SECRET_ARN=… DATABASE_NAME=app DATABASE_ENGINE=mysql \
//! cargo run -p data-api --example transaction
//! ```

#![allow(
    unreachable_pub,
    reason = "SeaORM's derives make entity items pub; the tests include this file as a module"
)]

use data_api::{Config, DataApi};
use sea_orm::{ConnectionTrait, DbErr, TransactionTrait};

/// Inserts 1 in a transaction, 2 in a savepoint that is rolled back, 3 after it, and commits;
/// returns the numbers stored (`[1, 3]`).
pub async fn run(api: &DataApi) -> Result<Vec<i32>, Box<dyn std::error::Error + Send + Sync>> {
    let db = api.connection()?;
    db.execute_unprepared("CREATE TABLE IF NOT EXISTS example_numbers (n INT PRIMARY KEY)")
        .await?;
    api.transaction(|txn| {
        Box::pin(async move {
            txn.execute_unprepared("INSERT INTO example_numbers VALUES (1)")
                .await?;
            // `begin()` on the transaction's connection: SAVEPOINT sp1.
            let nested = txn.begin().await?;
            nested
                .execute_unprepared("INSERT INTO example_numbers VALUES (2)")
                .await?;
            nested.rollback().await?; // ROLLBACK TO SAVEPOINT sp1
            txn.execute_unprepared("INSERT INTO example_numbers VALUES (3)")
                .await?;
            Ok::<_, DbErr>(())
        })
    })
    .await?;
    let rows = db
        .query_all(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT n FROM example_numbers ORDER BY n",
        ))
        .await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get::<i32>("", "n"))
        .collect::<Result<_, _>>()?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let api = DataApi::with_default_aws_config(Config::from_env()?).await;
    let stored = run(&api).await?;
    tracing::info!(?stored, "transaction done");
    Ok(())
}
