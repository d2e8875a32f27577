//! The run-migrations function's [`Error`].

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The runner failed: a failed migration, the lock held past the wait, an unknown outcome,
    /// drift of an applied migration, a lost lease.
    #[error(transparent)]
    Migration(#[from] migration::Error),

    /// A setting is missing or invalid.
    #[error("configuration: {0}")]
    Config(String),

    /// The Data API settings are missing or invalid.
    #[error("configuration of the Data API target")]
    DataApiConfig(#[source] data_api::Error),

    /// The drift check after migrating could not run (the scratch database, a catalogue read,
    /// migrating the scratch database).
    #[error("the schema check after migrating")]
    SchemaCheck(#[source] schema::Error),

    /// The drift check after migrating found the live schema different from what the migrations
    /// make, and `SCHEMA_CHECK_AFTER_MIGRATE` is `fail`. The migrations applied stay applied.
    #[error(
        "schema drift: the live database differs from what the migrations make in {} place(s): {}",
        .differences.len(),
        .differences.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Drift {
        /// What differs (expected: the migrations; actual: the live database).
        differences: Vec<schema::Difference>,
    },

    /// The API's secret could not be read.
    #[error("reading the API's secret {secret_arn}")]
    SecretsManager {
        /// The secret.
        secret_arn: String,
        /// The service's error.
        #[source]
        source: Box<aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError>,
    },

    /// The API's secret holds no usable user name and password.
    #[error("the API's secret {secret_arn} is unusable: {reason}")]
    Secret {
        /// The secret.
        secret_arn: String,
        /// What is wrong with it (never its value).
        reason: &'static str,
    },

    /// Creating or granting the API's database user failed.
    #[error("creating or granting the API's database user")]
    ApiUser(#[source] migration::Error),

    /// The invocation's deadline left migrations pending: the invocation fails, so a deploy-time
    /// trigger never lets the API go out on a schema that is not up to date. What was applied
    /// stays applied; invoking again continues.
    #[error(
        "the invocation's deadline left {} migration(s) pending ({}); applied by this run: {}; \
         invoke again to continue",
        .pending.len(),
        .pending.join(", "),
        if .applied.is_empty() { "none".to_owned() } else { .applied.join(", ") }
    )]
    Incomplete {
        /// Applied by this run, in order.
        applied: Vec<String>,
        /// Still pending.
        pending: Vec<String>,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
