//! Settings, read once from the environment in `main` and passed down.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
#[cfg(feature = "native")]
use std::path::PathBuf;

use crate::error::Error;

/// Where the router is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runtime {
    /// Under the AWS Lambda runtime (`AWS_LAMBDA_RUNTIME_API` is set), through `lambda_http`.
    Lambda,
    /// A plain HTTP listener.
    Local {
        /// `HOST:PORT`, default `127.0.0.1:3000`.
        addr: SocketAddr,
    },
}

impl Runtime {
    /// The async runtime to serve on. Lambda hands a function instance one request at a time, so
    /// there a single thread runs everything: no worker threads to start, park, wake or hand tasks
    /// between. The local server takes concurrent requests and gets tokio's multi-threaded runtime
    /// (a worker per core).
    ///
    /// # Errors
    /// The operating system's, when the runtime's threads or I/O driver cannot be created.
    pub fn tokio(&self) -> std::io::Result<tokio::runtime::Runtime> {
        let mut builder = match self {
            Runtime::Lambda => tokio::runtime::Builder::new_current_thread(),
            Runtime::Local { .. } => tokio::runtime::Builder::new_multi_thread(),
        };
        builder.enable_all().build()
    }
}

/// Which database the service uses. Without the `native` feature (the Lambda build) only the Data API
/// exists: the other variants need SeaORM's native drivers.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// Aurora through the RDS Data API (`CLUSTER_ARN` and `SECRET_ARN` set; `DATABASE_NAME`,
    /// `DATABASE_ENGINE`). Migrations are not run or checked at start-up: they are the
    /// run-migrations function's job, and their ledger lives in DynamoDB.
    DataApi(data_api::Config),
    /// `DATABASE_URL`: `sqlite:`, `mysql://` or `postgres://`. Migrations are not run at start-up;
    /// pending ones are reported.
    #[cfg(feature = "native")]
    Url(String),
    /// The embedded default: a SQLite file in `data_dir`, created and migrated at start-up.
    #[cfg(feature = "native")]
    Embedded {
        /// `USERS_DATA_DIR`, default `data` (relative to the working directory).
        data_dir: PathBuf,
    },
}

impl std::fmt::Debug for Database {
    // The URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            #[cfg(feature = "native")]
            Database::Url(_) => f.write_str("Url(<redacted>)"),
            // ARNs name resources; they are not credentials.
            Database::DataApi(config) => f.debug_tuple("DataApi").field(config).finish(),
            #[cfg(feature = "native")]
            Database::Embedded { data_dir } => f
                .debug_struct("Embedded")
                .field("data_dir", data_dir)
                .finish(),
        }
    }
}

/// The service's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Lambda or local listener.
    pub runtime: Runtime,
    /// The database to use.
    pub database: Database,
    /// Largest `GET /get-users` answer, in bytes as embedded in a Lambda response
    /// (`GET_USERS_MAX_BYTES`; on Lambda the default is [`LAMBDA_GET_USERS_MAX_BYTES`], locally
    /// unlimited). Past it the route answers 500 `response_too_large` naming `GET /users`.
    pub get_users_max_bytes: Option<usize>,
}

/// AWS Lambda's limit on a synchronous invocation's response, 6 MB (6,291,456 bytes), less 64 KiB
/// for the status, headers and envelope around the body.
pub const LAMBDA_GET_USERS_MAX_BYTES: usize = 6 * 1024 * 1024 - 64 * 1024;

/// How long the Data API adapter keeps retrying while an auto-paused cluster resumes, in the API.
/// API Gateway gives an integration 29 s and the article's function has 30 s, so the API waits 20 s
/// (a resume usually takes about 15 s) and otherwise answers 503 with `Retry-After`.
pub const API_RESUME_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

/// Default listen port, as in the README.
pub const DEFAULT_PORT: u16 = 3000;
/// Default directory of the embedded SQLite database.
#[cfg(feature = "native")]
pub const DEFAULT_DATA_DIR: &str = "data";
/// File name of the embedded SQLite database inside the data directory.
#[cfg(feature = "native")]
pub const EMBEDDED_DB_FILE: &str = "users.sqlite3";

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable that is missing or malformed; without the `native`
    /// feature also when `DATABASE_URL` is set or the Data API is not configured (no embedded
    /// default then).
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment in production, a map in tests).
    ///
    /// Empty values count as unset.
    ///
    /// # Errors
    /// As [`Config::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let runtime = if get("AWS_LAMBDA_RUNTIME_API").is_some() {
            Runtime::Lambda
        } else {
            let host = match get("HOST") {
                None => IpAddr::V4(Ipv4Addr::LOCALHOST),
                Some(host) => host.trim().parse().map_err(|_| {
                    Error::Config(format!(
                        "HOST must be an IP address such as 127.0.0.1 or 0.0.0.0, got {host:?}"
                    ))
                })?,
            };
            let port = match get("PORT") {
                None => DEFAULT_PORT,
                Some(port) => port.trim().parse().map_err(|_| {
                    Error::Config(format!(
                        "PORT must be a number from 0 to 65535, got {port:?}"
                    ))
                })?,
            };
            Runtime::Local {
                addr: SocketAddr::new(host, port),
            }
        };

        let data_api = get("CLUSTER_ARN").is_some() || get("SECRET_ARN").is_some();
        let database = match (get("DATABASE_URL"), &runtime) {
            _ if data_api => {
                let mut config =
                    data_api::Config::from_lookup(migration::article::with_defaults(&lookup))
                        .map_err(|error| Error::Config(error.to_string()))?;
                config.retry.resume_budget = API_RESUME_BUDGET;
                Database::DataApi(config)
            }
            #[cfg(feature = "native")]
            (Some(url), _) => Database::Url(url.trim().to_owned()),
            #[cfg(feature = "native")]
            (None, Runtime::Lambda) => {
                return Err(Error::Config(
                    "DATABASE_URL, or CLUSTER_ARN and SECRET_ARN, are required on AWS Lambda: the \
                     embedded SQLite default would live in the function's temporary storage and \
                     lose every write"
                        .into(),
                ));
            }
            #[cfg(feature = "native")]
            (None, Runtime::Local { .. }) => Database::Embedded {
                data_dir: get("USERS_DATA_DIR")
                    .map_or_else(|| PathBuf::from(DEFAULT_DATA_DIR), PathBuf::from),
            },
            #[cfg(not(feature = "native"))]
            (url, _) => return Err(Error::Config(without_native_drivers(url.is_some()))),
        };

        let get_users_max_bytes = match get("GET_USERS_MAX_BYTES") {
            Some(text) => Some(text.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                Error::Config(format!(
                    "GET_USERS_MAX_BYTES must be a positive number of bytes, got {text:?}"
                ))
            })?),
            None if runtime == Runtime::Lambda => Some(LAMBDA_GET_USERS_MAX_BYTES),
            None => None,
        };

        Ok(Self {
            runtime,
            database,
            get_users_max_bytes,
        })
    }
}

/// Why a build without the `native` feature cannot serve what was asked for, and what to set instead.
#[cfg(not(feature = "native"))]
fn without_native_drivers(database_url: bool) -> String {
    let asked = if database_url {
        "DATABASE_URL is set"
    } else {
        "no database is configured (the embedded SQLite default)"
    };
    format!(
        "{asked}, but this api was built without the `native` feature (as for AWS Lambda): it has no \
         native database driver and reaches Aurora only through the RDS Data API; set CLUSTER_ARN \
         and SECRET_ARN, or build with the default features for DATABASE_URL and the embedded \
         database"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, Error> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn lambda_runs_on_one_thread_and_the_local_server_on_many() {
        use tokio::runtime::RuntimeFlavor;
        let flavor = |runtime: Runtime| runtime.tokio().expect("runtime").handle().runtime_flavor();
        assert_eq!(flavor(Runtime::Lambda), RuntimeFlavor::CurrentThread);
        assert_eq!(
            flavor(Runtime::Local {
                addr: "127.0.0.1:0".parse().expect("addr")
            }),
            RuntimeFlavor::MultiThread
        );
    }

    #[cfg(feature = "native")]
    #[test]
    fn defaults_to_loopback_port_3000_and_the_embedded_database() {
        let config = config(&[]).expect("defaults are valid");
        assert_eq!(
            config.runtime,
            Runtime::Local {
                addr: "127.0.0.1:3000".parse().expect("addr")
            }
        );
        assert_eq!(
            config.database,
            Database::Embedded {
                data_dir: PathBuf::from("data")
            }
        );
    }

    #[cfg(feature = "native")]
    #[test]
    fn host_port_data_dir_and_database_url_override_the_defaults() {
        let config = config(&[
            ("HOST", "0.0.0.0"),
            ("PORT", "8081"),
            ("USERS_DATA_DIR", "/tmp/x"),
        ])
        .expect("valid");
        assert_eq!(
            config.runtime,
            Runtime::Local {
                addr: "0.0.0.0:8081".parse().expect("addr")
            }
        );
        assert_eq!(
            config.database,
            Database::Embedded {
                data_dir: PathBuf::from("/tmp/x")
            }
        );
        let config = config_with_url();
        assert_eq!(config.database, Database::Url("mysql://root@h/db".into()));
    }

    #[cfg(feature = "native")]
    fn config_with_url() -> Config {
        config(&[("DATABASE_URL", "mysql://root@h/db")]).expect("valid")
    }

    #[test]
    fn malformed_settings_are_refused_with_their_name() {
        for (vars, name) in [
            (&[("PORT", "http")][..], "PORT"),
            (&[("PORT", "70000")], "PORT"),
            (&[("PORT", "-1")], "PORT"),
            (&[("HOST", "localhost")], "HOST"),
            (&[("HOST", "1.2.3")], "HOST"),
            (
                &[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")],
                "DATABASE_URL",
            ),
            (
                &[
                    ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
                    ("DATABASE_URL", " "),
                ],
                "DATABASE_URL",
            ),
            (
                &[("CLUSTER_ARN", "arn:aws:rds:us-east-1:1:cluster:c")],
                "SECRET_ARN",
            ),
            (
                &[("SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:s")],
                "CLUSTER_ARN",
            ),
            (
                &[
                    ("CLUSTER_ARN", "arn:aws:rds:us-east-1:1:cluster:c"),
                    ("SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:s"),
                    ("DATABASE_ENGINE", "oracle"),
                ],
                "DATABASE_ENGINE",
            ),
            (
                &[
                    ("CLUSTER_ARN", "arn:aws:rds:us-east-1:1:cluster:c"),
                    ("SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:s"),
                    ("GET_USERS_MAX_BYTES", "0"),
                ],
                "GET_USERS_MAX_BYTES",
            ),
            (
                &[
                    ("CLUSTER_ARN", "arn:aws:rds:us-east-1:1:cluster:c"),
                    ("SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:s"),
                    ("GET_USERS_MAX_BYTES", "lots"),
                ],
                "GET_USERS_MAX_BYTES",
            ),
        ] {
            let error = config(vars).expect_err("must be refused").to_string();
            assert!(error.contains(name), "{vars:?}: {error}");
        }
    }

    #[test]
    fn cluster_and_secret_arns_select_the_data_api_over_database_url() {
        let config = config(&[
            ("CLUSTER_ARN", "arn:aws:rds:us-east-1:1:cluster:c"),
            ("SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:s"),
            ("DATABASE_ENGINE", "postgres"),
            ("DATABASE_URL", "mysql://root@h/db"),
        ])
        .expect("valid");
        let Database::DataApi(data_api) = config.database else {
            panic!("expected the Data API, got {:?}", config.database);
        };
        assert_eq!(data_api.resource_arn, "arn:aws:rds:us-east-1:1:cluster:c");
        assert_eq!(data_api.database, "my_database");
        assert_eq!(data_api.engine, data_api::Engine::Postgres);
        assert_eq!(data_api.retry.resume_budget, API_RESUME_BUDGET);
        assert_eq!(config.get_users_max_bytes, None);

        let lambda = config_of(&[
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("CLUSTER_ARN", "arn:aws:rds:us-east-1:1:cluster:c"),
            ("SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:s"),
            ("DATABASE_NAME", "users"),
        ]);
        assert!(matches!(&lambda.database, Database::DataApi(c) if c.database == "users"));
        assert_eq!(lambda.get_users_max_bytes, Some(LAMBDA_GET_USERS_MAX_BYTES));
    }

    fn config_of(vars: &[(&str, &str)]) -> Config {
        config(vars).expect("valid")
    }

    #[test]
    fn lambda_runtime_ignores_host_and_port() {
        let config = config(&[
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("CLUSTER_ARN", "arn:aws:rds:us-east-1:1:cluster:c"),
            ("SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:s"),
            ("PORT", "not-used"),
        ])
        .expect("valid");
        assert_eq!(config.runtime, Runtime::Lambda);
    }

    #[cfg(feature = "native")]
    #[test]
    fn debug_output_never_shows_the_database_url() {
        let config = config(&[("DATABASE_URL", "postgres://user:hunter2@h/db")]).expect("valid");
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    /// Without the native drivers, `DATABASE_URL` and the embedded default are refused when the
    /// settings are read, saying why and what to set; the Data API still works.
    #[cfg(not(feature = "native"))]
    #[test]
    fn without_native_drivers_only_the_data_api_is_accepted() {
        let lambda = ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001");
        let url = ("DATABASE_URL", "postgres://user:hunter2@h/db");
        for (vars, asked) in [
            (&[url][..], "DATABASE_URL is set"),
            (&[lambda, url], "DATABASE_URL is set"),
            (&[], "no database is configured"),
            (&[lambda], "no database is configured"),
            (&[("USERS_DATA_DIR", "/tmp/x")], "no database is configured"),
        ] {
            let error = config(vars).expect_err("must be refused");
            assert!(matches!(error, Error::Config(_)), "{vars:?}: {error:?}");
            let message = error.to_string();
            for expected in [asked, "`native` feature", "CLUSTER_ARN and SECRET_ARN"] {
                assert!(message.contains(expected), "{vars:?}: {message}");
            }
            assert!(!message.contains("hunter2"), "{message}");
        }

        let config = config_of(&[
            url,
            ("CLUSTER_ARN", "arn:aws:rds:us-east-1:1:cluster:c"),
            ("SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:s"),
        ]);
        assert!(
            matches!(config.database, Database::DataApi(_)),
            "{config:?}"
        );
    }
}
