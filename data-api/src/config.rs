//! Where the adapter connects and how patiently: read once (usually from the environment, with the
//! article's variable names) and passed down.

use std::time::Duration;

use crate::Error;

/// The SQL engine behind the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Aurora MySQL (SeaORM's MySQL backend).
    MySql,
    /// Aurora PostgreSQL (SeaORM's PostgreSQL backend).
    Postgres,
}

impl Engine {
    /// The SeaORM backend that generates this engine's SQL.
    pub fn backend(self) -> sea_orm::DbBackend {
        match self {
            Engine::MySql => sea_orm::DbBackend::MySql,
            Engine::Postgres => sea_orm::DbBackend::Postgres,
        }
    }

    pub(crate) fn dialect(self) -> sql_lexer::Dialect {
        match self {
            Engine::MySql => sql_lexer::Dialect::MySql,
            Engine::Postgres => sql_lexer::Dialect::Postgres,
        }
    }
}

impl std::str::FromStr for Engine {
    type Err = String;

    /// `mysql` / `aurora-mysql` / `mariadb`, `postgres` / `postgresql` / `aurora-postgresql`.
    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "mysql" | "aurora-mysql" | "mariadb" => Ok(Engine::MySql),
            "postgres" | "postgresql" | "aurora-postgresql" => Ok(Engine::Postgres),
            other => Err(format!(
                "unknown engine {other:?}; expected mysql or postgres"
            )),
        }
    }
}

/// How long and how often calls are retried.
///
/// Only failures after which nothing ran, or reads, are retried (see the crate docs, "Retries").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How long to keep retrying `DatabaseResumingException` while an auto-paused cluster wakes
    /// (AWS: about 15 s, 30 s or more after a long pause).
    pub resume_budget: Duration,
    /// Attempts in all (first included) for throttling and transient server errors.
    pub max_attempts: u32,
    /// First backoff delay; doubled each time, with jitter.
    pub base_delay: Duration,
    /// Longest single backoff delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            resume_budget: Duration::from_secs(60),
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }
}

/// The adapter's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The Aurora cluster's ARN (`CLUSTER_ARN`).
    pub cluster_arn: String,
    /// The Secrets Manager secret with the database credentials (`SECRET_ARN`).
    pub secret_arn: String,
    /// The database on the cluster (`DATABASE_NAME`, default `my_database`).
    pub database: String,
    /// The engine (`DATABASE_ENGINE`: `mysql` or `postgres`, default `mysql` like the article).
    pub engine: Engine,
    /// Retry behaviour.
    pub retry: RetryPolicy,
}

/// `DATABASE_NAME`'s default, the article's.
pub const DEFAULT_DATABASE: &str = "my_database";

impl Config {
    /// Reads `CLUSTER_ARN`, `SECRET_ARN`, `DATABASE_NAME` and `DATABASE_ENGINE` from the
    /// environment. The endpoint is not here: `aws-config` reads `AWS_ENDPOINT_URL_RDS_DATA`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the missing or invalid variable.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`Config::from_env`], reading variables through `lookup`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the missing or invalid variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let required = |variable: &'static str| {
            lookup(variable)
                .filter(|v| !v.trim().is_empty())
                .ok_or(Error::Config {
                    variable,
                    reason: "is required".into(),
                })
        };
        let cluster_arn = required("CLUSTER_ARN")?;
        let secret_arn = required("SECRET_ARN")?;
        for (variable, arn) in [("CLUSTER_ARN", &cluster_arn), ("SECRET_ARN", &secret_arn)] {
            if !arn.starts_with("arn:") {
                return Err(Error::Config {
                    variable,
                    reason: format!("{arn:?} is not an ARN"),
                });
            }
        }
        let database = lookup("DATABASE_NAME")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_DATABASE.into());
        if database.chars().count() > 64 {
            return Err(Error::Config {
                variable: "DATABASE_NAME",
                reason: "must be at most 64 characters".into(),
            });
        }
        let engine = match lookup("DATABASE_ENGINE").filter(|v| !v.is_empty()) {
            Some(text) => text.parse().map_err(|reason| Error::Config {
                variable: "DATABASE_ENGINE",
                reason,
            })?,
            None => Engine::MySql,
        };
        Ok(Self {
            cluster_arn,
            secret_arn,
            database,
            engine,
            retry: RetryPolicy::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    const CLUSTER: (&str, &str) = ("CLUSTER_ARN", "arn:aws:rds:eu-west-1:1:cluster:c");
    const SECRET: (&str, &str) = ("SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:s");

    #[test]
    fn article_names_with_defaults() {
        let config = Config::from_lookup(lookup(&[CLUSTER, SECRET])).expect("valid");
        assert_eq!(config.database, "my_database");
        assert_eq!(config.engine, Engine::MySql);
        let config = Config::from_lookup(lookup(&[
            CLUSTER,
            SECRET,
            ("DATABASE_NAME", "app"),
            ("DATABASE_ENGINE", "aurora-postgresql"),
        ]))
        .expect("valid");
        assert_eq!(
            (config.database.as_str(), config.engine),
            ("app", Engine::Postgres)
        );
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: [(&[(&str, &str)], &str); 4] = [
            (&[SECRET], "CLUSTER_ARN"),
            (&[CLUSTER], "SECRET_ARN"),
            (&[CLUSTER, ("SECRET_ARN", "my-secret")], "SECRET_ARN"),
            (
                &[CLUSTER, SECRET, ("DATABASE_ENGINE", "oracle")],
                "DATABASE_ENGINE",
            ),
        ];
        for (vars, variable) in cases {
            match Config::from_lookup(lookup(vars)) {
                Err(Error::Config { variable: v, .. }) => assert_eq!(v, variable),
                other => panic!("{variable}: {other:?}"),
            }
        }
    }
}
