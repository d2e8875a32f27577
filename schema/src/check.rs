//! The drift check: the live schema against what the migrations produce on a scratch database of
//! the same engine, created beside the live one and dropped afterwards.

use migration::{MemoryLedger, Migrator, Runner};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::Serialize;

use crate::diff::{Difference, diff};
use crate::error::{Error, Result, query};
use crate::snapshot::Snapshot;
use crate::target::{Connection, Target};

/// The outcome of a check.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// True when nothing differs.
    pub clean: bool,
    /// What differs (expected: the migrations; actual: live).
    pub differences: Vec<Difference>,
}

/// Compares `live` with the schema the migrations produce.
///
/// The scratch database (`schema_check_<random>`) is created on the same server through the live
/// connection, migrated with every migration (an in-memory ledger: the live ledger is not read),
/// read, and dropped whatever happened.
///
/// # Errors
/// [`Error::Query`] when the scratch database cannot be created or a catalogue read fails;
/// [`Error::Migrate`] when a migration fails on it.
pub async fn check(live: &Target) -> Result<Report> {
    let connection = live.connect().await?;
    let actual = Snapshot::read(&connection.db).await?;
    let expected = expected(live, &connection).await;
    connection.close().await;
    let expected = expected?;
    let differences = diff(&expected, &actual);
    Ok(Report {
        clean: differences.is_empty(),
        differences,
    })
}

async fn expected(live: &Target, connection: &Connection) -> Result<Snapshot> {
    let backend = connection.backend();
    let name = format!("schema_check_{}", uuid::Uuid::new_v4().simple());
    let quoted = match backend {
        DbBackend::MySql => format!("`{name}`"),
        _ => format!("\"{name}\""),
    };
    let run = |sql: String| {
        let db = &connection.db;
        async move {
            db.execute(Statement::from_string(backend, sql.clone()))
                .await
                .map_err(query(sql))
        }
    };
    run(format!("CREATE DATABASE {quoted}")).await?;
    tracing::info!(database = %name, "scratch database created");
    let snapshot = migrated(&live.with_database(&name)).await;
    let drop = match backend {
        DbBackend::Postgres => format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"),
        _ => format!("DROP DATABASE IF EXISTS {quoted}"),
    };
    if let Err(error) = run(drop).await {
        tracing::warn!(database = %name, error = %crate::error_chain(&error), "dropping the scratch database failed");
    }
    snapshot
}

async fn migrated(scratch: &Target) -> Result<Snapshot> {
    let connection = scratch.connect().await?;
    let target = match &connection.api {
        Some(api) => migration::Target::data_api(api.clone()).map_err(Error::Migrate)?,
        None => migration::Target::Native(connection.db.clone()),
    };
    let outcome = async {
        Runner::new::<Migrator>(target, MemoryLedger::new())
            .up(None)
            .await
            .map_err(Error::Migrate)?;
        Snapshot::read(&connection.db).await
    }
    .await;
    connection.close().await;
    outcome
}
