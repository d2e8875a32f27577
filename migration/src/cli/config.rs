//! Settings from the command line and the environment, validated once.

use std::time::Duration;

use super::Cli;
use crate::error::{Error, Result};
use crate::ledger::LockConfig;

/// Which database migrations run against.
#[derive(Debug, Clone)]
pub enum TargetConfig {
    /// A native URL.
    Url(String),
    /// The RDS Data API.
    DataApi(data_api::Config),
}

/// Settings taken from the command line and environment, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// The target.
    pub target: TargetConfig,
    /// PostgreSQL `search_path`, if any (native URLs only).
    pub database_schema: Option<String>,
    /// The DynamoDB ledger table, if any.
    pub dynamodb_table: Option<String>,
    /// Lock lease and waiting.
    pub lock: LockConfig,
    /// The longest a statement may run (`--statement-limit`).
    pub statement_limit: Duration,
}

impl Cli {
    /// Validates the settings the command needs, reading the Data API variables from the process
    /// environment.
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable.
    pub fn config(&self) -> Result<Config> {
        self.config_from(|name| std::env::var(name).ok())
    }

    /// As [`Cli::config`], with the Data API variables from `lookup`.
    ///
    /// # Errors
    /// [`Error::Config`] naming `DATABASE_URL` when no target was given, both targets were given,
    /// or a Data API variable is invalid.
    pub fn config_from(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let url = self
            .database_url
            .clone()
            .filter(|url| !url.trim().is_empty());
        let data_api = lookup("CLUSTER_ARN").is_some_and(|v| !v.trim().is_empty())
            || lookup("SECRET_ARN").is_some_and(|v| !v.trim().is_empty());
        let target = match (url, data_api) {
            (Some(_), true) => {
                return Err(Error::Config(
                    "both DATABASE_URL and CLUSTER_ARN/SECRET_ARN are set: unset one so the target \
                     is unambiguous"
                        .into(),
                ));
            }
            (Some(url), false) => TargetConfig::Url(url),
            (None, true) => TargetConfig::DataApi(
                data_api::Config::from_lookup(crate::article::with_defaults(lookup))
                    .map_err(|e| Error::Config(format!("Data API target: {e}")))?,
            ),
            (None, false) => {
                return Err(Error::Config(
                    "DATABASE_URL is not set: give the target database in the environment or with \
                     -u/--database-url (e.g. sqlite://data/users.sqlite3?mode=rwc), or set \
                     CLUSTER_ARN and SECRET_ARN for the Data API"
                        .into(),
                ));
            }
        };
        if matches!(target, TargetConfig::DataApi(_))
            && self
                .dynamodb_table
                .as_deref()
                .is_none_or(|t| t.trim().is_empty())
            && !self.sql_ledger
        {
            return Err(Error::Config(
                "the target is the Data API but DYNAMODB_TABLE_NAME is not set: the deployed \
                 run-migrations function records this cluster's migrations in the DynamoDB ledger, \
                 and the fallback `seaql_migrations` table has no lock and does not know what that \
                 ledger applied, so a migration could run twice. Set DYNAMODB_TABLE_NAME to the \
                 ledger table, or pass --sql-ledger (MIGRATION_SQL_LEDGER=true) if this cluster is \
                 really migrated with seaql_migrations only"
                    .into(),
            ));
        }
        if self.lease == 0 || self.lock_skew > 3600 {
            return Err(Error::Config(
                "MIGRATION_LEASE_SECS must be positive and MIGRATION_LOCK_SKEW_SECS at most 3600"
                    .into(),
            ));
        }
        Ok(Config {
            target,
            database_schema: self.database_schema.clone(),
            dynamodb_table: self.dynamodb_table.clone().filter(|t| !t.trim().is_empty()),
            lock: LockConfig::with_lease(
                Duration::from_secs(self.lease),
                Duration::from_secs(self.lock_wait),
                Duration::from_secs(self.lock_skew),
            ),
            statement_limit: Duration::from_secs(self.statement_limit),
        })
    }
}
