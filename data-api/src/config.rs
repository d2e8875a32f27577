//! Where the adapter connects and how patiently: built once ([`Config::new`], or [`Config::from_env`]
//! with the variable names of AWS's Lambda examples) and passed down.

use std::time::Duration;

use crate::{Engine, Error};

/// How long and how often calls are retried.
///
/// Only failures after which nothing ran, or reads, are retried (see the crate docs, "Retries").
/// Start from [`RetryPolicy::default`] and change what you need with the `with_*` methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

impl RetryPolicy {
    /// With [`RetryPolicy::resume_budget`] set.
    #[must_use]
    pub fn with_resume_budget(mut self, budget: Duration) -> Self {
        self.resume_budget = budget;
        self
    }

    /// With [`RetryPolicy::max_attempts`] set.
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// With [`RetryPolicy::base_delay`] set.
    #[must_use]
    pub fn with_base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// With [`RetryPolicy::max_delay`] set.
    #[must_use]
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }
}

/// The adapter's settings: which cluster, secret, database and engine, and the retry policy.
///
/// Built with [`Config::new`] (or [`Config::from_env`]); the fields stay readable and assignable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The Aurora cluster's ARN: the Data API's `resourceArn` (`CLUSTER_ARN`).
    pub resource_arn: String,
    /// The Secrets Manager secret with the database credentials: `secretArn` (`SECRET_ARN`).
    pub secret_arn: String,
    /// The database on the cluster: `database` (`DATABASE_NAME`).
    pub database: String,
    /// The engine, which decides the SQL dialect (`DATABASE_ENGINE`: `mysql` or `postgres`).
    pub engine: Engine,
    /// Retry behaviour ([`RetryPolicy::default`] unless changed).
    pub retry: RetryPolicy,
}

impl Config {
    /// Settings for `database` on the cluster `resource_arn`, signed in with the secret
    /// `secret_arn`, speaking `engine`'s SQL; the default [`RetryPolicy`].
    ///
    /// Nothing is checked or called here: a wrong ARN is reported by the first Data API call.
    pub fn new(
        resource_arn: impl Into<String>,
        secret_arn: impl Into<String>,
        database: impl Into<String>,
        engine: Engine,
    ) -> Self {
        Self {
            resource_arn: resource_arn.into(),
            secret_arn: secret_arn.into(),
            database: database.into(),
            engine,
            retry: RetryPolicy::default(),
        }
    }

    /// With `retry` as the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Reads `CLUSTER_ARN`, `SECRET_ARN`, `DATABASE_NAME` and `DATABASE_ENGINE` (all required) from
    /// the environment. The endpoint is not here: `aws-config` reads `AWS_ENDPOINT_URL_RDS_DATA`.
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
        let resource_arn = required("CLUSTER_ARN")?;
        let secret_arn = required("SECRET_ARN")?;
        for (variable, arn) in [("CLUSTER_ARN", &resource_arn), ("SECRET_ARN", &secret_arn)] {
            if !arn.starts_with("arn:") {
                return Err(Error::Config {
                    variable,
                    reason: format!("{arn:?} is not an ARN"),
                });
            }
        }
        let database = required("DATABASE_NAME")?;
        if database.chars().count() > 64 {
            return Err(Error::Config {
                variable: "DATABASE_NAME",
                reason: "must be at most 64 characters".into(),
            });
        }
        let engine = required("DATABASE_ENGINE")?
            .parse()
            .map_err(|reason| Error::Config {
                variable: "DATABASE_ENGINE",
                reason,
            })?;
        Ok(Self::new(resource_arn, secret_arn, database, engine))
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

    const DATABASE: (&str, &str) = ("DATABASE_NAME", "app");
    const ENGINE: (&str, &str) = ("DATABASE_ENGINE", "mysql");

    #[test]
    #[cfg(all(feature = "mysql", feature = "postgres"))]
    fn every_variable_is_read_and_none_has_a_default() {
        let config =
            Config::from_lookup(lookup(&[CLUSTER, SECRET, DATABASE, ENGINE])).expect("valid");
        assert_eq!(
            config,
            Config::new(CLUSTER.1, SECRET.1, "app", Engine::MySql)
        );
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
        let cases: [(&[(&str, &str)], &str); 7] = [
            (&[SECRET, DATABASE, ENGINE], "CLUSTER_ARN"),
            (&[CLUSTER, DATABASE, ENGINE], "SECRET_ARN"),
            (
                &[CLUSTER, ("SECRET_ARN", "my-secret"), DATABASE, ENGINE],
                "SECRET_ARN",
            ),
            (&[CLUSTER, SECRET, ENGINE], "DATABASE_NAME"),
            (
                &[CLUSTER, SECRET, ("DATABASE_NAME", ""), ENGINE],
                "DATABASE_NAME",
            ),
            (&[CLUSTER, SECRET, DATABASE], "DATABASE_ENGINE"),
            (
                &[CLUSTER, SECRET, DATABASE, ("DATABASE_ENGINE", "oracle")],
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
