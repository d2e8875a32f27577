//! `run-migrations`: the Lambda that applies pending migrations (the article's `runMigrations`).
//!
//! Configuration, read once per container: `CLUSTER_ARN`, `SECRET_ARN`, `DATABASE_NAME`,
//! `DATABASE_ENGINE` (the Data API target), `DYNAMODB_TABLE_NAME` (the ledger and its lock),
//! optionally `MIGRATION_LOCK_WAIT_SECS` (default 60). Each invocation returns the JSON summary of
//! [`run_migrations::handle`], or fails when a migration fails or the deadline leaves migrations
//! pending.

use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use migration::{DynamoLedger, LockConfig, RunOptions, Target};
use run_migrations::{Invocation, Setup};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_ansi(false)
        .without_time()
        .init();
    let setup = setup().await?;
    let setup = &setup;
    lambda_runtime::run(service_fn(
        async move |event: LambdaEvent<serde_json::Value>| {
            let invocation = Invocation {
                request_id: event.context.request_id.clone(),
                function_name: event.context.env_config.function_name.clone(),
                deadline: Some(event.context.deadline()),
            };
            run_migrations::handle(setup, &event.payload, &invocation)
                .await
                .map_err(|error| Error::from(format!("{:#}", anyhow::Error::from(error))))
        },
    ))
    .await
}

async fn setup() -> anyhow::Result<Setup> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let config = data_api::Config::from_lookup(migration::article::with_defaults(env))?;
    let table = env("DYNAMODB_TABLE_NAME")
        .ok_or_else(|| anyhow::anyhow!("DYNAMODB_TABLE_NAME: is required (the ledger table)"))?;
    let wait = match env("MIGRATION_LOCK_WAIT_SECS") {
        Some(text) => text.parse().map_err(|_| {
            anyhow::anyhow!("MIGRATION_LOCK_WAIT_SECS: {text:?} is not a number of seconds")
        })?,
        None => 60,
    };
    let lock = LockConfig {
        wait: Duration::from_secs(wait),
        ..LockConfig::default()
    };
    let target = Target::data_api(data_api::DataApi::with_default_aws_config(config).await)?;
    let ledger = DynamoLedger::from_env(table).await.with_lock_config(lock);
    Ok(Setup {
        target,
        ledger,
        options: RunOptions::default(),
    })
}
