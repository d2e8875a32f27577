//! Handling an auto-paused cluster: the adapter waits for it to resume within its resume budget;
//! past the budget the error says so, and `data_api::unavailable` tells "nothing ran, retry later"
//! from "the outcome is unknown" (what a service answers as 503).
//!
//! ```sh
//! CLUSTER_ARN=… SECRET_ARN=… DATABASE_NAME=app DATABASE_ENGINE=mysql \
//! cargo run -p data-api --example auto_paused
//! ```

#![allow(
    unreachable_pub,
    reason = "SeaORM's derives make entity items pub; the tests include this file as a module"
)]

use std::time::Duration;

use data_api::{Config, DataApi, RetryPolicy, Unavailable};
use sea_orm::{ConnectionTrait, DbErr, Statement};

/// What a caller should do after a query.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The query ran.
    Done,
    /// The cluster is still waking (nothing ran): answer 503 with `Retry-After`.
    RetryLater,
    /// The call may have run: check before repeating a write.
    Unknown,
}

/// Runs `SELECT 1` and says what the caller should do.
pub async fn run(api: &DataApi) -> Result<Outcome, DbErr> {
    let db = api.connection()?;
    let result = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            "SELECT 1",
        ))
        .await;
    match result {
        Ok(_) => Ok(Outcome::Done),
        Err(error) => match data_api::unavailable(&error) {
            Some(Unavailable::NotApplied) => Ok(Outcome::RetryLater),
            Some(_) => Ok(Outcome::Unknown),
            None => Err(error),
        },
    }
}

/// The retry policy of a request handler: wait at most 5 s for a resume (AWS: about 15 s).
pub fn impatient() -> RetryPolicy {
    RetryPolicy::default().with_resume_budget(Duration::from_secs(5))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?.with_retry(impatient());
    let api = DataApi::with_default_aws_config(config).await;
    let outcome = run(&api).await?;
    tracing::info!(?outcome, "query done");
    Ok(())
}
