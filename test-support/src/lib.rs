//! Test helpers shared by the workspace's crates (dev-only, never published).
//!
//! - [`TestDatabase`]: a fresh database per test on one of the three native backends — a temporary
//!   SQLite file, or a uniquely named database on the local MariaDB or PostgreSQL server, dropped when
//!   the value is dropped (even when the test panics).
//! - [`TestEmulator`]: the Data API emulator in-process in front of a [`TestDatabase`], and a
//!   [`data_api::DataApi`] pointed at it through a real `aws-sdk-rdsdata` client.
//!
//! Server URLs come from `TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`) and
//! `TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`). A server that cannot be
//! reached fails the test: nothing is skipped. Set `TEST_LOG=1` to see logs.

#![allow(
    clippy::print_stderr,
    reason = "cleanup failures in Drop can only be reported on stderr"
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Once;

use anyhow::{Context, Result};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::sync::oneshot;

/// One of the three native backends the suite runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory (the embedded default's engine).
    Sqlite,
    /// The local MariaDB, standing in for Aurora MySQL.
    MariaDb,
    /// The local PostgreSQL, standing in for Aurora PostgreSQL.
    Postgres,
}

fn mysql_admin_url() -> String {
    std::env::var("TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// `scheme://user@host:port/db?query` → `scheme://user@host:port/<name>` (query kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|i| start + i))
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Instantiates each `async fn scenario(Backend) -> anyhow::Result<()>` on the Data API's engines,
/// as `mariadb::<scenario>` and `postgres::<scenario>` (multi-threaded tokio tests). The caller
/// depends on `tokio` and `anyhow`.
#[macro_export]
macro_rules! on_data_api_engines {
    ($($scenario:ident),* $(,)?) => {
        mod mariadb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() -> anyhow::Result<()> {
                super::$scenario($crate::Backend::MariaDb).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() -> anyhow::Result<()> {
                super::$scenario($crate::Backend::Postgres).await
            })*
        }
    };
}

/// Installs a test-writer subscriber once when `TEST_LOG` is set; silent otherwise.
pub fn init_test_logging() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info".into()),
                )
                .with_test_writer()
                .try_init();
        }
    });
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// Its backend.
    pub backend: Backend,
    /// A URL `migration::connect` / `DATABASE_URL` accepts.
    pub url: String,
    /// For server backends: the database's unique name and the admin URL that drops it.
    server: Option<(String, String)>,
    /// For SQLite: the directory holding the file (removed on drop).
    dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// Creates a fresh, empty database.
    ///
    /// On MariaDB the database's default character set is `latin1`, the way an unconfigured server
    /// may be set up, so tests prove the migrations choose `utf8mb4` themselves.
    pub async fn create(backend: Backend) -> Result<Self> {
        let name = format!("it_{}", uuid::Uuid::new_v4().simple());
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().context("creating a temporary directory")?;
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("test.sqlite3").display()
                );
                Ok(Self {
                    backend,
                    url,
                    server: None,
                    dir: Some(dir),
                })
            }
            Backend::MariaDb | Backend::Postgres => {
                let (admin, create) = if backend == Backend::MariaDb {
                    let create = format!("CREATE DATABASE `{name}` CHARACTER SET latin1");
                    (mysql_admin_url(), create)
                } else {
                    (postgres_admin_url(), format!("CREATE DATABASE \"{name}\""))
                };
                admin_execute(&admin, &create).await?;
                let url = with_database(&admin, &name);
                Ok(Self {
                    backend,
                    url,
                    server: Some((name, admin)),
                    dir: None,
                })
            }
        }
    }

    /// Connects the way the service and the migration binary do.
    pub async fn connect(&self) -> Result<DatabaseConnection> {
        migration::connect(&self.url, None)
            .await
            .with_context(|| format!("connecting to the {:?} test database", self.backend))
    }

    /// The SQLite file's directory (SQLite only).
    pub fn sqlite_dir(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().to_owned())
    }
}

async fn admin_execute(admin_url: &str, sql: &str) -> Result<()> {
    let db = sea_orm::Database::connect(admin_url)
        .await
        .with_context(|| {
            format!("connecting to {admin_url} (is the server running? scripts/test starts it)")
        })?;
    db.execute_unprepared(sql)
        .await
        .with_context(|| sql.to_owned())?;
    db.close().await.ok();
    Ok(())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((name, admin)) = self.server.take() else {
            return;
        };
        let sql = match self.backend {
            Backend::MariaDb => format!("DROP DATABASE IF EXISTS `{name}`"),
            // FORCE: the service's pool may still hold idle connections.
            _ => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        };
        // Drop runs inside the test's runtime, which cannot be blocked on: use a runtime of our own
        // on a separate thread and wait for it, so the database is gone before the test ends.
        let outcome = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(admin_execute(&admin, &sql))
        })
        .join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("warning: dropping test database {name}: {error:#}"),
            Err(_) => eprintln!("warning: dropping test database {name} panicked"),
        }
    }
}

/// The emulator's cluster ARN in tests.
pub const CLUSTER_ARN: &str = "arn:aws:rds:us-east-1:123456789012:cluster:tests";
/// The emulator's secret ARN in tests.
pub const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tests";

/// The Data API emulator on an ephemeral loopback port, in front of a fresh database.
#[derive(Debug)]
pub struct TestEmulator {
    /// The database behind it (MariaDB or PostgreSQL).
    pub database: TestDatabase,
    /// Its address.
    pub addr: SocketAddr,
    state: emulator::AppState,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestEmulator {
    /// Starts an emulator with AWS's limits in front of a new database on `backend`.
    pub async fn spawn(backend: Backend) -> Result<Self> {
        Self::spawn_with(backend, emulator::Limits::default()).await
    }

    /// As [`TestEmulator::spawn`], with `limits`.
    pub async fn spawn_with(backend: Backend, limits: emulator::Limits) -> Result<Self> {
        Self::spawn_with_secrets(backend, limits, emulator::secrets::Secrets::default()).await
    }

    /// As [`TestEmulator::spawn_with`], also accepting `secrets` (secret ARN → database user), as
    /// the secrets of other database users are accepted on AWS.
    pub async fn spawn_with_secrets(
        backend: Backend,
        limits: emulator::Limits,
        secrets: emulator::secrets::Secrets,
    ) -> Result<Self> {
        anyhow::ensure!(
            backend != Backend::Sqlite,
            "the Data API has no SQLite engine"
        );
        let database = TestDatabase::create(backend).await?;
        let target = emulator::Target {
            resource_arn: CLUSTER_ARN.into(),
            secret_arn: SECRET_ARN.into(),
            server: emulator::backend::Server::new(&database.url)?,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = emulator::AppState::new(vec![target], limits).with_secrets(secrets);
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(emulator::run(listener, state.clone(), async {
            let _ = rx.await;
        }));
        Ok(Self {
            database,
            addr,
            state,
            shutdown: Some(tx),
        })
    }

    /// The emulator's fault settings.
    pub fn faults(&self) -> &emulator::faults::Faults {
        self.state.faults()
    }

    /// The adapter's settings for this emulator and database, with `retry`.
    pub fn config(&self, retry: data_api::RetryPolicy) -> data_api::Config {
        self.config_as(SECRET_ARN, retry)
    }

    /// The adapter pointed at this emulator, signing in with `secret_arn` (one of the secrets given to
    /// [`TestEmulator::spawn_with_secrets`]) instead of the master secret.
    pub fn data_api_as(&self, secret_arn: &str) -> data_api::DataApi {
        let retry =
            data_api::RetryPolicy::default().with_base_delay(std::time::Duration::from_millis(10));
        data_api::DataApi::with_sdk_config(&self.sdk_config(), self.config_as(secret_arn, retry))
    }

    fn config_as(&self, secret_arn: &str, retry: data_api::RetryPolicy) -> data_api::Config {
        let name = self
            .database
            .url
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let engine = match self.database.backend {
            Backend::Postgres => data_api::Engine::Postgres,
            _ => data_api::Engine::MySql,
        };
        data_api::Config::new(CLUSTER_ARN, secret_arn, name, engine).with_retry(retry)
    }

    /// The adapter pointed at this emulator, as `AWS_ENDPOINT_URL_RDS_DATA` would point it, with
    /// short retry delays.
    pub fn data_api(&self) -> data_api::DataApi {
        self.data_api_with(
            data_api::RetryPolicy::default().with_base_delay(std::time::Duration::from_millis(10)),
        )
    }

    /// As [`TestEmulator::data_api`], with `retry`.
    pub fn data_api_with(&self, retry: data_api::RetryPolicy) -> data_api::DataApi {
        data_api::DataApi::with_sdk_config(&self.sdk_config(), self.config(retry))
    }

    /// A plain `aws-sdk-rdsdata` client of this emulator, to look at the Data API's side of what the
    /// adapter did (a transaction id it should have ended, …).
    pub fn rds_client(&self) -> aws_sdk_rdsdata::Client {
        aws_sdk_rdsdata::Client::new(&self.sdk_config())
    }

    /// The AWS settings a client of this emulator uses: its endpoint, test credentials.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "AKIDTEST", "secret", None, None, "tests",
                    ),
                ),
            )
            .endpoint_url(format!("http://{}", self.addr))
            .build()
    }
}

impl Drop for TestEmulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_or_adds_the_path() {
        for (url, expected) in [
            (
                "mysql://root@127.0.0.1:3306",
                "mysql://root@127.0.0.1:3306/x",
            ),
            (
                "mysql://root@127.0.0.1:3306/",
                "mysql://root@127.0.0.1:3306/x",
            ),
            ("postgres://p@h:5432/test", "postgres://p@h:5432/x"),
            (
                "postgres://p@h/test?sslmode=disable",
                "postgres://p@h/x?sslmode=disable",
            ),
        ] {
            assert_eq!(with_database(url, "x"), expected, "{url}");
        }
    }
}
