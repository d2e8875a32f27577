//! The function's settings, read once per container from its environment.

use std::time::Duration;

use crate::error::{Error, Result};

/// What the function is told by its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// The cluster through the Data API (`CLUSTER_ARN`, `SECRET_ARN`, `DATABASE_NAME`,
    /// `DATABASE_ENGINE`, the last two with the article's defaults). The secret is the master
    /// user's: migrations run DDL.
    pub data_api: data_api::Config,
    /// `DYNAMODB_TABLE_NAME`: the ledger and its lock (required).
    pub ledger_table: String,
    /// `MIGRATION_LOCK_WAIT_SECS` (default 60): how long an invocation waits for another's lock.
    pub lock_wait: Duration,
    /// `SCHEMA_CHECK_AFTER_MIGRATE`: `off` (the default), `report` or `fail`.
    pub schema_check: Option<OnDrift>,
    /// `API_SECRET_ARN`: the API's own secret, whose user is created and granted after migrating
    /// (unset: no API user is managed).
    pub api_secret_arn: Option<String>,
}

/// What a drift check after migrating does when the live schema differs from the migrations'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDrift {
    /// Log each difference at `warn` and list them in the invocation's summary; the invocation
    /// succeeds.
    Report,
    /// Fail the invocation (and so the deploy-time trigger) naming each difference.
    Fail,
}

impl Config {
    /// Reads the settings through `lookup` (the process environment in `main`); empty values count
    /// as unset.
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable that is missing or invalid; [`Error::DataApiConfig`]
    /// for the Data API's.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let env = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let data_api = data_api::Config::from_lookup(migration::article::with_defaults(&env))
            .map_err(Error::DataApiConfig)?;
        let ledger_table = env("DYNAMODB_TABLE_NAME").ok_or_else(|| {
            Error::Config("DYNAMODB_TABLE_NAME: is required (the ledger table)".into())
        })?;
        let lock_wait = match env("MIGRATION_LOCK_WAIT_SECS") {
            Some(text) => Duration::from_secs(text.trim().parse().map_err(|_| {
                Error::Config(format!(
                    "MIGRATION_LOCK_WAIT_SECS: {text:?} is not a number of seconds"
                ))
            })?),
            None => Duration::from_secs(60),
        };
        let schema_check = match env("SCHEMA_CHECK_AFTER_MIGRATE").as_deref().map(str::trim) {
            None | Some("off") => None,
            Some("report") => Some(OnDrift::Report),
            Some("fail") => Some(OnDrift::Fail),
            Some(other) => {
                return Err(Error::Config(format!(
                    "SCHEMA_CHECK_AFTER_MIGRATE: {other:?} is not one of off, report, fail"
                )));
            }
        };
        Ok(Self {
            data_api,
            ledger_table,
            lock_wait,
            schema_check,
            api_secret_arn: env("API_SECRET_ARN"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    const BASE: &[(&str, &str)] = &[
        (
            "CLUSTER_ARN",
            "arn:aws:rds:us-east-1:123456789012:cluster:c",
        ),
        (
            "SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:s",
        ),
        ("DYNAMODB_TABLE_NAME", "ledger"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        BASE.iter().chain(extra).copied().collect()
    }

    #[test]
    fn defaults_are_the_articles_database_a_minute_of_lock_wait_no_schema_check_and_no_api_user() {
        let defaults = config(BASE).expect("valid");
        assert_eq!(defaults.data_api.database, "my_database");
        assert_eq!(defaults.ledger_table, "ledger");
        assert_eq!(defaults.lock_wait, Duration::from_secs(60));
        assert_eq!(defaults.schema_check, None);
        assert_eq!(defaults.api_secret_arn, None);
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:api";
        let with_api = config(&with(&[("API_SECRET_ARN", arn)])).expect("valid");
        assert_eq!(with_api.api_secret_arn.as_deref(), Some(arn));
    }

    #[test]
    fn schema_check_after_migrate_is_off_report_or_fail() {
        for (value, expected) in [
            ("off", None),
            ("", None),
            ("report", Some(OnDrift::Report)),
            ("fail", Some(OnDrift::Fail)),
        ] {
            let config =
                config(&with(&[("SCHEMA_CHECK_AFTER_MIGRATE", value)])).expect("valid value");
            assert_eq!(config.schema_check, expected, "{value:?}");
        }
        for value in ["true", "yes", "Fail"] {
            let error = config(&with(&[("SCHEMA_CHECK_AFTER_MIGRATE", value)]))
                .expect_err("refused")
                .to_string();
            assert!(
                error.contains("SCHEMA_CHECK_AFTER_MIGRATE") && error.contains(value),
                "{value:?}: {error}"
            );
        }
    }

    #[test]
    fn missing_or_invalid_settings_name_the_variable() {
        let error = config(&BASE[..2]).expect_err("no table").to_string();
        assert!(error.contains("DYNAMODB_TABLE_NAME"), "{error}");
        let error = config(&with(&[("MIGRATION_LOCK_WAIT_SECS", "soon")]))
            .expect_err("not a number")
            .to_string();
        assert!(error.contains("MIGRATION_LOCK_WAIT_SECS"), "{error}");
        let error = config(&BASE[1..]).expect_err("no cluster");
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert!(
            matches!(error, Error::DataApiConfig(_))
                && source.as_deref().is_some_and(|s| s.contains("CLUSTER_ARN")),
            "{error}: {source:?}"
        );
    }
}
