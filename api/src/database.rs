//! Opening the configured database at start-up.

#[cfg(feature = "native")]
use sea_orm::ConnectionTrait;
use sea_orm::DatabaseConnection;

use crate::config::Database;
#[cfg(feature = "native")]
use crate::config::EMBEDDED_DB_FILE;
use crate::error::Error;
#[cfg(feature = "native")]
use migration::{Migrator, Runner, SqlLedger, Status};

/// Connects to the configured database.
///
/// Aurora through the Data API (`CLUSTER_ARN`/`SECRET_ARN`) makes no call at start-up — the cluster
/// may be paused, and waking it would spend the first request's time; migrations there are the
/// run-migrations function's job.
///
/// The embedded default is created in its data directory and brought up to date (every pending
/// migration applied, and logged). A `DATABASE_URL` database is left as it is — migrations there are
/// an explicit step (`cargo run -p migration -- up`) — but pending or unknown migrations are logged as
/// warnings. Both need the `native` feature (they do not exist without it).
///
/// # Errors
/// [`Error::DataDir`] when the data directory cannot be created; [`Error::Migration`] when connecting
/// or migrating fails.
pub async fn open(database: &Database) -> Result<DatabaseConnection, Error> {
    match database {
        Database::DataApi(config) => {
            tracing::info!(
                resource_arn = %config.resource_arn,
                database = %config.database,
                engine = ?config.engine,
                "using Aurora through the RDS Data API"
            );
            let sdk = crate::aws::sdk_config().await;
            let api = data_api::DataApi::with_sdk_config(&sdk, config.clone());
            api.connection().map_err(Error::Database)
        }
        #[cfg(feature = "native")]
        Database::Embedded { data_dir } => {
            std::fs::create_dir_all(data_dir).map_err(|source| Error::DataDir {
                path: data_dir.clone(),
                source,
            })?;
            let path = data_dir.join(EMBEDDED_DB_FILE);
            tracing::info!(path = %path.display(), "using the embedded SQLite database");
            let db =
                migration::connect(&format!("sqlite://{}?mode=rwc", path.display()), None).await?;
            // WAL: a commit is one fsync of the log instead of several of the rollback journal,
            // with the same durability (synchronous stays FULL); readers no longer block the
            // writer. Persistent in the file.
            db.execute_unprepared("PRAGMA journal_mode = WAL")
                .await
                .map_err(Error::Database)?;
            let runner = Runner::new::<Migrator>(db.clone(), SqlLedger::new(db.clone()));
            let applied = runner.up(None).await?;
            if applied.is_empty() {
                tracing::info!("embedded database is up to date; no pending migrations");
            } else {
                tracing::info!(?applied, "applied pending migrations at start-up");
            }
            Ok(db)
        }
        #[cfg(feature = "native")]
        Database::Url(url) => {
            let db = migration::connect(url, None).await?;
            tracing::info!(backend = ?db.get_database_backend(), "connected to DATABASE_URL");
            let runner = Runner::new::<Migrator>(db.clone(), SqlLedger::new(db.clone()));
            for state in runner.status().await? {
                match state.status {
                    Status::Applied { .. } => {}
                    Status::Pending => tracing::warn!(
                        migration = %state.name,
                        "migration pending; run `cargo run -p migration -- up`"
                    ),
                    Status::Missing { .. } => tracing::warn!(
                        migration = %state.name,
                        "database records a migration this build does not contain"
                    ),
                    Status::InProgress { .. } | Status::Failed { .. } => tracing::warn!(
                        migration = %state.name,
                        status = state.status.label(),
                        "migration did not complete; see `cargo run -p migration -- status`"
                    ),
                }
            }
            Ok(db)
        }
    }
}
