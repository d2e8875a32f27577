//! `run-migrations`: the Lambda that applies pending migrations (the article's `runMigrations`).
//!
//! Configuration, read once per container ([`run_migrations::Config`]): `CLUSTER_ARN`,
//! `SECRET_ARN`, `DATABASE_NAME`, `DATABASE_ENGINE` (the Data API target), `DYNAMODB_TABLE_NAME`
//! (the ledger and its lock), optionally `MIGRATION_LOCK_WAIT_SECS` (default 60) and
//! `SCHEMA_CHECK_AFTER_MIGRATE` (`off`, `report`, `fail`) and `API_SECRET_ARN` (the API's own
//! secret, whose database user is created and granted after migrating). Each invocation returns the JSON summary
//! of [`run_migrations::handle`], or fails when a migration fails, the deadline leaves migrations
//! pending, or (with `fail`) the schema drifted.
//!
//! Outside Lambda (no `AWS_LAMBDA_RUNTIME_API`, e.g. `scripts/parity`) it handles one invocation with
//! an empty event and no deadline, prints its summary on stdout and exits 1 on failure.

use std::io::Write as _;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use migration::{DynamoLedger, LockConfig, RunOptions, Target};
use run_migrations::{ApiUserSecret, Config, DriftCheck, Invocation, Setup};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_ansi(false)
        .without_time()
        .init();
    let config = Config::from_lookup(|name| std::env::var(name).ok())?;
    let setup = setup(config).await?;
    let setup = &setup;
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        return once(setup).await;
    }
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

/// One local invocation: the summary on stdout, or the error chain.
async fn once(setup: &Setup) -> Result<(), Error> {
    let invocation = Invocation {
        request_id: format!("local-{}", std::process::id()),
        function_name: "run-migrations".into(),
        deadline: None,
    };
    let summary = run_migrations::handle(setup, &serde_json::json!({}), &invocation)
        .await
        .map_err(|error| Error::from(format!("{:#}", anyhow::Error::from(error))))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string(&summary)?)?;
    Ok(())
}

/// The clients, built once from one read of the AWS settings.
async fn setup(config: Config) -> anyhow::Result<Setup> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let api = data_api::DataApi::with_sdk_config(&sdk, config.data_api.clone());
    let lock = LockConfig {
        wait: config.lock_wait,
        ..LockConfig::default()
    };
    let ledger = DynamoLedger::new(aws_sdk_dynamodb::Client::new(&sdk), &config.ledger_table)
        .with_lock_config(lock);
    let api_user = config.api_secret_arn.map(|arn| {
        ApiUserSecret::new(
            aws_sdk_secretsmanager::Client::new(&sdk),
            arn,
            &config.data_api.database,
        )
    });
    let drift_check = config.schema_check.map(|on_drift| DriftCheck {
        target: schema::Target::DataApiWithSdk {
            config: config.data_api.clone(),
            sdk: Box::new(sdk.clone()),
        },
        on_drift,
    });
    Ok(Setup {
        target: Target::data_api(api)?,
        ledger,
        options: RunOptions::default(),
        drift_check,
        api_user,
    })
}
